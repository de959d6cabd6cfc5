"""Unique names: the one rule every namer in archir follows (printer, exporters, importers)."""

from __future__ import annotations


def claim(base: str, taken: set[str]) -> str:
    """``base`` if free, else the first free ``base_1``, ``base_2``, ...; marks it taken."""
    name, n = base, 0
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name
