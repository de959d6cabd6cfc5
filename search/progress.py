"""Rich rendering of a running search (a progress bar) and of its result (a table)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from archir.search.config import Budget
from archir.search.loop import Progress as Step
from archir.search.loop import Search, SearchResult
from archir.search.runners.base import Runner


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"


def run_with_progress(search: Search, budget: Budget, runner: Runner, out: Path, console: Console, *,
                      quiet: bool = False) -> SearchResult:
    title = f"{search.config.strategy} on {search.space.name} ({runner.describe()})"
    if quiet:
        return search.run(budget, runner, checkpoint_dir=out)
    total = budget.evaluations if budget.evaluations is not None else None
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[best]}"), console=console, transient=False) as bar:
        task = bar.add_task(title, total=total, completed=search.evaluations, best="")

        def show(step: Step) -> None:
            best = ""
            if step.best is not None:
                best = f"best {_fmt(step.best.score or 0.0)}"
                best += "" if step.best.feasible else " (infeasible)"
            bar.update(task, completed=step.evaluations, best=best)

        return search.run(budget, runner, checkpoint_dir=out, on_progress=show)


def report_table(result: SearchResult, top: int = 3) -> Table:
    objective = result.config.objective
    metrics = list(objective.metric_names)
    table = Table(title=f"{result.config.space.name} · {result.config.strategy} · {objective.describe()} · "
                        f"{result.evaluations} evaluated ({result.stop_reason})")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    for m in metrics:
        table.add_column(m, justify="right")
    table.add_column("feasible")
    front = {r.index for r in result.pareto()}
    for k, r in enumerate(result.top(top), start=1):
        table.add_row(f"{k}{'*' if r.index in front else ''}", _fmt(r.score or 0.0),
                      *(_fmt(r.metrics[m]) for m in metrics), "yes" if r.feasible else "no")
    table.caption = "* on the Pareto front" + (f"; {len(result.failures())} failed evaluations"
                                               if result.failures() else "")
    return table
