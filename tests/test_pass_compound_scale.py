"""compound-scale against torchvision's EfficientNet-B1..B7.

EfficientNet-B0 is built with GraphBuilder from the paper's Table 1 (it must match
torchvision's efficientnet_b0 exactly); scaling it with each B-model's width and depth
multipliers, at the resolution of torchvision's weights, must give torchvision's published
parameter count exactly and its published GMACs (``meta["_ops"]``) within 1%. Once
``archir.from_torch`` exists the same holds for the IR traced from torchvision's own B0.
"""

from __future__ import annotations

import math

import pytest

import archir
from archir import GraphBuilder, Module, TensorType
from archir.passes import PassError, run_pipeline
from archir.passes.blocks import find_stages
from archir.passes.channel_plan import ChannelPlan, make_divisible

torchvision = pytest.importorskip("torchvision")

# EfficientNet-B0 (Tan & Le 2019, Table 1): expand ratio, kernel, stride, in, out, layers.
B0_STAGES = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
             (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
# (width, depth) multipliers of B1..B7, the inputs torchvision builds them from.
MULTIPLIERS = {"efficientnet_b1": (1.0, 1.1), "efficientnet_b2": (1.1, 1.2),
               "efficientnet_b3": (1.2, 1.4), "efficientnet_b4": (1.4, 1.8),
               "efficientnet_b5": (1.6, 2.2), "efficientnet_b6": (1.8, 2.6),
               "efficientnet_b7": (2.0, 3.1)}


def efficientnet_b0(size: int = 224) -> Module:
    b = GraphBuilder()
    x = b.arg(TensorType("f32", ("N", 3, size, size)), "image")

    def conv_bn(x, c, k=1, s=1, groups=1, act=True, name=None):
        y = b.batch_norm(b.conv2d(x, out_channels=c, kernel=k, stride=s, padding=(k - 1) // 2,
                                  groups=groups, bias=False, name=name))
        return b.silu(y) if act else y

    x = conv_bn(x, 32, 3, 2, name="stem")
    for si, (expand, k, stride, cin, cout, layers) in enumerate(B0_STAGES):
        for i in range(layers):
            inp, s = (cin, stride) if i == 0 else (cout, 1)
            wide = inp * expand
            h = conv_bn(x, wide, name=f"s{si}.{i}.expand") if expand != 1 else x
            h = conv_bn(h, wide, k, s, wide, name=f"s{si}.{i}.dw")
            gate = b.conv2d(b.adaptive_avg_pool2d(h, output_size=1), out_channels=max(1, inp // 4), kernel=1)
            gate = b.sigmoid(b.conv2d(b.silu(gate), out_channels=wide, kernel=1))
            h = conv_bn(b.mul(h, gate), cout, act=False, name=f"s{si}.{i}.project")
            x = b.add(h, x) if s == 1 and inp == cout else h
    x = b.adaptive_avg_pool2d(conv_bn(x, 1280, name="head"), output_size=1)
    b.ret(b.linear(b.dropout(b.flatten(x), p=0.2), out_features=1000, name="classifier"))
    return Module([b.graph])


def reference(name: str) -> tuple[int, float, int]:
    """torchvision's published (params, GMACs, crop size) for ``name``'s first weights."""
    weights = next(iter(torchvision.models.get_model_weights(name)))
    return weights.meta["num_params"], weights.meta["_ops"], weights.transforms().crop_size[0]


def scale(module: Module, width: float, depth: float, size: int) -> Module:
    return run_pipeline(module, f"compound-scale{{width={width},depth={depth}}},"
                                f"set-input-shape{{shape=[-1,3,{size},{size}]}}", verify_each=True)


def stage_sizes(module: Module) -> list[int]:
    g = module.main
    return [len(s.blocks) for s in find_stages(g, ChannelPlan.analyse(g))]


def test_the_b0_builder_is_torchvisions_b0():
    params, gmacs, size = reference("efficientnet_b0")
    c = archir.cost(efficientnet_b0(size))
    assert c.params == params
    assert c.macs / 1e9 == pytest.approx(gmacs, rel=0.01)
    assert stage_sizes(efficientnet_b0()) == [layers for *_, layers in B0_STAGES]


@pytest.mark.parametrize("name", list(MULTIPLIERS))
def test_scaling_b0_gives_torchvisions_model(name: str):
    width, depth = MULTIPLIERS[name]
    params, gmacs, size = reference(name)
    scaled = scale(efficientnet_b0(), width, depth, size)
    c = archir.cost(scaled)
    assert c.params == params
    assert c.macs / 1e9 == pytest.approx(gmacs, rel=0.01)
    assert stage_sizes(scaled) == [math.ceil(layers * depth) for *_, layers in B0_STAGES]


def test_phi_is_the_papers_compound_coefficient():
    b0 = efficientnet_b0()
    by_phi = run_pipeline(b0, "compound-scale{phi=2}", verify_each=True)
    explicit = run_pipeline(b0, f"compound-scale{{width={1.1 ** 2},depth={1.2 ** 2},"
                                f"resolution={1.15 ** 2}}}", verify_each=True)
    assert archir.to_text(by_phi) == archir.to_text(explicit)
    assert by_phi.main.args[0].type.shape[2:] == (round(224 * 1.15 ** 2),) * 2


def test_depth_below_one_drops_residual_blocks_from_each_stage_end():
    shallow = run_pipeline(efficientnet_b0(), "compound-scale{depth=0.5}", verify_each=True)
    assert stage_sizes(shallow) == [1, 1, 1, 2, 2, 2, 1]


def test_weights_are_dropped_since_a_scaled_network_is_untrained():
    import numpy as np

    b = GraphBuilder()
    x = b.arg(TensorType("f32", (1, 3, 8, 8)), "x")
    y = b.conv2d(x, out_channels=16, kernel=3, padding=1,
                 weights={"weight": np.zeros((16, 3, 3, 3), np.float32), "bias": np.zeros(16, np.float32)})
    b.ret(b.global_avg_pool(b.relu(y)))
    m = Module([b.graph])
    m.main.outputs = [b.linear(b.flatten(m.main.outputs[0]), out_features=4)]
    wide = run_pipeline(m, "compound-scale{width=2}", verify_each=True)
    assert wide.main.ops[0].attrs["out_channels"] == 32 and wide.main.ops[0].weights is None
    assert m.main.ops[0].weights is not None  # the caller's module keeps its own


def test_make_divisible_rounds_the_efficientnet_way():
    assert [make_divisible(v, 8) for v in (35.2, 17.6, 44.0, 123.2, 211.2, 3.0, 1408.0)] == \
        [32, 16, 48, 120, 208, 8, 1408]
    assert make_divisible(13.0, 8) == 16  # 8 would lose more than 10%


def test_grouped_convs_keep_widths_their_groups_divide():
    b = GraphBuilder()
    x = b.arg(TensorType("f32", (1, 3, 8, 8)), "x")
    h = b.conv2d(x, out_channels=32, kernel=1)
    h = b.conv2d(h, out_channels=32, kernel=3, padding=1, groups=16)
    b.ret(b.global_avg_pool(b.conv2d(h, out_channels=32, kernel=1)))
    wide = run_pipeline(Module([b.graph]), "compound-scale{width=1.3}", verify_each=True)
    # 32 * 1.3 = 41.6 rounds to a multiple of lcm(8, 16) = 48
    assert [op.attrs["out_channels"] for op in wide.main.ops if op.name == "conv2d"] == [48, 48, 32]


def test_a_stage_that_cannot_be_repeated_is_reported():
    b = GraphBuilder()
    x = b.arg(TensorType("f32", (1, 8, 8, 8)), "x")
    e = b.conv2d(x, out_channels=32, kernel=1)
    d = b.conv2d(e, out_channels=32, kernel=3, stride=2, groups=32)  # no padding: 8 -> 3
    b.ret(b.global_avg_pool(b.conv2d(d, out_channels=16, kernel=1)))
    with pytest.raises(PassError, match=r"compound-scale\{depth=2\}: cannot deepen the stage ending at %\w+: "
                                        r"its block, repeated at stride 1, maps f32\[1, 16, 3, 3\] to "
                                        r"f32\[1, 16, 1, 1\]"):
        run_pipeline(Module([b.graph]), "compound-scale{depth=2}", verify_each=True)


@pytest.mark.parametrize("name", ["efficientnet_b1", "efficientnet_b2", "efficientnet_b3"])
def test_scaling_torchvisions_own_b0_ir(name: str):
    """The acceptance test on IR traced from torchvision (needs archir.from_torch)."""
    from_torch = archir.from_torch
    import torch

    b0 = from_torch(torchvision.models.efficientnet_b0().eval(), (torch.zeros(1, 3, 224, 224),),
                    weights=False)
    b0 = run_pipeline(b0, "canonicalize", verify_each=True)
    width, depth = MULTIPLIERS[name]
    params, gmacs, size = reference(name)
    c = archir.cost(scale(b0, width, depth, size))
    assert c.params == params
    assert c.macs / 1e9 == pytest.approx(gmacs, rel=0.01)
