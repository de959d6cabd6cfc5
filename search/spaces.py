"""Search spaces by name, built from a JSON-able spec so that every worker process (pool, Ray)
rebuilds the same space the driver searches."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from archir.frontends.spaces.darts import DartsSpace
from archir.frontends.spaces.nasnet import NasNetSpace
from archir.frontends.spaces.nb201 import NB201Space
from archir.frontends.spaces.ofa_mbv3 import OFAMobileNetV3Space
from archir.frontends.spaces.proxyless import ProxylessSpace
from archir.frontends.spaces.space import Space
from archir.frontends.spaces.transformer import TransformerSpace

SPACES: dict[str, Callable[..., Space]] = {
    "nb201": NB201Space, "darts": DartsSpace, "nasnet": NasNetSpace, "ofa-mbv3": OFAMobileNetV3Space,
    "proxyless": ProxylessSpace, "transformer": TransformerSpace,
}

# Defaults that differ from the space's own, written into every spec (and so every checkpoint).
# OFA: w1.2 is the supernet OFA released with the Note10 latency tables.
DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {"ofa-mbv3": {"width_mult": 1.2}}


@dataclass(frozen=True)
class SpaceSpec:
    """A space by registry name plus constructor options (JSON values only)."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in SPACES:
            raise ValueError(f"unknown search space {self.name!r} (known: {', '.join(SPACES)})")
        object.__setattr__(self, "options", {**DEFAULT_OPTIONS.get(self.name, {}), **self.options})

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "options": dict(self.options)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SpaceSpec:
        return cls(data["name"], data.get("options", {}))

    def build(self) -> Space:
        return _build(self.name, json.dumps(self.options, sort_keys=True))


@lru_cache(maxsize=8)
def _build(name: str, options: str) -> Space:
    try:
        return SPACES[name](**json.loads(options))
    except TypeError as e:  # an option the space's constructor does not take
        raise ValueError(f"space {name!r}: {e}") from None


def parse_option(text: str) -> tuple[str, Any]:
    """``key=value`` from the command line; the value is read as JSON when it parses, else a str."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise ValueError(f"expected key=value, got {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw
