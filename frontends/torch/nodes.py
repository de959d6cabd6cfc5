"""What the frontend reads off an exported fx node: its op name, bound arguments, the module
it came from, its source line and the tensor torch computed for it (shape and dtype)."""

from __future__ import annotations

import operator
import os
import re
from functools import cache
from typing import Any

import torch
from torch import fx

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def op_name(node: fx.Node) -> str:
    """The table key of a call_function node: ``aten.conv2d.default``, or ``getitem``."""
    if node.target is operator.getitem:
        return "getitem"
    if isinstance(node.target, torch._ops.OpOverload):
        return str(node.target)
    if isinstance(node.target, torch._ops.HigherOrderOperator):
        return f"torch.{node.target.name()}"
    return getattr(node.target, "__qualname__", None) or str(node.target)


@cache
def _schema_args(target: torch._ops.OpOverload) -> tuple[tuple[str, bool, bool, Any], ...]:
    return tuple((a.name, a.kwarg_only, a.has_default_value(),
                  a.default_value if a.has_default_value() else None)
                 for a in target._schema.arguments)


def bind(node: fx.Node) -> dict[str, Any]:
    """The node's arguments by schema name, defaults filled in (None for a missing optional)."""
    if not isinstance(node.target, torch._ops.OpOverload):
        return {f"arg{i}": a for i, a in enumerate(node.args)} | dict(node.kwargs)
    out: dict[str, Any] = {}
    positional = list(node.args)
    for name, kwarg_only, has_default, default in _schema_args(node.target):
        if not kwarg_only and positional:
            out[name] = positional.pop(0)
        elif name in node.kwargs:
            out[name] = node.kwargs[name]
        else:
            out[name] = default if has_default else None
    return out


def is_inplace(node: fx.Node) -> bool:
    """Whether the op writes its first argument (``relu_``, ``add_``, ``fill_``...)."""
    target = node.target
    if not isinstance(target, torch._ops.OpOverload) or not target._schema.arguments:
        return False
    info = target._schema.arguments[0].alias_info
    return bool(info is not None and info.is_write)


def is_view(node: fx.Node) -> bool:
    """Whether the result may share storage with an argument (views, and reshape/contiguous,
    which may return their input)."""
    if node.target is operator.getitem:
        return True
    target = node.target
    return isinstance(target, torch._ops.OpOverload) and bool(target.is_view)


def module_path(node: fx.Node) -> str:
    """The dotted path of the innermost nn.Module the node was traced in ('' for the root)."""
    stack = node.meta.get("nn_module_stack")
    if not stack:
        return ""
    path, _ = list(stack.values())[-1]
    return path.split("@")[0]


def module_type(node: fx.Node) -> str:
    stack = node.meta.get("nn_module_stack")
    return list(stack.values())[-1][1] if stack else ""


def source_line(node: fx.Node) -> str:
    """``file.py:line`` of the innermost frame of the model's own code that produced the node
    (frames inside torch, such as nn.Conv2d.forward, are skipped; '' if unknown)."""
    trace = node.meta.get("stack_trace") or ""
    frames = _FRAME.findall(trace)
    if not frames:
        return ""
    own = [f for f in frames if not f[0].startswith((_TORCH_DIR, "<"))]  # "<": generated code
    filename, line = (own or frames)[-1]
    return f"{short_path(filename)}:{line}"


def short_path(filename: str) -> str:
    """Paths inside site-packages from the package root, others relative to the cwd."""
    marker = "site-packages" + os.sep
    if marker in filename:
        return filename.split(marker, 1)[1]
    try:
        rel = os.path.relpath(filename)
    except ValueError:
        return filename
    return filename if rel.startswith("..") else rel


def location(node: fx.Node) -> str:
    """The op location recorded in the IR: module path and source line."""
    path, line = module_path(node), source_line(node)
    if path and line:
        return f"{path} ({line})"
    return path or line or node.name


def fake(node: Any) -> Any:
    """The value torch computed for a node while exporting (a FakeTensor, a tuple, a scalar)."""
    return node.meta.get("val") if isinstance(node, fx.Node) else node
