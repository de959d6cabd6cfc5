"""Physical features of a table block: the cost terms a phone CPU pays for it.

Two feature sets. ``BASE`` terms, shared by every family, are additive costs (MACs of each conv,
elements moved, weights, dispatched ops) in millions, so a non-negative linear model over them is a
roofline-like estimate that extrapolates sensibly to configurations no table holds. ``SHAPE``
terms describe an MBConv block's geometry for the boosted model, which learns how efficiency
departs from that estimate (kernel-specific depthwise code, cache fit, stride-2 access). They are
ratios and sizes, not channel counts, so the correction transfers to widths it never saw.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from archir.passes.latency.lut_keys import LutKey, _parse, parse_key

# Model family per table op: Conv_2 and Logits are both dense layers on a 1x1 map, which are bound
# by reading their weights, so they share one model.
FAMILY = {"expanded_conv": "mbconv", "Conv": "stem", "Conv_1": "pointwise", "AvgPool2D": "pool",
          "Conv_2": "dense", "Logits": "dense"}

# One cost model for the phone, shared by every family, so a term that one family barely exercises
# (h-swish, outside the SE stages) is pinned down by another (the stem and head end in h-swish).
BASE = ("gemm_macs", "dw_macs", "act_elems", "hswish_elems", "se_elems", "io_elems", "skip_elems",
        "weights", "ops")
SHAPE = {
    "mbconv": ("kernel", "stride", "in_hw", "expand_ratio", "has_expand", "se", "hs", "idskip",
               "dw_share", "macs_per_elem"),
}

_STEM_KERNEL = 3  # the OFA MobileNetV3 stem; the key does not carry it
_M = 1e-6


def _make_divisible(value: float, divisor: int = 8) -> int:
    # OFA's rounding of SE mid channels; reproduced so SE cost matches the measured network.
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _rows(pixels: int, tile: int) -> int:
    # A convolution lowered to GEMM has one row per output pixel, computed in blocks of ``tile`` rows;
    # a partial last block costs a full one, which is what makes 5x5..7x7 maps slow per MAC.
    return -(-pixels // tile) * tile


def _mbconv(k: LutKey, tile: int) -> dict[str, float]:
    hw_in, hw_out, e = k.in_h * k.in_w, k.out_h * k.out_w, k.expand
    # OFA writes expand == input channels for expand ratio 1, where the block has no 1x1 expand conv.
    has_expand = int(e != k.in_c)
    se_macs = k.se * 2 * e * _make_divisible(e / 4)  # two 1x1 layers on the pooled vector
    gemm = has_expand * _rows(hw_in, tile) * k.in_c * e + _rows(hw_out, tile) * e * k.out_c + se_macs
    dw_macs = hw_out * e * k.kernel * k.kernel
    act = has_expand * hw_in * e + hw_in * e + hw_out * e  # expand writes, depthwise reads and writes
    io = hw_in * k.in_c + hw_out * k.out_c
    macs = has_expand * hw_in * k.in_c * e + hw_out * e * k.out_c + se_macs + dw_macs
    return {
        "gemm_macs": gemm * _M, "dw_macs": dw_macs * _M, "act_elems": act * _M,
        "hswish_elems": k.hs * (has_expand * hw_in * e + hw_out * e) * _M,
        "se_elems": k.se * hw_out * e * _M, "io_elems": io * _M,
        "skip_elems": k.idskip * hw_out * k.out_c * _M,
        "weights": (has_expand * k.in_c * e + e * k.kernel**2 + e * k.out_c + se_macs // 2) * _M,
        # Dispatched ops: convs, activations, the SE chain (pool, fc, relu, fc, h-sigmoid, mul), add.
        "ops": 2 + has_expand + k.hs * (1 + has_expand) + 6 * k.se + k.idskip,
        "kernel": k.kernel, "stride": k.stride, "in_hw": math.sqrt(hw_in), "expand_ratio": e / k.in_c,
        "has_expand": has_expand, "se": k.se, "hs": k.hs, "idskip": k.idskip,
        "dw_share": dw_macs / macs, "macs_per_elem": macs / (act + io),
    }


def _fixed(k: LutKey, tile: int) -> dict[str, float]:
    hw_in, hw_out = k.in_h * k.in_w, k.out_h * k.out_w
    in_elems, out_elems = hw_in * k.in_c, hw_out * k.out_c
    pooled = k.op == "AvgPool2D"
    taps = _STEM_KERNEL**2 if k.op == "Conv" else 1
    # Conv_2 and Logits see a single pixel: a matrix-vector product, no row blocks to pad.
    rows = hw_out if hw_out == 1 else _rows(hw_out, tile)
    weights = 0 if pooled else k.in_c * k.out_c * taps
    # OFA MobileNetV3: the stem, final expand and feature mix end in h-swish; Logits is linear.
    hswish = out_elems if k.op in ("Conv", "Conv_1", "Conv_2") else 0
    return {
        "gemm_macs": rows * weights * _M, "dw_macs": 0.0, "act_elems": 0.0, "hswish_elems": hswish * _M,
        "se_elems": 0.0, "io_elems": (in_elems + out_elems) * _M, "skip_elems": 0.0,
        "weights": weights * _M, "ops": 1 + int(hswish > 0),
    }


def family_of(key: str) -> str:
    return FAMILY[parse_key(key).op]


@lru_cache(maxsize=1 << 16)
def features(key: str, tile: int) -> tuple[str, np.ndarray, np.ndarray]:
    """(family, base vector, shape vector) for a key; cached because search repeats keys."""
    block = parse_key(key)
    family = FAMILY[block.op]
    named = _mbconv(block, tile) if family == "mbconv" else _fixed(block, tile)
    base = np.array([named[n] for n in BASE], dtype=np.float64)
    shape = np.array([named[n] for n in SHAPE.get(family, ())], dtype=np.float64)
    base.setflags(write=False)
    shape.setflags(write=False)
    return family, base, shape


def clear_caches() -> None:
    """Forget parsed keys and features (for cold-start timing; memory is bounded anyway)."""
    features.cache_clear()
    _parse.cache_clear()
