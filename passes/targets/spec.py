"""What a hardware target is: fusion rules, a kernel selector, a latency-model reference and
metadata that says what runs it and whether it can be measured on this machine."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from archir.ir import Graph, Operation
from archir.passes.targets.gpu_info import GpuInfo
from archir.passes.targets.partition import Partition

Precision = Literal["f32", "f16", "f32_f16", "int8"]
Storage = Literal["", "texture_2d", "buffer", "image_buffer"]


@dataclass(frozen=True)
class KernelChoice:
    """The implementation selected for one kernel region and its parameters."""

    impl: str
    block: tuple[int, ...] = ()
    work_group: tuple[int, ...] = ()
    splits: int = 1  # kernels the runtime launches for the region (Winograd: 3)


@dataclass(frozen=True)
class SelectContext:
    gpu: GpuInfo | None
    precision: Precision
    storage: Storage
    facts: Any = None  # what the target's whole-graph analysis found (onnxruntime: its transpose plan)


class FusionRules(Protocol):
    """Groups a graph's ops into kernels; every rule set returns a schedulable partition."""

    def partition(self, g: Graph) -> Partition: ...


Selector = Callable[[Sequence[Operation], SelectContext], KernelChoice]


@dataclass(frozen=True)
class LatencyModel:
    """Where a target's latency figures come from. ``kind``: measured here (profiling on this
    machine), imported (measurements taken elsewhere), analytic, or none yet."""

    kind: Literal["measured", "imported", "analytic", "none"]
    source: str


@dataclass(frozen=True)
class Target:
    name: str
    family: str  # tflite-gpu | tflite-cpu | onnxruntime-cpu | torch-eager-cpu | torch-eager-cuda
    device: str
    runtime: str
    fusion: FusionRules
    selector: Selector
    precision: Precision
    latency: LatencyModel
    measurable: Literal["here", "with-gpu", "no"]
    storage: Storage = ""
    gpu: GpuInfo | None = None
    rewrites: bool = False  # the TFLite GPU delegate's graph rewrites apply before fusion
    # a whole-graph analysis selection needs (onnxruntime's transpose optimizer is global)
    analysis: Callable[[Graph], Any] | None = None
    notes: tuple[str, ...] = field(default=())

    def context(self, precision: Precision | None = None) -> SelectContext:
        return SelectContext(self.gpu, precision or self.precision, self.storage)
