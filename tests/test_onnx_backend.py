"""IR → ONNX emitters, one small module per case built with GraphBuilder: the emitted model
passes the full checker, and onnxruntime computes what a PyTorch reference written from
the op declarations computes (and, where archir.to_torch exists, what it computes)."""

from __future__ import annotations

import math

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from onnx_check import ATOL, RTOL, run

import archir
from archir import GraphBuilder, Module, TensorType
from archir.backends.onnx.context import EmitError
from archir.backends.onnx.registry import covered

R = np.random.default_rng(0)


def rnd(*shape, scale=0.5, positive=False):
    a = R.standard_normal(shape) * scale
    return (np.abs(a) + 0.5 if positive else a).astype(np.float32)


def T(a):
    return torch.from_numpy(np.asarray(a))


def f32(*shape):
    return TensorType("f32", shape)


IMG = f32(2, 4, 7, 9)
SEQ = f32(2, 5, 16)


def conv_cases():
    def conv(b, x):
        wt, bias = rnd(6, 2, 3, 3), rnd(6)
        y = b.conv2d(x, out_channels=6, kernel=3, stride=2, padding=(1, 0, 2, 1), groups=2,
                     dilation=(1, 2), weights={"weight": wt, "bias": bias})
        return [y], lambda x: [F.conv2d(F.pad(x, (0, 1, 1, 2)), T(wt), T(bias), stride=2, groups=2,
                                        dilation=(1, 2))]

    def conv_same(b, x):
        wt = rnd(5, 4, 4, 3)
        y = b.conv2d(x, out_channels=5, kernel=(4, 3), padding="same", bias=False, weights={"weight": wt})
        return [y], lambda x: [F.conv2d(F.pad(x, (1, 1, 1, 2)), T(wt))]

    def conv1d(b, x):
        wt, bias = rnd(3, 5, 3), rnd(3)
        y = b.conv1d(x, out_channels=3, kernel=3, padding=2, dilation=2, weights={"weight": wt, "bias": bias})
        return [y], lambda x: [F.conv1d(x, T(wt), T(bias), padding=2, dilation=2)]

    def conv_transpose(b, x):
        wt, bias = rnd(4, 3, 3, 3), rnd(6)
        y = b.conv_transpose2d(x, out_channels=6, kernel=3, stride=2, padding=1, output_padding=1, groups=2,
                               weights={"weight": wt, "bias": bias})
        return [y], lambda x: [F.conv_transpose2d(x, T(wt), T(bias), stride=2, padding=1, output_padding=1,
                                                  groups=2)]

    return {"conv2d": ([IMG], conv), "conv2d_same": ([IMG], conv_same),
            "conv1d": ([f32(2, 5, 11)], conv1d), "conv_transpose2d": ([IMG], conv_transpose)}


def linear_cases():
    def linear2d(b, x):
        wt, bias = rnd(6, 16), rnd(6)
        return [b.linear(x, out_features=6, weights={"weight": wt, "bias": bias})], \
            lambda x: [F.linear(x, T(wt), T(bias))]

    def linear3d(b, x):
        wt = rnd(7, 16)
        y = b.linear(x, out_features=7, bias=False, weights={"weight": wt})
        return [y], lambda x: [F.linear(x, T(wt))]

    def linear3d_bias(b, x):
        wt, bias = rnd(7, 16), rnd(7)
        return [b.linear(x, out_features=7, weights={"weight": wt, "bias": bias})], \
            lambda x: [F.linear(x, T(wt), T(bias))]

    def matmul(b, x, y):
        return [b.matmul(x, y)], lambda x, y: [x @ y]

    def embedding(b, ids):
        table = rnd(10, 4)
        return [b.embedding(ids, num_embeddings=10, embedding_dim=4, weights={"weight": table})], \
            lambda ids: [F.embedding(ids.long(), T(table))]

    return {"linear_gemm": ([f32(3, 16)], linear2d), "linear_3d": ([SEQ], linear3d),
            "linear_3d_bias": ([SEQ], linear3d_bias),
            "matmul_broadcast": ([f32(2, 1, 3, 4), f32(5, 4, 6)], matmul),
            "embedding_i64": ([TensorType("i64", (2, 6))], embedding),
            "embedding_i32": ([TensorType("i32", (3,))], embedding)}


