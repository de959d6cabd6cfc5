"""Device fingerprints: what a measurement or a predictor is valid for.

A kernel's latency depends on the CPU (model and vector ISA), the runtime and its version, and
the settings it runs with (threads, graph optimisation level). Measurements are keyed by the
fingerprint and a predictor carries the one it was trained on; ``mismatch`` names the fields
that make a predictor inapplicable here. Reading a runtime's version uses package metadata,
never an import, so checking a predictor stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import metadata

# ISA extensions that change which kernels a runtime dispatches to (MLAS, oneDNN, ATen).
_ISA_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
              "amx_tile", "amx_bf16", "amx_int8", "neon", "asimd", "sve")

# What a measurement is keyed by: the machine, the runtime and the settings it ran with.
IDENTITY_FIELDS = ("cpu", "isa", "gpu", "runtime", "runtime_version", "threads", "settings")
# What must match for a predictor to apply here. Threads and settings are what the predictor
# is *about* (it predicts runs with those settings), not a property of this machine.
MACHINE_FIELDS = ("cpu", "isa", "gpu", "runtime", "runtime_version")


@dataclass(frozen=True)
class Fingerprint:
    cpu: str  # model name plus family/model/stepping (a VM often hides the marketing name)
    isa: str  # the relevant ISA flags the CPU has, sorted
    cores: int
    runtime: str  # onnxruntime-cpu | torch-cpu | torch-cuda
    runtime_version: str
    threads: int
    settings: str = ""  # runtime settings that change latency, e.g. "opt=extended"
    gpu: str = ""  # GPU name and driver / CUDA version for GPU runtimes
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        """A short stable id over the identity fields (the measurement store's device key)."""
        ident = json.dumps([getattr(self, f) for f in IDENTITY_FIELDS])
        return hashlib.sha256(ident.encode()).hexdigest()[:16]

    def describe(self) -> str:
        where = self.gpu or self.cpu
        return (f"{self.runtime} {self.runtime_version} on {where}, {self.threads} thread(s)"
                + (f", {self.settings}" if self.settings else ""))

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict) -> Fingerprint:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise ValueError(f"fingerprint has unknown fields {unknown}")
        return cls(**doc)

    def mismatch(self, other: Fingerprint, fields: tuple[str, ...] = MACHINE_FIELDS) -> list[str]:
        """``field: ours != theirs`` for every field of ``fields`` that differs."""
        return [f"{f}: {getattr(self, f)!r} != {getattr(other, f)!r}"
                for f in fields if getattr(self, f) != getattr(other, f)]


@cache
def cpu_identity() -> tuple[str, str]:
    """(CPU model, ISA flags) from /proc/cpuinfo, falling back to ``platform`` elsewhere."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, sep, value = line.partition(":")
                if not sep:
                    if fields:
                        break  # the first processor block is enough
                    continue
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or fields.get("Hardware") or platform.processor() or platform.machine()
    detail = "/".join(fields.get(k, "?") for k in ("cpu family", "model", "stepping"))
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    isa = ",".join(f for f in _ISA_FLAGS if f in flags)
    return f"{name} ({platform.machine()} {detail})", isa


def package_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu_fingerprint(runtime: str, runtime_version: str, threads: int, settings: str = "") -> Fingerprint:
    cpu, isa = cpu_identity()
    return Fingerprint(cpu, isa, os.cpu_count() or 1, runtime, runtime_version, threads, settings)


# The runtime a target family runs on, and the distribution whose version matters.
RUNTIME_OF_FAMILY: dict[str, tuple[str, str]] = {
    "onnxruntime-cpu": ("onnxruntime-cpu", "onnxruntime"),
    "torch-eager-cpu": ("torch-cpu", "torch"),
    "torch-eager-cuda": ("torch-cuda", "torch"),
}


def gpu_identity() -> str:
    """The first CUDA device's name and the CUDA version torch was built with ("" without one)."""
    import torch  # only GPU runtimes reach here

    if not torch.cuda.is_available():
        return ""
    return f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})"


def machine_fingerprint(runtime: str, threads: int, settings: str = "") -> Fingerprint:
    """This machine as ``runtime`` sees it, with the given settings."""
    dist = next((d for r, d in RUNTIME_OF_FAMILY.values() if r == runtime), None)
    if dist is None:
        raise ValueError(f"unknown runtime '{runtime}' (known: "
                         f"{', '.join(r for r, _ in RUNTIME_OF_FAMILY.values())})")
    fp = cpu_fingerprint(runtime, package_version(dist), threads, settings)
    if runtime.endswith("cuda"):
        fp = Fingerprint(fp.cpu, fp.isa, fp.cores, runtime, fp.runtime_version, threads, settings,
                         gpu_identity())
    return fp
