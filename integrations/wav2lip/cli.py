"""Shared command-line convention: bad input is one line on stderr and exit status 2, not a traceback."""

from __future__ import annotations

import sys
from typing import Callable


def run_reporting_errors(prog: str, action: Callable[[], object]) -> int:
    """Run ``action``; print its result (if any) and return 0, or print ``prog: error: ...`` and return 2."""
    try:
        result = action()
    except (ValueError, FileNotFoundError) as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    if result is not None:
        print(result)
    return 0
