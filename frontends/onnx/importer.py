"""``from_onnx``: load, infer shapes, plan (fold / convert / unsupported), then convert."""

from __future__ import annotations

from collections import Counter

import numpy as np
import onnx

import archir.frontends.onnx.attention  # noqa: F401  (each family module registers its converters)
import archir.frontends.onnx.binary  # noqa: F401
import archir.frontends.onnx.conv  # noqa: F401
import archir.frontends.onnx.linear  # noqa: F401
import archir.frontends.onnx.norm  # noqa: F401
import archir.frontends.onnx.pool  # noqa: F401
import archir.frontends.onnx.reduce  # noqa: F401
import archir.frontends.onnx.resize  # noqa: F401
import archir.frontends.onnx.shape  # noqa: F401
import archir.frontends.onnx.unary  # noqa: F401
from archir.builder import GraphBuilder
from archir.errors import VerifyError
from archir.frontends.errors import FrontendError
from archir.frontends.onnx.context import Context, InferredShape, Node, Symbols, hint
from archir.frontends.onnx.dtypes import from_onnx_type
from archir.frontends.onnx.fold import fold, foldable
from archir.frontends.onnx.load import Source, default_opset, load_model
from archir.frontends.onnx.registry import find
from archir.ir import Module
from archir.types import TensorType
from archir.verifier import verify

# Inputs a converter reads only for the output shape, which shape inference may already know.
_SHAPE_ONLY = {"Reshape": 1, "Expand": 1, "ConstantOfShape": 0}


def from_onnx(source: Source) -> Module:
    """Lower an ONNX model (path, bytes or ModelProto) to an archir module with weights.

    Raises ``FrontendError`` for a corrupt file, and one ``FrontendError`` listing every
    unsupported op type (with counts) before converting anything.
    """
    model, light = load_model(source)
    opset = default_opset(model)
    graph = model.graph
    info = _shape_info(light)
    nodes = [Node(n) for n in graph.node]
    initializers = {t.name: _array(t) for t in graph.initializer}
    plan = _plan(nodes, graph, initializers, info, opset)
    _reject_unsupported(nodes, plan, opset)

    consumers: dict[str, list[Node]] = {}
    for node in nodes:
        if plan[id(node)] != "dead":
            for name in node.inputs:
                consumers.setdefault(name, []).append(node)
    builder = GraphBuilder("main")
    symbols = Symbols()
    ctx = Context(opset, builder, info, consumers, {o.name for o in graph.output}, symbols)
    ctx.consts.update(initializers)
    for inp in graph.input:
        if inp.name not in initializers:
            ctx.bind(inp.name, builder.arg(_input_type(inp, symbols), hint(inp.name)))

    for node in nodes:
        kind = plan[id(node)]
        if kind == "dead" or id(node) in ctx.skip:
            continue
        if kind == "fold" and fold(ctx, node):
            continue
        convert = find(node.op_type, opset) if node.proto.domain in ("", "ai.onnx") else None
        if convert is None:
            raise FrontendError(f"ONNX node {node.loc}: cannot compute it over symbolic dims "
                                f"{[list(ctx.consts[n]) for n in node.inputs if n in ctx.consts]}")
        try:
            convert(ctx, node)
        except (VerifyError, ValueError) as e:
            raise FrontendError(f"ONNX node {node.loc}: {e}") from None
        _check_types(ctx, node)

    builder.ret(*(ctx.value(o.name) for o in graph.output))
    module = Module([builder.graph])
    try:
        verify(module)
    except VerifyError as e:
        raise FrontendError(f"the converted module does not verify (a converter bug): {e}") from None
    return module


def _array(t: onnx.TensorProto) -> np.ndarray:
    try:
        return onnx.numpy_helper.to_array(t)
    except (ValueError, TypeError) as e:  # e.g. raw data shorter than the dims say
        raise FrontendError(f"initializer '{t.name}' is corrupt: {e}") from None


