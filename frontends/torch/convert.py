"""The node-by-node walk: constants evaluated eagerly, everything else converted."""

from __future__ import annotations

from typing import Any

import torch
from torch import fx
from torch.export import ExportedProgram
from torch.export.graph_signature import OutputKind

from archir.frontends.errors import FrontendError
from archir.frontends.torch.context import Lowering
from archir.frontends.torch.nodes import bind, fake, is_inplace, op_name
from archir.frontends.torch.table import lookup
from archir.ir import Value


def _weight_values(ep: ExportedProgram) -> dict[str, torch.Tensor]:
    values: dict[str, torch.Tensor] = {}
    for spec in ep.graph_signature.input_specs:
        if spec.target is None:
            continue
        if spec.target in ep.state_dict:
            values[spec.arg.name] = ep.state_dict[spec.target]
        elif spec.target in ep.constants:
            values[spec.arg.name] = ep.constants[spec.target]
    return values


def convert_program(ep: ExportedProgram, cx: Lowering) -> None:
    """Fill ``cx``'s builder with the program's graph (the scan has passed)."""
    graph = ep.graph
    stored = _weight_values(ep)
    b = cx.em.builder
    outputs: list[Value] = []
    for node in graph.nodes:
        if node.op == "placeholder":
            if node in cx.constants:
                cx.values[node] = stored[node.name]
            elif isinstance(fake(node), torch.Tensor):
                cx.env[node] = b.arg(cx.type_of(node), node.name)
            else:
                cx.values[node] = fake(node)  # a non-tensor input, specialised by export
                cx.constants.add(node)
        elif node.op == "call_function":
            cx.at(node)
            if node in cx.constants:
                cx.values[node] = _evaluate(cx, node)
            else:
                result = lookup(op_name(node)).convert(cx, bind(node))
                _check_result(cx, node, result)
                cx.env[node] = result
                if is_inplace(node) and isinstance(node.args[0], fx.Node):
                    cx.env[node.args[0]] = result
        elif node.op == "output":
            specs = ep.graph_signature.output_specs
            for spec, arg in zip(specs, node.args[0]):
                if spec.kind == OutputKind.USER_OUTPUT:
                    outputs.append(_output(cx, arg))
    b.ret(*outputs)


def _output(cx: Lowering, arg: Any) -> Value:
    if not isinstance(arg, fx.Node) or not isinstance(fake(arg), torch.Tensor):
        raise FrontendError(f"the model returns {arg!r}; archir graphs return tensors only")
    return cx.value(arg)


def _evaluate(cx: Lowering, node: fx.Node) -> Any:
    """Run a constant node eagerly, in program order (so in-place writes land where torch
    puts them)."""
    args = fx.node.map_arg(node.args, lambda n: _constant_or_stand_in(cx, n))
    kwargs = fx.node.map_arg(node.kwargs, lambda n: _constant_or_stand_in(cx, n))
    try:
        with torch.no_grad():
            return node.target(*args, **kwargs)
    except Exception as e:
        raise cx.error(f"evaluating a constant failed: {type(e).__name__}: {e}") from e


def _constant_or_stand_in(cx: Lowering, node: fx.Node) -> Any:
    """A constant's value; for the input-dependent tensor that an op like ``new_zeros`` or
    ``zeros_like`` reads only for its shape and dtype, an uninitialised stand-in."""
    if node in cx.values:
        return cx.values[node]
    like = fake(node)
    return torch.empty(like.shape, dtype=like.dtype, device=like.device)


def _check_result(cx: Lowering, node: fx.Node, result: Any) -> None:
    """Every converter must reproduce the tensor types torch computed for its node."""
    want = fake(node)
    if isinstance(want, torch.Tensor):
        got = [result]
        want = [want]
    elif isinstance(want, (tuple, list)):
        got = list(result) if isinstance(result, (tuple, list)) else [None] * len(want)
    else:
        return
    for r, w in zip(got, want):
        if r is None or not isinstance(w, torch.Tensor):
            continue
        if not isinstance(r, Value):
            raise cx.error(f"converter returned {type(r).__name__}, not an IR value")
        expected = cx.type_of(w)
        if r.type != expected:
            raise cx.error(f"lowered to {r.type} but torch computes {expected} (a converter bug)")

