"""archir's main job, end to end (`make demo`):

1. lower torchvision's MobileNetV3-Large into the IR and check the emitted ONNX against PyTorch;
2. canonicalise, fold batch norms and count its cost;
3. fuse ops into kernels and select each kernel's implementation the way the TFLite GPU
   delegate does on an Adreno 640, and annotate every kernel's latency;
4. a short hardware-aware evolution search over the Once-for-All space for a Note10 CPU budget.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torchvision
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

import archir

EXAMPLES = Path(__file__).parent
TARGET = "adreno640"


def lower(console: Console) -> archir.Module:
    model = torchvision.models.mobilenet_v3_large().eval()
    x = torch.randn(1, 3, 224, 224)
    start = time.perf_counter()
    module = archir.from_torch(model, (x,))
    console.print(f"lowered torchvision mobilenet_v3_large: {module.num_ops} ops in "
                  f"{time.perf_counter() - start:.1f} s")
    session = ort.InferenceSession(archir.to_onnx(module).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        want = model(x).numpy()
    # relative: an untrained MobileNetV3's logits are tiny (about 1e-9)
    error = np.abs(got - want).max() / np.abs(want).max()
    console.print(f"archir.to_onnx run in onnxruntime vs PyTorch: max relative error {error:.1e}")
    return module


def compile_for_gpu(module: archir.Module, console: Console) -> archir.Module:
    module = archir.run_pipeline(module, "canonicalize,fold-bn")
    c = archir.cost(module)
    console.print(f"after canonicalize,fold-bn: {module.num_ops} ops, {c.params / 1e6:.2f} M params, "
                  f"{c.macs / 1e6:.0f} M MACs, peak activations {c.peak_activation_bytes / 2**20:.1f} MiB")
    pipeline = ",".join(f"{p}{{target={TARGET}}}" for p in ("fuse", "select-kernels", "annotate-latency"))
    compiled = archir.run_pipeline(module, pipeline)
    text = archir.to_text(compiled).splitlines()
    console.print(Panel("\n".join(text[:12]) + "\n  ...", title=f"-p {pipeline} (first lines)"))
    return compiled


def kernel_table(compiled: archir.Module, console: Console) -> None:
    kernels = archir.kernels(compiled)
    impls: dict[str, list[float]] = {}
    for k in kernels:
        impls.setdefault(k.impl, []).append(k.latency_us)
    table = Table(title=f"{len(kernels)} kernels on {TARGET}, by implementation")
    for col in ("impl", "kernels", "latency ms", "share"):
        table.add_column(col, justify="left" if col == "impl" else "right")
    total = sum(sum(v) for v in impls.values())
    for impl, us in sorted(impls.items(), key=lambda kv: -sum(kv[1])):
        table.add_row(impl, str(len(us)), f"{sum(us) / 1e3:.2f}", f"{sum(us) / total:.0%}")
    table.caption = (f"total {total / 1e3:.2f} ms — analytic roofline calibrated on nn-Meter's Adreno 640 "
                     f"kernel timings: approximate, not measured on a phone")
    console.print(table)


def main() -> None:
    console = Console()
    torch.manual_seed(0)
    console.rule("1. lower a real model")
    module = lower(console)
    console.rule("2-3. passes: canonicalize, fold-bn, cost; fuse, select-kernels, annotate-latency")
    kernel_table(compile_for_gpu(module, console), console)
    console.rule("4. hardware-aware search")
    import demo_search

    demo_search.run(argparse.Namespace(budget=120, max_latency_ms=25.0, seed=0, out=None), console)


if __name__ == "__main__":
    main()
