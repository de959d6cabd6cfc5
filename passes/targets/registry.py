"""The target registry: every family module contributes a ``TARGETS`` table."""

from __future__ import annotations

import importlib
import sys

from archir.passes.targets.spec import Target

_FAMILIES = ("adreno", "mali", "tflite_cpu", "ort_cpu", "torch_eager", "note10")
_cache: dict[str, Target] = {}


class UnknownTarget(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def all_targets() -> dict[str, Target]:
    if not _cache:
        for family in _FAMILIES:
            module = importlib.import_module(f"archir.passes.targets.{family}")
            for name, target in module.TARGETS.items():
                if name in _cache:
                    raise ValueError(f"target '{name}' is defined twice")
                _cache[name] = target
    return _cache


def target_names() -> list[str]:
    return sorted(all_targets())


def get_target(name: str | Target) -> Target:
    if isinstance(name, Target):
        return name
    target = all_targets().get(name)
    if target is None:
        raise UnknownTarget(f"unknown target '{name}' (known: {', '.join(target_names())})")
    return target


def target_for_cli(name: str, prefix: str) -> Target | None:
    """The target a command line names, or None after printing ``prefix: unknown target ...``."""
    try:
        return get_target(name)
    except UnknownTarget as e:
        print(f"{prefix}: {e}", file=sys.stderr)
        return None
