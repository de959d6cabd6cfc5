"""The measurement store: one SQLite file, resumable and append-only.

Rows are keyed by (device fingerprint, scope, configuration key) under a UNIQUE constraint and
written with INSERT OR IGNORE, one transaction per measurement, so a run that is killed loses
at most the measurement in flight and a resumed run neither repeats nor duplicates anything.
WAL mode lets a reader (training, a second shell) look at the file while a profiler writes;
synchronous=NORMAL keeps every committed row across a crash of the process (only a power loss
can drop the last transactions).

Scopes: ``kernel`` (a fused kernel of the target), ``op`` (one op alone, the unfused baseline's
unit) and ``model`` (a whole model end to end, for the between-kernel terms).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from archir.backends.profile.timing import Timing
from archir.passes.latency.device import Fingerprint

SCOPES = ("kernel", "op", "model")
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    device TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    first_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS measurements (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL REFERENCES devices(device),
    scope TEXT NOT NULL CHECK (scope IN ('kernel', 'op', 'model')),
    config_key TEXT NOT NULL,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    ir TEXT NOT NULL,
    clock TEXT NOT NULL,
    median_us REAL NOT NULL,
    q1_us REAL NOT NULL,
    q3_us REAL NOT NULL,
    mad_us REAL NOT NULL,
    min_us REAL NOT NULL,
    wall_median_us REAL NOT NULL,
    count INTEGER NOT NULL,
    inner INTEGER NOT NULL,
    stable INTEGER NOT NULL,
    created REAL NOT NULL,
    UNIQUE (device, scope, config_key)
);
CREATE TABLE IF NOT EXISTS failures (
    device TEXT NOT NULL,
    scope TEXT NOT NULL,
    config_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    error TEXT NOT NULL,
    created REAL NOT NULL,
    UNIQUE (device, scope, config_key)
);
CREATE INDEX IF NOT EXISTS measurements_by_target ON measurements (device, scope, target);
"""


class StoreError(RuntimeError):
    pass


@dataclass(frozen=True)
class Row:
    scope: str
    key: str
    target: str
    kind: str
    label: str
    ir: str
    timing: Timing
    created: float


class MeasurementStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(_SCHEMA)  # idempotent (IF NOT EXISTS); commits by itself
        found = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if found is None:
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(found[0]) != SCHEMA_VERSION:
            raise StoreError(f"{self.path}: measurement store schema {found[0]}, this archir reads "
                             f"{SCHEMA_VERSION}")

    @contextmanager
    def _tx(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> MeasurementStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # devices -----------------------------------------------------------------------------
    def register(self, fp: Fingerprint) -> str:
        with self._tx():
            self.db.execute("INSERT OR IGNORE INTO devices VALUES (?, ?, ?)",
                            (fp.key, json.dumps(fp.to_json(), sort_keys=True), time.time()))
        return fp.key

    def fingerprint(self, device: str) -> Fingerprint:
        row = self.db.execute("SELECT fingerprint FROM devices WHERE device = ?", (device,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no device {device}")
        return Fingerprint.from_json(json.loads(row[0]))

    def devices(self) -> list[Fingerprint]:
        return [Fingerprint.from_json(json.loads(r[0]))
                for r in self.db.execute("SELECT fingerprint FROM devices ORDER BY first_seen")]

    # measurements ------------------------------------------------------------------------
    def add(self, device: str, scope: str, key: str, *, target: str, kind: str, label: str, ir: str,
            timing: Timing) -> bool:
        """Record one measurement (committed at once); False when the key was already there."""
        if scope not in SCOPES:
            raise StoreError(f"unknown scope '{scope}' (known: {', '.join(SCOPES)})")
        t = timing
        with self._tx():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO measurements (device, scope, config_key, target, kind, label, ir, "
                "clock, median_us, q1_us, q3_us, mad_us, min_us, wall_median_us, count, inner, stable, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (device, scope, key, target, kind, label, ir, t.clock, t.median_us, t.q1_us, t.q3_us,
                 t.mad_us, t.min_us, t.wall_median_us, t.count, t.inner, int(t.stable), time.time()))
        return cur.rowcount == 1

    def add_failure(self, device: str, scope: str, key: str, kind: str, error: str) -> None:
        with self._tx():
            self.db.execute("INSERT OR IGNORE INTO failures VALUES (?, ?, ?, ?, ?, ?)",
                            (device, scope, key, kind, error[:2000], time.time()))

    def keys(self, device: str, scope: str, *, with_failures: bool = True) -> set[str]:
        """Configuration keys already done (measured, or failed and not worth retrying)."""
        done = {r[0] for r in self.db.execute(
            "SELECT config_key FROM measurements WHERE device = ? AND scope = ?", (device, scope))}
        if with_failures:
            done |= {r[0] for r in self.db.execute(
                "SELECT config_key FROM failures WHERE device = ? AND scope = ?", (device, scope))}
        return done

    def failures(self, device: str, scope: str) -> list[tuple[str, str, str]]:
        return list(self.db.execute(
            "SELECT config_key, kind, error FROM failures WHERE device = ? AND scope = ? ORDER BY created",
            (device, scope)))

    def count(self, device: str, scope: str, target: str | None = None) -> int:
        sql, args = "SELECT COUNT(*) FROM measurements WHERE device = ? AND scope = ?", [device, scope]
        if target is not None:
            sql, args = sql + " AND target = ?", args + [target]
        return self.db.execute(sql, args).fetchone()[0]

    def rows(self, device: str, scope: str, target: str | None = None) -> list[Row]:
        sql = ("SELECT scope, config_key, target, kind, label, ir, median_us, q1_us, q3_us, mad_us, "
               "min_us, count, inner, wall_median_us, stable, clock, created FROM measurements "
               "WHERE device = ? AND scope = ?")
        args: list = [device, scope]
        if target is not None:
            sql, args = sql + " AND target = ?", args + [target]
        out = []
        for r in self.db.execute(sql + " ORDER BY id", args):
            timing = Timing(r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], bool(r[14]), r[15])
            out.append(Row(r[0], r[1], r[2], r[3], r[4], r[5], timing, r[16]))
        return out
