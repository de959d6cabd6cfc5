"""Every op through archir.to_torch, compared with an independent PyTorch/numpy computation."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import archir
from archir import GraphBuilder, Module, TensorType
from archir.backends.torch.emitters import EMITTERS

CASES: dict[str, Callable[[], None]] = {}
COVERED: set[str] = set()
RNG = np.random.default_rng(0)


def case(*ops: str):
    def register(fn):
        CASES[fn.__name__] = fn
        COVERED.update(ops)
        return fn

    return register


_DTYPES = {torch.float32: "f32", torch.float16: "f16", torch.int64: "i64", torch.int32: "i32",
           torch.bool: "bool", torch.float64: "f64"}


def apply(name: str, **attrs):
    """A graph body applying op ``name`` to all the arguments."""
    return lambda b, *xs: b.op(name, *xs, **attrs)


def run(build, *inputs: torch.Tensor, symbolic_batch: bool = False):
    """Build IR over inputs (optionally with batch N), emit it, run it; returns the outputs."""
    b = GraphBuilder("main")
    args = []
    for i, t in enumerate(inputs):
        shape = tuple(t.shape)
        if symbolic_batch:
            shape = ("N", *shape[1:])
        args.append(b.arg(TensorType(_DTYPES[t.dtype], shape), f"x{i}"))
    outs = build(b, *args)
    outs = outs if isinstance(outs, tuple) else (outs,)
    b.ret(*outs)
    module = Module([b.graph])
    archir.verify(module)
    model = archir.to_torch(module)
    with torch.no_grad():
        got = model(*inputs)
    got = got if isinstance(got, tuple) else (got,)
    for value, out in zip(got, outs):  # the module honours the IR's result types
        assert tuple(value.shape)[1 if symbolic_batch else 0:] == tuple(out.type.shape)[
            1 if symbolic_batch else 0:]
        assert _DTYPES[value.dtype] == out.type.dtype.value
    return got[0] if len(got) == 1 else got


def close(got, want, atol=1e-5, rtol=1e-5):
    want = torch.as_tensor(np.array(want)) if not isinstance(want, torch.Tensor) else want
    assert got.shape == want.shape, (got.shape, want.shape)
    torch.testing.assert_close(got, want.to(got.dtype), atol=atol, rtol=rtol)


def randn(*shape) -> torch.Tensor:
    return torch.from_numpy(RNG.standard_normal(shape).astype(np.float32))


def arr(*shape) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


# convolutions, linear, matmul, embedding -----------------------------------------------------

@case("conv2d")
def conv2d():
    x, w, bias = randn(2, 4, 9, 9), arr(6, 2, 3, 3), arr(6)
    got = run(lambda b, x: b.conv2d(x, out_channels=6, kernel=3, stride=2, padding=1, dilation=2,
                                    groups=2, weights={"weight": w, "bias": bias}), x)
    close(got, F.conv2d(x, torch.from_numpy(w), torch.from_numpy(bias), 2, 1, 2, 2))
    # "same" with an even kernel pads asymmetrically: PyTorch's own padding="same" agrees
    w = arr(3, 4, 4, 4)
    got = run(lambda b, x: b.conv2d(x, out_channels=3, kernel=4, padding="same", bias=False,
                                    weights={"weight": w}), x)
    with warnings.catch_warnings():  # PyTorch warns that it copies the input to pad it
        warnings.simplefilter("ignore")
        close(got, F.conv2d(x, torch.from_numpy(w), padding="same"))


@case("conv1d")
def conv1d():
    x, w = randn(2, 3, 11), arr(5, 3, 3)
    got = run(lambda b, x: b.conv1d(x, out_channels=5, kernel=3, stride=2, padding=(1, 0), bias=False,
                                    weights={"weight": w}), x)
    close(got, F.conv1d(F.pad(x, (1, 0)), torch.from_numpy(w), stride=2))


@case("conv_transpose2d")
def conv_transpose2d():
    x, w, bias = randn(2, 4, 5, 5), arr(4, 3, 3, 3), arr(6)
    got = run(lambda b, x: b.conv_transpose2d(
        x, out_channels=6, kernel=3, stride=2, padding=1, output_padding=1, groups=2,
        weights={"weight": w, "bias": bias}), x)
    close(got, F.conv_transpose2d(x, torch.from_numpy(w), torch.from_numpy(bias), 2, 1, 1, 2))
    # asymmetric padding crops the full output: begins from the top/left, ends from the bottom/right
    w = arr(4, 2, 3, 3)
    got = run(lambda b, x: b.conv_transpose2d(x, out_channels=2, kernel=3, stride=2, padding=(0, 1, 2, 0),
                                              bias=False, weights={"weight": w}), x)
    full = F.conv_transpose2d(x, torch.from_numpy(w), stride=2)
    close(got, full[:, :, 0:full.shape[2] - 2, 1:])


@case("linear")
def linear():
    x, w, bias = randn(2, 5, 8), arr(3, 8), arr(3)
    got = run(lambda b, x: b.linear(x, out_features=3, weights={"weight": w, "bias": bias}), x)
    close(got, x @ torch.from_numpy(w).T + torch.from_numpy(bias))
    got = run(lambda b, x: b.linear(x, out_features=3, bias=False, weights={"weight": w}), x)
    close(got, x @ torch.from_numpy(w).T)


@case("matmul")
def matmul():
    a, c = randn(2, 1, 3, 4), randn(5, 4, 6)
    close(run(lambda b, a, c: b.matmul(a, c), a, c), np.matmul(a.numpy(), c.numpy()), atol=1e-4)


@case("embedding")
def embedding():
    table = arr(10, 4)
    for dtype in (torch.int64, torch.int32):
        ids = torch.tensor([[1, 9, 0], [3, 3, 2]], dtype=dtype)
        got = run(apply("embedding", num_embeddings=10, embedding_dim=4, weights={"weight": table}), ids)
        close(got, table[ids.numpy()])


# elementwise ----------------------------------------------------------------------------------

_UNARY_REFERENCE = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "silu": lambda x: x / (1 + np.exp(-x)),
    "hardswish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hardsigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "exp": np.exp,
    "neg": np.negative,
    "abs": np.abs,
    "erf": np.vectorize(math.erf),
    "sin": np.sin,
    "cos": np.cos,
    "reciprocal": np.reciprocal,
    "floor": np.floor,
    "ceil": np.ceil,
    "sign": np.sign,
    "identity": lambda x: x,
}
_POSITIVE_REFERENCE = {"log": np.log, "sqrt": np.sqrt, "rsqrt": lambda x: 1 / np.sqrt(x)}


@case(*_UNARY_REFERENCE, *_POSITIVE_REFERENCE)
def unary():
    x = randn(3, 7) * 3
    for name, ref in _UNARY_REFERENCE.items():
        close(run(apply(name), x), ref(x.numpy()), atol=1e-5, rtol=1e-4)
    pos = x.abs() + 0.1
    for name, ref in _POSITIVE_REFERENCE.items():
        close(run(apply(name), pos), ref(pos.numpy()), atol=1e-5, rtol=1e-4)


@case("gelu", "leaky_relu", "elu", "clip")
def unary_with_attributes():
    x = randn(4, 5) * 3
    n = x.numpy()
    erf = np.vectorize(math.erf)
    close(run(lambda b, x: b.gelu(x), x), 0.5 * n * (1 + erf(n / math.sqrt(2))))
    tanh_gelu = 0.5 * n * (1 + np.tanh(math.sqrt(2 / math.pi) * (n + 0.044715 * n ** 3)))
    close(run(lambda b, x: b.gelu(x, approximate="tanh"), x), tanh_gelu)
    close(run(lambda b, x: b.leaky_relu(x, alpha=0.2), x), np.where(n > 0, n, 0.2 * n))
    close(run(lambda b, x: b.elu(x, alpha=0.5), x), np.where(n > 0, n, 0.5 * (np.exp(n) - 1)))
    close(run(lambda b, x: b.clip(x, min=-1.0, max=2.0), x), np.clip(n, -1, 2))
    close(run(lambda b, x: b.clip(x, min=0.5), x), np.maximum(n, 0.5))
    close(run(lambda b, x: b.clip(x), x), n)


@case("dropout")
def dropout():
    x = randn(64, 64) + 5  # no zeros of its own
    b = GraphBuilder("main")
    b.ret(b.dropout(b.arg(TensorType("f32", (64, 64)), "x"), p=0.5))
    model = archir.to_torch(Module([b.graph]))
    close(model(x), x)  # eval mode: identity
    model.train()
    y = model(x)
    dropped = (y == 0).float().mean().item()
    assert 0.4 < dropped < 0.6
    close(y[y != 0], x[y != 0] * 2)


@case("prelu")
def prelu():
    x, slope = randn(2, 3, 4, 4), np.array([0.1, 0.2, 0.3], np.float32)
    got = run(lambda b, x: b.prelu(x, num_parameters=3, weights={"weight": slope}), x)
    n = x.numpy()
    close(got, np.where(n > 0, n, slope[None, :, None, None] * n))


@case("cast")
def cast():
    x = torch.tensor([[-1.7, 2.5, 0.2]])
    close(run(lambda b, x: b.cast(x, dtype="i64"), x), torch.tensor([[-1, 2, 0]]))
    assert run(lambda b, x: b.cast(x, dtype="f16"), x).dtype == torch.float16


@case("add", "sub", "mul", "div", "pow", "maximum", "minimum", "equal", "less", "greater")
def binary():
    a, c = randn(2, 3, 4), randn(3, 1)
    na, nc = a.numpy(), c.numpy()
    refs = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
            "maximum": np.maximum, "minimum": np.minimum}
    for name, ref in refs.items():
        close(run(apply(name), a, c), ref(na, nc))
    close(run(lambda b, x, y: b.pow(x, y), a.abs() + 0.5, c), np.power(np.abs(na) + 0.5, nc), rtol=1e-4)
    for name, ref in {"equal": np.equal, "less": np.less, "greater": np.greater}.items():
        rounded = a.round()
        got = run(apply(name), rounded, c.round())
        assert got.dtype == torch.bool
        assert torch.equal(got, torch.from_numpy(ref(rounded.numpy(), nc.round())))
    # integer division rounds towards minus infinity (PyTorch's //)
    p, q = torch.tensor([7, -7, 6, -1]), torch.tensor([2, 2, -4, 3])
    assert torch.equal(run(lambda b, x, y: b.div(x, y), p, q), torch.tensor([3, -4, -2, -1]))


@case("where")
def where():
    cond, a, c = randn(3, 4) > 0, randn(3, 4), randn(4)
    close(run(lambda b, k, x, y: b.where(k, x, y), cond, a, c), np.where(cond.numpy(), a.numpy(), c.numpy()))


@case("softmax", "log_softmax")
def softmax():
    x = randn(2, 5, 3)
    e = np.exp(x.numpy() - x.numpy().max(axis=1, keepdims=True))
    ref = e / e.sum(axis=1, keepdims=True)
    close(run(lambda b, x: b.softmax(x, axis=1), x), ref)
    close(run(lambda b, x: b.log_softmax(x, axis=1), x), np.log(ref), atol=1e-5)


@case("reduce_mean", "reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "argmax")
def reductions():
    x = randn(2, 3, 4, 5)
    n = x.numpy()
    refs = {"reduce_mean": np.mean, "reduce_sum": np.sum, "reduce_max": np.max, "reduce_min": np.min,
            "reduce_prod": np.prod}
    for name, ref in refs.items():
        for axes, keep in (((1, -1), True), ((3, 0), False), ((), False)):
            got = run(apply(name, axes=axes, keepdims=keep), x)
            close(got, ref(n, axis=tuple(axes) or None, keepdims=keep), atol=1e-5, rtol=1e-4)
    got = run(lambda b, x: b.argmax(x, axis=2, keepdims=True), x)
    assert torch.equal(got, torch.from_numpy(np.argmax(n, axis=2)[:, :, None, :]))
    assert torch.equal(run(lambda b, x: b.argmax(x), x), torch.from_numpy(np.argmax(n, axis=-1)))


# normalisation --------------------------------------------------------------------------------

def _normalise(n: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    mean = n.mean(axis=axes, keepdims=True)
    var = n.var(axis=axes, keepdims=True)
    return (n - mean) / np.sqrt(var + eps)


@case("batch_norm")
def batch_norm():
    for shape in ((2, 3, 4, 4), (2, 3, 5), (4, 3)):
        x = randn(*shape)
        w = {"weight": arr(3), "bias": arr(3), "running_mean": arr(3),
             "running_var": np.abs(arr(3)) + 0.5}
        got = run(apply("batch_norm", eps=1e-3, weights=w), x)
        view = (1, 3) + (1,) * (len(shape) - 2)
        ref = ((x.numpy() - w["running_mean"].reshape(view)) / np.sqrt(w["running_var"].reshape(view) + 1e-3)
               * w["weight"].reshape(view) + w["bias"].reshape(view))
        close(got, ref, atol=1e-5)


@case("layer_norm", "rms_norm")
def layer_and_rms_norm():
    x = randn(2, 3, 4, 5)
    n = x.numpy()
    weight, bias = arr(4, 5), arr(4, 5)
    got = run(lambda b, x: b.layer_norm(x, axis=-2, weights={"weight": weight, "bias": bias}), x)
    close(got, _normalise(n, (2, 3), 1e-5) * weight + bias, atol=1e-5)
    got = run(lambda b, x: b.layer_norm(x, bias=False, eps=1e-3, weights={"weight": weight[0]}), x)
    close(got, _normalise(n, (3,), 1e-3) * weight[0], atol=1e-5)
    close(run(lambda b, x: b.layer_norm(x, affine=False), x), _normalise(n, (3,), 1e-5), atol=1e-5)
    got = run(lambda b, x: b.rms_norm(x, weights={"weight": weight[0]}), x)
    close(got, n / np.sqrt((n ** 2).mean(axis=-1, keepdims=True) + 1e-6) * weight[0], atol=1e-5)
    got = run(lambda b, x: b.rms_norm(x, axis=1, affine=False, eps=0.1), x)
    close(got, n / np.sqrt((n ** 2).mean(axis=(1, 2, 3), keepdims=True) + 0.1), atol=1e-5)


@case("group_norm", "instance_norm")
def group_and_instance_norm():
    x = randn(2, 6, 4, 4)
    n = x.numpy()
    w, bias = arr(6), arr(6)
    got = run(lambda b, x: b.group_norm(x, groups=3, weights={"weight": w, "bias": bias}), x)
    ref = _normalise(n.reshape(2, 3, 2, 4, 4), (2, 3, 4), 1e-5).reshape(n.shape)
    close(got, ref * w[None, :, None, None] + bias[None, :, None, None], atol=1e-5)
    got = run(lambda b, x: b.instance_norm(x, weights={"weight": w, "bias": bias}), x)
    close(got, _normalise(n, (2, 3), 1e-5) * w[None, :, None, None] + bias[None, :, None, None], atol=1e-5)
    close(run(lambda b, x: b.instance_norm(x, affine=False, eps=0.01), x), _normalise(n, (2, 3), 0.01),
          atol=1e-5)
    x1 = randn(2, 6, 7)
    close(run(lambda b, x: b.instance_norm(x, affine=False), x1), _normalise(x1.numpy(), (2,), 1e-5),
          atol=1e-5)


@case("lrn")
def lrn():
    x = randn(2, 7, 3, 3)
    n = x.numpy()
    for size in (3, 4):
        got = run(apply("lrn", size=size, alpha=0.2, beta=0.6, k=1.5), x)
        squares = np.pad(n ** 2, ((0, 0), (size // 2, (size - 1) // 2), (0, 0), (0, 0)))
        window = sum(squares[:, c:c + 7] for c in range(size))
        close(got, n / (1.5 + 0.2 / size * window) ** 0.6, atol=1e-5)


# pooling, padding -----------------------------------------------------------------------------

def _pool_reference(n, kernel, stride, pads, dilation, out_size, kind, count_include_pad=True):
    """Direct loops over the IR's windows: begins at o·stride - pad_begin, taps every dilation."""
    out = np.zeros(n.shape[:2] + tuple(out_size), np.float32)
    H, W = n.shape[2:]
    for i in range(out_size[0]):
        for j in range(out_size[1]):
            rows = [i * stride[0] - pads[0] + k * dilation[0] for k in range(kernel[0])]
            cols = [j * stride[1] - pads[1] + k * dilation[1] for k in range(kernel[1])]
            # taps past the padded input (ceil_mode's last window) are not part of the window
            rows = [r for r in rows if r < H + pads[2]]
            cols = [c for c in cols if c < W + pads[3]]
            inside = [(r, c) for r in rows for c in cols if 0 <= r < H and 0 <= c < W]
            values = np.stack([n[:, :, r, c] for r, c in inside], -1)
            if kind == "max":
                out[:, :, i, j] = values.max(-1)
            else:
                count = len(rows) * len(cols) if count_include_pad else len(inside)
                out[:, :, i, j] = values.sum(-1) / count
    return out


