"""How fast ``archir.from_torch`` lowers a model, next to the other ways to capture one.

For each model, in the same run and process:

* archir: ``from_torch(model, (x,))`` (torch.export, scan, conversion, attention/RoPE raising,
  verification), with weights (numpy views of the model's tensors, no copies);
* torch.export alone (the trace archir lowers from), so the frontend's own share is visible;
* torch.fx.symbolic_trace (no shapes, no decomposition: the cheapest capture there is);
* torch.onnx.export (the default, torch.export-based exporter, to bytes in memory);
* emission back out, when those backends exist: ``to_torch(ir)`` and ``to_onnx(ir)``.

Each figure is the median CPU time (this process, all threads) of ``--repeat`` calls after a
warm-up, with the cyclic GC off during a call; a ratio is the other tool's time / archir's.
A script, not a test: ``.venv/bin/python benchmarks/frontend_speed.py [--repeat 3] [MODEL...]``.
"""

from __future__ import annotations

import argparse
import io
import sys
import warnings
from collections.abc import Callable

from cpu_timing import median_cpu_seconds

MODELS = ("resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0",
          "densenet121", "shufflenet_v2_x1_0", "squeezenet1_1", "regnet_y_400mf", "convnext_tiny",
          "vit_b_16", "swin_t")
_NATIVE = {"vit_": 224, "swin_": 224, "maxvit_": 224}


def median_seconds(fn: Callable[[], object], repeats: int) -> float | None:
    """Median CPU time of ``fn``; None when it fails (the tool cannot capture the model)."""
    try:
        return median_cpu_seconds(fn, repeats)
    except Exception as e:  # a tool that cannot handle a model is reported, not fatal
        print(f"  ({getattr(fn, '__name__', fn)} failed: {type(e).__name__}: {str(e)[:120]})",
              file=sys.stderr)
        return None


def measure(name: str, repeats: int) -> dict[str, float | None]:
    import torch
    import torchvision

    import archir

    model = torchvision.models.get_model(name, weights=None).eval()
    size = next((s for prefix, s in _NATIVE.items() if name.startswith(prefix)), 64)
    x = torch.randn(1, 3, size, size)
    ir = archir.from_torch(model, (x,))

    def archir_lower():
        return archir.from_torch(model, (x,))

    def torch_export():
        return torch.export.export(model, (x,))

    def fx_trace():
        return torch.fx.symbolic_trace(model)

    def onnx_export():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(model, (x,), dynamo=True, verbose=False)
            return program.model_proto.SerializeToString() if program is not None else io.BytesIO()

    out = {
        "ops": float(ir.num_ops),
        "archir": median_seconds(archir_lower, repeats),
        "export": median_seconds(torch_export, repeats),
        "fx": median_seconds(fx_trace, repeats),
        "onnx": median_seconds(onnx_export, repeats),
        "to_torch": None,
        "to_onnx": None,
    }
    for key in ("to_torch", "to_onnx"):
        try:
            emit = getattr(archir, key)
        except (ImportError, AttributeError):
            continue
        out[key] = median_seconds(lambda emit=emit: emit(ir), repeats)
    return out


def _fmt(seconds: float | None) -> str:
    return "   n/a" if seconds is None else f"{seconds:6.2f}"


def _ratio(other: float | None, base: float | None) -> str:
    return "   n/a" if other is None or not base else f"{other / base:5.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=list(MODELS))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    header = (f"{'model':20s} {'ops':>5s} {'archir':>7s} {'export':>7s} {'fx':>7s} {'onnx':>7s} "
              f"{'fx/ar':>7s} {'onnx/ar':>7s} {'ar-exp':>7s} {'to_torch':>8s} {'to_onnx':>8s}")
    print("CPU seconds, median of", args.repeat, "(ratios: other / archir)")
    print(header)
    print("-" * len(header))
    totals: dict[str, float] = {}
    for name in args.models:
        r = measure(name, args.repeat)
        own = None if r["archir"] is None or r["export"] is None else r["archir"] - r["export"]
        for key in ("archir", "fx", "onnx"):
            if r[key] is not None:
                totals[key] = totals.get(key, 0.0) + r[key]
        print(f"{name:20s} {int(r['ops']):5d} {_fmt(r['archir'])}  {_fmt(r['export'])}  {_fmt(r['fx'])}  "
              f"{_fmt(r['onnx'])}  {_ratio(r['fx'], r['archir'])}  {_ratio(r['onnx'], r['archir'])}  "
              f"{_fmt(own)}  {_fmt(r['to_torch'])}    {_fmt(r['to_onnx'])}", flush=True)
    if totals.get("archir"):
        print(f"\ntotal: archir {totals['archir']:.1f}s, fx {totals.get('fx', 0):.1f}s "
              f"({totals.get('fx', 0) / totals['archir']:.2f}x), torch.onnx.export "
              f"{totals.get('onnx', 0):.1f}s ({totals.get('onnx', 0) / totals['archir']:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
