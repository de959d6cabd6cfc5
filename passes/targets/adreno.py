"""Qualcomm Adreno targets on the TFLite/LiteRT GPU delegate (OpenCL).

Fusion is the delegate's elementwise linking; selection follows the Adreno rows of the
vendor tables. The compute-unit counts are what the OpenCL driver reports as
CL_DEVICE_MAX_COMPUTE_UNITS on these parts as far as we know (not measured here).
"""

from __future__ import annotations

from archir.passes.targets.gpu_info import GpuInfo
from archir.passes.targets.gpu_select import select_gpu
from archir.passes.targets.link_gpu import GpuLinking
from archir.passes.targets.spec import LatencyModel, Target

# nn-Meter's Adreno predictors are gigabyte pickles that no longer load, so none ships: the
# latency model is archir's roofline, calibrated on the kernel timings in nn-Meter's measured
# rule file for {} (passes/latency/analytic_calibration.py). Approximate, not measured here.
_ANALYTIC = ("analytic roofline calibrated on nn-Meter's {} kernel timings (TFLite 2.1); "
             "approximate, not measured")


def _adreno(name: str, model: str, generation: str, cus: int, latency: LatencyModel, device: str) -> Target:
    return Target(
        name=name, family="tflite-gpu", device=device, runtime="TFLite/LiteRT GPU delegate (OpenCL)",
        fusion=GpuLinking(), selector=select_gpu, precision="f16", storage="texture_2d",
        gpu=GpuInfo("adreno", generation, model, cus), latency=latency, measurable="no",
        rewrites=True,
        notes=("precision f16: benchmark_model's default allows precision loss",
               f"compute units {cus}: assumed, not read from a device"),
    )


TARGETS = {
    "adreno640": _adreno("adreno640", "Adreno 640", "adreno6xx", 2,
                         LatencyModel("analytic", _ANALYTIC.format("adreno640gpu_tflite21")),
                         "Snapdragon 855 (Mi 9)"),
    "adreno630": _adreno("adreno630", "Adreno 630", "adreno6xx", 2,
                         LatencyModel("analytic", _ANALYTIC.format("adreno630gpu_tflite21")),
                         "Snapdragon 845 (Pixel 3 XL)"),
    "adreno7xx": _adreno("adreno7xx", "Adreno 740", "adreno7xx", 4,
                         LatencyModel("analytic", "no measurements exist; analytic model only"),
                         "Snapdragon 8 Gen 2"),
}