@case("max_pool2d", "avg_pool2d")
def pools():
    x = randn(2, 3, 9, 8)
    n = x.numpy()
    configs = [
        dict(kernel=(3, 3), stride=(2, 2), padding=(1, 1)),
        dict(kernel=(3, 2), stride=(2, 3), padding=(1, 0), ceil_mode=True),
        dict(kernel=(2, 2), stride=(1, 1), padding="same"),  # asymmetric (0, 0, 1, 1)
        dict(kernel=(3, 3), stride=(2, 2), padding=(0, 1, 1, 0), ceil_mode=True),
        dict(kernel=(2, 2), stride=(2, 2)),
    ]
    for cfg in configs:
        for kind in ("max", "avg"):
            for include in ((True, False) if kind == "avg" else (True,)):
                extra = {"count_include_pad": include} if kind == "avg" else {}
                got = run(apply(f"{kind}_pool2d", **cfg, **extra), x)
                pads = cfg.get("padding", (0, 0))
                pads = (0, 0, 1, 1) if pads == "same" else (pads * 2 if len(pads) == 2 else pads)
                ref = _pool_reference(n, cfg["kernel"], cfg["stride"], pads, (1, 1), got.shape[2:], kind,
                                      include)
                close(got, ref, atol=1e-5)
    got = run(lambda b, x: b.max_pool2d(x, kernel=2, stride=2, padding=1, dilation=2), x)
    close(got, _pool_reference(n, (2, 2), (2, 2), (1, 1, 1, 1), (2, 2), got.shape[2:], "max"))


