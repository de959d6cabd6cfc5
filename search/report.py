"""What a search leaves in its output folder: ``pareto.json`` (the front and the best
architectures with their metrics), ``best-K.air`` (``archir.save``) and ``pareto.png``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archir.io import save
from archir.search.history import Record
from archir.search.loop import SearchResult
from archir.search.objectives.catalog import pareto_axes
from archir.search.objectives.latency import Latency


def latency_label(result: SearchResult) -> str | None:
    for m in result.config.objective.measures:
        if isinstance(m, Latency):
            return m.provenance()
    return None


def _entry(result: SearchResult, r: Record) -> dict[str, Any]:
    return {"index": r.index, "encoding": result.space.encode(r.assignment), "assignment": r.assignment,
            "metrics": r.metrics, "score": r.score, "feasible": r.feasible}


def write_report(result: SearchResult, out: Path, *, top: int = 3, plot: bool = True,
                 warn: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write the files; returns them by role. A missing matplotlib skips only the plot (``warn``
    is told why)."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    best = result.top(top)
    best_entries = []
    for k, r in enumerate(best, start=1):
        path = out / f"best-{k}.air"
        save(result.space.specialize(r.assignment), path)
        written[f"best-{k}"] = path
        best_entries.append({**_entry(result, r), "file": path.name})
    front = result.pareto()
    axes = pareto_axes(result.config.objective)
    doc = {
        "space": result.config.space.to_json(), "strategy": result.config.strategy,
        "objective": result.config.objective.describe(), "latency": latency_label(result),
        "evaluations": result.evaluations, "stop_reason": result.stop_reason,
        "axes": [{"metric": a.metric, "better": "higher" if a.direction == "max" else "lower"} for a in axes],
        "pareto_front": [_entry(result, r) for r in sorted(front, key=lambda r: r.metrics[axes[-1].metric])],
        "best": best_entries,
        "failures": len(result.failures()),
    }
    written["pareto"] = out / "pareto.json"
    written["pareto"].write_text(json.dumps(doc, indent=1, allow_nan=False))
    if plot:
        from archir.search.plot import plot_pareto

        limits = {c.metric: c.limit for c in result.config.objective.constraints}
        title = f"{result.config.space.name}, {result.config.strategy}: {result.config.objective.describe()}"
        label = latency_label(result)
        if label:
            title += f"\nlatency {label}"
        try:
            written["plot"] = plot_pareto(result.evaluated, axes, out / "pareto.png", title=title,
                                          limits=limits)
        except ImportError as e:
            if warn is not None:
                warn(f"pareto.png skipped: {e}")
    return written
