"""``archir show``: the kernels of a module for a target, as a rich table and an HTML page."""

from __future__ import annotations

from xml.sax.saxutils import escape

from archir.passes.targets.registry import get_target
from archir.passes.targets.svg import kernel_svg
from archir.passes.targets.view import KernelView


def _shapes(k: KernelView) -> str:
    ins = [v for op in k.ops for v in op.operands if v.owner is None or v.owner.kernel is not op.kernel]
    first = str(ins[0].type) if ins else "()"
    return f"{first} -> {k.ops[-1].results[0].type}"


def rows(ks: list[KernelView]) -> list[tuple[str, ...]]:
    return [(str(i), " ".join(k.op_names), _shapes(k), k.impl,
             "x".join(map(str, k.block)) if k.block else "", str(k.splits),
             "" if k.latency_us is None else f"{k.latency_us:.1f}")
            for i, k in enumerate(ks)]


HEADERS = ("#", "ops", "shapes", "impl", "block", "launches", "latency us")


def table(ks: list[KernelView], title: str):
    from rich.table import Table

    t = Table(title=title, show_lines=False)
    for h in HEADERS:
        t.add_column(h, overflow="fold")
    for r in rows(ks):
        t.add_row(*r)
    return t


def html_page(ks: list[KernelView], target: str, source: str) -> str:
    """A self-contained page: target metadata, the SVG kernel graph and the table."""
    t = get_target(target)
    meta = [("target", t.name), ("device", t.device), ("runtime", t.runtime),
            ("precision", t.precision), ("storage", t.storage or "-"), ("measurable here", t.measurable),
            ("latency model", f"{t.latency.kind}: {t.latency.source}"), ("kernels", str(len(ks))),
            ("launches", str(sum(k.splits for k in ks)))]
    head = "".join(f"<tr><th>{escape(a)}</th><td>{escape(b)}</td></tr>" for a, b in meta)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows(ks))
    cols = "".join(f"<th>{escape(h)}</th>" for h in HEADERS)
    return (
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta charset=\"utf-8\"/>"
        f"<title>{escape(source)} on {escape(t.name)}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:left}</style></head><body>"
        f"<h1>{escape(source)} on {escape(t.name)}</h1><table>{head}</table>"
        f"<h2>Kernel graph</h2><div>{kernel_svg(ks)}</div>"
        f"<h2>Kernels</h2><table><tr>{cols}</tr>{body}</table></body></html>\n"
    )