@case("adaptive_avg_pool2d", "adaptive_max_pool2d", "global_avg_pool", "global_max_pool")
def adaptive_and_global_pools():
    x = randn(2, 3, 6, 9)
    close(run(lambda b, x: b.adaptive_avg_pool2d(x, output_size=(2, 3)), x),
          x.numpy().reshape(2, 3, 2, 3, 3, 3).mean(axis=(3, 5)))
    close(run(lambda b, x: b.adaptive_max_pool2d(x, output_size=(3, 1)), x),
          x.numpy().reshape(2, 3, 3, 2, 1, 9).max(axis=(3, 5)))
    close(run(lambda b, x: b.global_avg_pool(x), x), x.numpy().mean(axis=(2, 3), keepdims=True))
    x1 = randn(2, 3, 7)
    close(run(lambda b, x: b.global_max_pool(x), x1), x1.numpy().max(axis=2, keepdims=True))


def _np_pad(n: np.ndarray, pads: tuple[int, ...], mode: str, value: float = 0.0) -> np.ndarray:
    rank = n.ndim
    grow = [(max(pads[i], 0), max(pads[rank + i], 0)) for i in range(rank)]
    kwargs = {"constant_values": value} if mode == "constant" else {}
    out = np.pad(n, grow, mode=mode, **kwargs)
    crop = tuple(slice(max(-pads[i], 0), out.shape[i] - max(-pads[rank + i], 0)) for i in range(rank))
    return out[crop]


