"""Whole-model latency from the analytic (not measured) mobile-GPU model, next to two baselines.

    python benchmarks/analytic_gpu.py [--targets adreno640,adreno630,mali-g76]

For torchvision models at 224x224 (batch 1) the script lowers each model once, compiles it for
each target (delegate rewrites, fusion, kernel selection) and sums the analytic kernel
latencies. Beside it:

* a FLOPs baseline computed in this run: the model's FLOPs at the calibrated conv rate of the
  device (FP16 peak x conv efficiency), i.e. what a FLOPs-proportional model would say;
* nn-Meter's own figures for the same torchvision models, from its integration-test reference
  file (microsoft/nn-Meter tests/integration_test/data/reference_result_onnx_based_torch.txt,
  commit a1682dd). These are predictions of nn-Meter's Adreno predictors (random forests trained
  on kernels measured on a Mi 9 / Pixel 3 XL with TFLite 2.1, per-kernel GPU times summed;
  its fc, add and global-pool kernels count 0 ms), not measurements.

No measured phone figure is printed: none we could cite with certainty for these exact models
and runtimes. Every number here is analytic or predicted; none was measured on this machine.
"""

from __future__ import annotations

import argparse
import math
import time

import torch
import torchvision

import archir
from archir.passes.cost import cost
from archir.passes.latency.analytic import analytic_source, annotate_analytic
from archir.passes.latency.analytic_calibration import CONV_EFF
from archir.passes.latency.analytic_devices import device_for
from archir.passes.targets import compile_for

MODELS = ("resnet18", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "squeezenet1_0",
          "shufflenet_v2_x1_0", "mnasnet1_0")
# reference_result_onnx_based_torch.txt @ a1682dd (nn-Meter predictions, not measurements); its
# names: squeezenet = squeezenet1_0, shufflenet_v2 = shufflenet_v2_x1_0, mnasnet = mnasnet1_0
NN_METER_MS = {
    "adreno640": {"resnet18": 39.3235, "mobilenet_v2": 9.9207, "squeezenet1_0": 18.6742,
                  "shufflenet_v2_x1_0": 5.4239, "mnasnet1_0": 11.6306},
    "adreno630": {"resnet18": 49.4287, "mobilenet_v2": 9.9861, "squeezenet1_0": 21.095,
                  "shufflenet_v2_x1_0": 5.5792, "mnasnet1_0": 11.7263},
}


def geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", default="adreno640,adreno630,mali-g76")
    targets = ap.parse_args().targets.split(",")
    for t in targets:
        print(f"{t}: {analytic_source(t)}")
    print()
    head = (f"{'model':20s} {'target':12s} {'GFLOP':>6s} {'kernels':>7s} {'analytic ms':>14s} "
            f"{'FLOPs ms':>9s} {'/FLOPs':>7s} {'nn-Meter ms':>12s} {'/nn-Meter':>9s}")
    print(head)
    print("-" * len(head))
    ratios: dict[str, list[float]] = {"analytic": [], "FLOPs": []}
    for name in MODELS:
        t0 = time.perf_counter()
        m = archir.from_torch(getattr(torchvision.models, name)(), (torch.randn(1, 3, 224, 224),))
        lowered_s = time.perf_counter() - t0
        gflop = cost(m).flops / 1e9
        for t in targets:
            summary = annotate_analytic(compile_for(m, t), t)
            ms, std_ms = summary.total_us / 1e3, device_for(t).rel_std * summary.total_us / 1e3
            flops_ms = 1e3 * gflop / (device_for(t).peak_gflops("f16") * CONV_EFF)
            ref = NN_METER_MS.get(t, {}).get(name)
            if ref:
                ratios["analytic"].append(ms / ref)
                ratios["FLOPs"].append(flops_ms / ref)
            ref_cols = f"{ref:12.2f} {ms / ref:9.2f}" if ref else f"{'-':>12s} {'-':>9s}"
            print(f"{name:20s} {t:12s} {gflop:6.2f} {summary.kernels:7d} {ms:7.2f} ± {std_ms:5.2f} "
                  f"{flops_ms:9.2f} {ms / flops_ms:7.2f} {ref_cols}")
        print(f"{'':20s} (lowered in {lowered_s:.1f} s)")
    for what, rs in ratios.items():
        print(f"{what} / nn-Meter, geometric mean over {len(rs)} (model, GPU) pairs: {geomean(rs):.2f} "
              f"(range {min(rs, default=math.nan):.2f}-{max(rs, default=math.nan):.2f})")
    print("\nanalytic = roofline with a latency roof fitted on nn-Meter's Adreno 640 kernels; "
          "± is the model's fixed relative uncertainty, not a measured spread")


if __name__ == "__main__":
    main()
