"""Edge ops of the DARTS / NASNet cell spaces, as the DARTS reference code and NNI's hub
build them: every conv without bias, ReLU before convs, BN after, ops on a reduction cell's
inputs run with stride 2 (skip_connect then is a FactorizedReduce)."""

from __future__ import annotations

from collections.abc import Callable

from archir.builder import GraphBuilder
from archir.frontends.spaces.build import channels, conv_bn
from archir.ir import Value


def zero(b: GraphBuilder, x: Value, stride: int) -> Value:
    if stride > 1:  # x[:, :, ::s, ::s] * 0
        h, w = x.type.shape[2:]
        x = b.slice(x, axes=[2, 3], starts=[0, 0], ends=[h, w], steps=[stride, stride])
    return b.mul(x, b.constant(value=0.0))


def factorized_reduce(b: GraphBuilder, x: Value, out: int) -> Value:
    """ReLU, two 1x1 stride-2 convs on x and x shifted by one pixel, concat, BN."""
    x = b.relu(x)
    h, w = x.type.shape[2:]
    shifted = b.slice(x, axes=[2, 3], starts=[1, 1], ends=[h, w])
    a = b.conv2d(x, out_channels=out // 2, kernel=1, stride=2, bias=False)
    c = b.conv2d(shifted, out_channels=out - out // 2, kernel=1, stride=2, bias=False)
    return b.batch_norm(b.concat(a, c, axis=1))


def sep_conv(b: GraphBuilder, x: Value, k: int, stride: int) -> Value:
    """Two (ReLU, depthwise k x k, pointwise 1x1, BN) units; the first one strides."""
    c = channels(x)
    for s in (stride, 1):
        x = b.relu(x)
        x = b.conv2d(x, out_channels=c, kernel=k, stride=s, padding=k // 2, groups=c, bias=False)
        x = conv_bn(b, x, c, 1)
    return x


def dil_conv(b: GraphBuilder, x: Value, k: int, stride: int, dilation: int = 2) -> Value:
    c = channels(x)
    x = b.relu(x)
    x = b.conv2d(x, out_channels=c, kernel=k, stride=stride, padding=dilation * (k - 1) // 2,
                 dilation=dilation, groups=c, bias=False)
    return conv_bn(b, x, c, 1)


def factorized_conv(b: GraphBuilder, x: Value, k: int, stride: int) -> Value:
    """ReLU, 1 x k conv, k x 1 conv, BN (NASNet's conv_3x1_1x3 / conv_7x1_1x7)."""
    c = channels(x)
    x = b.relu(x)
    x = b.conv2d(x, out_channels=c, kernel=[1, k], stride=[1, stride], padding=[0, k // 2], bias=False)
    x = b.conv2d(x, out_channels=c, kernel=[k, 1], stride=[stride, 1], padding=[k // 2, 0], bias=False)
    return b.batch_norm(x)


def _pool(kind: str, k: int) -> Callable[[GraphBuilder, Value, int], Value]:
    def build(b: GraphBuilder, x: Value, stride: int) -> Value:
        if kind == "avg":
            return b.avg_pool2d(x, kernel=k, stride=stride, padding=k // 2, count_include_pad=False)
        return b.max_pool2d(x, kernel=k, stride=stride, padding=k // 2)

    return build


def _skip(b: GraphBuilder, x: Value, stride: int) -> Value:
    return x if stride == 1 else factorized_reduce(b, x, channels(x))


def _conv(k: int) -> Callable[[GraphBuilder, Value, int], Value]:
    return lambda b, x, s: conv_bn(b, x, channels(x), k, stride=s, pre_act="relu")


OPS: dict[str, Callable[[GraphBuilder, Value, int], Value]] = {
    "none": zero,
    "skip_connect": _skip,
    "avg_pool_3x3": _pool("avg", 3),
    "max_pool_3x3": _pool("max", 3),
    "max_pool_5x5": _pool("max", 5),
    "max_pool_7x7": _pool("max", 7),
    "sep_conv_3x3": lambda b, x, s: sep_conv(b, x, 3, s),
    "sep_conv_5x5": lambda b, x, s: sep_conv(b, x, 5, s),
    "sep_conv_7x7": lambda b, x, s: sep_conv(b, x, 7, s),
    "dil_conv_3x3": lambda b, x, s: dil_conv(b, x, 3, s),
    "dil_conv_5x5": lambda b, x, s: dil_conv(b, x, 5, s),
    "conv_1x1": _conv(1),
    "conv_3x3": _conv(3),
    "conv_3x1_1x3": lambda b, x, s: factorized_conv(b, x, 3, s),
    "conv_7x1_1x7": lambda b, x, s: factorized_conv(b, x, 7, s),
}
"""Edge op name -> builder(b, x, stride); output has x's channels, spatial size / stride."""
