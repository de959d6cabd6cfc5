"""Convolutions, linear layers, matrix products (einsum included) and embeddings."""

from __future__ import annotations

from math import prod
from typing import Any

import numpy as np

from archir.frontends.torch import layout
from archir.frontends.torch.table import converts
from archir.ir import Value


def _const_weight(cx, a):
    return None if cx.is_const(a["weight"]) else "the weight is computed from the inputs"


def _params(cx, a) -> dict[str, np.ndarray] | None:
    w = cx.weight(a["weight"])
    if w is None:
        return None
    return {"weight": w} | ({} if a["bias"] is None else {"bias": cx.weight(a["bias"])})


def _ints(v: Any, n: int) -> tuple[int, ...]:
    v = tuple(v) if isinstance(v, (list, tuple)) else (v,)
    return v * n if len(v) == 1 else v


def _conv(cx, a, rank: int, padding: Any):
    w = cx.type_of(a["weight"])
    if isinstance(padding, str):
        padding = 0 if padding == "valid" else "same"
    else:
        padding = _ints(padding, rank)
    return cx.em.op(
        f"conv{rank}d", cx.value(a["input"]), out_channels=w.shape[0], kernel=w.shape[2:],
        stride=_ints(a["stride"], rank), padding=padding, dilation=_ints(a["dilation"], rank),
        groups=int(a["groups"]), bias=a["bias"] is not None, weights=_params(cx, a))


def _conv_check(cx, a):
    rank = cx.type_of(a["weight"]).rank - 2
    if rank not in (1, 2):
        return f"{rank}-D convolution (the IR has 1-D and 2-D)"
    if a.get("transposed") and rank != 2:
        return "transposed convolution other than 2-D"
    return _const_weight(cx, a)


@converts("aten.conv2d.default", "aten.conv2d.padding", "aten.conv1d.default", "aten.conv1d.padding",
          check=_conv_check)
def conv(cx, a):
    return _conv(cx, a, cx.type_of(a["weight"]).rank - 2, a["padding"])


@converts("aten.conv_transpose2d.input", "aten.convolution.default", check=_conv_check)
def convolution(cx, a):
    if not a.get("transposed", True):
        return _conv(cx, a, cx.type_of(a["weight"]).rank - 2, a["padding"])
    w = cx.type_of(a["weight"])
    groups = int(a["groups"])
    return cx.em.op(
        "conv_transpose2d", cx.value(a["input"]), out_channels=w.shape[1] * groups,
        kernel=w.shape[2:], stride=_ints(a["stride"], 2), padding=_ints(a["padding"], 2),
        dilation=_ints(a["dilation"], 2), groups=groups, bias=a["bias"] is not None,
        output_padding=_ints(a["output_padding"], 2), weights=_params(cx, a))


@converts("aten.linear.default")
def linear(cx, a):
    x = cx.value(a["input"])
    if cx.is_const(a["weight"]):
        out_features = cx.type_of(a["weight"]).shape[0]
        return cx.em.op("linear", x, out_features=out_features, bias=a["bias"] is not None,
                        weights=_params(cx, a))
    y = _matmul(cx, x, layout.swap(cx.em, cx.value(a["weight"]), -1, -2))
    return y if a["bias"] is None else cx.em.op("add", y, cx.value(a["bias"]))


def _as_linear(cx, x: Value, w: Any, bias: Any = None) -> Value | None:
    """x @ W with a constant 2-D W is a linear layer with weight Wᵀ."""
    if not cx.is_const(w) or cx.is_const(x) or cx.type_of(w).rank != 2 or x.type.rank < 2:
        return None
    weight = cx.weight(w)
    weights = None
    if weight is not None:
        weights = {"weight": np.ascontiguousarray(weight.T)}
        if bias is not None:
            weights["bias"] = np.broadcast_to(cx.const(bias), (weight.shape[1],)).copy()
    return cx.em.op("linear", x, out_features=cx.type_of(w).shape[1], bias=bias is not None,
                    weights=weights)


def _matmul(cx, x: Value, y: Value) -> Value:
    """torch.matmul, including its 1-D promotions."""
    em = cx.em
    if x.type.rank == 1:
        return layout.reshape(em, _matmul(cx, layout.reshape(em, x, (1, *x.type.shape)), y),
                              cx.type_of(cx.node).shape)
    if y.type.rank == 1:
        return layout.reshape(em, _matmul(cx, x, layout.reshape(em, y, (*y.type.shape, 1))),
                              cx.type_of(cx.node).shape)
    return em.op("matmul", x, y)


@converts("aten.matmul.default", "aten.mm.default", "aten.bmm.default")
def matmul(cx, a):
    other = a.get("other", a.get("mat2"))
    x = cx.value(a["self"])
    as_linear = _as_linear(cx, x, other)
    return as_linear if as_linear is not None else _matmul(cx, x, cx.value(other))


