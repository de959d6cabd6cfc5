"""Parser for the text format: lark LALR with inline callbacks (no parse tree is built).

Every problem with the text, from a stray character to an undefined value or an attribute
of the wrong kind, is a ``ParseError`` with the line and column of the offending token.
Type correctness is the verifier's job; ``parse`` runs it unless asked not to.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

import archir.ops  # noqa: F401  (registers the op set)
from archir.attrs import AttrError
from archir.errors import ParseError
from archir.ir import KERNEL_ATTRS, Graph, Kernel, Module, Operation, Param, Value
from archir.opdef import lookup
from archir.types import DType, ParamRef, SymbolRef, TensorType

_UNESCAPE = re.compile(r"\\(.)")
_DIM = re.compile(r"-?[0-9]+\Z")


def _source_line(text: str, line: int) -> str:
    """Line ``line`` (1-based) as lark counts lines: only ``\\n`` ends one."""
    lines = text.split("\n")
    return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""


class _Attrs(list):
    """(name token, value) pairs of one attribute dict."""


class _Loc(str):
    pass


class _Callbacks(Transformer):
    """Builds IR objects while the LALR parser reduces; state is per parse (see ``parse``)."""

    def reset(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.graphs: list[Graph] = []
        self.params: dict[str, Param] = {}
        self.scope: dict[str, Value] = {}
        self.graph_name = ""
        self.out_types: list[TensorType] = []
        self.args: list[Value] = []
        self.ops: list[Operation] = []
        self.kernel: Kernel | None = None

    def error(self, message: str, token: Token | None) -> ParseError:
        line = getattr(token, "line", None) or 1
        column = getattr(token, "column", None) or 1
        return ParseError(message, line, column, _source_line(self.text, line), self.filename)

    # values -----------------------------------------------------------------------------
    def int(self, ch):
        try:
            return int(ch[0])
        except ValueError:  # more digits than Python converts
            raise self.error(f"integer {ch[0][:20]}... is too long", ch[0]) from None

    def ints(self, ch):
        try:
            return tuple(int(d) for d in ch[0][1:-1].split(","))
        except ValueError:  # more digits than Python converts
            raise self.error(f"integer list {ch[0][:20]}... has a number too long", ch[0]) from None

    def float(self, ch):
        return float(ch[0])

    def string(self, ch):
        return _UNESCAPE.sub(lambda m: "\n" if m[1] == "n" else m[1], ch[0][1:-1])

    def true(self, ch):
        return True

    def false(self, ch):
        return False

    def symbol(self, ch):
        return SymbolRef(ch[0][1:])

    def param(self, ch):
        return ParamRef(ch[0][1:])

    def list(self, ch):
        return tuple(c for c in ch if c is not None) if ch != [None] else ()

    def attr(self, ch):
        return (ch[0], ch[1])

    def attr_dict(self, ch):
        pairs = _Attrs(c for c in ch if c is not None)
        seen = set()
        for tok, _ in pairs:
            if tok in seen:
                raise self.error(f"attribute '{tok}' given twice", tok)
            seen.add(str(tok))
        return pairs

    def type(self, ch):
        tok = ch[0]
        dtype, _, dims = tok[:-1].partition("[")
        try:
            parts = [d.strip() for d in dims.split(",")] if dims.strip() else []
            shape = tuple(int(d) if _DIM.match(d) else d for d in parts)
        except ValueError:  # more digits than Python converts
            raise self.error(f"bad type {tok}: a dimension is too long", tok) from None
        try:
            dtype = DType(dtype)
        except ValueError:
            raise self.error(f"bad type {tok}: unknown dtype '{dtype}'", tok) from None
        try:
            return TensorType(dtype, shape)
        except ValueError as e:
            raise self.error(f"bad type {tok}: {e}", tok) from None

    def loc(self, ch):
        return _Loc(self.string(ch))

    # structure --------------------------------------------------------------------------
    def param_decl(self, ch):
        tok, domain = ch
        name = tok[1:]
        if name in self.params:
            raise self.error(f"param ${name} declared twice", tok)
        if not domain:
            raise self.error(f"param ${name} has an empty domain", tok)
        self.params[name] = Param(name, domain)

    def arg(self, ch):
        return ch[0], ch[1]

    def graph_header(self, ch):
        tok = ch[0]
        self.graph_name = tok[1:]
        if any(g.name == self.graph_name for g in self.graphs):
            raise self.error(f"graph @{self.graph_name} defined twice", tok)
        self.scope, self.ops, self.args = {}, [], []
        self.out_types = [c for c in ch[1:] if isinstance(c, TensorType)]
        for c in ch[1:]:
            if isinstance(c, tuple):
                name_tok, type_ = c
                self.args.append(self.define(name_tok, Value(type_, None, len(self.args))))

    def define(self, tok: Token, value: Value) -> Value:
        name = tok[1:]
        if name in self.scope:
            raise self.error(f"redefinition of %{name}", tok)
        self.scope[name] = value
        value.name_hint = None if name.isdigit() else name
        return value

    def use(self, tok: Token) -> Value:
        value = self.scope.get(tok[1:])
        if value is None:
            raise self.error(f"use of undefined value {tok}", tok)
        return value

    def kernel_header(self, ch):
        keyword, attrs = ch
        try:
            self.kernel = Kernel(**{str(k): v for k, v in attrs})
        except AttrError as e:
            bad = next((k for k, _ in attrs if k not in KERNEL_ATTRS or f"'{k}'" in str(e)), keyword)
            raise self.error(str(e), bad) from None

    def kernel(self, ch):
        self.kernel = None

    def op(self, ch):
        at = next(i for i, c in enumerate(ch) if isinstance(c, Token) and c.type == "IDENT")
        name_tok, rest = ch[at], ch[at + 1:]
        opdef = lookup(str(name_tok))
        if opdef is None:
            raise self.error(f"unknown op '{name_tok}'", name_tok)
        operands = [self.use(c) for c in rest if isinstance(c, Token) and c.type == "VALUE"]
        attrs: _Attrs = next((c for c in rest if isinstance(c, _Attrs)), _Attrs())
        types = [c for c in rest if isinstance(c, TensorType)]
        loc = next((c for c in rest if isinstance(c, _Loc)), None)
        problem = opdef.check_arity(len(operands))
        if problem:
            raise self.error(problem, name_tok)
        try:
            values = opdef.normalize_attrs({str(k): v for k, v in attrs})
        except AttrError as e:
            bad = next((k for k, _ in attrs if k not in opdef.attrs or f"'{k}'" in str(e)), name_tok)
            raise self.error(str(e), bad) from None
        results = ch[:at]
        if len(results) != len(types):
            raise self.error(f"{len(results)} results but {len(types)} types", results[0])
        op = Operation(opdef, operands, values, types, loc=loc and str(loc), kernel=self.kernel)
        for tok, value in zip(results, op.results):
            self.define(tok, value)
        self.ops.append(op)

    def ret(self, ch):
        keyword, values = ch[0], [c for c in ch[1:] if c is not None]
        outputs = [self.use(c) for c in values]
        types = [v.type for v in outputs]
        if types != self.out_types:
            tok = values[0] if values else keyword
            raise self.error(
                f"@{self.graph_name} returns ({', '.join(map(str, types))}) but its signature "
                f"says ({', '.join(map(str, self.out_types))})", tok)
        self.graphs.append(Graph(self.graph_name, self.args, self.ops, outputs))

    def graph(self, ch):
        return None

    def module(self, ch):
        return Module(self.graphs, self.params.values())


_GRAMMAR = (Path(__file__).parent / "grammar.lark").read_text()
_callbacks = _Callbacks()
_lark = Lark(_GRAMMAR, start="module", parser="lalr", transformer=_callbacks,
             maybe_placeholders=True, propagate_positions=False)
_lock = threading.Lock()


# How the terminals whose pattern is a regular expression read in an error message.
_TERMINALS = {
    "VALUE": "%value", "SYMBOL": "@name", "PARAM": "$param", "IDENT": "identifier",
    "INT": "integer", "INTS": "list of integers", "FLOAT": "float", "STRING": "string",
    "TYPE": "type such as f32[N, 3]", "$END": "end of input",
}


def _terminal(name: str) -> str:
    if name in _TERMINALS:
        return _TERMINALS[name]
    try:
        pattern = _lark.get_terminal(name).pattern
    except KeyError:
        return name
    return f"'{pattern.value}'" if pattern.type == "str" else name


def _describe(e: UnexpectedInput) -> str:
    if isinstance(e, UnexpectedToken):
        if e.token.type == "$END":
            return "unexpected end of input"
        expected = sorted({_terminal(t) for t in e.expected if t not in _lark.ignore_tokens})
        shown = ", ".join(expected[:6]) + (", ..." if len(expected) > 6 else "")
        token = _terminal(e.token.type)
        what = f"'{e.token}'" if token.startswith("'") else f"{token} '{e.token}'"
        return f"unexpected {what} (expected {shown})"
    if isinstance(e, UnexpectedCharacters):
        return f"unexpected character {e.char!r}"
    if isinstance(e, UnexpectedEOF):
        return "unexpected end of input"
    return str(e)


def parse(text: str, *, verify: bool = True, filename: str = "<text>") -> Module:
    """Parse IR text into a ``Module``; verify it unless ``verify=False``."""
    with _lock:
        _callbacks.reset(text, filename)
        try:
            module = _lark.parse(text)
        except UnexpectedInput as e:
            line, col = getattr(e, "line", -1), getattr(e, "column", -1)
            if line < 1 or col < 1 or getattr(getattr(e, "token", None), "type", "") == "$END":
                # The input ended early: point just after its last visible character.
                body = text.rstrip()
                line = body.count("\n") + 1
                col = len(_source_line(body, line)) + 1
            raise ParseError(_describe(e), line, col, _source_line(text, line), filename) from None
    if verify:
        from archir.verifier import verify as run_verifier

        run_verifier(module)
    return module

