"""The inverted-residual (MBConv) block of MobileNetV2/V3, ProxylessNAS and Once-for-All."""

from __future__ import annotations

from typing import Any

from archir.builder import GraphBuilder
from archir.frontends.spaces.build import channels, conv_bn, make_divisible
from archir.ir import Value
from archir.opdef import OPS

ALIASES = {"h_swish": "hardswish", "h_sigmoid": "hardsigmoid"}
"""OFA's activation names -> IR ops; IR op names are accepted as they are."""


def squeeze_excite(b: GraphBuilder, x: Value, reduction: int = 4) -> Value:
    """OFA/MobileNetV3 SE: avg pool, 1x1 conv (C/4 rounded to 8) + ReLU, 1x1 conv + h-sigmoid, scale."""
    c = channels(x)
    s = b.global_avg_pool(x)
    s = b.relu(b.conv2d(s, out_channels=make_divisible(c // reduction, 8), kernel=1, name="se.reduce"))
    s = b.hardsigmoid(b.conv2d(s, out_channels=c, kernel=1, name="se.expand"))
    return b.mul(x, s)


def mbconv(b: GraphBuilder, x: Value, *, out: int, kernel: Any, mid: int | None, stride: int, act: str,
           se: bool = False) -> Value:
    """[1x1 expand to ``mid``] → depthwise ``kernel`` (stride) → [SE] → 1x1 project; a residual add
    when the block keeps the shape. ``mid=None`` skips the expansion (expand ratio 1);
    ``kernel`` may be a ``$param`` (its padding is then "same")."""
    fn = ALIASES.get(act, act)
    if fn not in OPS or OPS[fn].family != "unary":
        raise ValueError(f"unknown activation {act!r}")
    y = x if mid is None else conv_bn(b, x, mid, 1, act=fn, name="expand")
    width = channels(y)
    y = conv_bn(b, y, width, kernel, stride=stride, groups=width, act=fn, name="dw")
    if se:
        y = squeeze_excite(b, y)
    y = conv_bn(b, y, out, 1, name="project")
    return b.add(y, x, name="residual") if stride == 1 and channels(x) == out else y
