"""Which IR ops each node of an optimised graph covers, by tensor names.

A runtime that fuses or moves nodes keeps the output name of the last op a node swallowed and
the names in between vanish, so walking back from a node's outputs through vanished tensors
reaches every original node it absorbed. Used for onnxruntime's saved graph (``ort_truth``) and
for the replay of its transpose optimizer (``ort_transposes``).
"""

from __future__ import annotations

from collections import defaultdict

from archir.ir import Operation


def _node_ops(nodes, by_name: dict[str, Operation]) -> dict[int, Operation]:
    """The IR op each original ONNX node was emitted for (helpers belong to their consumer)."""
    consumers: dict[str, list[int]] = defaultdict(list)
    for i, n in enumerate(nodes):
        for t in n.input:
            consumers[t].append(i)
    owner: dict[int, Operation] = {}
    for i in reversed(range(len(nodes))):
        n = nodes[i]
        op = next((by_name[t] for t in n.output if t in by_name), None)
        if op is None:
            op = next((owner[j] for t in n.output for j in consumers[t] if j in owner), None)
        if op is not None:
            owner[i] = op
    return owner


def cover(orig_nodes, opt_nodes, kept, by_name: dict) -> list[set[Operation]]:
    """The IR ops each optimised node covers (nodes: anything with ``input`` and ``output`` name
    lists; ``kept``: graph output names). Also used to replay the transpose optimizer."""
    owner = _node_ops(orig_nodes, by_name)
    producer = {t: i for i, n in enumerate(orig_nodes) for t in n.output}
    alive = {t for n in opt_nodes for t in (*n.input, *n.output)} | set(kept)
    covered: list[set[Operation]] = []
    for n in opt_nodes:
        ops: set[Operation] = set()
        stack = [producer[t] for t in n.output if t in producer]
        seen: set[int] = set()
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            if i in owner:
                ops.add(owner[i])
            stack.extend(producer[t] for t in orig_nodes[i].input if t in producer and t not in alive)
        covered.append(ops)
    # invented nodes cover what their consumers (else producers) cover
    users: dict[str, list[int]] = defaultdict(list)
    makers: dict[str, int] = {}
    for i, n in enumerate(opt_nodes):
        for t in n.input:
            users[t].append(i)
        for t in n.output:
            makers[t] = i
    for direction in ("consumers", "producers"):
        changed = True
        while changed:
            changed = False
            for i, n in enumerate(opt_nodes):
                if covered[i]:
                    continue
                if direction == "consumers":
                    near = [j for t in n.output for j in users[t]]
                else:
                    near = [makers[t] for t in n.input if t in makers]
                j = next((j for j in near if covered[j]), None)
                if j is not None:
                    covered[i] = set(covered[j])
                    changed = True
    return covered
