"""The kernel predictor: fitting, saving (LightGBM text + JSON), fingerprint checks, annotation and
predict_latency. Trained on synthetic latencies (a known function of the features), so every
assertion is about the machinery, never about this machine's speed."""

import json
import random
import shutil

import numpy as np
import pytest

from archir import GraphBuilder, Module, TensorType
from archir.passes import run_pipeline
from archir.passes.latency import (
    FingerprintMismatch,
    KernelPredictor,
    LatencyError,
    NoPredictor,
    PredictorFileError,
    load_predictor,
    predict_latency,
)
from archir.passes.latency.device import machine_fingerprint
from archir.passes.latency.kernel_features import FEATURES, kernel_item
from archir.passes.latency.kernel_fit import FitParams, ModelRow, TrainRow, fit_kernel_predictor
from archir.passes.latency.kernel_io import size_bytes
from archir.passes.latency.kernel_module import kernel_configs
from archir.passes.latency.sampling import perturb
from archir.passes.targets import compile_for, kernels

FLOPS, BYTES = FEATURES.index("flops"), FEATURES.index("in_bytes")


def net(width: int = 16, hw: int = 16, residual: bool = True, classes: int = 10) -> Module:
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (1, 3, hw, hw)), "x")
    y = b.relu(b.conv2d(x, out_channels=width, kernel=3, padding=1))
    z = b.relu6(b.conv2d(y, out_channels=width, kernel=3, padding=1, groups=width))
    if residual:
        z = b.add(z, y)
    z = b.flatten(b.global_avg_pool(z))
    b.ret(b.linear(z, out_features=classes))
    return Module([b.graph])


def synthetic_us(item) -> float:
    """A 'device': 2 µs + 1 µs per 10 kFLOP + 1 µs per 4 kB (the tests' ground truth)."""
    f = item[2]
    return 2.0 + f[FLOPS] / 1e4 + f[BYTES] / 4e3


def training_rows(n_models: int = 12):
    rng = random.Random(0)
    rows, models = {}, []
    for i in range(n_models):
        m = compile_for(net(width=8 * (1 + i % 4), hw=8 + 4 * (i % 5), residual=i % 2 == 0), "ort-cpu")
        items = []
        for cfg in kernel_configs(m):
            for c in [cfg] + [perturb(cfg, rng) for _ in range(3)]:
                if c is not None:
                    item = kernel_item(c.ops)
                    rows[c.key] = TrainRow(c.key, item, synthetic_us(item))
            items.append(kernel_item(cfg.ops))
        # the whole model: kernels plus 3 µs per kernel and 20 µs per run
        models.append(ModelRow(f"m{i}", tuple(items), sum(synthetic_us(it) + 3 for it in items) + 20))
    return list(rows.values()), models


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    rows, models = training_rows()
    fp = machine_fingerprint("onnxruntime-cpu", 1, "opt=extended")
    params = FitParams(max_rounds=200, min_rows_for_trees=8)
    predictor, errors = fit_kernel_predictor("ort-cpu", fp, rows, models, params)
    path = tmp_path_factory.mktemp("pred") / "ort-cpu"
    predictor.save(path)
    return predictor, errors, rows, models, path


def test_fit_learns_every_family_with_out_of_fold_errors(trained):
    predictor, errors, rows, _, _ = trained
    assert set(predictor.families) >= {"conv", "dwconv", "elementwise", "gap", "dense"}
    assert set(errors) == {r.key for r in rows if r.item[0] != "free"}
    conv = predictor.families["conv"]
    assert conv.mean is not None and conv.lo is not None and conv.rows > 8
    # the synthetic law is smooth: the base plus trees recover it closely on the training rows
    preds = predictor.predict_raw([r.item for r in rows])
    rel = [abs(p / r.y_us - 1) for (p, _), r in zip(preds, rows)]
    assert np.median(rel) < 0.1


def test_calibration_recovers_between_kernel_terms(trained):
    c = trained[0].calibration
    assert c.models == 12
    assert c.per_kernel_us == pytest.approx(3.0, abs=1.5) and c.intercept_us == pytest.approx(20, abs=15)


