"""Table keys of Once-for-All MobileNetV3 subnets (w1.2 supernet, the one the Note10 tables fit),
so a subnet's latency is the sum of its blocks' table entries or predictions."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

# ofa_mbv3_d234_e346_k357_w1.2: (width, stride, se, h-swish) per elastic stage.
STAGES = ((32, 2, 0, 0), (48, 2, 1, 0), (96, 2, 0, 1), (136, 1, 1, 1), (192, 2, 1, 1))
STEM, FINAL_EXPAND, FEATURE_MIX, CLASSES = 24, 1152, 1536, 1000
KERNELS, EXPANDS, DEPTHS = (3, 5, 7), (3, 4, 6), (2, 3, 4)


@dataclass(frozen=True)
class OfaSubnet:
    resolution: int
    depths: tuple[int, ...]  # blocks per stage
    kernels: tuple[int, ...]  # per block actually present, in order
    expands: tuple[int, ...]  # expand ratio per block actually present

    def __post_init__(self) -> None:
        if len(self.depths) != len(STAGES) or any(d < 1 for d in self.depths):
            raise ValueError(f"need {len(STAGES)} positive stage depths, got {self.depths}")
        if not len(self.kernels) == len(self.expands) == sum(self.depths):
            raise ValueError("need one kernel and one expand ratio per block")
        if self.resolution < 32:
            raise ValueError(f"resolution {self.resolution} is too small for five stride-2 stages")


def _down(size: int, stride: int) -> int:
    return -(-size // stride)


def _block(hw: int, cin: int, cout: int, expand: int, kernel: int, stride: int, se: int, hs: int) -> str:
    out = _down(hw, stride)
    skip = int(stride == 1 and cin == cout)
    return (f"expanded_conv-input:{hw}x{hw}x{cin}-output:{out}x{out}x{cout}-expand:{expand}-kernel:{kernel}"
            f"-stride:{stride}-idskip:{skip}-se:{se}-hs:{hs}")


def subnet_keys(net: OfaSubnet) -> list[str]:
    """Every table key the subnet's latency sums over, stem to logits."""
    hw = _down(net.resolution, 2)
    keys = [f"Conv-input:{net.resolution}x{net.resolution}x3-output:{hw}x{hw}x{STEM}",
            _block(hw, STEM, STEM, STEM, 3, 1, 0, 0)]  # first block: expand ratio 1, fixed
    cin, i = STEM, 0
    for (width, stride, se, hs), depth in zip(STAGES, net.depths):
        for j in range(depth):
            s = stride if j == 0 else 1
            # All OFA widths times {3, 4, 6} are multiples of 8, so make_divisible is the identity.
            keys.append(_block(hw, cin, width, cin * net.expands[i], net.kernels[i], s, se, hs))
            hw, cin, i = _down(hw, s), width, i + 1
    keys += [f"Conv_1-input:{hw}x{hw}x{cin}-output:{hw}x{hw}x{FINAL_EXPAND}",
             f"AvgPool2D-input:{hw}x{hw}x{FINAL_EXPAND}-output:1x1x{FINAL_EXPAND}",
             f"Conv_2-input:1x1x{FINAL_EXPAND}-output:1x1x{FEATURE_MIX}",
             f"Logits-input:1x1x{FEATURE_MIX}-output:{CLASSES}"]
    return keys


def uniform_subnet(resolution: int, depth: int, kernel: int, expand: int) -> OfaSubnet:
    n = depth * len(STAGES)
    return OfaSubnet(resolution, (depth,) * len(STAGES), (kernel,) * n, (expand,) * n)


def sample_subnet(rng: random.Random, resolutions: Sequence[int], kernels: Sequence[int] = KERNELS,
                  expands: Sequence[int] = EXPANDS) -> OfaSubnet:
    depths = tuple(rng.choice(DEPTHS) for _ in STAGES)
    n = sum(depths)
    return OfaSubnet(rng.choice(list(resolutions)), depths, tuple(rng.choice(kernels) for _ in range(n)),
                     tuple(rng.choice(expands) for _ in range(n)))
