"""Read measured latency tables (OFA YAML: key -> {count, mean, std}) into validated records."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from archir.passes.latency.lut_keys import LutKey, LutKeyError, parse_key

DATA_DIR = Path(__file__).resolve().parent / "data"
NOTE10_RESOLUTIONS = (160, 176, 208, 224)


class LutTableError(ValueError):
    """A table file that cannot be used; names the file and, where it applies, the entry."""


@dataclass(frozen=True, slots=True)
class Measurement:
    key: str
    block: LutKey
    mean_ms: float
    count: int
    source: str


def note10_table_paths() -> list[Path]:
    """The shipped Samsung Note10 tables measured by Once-for-All, one per input resolution."""
    return [DATA_DIR / "ofa_note10" / f"{r}_lookup_table.yaml" for r in NOTE10_RESOLUTIONS]


def _entry(path: Path, key: object, value: object) -> Measurement:
    where = f"{path}: entry {key!r}"
    if not isinstance(key, str):
        raise LutTableError(f"{where}: keys must be strings")
    try:
        block = parse_key(key)
    except LutKeyError as err:
        raise LutTableError(f"{path}: {err}") from None
    if not isinstance(value, dict) or "mean" not in value:
        raise LutTableError(f"{where}: value must be a mapping with a 'mean' (ms)")
    mean = value["mean"]
    if isinstance(mean, bool) or not isinstance(mean, int | float) or not math.isfinite(mean) or mean <= 0:
        raise LutTableError(f"{where}: 'mean' must be a positive number of ms, got {mean!r}")
    count = value.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise LutTableError(f"{where}: 'count' must be a positive integer, got {count!r}")
    return Measurement(key, block, float(mean), count, path.name)


def read_table(path: str | Path) -> list[Measurement]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as err:
        raise LutTableError(f"{path}: cannot read: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise LutTableError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict) or not data:
        raise LutTableError(f"{path}: expected a non-empty mapping of key -> {{count, mean, std}}")
    return [_entry(path, key, value) for key, value in data.items()]


def read_tables(paths: Iterable[str | Path]) -> list[Measurement]:
    rows = [row for path in paths for row in read_table(path)]
    if not rows:
        raise LutTableError("no table paths given")
    return rows


def fingerprint(rows: Sequence[Measurement]) -> str:
    """Order-independent digest of the training data, so a saved predictor names what it learnt."""
    digest = hashlib.sha256()
    for line in sorted(f"{r.key}={r.mean_ms!r}x{r.count}" for r in rows):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()
