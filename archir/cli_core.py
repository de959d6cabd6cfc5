"""Core subcommands: ``archir verify FILE`` and ``archir print FILE``."""

from __future__ import annotations

import argparse

from archir.io import load
from archir.printer import to_text


def configure_verify(p: argparse.ArgumentParser) -> None:
    p.description = "parse and verify .air files"
    p.add_argument("files", nargs="+")
    p.set_defaults(run=_verify)


def _verify(args: argparse.Namespace) -> int:
    for path in args.files:
        module = load(path)
        print(f"{path}: ok ({module.num_ops} ops in {len(module.graphs)} graphs)")
    return 0


def configure_print(p: argparse.ArgumentParser) -> None:
    p.description = "print a .air file in canonical form"
    p.add_argument("file")
    p.set_defaults(run=lambda args: print(to_text(load(args.file)), end=""))
