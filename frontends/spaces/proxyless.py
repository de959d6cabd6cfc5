"""ProxylessNAS space (Cai et al., ICLR 2019), the MobileNetV2 layer-wise space that MnasNet-style
latency-aware searches (accuracy × (latency/T)^w) run over.

Design. Each of the 21 searchable blocks is one decision among ProxylessNAS's candidates:
MBConv with kernel {3, 5, 7} × expand {3, 6}, plus ``zero`` (skip the block) where the block
keeps its shape (stride 1, same width). A block's candidates change its expand, depthwise and
project widths together, so the decision is a choice over block cells ``@sS.bI.k5e6`` etc.;
``zero`` is a cell that returns its input.

Skeleton: conv 3x3/2 (32) + BN + ReLU6; MBConv(k3, expand 1) to 16; stages of widths 24, 40,
80, 96, 192, 320 with 4, 4, 4, 4, 4, 1 blocks and strides 2, 2, 2, 1, 2, 1 (ReLU6, a residual
where the shape is kept); 1x1 conv to 1280 + BN + ReLU6; global average pool; linear.
"""

from __future__ import annotations

from archir.frontends.spaces.build import SpaceBuilder, conv_bn, image, make_divisible
from archir.frontends.spaces.mbconv import mbconv
from archir.frontends.spaces.space import Decision, Space

CANDIDATES = ("k3e3", "k3e6", "k5e3", "k5e6", "k7e3", "k7e6")
STAGES = ((24, 4, 2), (40, 4, 2), (80, 4, 2), (96, 4, 1), (192, 4, 2), (320, 1, 1))  # width, blocks, stride


class ProxylessSpace(Space):
    name = "proxylessnas"

    def __init__(self, *, width_mult: float = 1.0, num_classes: int = 1000, resolution: int = 224):
        sb = SpaceBuilder()
        w = lambda c: make_divisible(c * width_mult, 8)  # noqa: E731
        decisions = []

        def block_choice(b, x, s: int, i: int, out: int, stride: int):
            name = f"s{s}.b{i}"
            options = list(CANDIDATES)
            if stride == 1 and x.type.shape[1] == out:
                options.append("zero")
            for opt in options:
                if opt == "zero":
                    sb.cell(f"{name}.zero", [x.type], lambda bb, v: v)
                else:
                    k, e = int(opt[1]), int(opt[3])
                    sb.cell(f"{name}.{opt}", [x.type], lambda bb, v, k=k, e=e: mbconv(
                        bb, v, out=out, kernel=k, mid=round(v.type.shape[1] * e), stride=stride, act="relu6"))
            decisions.append(Decision(name, tuple(options), "op"))
            return b.choice(x, of=sb.param(name, sb.cells([f"{name}.{o}" for o in options])), name=name)

        def body(b, x):
            y = conv_bn(b, x, w(32), 3, stride=2, act="relu6", name="first_conv")
            y = mbconv(b, y, out=w(16), kernel=3, mid=None, stride=1, act="relu6")
            for s, (width, blocks, stride) in enumerate(STAGES, start=1):
                for i in range(blocks):
                    y = block_choice(b, y, s, i, w(width), stride if i == 0 else 1)
            y = conv_bn(b, y, w(1280) if width_mult > 1 else 1280, 1, act="relu6", name="feature_mix")
            y = b.flatten(b.global_avg_pool(y))
            return b.linear(y, out_features=num_classes, name="classifier")

        module = sb.main([("image", image(3, resolution))], body)
        super().__init__(module, tuple(decisions))
