"""``archir.latency``: latency predictors (``fit_lut``, ...), implemented in ``archir.passes.latency``.

The core does not import the predictors' dependencies (lightgbm); this module forwards on use.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    return getattr(importlib.import_module("archir.passes.latency"), name)
