"""Runtimes that run an IR module for timing: onnxruntime (CPU) and PyTorch (CPU, CUDA).

``prepare(module)`` does all the one-time work (export, session or module construction, input
tensors bound once) and returns a callable that runs one inference, so the timing loop times
the runtime and nothing of ours. Inputs are random floats (indices are zeros: always valid).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from archir.backends.profile.timing import Clock
from archir.ir import Module
from archir.passes.latency.device import Fingerprint, machine_fingerprint
from archir.passes.targets import Target, get_target
from archir.types import DType, TensorType

Runner = Callable[[], object]

ORT_LEVELS = ("disable", "basic", "extended", "all")
_NUMPY = {DType.F32: np.float32, DType.F64: np.float64, DType.F16: np.float16, DType.I64: np.int64,
          DType.I32: np.int32, DType.I8: np.int8, DType.U8: np.uint8}


class RuntimeError_(RuntimeError):
    """A runtime that is not available here, or a module it cannot run."""


class Runtime(Protocol):
    name: str

    @property
    def clock(self) -> Clock: ...

    def fingerprint(self) -> Fingerprint: ...

    def prepare(self, module: Module) -> Runner: ...


def random_input(t: TensorType, rng: np.random.Generator) -> np.ndarray:
    if not t.is_static:
        raise RuntimeError_(f"input {t} has a symbolic shape; give the model a static input shape")
    shape = tuple(int(d) for d in t.shape)
    if t.dtype == DType.BOOL:
        return rng.integers(0, 2, shape).astype(bool)
    dtype = _NUMPY.get(t.dtype)
    if dtype is None:
        raise RuntimeError_(f"cannot make a {t.dtype} input in numpy")
    if t.dtype.is_float:
        return rng.standard_normal(shape).astype(dtype)
    return np.zeros(shape, dtype=dtype)


@dataclass(frozen=True)
class OrtRuntime:
    """onnxruntime's CPU execution provider; one thread and sequential execution by default."""

    threads: int = 1
    opt_level: str = "extended"
    name: str = "onnxruntime-cpu"

    def __post_init__(self) -> None:
        if self.opt_level not in ORT_LEVELS:
            raise ValueError(f"opt_level must be one of {', '.join(ORT_LEVELS)}")
        if self.threads < 1:
            raise ValueError("threads must be >= 1")

    @property
    def clock(self) -> Clock:
        # one intra-op thread: ORT computes on the caller's thread, whose CPU time is the latency
        return "thread" if self.threads == 1 else "wall"

    def fingerprint(self) -> Fingerprint:
        return machine_fingerprint(self.name, self.threads, f"opt={self.opt_level}")

    def session_options(self):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = {
            "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[self.opt_level]
        so.log_severity_level = 3
        # spinning workers burn the other core a shared machine needs; latency is unaffected
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return so

    def prepare(self, module: Module) -> Runner:
        import onnxruntime as ort

        from archir.backends.onnx import to_onnx

        model = to_onnx(module, check=False)
        sess = ort.InferenceSession(model.SerializeToString(), self.session_options(),
                                    providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(0)
        binding = sess.io_binding()
        keep = []  # the bound OrtValues must outlive the binding
        for arg, info in zip(module.main.args, sess.get_inputs()):
            value = ort.OrtValue.ortvalue_from_numpy(random_input(arg.type, rng))
            keep.append(value)
            binding.bind_ortvalue_input(info.name, value)
        for out in sess.get_outputs():
            binding.bind_output(out.name)

        def run() -> None:
            sess.run_with_iobinding(binding)

        run.keep = (sess, binding, keep)  # type: ignore[attr-defined]
        return run


@dataclass(frozen=True)
class TorchRuntime:
    """PyTorch eager through ``archir.to_torch``; ``device="cuda"`` synchronises every run."""

    device: str = "cpu"
    threads: int = 1

    @property
    def name(self) -> str:
        return f"torch-{self.device}"

    @property
    def clock(self) -> Clock:
        return "thread" if self.device == "cpu" and self.threads == 1 else "wall"

    def fingerprint(self) -> Fingerprint:
        return machine_fingerprint(self.name, self.threads, "eager")

    def prepare(self, module: Module) -> Runner:
        import torch

        from archir.backends.torch import to_torch

        if self.device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError_("torch-cuda: no CUDA device on this machine")
        torch.set_num_threads(self.threads)
        model = to_torch(module).to(self.device)
        rng = np.random.default_rng(0)
        inputs = [torch.from_numpy(random_input(a.type, rng)).to(self.device) for a in module.main.args]
        sync = torch.cuda.synchronize if self.device == "cuda" else None

        @torch.inference_mode()
        def run() -> None:
            model(*inputs)
            if sync is not None:
                sync()

        return run


def runtime_for(target: str | Target, *, threads: int = 1, opt_level: str | None = None) -> Runtime:
    """The runtime that measures ``target`` on this machine."""
    t = get_target(target)
    if t.measurable == "no":
        raise RuntimeError_(f"target '{t.name}' runs on {t.device} ({t.runtime}), which is not this "
                            f"machine: it cannot be profiled here ({t.latency.kind}: {t.latency.source})")
    if t.family == "onnxruntime-cpu":
        level = opt_level or getattr(t, "ort_level", None) or "extended"
        return OrtRuntime(threads=threads, opt_level=level)
    if t.family == "torch-eager-cpu":
        return TorchRuntime("cpu", threads)
    if t.family == "torch-eager-cuda":
        return TorchRuntime("cuda", threads)
    raise RuntimeError_(f"no runtime measures target family '{t.family}' on this machine")
