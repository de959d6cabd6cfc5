"""The PyTorch frontend recognises attention and rotary embeddings.

GPT-style decoder blocks written in plain PyTorch (SDPA and hand-written softmax(q·kᵀ)·v; MHA,
GQA, MQA, sliding windows, RoPE) must lower to one ``attention`` op with the right attributes,
leave no softmax or matmul behind, and compute what the original computes.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import archir

torch.manual_seed(0)


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Decoder(nn.Module):
    """One pre-norm decoder block with a causal (optionally windowed) self-attention.

    style: "sdpa" (F.scaled_dot_product_attention) or "manual" (q·kᵀ, mask, softmax, ·v).
    repeat: how kv heads are shared: "interleave" (repeat_interleave), "expand" (Llama's
    repeat_kv), "native" (SDPA's enable_gqa) or "broadcast" (one kv head broadcast by matmul).
    """

    def __init__(self, dim: int = 64, heads: int = 4, kv_heads: int = 4, seq: int = 16,
                 window: int = 0, rope: bool = False, style: str = "sdpa",
                 repeat: str = "interleave", base: float = 10000.0):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, dim // heads
        self.window, self.rope, self.style, self.repeat = window, rope, style, repeat
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, kv_heads * self.head_dim)
        self.v = nn.Linear(dim, kv_heads * self.head_dim)
        self.o = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        i = torch.arange(seq)[:, None]
        j = torch.arange(seq)[None, :]
        allowed = j <= i
        if window:
            allowed &= i - j < window
        self.register_buffer("allowed", allowed)
        inv_freq = 1.0 / (base ** (torch.arange(0, self.head_dim, 2).float() / self.head_dim))
        angles = torch.outer(torch.arange(seq).float(), inv_freq)
        emb = torch.cat((angles, angles), dim=-1)
        self.register_buffer("cos", emb.cos()[None, None])
        self.register_buffer("sin", emb.sin()[None, None])

    def share(self, x: torch.Tensor) -> torch.Tensor:
        n = self.heads // self.kv_heads
        if n == 1 or self.repeat in ("native", "broadcast"):
            return x
        if self.repeat == "interleave":
            return x.repeat_interleave(n, dim=1)
        b, h, s, d = x.shape
        return x[:, :, None, :, :].expand(b, h, n, s, d).reshape(b, h * n, s, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, c = x.shape
        h = self.ln1(x)
        q = self.q(h).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = self.k(h).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v(h).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        if self.rope:
            cos, sin = self.cos[:, :, :s], self.sin[:, :, :s]
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        k, v = self.share(k), self.share(v)
        if self.style == "sdpa":
            mask = self.allowed[:s, :s] if self.window else None
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=not self.window,
                                               enable_gqa=self.repeat == "native")
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
            att = att.masked_fill(~self.allowed[:s, :s], float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        y = y.transpose(1, 2).contiguous().view(b, s, c)
        x = x + self.o(y)
        return x + self.mlp(self.ln2(x))


def lower(model: nn.Module, *inputs: torch.Tensor) -> archir.Module:
    module = archir.from_torch(model.eval(), inputs)
    archir.verify(module)
    assert archir.structurally_equal(archir.parse(archir.to_text(module)), module)
    return module


def ops_of(module: archir.Module, kind: str) -> list[archir.Operation]:
    return [op for _, op in module.walk() if op.name == kind]


def assert_same(model: nn.Module, module: archir.Module, *inputs: torch.Tensor) -> None:
    with torch.no_grad():
        expected = model(*inputs)
        got = archir.to_torch(module)(*inputs)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


VARIANTS = {
    # name: (constructor kwargs, expected num_kv_heads, causal, window)
    "mha-sdpa": (dict(), 4, True, 0),
    "mha-manual": (dict(style="manual"), 4, True, 0),
    "gqa-sdpa-interleave": (dict(heads=8, kv_heads=2), 2, True, 0),
    "gqa-sdpa-native": (dict(heads=8, kv_heads=2, repeat="native"), 2, True, 0),
    "gqa-manual-expand": (dict(heads=8, kv_heads=2, style="manual", repeat="expand"), 2, True, 0),
    "mqa-sdpa": (dict(heads=8, kv_heads=1), 1, True, 0),
    "mqa-manual-broadcast": (dict(heads=8, kv_heads=1, style="manual", repeat="broadcast"), 1, True, 0),
    "window-sdpa": (dict(window=4), 4, True, 4),
    "window-manual": (dict(window=5, style="manual"), 4, True, 5),
    "rope-sdpa": (dict(rope=True), 4, True, 0),
    "rope-gqa-manual": (dict(rope=True, heads=8, kv_heads=4, style="manual", repeat="expand"), 4, True, 0),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_decoder_block_lowers_to_one_attention_op(name):
    kwargs, kv_heads, causal, window = VARIANTS[name]
    model = Decoder(**kwargs)
    x = torch.randn(2, 16, 64)
    module = lower(model, x)
    (att,) = ops_of(module, "attention")
    assert att.attrs["num_heads"] == model.heads
    assert att.attrs["num_kv_heads"] == kv_heads
    assert att.attrs["causal"] is causal
    assert att.attrs["window"] == window
    assert att.attrs["scale"] == 0.0  # 1/sqrt(head_dim), the default
    assert len(att.operands) == 3  # the mask became attributes, no bias operand
    # heads packed: q, k, v are the projections themselves (rotated with RoPE), with no
    # repeat, reshape or transpose in between
    projection = "rotary" if model.rope else "linear"
    assert [v.owner.name for v in att.operands] == [projection, projection, "linear"]
    kinds = Counter(op.name for _, op in module.walk())
    assert kinds["softmax"] == kinds["matmul"] == kinds["transpose"] == 0, kinds
    assert len(ops_of(module, "rotary")) == (2 if model.rope else 0)
    assert_same(model, module, x)


def test_rotary_attributes_and_packing():
    model = Decoder(rope=True, heads=4, base=500.0)
    x = torch.randn(1, 16, 64)
    module = lower(model, x)
    rotaries = ops_of(module, "rotary")
    assert len(rotaries) == 2
    for op in rotaries:
        assert op.attrs["num_heads"] == 4
        assert op.attrs["base"] == 500.0
        assert op.attrs["interleaved"] is False
        assert op.operands[0].owner.name == "linear"  # applied to the packed projection
    (att,) = ops_of(module, "attention")
    assert {v.owner.name for v in att.operands[:2]} == {"rotary"}
    assert_same(model, module, x)


def test_rope_with_offset_positions_is_left_as_written():
    """Tables for positions 3..S+2 are not the rotary op's (which starts at 0)."""

    class Offset(Decoder):
        def __init__(self):
            super().__init__(rope=True, seq=32)

        def forward(self, x):
            s = x.shape[1]
            q = self.q(x).view(1, s, 4, 16).transpose(1, 2)
            cos, sin = self.cos[:, :, 3:s + 3], self.sin[:, :, 3:s + 3]
            return q * cos + rotate_half(q) * sin

    model = Offset()
    x = torch.randn(1, 8, 64)
    module = lower(model, x)
    assert not ops_of(module, "rotary")
    assert_same(model, module, x)


def test_arbitrary_mask_stays_a_bias_operand():
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("keep", torch.rand(8, 8) > 0.3)
            self.keep[:, 0] = True

        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=self.keep)

    model = Masked()
    q, k, v = (torch.randn(2, 4, 8, 16) for _ in range(3))
    module = lower(model, q, k, v)
    (att,) = ops_of(module, "attention")
    assert len(att.operands) == 4
    assert not att.attrs["causal"] and att.attrs["window"] == 0
    assert_same(model, module, q, k, v)


