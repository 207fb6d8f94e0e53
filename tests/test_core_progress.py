"""Progress bars: plain, newline-terminated lines when the output is not a terminal; tqdm's bar on a terminal."""

from __future__ import annotations

import io

import pytest
from tqdm import tqdm

from unisync_loss import progress
from unisync_loss.progress import PlainLineProgress, progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_file_gets_a_first_and_a_last_line_and_no_carriage_returns():
    log = io.StringIO()
    for _ in progress_bar(range(1000), desc="work", unit="clip", file=log, every=3600):
        pass
    text = log.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert len(lines) == 2 and lines[0].startswith("work:") and "0/1000" in lines[0] and "1000/1000" in lines[1]


def test_lines_follow_the_period_and_keep_messages_and_postfix(monkeypatch):
    clock = iter(range(0, 10_000, 10))  # every call to the clock moves 10 s on
    monkeypatch.setattr(progress.time, "monotonic", lambda: float(next(clock)))
    log = io.StringIO()
    bar = progress_bar(total=4, desc="train", file=log, every=15, leave=False)
    for step in range(4):
        bar.update(1)
        bar.set_postfix(loss=f"{step:.1f}", refresh=True)
        if step == 1:
            bar.write("step 2: evaluated", file=log)
    bar.close()
    lines = log.getvalue().splitlines()
    assert "step 2: evaluated" in lines and "\r" not in log.getvalue()
    bars = [line for line in lines if line.startswith("train:")]
    assert 2 <= len(bars) < 1 + 4 * 2  # not every refresh is written
    assert "4/4" in bars[-1] and "loss=3.0" in bars[-1]


def test_a_terminal_gets_tqdm_and_disabled_bars_write_nothing():
    screen = Terminal()
    bar = progress_bar(total=3, file=screen)
    assert type(bar) is tqdm and not isinstance(bar, PlainLineProgress)
    bar.close()
    log = io.StringIO()
    for _ in progress_bar(range(3), file=log, disable=True):
        pass
    assert log.getvalue() == ""


def test_the_period_must_be_positive():
    with pytest.raises(ValueError, match="positive number of seconds"):
        progress_bar(range(3), every=0)
