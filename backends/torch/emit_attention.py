"""Emitters for attention and positional encodings (implemented by runtime helpers)."""

from __future__ import annotations

from archir.backends.torch.context import Emit, Emitter, literal


def _kwargs(e: Emit, *names: str) -> str:
    """Attributes as keywords, the declared defaults left out."""
    decls = e.op.opdef.attrs
    return ", ".join(f"{k}={literal(e[k])}" for k in names
                     if decls[k].required or e[k] != decls[k].default or k == "num_kv_heads")


EMITTERS: dict[str, Emitter] = {
    "attention": lambda e: f"{e.helper('attention')}({', '.join(e.args)}, "
                           f"{_kwargs(e, 'num_heads', 'num_kv_heads', 'window', 'causal', 'scale')})",
    "rotary": lambda e: f"{e.helper('rotary')}({e.x}, {_kwargs(e, 'num_heads', 'base', 'interleaved')})",
    "alibi": lambda e: f"{e.helper('alibi')}({e.x}, {_kwargs(e, 'num_heads')})",
}