@case("pad")
def pad():
    x = randn(2, 3, 5, 6)
    n = x.numpy()
    for pads, mode in [
        ((0, 0, 1, 2, 0, 0, 3, 0), "constant"),
        ((0, 1, -1, 0, 0, 2, 0, -2), "constant"),
        ((0, 0, 1, 2, 0, 0, 2, 1), "reflect"),
        ((0, 0, 1, 2, 0, 0, 2, 1), "edge"),
        ((0, 2, 0, 1, 0, 1, 0, 1), "reflect"),  # channel dim: PyTorch's reflect pad cannot
        ((1, 0, 0, 7, 0, 0, 2, 0), "edge"),
        ((0, 0, -1, 2, 0, 0, 1, -3), "reflect"),
    ]:
        got = run(apply("pad", pads=pads, mode=mode, value=0.5), x)
        close(got, _np_pad(n, pads, {"edge": "edge"}.get(mode, mode), 0.5))


# data movement --------------------------------------------------------------------------------

@case("reshape", "flatten", "transpose", "squeeze", "unsqueeze")
def reshapes():
    x = randn(3, 4, 1, 5)
    n = x.numpy()
    got = run(lambda b, x: b.reshape(x, shape=("N", 5, -1)), x, symbolic_batch=True)
    close(got, n.reshape(3, 5, -1))
    close(run(lambda b, x: b.flatten(x), x), n.reshape(3, -1))
    close(run(lambda b, x: b.flatten(x, start=1, end=2), x), n.reshape(3, 4, 5))
    close(run(lambda b, x: b.transpose(x, perm=(3, 0, 2, 1)), x), n.transpose(3, 0, 2, 1))
    close(run(lambda b, x: b.squeeze(x, axes=(-2,)), x), n.reshape(3, 4, 5))
    close(run(lambda b, x: b.unsqueeze(x, axes=(0, -1, 3)), x), n.reshape(1, 3, 4, 1, 1, 5, 1))


