"""The ``archir`` command line: one entry point, one module per subcommand family.

Subcommands register by dotted path so that ``archir verify`` never imports torch; a layer
above the core adds its commands to ``COMMANDS`` (name -> "module:function").
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from archir.errors import ParseError, VerifyError

# name -> "module:configure" where configure(subparser) sets defaults(run=callable)
COMMANDS: dict[str, str] = {
    "verify": "archir.cli_core:configure_verify",
    "print": "archir.cli_core:configure_print",
    "lower": "archir.frontends.cli:configure_lower",
    "export": "archir.backends.cli:configure_export",
    "opt": "archir.passes.cli:configure_opt",
    "cost": "archir.passes.cli:configure_cost",
    "show": "archir.passes.targets.cli:configure_show",
    "detect-fusion": "archir.backends.profile.detect_cli:configure_detect_fusion",
    "profile": "archir.search.profile_cli:configure_profile",
    "predict": "archir.passes.latency.cli:configure_predict",
    "search": "archir.search.cli:configure_search",
}


def _load(path: str) -> Callable[[argparse.ArgumentParser], None]:
    module, _, func = path.partition(":")
    return getattr(importlib.import_module(module), func)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="archir", description="a compiler for neural architectures")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    argv = list(sys.argv[1:] if argv is None else argv)
    for name, path in COMMANDS.items():
        # only the chosen subcommand's module is imported (its dependencies may be heavy)
        p = sub.add_parser(name, add_help=name in argv[:1])
        if argv[:1] == [name]:
            _load(path)(p)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (ParseError, VerifyError) as e:
        print(e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
