"""Once-for-All MobileNetV3 space (``ofa_mbv3_d234_e346_k357``): per block kernel {3, 5, 7} and
expand ratio {3, 4, 6}, per stage depth {2, 3, 4}, input resolution 128..224 in steps of 4.

Design.
- kernel: the depthwise conv's ``kernel`` is the param ``$sS.bI.kernel`` (padding "same",
  which is OFA's k//2 for odd k), no cell needed;
- expand: the mid width changes the expand conv, the depthwise conv and the SE widths
  together, so it is a choice over three block cells ``@sS.bI.e3|e4|e6``;
- depth: blocks 0 and 1 of a stage always run; ``$sS.depth`` picks a tail cell
  ``@sS.depth2|3|4`` that runs none, block 2, or blocks 2 and 3 (so depth 3 is one
  architecture, not "block 2 or block 3");
- resolution: an input shape is not an attribute, so it is a decision of the space, not an
  IR param: the IR is built at 224 and ``specialize`` re-types the input and re-infers.

Skeleton (OFA MobileNetV3): conv 3x3/2 + BN + h-swish; a fixed MBConv (expand 1, k3, ReLU,
residual); 5 stages (widths 24, 40, 80, 112, 160 × width_mult; strides 2, 2, 2, 1, 2; SE in
stages 2, 4, 5; h-swish in stages 3-5); 1x1 conv to 960 + BN + h-swish; global average pool;
1x1 conv to 1280 + h-swish (no BN); linear. Mid widths are make_divisible(in · e, 8), SE
widths make_divisible(mid / 4, 8), as OFA extracts subnets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from archir.frontends.spaces.build import SpaceBuilder, conv_bn, image, make_divisible
from archir.frontends.spaces.mbconv import mbconv
from archir.frontends.spaces.space import Assignment, Decision, Space
from archir.ir import Module
from archir.specialize import infer_types

KERNELS, EXPANDS, DEPTHS = (3, 5, 7), (3, 4, 6), (2, 3, 4)
RESOLUTIONS = tuple(range(128, 225, 4))
STAGES = (  # width, stride, activation, SE
    (24, 2, "relu", False), (40, 2, "relu", True), (80, 2, "h_swish", False),
    (112, 1, "h_swish", True), (160, 2, "h_swish", True),
)


def block(s: int, i: int) -> str:
    return f"s{s}.b{i}"


class OFAMobileNetV3Space(Space):
    name = "ofa-mbv3"

    def __init__(self, *, width_mult: float = 1.0, num_classes: int = 1000, max_resolution: int = 224):
        self.max_resolution = max_resolution
        sb = SpaceBuilder()
        w = lambda c: make_divisible(c * width_mult, 8)  # noqa: E731

        def block_choice(b, x, s: int, i: int):
            width, stride, act, se = STAGES[s - 1]
            name, out, stride = block(s, i), w(width), stride if i == 0 else 1
            kernel = sb.param(f"{name}.kernel", KERNELS)
            for e in EXPANDS:
                sb.cell(f"{name}.e{e}", [x.type], lambda bb, v, e=e: mbconv(
                    bb, v, out=out, kernel=kernel, mid=make_divisible(round(v.type.shape[1] * e), 8),
                    stride=stride, act=act, se=se))
            expand = sb.param(f"{name}.expand", sb.cells([f"{name}.e{e}" for e in EXPANDS]))
            return b.choice(x, of=expand, name=name)

        def body(b, x):
            y = conv_bn(b, x, w(16), 3, stride=2, act="hardswish", name="first_conv")
            y = mbconv(b, y, out=w(16), kernel=3, mid=None, stride=1, act="relu")
            for s in range(1, 6):
                y = block_choice(b, block_choice(b, y, s, 0), s, 1)
                tails = []
                for d in DEPTHS:
                    def tail(bb, v, s=s, d=d):
                        for i in range(2, d):
                            v = block_choice(bb, v, s, i)
                        return v
                    tails.append(sb.cell(f"s{s}.depth{d}", [y.type], tail))
                y = b.choice(y, of=sb.param(f"s{s}.depth", sb.cells(tails)), name=f"s{s}.tail")
            y = conv_bn(b, y, w(960), 1, act="hardswish", name="final_expand")
            y = b.global_avg_pool(y)
            y = b.hardswish(b.conv2d(y, out_channels=w(1280), kernel=1, bias=False, name="feature_mix"))
            return b.linear(b.flatten(y), out_features=num_classes, name="classifier")

        module = sb.main([("image", image(3, max_resolution))], body)
        decisions = []
        for s in range(1, 6):
            for i in range(4):
                decisions += [Decision(f"{block(s, i)}.kernel", KERNELS, "kernel"),
                              Decision(f"{block(s, i)}.expand", EXPANDS, "expand")]
            decisions.append(Decision(f"s{s}.depth", DEPTHS, "depth"))
        decisions.append(Decision("resolution", RESOLUTIONS, "resolution"))
        super().__init__(module, tuple(decisions))

    def apply_extra(self, module: Module, assignment: Mapping[str, Any]) -> Module:
        r = assignment["resolution"]
        arg = module.main.args[0]
        arg.type = arg.type.with_shape((*arg.type.shape[:2], r, r))
        return infer_types(module)

    def encode(self, assignment: Mapping[str, Any]) -> str:
        """OFA's arch dict as JSON: ``{"ks": [20], "e": [20], "d": [5], "r": [r]}``."""
        self.check(assignment)
        blocks = [block(s, i) for s in range(1, 6) for i in range(4)]
        return json.dumps({"ks": [assignment[f"{n}.kernel"] for n in blocks],
                           "e": [assignment[f"{n}.expand"] for n in blocks],
                           "d": [assignment[f"s{s}.depth"] for s in range(1, 6)],
                           "r": [assignment["resolution"]]})

    def decode(self, text: str) -> Assignment:
        arch = json.loads(text)
        lengths = {k: len(v) for k, v in arch.items()}
        if lengths != {"ks": 20, "e": 20, "d": 5, "r": 1}:
            raise ValueError(f"an OFA arch is {{'ks': [20], 'e': [20], 'd': [5], 'r': [1]}}, got {lengths}")
        out: Assignment = {"resolution": arch["r"][0]}
        for n, (s, i) in enumerate((s, i) for s in range(1, 6) for i in range(4)):
            out[f"{block(s, i)}.kernel"], out[f"{block(s, i)}.expand"] = arch["ks"][n], arch["e"][n]
        for s in range(1, 6):
            out[f"s{s}.depth"] = arch["d"][s - 1]
        self.check(out)
        return out

