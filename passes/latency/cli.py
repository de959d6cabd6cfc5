"""``archir predict FILE --target T``: per-kernel and total predicted latency (a rich table)."""

from __future__ import annotations

import argparse
import sys

from archir.io import load


def configure_predict(p: argparse.ArgumentParser) -> None:
    p.description = ("predict the latency of an .air model on a target: fuses and selects kernels if "
                     "the model has none, annotates every kernel, prints per-kernel and total")
    p.add_argument("file")
    p.add_argument("--target", required=True)
    p.add_argument("--predictor", default=None, help="predictor directory (default: the target's home)")
    p.add_argument("--force", action="store_true",
                   help="use a predictor trained on another device or runtime version")
    p.add_argument("--top", type=int, default=0, help="only the N slowest kernels in the table")
    p.set_defaults(run=_predict)


def _predict(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from archir.passes.latency.annotate import LatencyError, annotate_module, prepare
    from archir.passes.latency.kernel_predictor import MissingKernelModel
    from archir.passes.latency.kernel_registry import load_predictor
    from archir.passes.targets import UnknownTarget
    from archir.passes.targets.view import kernels

    try:
        predictor = load_predictor(args.target, args.predictor, force=args.force)
        module = prepare(load(args.file), args.target)
        if module.main is not None and len(module.graphs) > 1:
            raise LatencyError("predict prints flat models; inline the cells first (the total of "
                               "archir.predict_latency counts calls)")
        module = module.clone()
        annotate_module(module, predictor)
    except (UnknownTarget, LatencyError, MissingKernelModel, FileNotFoundError, ValueError) as e:
        print(f"predict: error: {e}", file=sys.stderr)
        return 1
    views = kernels(module)
    c = predictor.calibration
    total_us = sum(k.latency_us or 0.0 for k in views) + c.intercept_us
    rows = sorted(enumerate(views), key=lambda iv: -(iv[1].latency_us or 0.0))
    if args.top:
        rows = sorted(rows[:args.top])
    else:
        rows = sorted(rows)
    table = Table(title=f"{args.file} on {args.target} ({predictor.fingerprint.describe()})")
    for name, justify in (("#", "right"), ("kernel", "left"), ("impl", "left"), ("ops", "right"),
                          ("latency µs", "right"), ("± µs", "right"), ("share", "right")):
        table.add_column(name, justify=justify)
    for i, k in rows:
        lat = k.latency_us or 0.0
        std = "" if k.latency_std_us is None else f"{k.latency_std_us:,.1f}"
        table.add_row(str(i), k.kind, k.impl, str(len(k.op_names)), f"{lat:,.1f}", std,
                      f"{lat / total_us:.1%}" if total_us else "")
    table.add_row("", "per-run overhead", "", "", f"{c.intercept_us:,.1f}", "", "")
    console = Console()
    console.print(table)
    console.print(f"total: [bold]{total_us / 1e3:,.3f} ms[/bold] over {len(views)} kernels")
    return 0
