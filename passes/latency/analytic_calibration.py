"""The analytic model's free constants, each fitted on nn-Meter's Adreno 640 kernel timings.

Data: nn-Meter's fusion-rule file for TFLite 2.1 on the Adreno 640 (Mi 9), shipped as
passes/targets/data/rule_tflite_gpu_4ca1750.json: standalone GPU times (ms) of single ops.
The rule tester of that era (nn-Meter ``rule_tester/model_builder/layers.py`` and
``tftest/configs/ruletest_config.yaml``) built them on an NHWC input of [28, 28, 16] with a
3x3 kernel, and its conv keeps the channel count (``Conv2D(input_shape[2], ...)``): the conv
is 28x28, 16 -> 16, not the 64 -> 128 of the later ruletest_config.yaml. Only the 16 -> 16
reading fits the spec sheet (a 64 -> 128 conv in 43.7 us would run at 147% of the Adreno
640's FP16 peak) and the rest of the file (a 32 -> 32 conv takes 3.3x as long, not 1.6x).
Precision is taken as FP16 (benchmark_model allows precision loss by default).

The constants therefore describe nn-Meter's TFLite 2.1 setup on that phone, where a conv kernel
reaches about 5% of the FP16 spec peak; newer LiteRT builds are likely faster. The model is
for comparing architectures, not for promising a phone's wall-clock time.

Per kernel launch:  t = dispatch + max(FLOPs / (peak * eff * reuse), bytes / (bw * bw_eff),
iterations * iter_us * iter_weight). Derivations (Adreno 640: FP16 peak 1797 GFLOPS, 34.1 GB/s):

* dispatch 3.0 us and bw_eff 1.10: a least-squares line through the standalone ``add`` at
  14x14x16, 28x28x16 and 28x28x32 (3.50, 5.01, 7.02 us for 18.8, 75.3, 150.5 KB moved):
  intercept 3.00 us, slope 26.7 us/MB = 37.4 GB/s = 1.10x the LPDDR peak (small tensors are
  partly served by the SoC's system cache). Residuals are under 0.01 us.
* iter_us 0.886 (518 cycles at 585 MHz): the conv at 14x14x16 -> 16 (34.88 us) is latency
  bound: its block is (1,1,1,1), so each thread runs S(16)*3*3 = 36 dependent iterations;
  (34.88 - 3.0) / 36 = 0.886 us.
* conv eff 0.0494: the conv at 28x28x16 -> 16 (43.69 us, block (2,1,1,2)) is compute bound in
  the model: 3.613 MFLOP / 40.69 us = 88.8 GFLOPS = 4.94% of the FP16 peak.
* reuse exponent 0.25: the 28x28x32 -> 32 conv (145.1 us, block (2,2,1,2)) runs 1.145x as
  many FLOPs per second as the 16 -> 16 one; its block does 1.667x as many MACs per load
  (128 MACs per 12 loads vs 64 per 10), and ln 1.145 / ln 1.667 = 0.27, rounded to 0.25.
  Assumption: efficiency grows with the block's MACs per load to that power, for every block
  (the Adreno and Mali block tables of mobile-gpu-rules.md §4.4).
* depthwise eff 0.0160: depthwise 3x3 at 28x28x16 (10.87 us): 225.8 KFLOP / 7.87 us.
* convtrans eff 0.0167: transposed conv 28x28x16 -> 16 (123.15 us): 3.613 MFLOP / 120.15 us.
* pool eff 0.00336: 2x2 average pool of 28x28x16 (5.08 us): 12.5 KFLOP / 2.08 us.
* pool iter_weight 0.274: the squeeze-excitation block at 28x28x16 (205.46 us) is a 784-tap
  average pool, two 16 -> 16 mat-vecs (3.89 us each) and a broadcast mul (4.34 us):
  (205.46 - 3.0 - 7.77 - 4.34) / (784 * 0.886) = 0.274; a pooling tap is one load, a conv
  iteration five.
* reshape bw_eff 0.294: the [28,28,16] -> [16,28,28] reshape (8.00 us): 50.2 KB in 5.0 us =
  10.0 GB/s; reshapes and transposes gather across 4-channel slices.

Held-out points of the same file (convs after reshape, depthwise at other shapes, relu,
concat, pooling after concat, dense 428 and 856, transposed convs) are checked in
tests/test_latency_analytic.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KernelClass:
    eff: float  # fraction of the precision's arithmetic peak a kernel of this class reaches
    bw_eff: float  # fraction of the SoC's LPDDR peak
    iter_weight: float  # one inner-loop iteration, relative to a conv iteration


CONV_EFF = 0.0494
STREAM_BW_EFF = 1.10
POOL_ITER_WEIGHT = 0.274

CLASSES: dict[str, KernelClass] = {
    "conv": KernelClass(CONV_EFF, STREAM_BW_EFF, 1.0),
    "depthwise": KernelClass(0.0160, STREAM_BW_EFF, 1.0),
    "convtrans": KernelClass(0.0167, STREAM_BW_EFF, 1.0),
    "pool": KernelClass(0.00336, STREAM_BW_EFF, POOL_ITER_WEIGHT),
    # elementwise, concat, split, pad, resize, softmax, norms: bandwidth bound; their loops
    # (over channels in softmax and norms) are light like pooling taps
    "stream": KernelClass(CONV_EFF, STREAM_BW_EFF, POOL_ITER_WEIGHT),
    "reshape": KernelClass(CONV_EFF, 0.294, POOL_ITER_WEIGHT),
}

# efficiency ~ (MACs per load of the thread's block)^REUSE_EXPONENT, relative to REF_BLOCK
REUSE_EXPONENT = 0.25
REF_BLOCK = (2, 1, 1, 2)

# Loads per output of the two depthwise kernels: DW3x3 reads a 4x4 patch and 10 weight/bias
# vectors for 2x2 outputs (26 / 4); the generic kernel reads 9 taps and 9 weights per output.
DW3X3_LOADS_PER_OUTPUT = 26 / 4
DW_GENERIC_LOADS_PER_OUTPUT = 18.0
