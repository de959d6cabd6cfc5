"""Spec-sheet parameters of the mobile GPUs the analytic latency model covers.

Nothing here was measured on a device. Peaks are public spec-sheet arithmetic (FP32 FMA lanes x
2 x clock; FP16 is twice that on every part listed); bandwidth is the SoC's LPDDR peak (data
rate x 64-bit bus). All are approximate: vendors publish clocks and ALU counts, reviewers
derive the rest, and phones throttle. A new GPU is a new row, not new code.

``dispatch_us`` and ``iter_cycles`` come from the Adreno 640 calibration (analytic_calibration.py);
for the other rows they are carried over unchanged (dispatch in microseconds, loop latency in
GPU cycles), which is an assumption, and their ``rel_std`` is wider to say so.
"""

from __future__ import annotations

from dataclasses import dataclass

# Relative memory efficiency by storage type. The delegate picks the fastest storage per vendor
# (mobile-gpu-rules.md §6 GetFastestStorageType: TEXTURE_2D on Adreno and Mali), so the others
# can only be slower there; how much slower is an assumption (texture caches help the 2-D
# access patterns of convolutions), not a measurement.
_ADRENO_STORAGE = {"texture_2d": 1.0, "image_buffer": 0.85, "buffer": 0.75, "": 1.0}
_MALI_STORAGE = {"texture_2d": 1.0, "image_buffer": 0.95, "buffer": 0.95, "": 1.0}

# From the Adreno 640 calibration (analytic_calibration.py): 3.0 us per kernel launch, and
# 518 cycles (0.886 us at 585 MHz) per dependent iteration of a thread's inner loop.
_DISPATCH_US = 3.0
_ITER_CYCLES = 518.0


@dataclass(frozen=True)
class AnalyticDevice:
    target: str
    chip: str  # the GPU and the SoC its memory figure belongs to
    fp32_lanes: int  # FP32 FMA lanes (ALUs) on the whole GPU
    clock_ghz: float
    bandwidth_gbs: float  # LPDDR peak of the SoC
    storage_eff: dict[str, float]
    rel_std: float  # relative uncertainty reported as latency_std_us
    calibrated: str  # what the efficiency constants were fitted on, for this device
    sources: tuple[str, ...]  # where the spec figures come from
    dispatch_us: float = _DISPATCH_US
    iter_cycles: float = _ITER_CYCLES
    fp16_rate: float = 2.0  # FP16 FLOPs per FP32 FLOP (packed half precision)

    def peak_gflops(self, precision: str) -> float:
        """Arithmetic peak for a kernel of this precision; F32_F16 accumulates in FP32."""
        fp32 = self.fp32_lanes * 2 * self.clock_ghz
        return fp32 * self.fp16_rate if precision in ("f16", "int8") else fp32

    @property
    def iter_us(self) -> float:
        return self.iter_cycles / (self.clock_ghz * 1e3)

    def describe(self) -> str:
        return (f"{self.chip}: {self.peak_gflops('f32'):.0f} GFLOPS f32 / {self.peak_gflops('f16'):.0f} "
                f"f16, {self.bandwidth_gbs:.1f} GB/s (spec-sheet, approximate)")


_CAL_640 = "fitted on nn-Meter's Adreno 640 kernel timings (TFLite 2.1)"
_CAL_ADRENO = "Adreno 640 fit transferred by spec-sheet ratios (same generation); not validated here"
_CAL_MALI = "Adreno 640 fit transferred by spec-sheet ratios to another vendor; not validated"

DEVICES: dict[str, AnalyticDevice] = {d.target: d for d in (
    # 768 ALUs x 2 x 585 MHz = 899 GFLOPS FP32; LPDDR4X-4266 x 64 bit = 34.1 GB/s (Snapdragon 855).
    AnalyticDevice("adreno640", "Adreno 640 (Snapdragon 855)", 768, 0.585, 34.1, _ADRENO_STORAGE, 0.30,
                   _CAL_640, ("Qualcomm Snapdragon 855 product brief (LPDDR4X 2133 MHz)",
                              "Adreno 640 ALU count and clock as tabulated on Wikipedia 'Adreno'")),
    # 512 ALUs x 2 x 710 MHz = 727 GFLOPS FP32; LPDDR4X-3733 x 64 bit = 29.9 GB/s (Snapdragon 845).
    AnalyticDevice("adreno630", "Adreno 630 (Snapdragon 845)", 512, 0.710, 29.9, _ADRENO_STORAGE, 0.35,
                   _CAL_ADRENO, ("Qualcomm Snapdragon 845 product brief (LPDDR4X 1866 MHz)",
                                 "Adreno 630 ALU count and clock as tabulated on Wikipedia 'Adreno'")),
    # 1536 ALUs x 2 x 680 MHz = 2.09 TFLOPS FP32 (ALU count unconfirmed); LPDDR5X-8400 x 64 bit.
    AnalyticDevice("adreno7xx", "Adreno 740 (Snapdragon 8 Gen 2)", 1536, 0.680, 67.2, _ADRENO_STORAGE, 0.50,
                   _CAL_ADRENO, ("Qualcomm Snapdragon 8 Gen 2 product brief (LPDDR5X 4200 MHz)",
                                 "Adreno 740 ALU count: third-party estimates, unconfirmed")),
    # Bifrost G76: 3 engines x 8 lanes per core; MP10 x 24 x 2 x 720 MHz = 346 GFLOPS FP32;
    # LPDDR4X-4266 x 64 bit = 34.1 GB/s (Kirin 980).
    AnalyticDevice("mali-g76", "Mali-G76 MP10 (Kirin 980)", 10 * 24, 0.720, 34.1, _MALI_STORAGE, 0.50,
                   _CAL_MALI, ("Arm Mali-G76 product page (3 execution engines, 8-wide)",
                               "HiSilicon Kirin 980 announcement (G76 MP10 720 MHz, LPDDR4X 2133 MHz)")),
    # Valhall G77: 2 engines x 16 lanes per core; MP11 x 32 x 2 x 800 MHz = 563 GFLOPS FP32;
    # LPDDR5-5500 x 64 bit = 44.0 GB/s (Exynos 990).
    AnalyticDevice("mali-valhall", "Mali-G77 MP11 (Exynos 990)", 11 * 32, 0.800, 44.0, _MALI_STORAGE, 0.50,
                   _CAL_MALI, ("Arm Mali-G77 product page (2 execution engines, 16-wide warps)",
                               "Samsung Exynos 990 announcement (G77 MP11, LPDDR5 2750 MHz)")),
    # Valhall G78: as G77 per core; MP14 x 32 x 2 x 854 MHz = 765 GFLOPS FP32; LPDDR5-6400 = 51.2 GB/s.
    AnalyticDevice("mali-g78", "Mali-G78 MP14 (Exynos 2100)", 14 * 32, 0.854, 51.2, _MALI_STORAGE, 0.50,
                   _CAL_MALI, ("Arm Mali-G78 product page",
                               "Samsung Exynos 2100 announcement (G78 MP14, LPDDR5 3200 MHz)")),
)}


class NoAnalyticDevice(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def device_for(target: str) -> AnalyticDevice:
    dev = DEVICES.get(target)
    if dev is None:
        raise NoAnalyticDevice(f"no analytic latency model for target '{target}' (analytic targets: "
                               f"{', '.join(sorted(DEVICES))})")
    return dev