def test_custom_scale_and_symmetric_window():
    class Local(nn.Module):
        def __init__(self):
            super().__init__()
            i = torch.arange(12)
            self.register_buffer("bias", torch.where((i[:, None] - i[None]).abs() < 3, 0.0, float("-inf")))

        def forward(self, q, k, v):
            att = torch.einsum("bhsd,bhtd->bhst", q, k) / 2.0 + self.bias
            return torch.einsum("bhst,bhtd->bhsd", att.softmax(-1), v)

    model = Local()
    q, k, v = (torch.randn(1, 2, 12, 8) for _ in range(3))
    module = lower(model, q, k, v)
    (att,) = ops_of(module, "attention")
    assert att.attrs["scale"] == 0.5
    assert att.attrs["window"] == 3 and not att.attrs["causal"]
    assert len(att.operands) == 3
    assert_same(model, module, q, k, v)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_module(batch_first, need_weights):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(64, 8, batch_first=batch_first)

        def forward(self, x):
            y, _ = self.attn(x, x, x, need_weights=need_weights)
            return y

    model = Block()
    x = torch.randn(3, 10, 64)
    module = lower(model, x)
    (att,) = ops_of(module, "attention")
    assert att.attrs["num_heads"] == att.attrs["num_kv_heads"] == 8
    assert not ops_of(module, "softmax")
    assert_same(model, module, x)


