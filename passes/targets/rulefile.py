"""Pair-rule files: nn-Meter's ``fusion_rules.json`` format, validated on load.

An entry ``"BF_<a>_<b>": {"obey": bool, "latency": {...}}`` says whether op class b fuses
after a; a three-class entry is a template matched before the pairs. ``RBC``, ``CBC``, ``RT``
and ``MON`` are nn-Meter bookkeeping (``MON``: how many outputs a fused op may have; null is
0); ``meta`` is archir's provenance block. Anything else — an unknown key or a class name that
is not in the canonical vocabulary — is an error, never silently ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archir.passes.targets.opclass import CLASSES, NNMETER_ALIASES

BOOKKEEPING = frozenset({"RBC", "CBC", "RT", "MON"})


class RuleFileError(ValueError):
    pass


@dataclass(frozen=True)
class PairRules:
    """Fusible class pairs and class triples, with the file they came from."""

    pairs: frozenset[tuple[str, str]]
    triples: frozenset[tuple[str, str, str]]
    known_pairs: frozenset[tuple[str, str]]  # measured or stated, fused or not
    max_outputs: int
    source: str
    meta: tuple[tuple[str, Any], ...] = ()

    def fuses(self, a: str, b: str) -> bool:
        return (a, b) in self.pairs


def _canonical(name: str, key: str, where: str) -> str:
    cls = NNMETER_ALIASES.get(name, name)
    if cls not in CLASSES:
        raise RuleFileError(
            f"{where}: rule '{key}' names unknown op class '{name}' "
            f"(known: {', '.join(sorted(set(NNMETER_ALIASES) | CLASSES))})")
    return cls


def parse_rules(data: dict[str, Any], where: str) -> PairRules:
    if not isinstance(data, dict):
        raise RuleFileError(f"{where}: a rule file is a JSON object")
    pairs, triples, known = set(), set(), set()
    max_outputs = 0
    meta: tuple[tuple[str, Any], ...] = ()
    for key, entry in data.items():
        if key in BOOKKEEPING:
            if key == "MON":
                max_outputs = int(entry.get("obey") or 0) if isinstance(entry, dict) else int(entry or 0)
            continue
        if key == "meta":
            meta = tuple(sorted(entry.items()))
            continue
        if not key.startswith("BF_"):
            raise RuleFileError(f"{where}: unknown entry '{key}' (expected BF_<a>_<b>, meta or "
                                f"{', '.join(sorted(BOOKKEEPING))})")
        names = key[3:].split("_")
        if len(names) not in (2, 3) or not isinstance(entry, dict) or not isinstance(entry.get("obey"), bool):
            raise RuleFileError(f"{where}: '{key}' must name 2 or 3 classes and have a boolean 'obey'")
        classes = tuple(_canonical(n, key, where) for n in names)
        if len(classes) == 2:
            known.add(classes)
            if entry["obey"]:
                pairs.add(classes)
        elif entry["obey"]:
            triples.add(classes)
    return PairRules(frozenset(pairs), frozenset(triples), frozenset(known), max_outputs, where, meta)


def load_rules(path: str | Path) -> PairRules:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise RuleFileError(f"{path}: cannot read rule file: {e}") from None
    return parse_rules(data, str(path))


DATA = Path(__file__).parent / "data"


def shipped(name: str) -> PairRules:
    """A rule file shipped in passes/targets/data."""
    return load_rules(DATA / name)
