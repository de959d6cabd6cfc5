"""Bad input to the PyTorch frontend: one clear FrontendError, and nothing half-built."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

import archir
from archir.frontends.errors import FrontendError


class Branchy(nn.Module):
    def forward(self, x):
        if x.sum() > 0:  # the line the error must name
            return x * 2
        return x - 1


def test_data_dependent_control_flow_names_the_source_line():
    with pytest.raises(FrontendError) as info:
        archir.from_torch(Branchy(), (torch.randn(3, 4),))
    message = str(info.value)
    line = Branchy.forward.__code__.co_firstlineno + 1
    assert "data-dependent control flow" in message
    assert f"test_frontend_torch_errors.py:{line}" in message
    assert "if x.sum() > 0:" in message


def test_failed_trace_prints_nothing_of_its_own(capfd):
    with pytest.raises(FrontendError):
        archir.from_torch(Branchy(), (torch.randn(3, 4),))
    assert "def forward" not in capfd.readouterr().err  # torch's partial-graph dump is hidden


class ManyUnsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv3d = nn.Conv3d(1, 2, 3)
        self.fc = nn.Linear(6, 6)

    def forward(self, x):
        y = torch.cumsum(x, 1) + torch.cumsum(x, 2)
        z = torch.atan2(self.fc(y), x)
        w = self.conv3d(x[:, None])
        return z, w, torch.sort(x, 1).values


def test_unsupported_ops_are_listed_in_one_error_with_counts():
    model = ManyUnsupported().train()
    with pytest.raises(FrontendError) as info:
        archir.from_torch(model, (torch.randn(2, 6, 6, 6),))
    message = str(info.value)
    assert "4 unsupported op kind(s), 5 use(s)" in message
    assert re.search(r"aten\.cumsum\.default ×2", message)
    assert re.search(r"aten\.atan2\.default ×1", message)
    assert re.search(r"aten\.conv3d\.default ×1 .*first at conv3d \(", message)
    assert re.search(r"aten\.sort\.default ×1", message)
    # supported ops are not listed; the model is handed back as it was given
    assert "linear" not in message and "add" not in message
    assert model.training and model.fc.training


def test_unsupported_use_of_a_supported_op_is_explained():
    class DynamicWeight(nn.Module):
        def forward(self, x, w):
            return torch.nn.functional.conv2d(x, w)

    with pytest.raises(FrontendError, match=r"aten\.conv2d\.default ×1 +\(the weight is computed from"):
        archir.from_torch(DynamicWeight(), (torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)))


def test_writing_model_state_is_refused():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("calls", torch.zeros(()))

        def forward(self, x):
            self.calls += 1
            return x * 2

    with pytest.raises(FrontendError, match=r"writes its own state during forward \(calls\)"):
        archir.from_torch(Counter(), (torch.randn(2),))


def test_input_data_written_into_a_constant_cannot_be_lowered():
    class Scatter(nn.Module):
        def forward(self, x):
            c = torch.zeros(4)
            c[1:3] = x[:2]
            return c * 2

    with pytest.raises(FrontendError, match="slice_scatter"):
        archir.from_torch(Scatter(), (torch.randn(5),))


def test_failing_forward_names_the_line():
    class Bad(nn.Module):
        def forward(self, x):
            return x.view(7, 7)

    where = r"test_frontend_torch_errors\.py:\d+ \(`return x\.view\(7, 7\)`\)"
    with pytest.raises(FrontendError, match=where):
        archir.from_torch(Bad(), (torch.randn(3),))


def test_not_a_module():
    with pytest.raises(FrontendError, match="needs a torch.nn.Module"):
        archir.from_torch(lambda x: x, (torch.randn(2),))


def test_non_tensor_output():
    class Shape(nn.Module):
        def forward(self, x):
            return x * 2, x.shape[0]

    with pytest.raises(FrontendError, match="return tensors only"):
        archir.from_torch(Shape(), (torch.randn(2),))


def test_torch_cond_is_reported_as_control_flow():
    class Cond(nn.Module):
        def forward(self, x):
            return torch.cond(x.sum() > 0, lambda x: x * 2, lambda x: x - 1, (x,))

    with pytest.raises(FrontendError, match=r"torch\.cond ×1 +\(control flow") as info:
        archir.from_torch(Cond(), (torch.randn(3),))
    assert "get_attr" not in str(info.value)
