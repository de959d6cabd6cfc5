"""``to_onnx``: walk the main graph, inline cells, emit each op through the emitter table."""

from __future__ import annotations

import onnx
from onnx import helper

import archir.backends.onnx.attention  # noqa: F401  (each family module registers its emitters)
import archir.backends.onnx.binary  # noqa: F401
import archir.backends.onnx.conv  # noqa: F401
import archir.backends.onnx.linear  # noqa: F401
import archir.backends.onnx.norm  # noqa: F401
import archir.backends.onnx.pool  # noqa: F401
import archir.backends.onnx.position  # noqa: F401
import archir.backends.onnx.reduce  # noqa: F401
import archir.backends.onnx.shape  # noqa: F401
import archir.backends.onnx.spatial  # noqa: F401
import archir.backends.onnx.structure  # noqa: F401
import archir.backends.onnx.unary  # noqa: F401
from archir.backends.onnx.check import check as check_model
from archir.backends.onnx.context import EmitError, Emitter, value_info
from archir.backends.onnx.registry import find
from archir.ir import Graph, Module
from archir.printer import Namer, print_module
from archir.verifier import verify

DEFAULT_OPSET = 18
MIN_OPSET = 18


def to_onnx(module: Module, *, opset: int = DEFAULT_OPSET, check: bool = True) -> onnx.ModelProto:
    """An ONNX model computing ``module``'s main graph (inputs and outputs in IR order).

    Weights become initializers; ops without weights get deterministic PyTorch-style ones.
    Cells are inlined. At opset >= 23 attention uses ONNX's Attention op, below it is
    decomposed into MatMul/Softmax. ``check`` runs ``onnx.checker`` with full shape inference.
    Raises ``EmitError`` (a ``ValueError``) for what ONNX cannot express, e.g. a search space
    that still has choices.
    """
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise EmitError(f"opset {opset} is outside the supported {MIN_OPSET}..{newest}")
    verify(module)
    choices = sorted({op.name for _, op in module.walk() if op.name == "choice"})
    if module.params or choices:
        raise EmitError("the module is a search space ($params / choice); fix every decision with "
                        "archir.specialize(space, assignment) before exporting")
    _, namers = print_module(module)
    em = Emitter(opset)
    main = module.main
    for g in module.graphs.values():
        for op in g.ops:
            em.weight_seed[op] = f"{g.name}/{namers[g.name](op.results[0])}"
    inputs = []
    for a in main.args:
        name = em.fresh(namers[main.name](a))
        em.names[a] = name
        inputs.append(value_info(name, a.type))
        em.symbol_sources.append((name, a.type))
    _emit_graph(em, module, main, namers[main.name], prefix="")

    outputs, seen = [], set()
    for i, v in enumerate(main.outputs):
        name = em.names[v]
        if v.owner is None or v.owner.name == "parameter" or name in seen:
            # each graph output gets its own node-produced name
            name = em.one("Identity", [name], em.fresh(f"output{i}"))
        seen.add(name)
        outputs.append(value_info(name, v.type))
    declared = {o.name for o in outputs}
    model, graph = em.model, em.graph
    graph.name = main.name
    graph.node.extend(em.nodes)
    graph.input.extend(inputs)
    graph.output.extend(outputs)
    graph.value_info.extend(vi for vi in em.value_info if vi.name not in declared)
    model.opset_import.append(helper.make_opsetid("", opset))
    model.producer_name = "archir"
    model.ir_version = helper.find_min_ir_version_for(list(model.opset_import))
    if check:
        try:
            check_model(model, em.big)
        except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
            # e.g. a bf16 conv below opset 22: ONNX's own type constraints
            raise EmitError(f"the emitted model fails onnx.checker at opset {opset}: {e}") from None
    return model


def _emit_graph(em: Emitter, module: Module, g: Graph, namer: Namer, prefix: str) -> None:
    for op in g.ops:
        for r in op.results:
            em.result_names[r] = em.fresh(prefix + namer(r))
    for op in g.ops:
        if op.name == "call":
            callee = module.graphs[op.attrs["callee"].name]
            outer = em.names
            em.names = {a: outer[v] for a, v in zip(callee.args, op.operands)}
            scope = f"{prefix}{namer(op.results[0])}/"
            _emit_graph(em, module, callee, Namer(), scope)
            results = [em.names[v] for v in callee.outputs]
            em.names = outer
            em.names.update(zip(op.results, results))
            continue
        emit = find(op.name)
        if emit is None:
            raise EmitError(f"no ONNX emitter for '{op.name}'")
        try:
            outs = emit(em, op, [em.names[v] for v in op.operands])
        except EmitError as e:
            raise EmitError(f"'{op.name}' ({em.result_names[op.results[0]]}"
                            f"{', ' + op.loc if op.loc else ''}): {e}") from None
        for r, name in zip(op.results, outs):
            em.names[r] = name
            em.declare(name, r.type)
