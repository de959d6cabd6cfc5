"""Reading a model: a path, bytes or a ModelProto, with corrupt input reported plainly."""

from __future__ import annotations

import os
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from archir.frontends.errors import FrontendError

Source = str | os.PathLike | bytes | onnx.ModelProto

MIN_OPSET = 9


def load_model(source: Source) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """The model (external data loaded, local functions inlined), checked by onnx, and its
    skeleton (see ``skeleton``)."""
    where = "<ModelProto>"
    if isinstance(source, onnx.ModelProto):
        model = source
    else:
        base = None
        if isinstance(source, (bytes, bytearray)):
            where, data = "<bytes>", bytes(source)
        else:
            path = Path(source)
            where, base = str(path), path.parent
            try:
                data = path.read_bytes()
            except OSError as e:
                raise FrontendError(f"{where}: cannot read ONNX file: {e.strerror or e}") from None
        model = _parse(data, where)
        if base is not None and _has_external_data(model):
            try:
                onnx.external_data_helper.load_external_data_for_model(model, str(base))
            except (OSError, ValueError) as e:
                raise FrontendError(f"{where}: cannot load external tensor data: {e}") from None
    _check_header(model, where)
    if model.functions:
        model = onnx.inliner.inline_local_functions(model)
    light = skeleton(model)
    _check(light, where)
    return model, light


_BIG = 1 << 16  # bytes


def skeleton(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model without the data of big initializers, which become typed graph inputs.

    The checker and shape inference serialise whatever they are given; weights are only
    shapes to them, so they get this copy (hundreds of MB less to copy for VGG-19).
    """
    light = onnx.ModelProto()
    light.ir_version = model.ir_version
    light.opset_import.extend(model.opset_import)
    g, lg = model.graph, light.graph
    lg.name = g.name
    lg.node.extend(g.node)
    lg.input.extend(g.input)
    lg.output.extend(g.output)
    lg.value_info.extend(g.value_info)
    declared = {i.name for i in g.input}
    for t in g.initializer:
        if _nbytes(t) <= _BIG:
            lg.initializer.append(t)
        elif t.name not in declared:
            lg.input.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    return light


def _nbytes(t: onnx.TensorProto) -> int:
    """The tensor's size from its dims and type, without touching (copying) its data."""
    n = 1
    for d in t.dims:
        n *= d
    try:
        return n * onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
    except (KeyError, TypeError, ValueError):  # strings and unknown types stay in the skeleton
        return 0


def _parse(data: bytes, where: str) -> onnx.ModelProto:
    if not data:
        raise FrontendError(f"{where}: empty file, not an ONNX model")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise FrontendError(
            f"{where}: not a valid ONNX model (protobuf decoding failed: {e}); the file is "
            "corrupt, truncated or not ONNX") from None
    return model


def _has_external_data(model: onnx.ModelProto) -> bool:
    return any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)


def _check_header(model: onnx.ModelProto, where: str) -> None:
    # A truncated file often still decodes (protobuf stops at a field boundary), so the
    # structure is checked before anything trusts it.
    if not model.ir_version or not model.HasField("graph") or not model.graph.output:
        raise FrontendError(
            f"{where}: not a complete ONNX model (no IR version, graph or graph outputs); "
            "the file is probably truncated or not ONNX")
    if not model.opset_import:
        raise FrontendError(f"{where}: the model imports no opset")


def _check(model: onnx.ModelProto, where: str) -> None:
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise FrontendError(f"{where}: invalid ONNX model: {first}") from None
    opset = default_opset(model)
    if opset < MIN_OPSET:
        raise FrontendError(
            f"{where}: opset {opset} is older than the oldest supported ({MIN_OPSET}); upgrade "
            f"it with onnx.version_converter.convert_version(model, {MIN_OPSET})")


def default_opset(model: onnx.ModelProto) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return entry.version
    raise FrontendError("the model imports no version of the default ONNX domain")
