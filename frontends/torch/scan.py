"""The scan before conversion: every op the table cannot lower, found in one pass."""

from __future__ import annotations

from collections import Counter

import torch
from torch import fx

from archir.frontends.errors import FrontendError
from archir.frontends.torch.nodes import bind, location, op_name
from archir.frontends.torch.table import lookup


def scan(graph: fx.Graph, cx) -> None:
    """Raise one FrontendError listing each unsupported op (and unsupported use of a known
    op) with its count and first location; constant nodes are evaluated, never converted."""
    counts: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], str] = {}
    for node in graph.nodes:
        if node.op in ("placeholder", "output", "get_attr") or node in cx.constants:
            continue  # get_attr: the nested graphs of a higher-order op, reported with it
        name = op_name(node) if node.op == "call_function" else f"{node.op} {node.target}"
        reason = ""
        entry = lookup(name) if node.op == "call_function" else None
        if isinstance(node.target, torch._ops.HigherOrderOperator):
            reason = "control flow or a nested graph; archir lowers one static graph"
        elif entry is None:
            reason = "no converter"
        elif entry.check is not None:
            reason = entry.check(cx, bind(node)) or ""
        if reason:
            key = (name, reason)
            counts[key] += 1
            first.setdefault(key, location(node))
    if counts:
        total = sum(counts.values())
        lines = [f"  {name} ×{n}  ({reason}; first at {first[(name, reason)]})"
                 for (name, reason), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        raise FrontendError(
            f"cannot lower the model: {len(counts)} unsupported op kind(s), {total} use(s):\n"
            + "\n".join(lines))
