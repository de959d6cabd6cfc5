"""Held-out accuracy of the table-learnt latency predictor on the Samsung Note10 OFA tables.

Every figure is on data the predictor did not see: a whole table (resolution), or every block of a
configuration group (a kernel size, an expand ratio, a stage width). Seen-key table lookup is off
throughout, so the figures are the model's. Baselines are fitted on the same training rows in the
same run. Run: .venv/bin/python benchmarks/lut_accuracy.py
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

import numpy as np

from archir.passes.latency import fit_measurements, note10_table_paths, parse_key, read_tables
from archir.passes.latency.lut_base import base_matrix, fit_base
from archir.passes.latency.lut_features import clear_caches
from archir.passes.latency.lut_linear import fit_relative
from archir.passes.latency.lut_ofa import sample_subnet, subnet_keys
from archir.passes.latency.lut_tables import NOTE10_RESOLUTIONS, Measurement

Predict = Callable[[list[str]], np.ndarray]
Method = Callable[[list[Measurement]], Predict]
NETWORKS_PER_SPLIT = 250


def ours(train: list[Measurement]) -> Predict:
    p = fit_measurements(train, answer_seen_keys=False)
    return lambda keys: np.array(p.predict_keys(keys, use_table=False))


def base_only(train: list[Measurement]) -> Predict:
    base = fit_base(train)
    return lambda keys: base.predict(base_matrix(keys, base.tile))


def _macs(keys: Sequence[str]) -> np.ndarray:
    b = base_matrix(keys, 1)  # tile 1: plain MACs, no GEMM padding
    return b[:, 0] + b[:, 1]


def macs_linear(train: list[Measurement]) -> Predict:
    # latency = a*MACs + b, fitted like ours on relative error with a, b >= 0: the fairest MACs proxy.
    x = np.c_[_macs([r.key for r in train]), np.ones(len(train))]
    coef = fit_relative(x, np.array([r.mean_ms for r in train]))
    return lambda keys: np.c_[_macs(keys), np.ones(len(keys))] @ coef


def _config(key: str) -> tuple[str, np.ndarray]:
    k = parse_key(key)
    return k.op, np.array([np.log(k.in_h), np.log(k.in_c), np.log(k.out_c), np.log(max(k.expand, 1)),
                           k.kernel, k.stride, k.se, k.hs, k.idskip], dtype=float)


def _nearest(train: list[Measurement], scaled: bool) -> Predict:
    # What a table user does for a missing key: take the closest measured block of the same op
    # (optionally rescaled by the MACs ratio, the usual quick interpolation).
    train_keys = [r.key for r in train]
    ops, x = zip(*(_config(k) for k in train_keys))
    x = np.array(x)
    scale = x.std(axis=0) + 1e-9
    y, macs = np.array([r.mean_ms for r in train]), _macs(train_keys)

    def predict(keys: list[str]) -> np.ndarray:
        out = []
        for key, key_macs in zip(keys, _macs(keys)):
            op, q = _config(key)
            same = np.array([o == op for o in ops])
            pool = np.flatnonzero(same) if same.any() else np.arange(len(y))
            best = pool[np.argmin((((x[pool] - q) / scale) ** 2).sum(axis=1))]
            ratio = key_macs / macs[best] if scaled and macs[best] > 0 else 1.0
            out.append(y[best] * ratio)
        return np.array(out)
    return predict


def nearest(train: list[Measurement]) -> Predict:
    return _nearest(train, scaled=False)


def nearest_scaled(train: list[Measurement]) -> Predict:
    return _nearest(train, scaled=True)


METHODS: dict[str, Method] = {"ours": ours, "base only": base_only, "MACs-linear": macs_linear,
                              "nearest": nearest, "nearest x MACs": nearest_scaled}


def _scores(pred: np.ndarray, true: np.ndarray) -> tuple[float, float, float]:
    err = np.abs(pred / true - 1)
    return 100 * float(np.mean(err <= 0.10)), 100 * float(np.mean(err <= 0.05)), 100 * float(np.mean(err))


def _row(name: str, n: int | str, tile: str, cells: list[tuple[float, float, float]]) -> str:
    return f"{name:<14}{n!s:>4}{tile:>5} | " + " | ".join(f"{a:5.1f} {b:5.1f} {c:5.1f}" for a, b, c in cells)


def _header(title: str) -> None:
    print(f"\n{title}")
    print(f"{'split':<14}{'n':>4}{'tile':>5} | " + " | ".join(f"{m:^17}" for m in METHODS))
    print(f"{'':<23} | " + " | ".join(f"{'±10%':>5} {'±5%':>5} {'MAPE':>5}" for _ in METHODS))


def block_split(rows: list[Measurement], name: str, held: np.ndarray, totals: dict[str, list]) -> None:
    train = [r for r, h in zip(rows, held) if not h]
    test = [r for r, h in zip(rows, held) if h]
    keys, true = [r.key for r in test], np.array([r.mean_ms for r in test])
    cells = [_scores(method(train)(keys), true) for method in METHODS.values()]
    for m, c in zip(METHODS, cells):
        totals.setdefault(m, []).append(c)
    print(_row(name, len(test), str(fit_base(train).tile), cells))


def _mean_row(totals: dict[str, list]) -> None:
    cells = [tuple(np.mean(totals[m], axis=0)) for m in METHODS]
    print(_row("mean", "", "", cells))


def network_split(rows: list[Measurement], name: str, held: np.ndarray, res: Sequence[int],
                  kernels: Sequence[int], expands: Sequence[int], rng: random.Random) -> None:
    train = [r for r, h in zip(rows, held) if not h]
    table = {(int(r.source[:3]), r.key): r.mean_ms for r in rows}
    nets = [sample_subnet(rng, res, kernels, expands) for _ in range(NETWORKS_PER_SPLIT)]
    true = np.array([sum(table[(n.resolution, k)] for k in subnet_keys(n)) for n in nets])
    cells = []
    for method in METHODS.values():
        predict = method(train)
        cells.append(_scores(np.array([predict(subnet_keys(n)).sum() for n in nets]), true))
    print(_row(name, len(nets), str(fit_base(train).tile), cells))


def throughput(rows: list[Measurement]) -> None:
    p = fit_measurements(rows, answer_seen_keys=False)
    clear_caches()  # "cold" means nothing parsed or featurised before
    rng = random.Random(1)
    keys = sorted({k for _ in range(3000) for k in subnet_keys(sample_subnet(rng, range(128, 257, 4)))})
    t0 = time.perf_counter()
    p.predict_keys(keys)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(10):
        p.predict_keys(keys)
    warm = (time.perf_counter() - t0) / 10
    nets = [subnet_keys(sample_subnet(rng, range(128, 257, 4))) for _ in range(2000)]
    t0 = time.perf_counter()
    for net in nets:
        sum(p.predict_keys(net))
    per_net = (time.perf_counter() - t0) / len(nets)
    print(f"\nthroughput: {len(keys)} distinct unseen keys: cold {len(keys) / cold:,.0f} keys/s "
          f"(parse + features + model), cached {len(keys) / warm:,.0f} keys/s; "
          f"whole subnets {1 / per_net:,.0f} nets/s (mostly cached keys)")


def main() -> None:
    rows = read_tables(note10_table_paths())
    res = np.array([int(r.source[:3]) for r in rows])
    mb = np.array([r.block.op == "expanded_conv" for r in rows])
    kernel = np.array([r.block.kernel for r in rows])
    ratio = np.array([r.block.expand / r.block.in_c for r in rows])
    out_c, in_c = np.array([r.block.out_c for r in rows]), np.array([r.block.in_c for r in rows])
    print("archir LUT latency predictor, Samsung Note10 (Once-for-All tables, r = 160/176/208/224, "
          f"{len(rows)} entries)")
    print("cells: share within ±10%, share within ±5%, mean abs % error; seen-key lookup off throughout")
    print("ours = analytic cost model + LightGBM correction; base only = the cost model alone; "
          "MACs-linear = a*MACs + b;\nnearest = closest measured entry of the same op; nearest x MACs = "
          "that entry scaled by the MACs ratio;\ntile = GEMM row tile ours chose by grouped CV on the "
          "training rows of that split")

    _header("(a) leave one resolution out: train on 3 tables, test on every entry of the 4th")
    totals: dict[str, list] = {}
    for r in NOTE10_RESOLUTIONS:
        block_split(rows, f"r{r}", res == r, totals)
    _mean_row(totals)

    _header("(b) configuration groups held out of training entirely (all 4 resolutions)")
    totals = {}
    for k in (3, 5, 7):
        block_split(rows, f"kernel {k}", mb & (kernel == k), totals)
    for e in (3, 4, 6):
        block_split(rows, f"expand {e}", mb & np.isclose(ratio, e), totals)
    for w in sorted(set(out_c[mb])):
        # A width's blocks, plus the fixed layers reading or writing that width (stem: 24, head: 192).
        block_split(rows, f"width {w}", (mb & (out_c == w)) | (~mb & ((in_c == w) | (out_c == w))), totals)
    _mean_row(totals)

    _header(f"(c) whole OFA subnets (sum of blocks), {NETWORKS_PER_SPLIT} random subnets per row, "
            "truth = held-out table sums")
    rng = random.Random(0)
    for r in NOTE10_RESOLUTIONS:
        network_split(rows, f"r{r} out", res == r, [r], (3, 5, 7), (3, 4, 6), rng)
    network_split(rows, "kernel 7 out", mb & (kernel == 7), NOTE10_RESOLUTIONS, (7,), (3, 4, 6), rng)
    network_split(rows, "expand 6 out", mb & np.isclose(ratio, 6), NOTE10_RESOLUTIONS, (3, 5, 7), (6,), rng)
    network_split(rows, "mixed k7 out", mb & (kernel == 7), NOTE10_RESOLUTIONS, (3, 5, 7), (3, 4, 6), rng)
    network_split(rows, "mixed k3 out", mb & (kernel == 3), NOTE10_RESOLUTIONS, (3, 5, 7), (3, 4, 6), rng)
    # The weakest group of (b): every subnet has 2-4 blocks of the 192 stage plus the head it feeds.
    w192 = (mb & (out_c == 192)) | (~mb & (in_c == 192))
    network_split(rows, "width 192 out", w192, NOTE10_RESOLUTIONS, (3, 5, 7), (3, 4, 6), rng)

    full = fit_measurements(rows)
    print(f"\nfull fit: GEMM row tile {full.tile} (grouped CV), training rows {full.info.rows}")
    throughput(rows)


if __name__ == "__main__":
    main()
