"""KernelPredictor: per-kernel latency (µs) for one target on one device, from profiling.

Per family, an analytic base (non-negative intercept + per-FLOP + per-byte cost, fitted in
relative terms) that a LightGBM model corrects multiplicatively: it learns log(measured/base).
The base extrapolates sensibly beyond the sampled shapes (trees alone go flat there); the trees
learn what the roofline cannot (tiling, vector widths, im2col, cache fits). Two quantile models
(16th / 84th percentiles of the same target) give the uncertainty, reported as a standard
deviation. What sits between kernels (dispatch, the session's per-run cost, colder caches in a
whole model) is a ``Calibration`` fitted on whole-model measurements.

Prediction is batched: one LightGBM call per family for all the kernels it has not seen
before, and a bounded cache keyed by the feature vector (identical features give identical
predictions, so the key is exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np

from archir.passes.latency.device import Fingerprint
from archir.passes.latency.kernel_features import FEATURES, ZERO_COST_FAMILIES, feature_index

_FLOPS = feature_index("flops")
WEIGHT_BYTES = feature_index("weight_bytes")
_BYTES = tuple(feature_index(n) for n in ("in_bytes", "out_bytes", "weight_bytes"))
_CACHE_LIMIT = 1 << 18
STD_QUANTILES = (0.16, 0.84)  # ±1σ of a normal distribution


class MissingKernelModel(LookupError):
    """A kernel family the predictor has no model for (never counted as 0 ms)."""


def base_terms(x: np.ndarray) -> np.ndarray:
    """The base model's terms per row: 1, MFLOPs, MB moved."""
    nbytes = x[:, _BYTES[0]] + x[:, _BYTES[1]] + x[:, _BYTES[2]]
    return np.stack([np.ones(len(x)), x[:, _FLOPS] / 1e6, nbytes / 1e6], axis=1)


