"""The nine model-zoo networks shipped with the onnx package: import, verify, text round
trip, emit back to ONNX, and the same outputs as onnxruntime on the original.

The zoo's "light" files build every weight as ConstantOfShape(0.02), so all 1000 class
scores come out equal; the numeric checks therefore also run each network with random
weights (``randomized``), where a wrong axis, padding or weight layout shows.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import onnx
import pytest
from onnx_check import ATOL, RTOL, ZOO, ZOO_MODELS, image, input_shape, randomized, run

import archir


class Zoo:
    """One zoo network; everything is computed once per test module, on first use."""

    def __init__(self, name: str):
        self.name = name
        self.path = ZOO / f"light_{name}.onnx"

    @cached_property
    def original(self) -> onnx.ModelProto:
        return onnx.load(self.path)

    @cached_property
    def x(self) -> np.ndarray:
        return image(input_shape(self.original), seed=1)

    @cached_property
    def module(self) -> archir.Module:
        return archir.from_onnx(self.path)

    @cached_property
    def random(self) -> tuple[archir.Module, np.ndarray]:
        """The network with random weights as IR, and onnxruntime's output for it."""
        self.__dict__.pop("module", None)  # its tests ran first; VGG-19's weights are 0.5 GB
        model = randomized(self.original)
        return archir.from_onnx(model), run(model, self.x)[0]


@pytest.fixture(scope="module", params=ZOO_MODELS)
def zoo(request) -> Zoo:
    return Zoo(request.param)


def test_the_nine_zoo_models_are_there():
    assert ZOO_MODELS == ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50",
                          "shufflenet", "squeezenet", "vgg19", "zfnet512"]


def test_imports_and_verifies(zoo: Zoo):
    m = zoo.module
    archir.verify(m)
    g = m.main
    declared = zoo.original.graph.output[0].type.tensor_type
    assert [str(t) for t in g.output_types] == [
        "f32[" + ", ".join(str(d.dim_value) for d in declared.shape.dim) + "]"]
    convs = [op for op in g.ops if op.name == "conv2d"]
    onnx_convs = sum(n.op_type == "Conv" for n in zoo.original.graph.node)
    assert len(convs) == onnx_convs
    assert all(op.weights and op.weights["weight"].shape[0] == op.attrs["out_channels"] for op in convs)
    assert all(op.loc and op.loc.endswith("(Conv)") for op in convs)
    gemms = sum(n.op_type == "Gemm" for n in zoo.original.graph.node)
    assert sum(op.name == "linear" for op in g.ops) == gemms
    # folded ConstantOfShape weights belong to their conv/linear ops, not to parameter ops
    assert all(op.name != "parameter" or op.results[0].type.numel() < 10_000 for op in g.ops)


def test_text_round_trip(zoo: Zoo):
    text = archir.to_text(zoo.module)
    parsed = archir.parse(text)
    assert archir.to_text(parsed) == text
    assert archir.structurally_equal(parsed, zoo.module)


def test_emits_onnx_equal_to_onnxruntime_on_the_original(zoo: Zoo):
    model = archir.to_onnx(zoo.module)
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version >= 17
    expected = run(zoo.original, zoo.x)[0]
    got = run(model, zoo.x)[0]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_random_weights_equal_onnxruntime(zoo: Zoo):
    module, expected = zoo.random
    assert expected.std() > 1e-4, "random weights should make the class scores differ"
    got = run(archir.to_onnx(module), zoo.x)[0]
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_random_weights_equal_in_pytorch(zoo: Zoo):
    import torch

    module, expected = zoo.random
    model = archir.to_torch(module)
    with torch.no_grad():
        got = model(torch.from_numpy(zoo.x))
    got = got[0] if isinstance(got, tuple) else got
    np.testing.assert_allclose(got.numpy(), expected, rtol=RTOL, atol=ATOL)
