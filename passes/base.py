"""What a pass is: a small frozen dataclass with a kebab-case ``name``, found in one registry.

A pass's dataclass fields are its options; their types (int, float, bool, str, tuple of ints)
say how the pipeline text is read (see ``archir.passes.options``). ``run`` rewrites the module
it is given in place and says whether anything changed: the pass manager hands it a module
that nobody else holds (a clone of the caller's). Calling a pass (``p(module)``) does the
same on a clone, so a pass never mutates a module its caller still holds.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field, is_dataclass
from typing import Any, ClassVar, TypeVar

from archir.ir import Module

_KEBAB = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")


class PassError(Exception):
    """A pass could not do its job on this module (the message names the pass and the op)."""


@dataclass
class PassContext:
    """State shared by the passes of one pipeline run.

    ``analyses`` is a typed side table: an analysis pass stores its result under the result's
    class (``ctx.analyses[CostReport]``), so a reader gets a typed object, never a loose dict.
    """

    analyses: dict[type, Any] = field(default_factory=dict)

    def get(self, kind: type[T]) -> T | None:
        return self.analyses.get(kind)


T = TypeVar("T")


@dataclass(frozen=True)
class Pass:
    """Base of every pass. Subclasses are frozen dataclasses registered with ``@register``."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def run(self, module: Module, ctx: PassContext) -> bool:
        """Rewrite ``module`` in place (the caller owns a private copy); return True if changed."""
        raise NotImplementedError

    def __call__(self, module: Module) -> Module:
        out = module.clone()
        self.run(out, PassContext())
        return out

    def __str__(self) -> str:
        from archir.passes.options import format_pass

        return format_pass(self)


PASSES: dict[str, type[Pass]] = {}

# Packages whose passes register when imported. They load when a pipeline names a pass not yet
# registered (or when every pass must be listed), so `import archir.passes` stays light.
PROVIDERS = ("archir.passes.targets", "archir.passes.latency")


def load_providers() -> None:
    for name in PROVIDERS:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:  # the provider exists but one of its imports is missing
                raise


def lookup_pass(name: str) -> type[Pass] | None:
    if name not in PASSES:
        load_providers()
    return PASSES.get(name)


def all_passes() -> dict[str, type[Pass]]:
    """The registry with every provider's passes loaded."""
    load_providers()
    return PASSES


P = TypeVar("P", bound=type[Pass])


def register(cls: P) -> P:
    """Class decorator: add a pass to the registry under its ``name``."""
    from archir.passes.options import option_fields

    own = "__dataclass_params__" in cls.__dict__  # decorated itself, not just inheriting
    if not (own and is_dataclass(cls) and cls.__dataclass_params__.frozen):  # type: ignore[attr-defined]
        raise TypeError(f"pass {cls.__name__} must be a frozen dataclass")
    if not _KEBAB.match(cls.name or ""):
        raise ValueError(f"pass {cls.__name__} needs a kebab-case name, got {cls.name!r}")
    if cls.name in PASSES and PASSES[cls.name] is not cls:
        raise ValueError(f"pass name '{cls.name}' registered twice")
    option_fields(cls)  # fail at import time on an option type the pipeline text cannot carry
    PASSES[cls.name] = cls
    return cls
