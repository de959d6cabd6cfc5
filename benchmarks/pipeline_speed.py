"""How fast archir's pass pipeline is next to onnxruntime's own graph optimisation.

For each model the IR is lowered once (``archir.from_torch``, weights included so that
fold-bn folds real numbers), then in the same run:

* archir: ``run_pipeline(ir, "canonicalize,fold-bn,cost")`` (clone, rewrite, analyse);
* onnxruntime: ``InferenceSession`` creation on the same model's ONNX bytes with every graph
  optimisation on (ORT_ENABLE_ALL), which is where ORT fuses conv+bn, folds constants and
  eliminates no-ops.

Each figure is the median of several repeats; the ratio is ORT time / archir time (the aim
is >= 10x). A script, not a test: ``.venv/bin/python benchmarks/pipeline_speed.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

PIPELINE = "canonicalize,fold-bn,cost"
MODELS = ("resnet50", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0")
AIM = 10.0


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: imports, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def onnx_bytes(model, example, ir) -> tuple[bytes, str]:
    """The model as ONNX: archir's own exporter when it is there, torch.onnx otherwise."""
    try:
        import archir

        return archir.to_onnx(ir).SerializeToString(), "archir.to_onnx"
    except (ImportError, AttributeError, NotImplementedError) as e:
        print(f"  (archir.to_onnx unavailable: {e}; using torch.onnx.export)", file=sys.stderr)
    import io

    import torch

    buffer = io.BytesIO()
    torch.onnx.export(model, example, buffer, dynamo=False)
    return buffer.getvalue(), "torch.onnx.export"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import onnxruntime as ort
    import torch
    import torchvision

    import archir
    from archir.passes import run_pipeline

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = 1
    rows = []
    for name in args.models.split(","):
        model = torchvision.models.get_model(name).eval()
        example = (torch.randn(1, 3, 224, 224),)
        ir = archir.from_torch(model, example)
        data, exporter = onnx_bytes(model, example, ir)
        out = run_pipeline(ir, PIPELINE)
        ours = median_seconds(lambda: run_pipeline(ir, PIPELINE), args.repeats)
        theirs = median_seconds(
            lambda: ort.InferenceSession(data, options, providers=["CPUExecutionProvider"]), args.repeats)
        rows.append((name, ir.num_ops, out.num_ops, ours, theirs, exporter))
        print(f"{name}: {ir.num_ops} ops -> {out.num_ops}; pipeline {ours * 1e3:.1f} ms, "
              f"ORT session {theirs * 1e3:.1f} ms ({exporter})", file=sys.stderr)

    print(f"\n{'model':<20}{'ops':>6}{'after':>7}{'archir ms':>11}{'ORT ms':>10}{'ratio':>8}")
    for name, before, after, ours, theirs, _ in rows:
        print(f"{name:<20}{before:>6}{after:>7}{ours * 1e3:>11.2f}{theirs * 1e3:>10.2f}{theirs / ours:>7.1f}x")
    worst = min(theirs / ours for *_, ours, theirs, _ in rows)
    print(f"\npipeline: {PIPELINE}; aim: >= {AIM:.0f}x faster than ORT session creation; "
          f"worst ratio {worst:.1f}x ({'met' if worst >= AIM else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
