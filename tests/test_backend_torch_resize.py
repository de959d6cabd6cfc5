"""resize through archir.to_torch against onnxruntime's Resize, an independent implementation of
the same coordinate modes (nearest rounds down, cubic a = -0.75, edge values past the border)."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper

import archir
from archir import GraphBuilder, Module, TensorType

MODES = ("nearest", "linear", "cubic")
COORDINATES = ("asymmetric", "half_pixel", "pytorch_half_pixel", "align_corners")
SIZES = [(4, 5), (9, 13), (3, 1), (6, 6)]  # from 6 x 6: down, up, to one column, identity


def _onnx_resize(x: np.ndarray, size: tuple[int, int], mode: str, coordinates: str) -> np.ndarray:
    node = helper.make_node(
        "Resize", ["x", "", "", "sizes"], ["y"], mode=mode, coordinate_transformation_mode=coordinates,
        nearest_mode="floor", cubic_coeff_a=-0.75, exclude_outside=0)
    graph = helper.make_graph(
        [node], "resize", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [*x.shape[:2], *size])],
        initializer=[helper.make_tensor("sizes", TensorProto.INT64, [4], [*x.shape[:2], *size])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("coordinates", COORDINATES)
def test_resize_matches_onnxruntime(mode: str, coordinates: str):
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 6)).astype(np.float32)
    for size in SIZES:
        b = GraphBuilder("main")
        b.ret(b.resize(b.arg(TensorType("f32", ("N", 3, 6, 6)), "x"), size=size, mode=mode,
                       coordinates=coordinates))
        model = archir.to_torch(Module([b.graph]))
        with torch.no_grad():
            got = model(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(got, _onnx_resize(x, size, mode, coordinates), atol=1e-5,
                                   err_msg=f"{mode}/{coordinates} to {size}\n{model.archir_source}")


def test_resize_uses_interpolate_where_pytorch_agrees():
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (1, 3, 8, 8)), "x")
    b.ret(b.resize(x, size=(16, 16)), b.resize(x, size=(4, 4), mode="linear", coordinates="half_pixel"),
          b.resize(x, size=(5, 7), mode="linear", coordinates="asymmetric"))
    from archir.backends.torch import to_torch_source

    source = to_torch_source(Module([b.graph]))
    assert 'F.interpolate(x, size=(16, 16), mode="nearest")' in source
    assert 'mode="bilinear", align_corners=False' in source
    assert 'resize(x, (5, 7), mode="linear", coordinates="asymmetric")' in source
