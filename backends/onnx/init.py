"""Deterministic weights for ops that have none, so an architecture alone can run.

Each tensor is drawn from a generator seeded by its printed owner and name (stable for a
given IR text) with PyTorch's default initialisation: kaiming-uniform weights and biases
for conv/linear (bound 1/sqrt(fan_in)), N(0, 1) embeddings, norms at identity (weight 1,
bias 0, running mean 0, running var 1), PReLU slope 0.25, parameters N(0, 0.02).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from archir.ir import Operation

_NORMS = {"batch_norm", "layer_norm", "rms_norm", "group_norm", "instance_norm"}


def _rng(seed: str) -> np.random.Generator:
    digest = hashlib.blake2b(seed.encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


def initial(op: Operation, key: str, shape: tuple[int, ...], dtype: np.dtype, seed: str) -> np.ndarray:
    rng = _rng(seed)
    family = op.opdef.name
    if family in _NORMS:
        fill = 1.0 if key in ("weight", "running_var") else 0.0
        return np.full(shape, fill, dtype)
    if family == "prelu":
        return np.full(shape, 0.25, dtype)
    if family == "embedding":
        return rng.standard_normal(shape).astype(dtype)
    if family == "parameter":
        if not np.issubdtype(dtype, np.floating) and dtype.name != "bfloat16":
            return np.zeros(shape, dtype)
        return (0.02 * rng.standard_normal(shape)).astype(dtype)
    weight = op.opdef.params(tuple(v.type for v in op.operands), op.attrs)["weight"]
    fan_in = math.prod(weight[1:])  # PyTorch's rule, conv_transpose's (in, out/groups, k...) too
    bound = 1.0 / math.sqrt(max(fan_in, 1))
    return rng.uniform(-bound, bound, shape).astype(dtype)
