"""``archir search``: a search from the command line, with a rich progress bar; the output folder
gets the checkpoint (``--resume`` continues it), ``pareto.json``, ``best-K.air`` and ``pareto.png``.

    archir search --space ofa-mbv3 --strategy evolution --target note10-cpu \\
        --max-latency-ms 30 --budget 300 --out runs/ofa30
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from archir.search.candidate import DEDUPE_MODES
from archir.search.spaces import SPACES, parse_option

OBJECTIVE_NAMES = ("latency", "synflow", "naswot", "grad-norm", "proxy-train", "macs", "params")


def configure_search(p: argparse.ArgumentParser) -> None:
    p.description = "search an architecture space for a hardware target"
    p.add_argument("--space", required=True, choices=sorted(SPACES))
    p.add_argument("--space-option", action="append", default=[], metavar="KEY=VALUE",
                   help="a space constructor option, e.g. cells_per_stage=1 (repeatable)")
    p.add_argument("--strategy", default="evolution", choices=("random", "evolution", "reinforce"))
    p.add_argument("--population", type=int, default=100, help="evolution: population size")
    p.add_argument("--sample", type=int, default=25, help="evolution: tournament size")
    p.add_argument("--objective", default="synflow", choices=OBJECTIVE_NAMES,
                   help="the goal; params and MACs are always measured, latency when --target is given")
    p.add_argument("--callback", metavar="MODULE:FUNCTION",
                   help="maximise your own metric fn(candidate) -> float instead of --objective")
    p.add_argument("--epochs", type=int, default=2, help="proxy-train: epochs on handwritten digits")
    p.add_argument("--target", help="latency target, e.g. note10-cpu (OFA LUT) or ort-cpu")
    p.add_argument("--predictor", help="a saved latency predictor (default: the target's)")
    p.add_argument("--force", action="store_true", help="use a predictor trained on another device")
    p.add_argument("--max-latency-ms", type=float)
    p.add_argument("--max-params", type=float)
    p.add_argument("--max-macs", type=float)
    p.add_argument("--reward", default="hard", choices=("hard", "soft"),
                   help="MnasNet latency term: hard (w = 0 under the limit, -1 over) or soft (w = -0.07)")
    p.add_argument("--budget", type=int, default=None, help="new architectures to evaluate")
    p.add_argument("--time-budget", type=float, default=None, metavar="SECONDS")
    p.add_argument("--batch-size", type=int, default=8, help="proposals per step (fixed: results "
                   "do not depend on the number of workers)")
    p.add_argument("--workers", type=int, default=1, help="> 1: a local process pool")
    p.add_argument("--ray", metavar="ADDRESS", help="evaluate on Ray ('auto', 'ray://host:port', or "
                   "'local' for a private instance with --workers CPUs)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per evaluation")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dedupe", default="hash", choices=DEDUPE_MODES)
    p.add_argument("--top", type=int, default=3, help="best architectures saved as .air")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--resume", action="store_true", help="continue the search checkpointed in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_search_command)


def _config(args: argparse.Namespace):
    from archir.search.config import SearchConfig
    from archir.search.objectives.catalog import standard_objective
    from archir.search.spaces import SpaceSpec

    options = dict(parse_option(o) for o in args.space_option)
    objective = standard_objective(
        args.objective, target=args.target, predictor=args.predictor, force=args.force,
        max_latency_ms=args.max_latency_ms, max_params=args.max_params, max_macs=args.max_macs,
        reward=args.reward, seed=args.seed, epochs=args.epochs, callback=args.callback, threads=args.threads)
    strategy_options: dict[str, Any] = {}
    if args.strategy == "evolution":
        strategy_options = {"population": args.population, "sample": args.sample}
    return SearchConfig(SpaceSpec(args.space, options), objective, args.strategy, strategy_options, args.seed,
                        args.batch_size, args.dedupe)


def run_search_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from archir.search.checkpoint import CheckpointError
    from archir.search.config import Budget
    from archir.search.loop import Search, SearchError
    from archir.search.runners import make_runner

    console = Console(stderr=True)
    try:
        if args.budget is None and args.time_budget is None:
            raise ValueError("give a budget: --budget N (evaluations) and/or --time-budget SECONDS")
        config = _config(args)
        budget = Budget(args.budget, args.time_budget)
        search = Search.resume(args.out, config) if args.resume else Search(config)
        if not args.resume and (args.out / "checkpoint.json").exists():
            raise ValueError(f"{args.out} holds a search already: --resume it or choose another --out")
        runner = make_runner(args.workers, args.ray)
    except (ValueError, CheckpointError, ImportError) as e:
        print(f"search: error: {e}", file=sys.stderr)
        return 2
    from archir.search.progress import report_table, run_with_progress

    try:
        with runner:
            result = run_with_progress(search, budget, runner, args.out, console, quiet=args.quiet)
    except KeyboardInterrupt:
        console.print(f"interrupted: checkpoint saved in {args.out}; continue with --resume")
        return 130
    except (SearchError, ImportError, ConnectionError) as e:
        print(f"search: error: {e}", file=sys.stderr)
        return 1
    from archir.search.report import write_report

    written = write_report(result, args.out, top=args.top, warn=lambda m: console.print(f"[yellow]{m}[/]"))
    Console().print(report_table(result, top=args.top))
    Console().print(f"wrote {', '.join(str(p) for p in written.values())}")
    return 0
