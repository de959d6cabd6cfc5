"""Timing shared by the benchmarks: median CPU time of a call.

CPU time of this process (all threads), so other load on a shared machine does not count.
Like ``timeit``, the cyclic GC is off while a call is timed and runs between calls, so one call
does not pay for scanning the last one's garbage in a heap that holds all of torch.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


def median_cpu_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: imports, caches
    times = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            fn()
            times.append(time.process_time() - start)
        finally:
            gc.enable()
    return statistics.median(times)
