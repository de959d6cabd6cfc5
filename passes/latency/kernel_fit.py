"""Training a KernelPredictor from kernel measurements and whole-model measurements.

Per family: the base is fitted by non-negative least squares on relative error; LightGBM then
learns log(measured/base), with the number of boosting rounds chosen by K-fold early stopping.
The out-of-fold errors are returned per measurement: adaptive sampling refines around the
configurations they flag (nn-Meter's loop), and they are reported as the family's accuracy.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from archir.passes.latency.device import Fingerprint
from archir.passes.latency.kernel_features import FEATURES, ZERO_COST_FAMILIES
from archir.passes.latency.kernel_predictor import (
    STD_QUANTILES,
    WEIGHT_BYTES,
    Calibration,
    FamilyModel,
    KernelPredictor,
    TrainingInfo,
    base_terms,
)
from archir.passes.latency.lut_linear import fit_relative

Item = tuple[str, str, tuple[float, ...]]  # (family, impl, features)


@dataclass(frozen=True)
class TrainRow:
    key: str
    item: Item
    y_us: float


@dataclass(frozen=True)
class ModelRow:
    """A whole model measured end to end, with its kernels."""

    label: str
    items: tuple[Item, ...]
    y_us: float


@dataclass(frozen=True)
class FitParams:
    learning_rate: float = 0.05
    num_leaves: int = 15
    max_rounds: int = 800
    early_stopping: int = 40
    folds: int = 4
    min_rows_for_trees: int = 12
    quantile_rounds: int = 150
    quantile_leaves: int = 7
    calibration_ridge: float = 0.02
    seed: int = 0


def _gbm_params(n: int, p: FitParams, **extra: object) -> dict:
    return {"objective": "regression", "learning_rate": p.learning_rate, "num_leaves": p.num_leaves,
            "min_data_in_leaf": max(2, min(20, n // 25)), "min_data_in_bin": 1,
            "feature_fraction": 0.9, "bagging_fraction": 0.9, "bagging_freq": 1, "lambda_l2": 1.0,
            "max_cat_to_onehot": 16, "min_data_per_group": 2, "cat_smooth": 1.0, "verbose": -1,
            "num_threads": 1, "seed": p.seed, "deterministic": True, "force_row_wise": True, **extra}


def _dataset(x: np.ndarray, t: np.ndarray, params: dict, reference: lgb.Dataset | None = None) -> lgb.Dataset:
    return lgb.Dataset(x, t, categorical_feature=[len(FEATURES)], params={"min_data_in_bin": 1,
                       "verbose": -1}, reference=reference, free_raw_data=False)


def fit_family(family: str, rows: Sequence[TrainRow], p: FitParams) -> tuple[FamilyModel, np.ndarray]:
    """The family's model and each row's out-of-fold relative error (predicted/measured - 1)."""
    impls = tuple(sorted({r.item[1] for r in rows}))
    shell = FamilyModel(family, (0.0, 0.0, 0.0), impls, None, None, None, len(rows), float("nan"))
    x = shell.matrix([r.item[2] for r in rows], [r.item[1] for r in rows])
    y = np.array([r.y_us for r in rows])
    coef = fit_relative(base_terms(x), y)
    shell.base_coef = tuple(float(c) for c in coef)
    base = shell.base(x)
    t = np.log(y / base)
    n = len(rows)
    if n < p.min_rows_for_trees:
        err = base / y - 1
        shell.cv_rel_error = float(np.median(np.abs(err)))
        return shell, err
    params = _gbm_params(n, p)
    folds = min(p.folds, n // 4)
    order = np.random.default_rng(p.seed).permutation(n)
    oof = np.zeros(n)
    best = []
    for k in range(folds):
        held = np.zeros(n, dtype=bool)
        held[order[k::folds]] = True
        train = _dataset(x[~held], t[~held], params)
        valid = _dataset(x[held], t[held], params, reference=train)
        booster = lgb.train(params, train, p.max_rounds, valid_sets=[valid],
                            callbacks=[lgb.early_stopping(p.early_stopping, verbose=False)])
        best.append(booster.best_iteration or p.max_rounds)
        oof[held] = booster.predict(x[held], num_iteration=booster.best_iteration, num_threads=1)
    rounds = max(20, int(np.median(best)))
    full = _dataset(x, t, params)
    shell.mean = lgb.train(params, full, rounds)
    for part, alpha in zip(("lo", "hi"), STD_QUANTILES):
        qp = _gbm_params(n, p, objective="quantile", alpha=alpha, num_leaves=p.quantile_leaves)
        setattr(shell, part, lgb.train(qp, _dataset(x, t, qp), min(rounds, p.quantile_rounds)))
    err = np.exp(oof - t) - 1
    shell.cv_rel_error = float(np.median(np.abs(err)))
    return shell, err


# Candidate bandwidths (GB/s) for the weight-streaming floor; inf: no floor.
WEIGHT_GBS = (float("inf"), 60.0, 40.0, 30.0, 20.0, 15.0, 10.0)


def _calibration_fit(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """(scale, per kernel µs, intercept µs) from x = (Σ floored kernels, #kernels) per model.

    Relative least squares with a prior at (1, 0 µs, 0 µs): with a handful of models of very
    different sizes a free intercept trades a small model's error for a large one's."""
    a = np.stack([x[:, 0] / y, x[:, 1] / y, 1 / y], axis=1)
    b = np.ones(len(y))
    prior_scale = np.array([1.0, 1 / 5.0, 1 / 50.0])  # 5 µs per kernel, 50 µs per run are "large"
    lam = np.sqrt(ridge)
    a = np.vstack([a, np.diag(lam * prior_scale)])
    b = np.concatenate([b, lam * prior_scale * np.array([1.0, 0.0, 0.0])])
    coef = np.linalg.lstsq(a, b, rcond=None)[0]
    coef[0] = min(max(coef[0], 0.5), 2.0)
    return coef


def _sums(raw: list[np.ndarray], weights: list[np.ndarray], gbs: float) -> np.ndarray:
    return np.array([[np.maximum(r, w / (gbs * 1e3)).sum(), len(r)] for r, w in zip(raw, weights)])


def _loo_errors(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    out = np.zeros(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        c = _calibration_fit(x[keep], y[keep], ridge)
        out[i] = (c[0] * x[i, 0] + c[1] * x[i, 1] + c[2]) / y[i] - 1
    return out


def fit_calibration(predictor: KernelPredictor, models: Sequence[ModelRow],
                    ridge: float = 0.02) -> Calibration:
    """Between-kernel terms from whole-model measurements (identity without any)."""
    if not models:
        return Calibration()
    raw, weights = [], []
    for m in models:
        items = [it for it in m.items if it[0] not in ZERO_COST_FAMILIES]
        raw.append(np.array([v for v, _ in predictor.predict_raw(items)]))
        weights.append(np.array([it[2][WEIGHT_BYTES] for it in items]))
    y = np.array([m.y_us for m in models])
    best = (float("inf"), float("inf"), np.full(len(y), np.nan))
    if len(y) >= 3:
        for gbs in WEIGHT_GBS:
            err = _loo_errors(_sums(raw, weights, gbs), y, ridge)
            score = float(np.mean(np.abs(err)))
            if score < best[0] - 1e-4:  # ties keep the simpler (larger bandwidth) floor
                best = (score, gbs, err)
    _, gbs, err = best
    coef = _calibration_fit(_sums(raw, weights, gbs), y, ridge)
    return Calibration(float(coef[0]), float(coef[1]), float(coef[2]), gbs, len(y),
                       float(np.median(np.abs(err))) if len(y) >= 3 else float("nan"))


def data_hash(rows: Sequence[TrainRow]) -> str:
    h = hashlib.sha256()
    for r in sorted(rows, key=lambda r: r.key):
        h.update(f"{r.key}:{r.y_us:.6g};".encode())
    return "sha256:" + h.hexdigest()


def fit_kernel_predictor(target: str, fingerprint: Fingerprint, rows: Sequence[TrainRow],
                         models: Sequence[ModelRow] = (), params: FitParams = FitParams(),
                         notes: Sequence[str] = (), statistic: str = "median of thread CPU time per run",
                         ) -> tuple[KernelPredictor, dict[str, float]]:
    """A predictor and the out-of-fold relative error of every training row, by key."""
    by_family: dict[str, list[TrainRow]] = {}
    for r in rows:
        if r.item[0] in ZERO_COST_FAMILIES or not r.y_us > 0:
            continue
        by_family.setdefault(r.item[0], []).append(r)
    families, errors = {}, {}
    for family, group in sorted(by_family.items()):
        model, err = fit_family(family, group, params)
        families[family] = model
        errors.update({r.key: float(e) for r, e in zip(group, err)})
    info = TrainingInfo({f: len(g) for f, g in sorted(by_family.items())}, data_hash(rows), statistic,
                        time.strftime("%Y-%m-%dT%H:%M:%S"), tuple(notes))
    predictor = KernelPredictor(target, fingerprint, families, Calibration(), info)
    predictor.calibration = fit_calibration(predictor, models, params.calibration_ridge)
    return predictor, errors
