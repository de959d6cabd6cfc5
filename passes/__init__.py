"""archir.passes: pass infrastructure and the passes.

``run_pipeline(module, "canonicalize,fold-bn,cost")`` runs passes named in a pipeline string
on a copy of ``module``. Each pass is a frozen dataclass registered under a kebab-case name
(``PASSES``); importing this package registers them all.
"""

from archir.passes import (  # noqa: F401  (each module registers its pass)
    canonicalize,
    compound_scale,
    cost,
    fold_bn,
    inline,
    set_input_shape,
)
from archir.passes.base import PASSES, Pass, PassContext, PassError, register
from archir.passes.instruments import Instrument, PrintIR, Timing, VerifyEach
from archir.passes.manager import PassManager, PipelineResult, run_pipeline
from archir.passes.pipeline import PipelineError, format_pipeline, parse_pipeline
from archir.passes.rewrite import Pattern, Rewriter, apply_patterns, pattern

__all__ = [
    "PASSES", "Instrument", "Pass", "PassContext", "PassError", "PassManager", "Pattern",
    "PipelineError", "PipelineResult", "PrintIR", "Rewriter", "Timing", "VerifyEach",
    "apply_patterns", "format_pipeline", "parse_pipeline", "pattern", "register", "run_pipeline",
]
