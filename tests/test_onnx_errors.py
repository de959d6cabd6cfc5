"""Bad ONNX input gives one clear ``FrontendError``, never a protobuf traceback."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx_check import ZOO

import archir
from archir import FrontendError

SQUEEZENET = ZOO / "light_squeezenet.onnx"


def _model(nodes, inputs, outputs, inits=(), opset=17, extra_opsets=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset), *extra_opsets])


def _x(name="x", shape=(1, 3, 8, 8)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.6, 0.97])
def test_truncated_file(tmp_path, fraction):
    data = SQUEEZENET.read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(FrontendError) as err:
        archir.from_onnx(path)
    message = str(err.value)
    assert str(path) in message
    assert any(w in message for w in ("truncated", "corrupt", "invalid ONNX model")), message


def test_corrupt_bytes():
    data = bytearray(SQUEEZENET.read_bytes())
    data[10:4000] = np.random.default_rng(0).integers(0, 256, 3990, dtype=np.uint8).tobytes()
    with pytest.raises(FrontendError, match="ONNX model"):
        archir.from_onnx(bytes(data))


def test_not_onnx_at_all(tmp_path):
    path = tmp_path / "notes.onnx"
    path.write_text("graph @main(%x: f32[1]) -> (f32[1]) {\n  return %x\n}\n")
    with pytest.raises(FrontendError, match=r"notes\.onnx.*(corrupt|truncated|not ONNX)"):
        archir.from_onnx(path)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(FrontendError, match="empty file"):
        archir.from_onnx(tmp_path / "empty.onnx")
    with pytest.raises(FrontendError, match="cannot read ONNX file"):
        archir.from_onnx(tmp_path / "absent.onnx")


def test_checker_failure_is_reported_plainly():
    node = helper.make_node("Relu", ["nowhere"], ["y"])
    model = _model([node], [_x()], [_x("y")])
    with pytest.raises(FrontendError, match="invalid ONNX model.*nowhere"):
        archir.from_onnx(model)


def test_old_opset_is_refused_with_a_hint():
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [_x()], [_x("y")], opset=7)
    with pytest.raises(FrontendError, match="opset 7.*version_converter"):
        archir.from_onnx(model)


def test_every_unsupported_op_in_one_error_before_converting():
    w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    k = numpy_helper.from_array(np.array([2], np.int64), "k")
    nodes = [
        # converting this Conv would fail (its weight is not constant), but the scan comes first
        helper.make_node("Conv", ["x", "x_as_weight"], ["c"], name="conv_dynamic_weight"),
        helper.make_node("Identity", ["w"], ["x_as_weight_src"]),
        helper.make_node("TopK", ["x", "k"], ["t1", "i1"], name="topk_a", axis=1),
        helper.make_node("TopK", ["t1", "k"], ["t2", "i2"], name="topk_b", axis=1),
        helper.make_node("Einsum", ["t2"], ["e"], equation="nchw->nchw", name="einsum"),
        helper.make_node("Frobnicate", ["e"], ["f"], domain="example.custom", name="custom"),
        helper.make_node("Add", ["f", "c"], ["y"]),
    ]
    inputs = [_x(), _x("x_as_weight", (4, 3, 3, 3))]
    model = _model(nodes, inputs, [_x("y", ("a", "b", "c", "d"))],
                   [w, k], extra_opsets=[helper.make_opsetid("example.custom", 1)])
    with pytest.raises(FrontendError) as err:
        archir.from_onnx(model)
    message = str(err.value)
    assert "4 ONNX node(s) of 3 op type(s)" in message
    assert "TopK x2 (e.g. topk_a, topk_b)" in message
    assert "Einsum x1" in message
    assert "example.custom::Frobnicate x1" in message
    assert "conv_dynamic_weight" not in message


def test_unsupported_op_that_nothing_reads_is_ignored():
    k = numpy_helper.from_array(np.array([2], np.int64), "k")
    nodes = [helper.make_node("TopK", ["x", "k"], ["t", "i"], axis=1),
             helper.make_node("Relu", ["x"], ["y"])]
    module = archir.from_onnx(_model(nodes, [_x()], [_x("y")], [k]))
    assert [op.name for op in module.main.ops] == ["relu"]


def test_conversion_error_names_the_node():
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="stem_conv")]
    model = _model(nodes, [_x(), _x("w", (4, 3, 3, 3))], [_x("y", (1, 4, 6, 6))])
    with pytest.raises(FrontendError, match=r"stem_conv \(Conv\).*weight.*must be a constant"):
        archir.from_onnx(model)


def test_unknown_element_type_is_named():
    x = helper.make_tensor_value_info("x", TensorProto.COMPLEX64, [2])
    model = _model([helper.make_node("Identity", ["x"], ["y"])], [x],
                   [helper.make_tensor_value_info("y", TensorProto.COMPLEX64, [2])])
    with pytest.raises(FrontendError, match="graph input 'x'.*COMPLEX64"):
        archir.from_onnx(model)


def test_even_lrn_is_refused_not_miscomputed():
    model = _model([helper.make_node("LRN", ["x"], ["y"], size=4, name="norm1")], [_x()], [_x("y")])
    with pytest.raises(FrontendError, match=r"norm1 \(LRN\).*even size"):
        archir.from_onnx(model)
