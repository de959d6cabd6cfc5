"""Properties of the text format over random architectures built with GraphBuilder.

- print → parse → print is the identity on printed text, and the parsed module is
  structurally equal to the built one;
- printing is deterministic (twice, and on a clone);
- corrupted text raises only ParseError (with a position inside the text) or VerifyError.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import archir
from archir import GraphBuilder, Module, SymbolRef, TensorType, Value

GOLDEN = sorted((Path(__file__).parent / "golden" / "ir").glob("*.air"))
Draw = Callable[[st.SearchStrategy], object]

UNARY = ["relu", "relu6", "sigmoid", "tanh", "silu", "hardswish", "gelu", "leaky_relu", "elu",
         "clip", "dropout", "exp", "abs", "neg", "identity", "erf", "softplus", "mish"]
BINARY = ["add", "mul", "sub", "div", "maximum", "minimum", "pow"]
# Printable hints and ones the printer must rename (duplicates, digits, spaces, non-ASCII).
HINTS = st.sampled_from([None, None, None, "x", "conv", "block.0", "7", "x_1", "a b", "ünï", "_"])
LOCS = st.one_of(st.none(), st.none(), st.text(max_size=12))
FLOATS = st.one_of(st.sampled_from([0.0, -0.0, 1e-5, 0.5, -3.25, float("inf"), float("nan")]),
                   st.floats())


def examples(n: int) -> int:
    """n examples under the ci profile (whose default is 100), ten times n under dev."""
    return max(1, n * settings.default.max_examples // 100)


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


class Gen:
    """Draws ops one at a time onto a builder, keeping a pool of values to use as operands."""

    def __init__(self, draw: Draw, module: Module, name: str):
        self.draw, self.module = draw, module
        self.b = GraphBuilder(name, module)
        self.pool: list[Value] = []

    def op(self, kind: str, *operands: Value, **attrs) -> Value | tuple[Value, ...] | None:
        """Build the op, or nothing when the drawn attributes do not fit (a VerifyError)."""
        try:
            out = self.b.op(kind, *operands, name=self.draw(HINTS), loc=self.draw(LOCS), **attrs)
        except archir.VerifyError:
            return None
        self.pool.extend(out if isinstance(out, tuple) else (out,))
        return out

    def pick(self, rank: int | None = None) -> Value | None:
        values = [v for v in self.pool if rank is None or v.type.rank == rank]
        values = [v for v in values if v.type.dtype == archir.DType.F32]
        return self.draw(st.sampled_from(values)) if values else None

    # image ops (N, C, H, W) -----------------------------------------------------------------
    def conv(self, x: Value) -> None:
        d = self.draw
        c = x.type.shape[1]
        groups = d(st.sampled_from(divisors(c)))
        pad = d(st.one_of(st.just("same"), st.integers(0, 2), st.lists(st.integers(0, 2), min_size=4,
                                                                        max_size=4)))
        kind = d(st.sampled_from(["conv2d"] * 4 + ["conv_transpose2d"]))
        self.op(kind, x, out_channels=groups * d(st.integers(1, 3)), groups=groups,
                kernel=d(st.tuples(st.integers(1, 3), st.integers(1, 3))),
                stride=d(st.integers(1, 2)), dilation=d(st.integers(1, 2)),
                padding=pad if kind == "conv2d" else d(st.integers(0, 1)), bias=d(st.booleans()))

    def pool2d(self, x: Value) -> None:
        d = self.draw
        k = d(st.integers(1, 3))
        kind = d(st.sampled_from(["max_pool2d", "avg_pool2d", "global_avg_pool",
                                  "adaptive_avg_pool2d"]))
        if kind.startswith("global"):
            self.op(kind, x)
        elif kind.startswith("adaptive"):
            self.op(kind, x, output_size=d(st.tuples(st.integers(1, 3), st.integers(1, 3))))
        else:
            self.op(kind, x, kernel=k, stride=d(st.integers(1, 2)), padding=d(st.integers(0, k // 2)),
                    ceil_mode=d(st.booleans()))

    def norm(self, x: Value) -> None:
        d = self.draw
        kind = d(st.sampled_from(["batch_norm", "group_norm", "instance_norm", "layer_norm"]))
        if kind == "group_norm":
            self.op(kind, x, groups=d(st.sampled_from(divisors(x.type.shape[1]))))
        elif kind == "layer_norm":
            self.op(kind, x, axis=d(st.sampled_from([-1, -2])), eps=d(FLOATS))
        else:
            self.op(kind, x)

    def split_concat(self, x: Value) -> None:
        d = self.draw
        c = x.type.shape[1]
        if c < 2:
            return
        cut = d(st.integers(1, c - 1))
        parts = self.op("split", x, axis=1, sizes=[cut, c - cut])
        if parts:
            self.op("concat", parts[1], parts[0], x, axis=d(st.sampled_from([1, -3])))

    def reshape(self, x: Value) -> None:
        d = self.draw
        kind = d(st.sampled_from(["flatten", "transpose", "reshape", "shuffle", "pad", "slice"]))
        if kind == "flatten":
            y = self.op("flatten", x)
            if y is not None:
                self.op("linear", y, out_features=d(st.integers(1, 8)), bias=d(st.booleans()))
        elif kind == "transpose":
            self.op("transpose", x, perm=[0, *d(st.permutations([1, 2, 3]))])
        elif kind == "reshape":
            n, c, h, w = x.type.shape
            self.op("reshape", x, shape=[n, c, -1] if d(st.booleans()) else [n, h, c, w])
        elif kind == "shuffle":
            self.op("channel_shuffle", x, groups=d(st.sampled_from(divisors(x.type.shape[1]))))
        elif kind == "pad":
            self.op("pad", x, pads=[0, 0, *d(st.lists(st.integers(0, 2), min_size=2, max_size=2)),
                                   0, 0, 1, 1], mode=d(st.sampled_from(["constant", "reflect"])))
        else:
            self.op("slice", x, axes=[2], starts=[d(st.integers(-3, 1))], ends=[100])

    def call(self, x: Value) -> None:
        """Call a cell taking x's type (built on first use), or choose between two."""
        name = f"cell_{len(self.module.graphs)}"
        cell = Gen(self.draw, self.module, name)
        arg = cell.b.arg(x.type, self.draw(HINTS))
        cell.pool.append(arg)
        for _ in range(self.draw(st.integers(1, 3))):
            cell.step()
        same = [v for v in cell.pool if v.type == x.type]
        cell.b.ret(same[-1] if same else arg)
        self.op("call", x, callee=SymbolRef(name))

    # anything --------------------------------------------------------------------------------
    def unary(self, x: Value) -> None:
        d = self.draw
        kind = d(st.sampled_from(UNARY))
        attrs = {"leaky_relu": {"alpha": d(FLOATS)}, "elu": {"alpha": d(FLOATS)},
                 "clip": {"min": d(FLOATS)}, "dropout": {"p": d(FLOATS)},
                 "gelu": {"approximate": d(st.sampled_from(["none", "tanh"]))}}.get(kind, {})
        self.op(kind, x, **attrs)

    def binary(self, x: Value) -> None:
        """A binary op with a same-shape, a broadcast (reduced) or a scalar partner."""
        d = self.draw
        how = d(st.sampled_from(["same", "reduced", "scalar", "compare"]))
        if how == "same":
            other = d(st.sampled_from([v for v in self.pool if v.type == x.type]))
        elif how == "reduced" and x.type.rank:
            axes = d(st.lists(st.integers(0, x.type.rank - 1), min_size=1, max_size=2, unique=True))
            other = self.op("reduce_mean", x, axes=axes, keepdims=True)
        else:
            other = self.op("constant", value=d(FLOATS))
        if other is None:
            return
        if how == "compare":
            cond = self.op(d(st.sampled_from(["less", "greater", "equal"])), x, other)
            if cond is not None:
                self.op("where", cond, x, other)
        elif d(st.booleans()):
            self.op(d(st.sampled_from(BINARY)), x, other)
        else:
            self.op(d(st.sampled_from(BINARY)), other, x)

    # sequence ops (B, S, D) ------------------------------------------------------------------
    def attention(self, s: Value) -> None:
        d = self.draw
        hkv = d(st.sampled_from([1, 2]))
        hq = hkv * d(st.sampled_from([1, 2]))
        dim = d(st.sampled_from([2, 4]))
        q = self.op("linear", s, out_features=hq * dim, bias=False)
        k = self.op("linear", s, out_features=hkv * dim)
        v = self.op("linear", s, out_features=hkv * d(st.integers(1, 3)))
        if q is None or k is None or v is None:
            return
        if d(st.booleans()):
            q = self.op("rotary", q, num_heads=hq, interleaved=d(st.booleans())) or q
        extra = [self.op("alibi", s, num_heads=hq)] if d(st.booleans()) else []
        self.op("attention", q, k, v, *[e for e in extra if e is not None], num_heads=hq,
                num_kv_heads=hkv, causal=d(st.booleans()), window=d(st.integers(0, 4)),
                scale=d(st.sampled_from([0.0, 0.125])))

    def sequence(self, s: Value) -> None:
        d = self.draw
        kind = d(st.sampled_from(["attention", "attention", "linear", "layer_norm", "rms_norm", "softmax",
                                  "matmul"]))
        if kind == "attention":
            self.attention(s)
        elif kind == "linear":
            self.op("linear", s, out_features=d(st.integers(1, 16)))
        elif kind == "matmul":
            t = self.op("transpose", s, perm=[0, 2, 1])
            if t is not None:
                self.op("matmul", s, t)
        else:
            self.op(kind, s)

    def step(self) -> None:
        d = self.draw
        kind = d(st.sampled_from(["conv", "conv", "pool2d", "norm", "split_concat", "reshape",
                                  "unary", "binary", "binary", "sequence", "sequence", "call"]))
        if kind in ("unary", "binary"):
            x = self.pick()
        elif kind == "sequence":
            x = self.pick(3)
        else:
            x = self.pick(4)
        if x is None or (kind == "call" and self.b.graph.name != "main"):
            return
        method = getattr(self, kind)
        if d(st.integers(0, 4)) == 0:  # now and then, fuse what this step builds into a kernel
            target = d(st.sampled_from(["adreno640", "tflite-cpu"]))
            with self.b.kernel(target=target, impl=d(st.sampled_from(["", "winograd", "direct"])),
                               latency_us=d(st.sampled_from([-1.0, 12.5]))):
                method(x)
        else:
            method(x)


