"""archir.to_torch on whole modules: cells and calls, supernets, symbolic batch, weights,
training, kernel regions, generated source, errors."""

from __future__ import annotations

import inspect
import traceback

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import archir
from archir import GraphBuilder, Kernel, Module, TensorType
from archir.backends.torch import BackendError, to_torch_source

CELLS = """
graph @cell(%a: f32[N, 4, 6, 6], %b: f32[N, 4, 6, 6]) -> (f32[N, 4, 6, 6], f32[N, 8, 6, 6]) {
  %conv = conv2d(%a) {out_channels = 4, kernel = [3, 3], padding = [1, 1]} : f32[N, 4, 6, 6]
  %sum = add(%conv, %b) : f32[N, 4, 6, 6]
  %both = concat(%sum, %a) {axis = 1} : f32[N, 8, 6, 6]
  return %sum, %both
}

graph @main(%image: f32[N, 4, 6, 6]) -> (f32[N, 8, 6, 6]) {
  %first, %wide = call(%image, %image) {callee = @cell} : f32[N, 4, 6, 6], f32[N, 8, 6, 6]
  %second, %wide2 = call(%first, %image) {callee = @cell} : f32[N, 4, 6, 6], f32[N, 8, 6, 6]
  %out = add(%wide, %wide2) : f32[N, 8, 6, 6]
  return %out
}
"""


def _cell_reference(model, x):
    def cell(inst, a, b):
        s = F.conv2d(a, inst.conv.weight, inst.conv.bias, padding=1) + b
        return s, torch.cat([s, a], dim=1)

    first, wide = cell(model.first, x, x)
    _, wide2 = cell(model.second, first, x)
    return wide + wide2


def test_cells_become_classes_and_each_call_site_has_its_own_weights():
    module = archir.parse(CELLS)
    model = archir.to_torch(module)
    assert type(model.first).__name__ == "Cell" and type(model.second) is type(model.first)
    assert model.first.conv.weight.data_ptr() != model.second.conv.weight.data_ptr()
    assert not torch.equal(model.first.conv.weight, model.second.conv.weight)
    for batch in (1, 3):  # symbolic N
        x = torch.randn(batch, 4, 6, 6)
        with torch.no_grad():
            torch.testing.assert_close(model(x), _cell_reference(model, x))


def test_cell_weights_in_the_ir_initialise_every_call_site():
    module = archir.parse(CELLS)
    conv = module.graphs["cell"].ops[0]
    w = np.random.default_rng(0).standard_normal((4, 4, 3, 3)).astype(np.float32)
    b = np.arange(4, dtype=np.float32)
    conv.weights = {"weight": w, "bias": b}
    model = archir.to_torch(module)
    for site in (model.first, model.second):
        assert np.array_equal(site.conv.weight.detach().numpy(), w)
        assert np.array_equal(site.conv.bias.detach().numpy(), b)


def test_weights_load_exactly_and_absent_ones_get_pytorch_defaults():
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", ("N", 3, 8, 8)), "x")
    rng = np.random.default_rng(0)
    conv_w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    bn = {"weight": rng.random(8, dtype=np.float32), "bias": rng.random(8, dtype=np.float32),
          "running_mean": rng.random(8, dtype=np.float32), "running_var": rng.random(8, dtype=np.float32) + 1}
    y = b.conv2d(x, out_channels=8, kernel=3, bias=False, weights={"weight": conv_w}, name="conv")
    y = b.batch_norm(y, weights=bn, name="bn")
    y = b.flatten(b.global_avg_pool(y))
    b.ret(b.linear(y, out_features=5, name="head"))  # no weights: PyTorch's init
    model = archir.to_torch(Module([b.graph]))
    assert np.array_equal(model.conv.weight.detach().numpy(), conv_w)
    for key, value in bn.items():
        assert np.array_equal(getattr(model.bn, key).detach().numpy(), value)
    bound = 1 / np.sqrt(8)  # nn.Linear's kaiming-uniform bound for 8 inputs
    assert model.head.weight.abs().max() <= bound and model.head.weight.std() > bound / 4
    assert not model.training  # the IR's batch_norm is the inference op


