"""A partition of a graph's ops into fusion groups that always stays schedulable.

Merging two groups is refused when it would create a cycle between groups (a path from one
to the other through a third group), so every partition this class builds can be laid out
with each group contiguous: ``order`` gives that layout, a topological order of the groups
(earliest original op first, for a stable result) with each group's ops in original order.
"""

from __future__ import annotations

import heapq

from archir.ir import Graph, Operation, Value


class Partition:
    def __init__(self, g: Graph):
        self.graph = g
        self.index = {op: i for i, op in enumerate(g.ops)}
        self.users = g.users()
        self.outputs = set(g.outputs)
        self._group: dict[Operation, int] = {op: i for i, op in enumerate(g.ops)}
        self._members: dict[int, list[Operation]] = {i: [op] for i, op in enumerate(g.ops)}

    # queries ------------------------------------------------------------------------------
    def group(self, op: Operation) -> int:
        return self._group[op]

    def members(self, gid: int) -> list[Operation]:
        return self._members[gid]

    def groups(self) -> list[list[Operation]]:
        return [self._members[gid] for gid in self._order()]

    def producer(self, v: Value) -> Operation | None:
        return v.owner

    def consumers(self, v: Value) -> list[tuple[Operation, int]]:
        return self.users.get(v, [])

    def single_use(self, v: Value) -> bool:
        """Used by exactly one operand slot and not returned by the graph."""
        return len(self.consumers(v)) == 1 and v not in self.outputs

    # merging ------------------------------------------------------------------------------
    def _successors(self, gid: int) -> set[int]:
        out = set()
        for op in self._members[gid]:
            for r in op.results:
                for user, _ in self.consumers(r):
                    other = self._group[user]
                    if other != gid:
                        out.add(other)
        return out

    def _reaches_indirectly(self, src: int, dst: int) -> bool:
        """A path src -> X -> ... -> dst through at least one group X other than both."""
        stack = [s for s in self._successors(src) if s != dst]
        seen = set(stack)
        while stack:
            gid = stack.pop()
            for nxt in self._successors(gid):
                if nxt == dst:
                    return True
                if nxt not in seen and nxt != src:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    def can_merge(self, a: int, b: int) -> bool:
        return a == b or not (self._reaches_indirectly(a, b) or self._reaches_indirectly(b, a))

    def merge(self, a: int, b: int) -> bool:
        """Merge group b into group a; False (and nothing changes) when it would form a cycle."""
        if a == b:
            return True
        if not self.can_merge(a, b):
            return False
        for op in self._members[b]:
            self._group[op] = a
        self._members[a] = sorted(self._members[a] + self._members.pop(b), key=self.index.__getitem__)
        return True

    def merge_all(self, ops: list[Operation]) -> bool:
        """Merge the groups of ``ops`` (a connected pattern) in topological order."""
        ops = sorted(ops, key=self.index.__getitem__)
        gid = self.group(ops[0])
        for op in ops[1:]:
            if not self.merge(gid, self.group(op)):
                return False
        return True

    # layout -------------------------------------------------------------------------------
    def _order(self) -> list[int]:
        preds: dict[int, int] = {gid: 0 for gid in self._members}
        succ = {gid: self._successors(gid) for gid in self._members}
        for gid in succ:
            for s in succ[gid]:
                preds[s] += 1
        first = {gid: self.index[ops[0]] for gid, ops in self._members.items()}
        ready = [(first[gid], gid) for gid, n in preds.items() if n == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            _, gid = heapq.heappop(ready)
            order.append(gid)
            for s in succ[gid]:
                preds[s] -= 1
                if preds[s] == 0:
                    heapq.heappush(ready, (first[s], s))
        if len(order) != len(self._members):
            raise AssertionError("fusion groups form a cycle")  # merge() prevents this
        return order

    def order(self) -> list[Operation]:
        return [op for ops in self.groups() for op in ops]
