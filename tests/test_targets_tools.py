"""detect-fusion (decision rule, resumable store, rule file the targets load) and show
(rich table, self-contained HTML with a well-formed SVG kernel graph)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import archir
from archir.backends.profile.detect import Store, Timing, decide, detect
from archir.cli import main
from archir.passes.targets import compile_for, get_target, kernels
from archir.passes.targets.pair_fusion import PairFusion
from archir.passes.targets.rulefile import load_rules, parse_rules
from archir.passes.targets.show import html_page

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mobilenet_v2_small.air"


def test_decision_rule_is_nnmeters():
    assert decide(43.7, 5.0, 45.4) is True  # conv->add on Adreno: 3.3 > 2.5
    assert decide(5.0, 43.7, 48.5) is False  # add->conv: 0.2 < 2.5
    assert decide(10.0, 10.0, 15.0) is False  # exactly at the threshold is not fused
    assert decide(10.0, 10.0, 14.9) is True


def fake_measure(calls):
    # a fused pair saves most of the cheaper op; everything else adds up
    cost = {"conv": 100.0, "relu": 10.0, "add": 12.0}

    def measure(module, repeats):
        if module.main.args[0].type.shape == (1,):  # the run() overhead probe
            return Timing(5.0, 0.1)
        kinds = [op.name for op in module.main.ops]
        calls.append(tuple(kinds))
        names = ["conv" if k == "conv2d" else k for k in kinds]
        total = sum(cost[n] for n in names if n in cost) + 5.0  # 5 us of run() overhead
        if names[:2] == ["conv", "relu"]:
            total -= 9.0
        return Timing(total, 0.5)

    return measure


def test_detect_measures_pairs_resumes_and_writes_a_loadable_rule_file(tmp_path):
    calls: list = []
    store = Store(tmp_path / "m.jsonl")
    rules = detect(["conv", "relu", "add"], store, measure=fake_measure(calls))
    assert rules["BF_conv_relu"]["obey"] is True and rules["BF_relu_conv"]["obey"] is False
    assert rules["meta"]["run_overhead_us"] == 5.0
    loaded = parse_rules(rules, "<detected>")
    assert loaded.pairs == {("conv", "relu")}
    first = len(calls)
    again: list = []
    detect(["conv", "relu", "add"], Store(tmp_path / "m.jsonl"), measure=fake_measure(again))
    assert first > 0 and again == []  # every measurement came from the store
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    fused = PairFusion(load_rules(path))
    b = archir.GraphBuilder("main")
    x = b.arg(archir.TensorType("f32", (1, 4, 8, 8)), "x")
    b.ret(b.relu(b.conv2d(x, out_channels=4, kernel=3, padding=1)))
    assert len(fused.partition(b.graph).groups()) == 1


def test_detect_rejects_unknown_ops(tmp_path):
    with pytest.raises(ValueError, match="no test case for warp"):
        detect(["warp"], Store(tmp_path / "m.jsonl"))


def test_shipped_measured_rules_say_where_they_were_measured():
    rules = load_rules(Path(archir.passes.targets.__file__).parent / "data" / "ort_cpu_measured.json")
    meta = dict(rules.meta)
    assert "onnxruntime" in meta["runtime"] and meta["alpha"] == 0.5


def test_html_page_is_well_formed_with_one_box_per_kernel():
    m = compile_for(archir.load(EXAMPLE), "adreno640")
    ks = kernels(m)
    page = html_page(ks, "adreno640", "mobilenet_v2_small.air")
    root = ET.fromstring(page.split("\n", 1)[1])  # the doctype line is not XML
    ns = {"h": "http://www.w3.org/1999/xhtml", "s": "http://www.w3.org/2000/svg"}
    svg = root.find(".//s:svg", ns)
    assert svg is not None
    assert len(svg.findall("s:g", ns)) == len(ks)
    assert len(svg.findall("s:path", ns)) >= len(ks) - 1  # a chain at least
    assert "conv_constants" in page and get_target("adreno640").latency.source in page


def test_show_cli(tmp_path, capsys):
    html = tmp_path / "out.html"
    assert main(["show", str(EXAMPLE), "--target", "mali-g76", "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert "depthwise_conv_3x3" in out and "kernels" in out
    ET.fromstring(html.read_text().split("\n", 1)[1])
    assert main(["show", str(EXAMPLE), "--target", "nope"]) == 2
    assert "known:" in capsys.readouterr().err


def test_detect_cli_refuses_targets_without_a_runtime_here(capsys):
    assert main(["detect-fusion", "--target", "adreno640"]) == 2
    assert "only onnxruntime" in capsys.readouterr().err


def test_target_passes_run_in_a_pipeline():
    from archir.passes import PassError, run_pipeline

    m = archir.load(EXAMPLE)
    out = run_pipeline(m, "gpu-rewrites{target=adreno640},fuse{target=adreno640},"
                          "select-kernels{target=adreno640,precision=f32}")
    out = getattr(out, "module", out)
    ks = kernels(out)
    assert ks and all(k.impl and k.precision == "f32" for k in ks)
    assert "batch_norm" not in {name for k in ks for name in k.op_names}  # folded by the rewrites
    with pytest.raises(PassError, match="unknown target 'nope'"):
        run_pipeline(m, "fuse{target=nope}")


def test_fuse_takes_a_detected_rule_file(tmp_path):
    from archir.passes import PassError, run_pipeline

    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"BF_conv_relu": {"obey": True}, "BF_relu_add": {"obey": False}}))
    b = archir.GraphBuilder("main")
    x = b.arg(archir.TensorType("f32", (1, 4, 8, 8)), "x")
    b.ret(b.add(b.relu(b.conv2d(x, out_channels=4, kernel=3, padding=1)), x))
    pipeline = f'fuse{{target=ort-cpu,rules="{path}"}},select-kernels{{target=ort-cpu}}'
    out = run_pipeline(archir.Module([b.graph]), pipeline)
    out = getattr(out, "module", out)
    assert [k.op_names for k in kernels(out)] == [("conv2d", "relu"), ("add",)]
    path.write_text(json.dumps({"BF_conv_relux": {"obey": True}}))
    with pytest.raises(PassError, match="unknown op class 'relux'"):
        run_pipeline(archir.Module([b.graph]), f'fuse{{target=ort-cpu,rules="{path}"}}')
