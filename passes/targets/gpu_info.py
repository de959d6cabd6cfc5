"""Mobile-GPU facts the TFLite/LiteRT GPU delegate keys its choices on (mobile-gpu-rules.md §3-§6).

One ``GpuInfo`` per device; every threshold a selector reads is a table here, indexed by the
vendor or generation, so a new GPU is a new row rather than new code.
"""

from __future__ import annotations

from dataclasses import dataclass

INF = float("inf")


@dataclass(frozen=True)
class GpuInfo:
    vendor: str  # adreno | mali | powervr | amd | intel | nvidia | apple
    generation: str  # adreno6xx, adreno7xx, mali_bifrost_g1/g2/g3, mali_valhall_g1, mali_valhall, ...
    model: str
    compute_units: int  # CL_DEVICE_MAX_COMPUTE_UNITS as the delegate reads it
    bad_adreno_driver: bool = False  # the two drivers that disable ConvConstants / DW3x3

    @property
    def is_adreno(self) -> bool:
        return self.vendor == "adreno"

    @property
    def is_mali(self) -> bool:
        return self.vendor == "mali"

    @property
    def mali_family(self) -> str:
        """The column of the Mali block-size table: bifrost_g1, bifrost_g2, g76_valhall, midgard."""
        return _MALI_FAMILY[self.generation]


_MALI_FAMILY = {
    "mali_midgard": "midgard", "mali_bifrost_g1": "bifrost_g1", "mali_bifrost_g2": "bifrost_g2",
    "mali_bifrost_g3": "g76_valhall", "mali_valhall_g1": "g76_valhall", "mali_valhall": "g76_valhall",
}

# §4.1 IsRecommendedForWinograd4x4To6x6: (min src slices, min dst slices, min 4x4 tiles).
WINOGRAD_MIN: dict[str, tuple[int, int, int]] = {
    "adreno6xx": (32, 32, 128),
    "adreno": (32, 32, 64),  # 5xx, 7xx and other Adreno
    "amd": (16, 8, 32),
    "default": (16, 16, 32),  # Mali, PowerVR, Nvidia, Intel, Apple, unknown
}

# §4.3 ConvConstants: constant-memory budget in bytes.
CONV_CONSTANTS_MAX_BYTES: dict[str, int] = {
    "adreno_old": 2560,  # 3xx-5xx
    "adreno6xx": 3584,
    "adreno7xx": 3584,
    "amd": 4096,
    "default": 1024,
}
CONV_CONSTANTS_MAX_COUT = 32

# §4.4 Adreno ConvGeneric: (waves upper bound, block) in order; waves = task / CU / wave.
ADRENO_BLOCKS: tuple[tuple[float, tuple[int, int, int, int]], ...] = (
    (6, (1, 1, 1, 1)),
    (12, (2, 1, 1, 1)),
    (24, (2, 1, 1, 2)),
    (INF, (2, 2, 1, 2)),
)
ADRENO_WAVE = {"f16": 128, "f32_f16": 64, "f32": 64}

# §4.4 Mali GetRecommendedBlockSizeForConv thresholds T1/T2/T4 on task/CU per precision.
MALI_BLOCK_THRESHOLDS: dict[str, dict[str, tuple[float, float, float]]] = {
    "f16": {"bifrost_g1": (256, 1024, 2048), "bifrost_g2": (512, 2048, 4096),
            "g76_valhall": (256, 1536, 4096), "midgard": (1024, 4096, INF)},
    "f32_f16": {"bifrost_g1": (256, 768, 8192), "bifrost_g2": (512, 2048, INF),
                "g76_valhall": (256, 2048, INF), "midgard": (1024, INF, INF)},
    "f32": {"bifrost_g1": (256, 1024, INF), "bifrost_g2": (128, 1024, INF),
            "g76_valhall": (256, 3072, INF), "midgard": (4096, INF, INF)},
}

# §4.4 work groups of ConvGeneric, §5 of the FC mat-vec kernel.
CONV_GENERIC_WG = {"adreno": (8, 2, 1), "mali": (4, 4, 1)}
FC_WG = {"adreno": (32, 4, 1), "adreno_old": (16, 4, 1), "mali": (16, 4, 1), "default": (8, 4, 1)}

# §5 small selectors.
CONCAT_MAX_INPUTS = {"mali": 8, "default": 120}
SOFTMAX_1X1_MAX_PIXELS = 256
REDUCE_MAX_WG = {"adreno_old": 128, "mali_midgard": 32, "mali": 64, "powervr": 32, "default": 256}

# §6: the runtime's fastest storage and the kernel-flush cadence.
STORAGE = {"adreno": "texture_2d", "mali": "texture_2d", "powervr": "texture_2d",
           "amd": "image_buffer", "nvidia": "image_buffer", "intel": "buffer", "apple": "buffer"}


def winograd_key(gpu: GpuInfo) -> str:
    if gpu.generation == "adreno6xx":
        return "adreno6xx"
    if gpu.is_adreno:
        return "adreno"
    return gpu.vendor if gpu.vendor in WINOGRAD_MIN else "default"


def conv_constants_key(gpu: GpuInfo) -> str:
    if gpu.generation in CONV_CONSTANTS_MAX_BYTES:
        return gpu.generation
    if gpu.is_adreno:
        return "adreno_old"
    return gpu.vendor if gpu.vendor in CONV_CONSTANTS_MAX_BYTES else "default"
