"""Latency prediction accuracy on ort-cpu, against baselines computed in the same run.

    python benchmarks/latency_accuracy.py --lower-only          # lower every model once (cached)
    python benchmarks/latency_accuracy.py --profile-budget 600  # profile, measure, predict, report

1. Profile a fresh predictor (``archir profile``'s campaign) on a corpus that leaves whole
   families out: their models are never profiled, never used for calibration.
2. Measure every evaluation model end to end (torchvision at 224×224 and search-space samples),
   twice at different times; the latency is the median of the two medians of thread CPU time.
3. Predict each model with the kernel predictor and with the baselines, all trained on this
   run's measurements: a FLOPs linear regression (fitted on the calibration models), the sum of
   per-op predictions without fusion (a predictor trained on single-op measurements) and an
   nn-Meter-style random forest (its kernel types and features, LightGBM in rf mode, plain sum).
4. Print accuracy (share within ±5% / ±10%, RMSE, RMSPE) overall, on held-out families and on
   models none of whose family members were profiled, and per family; with an ablation: the
   same predictor trained without taking the bare session run's cost off standalone rows.

A benchmark, not a test: it measures this machine, which other jobs may be sharing.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from archir.backends.profile.profiler import Profiler, Task
from archir.backends.profile.runtimes import runtime_for
from archir.backends.profile.store import MeasurementStore
from archir.backends.profile.timing import TimingPolicy
from archir.backends.profile.training import kernel_rows, model_latencies, parsed, run_overhead_us, train
from archir.frontends.corpus import ZOO, LoweringFailed, family_of, load_models
from archir.passes.cost import cost
from archir.passes.latency import predict_latency
from archir.passes.latency.kernel_baselines import FlopsRegression, NnMeterForest
from archir.passes.latency.kernel_features import kernel_item
from archir.passes.latency.kernel_fit import FitParams, fit_kernel_predictor
from archir.passes.latency.kernel_io import size_bytes
from archir.passes.latency.kernel_module import op_configs
from archir.passes.latency.kernel_predictor import MissingKernelModel
from archir.passes.latency.sampling import compile_model
from archir.search.profile_campaign import Campaign, CampaignSettings

TARGET = "ort-cpu"
HELD_OUT = ("densenet", "regnet", "shufflenet_v2", "proxylessnas")
EVAL_SEEDS = {"ofa-mbv3": range(6), "proxylessnas": range(4), "nas-bench-201": range(2)}
CORPUS_SEEDS = {"ofa-mbv3": range(100, 104), "nas-bench-201": range(100, 101)}
MODEL_POLICY = TimingPolicy(budget_s=2.5, min_repeats=5, batch=5, min_sample_us=0.0)


def corpus_names() -> list[str]:
    names = [n for fam, ns in ZOO.items() if fam not in HELD_OUT for n in ns[::2]]
    return names + [f"{s}:{i}" for s, seeds in CORPUS_SEEDS.items() for i in seeds]


def eval_names() -> list[str]:
    return [n for ns in ZOO.values() for n in ns] + [f"{s}:{i}" for s, seeds in EVAL_SEEDS.items()
                                                     for i in seeds]


class Printer:
    def __init__(self) -> None:
        self.start = time.monotonic()
        self.count = 0

    def phase(self, name: str, total: int | None) -> None:
        self.log(f"{name} ({total if total is not None else '?'})")

    def step(self, task, timing) -> None:
        self.count += 1

    def log(self, message: str) -> None:
        print(f"[{time.monotonic() - self.start:7.1f}s] {message}", flush=True)


def metrics(pred: list[float], meas: list[float]) -> dict[str, float]:
    """Shares count a failed prediction (inf) as a miss; RMSE and RMSPE are over the others."""
    if not pred:
        return {"n": 0}
    p, m = np.array(pred), np.array(meas)
    ok = np.isfinite(p)
    fails = int((~ok).sum())
    rel_all = np.where(ok, p / m - 1, np.inf)
    p, m = (p[ok], m[ok]) if ok.any() else (np.array([0.0]), np.array([1.0]))
    rel = p / m - 1
    return {"n": len(rel_all), "fail": fails, "w5": float(np.mean(np.abs(rel_all) <= 0.05)),
            "w10": float(np.mean(np.abs(rel_all) <= 0.10)),
            "rmse_ms": float(np.sqrt(np.mean((p - m) ** 2)) / 1e3),
            "rmspe": float(np.sqrt(np.mean(rel ** 2)) * 100), "worst": float(np.max(np.abs(rel)) * 100)}


def row(name: str, m: dict[str, float]) -> str:
    if not m.get("n"):
        return f"  {name:<38} {'-':>4}"
    if m["fail"] == m["n"]:
        return (f"  {name:<38} {m['n']:>4} {m['fail']:>5} {m['w5']:>7.1%} {m['w10']:>7.1%} "
                f"{'-':>9} {'-':>8} {'-':>8}")
    return (f"  {name:<38} {m['n']:>4} {m['fail']:>5} {m['w5']:>7.1%} {m['w10']:>7.1%} {m['rmse_ms']:>9.2f} "
            f"{m['rmspe']:>8.1f} {m['worst']:>8.1f}")


HEADER = (f"  {'method':<38} {'n':>4} {'fail':>5} {'±5%':>7} {'±10%':>7} {'RMSE ms':>9} {'RMSPE%':>8} "
          f"{'worst%':>8}")


def search_speed(predictor, cache: Path, out: Printer, n: int = 200) -> None:
    """A searcher's loop: OFA MobileNetV3 samples, already fused, predicted again and again."""
    samples = [m.module for m in load_models([f"ofa-mbv3:{1000 + i}" for i in range(n)], None)
               if not isinstance(m, LoweringFailed)]
    fused = [compile_model(m, TARGET) for m in samples]
    kernels = statistics.mean(len(m.main.kernels()) for m in fused)
    try:
        predict_latency(fused[0], TARGET, predictor=predictor)
    except Exception as e:
        print(f"search loop not measured: {e}")
        return
    predictor._in_model.clear()  # the first pass below starts cold
    t0, c0 = time.perf_counter(), time.thread_time()
    for m in fused:
        predict_latency(m, TARGET, predictor=predictor)
    first = (time.perf_counter() - t0, time.thread_time() - c0)
    t0, c0 = time.perf_counter(), time.thread_time()
    for _ in range(3):
        for m in fused:
            predict_latency(m, TARGET, predictor=predictor)
    again = ((time.perf_counter() - t0) / 3, (time.thread_time() - c0) / 3)
    print(f"search loop, {len(fused)} OFA-MobileNetV3 samples ({kernels:.0f} kernels each, fused): "
          f"first pass {len(fused) / first[1]:.0f} models/s CPU ({len(fused) / first[0]:.0f} wall); "
          f"repeated {len(fused) / again[1]:.0f} models/s CPU ({len(fused) / again[0]:.0f} wall), one core")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("/tmp/archir-latency-bench"))
    ap.add_argument("--profile-budget", type=float, default=600.0)
    ap.add_argument("--calibration-models", type=int, default=8)
    ap.add_argument("--lower-only", action="store_true", help="lower and cache every model, then stop")
    ap.add_argument("--smoke", action="store_true", help="a few models and a minute: checks the script runs")
    args = ap.parse_args()
    if args.smoke:
        global corpus_names, eval_names
        corpus_names = lambda: ["resnet18", "nas-bench-201:100"]  # noqa: E731
        eval_names = lambda: ["resnet18", "squeezenet1_1", "nas-bench-201:0", "proxylessnas:0"]  # noqa: E731
    out = Printer()
    db = args.work / "measurements.sqlite"
    cache = args.work / "measurements.models"
    if args.lower_only:
        for m in load_models(sorted(set(corpus_names()) | set(eval_names())), cache):
            out.log(str(m) if isinstance(m, LoweringFailed) else f"lowered {m.name}")
        return 0

    # 1. profile ------------------------------------------------------------------------------
    corpus = corpus_names()
    settings = CampaignSettings(TARGET, db, tuple(corpus), args.profile_budget, args.work / "predictor",
                                args.calibration_models, op_share=0.1)
    result = Campaign(settings, out).run()
    predictor = result.predictor
    t_profile = time.monotonic() - out.start
    out.log(f"profiled {result.kernels} kernels, {result.ops} ops, {result.models} model runs; "
            f"{result.rounds} refinement rounds; lowering failures: {result.lowering_failures}")
    calib_labels = {r.label for r in MeasurementStore(db).rows(result.device, "model", TARGET)}

    # 2. measure the evaluation models ------------------------------------------------------------
    models: dict[str, tuple[str, object]] = {}
    lowering_failed = []
    for m in load_models(eval_names(), cache):
        if isinstance(m, LoweringFailed):
            lowering_failed.append(str(m))
            continue
        models[m.name] = (m.family, compile_model(m.module, TARGET))
    store = MeasurementStore(db)
    profiler = Profiler(store, runtime_for(TARGET), MODEL_POLICY)
    order = list(models)
    for k in range(2):  # two passes at different times; a burst of load decides neither alone
        random.Random(k).shuffle(order)
        tasks = [Task.whole_model(models[n][1], models[n][0], n, TARGET, repeat=k) for n in order]
        stats = profiler.run(tasks, progress=out.step)
        out.log(f"evaluation pass {k + 1}: {stats.measured} measured, {stats.failed} failed "
                f"{stats.errors[:2]}")
    t_measure = time.monotonic() - out.start - t_profile
    latencies = model_latencies(store, result.device, TARGET)
    by_label: dict[str, list[float]] = {}
    for r in store.rows(result.device, "model", TARGET):
        by_label.setdefault(r.label, []).append(r.timing.median_us)
    measured = {row.label: y for row, y in latencies.values()}
    spread = [abs(v[0] - v[1]) / statistics.mean(v) for v in by_label.values() if len(v) >= 2]

    # 3. predictions ------------------------------------------------------------------------------
    kernel_stored = store.rows(result.device, "kernel", TARGET)
    op_stored = store.rows(result.device, "op", TARGET)
    overhead = run_overhead_us(store, result.device, TARGET)  # off every standalone row, as in training
    op_rows = kernel_rows(op_stored, overhead)
    op_predictor, _ = fit_kernel_predictor(TARGET, predictor.fingerprint, op_rows, (), FitParams())
    forest = NnMeterForest.fit([parsed(r).main.ops for r in kernel_stored],
                               [max(r.timing.median_us - overhead, 0.1 * r.timing.median_us)
                                for r in kernel_stored])
    calib = [n for n in measured if n in calib_labels and n in models]
    flops = {n: cost(models[n][1]).flops for n in models}
    flops_lr = FlopsRegression.fit([flops[n] for n in calib], [measured[n] for n in calib])

    results: dict[str, dict[str, float]] = {k: {} for k in ("archir", "plain", "flops", "per-op",
                                                             "nn-meter")}
    failures: dict[str, str] = {}
    t0, c0 = time.perf_counter(), time.thread_time()
    for n in models:
        if n not in measured:
            continue
        module = models[n][1]
        try:
            results["archir"][n] = predict_latency(module, TARGET, predictor=predictor) * 1e3
        except Exception as e:  # a kernel family the predictor lacks: reported, counted as a miss
            failures[n] = f"{type(e).__name__}: {e}"
            results["archir"][n] = float("inf")
    t_pred, c_pred = time.perf_counter() - t0, time.thread_time() - c0
    # ablation: the same training, but standalone measurements keep the bare session run's cost
    plain, _, _ = train(store, result.device, TARGET, calibration_labels=calib_labels,
                        subtract_overhead=False)
    for n in models:
        if n in measured:
            try:
                results["plain"][n] = predict_latency(models[n][1], TARGET, predictor=plain) * 1e3
            except Exception:  # counted as a miss, like the main predictor's failures
                results["plain"][n] = float("inf")
    for n in models:
        if n not in measured:
            continue
        module = models[n][1]
        results["flops"][n] = flops_lr.predict_us(flops[n])
        ops = [kernel_item(c.ops) for c in op_configs(module)]
        try:
            results["per-op"][n] = sum(v for v, _ in op_predictor.predict_raw(ops))
        except MissingKernelModel:  # an op family the per-op baseline never measured: a miss
            results["per-op"][n] = float("inf")
        results["nn-meter"][n] = forest.predict_us([ops for _, ops in module.main.kernels()])

    # 4. report -----------------------------------------------------------------------------------
    names = [n for n in models if n in measured]
    fam = {n: family_of(n) for n in names}
    corpus_families = {family_of(n) for n in corpus}
    groups = {
        "all models": names,
        f"held-out families ({', '.join(HELD_OUT)})": [n for n in names if fam[n] in HELD_OUT],
        "models not profiled themselves": [n for n in names if n not in corpus],
    }
    labels = {"archir": "archir kernel predictor", "plain": "  same, bare run not taken off",
              "flops": "FLOPs linear regression",
              "per-op": "sum of per-op predictions (no fusion)", "nn-meter": "nn-Meter-style RF (sum)"}
    print()
    print(f"Latency accuracy, {TARGET}: {predictor.fingerprint.describe()}")
    print(f"measured: {len(names)} models; each the median of 2 passes of median thread CPU time; "
          f"pass-to-pass spread median {statistics.median(spread):.1%}, max {max(spread):.1%}")
    print(f"profiling: {result.kernels} kernels + {result.ops} single ops + {len(calib)} calibration models "
          f"in {t_profile:.0f} s (budget {args.profile_budget:.0f} s); evaluation measurements "
          f"{t_measure:.0f} s")
    for title, group in groups.items():
        print(f"\n{title}")
        print(HEADER)
        for key, label in labels.items():
            print(row(label, metrics([results[key][n] for n in group], [measured[n] for n in group])))
    print("\nper family (±10% share / RMSPE %)")
    print(f"  {'family':<16} {'n':>3} {'held out':>8} " + " ".join(f"{k:>16}" for k in labels))
    for f in sorted(set(fam.values())):
        group = [n for n in names if fam[n] == f]
        cells = []
        for key in labels:
            m = metrics([results[key][n] for n in group], [measured[n] for n in group])
            cells.append(f"{m['w10']:>7.0%} / {m['rmspe']:>6.1f}")
        held = "yes" if f in HELD_OUT else ("" if f in corpus_families else "unseen")
        print(f"  {f:<16} {len(group):>3} {held:>8} " + " ".join(f"{c:>16}" for c in cells))
    print("\nper model (ms): measured | archir | flops | per-op | nn-meter")
    for n in names:
        print(f"  {n:<22} {measured[n] / 1e3:9.2f} | " + " | ".join(
            f"{results[k][n] / 1e3:9.2f}" if math.isfinite(results[k][n]) else "     fail" for k in labels))
    c = predictor.calibration
    print(f"\ncalibration: scale {c.scale:.3f}, weight floor {c.weight_gbs:g} GB/s, "
          f"{c.per_kernel_us:.2f} µs/kernel, intercept {c.intercept_us:.1f} µs, "
          f"LOO median error {c.rel_error:.1%} on {c.models} models")
    print(f"predictor size: {size_bytes(settings.out) / 1e6:.2f} MB ({settings.out})")
    print(f"predict_latency, first call on each evaluation model: {len(names) / t_pred:.0f} models/s wall, "
          f"{len(names) / c_pred:.0f} models/s CPU")
    search_speed(predictor, cache, out, 10 if args.smoke else 200)
    if failures:
        print("prediction failures: " + "; ".join(f"{n}: {e}" for n, e in failures.items()))
    if lowering_failed:
        print(f"not lowered ({len(lowering_failed)}): " + "; ".join(lowering_failed))
    print(f"total wall time {time.monotonic() - out.start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
