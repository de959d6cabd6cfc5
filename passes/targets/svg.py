"""An SVG picture of a graph's kernels: one box per kernel (ops, impl, latency when annotated),
edges where a kernel reads another's result, laid out in layers by longest path."""

from __future__ import annotations

from xml.sax.saxutils import escape

from archir.passes.targets.view import KernelView

BOX_W, LINE_H, GAP_X, GAP_Y, PAD = 220, 15, 30, 46, 8
MAX_OPS = 6  # longer op lists are cut with "+n more"


def _edges(ks: list[KernelView]) -> list[tuple[int, int]]:
    owner = {r: i for i, k in enumerate(ks) for op in k.ops for r in op.results}
    out = set()
    for j, k in enumerate(ks):
        for op in k.ops:
            for v in op.operands:
                i = owner.get(v)
                if i is not None and i != j:
                    out.add((i, j))
    return sorted(out)


def _lines(k: KernelView, index: int) -> list[str]:
    head = f"#{index} {k.impl or k.kind}"
    ops = list(k.op_names)
    shown = ops[:MAX_OPS] + ([f"+{len(ops) - MAX_OPS} more"] if len(ops) > MAX_OPS else [])
    lines = [head, *shown]
    details = []
    if k.block:
        details.append("block " + "x".join(map(str, k.block)))
    if k.splits > 1:
        details.append(f"{k.splits} launches")
    if k.latency_us is not None:
        details.append(f"{k.latency_us:.1f} us")
    if details:
        lines.append(", ".join(details))
    return lines


def kernel_svg(ks: list[KernelView]) -> str:
    edges = _edges(ks)
    depth = [0] * len(ks)
    for i, j in edges:  # kernels are in topological order, so one pass settles every depth
        depth[j] = max(depth[j], depth[i] + 1)
    slots: dict[int, int] = {}
    pos = []
    for i in range(len(ks)):
        slot = slots.get(depth[i], 0)
        slots[depth[i]] = slot + 1
        pos.append((slot, depth[i]))
    texts = [_lines(k, i) for i, k in enumerate(ks)]
    row_h = max((len(t) for t in texts), default=1) * LINE_H + 2 * PAD
    width = max(slots.values(), default=1) * (BOX_W + GAP_X) + GAP_X
    height = (max(depth, default=0) + 1) * (row_h + GAP_Y) + GAP_Y

    def box(i: int) -> tuple[int, int]:
        slot, level = pos[i]
        return GAP_X + slot * (BOX_W + GAP_X), GAP_Y + level * (row_h + GAP_Y)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
             'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    for i, j in edges:
        (x1, y1), (x2, y2) = box(i), box(j)
        sx, sy, ex, ey = x1 + BOX_W // 2, y1 + row_h, x2 + BOX_W // 2, y2
        mid = (sy + ey) // 2
        parts.append(f'<path d="M{sx},{sy} C{sx},{mid} {ex},{mid} {ex},{ey}" fill="none" stroke="#555" '
                     f'marker-end="url(#arrow)"/>')
    for i, lines in enumerate(texts):
        x, y = box(i)
        fill = "#e8f0fe" if ks[i].impl else "#f4f4f4"
        parts.append(f'<g><title>{escape(" ".join(ks[i].op_names))}</title>'
                     f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{row_h}" rx="6" fill="{fill}" '
                     f'stroke="#335"/>')
        for n, line in enumerate(lines):
            weight = ' font-weight="bold"' if n == 0 else ""
            parts.append(f'<text x="{x + PAD}" y="{y + PAD + (n + 1) * LINE_H - 3}"{weight}>'
                         f'{escape(line[:30])}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)