def test_vit_b_16_attention():
    import torchvision

    model = torchvision.models.vit_b_16().eval()
    x = torch.randn(1, 3, 224, 224)
    module = lower(model, x)
    atts = ops_of(module, "attention")
    assert len(atts) == 12
    for att in atts:
        assert att.attrs == {"num_heads": 12, "num_kv_heads": 12, "window": 0, "causal": False,
                             "scale": 0.0}
        assert att.result.type.shape == (1, 197, 768)
    assert not ops_of(module, "softmax")


def test_swin_t_attention():
    import torchvision

    model = torchvision.models.swin_t().eval()
    x = torch.randn(1, 3, 224, 224)
    module = lower(model, x)
    atts = ops_of(module, "attention")
    assert [a.attrs["num_heads"] for a in atts] == [3] * 2 + [6] * 2 + [12] * 6 + [24] * 2
    for att in atts:
        assert att.attrs["num_kv_heads"] == att.attrs["num_heads"]
        assert att.result.type.shape[1] == 49  # 7x7 windows
        # relative position bias (and, for shifted windows, the window mask) as one operand:
        # the learned table stays a trainable parameter, gathered by its index buffer
        assert len(att.operands) == 4
        (table, index), = [g.operands for g in _producers(att.operands[3]) if g.name == "gather"]
        assert table.owner.name == "parameter" and table.owner.attrs.get("trainable", True)
        assert table.type.shape == (169, att.attrs["num_heads"])
        assert index.owner.attrs["trainable"] is False and index.type.dtype == archir.DType.I64
    # shifted blocks carry per-window masks; unshifted ones only the per-head bias
    assert atts[0].operands[3].type.shape == (1, 3, 49, 49)
    assert atts[1].operands[3].type.shape == (64, 3, 49, 49)
    stored = [op.attrs.get("trainable", True) for op in _producers(atts[1].operands[3])
              if op.name == "parameter" and op.result.type.dtype == archir.DType.F32]
    assert sorted(stored) == [False, True]  # the window mask, and the table
    assert not ops_of(module, "softmax")
    assert archir.cost(module).params == sum(p.numel() for p in model.parameters())
    assert_same(model, module, x)


def _producers(v) -> list:
    """The ops that v is computed from, v's own first."""
    seen, todo, out = set(), [v], []
    while todo:
        v = todo.pop()
        if v.owner is None or id(v.owner) in seen:
            continue
        seen.add(id(v.owner))
        out.append(v.owner)
        todo.extend(v.owner.operands)
    return out
