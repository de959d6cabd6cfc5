"""archir → ONNX: ``to_onnx(module)``.

One emitter per IR op (small files by family); cells are inlined; weights become
initializers, drawn deterministically when the module has none.
"""

from archir.backends.onnx.exporter import to_onnx

__all__ = ["to_onnx"]