@st.composite
def modules(draw: Draw) -> Module:
    module = Module()
    batch = draw(st.sampled_from(["N", 1, 2]))
    gen = Gen(draw, module, "main")
    image = TensorType("f32", (batch, draw(st.sampled_from([2, 4, 6, 8])), draw(st.integers(4, 9)),
                               draw(st.integers(4, 9))))
    gen.pool.append(gen.b.arg(image, draw(HINTS)))
    if draw(st.booleans()):
        seq = TensorType("f32", (batch, draw(st.sampled_from(["S", 5])), draw(st.sampled_from([4, 8]))))
        gen.pool.append(gen.b.arg(seq, draw(HINTS)))
    for _ in range(draw(st.integers(1, 14))):
        gen.step()
    results = [v for v in gen.pool if v.owner is not None] or gen.pool[:1]
    outputs = draw(st.lists(st.sampled_from(results), min_size=1, max_size=3))
    gen.b.ret(*outputs)
    return module


@settings(max_examples=examples(100))
@given(modules())
def test_print_parse_print_is_the_identity(module: Module):
    archir.verify(module)
    text = archir.to_text(module)
    parsed = archir.parse(text)
    assert archir.to_text(parsed) == text
    assert archir.structurally_equal(parsed, module)


@settings(max_examples=examples(40))
@given(modules())
def test_printing_is_deterministic(module: Module):
    text = archir.to_text(module)
    assert archir.to_text(module) == text
    copy = module.clone()
    assert archir.to_text(copy) == text
    assert archir.structural_hash(copy) == archir.structural_hash(module)