def _shape_info(model: onnx.ModelProto) -> dict[str, tuple[int, InferredShape]]:
    """Element type and dims (int, dim_param or None) of every tensor ONNX can infer."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except (onnx.shape_inference.InferenceError, ValueError):
        inferred = model  # inference is an aid (shape-only inputs, checks), not a requirement
    info: dict[str, tuple[int, InferredShape]] = {}
    g = inferred.graph
    for vi in [*g.value_info, *g.input, *g.output]:
        if not vi.type.HasField("tensor_type"):
            continue
        t = vi.type.tensor_type
        dims = None
        if t.HasField("shape"):
            dims = tuple(d.dim_value if d.HasField("dim_value") else d.dim_param or None
                         for d in t.shape.dim)
        info[vi.name] = (t.elem_type, dims)
    return info


def _input_type(vi: onnx.ValueInfoProto, symbols: Symbols) -> TensorType:
    where = f"graph input '{vi.name}'"
    if not vi.type.HasField("tensor_type"):
        raise FrontendError(f"{where} is not a tensor (sequences, maps and optionals are not supported)")
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        raise FrontendError(f"{where} has no shape (not even a rank); give it one before importing")
    dims = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif d.dim_param:
            dims.append(symbols(d.dim_param))
        else:
            dims.append(symbols.fresh())
    return TensorType(from_onnx_type(t.elem_type, where), tuple(dims))


def _plan(nodes: list[Node], graph: onnx.GraphProto, initializers: dict, info, opset: int) -> dict[int, str]:
    """Per node: "fold", "convert", "unsupported" or "dead" (nothing live reads it)."""
    const = set(initializers)
    plan: dict[int, str] = {}

    def has_rank(name: str) -> bool:
        return name in info and info[name][1] is not None

    for node in nodes:
        if foldable(node, const.__contains__, has_rank):
            plan[id(node)] = "fold"
            const.update(node.outputs)
        elif node.proto.domain in ("", "ai.onnx") and find(node.op_type, opset) is not None:
            plan[id(node)] = "convert"
        else:
            plan[id(node)] = "unsupported"

    needed = {o.name for o in graph.output}
    for node in reversed(nodes):
        if not any(o in needed for o in node.outputs):
            plan[id(node)] = "dead"
            continue
        skip = _SHAPE_ONLY.get(node.op_type)
        for i, name in enumerate(node.inputs):
            shape_known = all(d is not None for d in (info.get(node.outputs[0], (0, None))[1] or (None,)))
            if i == skip and plan[id(node)] == "convert" and name not in const and shape_known:
                continue
            needed.add(name)
    return plan


def _reject_unsupported(nodes: list[Node], plan: dict[int, str], opset: int) -> None:
    bad = [n for n in nodes if plan[id(n)] == "unsupported"]
    if not bad:
        return
    counts = Counter(_op_key(n) for n in bad)
    lines = []
    for key, count in sorted(counts.items()):
        names = [n.proto.name or n.outputs[0] for n in bad if _op_key(n) == key]
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        lines.append(f"  {key} x{count} (e.g. {shown})")
    raise FrontendError(
        f"{len(bad)} ONNX node(s) of {len(counts)} op type(s) are not supported at opset {opset}:\n"
        + "\n".join(lines))


def _op_key(node: Node) -> str:
    domain = node.proto.domain
    return f"{domain}::{node.op_type}" if domain not in ("", "ai.onnx") else node.op_type


def _check_types(ctx: Context, node: Node) -> None:
    """Catch a converter that disagrees with ONNX shape inference (static dims and dtype)."""
    for name in node.outputs:
        v = ctx.values.get(name)
        entry = ctx.info.get(name)
        if v is None or entry is None or not entry[0]:
            continue
        elem, dims = entry
        expected = from_onnx_type(elem, f"ONNX node {node.loc}")
        bad = expected != v.type.dtype
        if dims is not None:
            bad |= len(dims) != v.type.rank or any(
                isinstance(d, int) and isinstance(e, int) and d != e for d, e in zip(v.type.shape, dims))
        if bad:
            shown = "[" + ", ".join("?" if d is None else str(d) for d in dims or ()) + "]"
            raise FrontendError(f"ONNX node {node.loc}: converted to {v.type} but ONNX infers "
                                f"{expected.value}{shown} for '{name}' (a converter bug)")