@dataclass
class FamilyModel:
    family: str
    base_coef: tuple[float, float, float]  # µs: intercept, per MFLOP, per MB moved
    impls: tuple[str, ...]  # the categorical vocabulary of the impl feature
    mean: lgb.Booster | None  # log(measured / base); None: too few rows, base only
    lo: lgb.Booster | None
    hi: lgb.Booster | None
    rows: int
    cv_rel_error: float  # median |predicted / measured - 1| out of fold (nan: not validated)

    def matrix(self, feats: Sequence[tuple[float, ...]], impls: Sequence[str]) -> np.ndarray:
        codes = {name: i for i, name in enumerate(self.impls)}
        x = np.empty((len(feats), len(FEATURES) + 1))
        x[:, :-1] = feats
        x[:, -1] = [codes.get(i, np.nan) for i in impls]  # an unseen impl goes the "missing" way
        return x

    def base(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(base_terms(x) @ np.asarray(self.base_coef), 1e-3)

    def predict(self, x: np.ndarray, with_std: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        base = self.base(x)
        if self.mean is None:
            return base, (base * self.cv_rel_error if with_std and np.isfinite(self.cv_rel_error) else None)
        mean = base * np.exp(self.mean.predict(x, num_threads=1))
        if not with_std:
            return mean, None
        if self.lo is None or self.hi is None:
            return mean, np.full(len(x), np.nan)
        lo = base * np.exp(self.lo.predict(x, num_threads=1))
        hi = base * np.exp(self.hi.predict(x, num_threads=1))
        return mean, np.abs(hi - lo) / 2


@dataclass(frozen=True)
class Calibration:
    """A kernel inside a model: scale · max(standalone, weight bytes / bandwidth) + per_kernel_us;
    the model: the sum of its kernels + intercept_us.

    A kernel timed alone runs again and again with its weights in cache; inside a model they
    were evicted by every other layer and stream from memory, so a kernel cannot finish faster
    than its weights arrive (a 5 MB classifier takes 5× its standalone time at batch 1).
    ``weight_gbs`` is that bandwidth (inf: no floor), chosen by leave-one-out on whole models;
    the intercept is paid once per run (the session's own work)."""

    scale: float = 1.0
    per_kernel_us: float = 0.0
    intercept_us: float = 0.0
    weight_gbs: float = float("inf")
    models: int = 0  # whole-model measurements it was fitted on
    rel_error: float = float("nan")  # median |predicted / measured - 1| on those (leave-one-out)

    def in_model(self, raw_us: float, weight_bytes: float) -> float:
        """One kernel's latency inside a model (0 stays 0: free kernels launch nothing)."""
        if raw_us <= 0:
            return 0.0
        floor = weight_bytes / (self.weight_gbs * 1e3)
        return max(self.scale * max(raw_us, floor) + self.per_kernel_us, 0.0)


@dataclass(frozen=True)
class TrainingInfo:
    rows: dict[str, int]  # measurements per family
    data_hash: str  # sha256 over the sorted (key, median) training rows
    statistic: str  # which timing statistic the models learnt (median of thread CPU time)
    created: str
    notes: tuple[str, ...] = ()


@dataclass
class KernelPredictor:
    target: str
    fingerprint: Fingerprint
    families: dict[str, FamilyModel]
    calibration: Calibration
    info: TrainingInfo
    _cache: dict[tuple, tuple[float, float]] = field(default_factory=dict, repr=False)
    _cache_std: dict[tuple, tuple[float, float]] = field(default_factory=dict, repr=False)
    _in_model: dict[tuple, float] = field(default_factory=dict, repr=False)

    def require(self, families: set[str], where: str = "") -> None:
        missing = sorted(families - set(self.families) - ZERO_COST_FAMILIES)
        if missing:
            raise MissingKernelModel(
                f"the {self.target} predictor has no model for kernel famil"
                f"{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)}{where} (it has: "
                f"{', '.join(sorted(self.families))}); profile models that use them "
                f"(archir profile --target {self.target}) and retrain")

    def predict_raw(self, items: Sequence[tuple[str, str, tuple[float, ...]]],
                    with_std: bool = False) -> list[tuple[float, float]]:
        """Standalone latency (µs) and its σ (nan without ``with_std``) of (family, impl, features)."""
        cache = self._cache_std if with_std else self._cache
        out: list[tuple[float, float] | None] = [None] * len(items)
        todo: dict[str, list[int]] = {}
        for i, item in enumerate(items):
            hit = cache.get(item)
            if hit is not None:
                out[i] = hit
            elif item[0] in ZERO_COST_FAMILIES:
                out[i] = (0.0, 0.0)
            else:
                todo.setdefault(item[0], []).append(i)
        if todo:
            self.require(set(todo))
            if len(cache) > _CACHE_LIMIT:  # bounded: a searcher streams millions of kernels
                cache.clear()
            for family, idx in todo.items():
                model = self.families[family]
                x = model.matrix([items[i][2] for i in idx], [items[i][1] for i in idx])
                mean, std = model.predict(x, with_std)
                for j, i in enumerate(idx):
                    value = (float(mean[j]), float(std[j]) if std is not None else float("nan"))
                    cache[items[i]] = value
                    out[i] = value
        return out  # type: ignore[return-value]

    def in_model_us(self, keyed: Sequence[tuple[tuple, Sequence]]) -> list[float]:
        """Calibrated latency (µs) inside a model of (region key, ops) kernels, cached by key."""
        cache = self._in_model
        out = [cache.get(key) for key, _ in keyed]
        missing = [i for i, v in enumerate(out) if v is None]
        if missing:
            from archir.passes.latency.kernel_features import kernel_item

            if len(cache) > _CACHE_LIMIT:
                cache.clear()
            items = [kernel_item(keyed[i][1]) for i in missing]
            raw = self.predict_raw(items)
            c = self.calibration
            for i, item, (value, _) in zip(missing, items, raw):
                out[i] = cache[keyed[i][0]] = c.in_model(value, item[2][WEIGHT_BYTES])
        return out  # type: ignore[return-value]

    def save(self, path) -> None:
        from archir.passes.latency.kernel_io import write_predictor

        write_predictor(self, path)

    @classmethod
    def load(cls, path) -> KernelPredictor:
        from archir.passes.latency.kernel_io import read_predictor

        return read_predictor(path)
