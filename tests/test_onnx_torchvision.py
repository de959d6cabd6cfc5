"""Differential test: torchvision's ResNet-18, exported by both torch.onnx exporters with a
dynamic batch, → from_onnx → to_onnx computes what onnxruntime computes on the export."""

from __future__ import annotations

import io
import warnings

import numpy as np
import onnx
import pytest
from onnx_check import ATOL, RTOL, run

import archir

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")


@pytest.fixture(scope="module")
def resnet18():
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10).eval()
    with torch.no_grad():  # non-trivial batch-norm statistics, so folding them matters
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model


def _export(model, dynamo: bool) -> onnx.ModelProto:
    x = torch.randn(2, 3, 64, 64)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        if dynamo:
            program = torch.onnx.export(model, (x,), dynamo=True, verbose=False,
                                        dynamic_shapes={"x": {0: torch.export.Dim("batch")}})
            return program.model_proto
        torch.onnx.export(model, (x,), buffer, dynamo=False, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    return onnx.load_from_string(buffer.getvalue())


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_resnet18_round_trips_through_the_ir(resnet18, dynamo):
    exported = _export(resnet18, dynamo)
    module = archir.from_onnx(exported)
    counts = {}
    for op in module.main.ops:
        counts[op.name] = counts.get(op.name, 0) + 1
    assert counts["conv2d"] == 20 and counts["linear"] == 1 and counts["max_pool2d"] == 1
    assert str(module.main.input_types[0]) == "f32[batch, 3, 64, 64]"
    assert str(module.main.output_types[0]) == "f32[batch, 10]"
    emitted = archir.to_onnx(module)
    onnx.checker.check_model(emitted, full_check=True)
    assert emitted.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    for n in (1, 3):
        x = np.random.default_rng(n).standard_normal((n, 3, 64, 64)).astype(np.float32)
        expected = run(exported, x)[0]
        np.testing.assert_allclose(run(emitted, x)[0], expected, rtol=RTOL, atol=ATOL)
        with torch.no_grad():
            original = resnet18(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(expected, original, rtol=1e-3, atol=1e-4)  # the export itself


def test_resnet18_onnx_to_ir_to_torch_equals_torchvision(resnet18):
    module = archir.from_onnx(_export(resnet18, dynamo=False))
    rebuilt = archir.to_torch(module)
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        np.testing.assert_allclose(rebuilt(x).numpy(), resnet18(x).numpy(), rtol=1e-3, atol=1e-4)
