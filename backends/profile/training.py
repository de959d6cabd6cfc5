"""From stored measurements to training rows: parse each row's IR, compute its features.

The store keeps the IR text of every measured kernel and model, not features: features can
change with archir, measurements cannot be repeated for free, so a predictor can always be
retrained from the database with the current feature code.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from archir.backends.profile.profiler import RUN_OVERHEAD
from archir.backends.profile.store import MeasurementStore, Row
from archir.ir import Module
from archir.parser import parse
from archir.passes.latency.kernel_features import kernel_item
from archir.passes.latency.kernel_fit import FitParams, ModelRow, TrainRow, fit_kernel_predictor
from archir.passes.latency.kernel_predictor import KernelPredictor

_PARSED: dict[str, Module] = {}


def parsed(row: Row) -> Module:
    """The row's module, parsed once per process (training runs several times per campaign)."""
    m = _PARSED.get(row.key)
    if m is None:
        m = _PARSED[row.key] = parse(row.ir, verify=False)
    return m


def module_items(module: Module) -> tuple:
    return tuple(kernel_item(ops) for _, ops in module.main.kernels())


def kernel_rows(rows: list[Row], overhead_us: float = 0.0) -> list[TrainRow]:
    """Training rows from standalone measurements, less the session's own per-run cost (a
    kernel inside a model does not pay it; never more than 90% of a row goes)."""
    return [TrainRow(r.key, kernel_item(parsed(r).main.ops), max(r.timing.median_us - overhead_us,
                                                                  0.1 * r.timing.median_us))
            for r in rows]


def run_overhead_us(store: MeasurementStore, device: str, target: str) -> float:
    """The measured cost of a bare session run on this device (0 when it was never measured)."""
    runs = [r.timing.median_us for r in store.rows(device, "model", target) if r.kind == RUN_OVERHEAD]
    return statistics.median(runs) if runs else 0.0


@dataclass(frozen=True)
class LabelledModelRow:
    row: ModelRow
    family: str


def model_latencies(store: MeasurementStore, device: str, target: str) -> dict[str, tuple[Row, float]]:
    """Per model (key without the pass suffix): a row and the median of its passes' medians."""
    passes: dict[str, list[Row]] = {}
    for r in store.rows(device, "model", target):
        if r.kind == RUN_OVERHEAD:
            continue
        passes.setdefault(r.key.split("#")[0], []).append(r)
    return {k: (rows[0], statistics.median(r.timing.median_us for r in rows)) for k, rows in passes.items()}


def model_rows(store: MeasurementStore, device: str, target: str,
               labels: set[str] | None = None) -> list[LabelledModelRow]:
    out = []
    for row, y in model_latencies(store, device, target).values():
        if labels is not None and row.label not in labels:
            continue
        out.append(LabelledModelRow(ModelRow(row.label, module_items(parsed(row)), y), row.kind))
    return out


def train(store: MeasurementStore, device: str, target: str, *, calibration_labels: set[str] | None = None,
          scope: str = "kernel", params: FitParams | None = None, notes: tuple[str, ...] = (),
          subtract_overhead: bool = True) -> tuple[KernelPredictor, dict[str, float], list[TrainRow]]:
    """Fit a predictor on everything the store holds for (device, target). ``subtract_overhead``:
    take the bare session run's cost off every standalone row (False only for comparison)."""
    stored = store.rows(device, scope, target)
    if not stored:
        raise ValueError(f"{store.path}: no {scope} measurements for target '{target}' on device {device}")
    overhead = run_overhead_us(store, device, target) if subtract_overhead else 0.0
    rows = kernel_rows(stored, overhead)
    if overhead:
        notes = (*notes, f"a bare session run ({overhead:.2f} µs) taken off every standalone measurement")
    models = []
    if scope == "kernel":
        models = [m.row for m in model_rows(store, device, target, calibration_labels)]
    fp = store.fingerprint(device)
    clock = stored[0].timing.clock
    statistic = "median of thread CPU time per run" if clock == "thread" else "median of wall time per run"
    predictor, errors = fit_kernel_predictor(target, fp, rows, models, params or FitParams(), notes,
                                             statistic=statistic)
    return predictor, errors, rows
