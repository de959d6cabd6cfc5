"""Search efficiency, measured in one run on this machine.

1. Throughput: candidates evaluated per second with a latency-only objective (OFA MobileNetV3
   on note10-cpu: the LUT predictor, minimise latency), random proposals, batch 8:
   - dedupe by assignment: no IR is built (the LUT needs only the decisions);
   - dedupe by structural hash: every candidate is specialised to IR and hashed;
   - the same on a 2-worker spawn process pool.
2. Evolution vs random (and REINFORCE) at the same budget on the same objective: maximise MACs
   (a capacity proxy) subject to note10-cpu latency <= 15 ms (hard; the low end of the OFA
   finder's 15-60 ms range, where ~5% of random subnets are feasible), on OFA MobileNetV3,
   over several seeds. Reported: the mean best feasible MACs reached, how many evaluated
   networks were feasible, and the evaluations each strategy needed to reach random search's
   final best for the same seed (mean over the seeds that reached it; a ratio against random's
   full budget).

A script, not a test: ``.venv/bin/python benchmarks/search_efficiency.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from archir.search import Budget, Search, SearchConfig, SpaceSpec
from archir.search.objectives import Goal, Latency, Objective, standard_objective
from archir.search.objectives.latency import note10_predictor
from archir.search.runners import InProcess, ProcessPool

OFA = SpaceSpec("ofa-mbv3")


def throughput(n: int, dedupe: str, runner) -> float:
    objective = Objective((Latency("note10-cpu"),), Goal("latency_ms", "minimize"))
    config = SearchConfig(OFA, objective, "random", seed=0, batch_size=8, dedupe=dedupe)
    search = Search(config)
    runner.start(config)  # pool start-up (spawning, imports) is not the per-candidate rate
    try:
        search.run(Budget(evaluations=8), runner)  # warm the workers' caches
        start = time.perf_counter()
        search.run(Budget(evaluations=8 + n), runner)
        return n / (time.perf_counter() - start)
    finally:
        runner.close()


def first_reaching(curve: list[float | None], target: float) -> int | None:
    return next((i + 1 for i, v in enumerate(curve) if v is not None and v >= target), None)


def compare(budget: int, seeds: int, population: int, sample: int, limit_ms: float) -> None:
    objective = standard_objective("macs", target="note10-cpu", max_latency_ms=limit_ms)
    strategies = {"random": {}, "evolution": {"population": population, "sample": sample}, "reinforce": {}}
    curves: dict[str, list[list[float | None]]] = {s: [] for s in strategies}
    feasible: dict[str, list[int]] = {s: [] for s in strategies}
    for seed in range(seeds):
        for name, options in strategies.items():
            config = SearchConfig(OFA, objective, name, options, seed=seed, batch_size=8)
            result = Search(config).run(Budget(evaluations=budget))
            curves[name].append(result.best_so_far())
            feasible[name].append(sum(r.feasible for r in result.evaluated))
    random_final = [c[-1] for c in curves["random"]]
    if any(v is None for v in random_final):
        raise SystemExit("random search found no feasible network for some seed: raise --limit-ms")
    print(f"\nBest feasible MACs (M) under {limit_ms:g} ms on note10-cpu, OFA MobileNetV3 w1.2, "
          f"budget {budget} evaluations, {seeds} seeds (evolution P={population}, S={sample})")
    header = (f"{'strategy':<10} {'mean best':>10} {'vs random':>10} {'min':>8} {'max':>8} {'feasible':>9} "
              f"{'evals to reach random final best':>34}")
    print(header)
    print("-" * len(header))
    random_mean = statistics.mean(random_final)
    for name, runs in curves.items():
        if any(c[-1] is None for c in runs):
            print(f"{name:<10} found no feasible network for some seed")
            continue
        finals = [c[-1] for c in runs]
        reach = [first_reaching(c, target) for c, target in zip(runs, random_final)]
        reached = [r for r in reach if r is not None]
        if reached:
            mean_reach = statistics.mean(reached)
            reach_text = f"{mean_reach:.0f} ({len(reached)}/{seeds} seeds, {mean_reach / budget:.2f}x)"
        else:
            reach_text = f"never ({0}/{seeds} seeds)"
        mean = statistics.mean(finals)
        print(f"{name:<10} {mean / 1e6:>10.1f} {mean / random_mean:>9.3f}x "
              f"{min(finals) / 1e6:>8.1f} {max(finals) / 1e6:>8.1f} {statistics.mean(feasible[name]):>9.0f} "
              f"{reach_text:>34}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--throughput-n", type=int, default=400)
    ap.add_argument("--budget", type=int, default=400)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--population", type=int, default=100)
    ap.add_argument("--sample", type=int, default=25)
    ap.add_argument("--limit-ms", type=float, default=15.0)
    args = ap.parse_args()
    note10_predictor()  # fit (or load the cached) LUT predictor before timing anything
    print(f"Throughput, latency-only objective (note10-cpu LUT), OFA MobileNetV3, random proposals, "
          f"{args.throughput_n} candidates")
    n = args.throughput_n
    rows = [("in-process, dedupe by assignment (no IR)", throughput(n, "assignment", InProcess())),
            ("in-process, dedupe by structural hash (IR)", throughput(n, "hash", InProcess())),
            ("process pool x2, dedupe by structural hash", throughput(n, "hash", ProcessPool(2)))]
    base = rows[1][1]
    print(f"{'runner':<46} {'candidates/s':>13} {'vs in-process (IR)':>19}")
    for label, rate in rows:
        print(f"{label:<46} {rate:>13.1f} {rate / base:>18.2f}x")
    compare(args.budget, args.seeds, args.population, args.sample, args.limit_ms)


if __name__ == "__main__":
    main()
