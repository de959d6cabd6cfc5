"""The state of one lowering: fx nodes → IR values, and constant nodes → torch tensors.

Converters see a ``Lowering``: ``cx.value(arg)`` for an IR value (a constant becomes a
``parameter`` op holding its value, or ops on one when computed from a learned parameter),
``cx.const(arg)`` for a constant as numpy, ``cx.em`` to emit ops at the current node's
location, ``cx.out`` for what torch computed for the node.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import fx

from archir.builder import GraphBuilder
from archir.frontends.errors import FrontendError
from archir.frontends.torch.dtypes import ir_dtype, to_numpy
from archir.frontends.torch.emit import Emitter, trainable_attr
from archir.frontends.torch.nodes import bind, fake, location, module_path, op_name
from archir.frontends.torch.table import lookup
from archir.ir import Value
from archir.types import DType, TensorType


class Lowering:
    def __init__(self, builder: GraphBuilder, const: set[fx.Node], names: dict[fx.Node, str],
                 learned: set[fx.Node] | None = None):
        self.constants = const
        # constants that are or derive from learned parameters (see aliasing.learned_nodes)
        self.learned = learned or set()
        self.names = names  # weight placeholders → their dotted names ("layer1.0.conv1.weight")
        self.env: dict[fx.Node, Any] = {}  # non-constant nodes → IR values
        self.values: dict[fx.Node, Any] = {}  # constant nodes → torch values
        self._stored: dict[tuple[fx.Node, int], Value] = {}
        self.em = Emitter(builder)
        self.node: fx.Node | None = None

    # the node being converted -------------------------------------------------------------
    def at(self, node: fx.Node) -> None:
        self.node = node
        self.em.loc = location(node)
        self.em.name = module_path(node) or None

    @property
    def out(self) -> Any:
        """The fake tensor (or tuple of them) torch computed for the current node."""
        return fake(self.node)

    def error(self, message: str) -> FrontendError:
        where = f" at {self.em.loc}" if self.node is not None else ""
        name = op_name(self.node) if self.node is not None else ""
        return FrontendError(f"cannot lower {name}{where}: {message}")

    # reading arguments --------------------------------------------------------------------
    def is_const(self, arg: Any) -> bool:
        if isinstance(arg, fx.Node):
            return arg in self.constants
        if isinstance(arg, (list, tuple)):
            return all(self.is_const(a) for a in arg)
        return True

    def tensor(self, arg: Any) -> Any:
        """The torch value of a constant argument (tensors, scalars, lists of them)."""
        if isinstance(arg, fx.Node):
            if arg not in self.values:
                raise self.error(f"{arg.name} is computed from the inputs, a constant is needed")
            return self.values[arg]
        if isinstance(arg, (list, tuple)):
            return type(arg)(self.tensor(a) for a in arg)
        return arg

    def const(self, arg: Any) -> np.ndarray | None:
        """A constant tensor argument as a numpy array (None stays None)."""
        if arg is None:
            return None
        value = self.tensor(arg)
        return to_numpy(value) if isinstance(value, torch.Tensor) else np.asarray(value)

    def weight(self, arg: Any) -> np.ndarray | None:
        """A constant argument destined to be an op's weight; None when its value is unknown
        (a model on the meta device)."""
        if arg is None or not self.known(arg):
            return None
        return self.const(arg)

    def is_learned(self, arg: Any) -> bool:
        """Whether a constant argument is, or is computed from, a learned parameter (its value
        is then lowered as IR ops on a trainable ``parameter``, never folded into a buffer)."""
        return isinstance(arg, fx.Node) and arg in self.learned

    def known(self, arg: Any) -> bool:
        """Whether a constant argument has a value to read (meta tensors have none)."""
        value = self.tensor(arg)
        return not (isinstance(value, torch.Tensor) and value.is_meta)

    def type_of(self, arg: Any) -> TensorType:
        """The tensor type torch computed for an argument."""
        value = fake(arg)
        if not isinstance(value, torch.Tensor):
            raise self.error(f"expected a tensor, got {type(value).__name__}")
        dtype = ir_dtype(value.dtype)
        if dtype is None:
            raise self.error(f"dtype {value.dtype} has no IR counterpart")
        return TensorType(dtype, tuple(int(d) for d in value.shape))

    def value(self, arg: Any, like: Value | DType | None = None) -> Value:
        """The IR value of an argument: a converted node, a stored constant, or a scalar
        (typed like ``like``)."""
        if isinstance(arg, fx.Node):
            if arg in self.env:
                got = self.env[arg]
                if not isinstance(got, Value):
                    raise self.error(f"{arg.name} is not a single tensor")
                return got
            if arg in self.values:
                return self.stored(arg)
            raise self.error(f"{arg.name} was not lowered before its use")
        if isinstance(arg, (bool, int, float)):
            dtype = like.type.dtype if isinstance(like, Value) else like or DType.F32
            return self.em.scalar(float(arg), dtype)
        raise self.error(f"expected a tensor argument, got {arg!r}")

    def stored(self, node: fx.Node) -> Value:
        """A constant node as a ``parameter`` op: one per node and version of its value (an
        in-place write later in the program gives a new snapshot). A learned parameter is a
        trainable ``parameter``; a value computed from one is lowered as IR ops on it (see
        ``lower_learned``); everything else (buffers, and what is computed from buffers and
        literals alone) is folded into a ``parameter`` with ``trainable = false``."""
        value = self.values[node]
        if not isinstance(value, torch.Tensor):
            return self.em.scalar(float(value), ir_dtype(torch.tensor(value).dtype) or DType.F32)
        learned = node in self.learned
        if learned and node.op == "call_function":
            out = self.lower_learned(node)
            if isinstance(out, Value):
                return out
        key = (node, value._version)
        if key not in self._stored:
            dtype = ir_dtype(value.dtype)
            if dtype is None:
                raise self.error(f"constant {node.name} has dtype {value.dtype}, which the IR lacks")
            name = self.names.get(node) or self.em.name
            if value.dim() == 0 and not value.is_meta and not learned:
                out = self.em.scalar(float(value.item()), dtype)
            elif not value.is_meta:
                out = self.em.array(to_numpy(value), dtype, name=name, trainable=learned)
            else:
                saved, self.em.name = self.em.name, name
                out = self.em.op("parameter", shape=tuple(value.shape), dtype=dtype,
                                 **trainable_attr(learned))
                self.em.name = saved
            self._stored[key] = out
        return self._stored[key]

    def lower_learned(self, node: fx.Node) -> Any:
        """A constant computed from learned parameters (a relative-position table gathered by
        an index buffer, a class token expanded), converted like any node, so that the IR
        keeps the parameter and the ops on it; None when the op cannot be converted (the value
        is then folded into a trainable ``parameter``, as it was computed)."""
        if node in self.env:
            return self.env[node]
        entry = lookup(op_name(node))
        if entry is None or isinstance(node.target, torch._ops.HigherOrderOperator):
            return None
        for dep in node.all_input_nodes:  # getitem reads its sequence from env
            if dep in self.learned and dep.op == "call_function" and dep not in self.env:
                if self.lower_learned(dep) is None:
                    return None
        saved = self.node, self.em.loc, self.em.name
        self.at(node)
        try:
            args = bind(node)
            if entry.check is not None and entry.check(self, args):
                return None
            result = entry.convert(self, args)
            if isinstance(result, Value) and result.type != self.type_of(node):
                return None
        finally:
            self.node, self.em.loc, self.em.name = saved
        self.env[node] = result
        return result