def test_training_changes_the_loss():
    torch.manual_seed(0)
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", ("N", 3, 8, 8)), "x")
    y = b.relu(b.batch_norm(b.conv2d(x, out_channels=8, kernel=3, padding=1)))
    y = b.flatten(b.global_avg_pool(y))
    tok = b.parameter(shape=(1, 8), name="bias_token")
    b.ret(b.linear(b.add(y, tok), out_features=4))
    model = archir.to_torch(Module([b.graph])).train()
    names = {n for n, _ in model.named_parameters()}
    assert "bias_token" in names and len(names) == 7  # conv, bn and linear weight and bias; token
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    data, target = torch.randn(16, 3, 8, 8), torch.randint(0, 4, (16,))
    losses = []
    for _ in range(5):
        loss = F.cross_entropy(model(data), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.05
    assert model.bias_token.grad is not None and model.bias_token.grad.abs().sum() > 0


def test_several_outputs_come_back_as_a_tuple_and_one_as_a_tensor():
    module = archir.parse(CELLS)
    cell = archir.to_torch(Module([module.graphs["cell"]]))
    out = cell(torch.randn(2, 4, 6, 6), torch.randn(2, 4, 6, 6))
    assert isinstance(out, tuple) and [o.shape[1] for o in out] == [4, 8]
    assert isinstance(archir.to_torch(module)(torch.randn(1, 4, 6, 6)), torch.Tensor)


def test_kernel_regions_do_not_change_the_generated_module():
    def build(with_kernels: bool) -> Module:
        b = GraphBuilder("main")
        x = b.arg(TensorType("f32", ("N", 3, 8, 8)), "x")
        if with_kernels:
            with b.kernel(target="adreno640", impl="conv_bn_relu", latency_us=12.5):
                y = b.relu(b.conv2d(x, out_channels=4, kernel=3, name="conv"))
        else:
            y = b.relu(b.conv2d(x, out_channels=4, kernel=3, name="conv"))
        b.ret(b.sigmoid(y))
        return Module([b.graph])

    fused = build(True)
    assert isinstance(fused.main.ops[0].kernel, Kernel)
    assert to_torch_source(fused) == to_torch_source(build(False))
    model = archir.to_torch(fused)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(model(x), torch.sigmoid(torch.relu(model.conv(x))))


SPACE = """
param $op = [@conv3, @conv5]

graph @conv3_w4(%x: f32[N, 4, 8, 8]) -> (f32[N, 4, 8, 8]) {
  %c = conv2d(%x) {out_channels = 4, kernel = [3, 3], padding = [1, 1]} : f32[N, 4, 8, 8]
  return %c
}

graph @conv5_w4(%x: f32[N, 4, 8, 8]) -> (f32[N, 4, 8, 8]) {
  %c = conv2d(%x) {out_channels = 4, kernel = [5, 5], padding = [2, 2]} : f32[N, 4, 8, 8]
  return %c
}

graph @main(%x: f32[N, 4, 8, 8]) -> (f32[N, 4, 8, 8]) {
  %mixed = choice(%x) {of = $op, variant = "_w4"} : f32[N, 4, 8, 8]
  %out = relu(%mixed) : f32[N, 4, 8, 8]
  return %out
}
"""


def test_a_search_space_becomes_a_supernet_with_selectable_choices():
    space = archir.parse(SPACE)
    model = archir.to_torch(space)
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        assert model.mixed.active == "conv3"
        torch.testing.assert_close(model(x), torch.relu(model.mixed.options.conv3(x)))
        model.select_cells({"op": "@conv5"})
        torch.testing.assert_close(model(x), torch.relu(model.mixed.options.conv5(x)))
        with pytest.raises(KeyError, match="no option @conv7"):
            model.select_cells({"op": "conv7"})
    # the specialised architecture is the supernet with its choice fixed
    plain = archir.to_torch(archir.specialize(space, {"op": "conv5"}))
    plain.load_state_dict({k.replace("options.conv5.", ""): v for k, v in model.state_dict().items()
                           if "conv3" not in k})
    with torch.no_grad():
        torch.testing.assert_close(plain(x), model(x))


def test_unresolved_attribute_params_ask_for_specialize():
    space = archir.parse("""
param $k = [3, 5]

graph @main(%x: f32[N, 4, 8, 8]) -> (f32[N, 4, 8, 8]) {
  %c = conv2d(%x) {out_channels = 4, kernel = $k, padding = "same"} : f32[N, 4, 8, 8]
  return %c
}
""")
    with pytest.raises(BackendError, match=r"kernel = \$k.*archir\.specialize"):
        archir.to_torch(space)
    model = archir.to_torch(archir.specialize(space, {"k": 5}))
    assert model.c.kernel_size == (5, 5)


def test_invalid_ir_is_rejected_by_the_verifier_first():
    module = archir.parse(CELLS)
    module.graphs["main"].ops[0].results[0].type = TensorType("f32", ("N", 5, 6, 6))
    with pytest.raises(archir.VerifyError):
        archir.to_torch(module)


def test_a_symbol_no_argument_binds_is_an_error():
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (2, 4)), "x")
    b.ret(b.add(b.expand(x, shape=(2, 4)), b.constant(value=1.0, shape=("M", 2, 4))))
    with pytest.raises(BackendError, match="symbol M"):
        archir.to_torch(Module([b.graph]))