def _addmm_check(cx, a):
    return None if a["beta"] == 1 and a["alpha"] == 1 else "beta or alpha other than 1"


@converts("aten.addmm.default", check=_addmm_check)
def addmm(cx, a):
    x = cx.value(a["mat1"])
    bias = a["self"] if cx.is_const(a["self"]) and cx.type_of(a["self"]).rank <= 1 else None
    out = _as_linear(cx, x, a["mat2"], bias)
    if out is not None:
        return out
    return cx.em.op("add", _matmul(cx, x, cx.value(a["mat2"])), cx.value(a["self"]))


@converts("aten.baddbmm.default")
def baddbmm(cx, a):
    em = cx.em
    dtype = cx.type_of(cx.node).dtype
    y = em.op("matmul", cx.value(a["batch1"]), cx.value(a["batch2"]))
    if a["alpha"] != 1:
        y = em.op("mul", y, em.scalar(a["alpha"], dtype))
    if a["beta"] == 0:
        return y
    x = cx.value(a["self"], like=dtype)
    if a["beta"] != 1:
        x = em.op("mul", x, em.scalar(a["beta"], dtype))
    return em.op("add", y, x)


def _einsum_check(cx, a):
    try:
        specs, out = _parse_einsum(a["equation"], [cx.type_of(t).rank for t in a["tensors"]])
    except ValueError as e:
        return str(e)
    if len(specs) > 2:
        return "einsum of more than two operands"
    if any(len(set(s)) != len(s) for s in specs):
        return "einsum with a repeated index in one operand (a trace or diagonal)"
    return None


def _parse_einsum(equation: str, ranks: list[int]) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    specs = lhs.split(",")
    if len(specs) != len(ranks):
        raise ValueError(f"einsum '{equation}' names {len(specs)} operands, got {len(ranks)}")
    spare = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in eq)
    ell = ""
    if "..." in eq:
        width = max(r - (len(s) - 3) for s, r in zip(specs, ranks) if "..." in s)
        ell = "".join(next(spare) for _ in range(width))
        specs = [s.replace("...", ell[len(ell) - (r - (len(s) - 3)):]) for s, r in zip(specs, ranks)]
    if not arrow:
        letters = "".join(specs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    out = out.replace("...", ell)
    return specs, out


@converts("aten.einsum.default", check=_einsum_check)
def einsum(cx, a):
    em = cx.em
    values = [cx.value(t) for t in a["tensors"]]
    specs, out = _parse_einsum(a["equation"], [v.type.rank for v in values])
    sizes: dict[str, Any] = {}
    for spec, v in zip(specs, values):
        for c, d in zip(spec, v.type.shape):
            if sizes.setdefault(c, d) != d:
                raise cx.error(f"einsum index '{c}' has sizes {sizes[c]} and {d} (broadcast)")
    # indices that appear in one operand only and not in the output are summed out first
    for i, spec in enumerate(specs):
        others = "".join(s for j, s in enumerate(specs) if j != i) + out
        lonely = [k for k, c in enumerate(spec) if c not in others]
        if lonely:
            values[i] = em.op("reduce_sum", values[i], axes=tuple(lonely))
            specs[i] = "".join(c for c in spec if c in others)
    if len(values) == 1:
        (x,), (spec,) = values, specs
        return layout.transpose(em, x, [spec.index(c) for c in out])
    (x, y), (sx, sy) = values, specs
    batch = [c for c in out if c in sx and c in sy]
    left = [c for c in out if c in sx and c not in sy]
    right = [c for c in out if c in sy and c not in sx]
    contract = [c for c in sx if c in sy and c not in out]

    def grouped(v: Value, spec: str, first: list[str], second: list[str]) -> Value:
        v = layout.transpose(em, v, [spec.index(c) for c in batch + first + second])
        shape = [sizes[c] for c in batch] + [prod(sizes[c] for c in first),
                                             prod(sizes[c] for c in second)]
        return layout.reshape(em, v, shape)

    z = em.op("matmul", grouped(x, sx, left, contract), grouped(y, sy, contract, right))
    order = batch + left + right
    z = layout.reshape(em, z, [sizes[c] for c in order])
    return layout.transpose(em, z, [order.index(c) for c in out])


@converts("aten.embedding.default", check=_const_weight)
def embedding(cx, a):
    w = cx.type_of(a["weight"])
    table = cx.weight(a["weight"])
    return cx.em.op("embedding", cx.value(a["indices"]), num_embeddings=w.shape[0],
                    embedding_dim=w.shape[1], dtype=w.dtype,
                    weights=None if table is None else {"weight": table})
