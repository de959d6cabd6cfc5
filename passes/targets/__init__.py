"""Hardware targets: fusion rules, kernel selectors and latency-model references.

``get_target(name)`` returns a ``Target``; ``fuse``, ``select_kernels`` and ``gpu_rewrites``
are the passes as functions; ``kernels(module)`` lists the kernel regions.
"""

from archir.passes.targets import passes as _passes  # noqa: F401  (registers the passes)
from archir.passes.targets.apply import TargetPassError, compile_for, fuse, gpu_rewrites, select_kernels
from archir.passes.targets.registry import UnknownTarget, all_targets, get_target, target_names
from archir.passes.targets.spec import KernelChoice, LatencyModel, Target
from archir.passes.targets.view import KernelView, kernels

__all__ = [
    "KernelChoice", "KernelView", "LatencyModel", "Target", "TargetPassError", "UnknownTarget",
    "all_targets", "compile_for", "fuse", "get_target", "gpu_rewrites", "kernels", "select_kernels",
    "target_names",
]
