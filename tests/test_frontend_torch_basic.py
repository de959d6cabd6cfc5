"""The PyTorch frontend end to end: ops, weights, names, locations, eval mode, constants,
in-place ops, and the ``archir lower`` command. Differential: the lowered module, emitted
back to PyTorch, computes what the original model computes."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

import archir
from archir.cli import main as cli_main

torch.manual_seed(0)


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def lower(model: nn.Module, *inputs: torch.Tensor, **kw) -> archir.Module:
    module = archir.from_torch(model, inputs, **kw)
    archir.verify(module)
    text = archir.to_text(module)
    assert archir.to_text(archir.parse(text)) == text
    return module


def assert_same(model: nn.Module, module: archir.Module, *inputs: torch.Tensor) -> None:
    model.eval()
    with torch.no_grad():
        expected = model(*inputs)
        got = archir.to_torch(module)(*inputs)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def kinds(module: archir.Module) -> Counter:
    return Counter(op.name for _, op in module.walk())


def op_named(module: archir.Module, hint: str) -> archir.Operation:
    return next(op for _, op in module.walk() if op.results[0].name_hint == hint)


def test_resnet18_ops_names_locations_and_weights():
    model = torchvision.models.resnet18().eval()
    x = torch.randn(2, 3, 64, 64)
    module = lower(model, x)
    assert kinds(module) == Counter({"conv2d": 20, "batch_norm": 20, "relu": 17, "add": 8,
                                     "max_pool2d": 1, "global_avg_pool": 1, "flatten": 1,
                                     "linear": 1})
    conv = op_named(module, "layer1.0.conv1")
    assert conv.name == "conv2d"
    assert conv.attrs["kernel"] == (3, 3) and conv.attrs["padding"] == (1, 1)
    assert not conv.attrs["bias"]
    np.testing.assert_array_equal(conv.weights["weight"], model.layer1[0].conv1.weight.detach().numpy())
    bn = op_named(module, "layer1.0.bn1")
    assert set(bn.weights) == {"weight", "bias", "running_mean", "running_var"}
    np.testing.assert_array_equal(bn.weights["running_var"], model.layer1[0].bn1.running_var.numpy())
    fc = op_named(module, "fc")
    assert fc.attrs == {"out_features": 1000, "bias": True}
    assert set(fc.weights) == {"weight", "bias"}
    # where each op came from: module path and the model's source line
    assert conv.loc.startswith("layer1.0.conv1 (torchvision/models/resnet.py:")
    assert "%layer1.0.conv1 = conv2d" in archir.to_text(module)
    assert_same(model, module, x)


def test_mobilenet_v2_depthwise_and_relu6():
    model = torchvision.models.mobilenet_v2().eval()
    x = torch.randn(1, 3, 64, 64)
    module = lower(model, x)
    dw = op_named(module, "features.2.conv.1.0")
    assert dw.attrs["groups"] == dw.attrs["out_channels"] == 96
    assert kinds(module)["relu6"] == 35
    assert_same(model, module, x)


def test_save_and_load_keep_weights(tmp_path):
    model = torchvision.models.squeezenet1_1().eval()
    x = torch.randn(1, 3, 64, 64)
    module = lower(model, x)
    archir.save(module, tmp_path / "sq.air")
    assert (tmp_path / "sq.npz").exists()
    loaded = archir.load(tmp_path / "sq.air")
    assert archir.structurally_equal(loaded, module)
    assert_same(model, loaded, x)


def test_lowered_in_eval_mode_and_mode_restored():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Dropout(0.5), nn.Flatten(),
                          nn.Dropout(0.2), nn.Linear(8 * 6 * 6, 4))
    model[1].running_mean.uniform_(-1, 1)
    model.train()
    x = torch.randn(2, 3, 8, 8)
    module = lower(model, x)
    assert model.training and model[2].training  # the caller's model is as it was
    assert "dropout" not in kinds(module)
    assert kinds(module)["batch_norm"] == 1
    assert_same(model, module, x)


def test_architecture_only():
    module = lower(torchvision.models.resnet18(), torch.randn(1, 3, 32, 32), weights=False)
    assert all(op.weights is None for _, op in module.walk())
    assert kinds(module)["conv2d"] == 20


class Folding(nn.Module):
    """Constant subgraphs: tables computed from literals and parameters in forward."""

    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(torch.randn(5, 3))
        self.register_buffer("index", torch.tensor([[0, 4], [2, 2]]))

    def forward(self, x):
        gathered = self.table[self.index].sum(-1)  # (2, 2), from weights alone
        pos = torch.arange(4).float().view(1, 4) / 4.0
        mask = torch.ones(4, 4).tril().bool()
        return (x + pos).masked_fill(~mask, 0.0) @ F.pad(gathered, (1, 1, 1, 1))


def test_constant_subgraphs_become_parameters():
    """What buffers and literals alone compute folds into stored (non-trainable) parameters;
    what is computed from a learned parameter stays ops on it, so the parameter is counted."""
    model = Folding()
    x = torch.randn(2, 4, 4)
    module = lower(model, x)
    assert kinds(module)["gather"] == 1 and kinds(module)["reduce_sum"] == 1
    params = [op for _, op in module.walk() if op.name == "parameter"]
    learned = [op for op in params if op.attrs.get("trainable", True)]
    assert len(learned) == 1 and np.array_equal(learned[0].weights["value"], model.table.detach().numpy())
    stored = {op.result.type.dtype: op.weights["value"] for op in params if op not in learned}
    assert np.array_equal(stored[archir.DType.I64], model.index.numpy())
    assert stored[archir.DType.BOOL].shape == (4, 4)
    assert np.allclose(stored[archir.DType.F32], np.arange(4).reshape(1, 4) / 4.0)
    assert archir.cost(module).params == model.table.numel()
    assert_same(model, module, x)


def test_inplace_ops_read_as_functional():
    class InPlace(nn.Module):
        def forward(self, x):
            y = x * 2
            y.relu_()
            y += 1
            return y.sigmoid_() * x

    model = InPlace()
    x = torch.randn(3, 5)
    module = lower(model, x)
    assert kinds(module) == Counter({"constant": 2, "mul": 2, "relu": 1, "add": 1, "sigmoid": 1})
    assert_same(model, module, x)


def test_inplace_through_an_alias_is_functionalized():
    class Aliased(nn.Module):
        def forward(self, x):
            y = x * 2
            flat = y.view(-1)
            y.add_(1)  # also changes flat, which is read below
            return flat * 3 + y.sum()

    model = Aliased()
    x = torch.randn(2, 3)
    assert_same(model, lower(model, x), x)


class Zoo(nn.Module):
    """Many converters at once (shapes chosen so every op is exercised non-trivially)."""

    def __init__(self):
        super().__init__()
        self.conv1d = nn.Conv1d(4, 6, 3, padding=1)
        self.deconv = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
        self.gn = nn.GroupNorm(2, 4)
        self.inorm = nn.InstanceNorm2d(4, affine=True)
        self.prelu = nn.PReLU(4)
        self.embed = nn.Embedding(10, 8)
        self.rms = nn.RMSNorm(8)
        self.pw = nn.Conv2d(4, 4, 1, padding="same")

    def forward(self, x, ids):
        a = self.prelu(self.inorm(self.gn(x)))
        a = F.interpolate(a, scale_factor=2, mode="nearest") + self.deconv(a).mean(1, keepdim=True)
        a = F.interpolate(a, size=(5, 7), mode="bilinear", align_corners=False)
        a = F.avg_pool2d(F.pad(a, (1, 0, 2, 1), mode="reflect"), 2, ceil_mode=True,
                         count_include_pad=False)
        b = F.adaptive_max_pool2d(self.pw(a), (2, 3)).flatten(1)  # (2, 24)
        c = self.conv1d(x.flatten(2)[..., :8])  # (2, 6, 8)
        c = torch.einsum("bct,cd->btd", c, torch.ones(6, 3)).roll(1, 1)  # (2, 8, 3)
        first, second = c.chunk(2, dim=1)
        c = torch.stack([first, second], dim=1).unbind(2)[0]  # (2, 2, 3)
        e = self.rms(self.embed(ids))  # (2, 5, 8)
        e = torch.cat([e, e.repeat(1, 1, 2)[..., :8] * 0.5], dim=1)[:, ::2]
        g = torch.where(e > 0, e, F.leaky_relu(e, 0.1)).clamp(-2, 2)
        g = F.elu(g) + F.softplus(g) - F.hardtanh(g, -0.5, 0.5) ** 2
        h = g.log_softmax(-1).amax(-1) + (g != 0).float().sum(-1) - (g >= 0.1).float().mean(-1)
        k = (1 - h).repeat_interleave(2, dim=1)[:, :4] // 0.3
        idx = torch.tensor([2, 0, 1])
        return torch.cat([b[:, :4], c.flatten(1)[:, :4], k, c[..., idx].flatten(1)[:, :4]], 1)


def test_converter_zoo_matches_torch():
    model = Zoo().eval()
    x = torch.randn(2, 4, 6, 6)
    ids = torch.randint(0, 10, (2, 5))
    module = lower(model, x, ids)
    seen = kinds(module)
    for kind in ("conv1d", "conv_transpose2d", "group_norm", "instance_norm", "prelu", "embedding",
                 "rms_norm", "resize", "pad", "avg_pool2d", "adaptive_max_pool2d", "matmul", "roll",
                 "split", "concat", "where", "leaky_relu", "clip", "elu", "softplus", "log_softmax",
                 "reduce_max", "reduce_sum", "reduce_mean", "equal", "greater", "less", "floor", "gather"):
        assert seen[kind], kind
    assert_same(model, module, x, ids)


def test_cli_lower_writes_ir_and_weights(tmp_path, capsys):
    out = tmp_path / "net.air"
    assert cli_main(["lower", "torchvision:squeezenet1_1", "--input", "1,3,64,64", "-o", str(out)]) == 0
    module = archir.load(out)
    assert module.main.args[0].type == archir.TensorType("f32", (1, 3, 64, 64))
    assert any(op.weights for _, op in module.walk())


def test_cli_lower_from_a_file_factory(tmp_path, capsys):
    source = tmp_path / "tiny.py"
    source.write_text(
        "import torch\n"
        "def make():\n"
        "    return torch.nn.Sequential(torch.nn.Embedding(50, 8), torch.nn.Linear(8, 2))\n")
    assert cli_main(["lower", f"{source}:make", "--input", "i64:1,7", "--no-weights"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("graph @main(%input: i64[1, 7]) -> (f32[1, 7, 2])")
    assert "embedding(%input) {num_embeddings = 50, embedding_dim = 8}" in text


@pytest.mark.parametrize("spec, message", [
    ("torchvision:not_a_model", "torchvision has no model 'not_a_model'"),
    ("no_such_file.py:make", "no such file"),
    ("resnet18", "is not torchvision:NAME or FILE.py:FACTORY"),
])
def test_cli_lower_bad_model_spec(spec, message, capsys):
    assert cli_main(["lower", spec, "--input", "1,3,8,8"]) == 1
    assert message in capsys.readouterr().err
