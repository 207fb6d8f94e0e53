"""Progress of long loops: a live bar on a terminal, periodic plain lines in a log file or pipe.

``progress_bar`` takes tqdm's arguments and returns a tqdm object either way, so ``update``, ``set_postfix``,
``write`` and ``close`` work the same. When its stream (stderr unless ``file=`` says otherwise) is not a terminal,
the bar is written as one newline-terminated line when it starts, at most every ``every`` seconds, and when it ends:
no carriage returns, no redraws (``bash run.sh demo > log`` then reads like a log).
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

#: Seconds between two plain progress lines when the output is not a terminal.
LINE_SECONDS = 30.0


class PlainLineProgress(tqdm):
    """tqdm that prints its state as plain lines, at most one every ``every`` seconds plus the final state."""

    def __init__(self, *args, every: float = LINE_SECONDS, **kwargs):
        self._every, self._line_time, self._line_state = every, None, None
        kwargs.pop("dynamic_ncols", None)
        kwargs.update(ncols=0, mininterval=every)  # ncols=0: counts and rates, no bar
        super().__init__(*args, **kwargs)

    def display(self, msg=None, pos=None) -> bool:
        if msg is not None:  # tqdm clears a bar with msg='' and has nothing else to say
            return False
        now = time.monotonic()
        if self._line_time is not None and now - self._line_time < self._every:
            return False
        self._line(now)
        return True

    def _line(self, now: float) -> None:
        state = (self.n, self.postfix)
        if state == self._line_state:
            return
        self._line_time, self._line_state = now, state
        self.fp.write(self.__str__().strip() + "\n")
        self.fp.flush()

    def clear(self, nolock=False) -> None:  # nothing on screen to clear
        return None

    def close(self) -> None:
        if not self.disable:
            self._line(time.monotonic())  # the final state, whenever the last line was written
        self.leave = False  # tqdm's own ending would redraw and add a newline
        super().close()


def is_terminal(stream) -> bool:
    """Whether ``stream`` is an interactive terminal (False for files, pipes and captured output)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def progress_bar(iterable=None, *, every: float = LINE_SECONDS, **options) -> tqdm:
    """``tqdm(iterable, **options)`` on a terminal; plain lines every ``every`` seconds (> 0) otherwise."""
    if isinstance(every, bool) or not isinstance(every, (int, float)) or not every > 0:
        raise ValueError(f"every: expected a positive number of seconds, got {every!r}")
    if is_terminal(options.get("file") or sys.stderr):
        return tqdm(iterable, **options)
    return PlainLineProgress(iterable, every=float(every), **options)
