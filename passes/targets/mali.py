"""Arm Mali targets on the TFLite/LiteRT GPU delegate (OpenCL).

Mali differs from Adreno in selection, not fusion: ConvGeneric always (no ConvConstants),
block sizes from GetRecommendedBlockSizeForConv, DW3x3 only on Bifrost/Valhall G1 without
F32, concat chained past 8 inputs, split as one StridedSlice per output. Core counts are
the usual MP configurations of these parts (assumed).
"""

from __future__ import annotations

from archir.passes.targets.gpu_info import GpuInfo
from archir.passes.targets.gpu_select import select_gpu
from archir.passes.targets.link_gpu import GpuLinking
from archir.passes.targets.spec import LatencyModel, Target

_NO_DATA = LatencyModel("analytic", "no measurements exist; analytic model only")


def _mali(name: str, model: str, generation: str, cores: int, device: str) -> Target:
    return Target(
        name=name, family="tflite-gpu", device=device, runtime="TFLite/LiteRT GPU delegate (OpenCL)",
        fusion=GpuLinking(), selector=select_gpu, precision="f16", storage="texture_2d",
        gpu=GpuInfo("mali", generation, model, cores), latency=_NO_DATA, measurable="no",
        rewrites=True,
        notes=("precision f16: benchmark_model's default allows precision loss",
               f"{cores} shader cores: assumed"),
    )


TARGETS = {
    "mali-g76": _mali("mali-g76", "Mali-G76 MP10", "mali_bifrost_g3", 10, "Kirin 980"),
    "mali-valhall": _mali("mali-valhall", "Mali-G77 MP11", "mali_valhall_g1", 11, "Exynos 990"),
    "mali-g78": _mali("mali-g78", "Mali-G78 MP14", "mali_valhall", 14, "Exynos 2100"),
}
