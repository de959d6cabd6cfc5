"""Fusion detection by measurement (nn-Meter's rule tester, on a runtime of this machine).

For each op pair (A, B) the IR of A alone, B alone (fed A's output shape) and A -> B is built
with ``GraphBuilder``, emitted with ``archir.to_onnx`` and timed on onnxruntime (one thread,
warm-up, repeats, median). The pair fuses iff T_A + T_B - T_AB > alpha * min(T_A, T_B)
(alpha = 0.5, nn-Meter's EMP_ALPHA). Every measurement is appended to a JSON-lines file as it
is taken, so an interrupted run resumes where it stopped. The result is a rule file in
nn-Meter's format (canonical class names) with a ``meta`` block saying where it was measured.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from archir import GraphBuilder, Module, TensorType
from archir.backends.onnx import to_onnx
from archir.ir import Value

ALPHA = 0.5


@dataclass(frozen=True)
class Shape:
    hw: int = 28  # nn-Meter's ruletest_config defaults
    cin: int = 64
    cout: int = 128


# class -> how one op of that class is built on x (the builder may add graph arguments)
OpBuilder = Callable[[GraphBuilder, Value, Shape], Value]


def _extra(b: GraphBuilder, like: Value) -> Value:
    return b.arg(like.type, f"extra{len(b.graph.args)}")


OPS: dict[str, OpBuilder] = {
    "conv": lambda b, x, s: b.conv2d(x, out_channels=s.cout, kernel=3, padding=1),
    "dwconv": lambda b, x, s: b.conv2d(x, out_channels=x.type.shape[1], kernel=3, padding=1,
                                       groups=x.type.shape[1]),
    "convtrans": lambda b, x, s: b.conv_transpose2d(x, out_channels=s.cout, kernel=3, padding=1),
    "dense": lambda b, x, s: b.linear(x, out_features=x.type.shape[-1]),
    "pooling": lambda b, x, s: b.max_pool2d(x, kernel=2, stride=2),
    "concat": lambda b, x, s: b.concat(x, _extra(b, x), axis=1),
    "add": lambda b, x, s: b.add(x, _extra(b, x)),
    "relu": lambda b, x, s: b.relu(x),
    "bn": lambda b, x, s: b.batch_norm(x),
    "hswish": lambda b, x, s: b.hardswish(x),
    "reshape": lambda b, x, s: b.reshape(x, shape=(1, x.type.shape[1] * 2, x.type.shape[2] // 2,
                                                   x.type.shape[3])),
    "sigmoid": lambda b, x, s: b.sigmoid(x),
    "gelu": lambda b, x, s: b.gelu(x),
    "layernorm": lambda b, x, s: b.layer_norm(x),
}
DEFAULT_OPS = ("conv", "dwconv", "convtrans", "dense", "pooling", "concat", "add", "relu", "bn",
               "hswish", "reshape")


def build(chain: tuple[str, ...], in_shape: tuple[int, ...], s: Shape) -> Module:
    b = GraphBuilder("main")
    y = b.arg(TensorType("f32", in_shape), "x")
    for cls in chain:
        y = OPS[cls](b, y, s)
    b.ret(y)
    return Module([b.graph])


def out_shape(cls: str, in_shape: tuple[int, ...], s: Shape) -> tuple[int, ...]:
    return tuple(build((cls,), in_shape, s).main.outputs[0].type.shape)


@dataclass(frozen=True)
class Timing:
    median_us: float
    std_us: float


def time_module(module: Module, warmup: int = 5, repeats: int = 30) -> Timing:
    """Median (and MAD spread) of single runs on onnxruntime, one thread, ORT_ENABLE_EXTENDED."""
    import numpy as np
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    sess = ort.InferenceSession(to_onnx(module).SerializeToString(), so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feed = {i.name: rng.standard_normal([d for d in i.shape]).astype(np.float32) for i in sess.get_inputs()}
    for _ in range(warmup):
        sess.run(None, feed)
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        sess.run(None, feed)
        samples.append((time.perf_counter() - t) * 1e6)
    median = statistics.median(samples)
    # spread as the scaled median absolute deviation: a shared machine's rare stalls would
    # swamp a standard deviation
    mad = statistics.median(abs(x - median) for x in samples) * 1.4826
    return Timing(median, mad)


def decide(t_a: float, t_b: float, t_ab: float, alpha: float = ALPHA) -> bool:
    return t_a + t_b - t_ab > alpha * min(t_a, t_b)


class Store:
    """Measurements as JSON lines: one {"key", "median_us", "std_us"} per line, appended as taken."""

    def __init__(self, path: Path):
        self.path = path
        self.values: dict[str, Timing] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.values[row["key"]] = Timing(row["median_us"], row["std_us"])

    def get_or_measure(self, key: str, measure: Callable[[], Timing]) -> Timing:
        if key not in self.values:
            t = measure()
            self.values[key] = t
            with self.path.open("a") as f:
                f.write(json.dumps({"key": key, "median_us": t.median_us, "std_us": t.std_us}) + "\n")
        return self.values[key]


def detect(ops: Iterable[str], store: Store, s: Shape = Shape(), *, repeats: int = 30,
           progress: Callable[[str], None] = lambda key: None,
           measure: Callable[..., Timing] = time_module) -> dict:
    """Measure every ordered pair of ``ops`` and return a rule file (nn-Meter format)."""
    ops = list(ops)
    unknown = [o for o in ops if o not in OPS]
    if unknown:
        raise ValueError(f"no test case for {', '.join(unknown)} (have: {', '.join(OPS)})")
    base = (1, s.cin, s.hw, s.hw)

    def raw(chain: tuple[str, ...], shape: tuple[int, ...]) -> Timing:
        key = f"{'+'.join(chain)}@{'x'.join(map(str, shape))}"
        progress(key)
        return store.get_or_measure(key, lambda: measure(build(chain, shape, s), repeats=repeats))

    # sess.run's own cost (feeds, fetches, dispatch) is in every timing; it would make any two
    # tiny kernels look fused, so it is measured on a one-element graph and taken off
    overhead = store.get_or_measure("overhead@1", lambda: measure(build(("relu",), (1,), s),
                                                                  repeats=repeats)).median_us

    def timed(chain: tuple[str, ...], shape: tuple[int, ...]) -> Timing:
        t = raw(chain, shape)
        return Timing(max(t.median_us - overhead, 0.0), t.std_us)

    rules: dict = {}
    for a in ops:
        for b in ops:
            mid = out_shape(a, base, s)
            t_a, t_b, t_ab = timed((a,), base), timed((b,), mid), timed((a, b), base)
            fused = decide(t_a.median_us, t_b.median_us, t_ab.median_us)
            ops_sum = t_a.median_us + t_b.median_us
            name_a, name_b = (f"{a}_1", f"{b}_2") if a == b else (a, b)
            rules[f"BF_{a}_{b}"] = {
                "latency": {
                    name_a: f"{t_a.median_us:.3f} +- {t_a.std_us:.3f}",
                    name_b: f"{t_b.median_us:.3f} +- {t_b.std_us:.3f}",
                    "block": f"{t_ab.median_us:.3f} +- {t_ab.std_us:.3f}",
                    "ops": f"{ops_sum:.3f} +- {(t_a.std_us ** 2 + t_b.std_us ** 2) ** 0.5:.3f}",
                },
                "obey": fused,
            }
    rules["meta"] = meta(s, repeats)
    rules["meta"]["run_overhead_us"] = round(overhead, 3)
    return rules


def meta(s: Shape, repeats: int) -> dict:
    import onnxruntime as ort

    return {
        "runtime": f"onnxruntime {ort.__version__} CPU EP, ORT_ENABLE_EXTENDED, 1 thread",
        "machine": f"{platform.machine()} {platform.processor() or platform.platform()}",
        "units": "microseconds, median of single runs",
        "alpha": ALPHA, "repeats": repeats, "shape": {"hw": s.hw, "cin": s.cin, "cout": s.cout},
        "measured": time.strftime("%Y-%m-%d"),
    }


def pairs_count(ops: Iterable[str]) -> int:
    n = len(list(ops))
    return n * n
