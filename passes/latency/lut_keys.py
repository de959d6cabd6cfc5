"""Strict parser for Once-for-All latency-table keys (Samsung Note10 tables).

Grammar (fields in this order, joined by ``-``)::

    <op>-input:<H>x<W>x<C>-output:<H>x<W>x<C>[-expand:<E>-kernel:<K>-stride:<S>-idskip:<0|1>-se:<0|1>-hs:<0|1>]

``expand`` is the absolute mid-channel count (OFA), not a ratio; ``Logits`` has a bare class count
as output. ProxylessNAS keys (expand as a ratio, no se/hs) are refused on purpose: the same text
would mean a different block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

BLOCK_OP = "expanded_conv"
# The fixed (non-searchable) layers of an OFA MobileNetV3 network, as the tables name them.
FIXED_OPS = ("Conv", "Conv_1", "AvgPool2D", "Conv_2", "Logits")
KNOWN_OPS = (BLOCK_OP, *FIXED_OPS)
_BLOCK_FIELDS = ("expand", "kernel", "stride", "idskip", "se", "hs")
_FLAGS = ("idskip", "se", "hs")

_SHAPE = re.compile(r"([0-9]+)x([0-9]+)x([0-9]+)\Z")
_INT = re.compile(r"[0-9]+\Z")


class LutKeyError(ValueError):
    """A latency-table key that does not follow the OFA grammar; names the key and the fault."""

    def __init__(self, key: str, problem: str):
        self.key = key
        self.problem = problem
        super().__init__(f"bad latency-table key {key!r}: {problem}")


@dataclass(frozen=True, slots=True)
class LutKey:
    """One parsed key. Block fields are 0 for the fixed layers, which have no such attributes."""

    op: str
    in_h: int
    in_w: int
    in_c: int
    out_h: int
    out_w: int
    out_c: int
    expand: int = 0
    kernel: int = 0
    stride: int = 0
    idskip: int = 0
    se: int = 0
    hs: int = 0

    def __str__(self) -> str:
        text = f"{self.op}-input:{self.in_h}x{self.in_w}x{self.in_c}"
        if self.op == "Logits":
            return f"{text}-output:{self.out_c}"
        text += f"-output:{self.out_h}x{self.out_w}x{self.out_c}"
        if self.op == BLOCK_OP:
            text += "".join(f"-{name}:{getattr(self, name)}" for name in _BLOCK_FIELDS)
        return text


def _int(key: str, name: str, text: str) -> int:
    if not _INT.match(text):
        raise LutKeyError(key, f"field {name!r} must be a non-negative integer, got {text!r}")
    return int(text)


def _shape(key: str, name: str, text: str) -> tuple[int, int, int]:
    match = _SHAPE.match(text)
    if not match:
        raise LutKeyError(key, f"field {name!r} must look like HxWxC, got {text!r}")
    dims = tuple(int(g) for g in match.groups())
    if 0 in dims:
        raise LutKeyError(key, f"field {name!r} has a zero dimension: {text!r}")
    return dims  # type: ignore[return-value]


def _fields(key: str, parts: list[str], expected: tuple[str, ...]) -> dict[str, str]:
    names = []
    values = {}
    for part in parts:
        name, sep, value = part.partition(":")
        if not sep or not value:
            raise LutKeyError(key, f"field {part!r} is not of the form name:value")
        names.append(name)
        values[name] = value
    if tuple(names) != expected:
        raise LutKeyError(key, f"expected fields {'-'.join(expected)} in this order, got {'-'.join(names)}")
    return values


def _same_padding_out(size: int, stride: int) -> int:
    return -(-size // stride)


def _check_block(key: str, k: LutKey) -> None:
    if k.kernel < 1 or k.stride < 1 or k.expand < 1:
        raise LutKeyError(key, "expand, kernel and stride must be positive")
    for name in _FLAGS:
        if getattr(k, name) not in (0, 1):
            raise LutKeyError(key, f"flag {name!r} must be 0 or 1, got {getattr(k, name)}")
    want = (_same_padding_out(k.in_h, k.stride), _same_padding_out(k.in_w, k.stride))
    if (k.out_h, k.out_w) != want:
        raise LutKeyError(key, f"output spatial {k.out_h}x{k.out_w} does not match input "
                               f"{k.in_h}x{k.in_w} at stride {k.stride} (expected {want[0]}x{want[1]})")
    if k.idskip and (k.stride != 1 or k.in_c != k.out_c):
        raise LutKeyError(key, "idskip:1 needs stride 1 and equal input/output channels")


def _check_fixed(key: str, k: LutKey) -> None:
    if k.op in ("Conv_2", "Logits") and (k.in_h, k.in_w) != (1, 1):
        raise LutKeyError(key, f"{k.op} acts on pooled features: input must be 1x1xC")
    if k.op == "AvgPool2D" and ((k.out_h, k.out_w) != (1, 1) or k.out_c != k.in_c):
        raise LutKeyError(key, "AvgPool2D is a global pool: output must be 1x1 with the input's channels")
    if k.op in ("Conv_1", "Conv_2") and (k.out_h, k.out_w) != (k.in_h, k.in_w):
        raise LutKeyError(key, f"{k.op} is a 1x1 stride-1 convolution: spatial size must not change")
    if k.op == "Conv":
        stride = max(1, round(k.in_h / k.out_h))
        if (_same_padding_out(k.in_h, stride), _same_padding_out(k.in_w, stride)) != (k.out_h, k.out_w):
            raise LutKeyError(key, f"stem output {k.out_h}x{k.out_w} is not a strided {k.in_h}x{k.in_w}")


def parse_key(key: str) -> LutKey:
    """Parse one key; raise LutKeyError saying what is wrong."""
    if not isinstance(key, str):
        raise LutKeyError(repr(key), f"a key must be a str, got {type(key).__name__}")
    return _parse(key)


@lru_cache(maxsize=1 << 16)  # searchers ask for the same few hundred keys over and over
def _parse(key: str) -> LutKey:
    if key != key.strip() or not key:
        raise LutKeyError(key, "empty key or surrounding whitespace")
    op, *parts = key.split("-")
    if op not in KNOWN_OPS:
        raise LutKeyError(key, f"unknown op {op!r} (expected one of {', '.join(KNOWN_OPS)})")
    expected = ("input", "output", *(_BLOCK_FIELDS if op == BLOCK_OP else ()))
    values = _fields(key, parts, expected)
    in_h, in_w, in_c = _shape(key, "input", values["input"])
    if op == "Logits":
        out = (1, 1, _int(key, "output", values["output"]))
        if out[2] == 0:
            raise LutKeyError(key, "Logits needs at least one output class")
    else:
        out = _shape(key, "output", values["output"])
    block = {name: _int(key, name, values[name]) for name in _BLOCK_FIELDS if name in values}
    parsed = LutKey(op, in_h, in_w, in_c, *out, **block)
    (_check_block if op == BLOCK_OP else _check_fixed)(key, parsed)
    return parsed