_TORCH_UNARY = {
    "relu": F.relu, "relu6": F.relu6, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "silu": F.silu,
    "hardswish": F.hardswish, "hardsigmoid": F.hardsigmoid, "mish": F.mish, "softplus": F.softplus,
    "exp": torch.exp, "log": lambda x: torch.log(x.abs() + 0.1), "sqrt": lambda x: torch.sqrt(x.abs()),
    "rsqrt": lambda x: torch.rsqrt(x.abs() + 0.1), "neg": torch.neg, "abs": torch.abs, "erf": torch.erf,
    "sin": torch.sin, "cos": torch.cos, "reciprocal": lambda x: 1 / (x.abs() + 0.5),
    "floor": torch.floor, "ceil": torch.ceil, "sign": torch.sign, "identity": lambda x: x,
    "dropout": lambda x: x,
}
# inputs kept in each function's domain
_DOMAIN = {"log": ("abs", 0.1), "sqrt": ("abs", 0.0), "rsqrt": ("abs", 0.1), "reciprocal": ("abs", 0.5)}


def unary_cases():
    cases = {}
    for name, fn in _TORCH_UNARY.items():
        def build(b, x, name=name, fn=fn):
            if name in _DOMAIN:
                x = b.add(b.abs(x), b.constant(value=_DOMAIN[name][1]))
            return [b.op(name, x)], lambda x: [fn(x)]
        cases[name] = ([f32(3, 4, 5)], build)

    def attrs(b, x):
        ys = [b.gelu(x), b.gelu(x, approximate="tanh"), b.leaky_relu(x, alpha=0.2), b.elu(x, alpha=0.5),
              b.clip(x, min=-0.3), b.clip(x, min=-0.2, max=0.4), b.cast(x, dtype="i64")]
        return ys, lambda x: [F.gelu(x), F.gelu(x, approximate="tanh"), F.leaky_relu(x, 0.2),
                              F.elu(x, 0.5), x.clamp(min=-0.3), x.clamp(-0.2, 0.4), x.long()]

    def prelu(b, x):
        one, per = np.array([0.3], np.float32), rnd(4)
        ys = [b.prelu(x, weights={"weight": one}), b.prelu(x, num_parameters=4, weights={"weight": per})]
        return ys, lambda x: [F.prelu(x, T(one)), F.prelu(x, T(per))]

    cases.update({"unary_attrs": ([f32(3, 4, 5)], attrs), "prelu": ([IMG], prelu)})
    return cases


def binary_cases():
    def arith(b, x, y):
        ys = [b.add(x, y), b.sub(x, y), b.mul(x, y), b.div(x, y), b.maximum(x, y), b.minimum(x, y),
              b.pow(b.abs(x), y), b.equal(x, x), b.less(x, y), b.greater(x, y),
              b.where(b.greater(x, y), x, y)]
        return ys, lambda x, y: [x + y, x - y, x * y, x / y, torch.maximum(x, y), torch.minimum(x, y),
                                 x.abs() ** y, x == x, x < y, x > y, torch.where(x > y, x, y)]

    def int_div(b, x, y):
        return [b.div(x, y)], lambda x, y: [torch.div(x, y, rounding_mode="floor")]

    def softmax(b, x):
        return [b.softmax(x, axis=1), b.log_softmax(x)], lambda x: [F.softmax(x, 1), F.log_softmax(x, -1)]

    def reduce(b, x):
        ys = [b.reduce_mean(x, axes=(1, -1), keepdims=True), b.reduce_sum(x, axes=(0,)), b.reduce_max(x),
              b.reduce_min(x, axes=(2,)), b.reduce_prod(x, axes=(-1,), keepdims=True),
              b.argmax(x, axis=1), b.argmax(x, keepdims=True)]
        return ys, lambda x: [x.mean((1, -1), keepdim=True), x.sum(0), x.amax(), x.amin(2),
                              x.prod(-1, keepdim=True), x.argmax(1), x.argmax(-1, keepdim=True)]

    return {"binary": ([f32(3, 1, 5), f32(4, 1)], arith),
            "div_integer_floors": ([TensorType("i64", (4, 5)), TensorType("i64", (5,))], int_div),
            "softmax": ([f32(2, 3, 4)], softmax), "reduce": ([f32(2, 3, 4)], reduce)}


