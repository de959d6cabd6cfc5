"""Convolutions."""

from __future__ import annotations

from archir.backends.onnx.context import Emitter
from archir.backends.onnx.registry import emitter
from archir.ir import Operation
from archir.ops._shapes import pads_of


def window(op: Operation) -> dict:
    a = op.attrs
    dilation = a.get("dilation", (1,) * len(a["kernel"]))
    return {"kernel_shape": list(a["kernel"]), "strides": list(a["stride"]),
            "pads": list(pads_of(a["padding"], a["kernel"], dilation)), "dilations": list(dilation)}


@emitter("conv1d", "conv2d")
def conv(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    inputs = [ins[0], em.weight(op, "weight")] + ([em.weight(op, "bias")] if op.attrs["bias"] else [])
    return em.node("Conv", inputs, em.outs(op), group=op.attrs["groups"], **window(op))


@emitter("conv_transpose2d")
def conv_transpose(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    inputs = [ins[0], em.weight(op, "weight")] + ([em.weight(op, "bias")] if op.attrs["bias"] else [])
    return em.node("ConvTranspose", inputs, em.outs(op), group=op.attrs["groups"],
                   output_padding=list(op.attrs["output_padding"]), **window(op))
