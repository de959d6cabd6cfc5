"""Constant attention masks → the attention op's ``causal`` and ``window`` attributes.

Masks are additive biases here (a boolean mask is True where a query may look, so it becomes
0 there and -inf elsewhere). A bias that is 0 where allowed and "minus infinity" (-inf, or at
most -1e9, which softmax turns into exactly 0) elsewhere, in the same (S, T) pattern for every
batch and head, is recognised as no mask, causal, a causal sliding window or a symmetric
window, following the attention op's definitions: causal lets query i see keys j <= i; window
w lets it see keys with |i - j| < w.
"""

from __future__ import annotations

import numpy as np

MASKED = -1e9


def compress(bias: np.ndarray) -> np.ndarray:
    """The smallest array that broadcasts back to ``bias``: axes along which it does not vary
    shrink to size 1."""
    for axis in range(bias.ndim):
        if bias.shape[axis] > 1 and np.array_equal(bias, np.broadcast_to(
                bias.take([0], axis=axis), bias.shape)):
            bias = bias.take([0], axis=axis)
    return bias


def additive(mask: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """A boolean keep-mask as an additive bias; a float mask as it is."""
    if mask.dtype == np.bool_:
        return np.where(mask, 0.0, -np.inf).astype(dtype)
    return mask.astype(dtype, copy=False)


def classify(bias: np.ndarray, s: int, t: int) -> tuple[bool, bool, int]:
    """(replaceable, causal, window) for a compressed additive bias broadcasting to (.., s, t):
    replaceable when the attributes alone reproduce it (the bias can then be dropped)."""
    if any(d != 1 for d in bias.shape[:-2]):
        return False, False, 0
    m = np.broadcast_to(bias.reshape(bias.shape[-2:]) if bias.ndim >= 2 else bias, (s, t))
    masked = m <= MASKED
    if not np.all(m[~masked] == 0):
        return False, False, 0
    allowed = ~masked
    if allowed.all():
        return True, False, 0
    i = np.arange(s)[:, None]
    j = np.arange(t)[None, :]
    causal = j <= i
    if np.array_equal(allowed, causal):
        return True, True, 0
    w = int(allowed[-1].sum())
    if w > 0 and np.array_equal(allowed, causal & (i - j < w)):
        return True, True, w
    w = int(allowed[0].sum())
    if w > 0 and np.array_equal(allowed, np.abs(i - j) < w):
        return True, False, w
    return False, False, 0
