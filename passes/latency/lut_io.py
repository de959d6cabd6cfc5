"""Predictor files: one JSON document holding LightGBM model text, never pickle.

The file names its format and version, the feature names it was trained with and a fingerprint
of its training data, and carries a checksum so that a truncated or hand-edited file is refused
with a clear error instead of predicting nonsense."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import lightgbm as lgb

from archir.passes.latency.lut import LutPredictor, TrainingInfo
from archir.passes.latency.lut_features import BASE, SHAPE

FORMAT = "archir.lut-predictor"
VERSION = 1


class LutPredictorFileError(ValueError):
    """A predictor file that cannot be loaded; names the file and what is wrong."""

    def __init__(self, path: Path, problem: str):
        self.path = path
        super().__init__(f"{path}: {problem}")


def _checksum(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _payload(p: LutPredictor) -> dict[str, Any]:
    info = p.info
    return {
        "format": FORMAT, "version": VERSION, "units": "ms",
        "features": {"base": list(BASE), "shape": {f: list(n) for f, n in SHAPE.items()}},
        "base": {"gemm_row_tile": p.tile, "coef": list(p.coef)},
        "correction": {f: {"target": "log(measured_ms / base_ms)", "lightgbm_model": b.model_to_string()}
                       for f, b in sorted(p.boosters.items())},
        "answer_seen_keys": p.answer_seen_keys, "table": p.table,
        "training": {"sources": list(info.sources), "fingerprint": info.fingerprint, "rows": info.rows,
                     "tile_cv_error": {str(t): e for t, e in info.tile_cv_error.items()},
                     "gbm_params": info.gbm_params, "lightgbm_version": lgb.__version__},
    }


def write_predictor(p: LutPredictor, path: Path) -> None:
    payload = _payload(p)
    payload["checksum"] = _checksum(payload)
    path.write_text(json.dumps(payload, indent=1, sort_keys=True, allow_nan=False) + "\n")


def _require(path: Path, ok: bool, problem: str) -> None:
    if not ok:
        raise LutPredictorFileError(path, problem)


def _booster(path: Path, family: str, entry: Any) -> lgb.Booster:
    _require(path, isinstance(entry, dict) and isinstance(entry.get("lightgbm_model"), str),
             f"correction model {family!r} has no LightGBM model text")
    try:
        booster = lgb.Booster(model_str=entry["lightgbm_model"])
    except lgb.basic.LightGBMError as err:
        problem = f"correction model {family!r} is not valid LightGBM text: {err}"
        raise LutPredictorFileError(path, problem) from None
    want = len(SHAPE[family])
    _require(path, booster.num_feature() == want,
             f"correction model {family!r} expects {booster.num_feature()} features, not {want}")
    return booster


def _check_header(path: Path, doc: Any) -> None:
    _require(path, isinstance(doc, dict) and doc.get("format") == FORMAT,
             f"not an archir latency predictor (expected format {FORMAT!r})")
    version = doc.get("version")
    _require(path, version == VERSION,
             f"predictor file format version {version!r}; this archir reads version {VERSION} (refit it)")
    checksum = doc.pop("checksum", None)
    _require(path, checksum == _checksum(doc),
             "corrupt: checksum mismatch (the file was truncated or edited)")
    want = {"base": list(BASE), "shape": {f: list(n) for f, n in SHAPE.items()}}
    _require(path, doc.get("features") == want,
             f"trained on features {doc.get('features')}, but this archir computes {want}; refit it")


def read_predictor(path: Path) -> LutPredictor:
    try:
        doc = json.loads(path.read_text())
    except OSError as err:
        raise LutPredictorFileError(path, f"cannot read: {err.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise LutPredictorFileError(path, f"not a predictor file (invalid JSON: {err})") from None
    _check_header(path, doc)
    try:
        base, training, table = doc["base"], doc["training"], doc["table"]
        coef = tuple(float(c) for c in base["coef"])
        tile = base["gemm_row_tile"]
        info = TrainingInfo(tuple(training["sources"]), training["fingerprint"], dict(training["rows"]),
                            {int(t): float(e) for t, e in training["tile_cv_error"].items()},
                            dict(training["gbm_params"]))
        answer = doc["answer_seen_keys"]
    except (KeyError, TypeError, ValueError) as err:
        raise LutPredictorFileError(path, f"malformed predictor file: missing or bad field ({err})") from None
    _require(path, len(coef) == len(BASE) and all(math.isfinite(c) and c >= 0 for c in coef),
             "base coefficients must be one finite non-negative number per base feature")
    _require(path, isinstance(tile, int) and tile >= 1, "gemm_row_tile must be a positive integer")
    _require(path, isinstance(answer, bool) and isinstance(table, dict)
             and all(isinstance(v, int | float) for v in table.values()), "malformed measured-key table")
    corrections = doc.get("correction", {})
    _require(path, isinstance(corrections, dict) and set(corrections) <= set(SHAPE),
             f"correction models must be among families {sorted(SHAPE)}")
    boosters = {family: _booster(path, family, entry) for family, entry in corrections.items()}
    return LutPredictor(tile, coef, boosters, {k: float(v) for k, v in table.items()}, answer, info)
