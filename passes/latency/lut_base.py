"""The analytic base model: non-negative costs per term, with the GEMM row tile chosen by
grouped cross-validation on the training rows (never on data the caller holds out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archir.passes.latency.lut_features import features
from archir.passes.latency.lut_linear import fit_relative
from archir.passes.latency.lut_tables import Measurement

# Plausible micro-kernel row blocks of mobile GEMM libraries; 1 means "no padding".
TILE_CANDIDATES = (1, 2, 4, 8, 12, 16, 24, 32)
# NNLS may zero every term a layer has (say, dispatch overhead); a layer still takes some time,
# and the boosted correction works on log(measured / base), so the base stays positive.
MIN_BASE_MS = 1e-6


def base_ms(base: np.ndarray, coef: Sequence[float]) -> np.ndarray:
    return np.maximum(base @ np.asarray(coef), MIN_BASE_MS)


@dataclass(frozen=True)
class BaseModel:
    tile: int
    coef: tuple[float, ...]
    cv_error: dict[int, float]  # mean relative error of each candidate tile on held-out groups

    def predict(self, base: np.ndarray) -> np.ndarray:
        return base_ms(base, self.coef)


def base_matrix(keys: Sequence[str], tile: int) -> np.ndarray:
    return np.array([features(key, tile)[1] for key in keys])


def cv_groups(rows: Sequence[Measurement]) -> list[np.ndarray]:
    """Held-out masks: each source table, and each MBConv stage width (output channels).

    These mirror how the predictor is used: at a resolution no table was measured at, and on
    block widths outside the tables."""
    sources = np.array([r.source for r in rows])
    widths = np.array([r.block.out_c if r.block.op == "expanded_conv" else -1 for r in rows])
    groups = [sources == s for s in sorted(set(sources))] if len(set(sources)) > 1 else []
    groups += [widths == w for w in sorted(set(widths) - {-1})]
    return groups if len(groups) > 1 else []


def _cv_error(x: np.ndarray, y: np.ndarray, groups: list[np.ndarray]) -> float:
    errors = []
    for held in groups:
        coef = fit_relative(x[~held], y[~held])
        errors.append(float(np.mean(np.abs(x[held] @ coef / y[held] - 1))))
    return float(np.mean(errors))


def fit_base(rows: Sequence[Measurement], tiles: Sequence[int] = TILE_CANDIDATES) -> BaseModel:
    keys = [r.key for r in rows]
    y = np.array([r.mean_ms for r in rows])
    groups = cv_groups(rows)
    matrices = {tile: base_matrix(keys, tile) for tile in tiles}
    # Without two groups there is nothing to validate a tile on; take the first (neutral) one.
    cv = {tile: _cv_error(matrices[tile], y, groups) for tile in tiles} if groups else {}
    tile = min(cv, key=lambda t: (cv[t], t)) if cv else tiles[0]
    coef = fit_relative(matrices[tile], y)
    return BaseModel(tile, tuple(float(c) for c in coef), cv)
