"""A decoder-only transformer space: depth, width (d_model), heads and kv-heads (MHA, GQA, MQA),
local attention window and positional encoding (RoPE, ALiBi or learned).

Design. Width changes the type of every value, so ``$d_model`` is a choice over whole body
cells ``@body.d128|...``, and every choice inside a body carries the width as ``variant``.
- ``$layers`` picks a depth cell (``@layers4`` + ``.d256``) calling the layer cell N times;
- ``$attention`` picks a (heads, kv-heads) cell: the k/v projection widths follow both, so
  the pair is one IR decision (the space exposes ``heads`` and ``kv_heads`` separately);
- ``$position`` is picked at two sites with different variants: ``@learned.embed…`` adds a
  learned ``parameter`` to the embeddings (the others pass them through), and inside
  attention ``@rope…`` applies ``rotary`` to q and k, ``@alibi…`` feeds an ``alibi`` bias to
  attention, ``@learned…`` calls attention plainly;
- ``$window`` is the attention op's ``window`` attribute (0: full causal attention).

A layer is pre-norm: x + Wo·attn(RMSNorm(x)), then x + MLP(RMSNorm(x)) with a GELU MLP of
4·d_model; token embedding in, RMSNorm and an untied LM head out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archir.builder import GraphBuilder
from archir.frontends.spaces.build import SpaceBuilder
from archir.frontends.spaces.space import Decision, Space
from archir.ir import Value
from archir.types import DType, SymbolRef, TensorType

POSITIONS = ("rope", "alibi", "learned")


class TransformerSpace(Space):
    name = "decoder-transformer"

    def __init__(self, *, vocab: int = 1000, seq_len: int = 64, widths=(128, 192, 256), layers=(2, 4, 6),
                 heads=(4, 8), kv_heads=(1, 2, 4), windows=(0, 16, 32), mlp_ratio: int = 4):
        bad = [(h, kv) for h in heads for kv in kv_heads if h % kv]
        bad += [(d, h) for d in widths for h in heads if d % h or (d // h) % 2]
        if bad:
            raise ValueError(f"kv_heads must divide heads and heads must split each width into even "
                             f"head dims; these do not: {bad}")
        self.head_kv = [(h, kv) for h in heads for kv in kv_heads]
        sb = SpaceBuilder()
        attention = sb.param("attention", sb.cells([f"h{h}.kv{kv}" for h, kv in self.head_kv]))
        position = sb.param("position", sb.cells(POSITIONS))
        window = sb.param("window", windows)
        depth = sb.param("layers", sb.cells([f"layers{n}" for n in layers]))

        def scores(kind: str, h: int, kv: int):
            def body(b: GraphBuilder, q: Value, k: Value, v: Value) -> Value:
                bias = []
                if kind == "rope":
                    q, k = b.rotary(q, num_heads=h), b.rotary(k, num_heads=kv)
                elif kind == "alibi":
                    bias = [b.alibi(q, num_heads=h)]
                return b.attention(q, k, v, *bias, num_heads=h, num_kv_heads=kv, window=window, causal=True)

            return body

        def attention_cell(b: GraphBuilder, x: Value, d: int, h: int, kv: int) -> Value:
            hd = d // h
            q = b.linear(x, out_features=d, bias=False, name="q")
            k = b.linear(x, out_features=kv * hd, bias=False, name="k")
            v = b.linear(x, out_features=kv * hd, bias=False, name="v")
            variant = f".h{h}.kv{kv}.d{d}"
            for kind in POSITIONS:
                sb.cell(kind + variant, [q.type, k.type, v.type], scores(kind, h, kv))
            o = b.choice(q, k, v, of=position, variant=variant, name="attn")
            return b.linear(o, out_features=d, bias=False, name="o")

        def layer(b: GraphBuilder, x: Value) -> Value:
            d = x.type.shape[-1]
            for h, kv in self.head_kv:
                sb.cell(f"h{h}.kv{kv}.d{d}", [x.type],
                        lambda bb, v, h=h, kv=kv: attention_cell(bb, v, d, h, kv))
            x = b.add(x, b.choice(b.rms_norm(x), of=attention, variant=f".d{d}", name="attention"))
            m = b.linear(b.rms_norm(x), out_features=mlp_ratio * d, name="mlp.up")
            m = b.linear(b.gelu(m), out_features=d, name="mlp.down")
            return b.add(x, m, name="residual")

        def embed_cell(kind: str, d: int):
            def body(b: GraphBuilder, x: Value) -> Value:
                if kind != "learned":
                    return x
                return b.add(x, b.parameter(shape=[1, seq_len, d], name="pos_embedding"))

            return body

        def body_cell(b: GraphBuilder, tokens: Value, d: int) -> Value:
            x = b.embedding(tokens, num_embeddings=vocab, embedding_dim=d, name="embed")
            for kind in POSITIONS:
                sb.cell(f"{kind}.embed.d{d}", [x.type], embed_cell(kind, d))
            x = b.choice(x, of=position, variant=f".embed.d{d}", name="positions")
            layer_cell = sb.cell(f"layer.d{d}", [x.type], layer)
            for n in layers:
                sb.cell(f"layers{n}.d{d}", [x.type], lambda bb, v, n=n: _repeat(bb, v, layer_cell, n))
            x = b.choice(x, of=depth, variant=f".d{d}", name="layers")
            return b.linear(b.rms_norm(x), out_features=vocab, bias=False, name="lm_head")

        tokens_t = TensorType(DType.I64, ("N", seq_len))
        for d in widths:
            sb.cell(f"body.d{d}", [tokens_t], lambda b, t, d=d: body_cell(b, t, d))
        width = sb.param("d_model", sb.cells([f"body.d{d}" for d in widths]))
        module = sb.main([("tokens", tokens_t)], lambda b, t: b.choice(t, of=width, name="logits"))
        # the IR's "attention" pairs (heads, kv_heads); the space shows them as two decisions
        order = ("d_model", "layers", "attention", "position", "window")
        module.params = {k: module.params[k] for k in order}
        super().__init__(module, (
            Decision("d_model", tuple(widths), "width"), Decision("layers", tuple(layers), "depth"),
            Decision("heads", tuple(heads), "heads"), Decision("kv_heads", tuple(kv_heads), "heads"),
            Decision("position", POSITIONS, "position"), Decision("window", tuple(windows), "window")))

    def ir_assignment(self, assignment: Mapping[str, Any]) -> dict[str, Any]:
        self.check(assignment)
        out = {}
        for name, param in self.module.params.items():
            if name == "attention":
                index = self.head_kv.index((assignment["heads"], assignment["kv_heads"]))
            else:
                index = self.by_name[name].domain.index(assignment[name])
            out[name] = param.domain[index]
        return out


def _repeat(b: GraphBuilder, x: Value, cell: str, n: int) -> Value:
    for i in range(n):
        x = b.call(x, callee=SymbolRef(cell), name=f"layer{i}")
    return x

