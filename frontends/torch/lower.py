"""``from_torch``: export, scan, convert node by node, raise patterns, verify."""

from __future__ import annotations

from typing import Any

import torch
from torch.export import ExportedProgram
from torch.export.graph_signature import InputKind, OutputKind

from archir.builder import GraphBuilder
from archir.frontends.errors import FrontendError
from archir.frontends.torch import aliasing
from archir.frontends.torch.context import Lowering
from archir.frontends.torch.convert import convert_program
from archir.frontends.torch.export import export
from archir.frontends.torch.raise_attention import raise_attention
from archir.frontends.torch.raise_rotary import raise_rotary
from archir.frontends.torch.refold import refold
from archir.frontends.torch.scan import scan
from archir.ir import Module
from archir.passes.cleanup import eliminate_dead_code
from archir.verifier import verify


def from_torch(model: torch.nn.Module, example_inputs: Any, *, weights: bool = True) -> Module:
    """Lower ``model`` (in eval mode) traced on ``example_inputs`` to a verified Module.

    Shapes are those of the example inputs. Weights are read-only numpy views of the model's
    tensors (see ``dtypes.to_numpy``); with ``weights=False`` the module holds the
    architecture only.
    """
    if not isinstance(model, torch.nn.Module):
        raise FrontendError(f"from_torch needs a torch.nn.Module, got {type(model).__name__}")
    inputs = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        program = export(model, inputs)
    finally:
        for m, mode in modes.items():
            m.training = mode
    heads = {path: m.num_heads for path, m in model.named_modules()
             if isinstance(m, torch.nn.MultiheadAttention)}
    return lower_program(program, weights=weights, heads=heads)


def lower_program(ep: ExportedProgram, *, weights: bool = True,
                  heads: dict[str, int] | None = None) -> Module:
    """Lower an ExportedProgram; ``heads`` gives the head count of attention modules by path
    (needed only where torch folds heads into the batch)."""
    _check_signature(ep)
    const = aliasing.constant_nodes(ep)
    if aliasing.needs_functionalization(ep.graph, const) is not None:
        ep = ep.run_decompositions({})
        const = aliasing.constant_nodes(ep)
    builder = GraphBuilder("main")
    targets = {spec.arg.name: spec.target for spec in ep.graph_signature.input_specs
               if spec.target is not None and hasattr(spec.arg, "name")}
    names = {node: targets[node.name] for node in ep.graph.nodes
             if node.op == "placeholder" and node.name in targets}
    cx = Lowering(builder, const, names, aliasing.learned_nodes(ep, const))
    scan(ep.graph, cx)
    convert_program(ep, cx)
    g = builder.graph
    eliminate_dead_code(g)  # so that use counts seen by the raising patterns are real
    raise_rotary(g)
    raise_attention(g, heads)
    refold(g)
    if not weights:  # dropped only now: the raising patterns read constants' values
        for op in g.ops:
            op.weights = None
    module = Module([g])
    verify(module)
    return module


def _check_signature(ep: ExportedProgram) -> None:
    mutated = [spec.target for spec in ep.graph_signature.output_specs
               if spec.kind in (OutputKind.BUFFER_MUTATION, OutputKind.PARAMETER_MUTATION)]
    # export leaves some writes to state in the graph as in-place ops (copy_, add_)
    owned = {**ep.graph_signature.inputs_to_buffers, **ep.graph_signature.inputs_to_parameters}
    mutated += [owned[root.name] for root in aliasing.written_placeholders(ep.graph)
                if root.name in owned]
    if mutated:
        raise FrontendError(f"the model writes its own state during forward ({', '.join(mutated)}); "
                            "archir lowers pure functions of the inputs")
    odd = [spec.arg.name for spec in ep.graph_signature.input_specs
           if spec.kind in (InputKind.CUSTOM_OBJ, InputKind.TOKEN)]
    if odd:
        raise FrontendError(f"inputs of kinds archir cannot lower: {', '.join(odd)}")