@case("concat", "split")
def concat_and_split():
    a, c = randn(2, 3, 4), randn(2, 5, 4)
    close(run(lambda b, x, y: b.concat(x, y, x, axis=1), a, c), np.concatenate([a, c, a], axis=1))
    parts = run(lambda b, x: b.split(x, axis=-1, sizes=(1, 3)), a)
    close(parts[0], a.numpy()[..., :1])
    close(parts[1], a.numpy()[..., 1:])
    close(run(lambda b, x: b.split(x, axis=0, sizes=(2,)), a), a.numpy())


@case("slice")
def slices():
    x = randn(4, 10, 6)
    n = x.numpy()
    for axes, starts, ends, steps in [
        ((1,), (2,), (8,), ()),
        ((1, 2), (-3, 1), (100, -1), (1, 2)),
        ((1,), (8,), (1,), (-3,)),
        ((2, 0), (-1, 3), (-100, 0), (-1, -1)),
        ((1,), (5,), (2,), ()),  # empty
    ]:
        got = run(apply("slice", axes=axes, starts=starts, ends=ends, steps=steps), x)
        index = [slice(None)] * 3
        for a, s, e, st in zip(axes, starts, ends, steps or (1,) * len(axes)):
            index[a] = slice(s, e, st)
        close(got, n[tuple(index)])


