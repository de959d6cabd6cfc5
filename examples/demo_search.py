"""Hardware-aware architecture search in under a minute: regularized evolution over the
Once-for-All MobileNetV3 space (w1.2, ~10^19 subnets) for a Samsung Note10 CPU latency budget,
next to random search with the same budget.

Latency: measured on Samsung Note10 by OFA, predicted by archir's LUT model. The goal is MACs,
a capacity proxy (bigger networks in the same latency are usually more accurate): no accuracy
is claimed. Run: ``.venv/bin/python examples/demo_search.py [--budget N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from archir.search import Budget, Search, SearchConfig, SpaceSpec
from archir.search.objectives import NOTE10_LABEL, standard_objective
from archir.search.objectives.latency import note10_predictor
from archir.search.progress import run_with_progress
from archir.search.report import write_report
from archir.search.runners import InProcess


def describe(space, assignment) -> str:
    arch = json.loads(space.encode(assignment))
    present = [i for s, d in enumerate(arch["d"]) for i in range(4 * s, 4 * s + d)]
    ks = statistics.mean(arch["ks"][i] for i in present)
    es = statistics.mean(arch["e"][i] for i in present)
    return f"r{arch['r'][0]} d{''.join(map(str, arch['d']))} k{ks:.1f} e{es:.1f}"


def block_breakdown(space, assignment, top: int = 4) -> Table:
    from archir.passes.latency.lut_ofa import OfaSubnet, subnet_keys

    depths = tuple(assignment[f"s{s}.depth"] for s in range(1, 6))
    blocks = [f"s{s}.b{i}" for s, d in zip(range(1, 6), depths) for i in range(d)]
    net = OfaSubnet(assignment["resolution"], depths, tuple(assignment[f"{b}.kernel"] for b in blocks),
                    tuple(assignment[f"{b}.expand"] for b in blocks))
    keys = subnet_keys(net)
    ms = note10_predictor().predict_keys(keys)
    table = Table(title="slowest blocks of the best network (Note10 table keys)", title_justify="left")
    table.add_column("block key")
    table.add_column("ms", justify="right")
    for key, t in sorted(zip(keys, ms), key=lambda kv: -kv[1])[:top]:
        table.add_row(key, f"{t:.2f}")
    table.caption = f"{len(keys)} blocks, total {sum(ms):.2f} ms"
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=240)
    ap.add_argument("--max-latency-ms", type=float, default=25.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    run(ap.parse_args(), Console())


def run(args: argparse.Namespace, console: Console) -> None:
    out = args.out or Path(tempfile.mkdtemp(prefix="archir-search-"))
    console.print(Panel.fit(
        f"[bold]Regularized evolution on Once-for-All MobileNetV3 (w1.2) for note10-cpu[/]\n"
        f"goal: maximise MACs (capacity proxy) subject to latency ≤ {args.max_latency_ms:g} ms (hard)\n"
        f"latency: {NOTE10_LABEL}"))
    start = time.perf_counter()
    note10_predictor()  # fitted once from the shipped tables, then cached
    console.print(f"LUT predictor ready in {time.perf_counter() - start:.1f} s")

    objective = standard_objective("macs", target="note10-cpu", max_latency_ms=args.max_latency_ms)
    results = {}
    for strategy, options in (("evolution", {"population": 32, "sample": 8}), ("random", {})):
        config = SearchConfig(SpaceSpec("ofa-mbv3"), objective, strategy, options, seed=args.seed,
                              batch_size=8)
        results[strategy] = run_with_progress(Search(config), Budget(evaluations=args.budget), InProcess(),
                                              out / strategy, console)
    evo, rnd = results["evolution"], results["random"]
    space = evo.space

    table = Table(title=f"best networks found by evolution ({evo.evaluations} evaluated in "
                        f"{evo.elapsed_s:.1f} s)")
    for col in ("#", "subnet", "latency ms", "MACs M", "params M", "Pareto"):
        table.add_column(col, justify="left" if col == "subnet" else "right")
    table.caption = "subnet: resolution, depth per stage, mean kernel and expand ratio of the blocks run"
    front = {r.index for r in evo.pareto()}
    for k, r in enumerate(evo.top(5), start=1):
        table.add_row(str(k), describe(space, r.assignment), f"{r.metrics['latency_ms']:.2f}",
                      f"{r.metrics['macs'] / 1e6:.0f}", f"{r.metrics['params'] / 1e6:.2f}",
                      "yes" if r.index in front else "")
    console.print(table)

    compare = Table(title=f"same budget ({args.budget} evaluations), same seed")
    for col in ("strategy", "best MACs M", "within budget", "first reached random's best at"):
        compare.add_column(col, justify="right")
    target = rnd.best.score
    reach = next((i + 1 for i, v in enumerate(evo.best_so_far()) if v is not None and v >= target), None)
    compare.add_row("evolution", f"{evo.best.score / 1e6:.0f}", "yes" if evo.best.feasible else "no",
                    f"evaluation {reach}" if reach else "not reached")
    compare.add_row("random", f"{rnd.best.score / 1e6:.0f}", "yes" if rnd.best.feasible else "no", "—")
    console.print(compare)
    console.print(block_breakdown(space, evo.best.assignment))
    written = write_report(evo, out / "evolution", top=3)
    console.print(f"OFA arch of the best: {space.encode(evo.best.assignment)}")
    console.print(f"wrote {', '.join(str(p) for p in written.values())}")
    console.print(f"[dim]demo took {time.perf_counter() - start:.1f} s[/]")


if __name__ == "__main__":
    main()
