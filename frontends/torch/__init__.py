"""The PyTorch frontend: ``from_torch(model, example_inputs)`` lowers a model via torch.export.

The pipeline (``lower.py``): export in eval mode (``export.py``, whose errors name the model's
line) → find the constant nodes, and among them the learned ones (nn.Parameters and what is
computed from them), and decide whether in-place ops can be read as functional
(``aliasing.py``) → scan every op against the conversion table and report all unsupported ones
at once (``scan.py``, ``table.py``) → walk the graph, evaluating constants eagerly and
converting the rest (``convert.py``; a constant an op reads becomes a ``parameter``: a trainable
one for an nn.Parameter, ``trainable = false`` for a buffer or what buffers and literals alone
compute, and a value computed from an nn.Parameter is converted as ops on it, see
``context.Lowering.stored``; one family of converters per module: ``conv``, ``norm``,
``pool``, ``activation``, ``arith``, ``reduce``, ``shape``, ``index``, ``attention``) with data
movement folded as it is emitted (``layout.py``) → raise hand-written patterns to IR ops
(``raise_rotary.py``, ``raise_attention.py`` via ``heads.py`` and ``masks.py``) → re-fold,
drop dead ops (``refold.py``) → verify.
"""

from archir.frontends.torch.lower import from_torch, lower_program

__all__ = ["from_torch", "lower_program"]
