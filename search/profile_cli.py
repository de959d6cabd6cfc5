"""``archir profile --target ort-cpu --budget 900 [--db PATH]``: measure, refine and train.

Interrupt it at any time: every measurement is already in the database, and running the same
command again continues (it skips what is there) and then trains.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from archir.backends.profile.profiler import Task
from archir.backends.profile.timing import Timing
from archir.frontends.corpus import SPACES, ZOO, default_models
from archir.passes.latency.kernel_registry import default_path, predictor_home
from archir.passes.targets import target_names
from archir.passes.targets.registry import target_for_cli


def default_db() -> Path:
    return predictor_home().parent / "measurements.sqlite"


def configure_profile(p: argparse.ArgumentParser) -> None:
    p.description = ("profile kernels of a measurable target on this machine, store every measurement "
                     "in SQLite (resumable), refine around badly predicted kernels and train the "
                     "target's latency predictor")
    p.add_argument("--target", required=True, help=f"one of: {', '.join(target_names())}")
    p.add_argument("--budget", type=float, default=900.0, metavar="SECONDS",
                   help="wall-clock budget for the whole run (default 900)")
    p.add_argument("--db", type=Path, default=None, help=f"measurement database (default {default_db()})")
    p.add_argument("--out", type=Path, default=None,
                   help="predictor directory (default: the target's home, used by predict_latency)")
    p.add_argument("--models", default="", help="comma-separated corpus models (torchvision names, "
                   "SPACE:SEED); default: the whole zoo plus search-space samples")
    p.add_argument("--exclude-families", default="", help="comma-separated families to leave out of "
                   f"the corpus ({', '.join([*ZOO, *SPACES])})")
    p.add_argument("--space-samples", type=int, default=4, help="samples per search space (default 4)")
    p.add_argument("--threads", type=int, default=1, help="runtime threads (default 1)")
    p.add_argument("--calibration-models", type=int, default=10,
                   help="whole models measured end to end for the between-kernel terms (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_profile)


class RichReporter:
    def __init__(self, progress, budget_s: float):
        self.progress = progress
        self.start = time.monotonic()
        self.budget = progress.add_task("budget", total=budget_s, last="")
        self.current = None

    def _tick(self) -> None:
        self.progress.update(self.budget, completed=min(time.monotonic() - self.start,
                                                        self.progress.tasks[0].total))

    def phase(self, name: str, total: int | None) -> None:
        if self.current is not None:
            self.progress.update(self.current, visible=False)
        self.current = self.progress.add_task(name, total=total, last="")
        self._tick()

    def step(self, task: Task | None, timing: Timing | None) -> None:
        if task is None:
            last = ""
        elif timing is None:
            last = f"[red]{task.kind}: failed"
        else:
            last = f"{task.kind} {timing.median_us:,.1f} µs ±{timing.iqr_us / 2:,.1f}"
        self.progress.update(self.current, advance=1, last=last)
        self._tick()

    def log(self, message: str) -> None:
        self.progress.console.log(message)


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def _profile(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from archir.search.profile_campaign import Campaign, CampaignSettings

    target = target_for_cli(args.target, "profile: error")
    if target is None:
        return 2
    if target.measurable == "no" or (target.measurable == "with-gpu" and not _has_gpu()):
        where = "a GPU" if target.measurable == "with-gpu" else target.device
        print(f"profile: error: target '{target.name}' runs on {where} ({target.runtime}), which this "
              f"machine does not have: it cannot be profiled here", file=sys.stderr)
        return 2
    exclude = frozenset(x for x in args.exclude_families.split(",") if x)
    models = [m for m in args.models.split(",") if m] or default_models(args.space_samples, exclude)
    settings = CampaignSettings(target.name, args.db or default_db(), tuple(models), args.budget,
                                args.out, args.calibration_models, threads=args.threads, seed=args.seed)
    columns = (TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("{task.fields[last]}"))
    with Progress(*columns, transient=False) as progress:
        campaign = Campaign(settings, RichReporter(progress, args.budget))
        try:
            result = campaign.run()
        except KeyboardInterrupt:
            progress.console.print(f"[yellow]interrupted; every measurement so far is in {settings.db}. "
                                   f"Run the same command again to continue.")
            return 130
    p = result.predictor
    print(f"device: {p.fingerprint.describe()} [{result.device}]")
    print(f"measured: {result.kernels} kernels, {result.models} whole models in {settings.db} "
          f"({result.rounds} refinement rounds, {result.seconds:.0f} s)")
    for family, m in sorted(p.families.items()):
        print(f"  {family:<12} {m.rows:5d} rows, out-of-fold median error {m.cv_rel_error:.1%}")
    c = p.calibration
    floor = "no weight floor" if c.weight_gbs == float("inf") else f"weights stream at {c.weight_gbs:g} GB/s"
    print(f"calibration: model = {c.scale:.3f}·Σ kernels ({floor}) + {c.per_kernel_us:.2f} µs/kernel + "
          f"{c.intercept_us:.1f} µs ({c.models} models, leave-one-out median error {c.rel_error:.1%})")
    if result.lowering_failures:
        print(f"models not lowered ({len(result.lowering_failures)}): " + "; ".join(result.lowering_failures))
    if result.failures:
        print(f"kernels that could not be measured: {len(result.failures)} (first: {result.failures[0]})")
    print(f"predictor: {result.path or default_path(target.name)}")
    return 0
