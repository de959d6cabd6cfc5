"""``from_torch``: export, scan, convert node by node, raise patterns, verify."""

from __future__ import annotations

from typing import Any

import torch
from torch import fx
from torch.export import ExportedProgram
from torch.export.graph_signature import InputKind, OutputKind

from archir.builder import GraphBuilder
from archir.frontends.errors import FrontendError
from archir.frontends.torch import aliasing
from archir.frontends.torch.context import Lowering
from archir.frontends.torch.export import export
from archir.frontends.torch.nodes import bind, fake, is_inplace, op_name
from archir.frontends.torch.raise_attention import raise_attention
from archir.frontends.torch.raise_rotary import raise_rotary
from archir.frontends.torch.refold import refold
from archir.frontends.torch.scan import scan
from archir.frontends.torch.table import lookup
from archir.ir import Module, Value
from archir.verifier import verify


def from_torch(model: torch.nn.Module, example_inputs: Any, *, weights: bool = True) -> Module:
    """Lower ``model`` (in eval mode) traced on ``example_inputs`` to a verified Module.

    Shapes are those of the example inputs. With ``weights=False`` the module holds the
    architecture only (no arrays are copied out of the model).
    """
    if not isinstance(model, torch.nn.Module):
        raise FrontendError(f"from_torch needs a torch.nn.Module, got {type(model).__name__}")
    inputs = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        program = export(model, inputs)
    finally:
        for m, mode in modes.items():
            m.training = mode
    return lower_program(program, weights=weights)


def lower_program(ep: ExportedProgram, *, weights: bool = True) -> Module:
    _check_signature(ep)
    const = aliasing.constant_nodes(ep)
    if aliasing.needs_functionalization(ep.graph, const) is not None:
        ep = ep.run_decompositions({})
        const = aliasing.constant_nodes(ep)
    builder = GraphBuilder("main")
    names = {node: spec.target for spec in ep.graph_signature.input_specs
             for node in ep.graph.nodes if node.op == "placeholder" and spec.target is not None
             and getattr(spec.arg, "name", None) == node.name}
    cx = Lowering(builder, const, names, keep_weights=weights)
    scan(ep.graph, cx)
    _convert(ep, cx)
    g = builder.graph
    raise_rotary(g)
    raise_attention(g)
    refold(g)
    module = Module([g])
    verify(module)
    return module


def _check_signature(ep: ExportedProgram) -> None:
    mutated = [spec.target for spec in ep.graph_signature.output_specs
               if spec.kind in (OutputKind.BUFFER_MUTATION, OutputKind.PARAMETER_MUTATION)]
    if mutated:
        raise FrontendError(f"the model writes its own state during forward ({', '.join(mutated)}); "
                            "archir lowers pure functions of the inputs")
    odd = [spec.arg.name for spec in ep.graph_signature.input_specs
           if spec.kind in (InputKind.CUSTOM_OBJ, InputKind.TOKEN)]
    if odd:
        raise FrontendError(f"inputs of kinds archir cannot lower: {', '.join(odd)}")


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


def _convert(ep: ExportedProgram, cx: Lowering) -> None:
    graph = ep.graph
    stored = _weight_values(ep)
    copy = aliasing.mutated_placeholders(graph)
    b = cx.em.builder
    outputs: list[Value] = []
    for node in graph.nodes:
        if node.op == "placeholder":
            if node in cx.constants:
                value = stored[node.name]
                cx.values[node] = value.clone() if node in copy else value
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
    args = fx.node.map_arg(node.args, lambda n: cx.values[n])
    kwargs = fx.node.map_arg(node.kwargs, lambda n: cx.values[n])
    try:
        with torch.no_grad():
            return node.target(*args, **kwargs)
    except Exception as e:
        raise cx.error(f"evaluating a constant failed: {type(e).__name__}: {e}") from e


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

