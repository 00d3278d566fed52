"""A one-line progress report for long runs on a terminal.

`proofcheck proofs/` is quiet for its first couple of seconds; a run that takes
longer shows, on standard error, one line that it rewrites in place:

    proofcheck: reading big.pf, line 52,000 of 147,060 (3 s)
    proofcheck: deciding steps, 120 of 450 (5 s)

and erases it before the report is printed. Nothing is drawn unless standard error
is a terminal (editors, graders and pipes never see it), and the line is redrawn at
most a few times a second. It reports progress only: it never changes what is
checked or how, so verdicts are the same with it or without it.
"""
from __future__ import annotations

import os
import time
import unicodedata

from .textutil import visible

DELAY = 2.0      # seconds before the line first appears
EVERY = 0.25     # seconds between redraws
ERASE = "\r\x1b[K"


def fit(text: str, columns: int) -> str:
    """The longest start of `text` that takes at most `columns` columns on a terminal
    (East Asian wide characters take two, combining marks none): a line that wrapped
    could not be erased by the next redraw."""
    used = 0
    for k, ch in enumerate(text):
        w = 0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > columns:
            return text[:k]
        used += w
    return text


def wanted(stream) -> bool:
    """Draw on `stream`? Only on a terminal that understands erasing a line."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False
    return bool(tty) and os.environ.get("TERM") != "dumb"


class Progress:
    """What the run is doing, drawn on `stream` once the run is older than DELAY.
    The checker calls the methods below as it goes; each call is cheap (a clock
    read) unless it is time to redraw."""

    def __init__(self, stream, clock=time.monotonic):
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self.drawn_at = None     # when the line was last drawn; None: nothing on screen
        self.what = ("starting",)   # formatted only when drawn: a big file reports every line
        self.width = 0

    # -- what the checker reports
    def reading(self, path: str, line: int = 0, lines: int = 0):
        self.what = ("reading", path, line, lines)
        self.tick()

    def deciding(self, label: str, done: int, total: int):
        self.what = (label, done, total)
        self.tick()

    def line(self) -> str:
        """The text of the line, as it would be drawn now."""
        what = self.what
        if what[0] == "reading":
            _, path, line, lines = what
            name = os.path.basename(path) or path
            what = f"reading {name}, line {line:,} of {lines:,}" if lines > 1 else f"reading {name}"
        elif len(what) == 3:
            what = f"{what[0]}, {what[1]:,} of {what[2]:,}"
        else:
            what = what[0]
        return f"proofcheck: {what} ({self.clock() - self.started:.0f} s)"

    def tick(self):
        now = self.clock()
        if now - self.started < DELAY or (self.drawn_at is not None and now - self.drawn_at < EVERY):
            return
        self._write(ERASE + fit(visible(self.line()), self._columns()))
        self.drawn_at = now

    def clear(self):
        """Erase the line (before the report is printed)."""
        if self.drawn_at is not None:
            self._write(ERASE)
            self.drawn_at = None

    def _columns(self) -> int:
        """The line's width: one less than the terminal's, so it never wraps."""
        if not self.width:
            try:
                columns = os.get_terminal_size(self.stream.fileno()).columns
            except (AttributeError, ValueError, OSError):
                columns = 0
            self.width = columns - 1 if columns > 1 else 79  # 0: a terminal that does not say
        return self.width

    def _write(self, text: str):
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass
