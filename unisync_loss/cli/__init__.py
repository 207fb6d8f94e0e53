"""The ``unisync`` command line.

Every module of this package that defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``
is a subcommand named after the module (underscores become dashes): adding a command means adding one module.

Packages built on the library add commands the same way without the library knowing them: a module with the same
three names, declared as an entry point of the group ``unisync.commands`` (``pyproject.toml`` declares ``demo`` and
``evaluate`` from ``train_expert``). They are looked up when the command line is built, never when the library is
imported.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from importlib.metadata import entry_points
from types import ModuleType

COMMAND_GROUP = "unisync.commands"
COMMAND_INTERFACE = ("HELP", "add_arguments", "run")


def is_command(module: ModuleType) -> bool:
    """Whether ``module`` defines the three names of a subcommand."""
    return all(hasattr(module, name) for name in COMMAND_INTERFACE)


def _own_commands() -> dict[str, ModuleType]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if is_command(module):
            found[info.name.replace("_", "-")] = module
    return found


def _declared_commands() -> dict[str, ModuleType]:
    """Commands other installed packages declare under :data:`COMMAND_GROUP`."""
    found = {}
    for point in entry_points(group=COMMAND_GROUP):
        module = point.load()
        if not isinstance(module, ModuleType) or not is_command(module):
            raise TypeError(f"entry point {point.name} = {point.value} ({COMMAND_GROUP}): expected a module defining "
                            f"{', '.join(COMMAND_INTERFACE)}, got {module!r}")
        found.setdefault(point.name, module)
    return found


def _commands() -> dict[str, ModuleType]:
    return {**_declared_commands(), **_own_commands()}


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
