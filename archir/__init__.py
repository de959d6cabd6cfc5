"""archir: a compiler for neural architectures.

The IR core (this package) needs only numpy and lark. Frontends, backends, passes and search
live in ``archir.frontends``, ``archir.backends``, ``archir.passes`` and ``archir.search``;
their entry points are re-exported here lazily, so ``import archir`` never imports torch.
"""

from __future__ import annotations

import importlib
from typing import Any

import archir.ops  # noqa: F401  (registers the op set)
from archir.builder import GraphBuilder
from archir.errors import ParseError, VerifyError
from archir.io import load, save
from archir.ir import Graph, Kernel, Module, Operation, Param, Value
from archir.opdef import OPS, OpDef
from archir.parser import parse
from archir.printer import to_text
from archir.specialize import infer_types, specialize
from archir.structural import structural_hash, structurally_equal
from archir.types import DType, ParamRef, SymbolRef, TensorType
from archir.verifier import verify

# Entry points implemented in the layers above the core, imported on first use.
_LAZY = {
    "from_torch": "archir.frontends.torch",
    "from_onnx": "archir.frontends.onnx",
    "to_torch": "archir.backends.torch",
    "to_onnx": "archir.backends.onnx",
    "run_pipeline": "archir.passes",
    "cost": "archir.passes.cost",
    "kernels": "archir.passes.targets",
    "predict_latency": "archir.passes.latency",
    "FrontendError": "archir.frontends.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'archir' has no attribute {name!r}")


__all__ = [
    "DType", "Graph", "GraphBuilder", "Kernel", "Module", "OPS", "OpDef", "Operation", "Param",
    "ParamRef", "ParseError", "SymbolRef", "TensorType", "Value", "VerifyError", "infer_types",
    "load", "parse", "save", "specialize", "structural_hash", "structurally_equal", "to_text",
    "verify", *_LAZY,
]
