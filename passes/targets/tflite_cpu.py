"""TFLite 2.1 on one Cortex-A76 core: the fusion nn-Meter measured (its rule file, shipped in
data/), with nn-Meter's squeeze-excitation template and the chain check done right."""

from __future__ import annotations

from archir.passes.targets.cpu_select import select_tflite_cpu
from archir.passes.targets.pair_fusion import PairFusion
from archir.passes.targets.rulefile import shipped
from archir.passes.targets.spec import LatencyModel, Target

TARGETS = {
    "tflite-cpu": Target(
        name="tflite-cpu", family="tflite-cpu", device="Pixel 4, Cortex-A76 (1 thread)",
        runtime="TFLite 2.1 benchmark_model (nn-Meter's build)",
        fusion=PairFusion(shipped("rule_tflite_cpu_4ca1750.json")), selector=select_tflite_cpu,
        precision="f32",
        latency=LatencyModel("imported", "nn-Meter cortexA76cpu_tflite21; imported, not measured here"),
        measurable="no",
    ),
}
