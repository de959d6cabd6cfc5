"""How fast archir's pass pipeline is next to onnxruntime's own graph optimisation.

For each model, in the same run:

* archir: ``run_pipeline(ir, "canonicalize,fold-bn,cost")`` (clone, rewrite, analyse), on
  the architecture IR (``from_torch(..., weights=False)``: what a searcher hands the
  compiler) and on the IR with weights (fold-bn then folds every batch norm's numbers into
  the conv weights, a pass over all the model's parameters);
* onnxruntime: ``InferenceSession`` creation on the same model's ONNX bytes with every graph
  optimisation on (ORT_ENABLE_ALL, one thread), which is where ORT fuses conv+bn, folds
  constants and eliminates no-ops.

Each figure is the median CPU time of several repeats, timed like ``timeit`` (garbage
collection off during a call, run between calls, on both sides); a ratio is ORT time / archir
time. The aim is
>= 10x on the architecture IR. A script, not a test:
``.venv/bin/python benchmarks/pipeline_speed.py``.
"""

from __future__ import annotations

import argparse
import sys

from cpu_timing import median_cpu_seconds

PIPELINE = "canonicalize,fold-bn,cost"
MODELS = ("resnet50", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0")
AIM = 10.0


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
        arch = archir.from_torch(model, example, weights=False)
        weighted = archir.from_torch(model, example)
        data, exporter = onnx_bytes(model, example, weighted)
        after = run_pipeline(arch, PIPELINE).num_ops
        ours = median_cpu_seconds(lambda m=arch: run_pipeline(m, PIPELINE), args.repeats)
        ours_w = median_cpu_seconds(lambda m=weighted: run_pipeline(m, PIPELINE), args.repeats)
        theirs = median_cpu_seconds(
            lambda d=data: ort.InferenceSession(d, options, providers=["CPUExecutionProvider"]), args.repeats)
        rows.append((name, arch.num_ops, after, ours, ours_w, theirs))
        print(f"{name}: {arch.num_ops} ops -> {after}; pipeline {ours * 1e3:.1f} ms "
              f"({ours_w * 1e3:.1f} ms with weights), ORT session {theirs * 1e3:.1f} ms ({exporter})",
              file=sys.stderr)

    print(f"\n{'model':<20}{'ops':>5}{'after':>7}{'archir ms':>11}{'ORT ms':>9}{'ratio':>8}"
          f"{'weighted ms':>13}{'ratio':>8}")
    for name, before, after, ours, ours_w, theirs in rows:
        print(f"{name:<20}{before:>5}{after:>7}{ours * 1e3:>11.2f}{theirs * 1e3:>9.1f}{theirs / ours:>7.1f}x"
              f"{ours_w * 1e3:>13.1f}{theirs / ours_w:>7.1f}x")
    worst = min(theirs / ours for *_, ours, _, theirs in rows)
    print(f"\npipeline: {PIPELINE}; aim: >= {AIM:.0f}x faster than ORT session creation on the "
          f"architecture IR; worst ratio {worst:.1f}x ({'met' if worst >= AIM else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
