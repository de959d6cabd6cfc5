"""The table from op name to emitter; every declared op has one (a test checks ``OPS``)."""

from __future__ import annotations

from archir.backends.torch import (
    emit_attention,
    emit_conv,
    emit_data,
    emit_elementwise,
    emit_norm,
    emit_pool,
    emit_structure,
)
from archir.backends.torch.context import Emitter

EMITTERS: dict[str, Emitter] = {}
for _family in (emit_conv, emit_elementwise, emit_norm, emit_pool, emit_data, emit_attention,
                emit_structure):
    _overlap = set(EMITTERS) & set(_family.EMITTERS)
    if _overlap:
        raise RuntimeError(f"ops with two emitters: {sorted(_overlap)}")
    EMITTERS.update(_family.EMITTERS)
