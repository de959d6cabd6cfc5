"""pad and resize."""

from __future__ import annotations

from archir.backends.onnx.context import Emitter
from archir.backends.onnx.registry import emitter
from archir.ir import Operation


@emitter("pad")
def pad(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    a = op.attrs
    inputs = [ins[0], em.ints(a["pads"])]
    if a["mode"] == "constant":
        inputs.append(em.scalar(a["value"], op.operands[0].type))
    return em.node("Pad", inputs, em.outs(op), mode=a["mode"])


@emitter("resize")
def resize(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    a = op.attrs
    x = op.operands[0].type
    sizes, _ = em.shape(a["size"])
    attrs = {"mode": a["mode"], "coordinate_transformation_mode": a["coordinates"],
             "axes": list(range(2, x.rank))}
    if a["mode"] == "nearest":
        attrs["nearest_mode"] = "floor"
    if a["mode"] == "cubic":
        attrs["cubic_coeff_a"] = -0.75
    return em.node("Resize", [ins[0], "", "", sizes], em.outs(op), **attrs)