@case("expand", "constant", "parameter")
def expand_constant_parameter():
    x = randn(3, 4)
    token = arr(1, 1, 4)
    # the class-token pattern: N comes from another argument than the expanded tensor
    got = run(lambda b, x: b.expand(b.parameter(shape=(1, 1, 4), weights={"value": token}),
                                    shape=("N", 2, 4)), x, symbolic_batch=True)
    close(got, np.broadcast_to(token, (3, 2, 4)))
    close(run(lambda b, x: b.expand(x, shape=(2, 1, 1)), x), np.broadcast_to(x.numpy(), (2, 3, 4)))
    got = run(lambda b, x: b.mul(x, b.constant(value=-2.5)), x)
    close(got, x.numpy() * -2.5)
    got = run(lambda b, x: b.add(x, b.constant(value=1.0, shape=("N", 4))), x, symbolic_batch=True)
    close(got, x.numpy() + 1)
    got = run(lambda b, x: b.constant(value=3.0, dtype="i64", shape=(2,)), x)
    assert torch.equal(got, torch.tensor([3, 3]))


@case("channel_shuffle", "gather", "roll")
def shuffle_gather_roll():
    x = randn(2, 6, 3, 3)
    n = x.numpy()
    close(run(lambda b, x: b.channel_shuffle(x, groups=2), x),
          n.reshape(2, 2, 3, 3, 3).transpose(0, 2, 1, 3, 4).reshape(n.shape))
    idx = torch.tensor([[0, -1], [2, 2]])
    close(run(lambda b, x, i: b.gather(x, i, axis=1), x, idx), np.take(n, idx.numpy() % 6, axis=1))
    close(run(lambda b, x: b.roll(x, shifts=(1, -2), axes=(1, 3)), x), np.roll(n, (1, -2), axis=(1, 3)))


# attention and positions ----------------------------------------------------------------------

