"""Progress and status lines for long steps, on stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

_sink: Callable[[str], None] | None = None


def set_sink(sink: Callable[[str], None] | None) -> None:
    """Send status lines to ``sink`` instead of stderr (pytest's conftest
    does, so that they reach the terminal while pytest captures output)."""
    global _sink
    _sink = sink


def say(message: str) -> None:
    """One status line, prefixed so it stands out from tool output."""
    line = f"[harness] {message}"
    if _sink is not None:
        _sink(line)
    else:
        print(line, file=sys.stderr, flush=True)


def fmt_duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


class StageTimer:
    """Reports a long step: its stage, counts and elapsed time, at most every
    ``interval`` seconds, and at once when the stage changes."""

    def __init__(self, step: str, interval: float = 30.0) -> None:
        self.step = step
        self.interval = interval
        self.start = time.monotonic()
        self.stage = ""
        self.count = 0
        self._last = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def update(self, stage: str, count_increment: int = 0, milestone: bool = False) -> None:
        """Record progress; print it if it is a milestone or the interval passed."""
        self.count += count_increment
        now = time.monotonic()
        if (milestone and stage != self.stage) or now - self._last >= self.interval:
            self.stage = stage
            self._last = now
            say(f"{self.step} [{fmt_duration(self.elapsed)}] {stage} ({self.count} steps)")

    def done(self, what: str = "done") -> None:
        say(f"{self.step} {what} in {fmt_duration(self.elapsed)}")
