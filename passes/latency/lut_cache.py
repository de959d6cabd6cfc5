"""The Note10 LUT predictor, fitted once from the shipped tables and cached on disk.

It lives here, below both the ``annotate-latency`` pass and the search objective, so both answer
with the same predictor (passes may not import the search layer)."""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

from archir.passes.latency.lut import LutPredictor

NOTE10 = "note10-cpu"


@lru_cache(maxsize=4)
def note10_predictor(path: str | None = None) -> LutPredictor:
    """The Note10 LUT predictor: from ``path``, else fitted on the shipped tables (a few seconds)
    and kept in the predictor cache, keyed by the tables' fingerprint, for the next process."""
    from archir.passes.latency.kernel_registry import predictor_home
    from archir.passes.latency.lut_fit import fit_measurements
    from archir.passes.latency.lut_tables import fingerprint, note10_table_paths, read_tables

    if path is not None:
        return LutPredictor.load(path)
    rows = read_tables(note10_table_paths())
    cached = predictor_home() / NOTE10 / f"lut-{fingerprint(rows)[:16]}.json"
    if cached.exists():
        try:
            return LutPredictor.load(cached)
        except (OSError, ValueError):
            pass  # a damaged cache file is refitted and rewritten below
    p = fit_measurements(rows)
    _save_atomically(p, cached)
    return p


def _save_atomically(p: LutPredictor, path: Path) -> None:
    # Pool workers may fit at the same time: each writes its own file and renames it into place,
    # so a reader sees a whole predictor or none.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        os.close(fd)
        try:
            p.save(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass  # an unwritable cache only costs the next process a refit
