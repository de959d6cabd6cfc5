"""LutPredictor: per-block latency (ms) for OFA table keys, from a base cost model that a LightGBM
model per block family corrects. Fitted by ``fit_lut``; saved as JSON holding LightGBM model text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np

from archir.passes.latency.lut_base import base_ms
from archir.passes.latency.lut_features import features
from archir.passes.latency.lut_keys import LutKeyError

_CACHE_LIMIT = 1 << 16


@dataclass(frozen=True)
class TrainingInfo:
    """What a predictor learnt from; saved with it so a number can be traced to its data."""

    sources: tuple[str, ...]
    fingerprint: str  # sha256 over the sorted (key, mean, count) rows
    rows: dict[str, int]  # training rows per family
    tile_cv_error: dict[int, float]  # grouped-CV relative error per GEMM row tile candidate
    gbm_params: dict[str, object]


@dataclass
class LutPredictor:
    tile: int
    coef: tuple[float, ...]
    boosters: dict[str, lgb.Booster]
    # Measured means of the training keys, answered as-is when ``answer_seen_keys``.
    table: dict[str, float]
    answer_seen_keys: bool
    info: TrainingInfo
    _cache: dict[str, float] = field(default_factory=dict, repr=False)

    def predict_keys(self, keys: Iterable[str], *, use_table: bool | None = None) -> list[float]:
        """Latency in ms per key. ``use_table=False`` forces the model for keys seen in training."""
        keys = list(keys)
        for key in keys:
            if not isinstance(key, str):
                raise LutKeyError(repr(key), f"a key must be a str, got {type(key).__name__}")
        table = self.table if (self.answer_seen_keys if use_table is None else use_table) else {}
        missing = {key for key in keys if key not in table and key not in self._cache}
        if missing:
            self._remember(self._model(sorted(missing)))
        return [table[key] if key in table else self._cache[key] for key in keys]

    def _model(self, keys: list[str]) -> dict[str, float]:
        by_family: dict[str, list[str]] = {}
        for key in keys:
            by_family.setdefault(features(key, self.tile)[0], []).append(key)
        out = {}
        for family, group in by_family.items():
            base = base_ms(np.array([features(key, self.tile)[1] for key in group]), self.coef)
            booster = self.boosters.get(family)
            if booster is not None:
                shape = np.array([features(key, self.tile)[2] for key in group])
                base = base * np.exp(booster.predict(shape, num_threads=1))
            out.update(zip(group, base.tolist()))
        return out

    def _remember(self, predictions: dict[str, float]) -> None:
        # Bounded: a searcher can stream millions of distinct keys through one predictor.
        if len(self._cache) + len(predictions) > _CACHE_LIMIT:
            self._cache.clear()
        self._cache.update(predictions)

    def save(self, path: str | Path) -> None:
        from archir.passes.latency.lut_io import write_predictor

        write_predictor(self, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> LutPredictor:
        from archir.passes.latency.lut_io import read_predictor

        return read_predictor(Path(path))
