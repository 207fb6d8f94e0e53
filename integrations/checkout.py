"""Running a user's checkout of an upstream repository in this process, leaving no trace of it afterwards."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import runpy
import sys
from pathlib import Path
from typing import Iterator, Mapping, Sequence


class MissingDependency(ValueError):
    """A module an upstream repository imports is not installed; the message says what to install."""


def require_modules(dependencies: Mapping[str, str], who: str, hint: str) -> None:
    """Raise :class:`MissingDependency` unless every module of ``dependencies`` (module -> package providing it) can
    be imported; ``who`` imports them, ``hint`` says how to install them."""
    missing = [name for name in dependencies if importlib.util.find_spec(name) is None]
    if missing:
        packages = ", ".join(dependencies[name] for name in missing)
        raise MissingDependency(f"{who} import {', '.join(missing)}, which this Python ({sys.executable}) lacks "
                                f"({packages}): {hint}")


@contextlib.contextmanager
def checkout_environment(root: Path, argv: list[str], packages: Sequence[str]) -> Iterator[None]:
    """cwd ``root``, ``root`` first on ``sys.path``, ``sys.argv = argv``; the top-level ``packages`` of the checkout
    are imported fresh from it inside the block and removed again (with the previous ones restored) after it."""
    saved = (os.getcwd(), list(sys.path), list(sys.argv))
    shadowed = {k: sys.modules.pop(k) for k in list(sys.modules) if k.split(".")[0] in packages}
    os.chdir(root)
    sys.path.insert(0, str(root))
    sys.argv = argv
    try:
        yield
    finally:
        for k in [k for k in sys.modules if k.split(".")[0] in packages]:
            del sys.modules[k]
        sys.modules.update(shadowed)
        os.chdir(saved[0])
        sys.path[:], sys.argv[:] = saved[1], saved[2]


@contextlib.contextmanager
def patched(owner, name: str, replacement) -> Iterator[None]:
    """``owner.name = replacement`` inside the block; the original afterwards."""
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)


def run_script(script: str | os.PathLike) -> int:
    """Run ``script`` as ``__main__``; its exit status (0 when it returns, 1 for a non-integer ``sys.exit`` value)."""
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    return 0
