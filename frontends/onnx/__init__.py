"""ONNX → archir: ``from_onnx(path_or_model)``.

Converters are small per-family tables (conv, linear, norm, pool, ...) keyed by
(op_type, since_version); constant subgraphs are folded with ONNX's numpy reference
implementation before anything is converted.
"""

from archir.frontends.onnx.importer import from_onnx

__all__ = ["from_onnx"]
