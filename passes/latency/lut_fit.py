"""fit_lut: measured tables -> LutPredictor (base cost model + LightGBM correction per family)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import lightgbm as lgb
import numpy as np

from archir.passes.latency.lut import LutPredictor, TrainingInfo
from archir.passes.latency.lut_base import TILE_CANDIDATES, base_matrix, fit_base
from archir.passes.latency.lut_features import SHAPE, features
from archir.passes.latency.lut_tables import Measurement, fingerprint, read_tables

# Small, strongly regularised trees: a few hundred rows per family, and the base model already
# carries the scale, so the boosted part only bends it by tens of percent.
GBM_PARAMS: dict[str, object] = {
    "objective": "regression", "learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 5,
    "lambda_l2": 1.0, "num_threads": 1, "deterministic": True, "force_row_wise": True, "seed": 0,
    "verbose": -1,
}
GBM_ROUNDS = 300
# Below this many rows a family keeps the base model alone: trees on a handful of points memorise.
MIN_ROWS_FOR_CORRECTION = 30


def _seen_table(rows: Sequence[Measurement]) -> dict[str, float]:
    # A key measured in several tables (same block at two resolutions' shared stages) gets the
    # count-weighted mean of its measurements.
    totals: dict[str, tuple[float, int]] = {}
    for r in rows:
        ms, n = totals.get(r.key, (0.0, 0))
        totals[r.key] = (ms + r.mean_ms * r.count, n + r.count)
    return {key: ms / n for key, (ms, n) in sorted(totals.items())}


def fit_measurements(rows: Sequence[Measurement], *, answer_seen_keys: bool = True,
                     tiles: Sequence[int] = TILE_CANDIDATES) -> LutPredictor:
    """Fit on already-read measurements (the benchmark's held-out splits use this directly)."""
    if not rows:
        raise ValueError("cannot fit a latency predictor on zero measurements")
    base = fit_base(rows, tiles)
    keys = [r.key for r in rows]
    y = np.array([r.mean_ms for r in rows])
    residual = np.log(y / base.predict(base_matrix(keys, base.tile)))
    families = np.array([features(key, base.tile)[0] for key in keys], dtype=object)
    boosters = {}
    for family, names in SHAPE.items():
        mask = families == family
        if mask.sum() < MIN_ROWS_FOR_CORRECTION:
            continue
        shape = np.array([features(key, base.tile)[2] for key, m in zip(keys, mask) if m])
        data = lgb.Dataset(shape, residual[mask], feature_name=list(names), params={"verbose": -1})
        boosters[family] = lgb.train(GBM_PARAMS, data, num_boost_round=GBM_ROUNDS)
    info = TrainingInfo(
        sources=tuple(sorted({r.source for r in rows})), fingerprint=fingerprint(rows),
        rows={str(f): int((families == f).sum()) for f in sorted(set(families))},
        tile_cv_error=dict(base.cv_error), gbm_params={**GBM_PARAMS, "num_boost_round": GBM_ROUNDS})
    return LutPredictor(base.tile, base.coef, boosters, _seen_table(rows), answer_seen_keys, info)


def fit_lut(paths: Iterable[str | Path], *, answer_seen_keys: bool = True) -> LutPredictor:
    """Fit a latency predictor on OFA-format YAML tables (key -> {count, mean ms, std})."""
    if isinstance(paths, str | Path):
        paths = [paths]
    return fit_measurements(read_tables(paths), answer_seen_keys=answer_seen_keys)
