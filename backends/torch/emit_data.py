"""Emitters for data movement: reshape, transpose, concat, split, slice and friends."""

from __future__ import annotations

from archir.backends.torch.context import Emit, Emitter, literal, tuple_expr
from archir.ops._shapes import axis


def _reshape(e: Emit) -> str:
    dims = [e.dim(d) if d != -1 else "-1" for d in e["shape"]]
    return f"{e.x}.reshape({', '.join(dims)})" if dims else f"{e.x}.reshape(())"


def _flatten(e: Emit) -> str:
    end = "" if axis(e["end"], e.in_type().rank) == e.in_type().rank - 1 else f", {e['end']}"
    return f"torch.flatten({e.x}, {e['start']}{end})"


def _split(e: Emit) -> str:
    expr = f"torch.split({e.x}, {list(e['sizes'])}, dim={e['axis']})"
    return expr + "[0]" if len(e["sizes"]) == 1 else expr


def _slice(e: Emit) -> str:
    t = e.in_type()
    steps = e["steps"] or (1,) * len(e["axes"])
    index = [":"] * t.rank
    flips: list[int] = []
    seen: set[int] = set()
    for ax, start, end, step in zip(e["axes"], e["starts"], e["ends"], steps):
        ax = axis(ax, t.rank)
        if ax in seen:
            raise e.fail(f"axis {ax} is sliced twice")
        seen.add(ax)
        size = t.shape[ax]
        r = range(size)[slice(start, end, step)]
        if step < 0:
            # PyTorch slices forwards only: take the same elements ascending, then flip
            flips.append(ax)
            r = range(r[-1], r[0] + 1, -step) if len(r) else range(0)
        lo = "" if r.start == 0 else str(r.start)
        hi = "" if r.stop >= size and r.start <= r.stop else str(r.stop)
        index[ax] = f"{lo}:{hi}" + (f":{r.step}" if r.step != 1 else "")
    while index and index[-1] == ":":
        index.pop()
    expr = f"{e.x}[{', '.join(index)}]" if index else e.x
    return f"{expr}.flip({tuple_expr(flips)})" if flips else expr


def _squeeze(e: Emit) -> str:
    if not e["axes"]:
        return e.x
    return f"{e.x}.squeeze({tuple_expr(sorted(axis(a, e.in_type().rank) for a in e['axes']))})"


def _unsqueeze(e: Emit) -> str:
    rank = e.out_type().rank
    expr = e.x
    for a in sorted(axis(a, rank) for a in e["axes"]):
        expr = f"{expr}.unsqueeze({a})"
    return expr


EMITTERS: dict[str, Emitter] = {
    "reshape": _reshape,
    "flatten": _flatten,
    "transpose": lambda e: f"{e.x}.permute({', '.join(map(str, e['perm']))})",
    "concat": lambda e: f"torch.cat([{', '.join(e.args)}], dim={e['axis']})",
    "split": _split,
    "slice": _slice,
    "squeeze": _squeeze,
    "unsqueeze": _unsqueeze,
    "expand": lambda e: f"{e.x}.expand({', '.join(e.dim(d) for d in e.out_type().shape)})",
    "channel_shuffle": lambda e: f"F.channel_shuffle({e.x}, {e['groups']})",
    "gather": lambda e: f"{e.helper('take')}({e.args[0]}, {e.args[1]}, {e['axis']})",
    "roll": lambda e: f"torch.roll({e.x}, shifts={literal(e['shifts'])}, dims={literal(e['axes'])})",
}
