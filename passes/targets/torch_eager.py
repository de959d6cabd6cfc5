"""PyTorch eager on this machine's CPU, and on a CUDA GPU when one is lent: one kernel per op."""

from __future__ import annotations

from archir.passes.targets.cpu_select import select_cuda, select_torch
from archir.passes.targets.no_fusion import OneKernelPerOp
from archir.passes.targets.spec import LatencyModel, Target

TARGETS = {
    "torch-cpu": Target(
        name="torch-cpu", family="torch-eager-cpu", device="this machine's CPU",
        runtime="PyTorch eager (ATen)", fusion=OneKernelPerOp(), selector=select_torch,
        precision="f32", latency=LatencyModel("measured", "profiled on this machine"),
        measurable="here",
    ),
    "cuda": Target(
        name="cuda", family="torch-eager-cuda", device="an NVIDIA GPU, when one is lent",
        runtime="PyTorch eager (cuDNN / cuBLAS)", fusion=OneKernelPerOp(), selector=select_cuda,
        precision="f32", latency=LatencyModel("none", "profile on a lent GPU; no model yet"),
        measurable="with-gpu",
    ),
}