def _attention_reference(q, k, v, hq, hkv, causal=False, window=0, scale=0.0, bias=None):
    b, s, _ = q.shape
    t = k.shape[1]
    d, dv = q.shape[2] // hq, v.shape[2] // hkv
    out = np.zeros((b, s, hq * dv), np.float32)
    for h in range(hq):
        g = h // (hq // hkv)
        qh, kh, vh = q[..., h * d:(h + 1) * d], k[..., g * d:(g + 1) * d], v[..., g * dv:(g + 1) * dv]
        scores = qh @ kh.transpose(0, 2, 1) * (scale or 1 / math.sqrt(d))
        if bias is not None:
            scores = scores + np.broadcast_to(bias, (b, hq, s, t))[:, h]
        i, j = np.arange(s)[:, None], np.arange(t)[None, :]
        allowed = np.ones((s, t), bool)
        if causal:
            allowed &= j <= i
        if window:
            allowed &= np.abs(i - j) < window
        scores = np.where(allowed, scores, -np.inf)
        p = np.exp(scores - scores.max(-1, keepdims=True))
        out[..., h * dv:(h + 1) * dv] = (p / p.sum(-1, keepdims=True)) @ vh
    return out


@case("attention")
def attention():
    for hq, hkv, s, t, kw in [
        (4, 4, 6, 6, {}),
        (4, 2, 6, 6, {"causal": True}),
        (4, 1, 7, 7, {"window": 2}),
        (6, 3, 7, 7, {"window": 3, "causal": True, "scale": 0.3}),
        (2, 2, 3, 5, {"causal": True}),  # cross attention: causal is top-left aligned
    ]:
        d = 4
        q, k, v = randn(2, s, hq * d), randn(2, t, hkv * d), randn(2, t, hkv * 3)
        got = run(apply("attention", num_heads=hq, num_kv_heads=hkv, **kw), q, k, v)
        close(got, _attention_reference(q.numpy(), k.numpy(), v.numpy(), hq, hkv, **kw), atol=1e-5)
    q, k, v, bias = randn(2, 5, 8), randn(2, 5, 8), randn(2, 5, 8), randn(1, 2, 5, 5)
    for kw in ({}, {"causal": True}, {"window": 2}):
        got = run(apply("attention", num_heads=2, num_kv_heads=2, **kw), q, k, v, bias)
        ref = _attention_reference(q.numpy(), k.numpy(), v.numpy(), 2, 2, bias=bias.numpy(), **kw)
        close(got, ref, atol=1e-5)


@case("rotary")
def rotary():
    x = randn(2, 5, 12)
    heads, d = 2, 6
    for interleaved in (False, True):
        got = run(apply("rotary", num_heads=heads, base=100.0, interleaved=interleaved), x)
        h = x.numpy().reshape(2, 5, heads, d).astype(np.float64)
        if interleaved:
            z = h[..., 0::2] + 1j * h[..., 1::2]
        else:
            z = h[..., : d // 2] + 1j * h[..., d // 2:]
        theta = 100.0 ** (-np.arange(0, d, 2) / d)
        z = z * np.exp(1j * np.arange(5)[None, :, None, None] * theta)
        if interleaved:
            ref = np.stack([z.real, z.imag], -1).reshape(2, 5, 12)
        else:
            ref = np.concatenate([z.real, z.imag], -1).reshape(2, 5, 12)
        close(got, ref, atol=1e-5)


@case("alibi")
def alibi():
    x = randn(1, 4, 3)
    got = run(lambda b, x: b.alibi(x, num_heads=6), x)
    slopes = np.array([2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8, 2 ** -1, 2 ** -3], np.float32)
    offset = np.arange(4)[None, :] - np.arange(4)[:, None]  # j - i
    close(got, slopes[None, :, None, None] * offset)
    got = run(lambda b, x: b.alibi(x, num_heads=4), x)
    close(got[0, :, 3, 0], np.array([2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8]) * -3)


# the table ------------------------------------------------------------------------------------

def test_every_declared_op_has_an_emitter():
    assert set(EMITTERS) == set(archir.OPS)


def test_every_op_is_compared_here_or_in_the_module_tests():
    tested_elsewhere = {"call", "choice", "resize"}  # test_backend_torch_module / _resize
    assert set(archir.OPS) - tested_elsewhere == COVERED


@pytest.mark.parametrize("name", sorted(CASES))
def test_op(name: str):
    CASES[name]()
