"""Where a target's kernel predictor lives on this machine, and loading it safely.

The default home is ``$XDG_CACHE_HOME/archir/predictors/<target>`` (``~/.cache`` without
XDG); every API takes an explicit path too. Loading checks that the predictor was trained for
this target on this machine and runtime version: one from another device is refused, naming
what differs, unless forced. Loaded predictors are kept per path (and file time), so a
searcher calling ``predict_latency`` in a loop reads the files once.
"""

from __future__ import annotations

import os
from pathlib import Path

from archir.passes.latency.device import machine_fingerprint
from archir.passes.latency.kernel_io import META, read_predictor
from archir.passes.latency.kernel_predictor import KernelPredictor
from archir.passes.targets import get_target

_LOADED: dict[tuple[str, float, bool], KernelPredictor] = {}


class NoPredictor(FileNotFoundError):
    pass


class FingerprintMismatch(ValueError):
    pass


def predictor_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "archir" / "predictors"


def default_path(target: str) -> Path:
    return predictor_home() / target


def _how_to_train(target: str) -> str:
    t = get_target(target)
    if t.measurable == "here":
        return f"train one with `archir profile --target {target} --budget 900`"
    if t.measurable == "with-gpu":
        return f"train one on a machine with a GPU: `archir profile --target {target} --budget 900`"
    return (f"'{target}' runs on {t.device}, which cannot be profiled here; its latency model is "
            f"{t.latency.kind} ({t.latency.source})")


def check_fingerprint(p: KernelPredictor, where: str) -> None:
    fp = p.fingerprint
    here = machine_fingerprint(fp.runtime, fp.threads, fp.settings)
    diff = here.mismatch(fp)
    if diff:
        raise FingerprintMismatch(
            f"{where}: this predictor was trained on another device or runtime version "
            f"({fp.describe()}); here: {here.describe()}. Differences: {'; '.join(diff)}. "
            f"Retrain here with `archir profile --target {p.target}`, or pass force=True "
            f"(--force) to use it anyway")


def load_predictor(target: str, path: str | Path | None = None, *, force: bool = False) -> KernelPredictor:
    """The kernel predictor for ``target``: from ``path``, else from the default home."""
    get_target(target)  # an unknown target is named as such, not as a missing file
    root = Path(path) if path is not None else default_path(target)
    meta = root / META if root.is_dir() or not root.suffix else root
    if not meta.exists():
        raise NoPredictor(f"no trained latency predictor for target '{target}' at {root}; "
                          + _how_to_train(target))
    cache_key = (str(meta.resolve()), meta.stat().st_mtime, force)
    p = _LOADED.get(cache_key)
    if p is None:
        p = read_predictor(meta.parent)
        if p.target != target:
            raise ValueError(f"{meta}: this predictor is for target '{p.target}', not '{target}'")
        if not force:
            check_fingerprint(p, str(meta))
        _LOADED[cache_key] = p
    return p