def test_save_load_roundtrip_is_text_and_identical(trained):
    predictor, _, rows, _, path = trained
    files = sorted(p.name for p in path.iterdir())
    assert "predictor.json" in files and all(f.endswith((".txt", ".json")) for f in files)
    assert not any(f.endswith((".pkl", ".pickle")) for f in files)
    assert size_bytes(path) < 20e6
    loaded = KernelPredictor.load(path)
    items = [r.item for r in rows[:50]]
    assert loaded.predict_raw(items, with_std=True) == predictor.predict_raw(items, with_std=True)
    doc = json.loads((path / "predictor.json").read_text())
    assert doc["features"][:len(FEATURES)] == list(FEATURES) and doc["fingerprint"]["threads"] == 1


def test_tampered_or_foreign_files_are_refused(trained, tmp_path):
    _, _, _, _, path = trained
    copy = tmp_path / "p"
    shutil.copytree(path, copy)
    model = next(copy.glob("conv.mean.txt"))
    model.write_text(model.read_text().replace("tree", "tre", 1))
    with pytest.raises(PredictorFileError, match="checksum"):
        KernelPredictor.load(copy)
    (copy / "predictor.json").write_text('{"format": "something-else"}')
    with pytest.raises(PredictorFileError, match="not an archir kernel predictor"):
        KernelPredictor.load(copy)


def test_fingerprint_mismatch_is_refused_unless_forced(trained, tmp_path):
    _, _, _, _, path = trained
    copy = tmp_path / "other"
    shutil.copytree(path, copy)
    doc = json.loads((copy / "predictor.json").read_text())
    doc["fingerprint"]["runtime_version"] = "0.0.1"
    (copy / "predictor.json").write_text(json.dumps(doc))
    with pytest.raises(FingerprintMismatch, match="runtime_version"):
        load_predictor("ort-cpu", copy)
    assert load_predictor("ort-cpu", copy, force=True).fingerprint.runtime_version == "0.0.1"
    with pytest.raises(ValueError, match="not 'torch-cpu'"):
        load_predictor("torch-cpu", path)


def test_missing_predictor_says_how_to_train(tmp_path):
    with pytest.raises(NoPredictor, match="archir profile --target ort-cpu"):
        load_predictor("ort-cpu", tmp_path / "nothing")
    with pytest.raises(NoPredictor, match="cannot be profiled here"):
        load_predictor("adreno640", tmp_path / "nothing")


def test_predict_latency_fuses_first_and_matches_annotation(trained):
    predictor, _, _, _, path = trained
    m = net(width=24, hw=12)
    ms = predict_latency(m, "ort-cpu", predictor=str(path))
    assert ms > 0
    fused = compile_for(m, "ort-cpu")
    assert predict_latency(fused, "ort-cpu", predictor=predictor) == pytest.approx(ms)
    annotated = run_pipeline(fused, f"annotate-latency{{target=ort-cpu,predictor=\"{path}\"}}")
    views = kernels(annotated)
    assert all(k.latency_us is not None and k.latency_us >= 0 for k in views)
    assert all(k.latency_std_us is not None for k in views if k.kind != "reshape")
    total = sum(k.latency_us for k in views) + predictor.calibration.intercept_us
    # kernel attributes are stored rounded to 1 ns
    assert total / 1e3 == pytest.approx(ms, abs=1e-6 * len(views))
    assert all(k.latency_us is None for k in kernels(fused))  # the caller's module is untouched


def test_a_family_without_a_model_is_an_error_not_zero(trained):
    predictor = trained[0]
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (1, 8, 16)), "x")
    b.ret(b.softmax(x, axis=-1))
    with pytest.raises(LatencyError, match="softmax"):
        predict_latency(Module([b.graph]), "ort-cpu", predictor=predictor)


def test_kernels_of_another_target_are_refused(trained):
    other = compile_for(net(), "torch-cpu")
    with pytest.raises(LatencyError, match="torch-cpu"):
        predict_latency(other, "ort-cpu", predictor=trained[0])


def test_cache_gives_the_same_answer(trained):
    predictor = trained[0]
    m = compile_for(net(width=40, hw=20), "ort-cpu")
    first = predict_latency(m, "ort-cpu", predictor=predictor)
    assert predict_latency(m, "ort-cpu", predictor=predictor) == first
    predictor._cache.clear()
    assert predict_latency(m, "ort-cpu", predictor=predictor) == first