def norm_cases():
    def batch_norm(b, x):
        p = {"weight": rnd(4), "bias": rnd(4), "running_mean": rnd(4), "running_var": rnd(4, positive=True)}
        return [b.batch_norm(x, eps=1e-3, weights=p)], lambda x: [F.batch_norm(
            x, T(p["running_mean"]), T(p["running_var"]), T(p["weight"]), T(p["bias"]), eps=1e-3)]

    def layer_norm(b, x):
        w, bias, w2 = rnd(7, 9), rnd(7, 9), rnd(9)
        ys = [b.layer_norm(x, axis=-2, weights={"weight": w, "bias": bias}),
              b.layer_norm(x, bias=False, weights={"weight": w2}), b.layer_norm(x, affine=False, eps=0.1)]
        return ys, lambda x: [F.layer_norm(x, (7, 9), T(w), T(bias)), F.layer_norm(x, (9,), T(w2)),
                              F.layer_norm(x, (9,), eps=0.1)]

    def rms_norm(b, x):
        w = rnd(9)
        ys = [b.rms_norm(x, weights={"weight": w}), b.rms_norm(x, axis=-2, affine=False, eps=1e-2)]
        return ys, lambda x: [F.rms_norm(x, (9,), T(w), eps=1e-6), F.rms_norm(x, (7, 9), eps=1e-2)]

    def group_norm(b, x):
        w, bias = rnd(4), rnd(4)
        ys = [b.group_norm(x, groups=2, weights={"weight": w, "bias": bias}),
              b.group_norm(x, groups=4, affine=False)]
        return ys, lambda x: [F.group_norm(x, 2, T(w), T(bias)), F.group_norm(x, 4)]

    def instance_norm(b, x):
        w, bias = rnd(4), rnd(4)
        ys = [b.instance_norm(x, weights={"weight": w, "bias": bias}), b.instance_norm(x, affine=False)]
        return ys, lambda x: [F.instance_norm(x, weight=T(w), bias=T(bias)), F.instance_norm(x)]

    def lrn(b, x):
        ys = [b.lrn(x, size=3, alpha=0.1, beta=0.6, k=2.0), b.lrn(x, size=4, alpha=0.2)]
        return ys, lambda x: [F.local_response_norm(x, 3, 0.1, 0.6, 2.0), F.local_response_norm(x, 4, 0.2)]

    return {"batch_norm": ([IMG], batch_norm), "layer_norm": ([IMG], layer_norm),
            "rms_norm": ([IMG], rms_norm), "group_norm": ([IMG], group_norm),
            "instance_norm": ([IMG], instance_norm), "lrn_odd_and_even": ([IMG], lrn)}


