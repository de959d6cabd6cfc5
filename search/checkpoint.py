"""Checkpoints: ``checkpoint.json`` (configuration, records, pending proposals, strategy state
with its random generator) and ``strategy.npz`` beside it for arrays (controller weights and
optimizer moments). JSON and npz only: nothing a user loads is unpickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archir.search.atomic_write import write_atomically
from archir.search.config import SearchConfig
from archir.search.history import Proposal, Record

if TYPE_CHECKING:
    from archir.search.loop import Search

FORMAT, VERSION = "archir-search-checkpoint", 1
JSON_NAME, ARRAYS_NAME = "checkpoint.json", "strategy.npz"


class CheckpointError(ValueError):
    pass


def save_checkpoint(search: Search, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    state, arrays = search.strategy.state()
    doc = {
        "format": FORMAT, "version": VERSION, "config": search.config.to_json(),
        "strategy_options": search.strategy.options(), "strategy_state": state,
        "records": [r.to_json() for r in search.records], "pending": [p.to_json() for p in search.pending],
        "evaluations": search.evaluations, "elapsed_s": search.elapsed_s,
        "duplicate_streak": search.duplicate_streak, "stop_reason": search.stop_reason,
    }
    npz = directory / ARRAYS_NAME
    if arrays:
        def write_npz(tmp: str) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

        write_atomically(npz, write_npz)
    elif npz.exists():
        npz.unlink()
    path = directory / JSON_NAME
    # allow_nan=False: a checkpoint must be JSON any tool can read; scores are finite or null.
    text = json.dumps(doc, indent=1, allow_nan=False)
    write_atomically(path, lambda tmp: Path(tmp).write_text(text))
    return path


def read_config(directory: Path) -> SearchConfig:
    return SearchConfig.from_json(_read(directory)["config"])


def _read(directory: Path) -> dict[str, Any]:
    path = directory / JSON_NAME
    if not path.exists():
        raise CheckpointError(f"no search checkpoint at {path}")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an archir search checkpoint")
    if doc.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {doc.get('version')}, this archir reads {VERSION}")
    return doc


def _differences(a: Any, b: Any, where: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _differences(a.get(k), b.get(k), f"{where}.{k}" if where else str(k))
        return out
    return [] if a == b else [f"{where}: checkpoint {a!r}, now {b!r}"]


def load_checkpoint(cls: type[Search], directory: Path, config: SearchConfig | None) -> Search:
    doc = _read(directory)
    saved = SearchConfig.from_json(doc["config"])
    if config is not None:
        diff = _differences(saved.to_json(), json.loads(json.dumps(config.to_json())))
        if diff:
            raise CheckpointError(f"{directory} was searched with another configuration: " + "; ".join(diff))
    search = cls(saved)
    if search.strategy.options() != doc["strategy_options"]:
        raise CheckpointError(f"{directory}: strategy options differ: checkpoint {doc['strategy_options']}, "
                              f"now {search.strategy.options()}")
    try:
        records = [Record.from_json(r) for r in doc["records"]]
        for r in records:
            search.space.check(r.assignment)
        pending = [Proposal.from_json(p) for p in doc["pending"]]
        for p in pending:
            search.space.check(p.assignment)
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{directory / JSON_NAME}: damaged or from another space: {e}") from None
    arrays: dict[str, np.ndarray] = {}
    npz = directory / ARRAYS_NAME
    if npz.exists():
        with np.load(npz, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    search.restore_history(records, pending)
    search.evaluations = doc["evaluations"]
    search.elapsed_s = doc["elapsed_s"]
    search.duplicate_streak = doc["duplicate_streak"]
    search.strategy.load_state(doc["strategy_state"], arrays, records)
    return search
