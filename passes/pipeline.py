"""Pipeline strings: ``canonicalize,fold-bn,set-input-shape{shape=[1,3,160,160]},cost``.

A hand-written scanner (the language is four tokens deep) so that every error carries the
column it refers to: unknown pass (listing the known ones), unknown option (listing the
pass's options), a value of the wrong type (naming the pass and the option), syntax.
``format_pipeline(parse_pipeline(s)) == s`` for a canonical ``s``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

from archir.passes.base import Pass, all_passes
from archir.passes.options import coerce, find_option, format_pass, option_fields

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_NUMBER = re.compile(r"-?(\d+\.\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|\d+[eE][-+]?\d+|\d+)(?![A-Za-z0-9_.])")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


class PipelineError(ValueError):
    """A malformed pipeline string; ``column`` is 1-based."""

    def __init__(self, message: str, column: int, text: str):
        self.message = message
        self.column = column
        self.text = text
        super().__init__(str(self))

    def __str__(self) -> str:
        return (f"pipeline:{self.column}: error: {self.message}\n  {self.text}\n"
                f"  {' ' * (self.column - 1)}^")


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def error(self, message: str, pos: int | None = None) -> PipelineError:
        return PipelineError(message, (self.pos if pos is None else pos) + 1, self.text)

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\n":
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            found = f"'{self.peek()}'" if self.peek() else "end of pipeline"
            raise self.error(f"expected '{char}' {what}, found {found}")
        self.pos += 1

    def match(self, pattern: re.Pattern[str]) -> str | None:
        self.skip()
        m = pattern.match(self.text, self.pos)
        if m is None:
            return None
        self.pos = m.end()
        return m.group(0)


def parse_pipeline(text: str) -> list[Pass]:
    """The passes a pipeline string names, with their options typed and checked."""
    s = _Scanner(text)
    passes: list[Pass] = []
    if not s.peek():
        return passes
    while True:
        passes.append(_parse_pass(s))
        if not s.peek():
            return passes
        s.expect(",", "between passes")


def _parse_pass(s: _Scanner) -> Pass:
    s.skip()
    start = s.pos
    name = s.match(_NAME)
    if name is None:
        found = f"'{s.peek()}'" if s.peek() else "end of pipeline"
        raise s.error(f"expected a pass name, found {found}")
    passes = all_passes()
    cls = passes.get(name)
    if cls is None:
        near = difflib.get_close_matches(name, passes, n=1)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        raise s.error(f"unknown pass '{name}' (known passes: {', '.join(sorted(passes))}){hint}", start)
    values: dict[str, Any] = {}
    if s.peek() == "{":
        s.pos += 1
        if s.peek() != "}":
            while True:
                _parse_option(s, cls, values)
                if s.peek() != ",":
                    break
                s.pos += 1
        s.expect("}", f"to close the options of '{name}'")
    for o in option_fields(cls):
        if o.required and o.field not in values:
            raise s.error(f"pass '{name}' needs option '{o.key}'", start)
    try:
        return cls(**values)
    except (ValueError, TypeError) as e:
        raise s.error(f"pass '{name}': {e}", start) from None


def _parse_option(s: _Scanner, cls: type[Pass], values: dict[str, Any]) -> None:
    s.skip()
    start = s.pos
    key = s.match(_NAME)
    if key is None:
        raise s.error(f"expected an option name in the options of '{cls.name}'")
    spec = find_option(cls, key)
    if spec is None:
        known = ", ".join(o.key for o in option_fields(cls)) or "none"
        raise s.error(f"pass '{cls.name}' has no option '{key}' (its options: {known})", start)
    if spec.field in values:
        raise s.error(f"option '{spec.key}' of pass '{cls.name}' given twice", start)
    s.expect("=", f"after option '{key}'")
    s.skip()
    at = s.pos
    raw = _parse_value(s, cls.name, spec.key)
    try:
        values[spec.field] = coerce(spec, raw)
    except ValueError as e:
        raise s.error(f"option '{spec.key}' of pass '{cls.name}': {e}", at) from None


def _parse_value(s: _Scanner, pass_name: str, key: str) -> Any:
    if s.peek() == "[":
        s.pos += 1
        items: list[Any] = []
        if s.peek() != "]":
            while True:
                items.append(_parse_scalar(s, pass_name, key))
                if s.peek() != ",":
                    break
                s.pos += 1
        s.expect("]", f"to close the list given to option '{key}' of '{pass_name}'")
        return items
    return _parse_scalar(s, pass_name, key)


def _parse_scalar(s: _Scanner, pass_name: str, key: str) -> Any:
    number = s.match(_NUMBER)
    if number is not None:
        return float(number) if any(c in number for c in ".eE") else int(number)
    if s.peek() == '"':
        m = _STRING.match(s.text, s.pos)
        if m is None:
            raise s.error("unterminated string")
        s.pos = m.end()
        return re.sub(r"\\(.)", r"\1", m.group(1))
    word = s.match(_WORD)
    if word is not None:
        return {"true": True, "false": False}.get(word, word)
    found = f"'{s.peek()}'" if s.peek() else "end of pipeline"
    raise s.error(f"expected a value for option '{key}' of '{pass_name}', found {found}")


def format_pipeline(passes: Sequence[Pass]) -> str:
    return ",".join(format_pass(p) for p in passes)
