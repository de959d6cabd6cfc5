"""``archir search``: output folder contents (checkpoint, Pareto JSON, .air files, PNG) and --resume."""

import json

import archir
from archir.cli import main
from archir.search import SpaceSpec

ARGS = ["search", "--space", "nb201", "--space-option", "cells_per_stage=1", "--space-option", "resolution=8",
        "--space-option", "width=8", "--strategy", "evolution", "--population", "8", "--sample", "3",
        "--objective", "macs", "--max-params", "40000", "--batch-size", "4", "--seed", "5", "--quiet"]


def test_search_writes_front_best_architectures_and_plot_then_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*ARGS, "--budget", "20", "--out", str(out)]) == 0
    doc = json.loads((out / "pareto.json").read_text())
    assert doc["evaluations"] == 20 and doc["objective"] == "maximize macs; subject to params <= 40000 (hard)"
    assert [a["metric"] for a in doc["axes"]] == ["macs", "params"]
    assert doc["pareto_front"] and all(e["feasible"] for e in doc["pareto_front"])
    assert [b["file"] for b in doc["best"]] == ["best-1.air", "best-2.air", "best-3.air"]
    scores = [b["score"] for b in doc["best"]]
    assert scores == sorted(scores, reverse=True)
    space = SpaceSpec("nb201", {"cells_per_stage": 1, "resolution": 8, "width": 8}).build()
    best = archir.load(out / "best-1.air")
    expected = space.specialize(doc["best"][0]["assignment"])
    assert archir.structural_hash(best) == archir.structural_hash(expected)
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "best-1.air" in capsys.readouterr().out

    # the same folder again without --resume is refused; with it, the search continues
    assert main([*ARGS, "--budget", "30", "--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*ARGS, "--budget", "30", "--out", str(out), "--resume"]) == 0
    assert json.loads((out / "pareto.json").read_text())["evaluations"] == 30
    checkpoint = json.loads((out / "checkpoint.json").read_text())
    assert len([r for r in checkpoint["records"] if r["duplicate_of"] is None]) == 30


def test_search_errors_are_one_line_with_the_fix(tmp_path, capsys):
    assert main(["search", "--space", "nb201", "--objective", "latency", "--budget", "5",
                 "--out", str(tmp_path)]) == 2
    assert "needs a target" in capsys.readouterr().err
    assert main(["search", "--space", "nb201", "--target", "note10-cpu", "--objective", "latency",
                 "--budget", "5", "--out", str(tmp_path)]) == 2
    assert "Once-for-All" in capsys.readouterr().err
    assert main(["search", "--space", "nb201", "--out", str(tmp_path)]) == 2
    assert "give a budget" in capsys.readouterr().err
