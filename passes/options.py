"""Pass options: typed from the pass dataclass's field types, read from and printed to text.

An option is written ``key=value`` with the field name in kebab-case (``num_heads`` ->
``num-heads``). The types a pipeline string can carry are int, float, bool, str and tuple of
ints (written ``[1,3,224,224]``). Printing is canonical: options at their default value are
left out and the rest print in field order, so ``format(parse(s)) == s`` for canonical ``s``.
"""

from __future__ import annotations

import math
import re
import typing
from dataclasses import MISSING, dataclass, fields
from functools import cache
from typing import Any

_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")


@dataclass(frozen=True)
class OptionSpec:
    field: str
    key: str
    kind: str  # "int" | "float" | "bool" | "str" | "ints"
    default: Any
    required: bool


_KINDS: dict[Any, str] = {int: "int", float: "float", bool: "bool", str: "str", tuple[int, ...]: "ints"}
_DESCRIBE = {"int": "an int", "float": "a number", "bool": "true or false", "str": "a string",
             "ints": "a list of ints such as [1,3,224,224]"}


@cache
def option_fields(cls: type) -> tuple[OptionSpec, ...]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in fields(cls):
        kind = _KINDS.get(hints[f.name])
        if kind is None:
            raise TypeError(f"pass option {cls.__name__}.{f.name} has type {hints[f.name]!r}; "
                            f"options may be {', '.join(_DESCRIBE)}")
        required = f.default is MISSING and f.default_factory is MISSING
        default = None if required else (f.default if f.default is not MISSING else f.default_factory())
        out.append(OptionSpec(f.name, f.name.replace("_", "-"), kind, default, required))
    return tuple(out)


def find_option(cls: type, key: str) -> OptionSpec | None:
    key = key.replace("_", "-")
    return next((o for o in option_fields(cls) if o.key == key), None)


def coerce(spec: OptionSpec, raw: Any) -> Any:
    """The typed value of ``raw`` (a literal read from text) for option ``spec``.

    Raises ``ValueError`` saying what was expected.
    """
    kind = spec.kind
    ok = (
        (kind == "int" and isinstance(raw, int) and not isinstance(raw, bool))
        or (kind == "float" and isinstance(raw, (int, float)) and not isinstance(raw, bool))
        or (kind == "bool" and isinstance(raw, bool))
        or (kind == "str" and isinstance(raw, str))
        or (kind == "ints" and isinstance(raw, list)
            and all(isinstance(x, int) and not isinstance(x, bool) for x in raw))
    )
    if not ok:
        raise ValueError(f"expected {_DESCRIBE[kind]}, got {format_value(raw)}")
    if kind == "float":
        return float(raw)
    if kind == "ints":
        return tuple(raw)
    return raw


def format_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isfinite(v) and v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, str):
        if _BARE.match(v) and v not in ("true", "false"):
            return v
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(format_value(x) for x in v) + "]"
    raise TypeError(f"not an option value: {v!r}")


def format_pass(p: Any) -> str:
    parts = [
        f"{o.key}={format_value(getattr(p, o.field))}"
        for o in option_fields(type(p))
        if o.required or getattr(p, o.field) != o.default
    ]
    return p.name + ("{" + ",".join(parts) + "}" if parts else "")
