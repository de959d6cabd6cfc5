"""The note10-cpu target: OFA MobileNetV3 IR fuses into exactly the Note10 table units, and its
latency is the LUT predictor's sum over those units (the search objective's figure)."""

from __future__ import annotations

import random

import pytest

import archir
from archir import GraphBuilder, Module, TensorType
from archir.frontends.spaces.ofa_mbv3 import OFAMobileNetV3Space
from archir.passes import run_pipeline
from archir.passes.base import PassError
from archir.passes.latency import predict_latency
from archir.passes.latency.lut_cache import note10_predictor
from archir.passes.latency.lut_ir import kernel_key
from archir.passes.latency.lut_keys import parse_key
from archir.passes.latency.lut_ofa import OfaSubnet, subnet_keys
from archir.passes.targets import compile_for, fuse, get_target
from archir.passes.targets.note10 import NotOfaShaped
from archir.search.objectives.latency import note10_latency_ms

TARGET = "note10-cpu"
SPACE = OFAMobileNetV3Space(width_mult=1.2)  # the supernet the Note10 tables measure


def _subnet(a) -> OfaSubnet:
    depths = tuple(a[f"s{s}.depth"] for s in range(1, 6))
    present = [f"s{s}.b{i}" for s, d in zip(range(1, 6), depths) for i in range(d)]
    return OfaSubnet(a["resolution"], depths, tuple(a[f"{b}.kernel"] for b in present),
                     tuple(a[f"{b}.expand"] for b in present))


def _sample(seed: int):
    a = SPACE.sample(random.Random(seed))
    return a, SPACE.specialize(a, flat=True)


def test_target_metadata():
    t = get_target(TARGET)
    assert t.family == "tflite-cpu" and t.measurable == "no" and t.latency.kind == "imported"
    assert "Once-for-All" in t.device and "Note10" in t.latency.source


@pytest.mark.parametrize("seed", range(6))
def test_fusion_gives_exactly_the_subnet_table_keys(seed):
    a, m = _sample(seed)
    fused = fuse(m, TARGET)
    archir.verify(fused)
    regions = fused.main.kernels()
    assert sum(len(ops) for _, ops in regions) == len(fused.main.ops)  # every op in one kernel
    keys = [kernel_key(ops) for _, ops in regions]
    assert keys == subnet_keys(_subnet(a))
    assert all(str(parse_key(k)) == k for k in keys)


@pytest.mark.parametrize("seed", range(4))
def test_selector_names_the_table_unit(seed):
    _, m = _sample(seed)
    impls = [k.impl for k, _ in compile_for(m, TARGET).main.kernels()]
    assert impls[0] == "Conv" and impls[-4:] == ["Conv_1", "AvgPool2D", "Conv_2", "Logits"]
    assert set(impls[1:-4]) == {"expanded_conv"}


@pytest.mark.parametrize("seed", range(6))
def test_predict_latency_is_the_search_objectives_figure(seed):
    a, m = _sample(seed)
    want = sum(note10_predictor().predict_keys(subnet_keys(_subnet(a))))
    assert predict_latency(m, TARGET) == pytest.approx(want, rel=1e-6)
    assert predict_latency(m, TARGET) == pytest.approx(note10_latency_ms(SPACE, a), rel=1e-6)
    assert predict_latency(compile_for(m, TARGET), TARGET) == pytest.approx(want, rel=1e-6)


def test_annotate_latency_sets_imported_microseconds():
    a, m = _sample(7)
    out = run_pipeline(m, f"fuse{{target={TARGET}}},select-kernels{{target={TARGET}}},"
                          f"annotate-latency{{target={TARGET}}}")
    regions = out.main.kernels()
    ms = note10_predictor().predict_keys(subnet_keys(_subnet(a)))
    assert [k.attrs["latency_source"] for k, _ in regions] == ["imported"] * len(regions)
    assert [k.latency_us for k, _ in regions] == pytest.approx([x * 1e3 for x in ms], abs=1e-3)


def _not_ofa() -> Module:
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (1, 3, 64, 64)), "x")
    y = b.relu(b.conv2d(x, out_channels=16, kernel=3, stride=2, padding=1))
    y = b.sigmoid(b.conv2d(y, out_channels=32, kernel=3, padding=1))  # a dense 3x3 conv: no MBConv
    b.ret(b.linear(b.flatten(b.global_avg_pool(y)), out_features=10))
    return Module([b.graph])


def test_a_graph_that_is_not_ofa_shaped_is_refused_naming_the_op():
    m = _not_ofa()
    with pytest.raises(NotOfaShaped, match=r"note10-cpu: cannot place '\w+' \(op #\d+.*Once-for-All"):
        fuse(m, TARGET)
    with pytest.raises(NotOfaShaped):
        predict_latency(m, TARGET)
    torch_fused = fuse(_sample(0)[1], "torch-cpu")  # kernels of another target are refused, not re-keyed
    with pytest.raises(PassError, match="fused for 'torch-cpu'"):
        run_pipeline(torch_fused, f"annotate-latency{{target={TARGET}}}")


def test_an_unflattened_subnet_is_refused():
    a = SPACE.sample(random.Random(1))
    with pytest.raises(NotOfaShaped, match="call|choice|flat"):
        fuse(SPACE.specialize(a), TARGET)