def test_source_is_readable_and_kept_on_the_module():
    module = archir.load(archir.__file__.replace("archir/__init__.py", "examples/mobilenet_v2_small.air"))
    model = archir.to_torch(module)
    src = model.archir_source
    assert src == to_torch_source(module)
    assert "class Model(nn.Module):" in src
    assert ("self.stem = nn.Conv2d(3, 32, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)"
            in src)
    assert "block2_residual = batch_norm_14 + batch_norm_9  # f32[N, 24, 56, 56]" in src
    assert "def forward(self, image: torch.Tensor) -> torch.Tensor:" in src
    compile(src, "model.py", "exec")  # valid Python on its own
    # the source is registered for inspection and tracebacks
    assert "def forward" in inspect.getsource(type(model).forward)
    with pytest.raises(RuntimeError) as info:
        model(torch.randn(1, 5, 224, 224))
    frames = "".join(traceback.format_tb(info.value.__traceback__))
    assert "stem = self.stem(image)" in frames
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 64)).shape == (2, 1000)


def test_names_that_clash_with_python_or_nn_module_are_renamed():
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (2, 4)), "lambda")
    y = b.linear(x, out_features=4, name="forward")
    y = b.relu(y, name="torch")
    y = b.linear(y, out_features=4, name="training")
    y = b.sigmoid(y, name="x.1")
    b.ret(b.add(y, b.relu(y, name="x_1")))
    model = archir.to_torch(Module([b.graph]))
    src = model.archir_source
    assert "def forward(self, lambda_: torch.Tensor)" in src
    assert "self.forward_1 = nn.Linear" in src and "self.training_1 = nn.Linear" in src
    assert "torch_1 = F.relu(forward)" in src and "x_1_1 = F.relu(x_1)" in src
    with torch.no_grad():
        inp = torch.randn(2, 4)
        h = torch.sigmoid(model.training_1(torch.relu(model.forward_1(inp))))
        torch.testing.assert_close(model(inp), h + torch.relu(h))


def test_dtypes_follow_the_ir():
    b = GraphBuilder("main")
    x = b.arg(TensorType("bf16", ("N", 8)), "x")
    y = b.layer_norm(b.linear(x, out_features=4, name="proj"), name="norm")
    b.ret(y, b.cast(y, dtype="f32"))
    model = archir.to_torch(Module([b.graph]))
    assert model.proj.weight.dtype == torch.bfloat16 and model.norm.weight.dtype == torch.bfloat16
    with torch.no_grad():
        low, high = model(torch.randn(3, 8, dtype=torch.bfloat16))
    assert low.dtype == torch.bfloat16 and high.dtype == torch.float32
