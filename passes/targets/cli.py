"""``archir show FILE --target T``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure_show(p: argparse.ArgumentParser) -> None:
    from archir.passes.targets.registry import target_names

    p.description = "print the kernels of a model for a target and write an HTML picture of them"
    p.add_argument("file", help=".air file")
    p.add_argument("--target", required=True, help=f"one of: {', '.join(target_names())}")
    p.add_argument("--precision", choices=("f32", "f16", "f32_f16"), help="override the target's")
    p.add_argument("--html", help="HTML output (default: FILE with suffix .<target>.html)")
    p.add_argument("--no-compile", action="store_true",
                   help="show the kernels already in the file instead of compiling for the target")
    p.set_defaults(run=_show)


def _show(args: argparse.Namespace) -> int:
    from rich.console import Console

    from archir.io import load
    from archir.passes.targets.apply import compile_for
    from archir.passes.targets.registry import target_for_cli
    from archir.passes.targets.show import html_page, table
    from archir.passes.targets.view import kernels

    target = target_for_cli(args.target, "archir show")
    if target is None:
        return 2
    module = load(args.file)
    if not args.no_compile:
        module = compile_for(module, target, args.precision)
    ks = kernels(module)
    if not ks:
        print(f"archir show: {args.file} has no kernel regions (drop --no-compile)", file=sys.stderr)
        return 1
    launches = sum(k.splits for k in ks)
    title = f"{Path(args.file).name} on {target.name}: {len(ks)} kernels, {launches} launches"
    Console(width=None if sys.stdout.isatty() else 180).print(table(ks, title))
    out = Path(args.html) if args.html else Path(args.file).with_suffix(f".{target.name}.html")
    out.write_text(html_page(ks, target.name, Path(args.file).name))
    print(f"wrote {out}")
    return 0
