"""Terminal output that can never stop the demo from stopping what it started.

`make demo | tee demo.log` then Ctrl-C, or `arbqos demo | head`: the reader of the pipe goes
away and every later write raises `BrokenPipeError`. A write that raises while the stack is
being stopped would skip the stop and leave every child running under PID 1. `SafeStream`
swallows write errors, remembers that the terminal is gone and calls `on_broken` once (the
demo then stops: nobody is watching).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import TextIO, cast


class SafeStream:
    """Wrap a text stream: writes and flushes never raise; `broken` once they failed."""

    def __init__(self, inner: TextIO, on_broken: Callable[[], None] | None = None) -> None:
        self._inner = inner
        self._on_broken = on_broken
        self.broken = False

    def write(self, text: str) -> int:
        """Write, or drop the text when the stream is gone."""
        if not self.broken:
            try:
                self._inner.write(text)
            except (OSError, ValueError):
                self._break()
        return len(text)

    def flush(self) -> None:
        """Flush, or do nothing when the stream is gone."""
        if not self.broken:
            try:
                self._inner.flush()
            except (OSError, ValueError):
                self._break()

    def isatty(self) -> bool:
        """Whether the stream is a terminal (False once gone)."""
        try:
            return not self.broken and self._inner.isatty()
        except (OSError, ValueError):
            return False

    def as_textio(self) -> TextIO:
        """This wrapper, typed as the stream it stands for."""
        return cast(TextIO, self)

    def _break(self) -> None:
        self.broken = True
        if self._on_broken is not None:
            self._on_broken()


def silence_broken_stdout() -> None:
    """Point stdout at /dev/null, so Python's own flush at exit cannot fail on a dead pipe."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
