"""Evaluation runners: in this process, a local process pool, or Ray."""

from __future__ import annotations

from archir.search.runners.base import InProcess, Runner
from archir.search.runners.pool import ProcessPool
from archir.search.runners.ray_runner import RayRunner


def make_runner(workers: int = 1, ray_address: str | None = None) -> Runner:
    """Ray when an address is given; a process pool for ``workers`` > 1; else in-process."""
    if ray_address is not None:
        return RayRunner(ray_address, num_cpus=workers if ray_address == "local" else None)
    if workers > 1:
        return ProcessPool(workers)
    return InProcess()


__all__ = ["InProcess", "ProcessPool", "RayRunner", "Runner", "make_runner"]
