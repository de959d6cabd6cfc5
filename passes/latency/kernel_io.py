"""Kernel predictor files: a directory of LightGBM model text plus one JSON document.

    <dir>/predictor.json       format, version, target, device fingerprint, feature names,
                               per-family base coefficients and impl vocabulary, calibration,
                               training info, and the sha256 of every model file
    <dir>/<family>.<part>.txt  LightGBM text models (part: mean, lo, hi)

Never pickle. A file whose checksum or feature list does not match is refused with a message
that names it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import lightgbm as lgb

from archir.passes.latency.device import Fingerprint
from archir.passes.latency.kernel_features import FEATURES, IMPL_FEATURE
from archir.passes.latency.kernel_predictor import (
    Calibration,
    FamilyModel,
    KernelPredictor,
    TrainingInfo,
)

FORMAT = "archir.kernel-predictor"
VERSION = 1
META = "predictor.json"
PARTS = ("mean", "lo", "hi")


class PredictorFileError(ValueError):
    def __init__(self, path: Path, problem: str):
        self.path = path
        super().__init__(f"{path}: {problem}")


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def write_predictor(p: KernelPredictor, path: str | Path) -> Path:
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    families: dict[str, Any] = {}
    for name, m in sorted(p.families.items()):
        files = {}
        for part in PARTS:
            booster = getattr(m, part)
            if booster is None:
                continue
            text = booster.model_to_string()
            file = f"{name}.{part}.txt"
            (root / file).write_text(text)
            files[part] = {"file": file, "checksum": _sha(text)}
        families[name] = {"base_coef_us": list(m.base_coef), "impls": list(m.impls), "rows": m.rows,
                          "cv_rel_error": None if m.cv_rel_error != m.cv_rel_error else m.cv_rel_error,
                          "models": files}
    c, info = p.calibration, p.info
    doc = {
        "format": FORMAT, "version": VERSION, "target": p.target, "units": "us",
        "fingerprint": p.fingerprint.to_json(),
        "features": [*FEATURES, IMPL_FEATURE],
        "target_transform": "log(measured_us / base_us), base = c0 + c1*MFLOPs + c2*MB",
        "std_quantiles": [0.16, 0.84],
        "families": families,
        "calibration": {"scale": c.scale, "per_kernel_us": c.per_kernel_us, "intercept_us": c.intercept_us,
                        "weight_gbs": None if c.weight_gbs == float("inf") else c.weight_gbs,
                        "models": c.models, "rel_error": None if c.rel_error != c.rel_error else c.rel_error},
        "training": {"rows": info.rows, "data_hash": info.data_hash, "statistic": info.statistic,
                     "created": info.created, "notes": list(info.notes),
                     "lightgbm_version": lgb.__version__},
    }
    # stale model files of families this predictor no longer has would confuse a reader
    wanted = {f["file"] for fam in families.values() for f in fam["models"].values()}
    for old in root.glob("*.txt"):
        if old.name not in wanted:
            old.unlink()
    (root / META).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return root


def _require(path: Path, ok: bool, problem: str) -> None:
    if not ok:
        raise PredictorFileError(path, problem)


def read_meta(path: str | Path) -> dict[str, Any]:
    root = Path(path)
    meta = root / META if root.is_dir() else root
    _require(meta, meta.exists(), "no kernel predictor here (predictor.json is missing)")
    try:
        doc = json.loads(meta.read_text())
    except json.JSONDecodeError as e:
        raise PredictorFileError(meta, f"not valid JSON: {e}") from None
    _require(meta, isinstance(doc, dict) and doc.get("format") == FORMAT,
             f"not an archir kernel predictor (expected format {FORMAT!r})")
    _require(meta, doc.get("version") == VERSION,
             f"predictor format version {doc.get('version')}, this archir reads {VERSION}")
    _require(meta, doc.get("features") == [*FEATURES, IMPL_FEATURE],
             "trained with another feature list than this archir computes; retrain it")
    return doc


def read_predictor(path: str | Path) -> KernelPredictor:
    root = Path(path)
    root = root if root.is_dir() else root.parent
    doc = read_meta(root)
    families = {}
    for name, entry in doc["families"].items():
        parts: dict[str, lgb.Booster | None] = dict.fromkeys(PARTS)
        for part, ref in entry["models"].items():
            file = root / ref["file"]
            _require(file, file.exists(), f"model file of family {name!r} is missing")
            text = file.read_text()
            _require(file, _sha(text) == ref["checksum"], "checksum mismatch (truncated or edited?)")
            try:
                parts[part] = lgb.Booster(model_str=text)
            except lgb.basic.LightGBMError as e:
                raise PredictorFileError(file, f"not valid LightGBM text: {e}") from None
            _require(file, parts[part].num_feature() == len(FEATURES) + 1,
                     f"expects {parts[part].num_feature()} features, not {len(FEATURES) + 1}")
        err = entry["cv_rel_error"]
        families[name] = FamilyModel(name, tuple(entry["base_coef_us"]), tuple(entry["impls"]),
                                     parts["mean"], parts["lo"], parts["hi"], entry["rows"],
                                     float("nan") if err is None else err)
    c = doc["calibration"]
    calibration = Calibration(c["scale"], c["per_kernel_us"], c["intercept_us"],
                              float("inf") if c["weight_gbs"] is None else c["weight_gbs"], c["models"],
                              float("nan") if c["rel_error"] is None else c["rel_error"])
    t = doc["training"]
    info = TrainingInfo(t["rows"], t["data_hash"], t["statistic"], t["created"], tuple(t["notes"]))
    return KernelPredictor(doc["target"], Fingerprint.from_json(doc["fingerprint"]), families,
                           calibration, info)


def size_bytes(path: str | Path) -> int:
    root = Path(path)
    return sum(f.stat().st_size for f in root.iterdir() if f.is_file())
