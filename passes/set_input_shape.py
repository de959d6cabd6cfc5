"""``set-input-shape{shape=[1,3,160,160],index=0}``: give an input a new shape, re-infer types.

Changing resolution or batch is only sound when no learned weight changes shape: a
``flatten`` + ``linear`` head, for instance, infers its in_features from the input, so at a
new resolution inference would silently build a different (untrained) classifier. The pass
therefore compares every op's declared parameter shapes before and after re-inference and
refuses, naming each op whose weights would change. Ops whose attributes hard-code a shape
(a ``reshape`` to [N, 25088]) fail inference and are named the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from archir.errors import VerifyError
from archir.ir import Module, Operation
from archir.opdef import InferError
from archir.passes.base import Pass, PassContext, PassError, register
from archir.passes.naming import describe, op_names
from archir.specialize import infer_types
from archir.types import TensorType
from archir.verifier import resolved_attrs


def _param_shapes(op: Operation, module: Module) -> dict[str, tuple] | None:
    try:
        return {k: tuple(s) for k, s in op.opdef.params(tuple(v.type for v in op.operands),
                                                         resolved_attrs(op, module)).items()}
    except InferError:
        return None


def _fmt(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def retype_inputs(module: Module, new_types: Mapping[int, TensorType], who: str) -> bool:
    """Give main's inputs ``new_types`` (by index) and re-infer every type in place.

    Raises ``PassError`` (prefixed with ``who``) when an op no longer fits or when a learned
    weight would change shape. Returns whether any type changed.
    """
    g = module.main
    changes = ", ".join(f"input {i} {g.args[i].type} -> {t}" for i, t in new_types.items())
    weighted = [op for _, op in module.walk() if op.opdef.params is not None]
    before = {op: _param_shapes(op, module) for op in weighted}
    changed = any(g.args[i].type != t for i, t in new_types.items())
    for i, t in new_types.items():
        g.args[i].type = t
    try:
        infer_types(module)
    except VerifyError as e:
        raise PassError(f"{who}: {changes} does not fit the graph: {e.message}") from None
    names = op_names(module)
    problems = []
    for op in weighted:
        after = _param_shapes(op, module)
        if after != before[op]:
            diffs = [f"{k} {_fmt(before[op].get(k, ()))} -> {_fmt(s)}"
                     for k, s in (after or {}).items() if before[op] and before[op].get(k) != s]
            problems.append(f"  {describe(op, names)}: {', '.join(diffs) or 'weights change'}")
    if problems:
        hint = ""
        if any(op.name == "linear" for op in weighted if _param_shapes(op, module) != before[op]):
            hint = ("\n  (a linear layer's in_features follows its input: a flatten + linear head "
                    "fixes the resolution; pool globally before the classifier to free it)")
        raise PassError(f"{who}: {changes} would change the learned weights of {len(problems)} "
                        f"op{'s' if len(problems) > 1 else ''}:\n" + "\n".join(problems) + hint)
    return changed


@register
@dataclass(frozen=True)
class SetInputShape(Pass):
    name = "set-input-shape"
    summary = "change an input's shape (resolution, batch) and re-infer every type"

    shape: tuple[int, ...]
    index: int = 0  # which input of @main; -1 in shape keeps that dim (a symbolic batch N)

    def __post_init__(self) -> None:
        if not self.shape:
            raise ValueError("option 'shape' must not be empty")
        if any(d < 1 and d != -1 for d in self.shape):
            raise ValueError(f"option 'shape': dims must be >= 1 (or -1 to keep one), got {list(self.shape)}")
        if self.index < 0:
            raise ValueError(f"option 'index' must be >= 0, got {self.index}")

    def run(self, module: Module, ctx: PassContext) -> bool:
        g = module.main
        if self.index >= len(g.args):
            raise PassError(f"{self}: @{g.name} has {len(g.args)} input(s), no input {self.index}")
        old = g.args[self.index].type
        if len(self.shape) != old.rank:
            raise PassError(f"{self}: input {self.index} is {old} (rank {old.rank}); "
                            f"the new shape has rank {len(self.shape)}")
        new = old.with_shape([o if s == -1 else s for o, s in zip(old.shape, self.shape)])
        if new == old:
            return False
        return retype_inputs(module, {self.index: new}, str(self))
