"""fold-bn with weights: the folded network computes what the original did.

A small numpy interpreter (conv1d/conv2d with groups, stride, padding and dilation, linear,
batch_norm, relu, add) evaluates both; where the PyTorch backend is importable the same check
runs through ``archir.to_torch`` as a second, independent reference.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import archir
from archir import GraphBuilder, Module, TensorType
from archir.ops._shapes import pads_of
from archir.passes import run_pipeline

RNG = np.random.default_rng(0)


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, a: dict) -> np.ndarray:
    nd = x.ndim - 2
    pads = pads_of(a["padding"], a["kernel"], a["dilation"])
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pads[i], pads[nd + i]) for i in range(nd)])
    stride, dil, groups = a["stride"], a["dilation"], a["groups"]
    out = [(xp.shape[2 + i] - dil[i] * (w.shape[2 + i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    cg, og = w.shape[1], w.shape[0] // groups
    y = np.zeros((x.shape[0], w.shape[0], *out))
    for idx in itertools.product(*(range(k) for k in w.shape[2:])):
        window = tuple(slice(idx[i] * dil[i], idx[i] * dil[i] + stride[i] * (out[i] - 1) + 1, stride[i])
                       for i in range(nd))
        patch = xp[(slice(None), slice(None), *window)]
        for g in range(groups):
            taps = w[(slice(g * og, (g + 1) * og), slice(None), *idx)]
            y[:, g * og:(g + 1) * og] += np.einsum("nc...,oc->no...", patch[:, g * cg:(g + 1) * cg], taps)
    if b is not None:
        y += b.reshape(1, -1, *[1] * nd)
    return y


def evaluate(module: Module, *inputs: np.ndarray) -> list[np.ndarray]:
    g = module.main
    env = dict(zip(g.args, inputs))
    for op in g.ops:
        xs = [env[v] for v in op.operands]
        w = op.weights or {}
        if op.name in ("conv1d", "conv2d"):
            y = _conv(xs[0], w["weight"], w.get("bias"), op.attrs)
        elif op.name == "linear":
            y = xs[0] @ w["weight"].T + (w["bias"] if "bias" in w else 0)
        elif op.name == "batch_norm":
            shape = (1, -1) + (1,) * (xs[0].ndim - 2)
            y = ((xs[0] - w["running_mean"].reshape(shape)) / np.sqrt(w["running_var"].reshape(shape)
                                                                       + op.attrs["eps"])
                 * w["weight"].reshape(shape) + w["bias"].reshape(shape))
        elif op.name == "relu":
            y = np.maximum(xs[0], 0)
        elif op.name == "add":
            y = xs[0] + xs[1]
        else:
            raise NotImplementedError(op.name)
        env[op.results[0]] = y
    return [env[v] for v in g.outputs]


def _w(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _bn(c: int) -> dict[str, np.ndarray]:
    return {"weight": _w(c), "bias": _w(c), "running_mean": _w(c),
            "running_var": RNG.uniform(0.2, 2.0, c).astype(np.float32)}


def weighted_net() -> Module:
    """conv-bn-relu, depthwise conv (with bias, strided, dilated) -bn, a residual, conv1d-bn,
    linear-bn: every producer fold-bn knows, with random weights."""
    b = GraphBuilder()
    x = b.arg(TensorType("f32", (2, 3, 9, 9)), "x")
    s = b.arg(TensorType("f32", (2, 4, 11)), "s")
    v = b.arg(TensorType("f32", (2, 6)), "v")
    c = b.conv2d(x, out_channels=8, kernel=3, padding=1, bias=False, weights={"weight": _w(8, 3, 3, 3)})
    h = b.relu(b.batch_norm(c, weights=_bn(8)))
    d = b.conv2d(h, out_channels=8, kernel=3, stride=2, padding=2, dilation=2, groups=8,
                 weights={"weight": _w(8, 1, 3, 3), "bias": _w(8)})
    d = b.batch_norm(d, eps=1e-3, weights=_bn(8))
    p = b.conv2d(h, out_channels=8, kernel=1, stride=2, bias=False, weights={"weight": _w(8, 8, 1, 1)})
    out1 = b.add(d, b.batch_norm(p, weights=_bn(8)))
    t = b.conv1d(s, out_channels=5, kernel=3, padding=1, weights={"weight": _w(5, 4, 3), "bias": _w(5)})
    out2 = b.batch_norm(t, weights=_bn(5))
    f = b.linear(v, out_features=7, bias=False, weights={"weight": _w(7, 6)})
    out3 = b.batch_norm(f, weights=_bn(7))
    b.ret(out1, out2, out3)
    return Module([b.graph])


def _inputs(module: Module) -> list[np.ndarray]:
    return [RNG.standard_normal(a.type.shape).astype(np.float32) for a in module.main.args]


def test_folded_network_computes_the_same():
    m = weighted_net()
    archir.verify(m)
    folded = run_pipeline(m, "fold-bn", verify_each=True)
    assert not any(op.name == "batch_norm" for op in folded.main.ops)
    assert all(op.attrs["bias"] and op.weights["bias"].dtype == np.float32
               for op in folded.main.ops if op.name in ("conv1d", "conv2d", "linear"))
    xs = _inputs(m)
    for want, got in zip(evaluate(m, *xs), evaluate(folded, *xs)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_the_callers_weights_are_not_touched():
    m = weighted_net()
    copies = [{k: w.copy() for k, w in op.weights.items()} for op in m.main.ops if op.weights]
    run_pipeline(m, "fold-bn")
    for op, saved in zip([op for op in m.main.ops if op.weights], copies):
        for k in saved:
            np.testing.assert_array_equal(op.weights[k], saved[k])


def test_half_weighted_pairs_are_left_alone():
    b = GraphBuilder()
    x = b.arg(TensorType("f32", (1, 3, 4, 4)), "x")
    c = b.conv2d(x, out_channels=4, kernel=1, weights={"weight": _w(4, 3, 1, 1), "bias": _w(4)})
    b.ret(b.batch_norm(c))
    m = Module([b.graph])
    assert [op.name for op in run_pipeline(m, "fold-bn").main.ops] == ["conv2d", "batch_norm"]


def test_folded_network_matches_through_the_torch_backend():
    torch = pytest.importorskip("torch")
    from archir.backends.torch import to_torch
    m = weighted_net()
    folded = run_pipeline(m, "fold-bn", verify_each=True)
    xs = [torch.from_numpy(a) for a in _inputs(m)]
    with torch.no_grad():
        want = to_torch(m)(*xs)
        got = to_torch(folded)(*xs)
    for w, g in zip(want, got):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-4)