def pool_cases():
    def pools(b, x):
        ys = [b.max_pool2d(x, kernel=3, stride=2, padding=(1, 0, 1, 1), dilation=1),
              b.max_pool2d(x, kernel=2, stride=2, ceil_mode=True),
              b.max_pool2d(x, kernel=2, dilation=2),
              b.avg_pool2d(x, kernel=3, stride=2, padding=1),
              b.avg_pool2d(x, kernel=3, stride=2, padding=1, count_include_pad=False),
              b.global_avg_pool(x), b.global_max_pool(x)]
        return ys, lambda x: [
            F.max_pool2d(F.pad(x, (0, 1, 1, 1), value=-math.inf), 3, 2),
            F.max_pool2d(x, 2, 2, ceil_mode=True), F.max_pool2d(x, 2, 1, dilation=2),
            F.avg_pool2d(x, 3, 2, 1), F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
            x.mean((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)]

    def adaptive(b, x):
        ys = [b.adaptive_avg_pool2d(x, output_size=(3, 4)), b.adaptive_max_pool2d(x, output_size=(5, 3)),
              b.adaptive_avg_pool2d(x, output_size=(7, 9)), b.adaptive_max_pool2d(x, output_size=(1, 1))]
        return ys, lambda x: [F.adaptive_avg_pool2d(x, (3, 4)), F.adaptive_max_pool2d(x, (5, 3)),
                              F.adaptive_avg_pool2d(x, (7, 9)), F.adaptive_max_pool2d(x, (1, 1))]

    return {"pools": ([IMG], pools), "adaptive_pools": ([IMG], adaptive)}


def data_cases():
    def pad(b, x):
        ys = [b.pad(x, pads=(0, 0, 1, 2, 0, 0, 2, 1), value=0.5),
              b.pad(x, pads=(0, 0, 2, 1, 0, 0, 1, 2), mode="reflect"),
              b.pad(x, pads=(0, 0, 1, 0, 0, 0, 0, 3), mode="edge"),
              b.pad(x, pads=(0, 0, -1, 1, 0, 0, 0, -2))]
        return ys, lambda x: [F.pad(x, (2, 1, 1, 2), value=0.5), F.pad(x, (1, 2, 2, 1), mode="reflect"),
                              F.pad(x, (0, 3, 1, 0), mode="replicate"), F.pad(x, (1, -2, -1, 0))]

    def resize(b, x):
        ys = [b.resize(x, size=(14, 27)), b.resize(x, size=(5, 6), mode="linear", coordinates="half_pixel"),
              b.resize(x, size=(10, 13), mode="cubic", coordinates="align_corners"),
              b.resize(x, size=(3, 20), mode="linear", coordinates="align_corners")]
        return ys, lambda x: [F.interpolate(x, (14, 27)),
                              F.interpolate(x, (5, 6), mode="bilinear", align_corners=False),
                              F.interpolate(x, (10, 13), mode="bicubic", align_corners=True),
                              F.interpolate(x, (3, 20), mode="bilinear", align_corners=True)]

    def movement(b, x):
        a = b.reshape(x, shape=(2, -1, 9))
        ys = [a, b.flatten(x, start=1, end=2), b.transpose(x, perm=(0, 3, 1, 2)),
              b.concat(x, b.relu(x), axis=1), *b.split(x, axis=3, sizes=(2, 7)),
              b.slice(x, axes=(3, 2), starts=(-1, 1), ends=(-10, 100), steps=(-2, 3)),
              b.squeeze(b.unsqueeze(x, axes=(0, 3)), axes=(0,)),
              b.expand(b.slice(x, axes=(1,), starts=(0,), ends=(1,)), shape=(3, 2, 6, 7, 9)),
              b.channel_shuffle(x, groups=2), b.roll(x, shifts=(2, -3), axes=(2, 3))]
        return ys, lambda x: [x.reshape(2, -1, 9), x.flatten(1, 2), x.permute(0, 3, 1, 2),
                              torch.cat([x, x.relu()], 1), *x.split([2, 7], 3),
                              torch.from_numpy(x.numpy()[:, :, 1:100:3, -1:-10:-2].copy()),
                              x.unsqueeze(2), x[:, :1].expand(3, 2, 6, 7, 9), F.channel_shuffle(x, 2),
                              x.roll((2, -3), (2, 3))]

    def gather(b, x):
        idx = np.array([[3, 0], [1, 3]], np.int64)
        i = b.parameter(shape=(2, 2), dtype="i64", weights={"value": idx})
        return [b.gather(x, i, axis=1), b.gather(x, b.constant(value=2.0, dtype="i64"), axis=-1)], \
            lambda x: [x[:, T(idx)], x[..., 2]]

    def constants(b, x):
        p = rnd(1, 7, 9)
        ys = [b.add(x, b.parameter(shape=(1, 7, 9), weights={"value": p})),
              b.constant(value=1.5, shape=(2, 3)), b.mul(x, b.constant(value=-2.0))]
        return ys, lambda x: [x + T(p), torch.full((2, 3), 1.5), x * -2]

    return {"pad": ([IMG], pad), "resize": ([IMG], resize), "data_movement": ([IMG], movement),
            "gather": ([IMG], gather), "constant_parameter": ([IMG], constants)}


def _torch_attention(q, k, v, bias, hq, hkv, window=0, causal=False, scale=0.0):
    """Written from the attention op's doc, independently of any emitter."""
    B, S, _ = q.shape
    T_ = k.shape[1]
    d = q.shape[2] // hq
    qh = q.reshape(B, S, hq, d).transpose(1, 2)
    kh = k.reshape(B, T_, hkv, d).transpose(1, 2).repeat_interleave(hq // hkv, 1)
    vh = v.reshape(B, T_, hkv, -1).transpose(1, 2).repeat_interleave(hq // hkv, 1)
    scores = qh @ kh.transpose(-1, -2) * (scale or 1 / math.sqrt(d))
    if bias is not None:
        scores = scores + bias
    i, j = torch.arange(S)[:, None], torch.arange(T_)[None, :]
    visible = torch.ones(S, T_, dtype=torch.bool)
    if window:
        visible &= (i - j).abs() < window
    if causal:
        visible &= j <= i
    scores = scores.masked_fill(~visible, -math.inf)
    return (scores.softmax(-1) @ vh).transpose(1, 2).reshape(B, S, -1)


def attention_cases():
    def mha_causal(b, q, k, v):
        return [b.attention(q, k, v, num_heads=4, num_kv_heads=4, causal=True)], \
            lambda q, k, v: [F.scaled_dot_product_attention(
                q.reshape(2, 5, 4, 4).transpose(1, 2), k.reshape(2, 5, 4, 4).transpose(1, 2),
                v.reshape(2, 5, 4, 4).transpose(1, 2), is_causal=True).transpose(1, 2).reshape(2, 5, 16)]

    def gqa_window(b, q, k, v):
        return [b.attention(q, k, v, num_heads=4, num_kv_heads=2, window=2, scale=0.3)], \
            lambda q, k, v: [_torch_attention(q, k, v, None, 4, 2, window=2, scale=0.3)]

    def mqa_bias_causal_window(b, q, k, v, bias):
        return [b.attention(q, k, v, bias, num_heads=4, num_kv_heads=1, causal=True, window=3)], \
            lambda q, k, v, bias: [_torch_attention(q, k, v, bias, 4, 1, window=3, causal=True)]

    def rotary(b, x):
        return [b.rotary(x, num_heads=2), b.rotary(x, num_heads=4, interleaved=True, base=100.0)], \
            lambda x: [_torch_rotary(x, 2, 10000.0, False), _torch_rotary(x, 4, 100.0, True)]

    def alibi(b, x):
        return [b.alibi(x, num_heads=8), b.alibi(x, num_heads=6)], \
            lambda x: [_torch_alibi(5, [2.0 ** -(i + 1) for i in range(8)]),
                       _torch_alibi(5, [2.0 ** -2, 2.0 ** -4, 2.0 ** -6, 2.0 ** -8, 2.0 ** -1, 2.0 ** -3])]

    kv = [SEQ, f32(2, 5, 8), f32(2, 5, 12)]
    return {"attention_mha_causal": ([SEQ, SEQ, SEQ], mha_causal),
            "attention_gqa_window": ([SEQ, *kv[1:]], gqa_window),
            "attention_mqa_bias": ([SEQ, f32(2, 5, 4), f32(2, 5, 4), f32(2, 4, 5, 5)],
                                   mqa_bias_causal_window),
            "rotary": ([SEQ], rotary), "alibi": ([SEQ], alibi)}


def _torch_rotary(x, heads, base, interleaved):
    B, S, W = x.shape
    d = W // heads
    angle = torch.arange(S, dtype=torch.float64)[:, None] * base ** (-torch.arange(0, d, 2) / d)
    cos, sin = angle.cos().float()[:, None, :], angle.sin().float()[:, None, :]
    xh = x.reshape(B, S, heads, d)
    a, c = (xh[..., 0::2], xh[..., 1::2]) if interleaved else (xh[..., : d // 2], xh[..., d // 2:])
    ra, rc = a * cos - c * sin, c * cos + a * sin
    out = torch.stack([ra, rc], -1).flatten(-2) if interleaved else torch.cat([ra, rc], -1)
    return out.reshape(B, S, W)


def _torch_alibi(S, slopes):
    distance = (torch.arange(S)[None, :] - torch.arange(S)[:, None]).float()
    return torch.tensor(slopes)[None, :, None, None] * distance


CASES = {**conv_cases(), **linear_cases(), **unary_cases(), **binary_cases(), **norm_cases(),
         **pool_cases(), **data_cases(), **attention_cases()}


def _inputs(types):
    out = []
    for t in types:
        if t.dtype.is_float:
            out.append(R.standard_normal(t.shape).astype(np.float32))
        elif t.dtype.value == "i64" and t.shape == (5,):  # divisors: nonzero, both signs
            out.append(np.array([3, -2, 4, -5, 7], np.int64))
        else:
            out.append(R.integers(-9 if t.shape == (4, 5) else 0, 10, t.shape).astype(t.dtype.value.replace(
                "i", "int")))
    return out


def _build(name):
    types, build = CASES[name]
    b = GraphBuilder("main")
    args = [b.arg(t, f"in{i}") for i, t in enumerate(types)]
    outs, ref = build(b, *args)
    b.ret(*outs)
    return Module([b.graph]), _inputs(types), ref


def _compare(got, expected, tol=1.0):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        e = e.numpy() if isinstance(e, torch.Tensor) else np.asarray(e)
        g = np.asarray(g)
        assert g.shape == e.shape, (g.shape, e.shape)
        if e.dtype == np.bool_ or np.issubdtype(e.dtype, np.integer):
            np.testing.assert_array_equal(g, e)
        else:
            np.testing.assert_allclose(g, e, rtol=RTOL * tol, atol=ATOL * tol)


@pytest.mark.parametrize("opset", [18, 23])
@pytest.mark.parametrize("name", list(CASES))
def test_emitter_matches_pytorch(name, opset):
    if opset != 18 and not name.startswith(("attention", "unary_attrs")):
        pytest.skip("only attention and gelu change with the opset")
    module, inputs, ref = _build(name)
    model = archir.to_onnx(module, opset=opset)
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == [f"in{i}" for i in range(len(inputs))]
    if opset >= 23 and name.startswith("attention"):
        assert any(n.op_type == "Attention" for n in model.graph.node)
    with torch.no_grad():
        expected = ref(*(T(x) for x in inputs))
    _compare(run(model, *inputs), expected, tol=10.0 if "cubic" in name or "attention" in name else 1.0)


@pytest.mark.parametrize("name", list(CASES))
def test_onnx_and_torch_backends_agree(name):
    module, inputs, _ = _build(name)
    got = run(archir.to_onnx(module), *inputs)
    with torch.no_grad():
        out = archir.to_torch(module)(*(T(x) for x in inputs))
    out = out if isinstance(out, tuple) else (out,)
    _compare(got, [o.numpy() for o in out], tol=10.0)


def test_every_declared_op_has_an_emitter_and_a_case():
    declared = set(archir.OPS) - {"call", "choice"}  # call is inlined, choice must be specialised
    assert declared <= covered()
    used = {op.name for name in CASES for _, op in _build(name)[0].walk()}
    assert declared - used == set()


def _cell_module(with_weights: bool) -> Module:
    module = Module([])
    cell = GraphBuilder("block", module)
    x = cell.arg(f32(1, 4, 6, 6), "x")
    w = {"weight": rnd(4, 4, 3, 3), "bias": rnd(4)} if with_weights else None
    cell.ret(cell.relu(cell.conv2d(x, out_channels=4, kernel=3, padding=1, weights=w, name="conv")))
    main = GraphBuilder("main", module)
    x = main.arg(f32(1, 4, 6, 6), "image")
    y = main.call(main.call(x, callee=archir.SymbolRef("block")), callee=archir.SymbolRef("block"))
    main.ret(y, x)
    module.graphs = {"main": main.graph, "block": cell.graph}
    archir.verify(module)
    return module


def test_cells_are_inlined_and_share_weights():
    module = _cell_module(with_weights=True)
    model = archir.to_onnx(module)
    assert [n.op_type for n in model.graph.node].count("Conv") == 2
    assert len({n.input[1] for n in model.graph.node if n.op_type == "Conv"}) == 1
    x = rnd(1, 4, 6, 6)
    w = module.graphs["block"].ops[0].weights
    step = lambda t: F.relu(F.conv2d(t, T(w["weight"]), T(w["bias"]), padding=1))  # noqa: E731
    y, same = run(model, x)
    np.testing.assert_allclose(y, step(step(T(x))).numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(same, x)  # an input returned as an output gets its own name


def test_weightless_modules_get_deterministic_runnable_weights():
    text = archir.to_text(_cell_module(with_weights=True))
    module = archir.parse(text)  # text carries no weights
    first, second = archir.to_onnx(module), archir.to_onnx(archir.parse(text))
    assert first.SerializeToString() == second.SerializeToString()
    y = run(first, rnd(1, 4, 6, 6))[0]
    assert np.isfinite(y).all() and y.std() > 0


def test_symbolic_dims_become_dim_params():
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", ("N", 3, 8, 8)), "x")
    tokens = b.arg(TensorType("f32", ("N", "S", 16)), "tokens")
    pooled = b.flatten(b.global_avg_pool(b.conv2d(x, out_channels=4, kernel=3, padding=1)), start=1)
    att = b.attention(b.rotary(tokens, num_heads=4), tokens, tokens, b.alibi(tokens, num_heads=4),
                      num_heads=4, num_kv_heads=2 * 0 + 4, causal=True, window=3)
    b.ret(b.reshape(pooled, shape=("N", 2, 2)), att)
    model = archir.to_onnx(Module([b.graph]))
    dims = [d.dim_param or d.dim_value for d in model.graph.input[1].type.tensor_type.shape.dim]
    assert dims == ["N", "S", 16]
    for n, s in ((1, 3), (3, 6)):
        a, c = run(model, rnd(n, 3, 8, 8), rnd(n, s, 16))
        assert a.shape == (n, 2, 2) and c.shape == (n, s, 16)


def test_search_spaces_must_be_specialised_first():
    space = archir.parse(
        "param $op = [@a, @b]\n"
        "graph @main(%x: f32[1, 4]) -> (f32[1, 4]) {\n"
        "  %y = choice(%x) {of = $op} : f32[1, 4]\n  return %y\n}\n"
        "graph @a(%x: f32[1, 4]) -> (f32[1, 4]) {\n  %y = relu(%x) : f32[1, 4]\n  return %y\n}\n"
        "graph @b(%x: f32[1, 4]) -> (f32[1, 4]) {\n  %y = tanh(%x) : f32[1, 4]\n  return %y\n}\n")
    with pytest.raises(EmitError, match="specialize"):
        archir.to_onnx(space)
    model = archir.to_onnx(archir.specialize(space, {"op": "b"}))
    assert [n.op_type for n in model.graph.node] == ["Tanh"]


def test_unsupported_opset_is_refused():
    with pytest.raises(EmitError, match="opset 12"):
        archir.to_onnx(_cell_module(True), opset=12)
