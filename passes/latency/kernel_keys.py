"""Cheap exact keys for kernel regions, so that predicting a model is mostly dict lookups.

Features take a hundred microseconds of Python per kernel; a searcher predicts thousands of
models a second, made of the same few hundred kernel configurations. The key is everything the
features read: each op's kind, attributes and operand types, where each operand comes from
(this kernel, a constant, elsewhere), and the kernel's implementation. Equal keys give equal
features, so a cached prediction is exact, not approximate. Keys hold ids of dtype singletons, so they
are valid in one process only: they key in-memory caches, never files.
"""

from __future__ import annotations

from archir.ir import Graph, Kernel, Operation

_CALLS = frozenset({"call", "choice"})


def _origin(v, kernel: Kernel | None) -> int:
    owner = v.owner
    if owner is None:
        return 0
    if owner.kernel is kernel and kernel is not None:
        return 1
    return 2 if owner.opdef.family == "constant" else 0


def regions(g: Graph) -> list[tuple[Kernel | None, list[Operation], tuple | None]]:
    """The graph's kernel regions in order with their keys (None for a region holding a call)."""
    out: list[tuple[Kernel | None, list[Operation], tuple | None]] = []
    current: Kernel | None = None
    ops: list[Operation] = []
    parts: list[tuple] = []
    calls = False

    def close() -> None:
        if ops:
            key = None if calls else (current.attrs["impl"] if current is not None else "",
                                      current.attrs["splits"] if current is not None else 1, tuple(parts))
            out.append((current, list(ops), key))

    for op in g.ops:
        k = op.kernel
        if k is not current or k is None:
            close()
            current, ops, parts, calls = k, [], [], False
        ops.append(op)
        name = op.opdef.name
        if name in _CALLS:
            calls = True
            continue
        # shapes and id(dtype) (enum members are singletons; keys live in one process) hash
        # and compare in C, a TensorType's generated __eq__ would not
        parts.append((name, tuple(op.attrs.values()),
                      tuple((v.type.shape, id(v.type.dtype), _origin(v, k)) for v in op.operands),
                      tuple((r.type.shape, id(r.type.dtype)) for r in op.results)))
    close()
    return out