# corruptions ---------------------------------------------------------------------------------
TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[%@$]?[\w.\-]+(?:\[[^\]\n]*\])?|\S')
NUMBER = re.compile(r"(?<![\w.%@$])-?\d+(?![\w.])")
OP_NAME = re.compile(r"(?<== )[a-z_0-9]+(?=\()")
VALUE_NAME = re.compile(r"%[\w.]+")
CHARS = list('%@$[](){},:=-".\n 0123456789aNfx_/') + ["\\", "é", "\x00", "\u2028"]
KINDS = ["delete", "insert", "replace", "truncate", "token_delete", "token_copy", "token_replace",
         "swap_lines", "copy_line", "number", "op_name", "value_name"]


@st.composite
def corrupted(draw: Draw) -> str:
    if draw(st.booleans()):
        text = archir.to_text(draw(modules()))
    else:
        text = draw(st.sampled_from(GOLDEN)).read_text()
    # Positions come from a seeded Random: hypothesis's own integers lean towards 0, which
    # would corrupt the first characters of the text far more often than the rest.
    rnd = draw(st.randoms(use_true_random=True))
    for _ in range(draw(st.integers(1, 3))):
        text = corrupt(rnd, draw(st.sampled_from(KINDS)), text)
    return text


def corrupt(rnd: random.Random, kind: str, text: str) -> str:
    """Damage text in one way: characters, tokens, lines, or a number / op / value swapped."""
    if not text:
        return rnd.choice(CHARS)
    i = rnd.randrange(len(text))
    if kind == "delete":
        return text[:i] + text[i + 1:]
    if kind == "insert":
        return text[:i] + rnd.choice(CHARS) + text[i:]
    if kind == "replace":
        return text[:i] + rnd.choice(CHARS) + text[i + 1:]
    if kind == "truncate":
        return text[:i]
    if kind in ("swap_lines", "copy_line"):
        lines = text.split("\n")
        a, b = rnd.randrange(len(lines)), rnd.randrange(len(lines))
        if kind == "swap_lines":
            lines[a], lines[b] = lines[b], lines[a]
        else:
            lines.insert(b, lines[a])
        return "\n".join(lines)
    pattern = {"number": NUMBER, "op_name": OP_NAME, "value_name": VALUE_NAME}.get(kind, TOKEN)
    spans = [m.span() for m in pattern.finditer(text)] or [(i, i + 1)]
    start, end = rnd.choice(spans)
    if kind == "number":
        piece = str(rnd.choice([0, 1, 2, 3, 5, 8, 16, 17, 64, -1, -2]))
    elif kind == "op_name":
        piece = rnd.choice(sorted(archir.OPS))
    else:
        other = rnd.choice(spans)
        piece = text[other[0]:other[1]]
    if kind == "token_delete":
        return text[:start] + text[end:]
    if kind == "token_copy":
        return text[:end] + " " + piece + text[end:]
    return text[:start] + piece + text[end:]


@settings(max_examples=examples(400))
@given(corrupted())
def test_corrupted_text_raises_only_parse_or_verify_errors(text: str):
    try:
        module = archir.parse(text)
    except archir.ParseError as e:
        assert 1 <= e.line <= text.count("\n") + 1
        assert 1 <= e.column <= len(text.split("\n")[e.line - 1]) + 1
        assert f":{e.line}:{e.column}: error: " in str(e)
    except archir.VerifyError as e:
        assert str(e).startswith(("verify: error: ", "infer: error: "))
    else:
        # Whatever the parser accepts, the printer writes in a form it reads back the same.
        printed = archir.to_text(module)
        assert archir.to_text(archir.parse(printed)) == printed
