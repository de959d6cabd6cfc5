"""``archir profile`` end to end on a tiny corpus and budget, and ``archir predict``."""

import json
import sqlite3

from test_kernel_latency_predictor import net, training_rows

from archir import save
from archir.cli import main
from archir.passes.latency.device import machine_fingerprint
from archir.passes.latency.kernel_fit import FitParams, fit_kernel_predictor


def test_profile_measures_stores_and_trains(tmp_path, capsys):
    db, out = tmp_path / "m.sqlite", tmp_path / "pred"
    argv = ["profile", "--target", "ort-cpu", "--budget", "25", "--db", str(db), "--out", str(out),
            "--models", "nas-bench-201:0", "--calibration-models", "1"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "predictor:" in text and "calibration:" in text
    doc = json.loads((out / "predictor.json").read_text())
    assert doc["target"] == "ort-cpu" and doc["families"]
    rows = sqlite3.connect(db).execute(
        "SELECT scope, COUNT(*), COUNT(DISTINCT config_key) FROM measurements GROUP BY scope").fetchall()
    counts = {scope: (n, distinct) for scope, n, distinct in rows}
    assert counts["kernel"][0] == counts["kernel"][1] > 0
    assert counts["model"] == (3, 3)  # a bare session run, one calibration model in two passes
    query = "SELECT config_key FROM measurements WHERE scope = 'model' AND kind != 'run-overhead'"
    keys = [k for (k,) in sqlite3.connect(db).execute(query)]
    assert sorted(k.split("#")[0] for k in keys) == [keys[0].split("#")[0]] * 2
    assert (tmp_path / "m.models" / "nas-bench-201_0.air").exists()  # lowered once, cached


def test_profile_refuses_a_target_it_cannot_measure(tmp_path, capsys):
    assert main(["profile", "--target", "adreno640", "--db", str(tmp_path / "m.sqlite")]) == 2
    assert "cannot be profiled here" in capsys.readouterr().err


def test_predict_prints_kernels_and_total(tmp_path, capsys):
    rows, models = training_rows(6)
    fp = machine_fingerprint("onnxruntime-cpu", 1, "opt=extended")
    predictor, _ = fit_kernel_predictor("ort-cpu", fp, rows, models, FitParams(max_rounds=100))
    predictor.save(tmp_path / "pred")
    save(net(width=24), tmp_path / "net.air")
    assert main(["predict", str(tmp_path / "net.air"), "--target", "ort-cpu",
                 "--predictor", str(tmp_path / "pred")]) == 0
    text = capsys.readouterr().out
    assert "conv-relu" in text and "FusedConv" in text and "total:" in text and " ms" in text
    assert main(["predict", str(tmp_path / "net.air"), "--target", "ort-cpu",
                 "--predictor", str(tmp_path / "none")]) == 1
    assert "archir profile --target ort-cpu" in capsys.readouterr().err
