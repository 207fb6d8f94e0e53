"""The ``unisync`` command line.

Every module of this package that defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``
is a subcommand named after the module (underscores become dashes): adding a command means adding one module.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys


def _commands() -> dict[str, object]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if all(hasattr(module, a) for a in ("HELP", "add_arguments", "run")):
            found[info.name.replace("_", "-")] = module
    return found


def build_parser() -> argparse.ArgumentParser:
    from ..version import __version__

    parser = argparse.ArgumentParser(prog="unisync", description="UniSync: measure and train lip sync.")
    parser.add_argument("--version", action="version", version=f"unisync {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in sorted(_commands().items()):
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "_run"):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except (ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"unisync {args.command}: error: {err}", file=sys.stderr)
        return 2
