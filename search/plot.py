"""The Pareto plot (PNG, matplotlib's Agg backend): every evaluated architecture, the front drawn
as a step line, the constraint limits as dashed lines."""

from __future__ import annotations

from pathlib import Path

from archir.search.history import Record
from archir.search.objectives.pareto import Axis, pareto_front


def plot_pareto(records: list[Record], axes: list[Axis], path: Path, *, title: str,
                limits: dict[str, float] | None = None) -> Path:
    """``axes[0]`` on y, ``axes[1]`` on x; the front drawn is the one over these two axes (the
    JSON report holds the front over all of them)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("the Pareto plot needs matplotlib: pip install matplotlib") from None
    y_axis = axes[0]
    x_axis = axes[1] if len(axes) > 1 else Axis("params", "min")
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    feasible = [r for r in records if r.feasible]
    pts2 = [[r.metrics[y_axis.metric], r.metrics[x_axis.metric]] for r in feasible]
    front = [feasible[i] for i in pareto_front(pts2, [y_axis, x_axis])]
    ok = feasible
    bad = [r for r in records if not r.feasible]
    for group, colour, label in ((bad, "#cccccc", "violates a constraint"), (ok, "#7aa6d8", "feasible")):
        if group:
            ax.scatter([r.metrics[x_axis.metric] for r in group], [r.metrics[y_axis.metric] for r in group],
                       s=12, c=colour, label=label, linewidths=0)
    if front:
        pts = sorted((r.metrics[x_axis.metric], r.metrics[y_axis.metric]) for r in front)
        ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", color="#d62728", lw=1.2)
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=28, c="#d62728", zorder=3,
                   label=f"Pareto front ({x_axis.metric}, {y_axis.metric})")
    for metric, limit in (limits or {}).items():
        if metric == x_axis.metric:
            ax.axvline(limit, ls="--", c="k", lw=0.8, label=f"{metric} limit")
        elif metric == y_axis.metric:
            ax.axhline(limit, ls="--", c="k", lw=0.8, label=f"{metric} limit")
    ax.set_xlabel(f"{x_axis.metric} ({'lower' if x_axis.direction == 'min' else 'higher'} is better)")
    ax.set_ylabel(f"{y_axis.metric} ({'lower' if y_axis.direction == 'min' else 'higher'} is better)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
