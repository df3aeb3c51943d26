"""The guest command's own output, line by line, as the console delivers it.

The console carries boot messages, kernel log lines (timestamped) and the
command's output; only the last are handed on, starting when the guest's
init starts the script.  A line can go to the terminal (``echo``), to a
progress reporter that says what the guest is doing, or both.  Kernel
splats are the console scanner's business (harness.console).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable

from harness.console import clean_line, kernel_message
from harness.progress import fmt_duration, say

START_MARK = "starting script"
LineSink = Callable[[str], None]


class CommandLines:
    """Splits console chunks into lines and hands the command's lines on."""

    def __init__(self, sinks: list[LineSink]) -> None:
        self.sinks = sinks
        self.started = False
        self.started_at: float | None = None  # time.monotonic() of the start mark
        self.pending = b""
        self.last_line = ""

    def feed(self, chunk: bytes) -> None:
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        for raw in lines:
            line = clean_line(raw.decode(errors="replace"))
            if not self.started:
                self.started = START_MARK in line
                if self.started:
                    self.started_at = time.monotonic()
                continue
            if kernel_message(line) is not None:
                continue
            if line.strip():
                self.last_line = line.strip()
            for sink in self.sinks:
                sink(line)


def echo_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Heartbeat:
    """Says every ``interval`` seconds that a guest still runs, with its
    last line of output, so that a long silent step is visibly alive."""

    def __init__(self, name: str, lines: CommandLines, interval: float = 60.0) -> None:
        self.name = name
        self.lines = lines
        self.interval = interval
        self.start = time.monotonic()
        self._last = self.start

    def tick(self) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        last = self.lines.last_line[:100] or "(no output yet)"
        say(f"guest '{self.name}' [{fmt_duration(now - self.start)}] running; "
            f"last output: {last}")


_AREA_MARK = re.compile(r"^\[suite\] (\S+) (start|done)(?: status (\S+))?$")
_RESULT_LINE = re.compile(r"^(?:not ok|ok) \d+\b")


class SuiteProgress:
    """Live progress of the suite guest: which area runs, each KTAP result
    as it comes, and the elapsed time (the guest driver of harness.suite
    marks the start and end of every area)."""

    def __init__(self, areas: list[str]) -> None:
        self.areas = areas
        self.start = time.monotonic()
        self.area = ""
        self.area_start = self.start
        self.done = 0

    def _elapsed(self) -> str:
        return fmt_duration(time.monotonic() - self.start)

    def __call__(self, line: str) -> None:
        m = _AREA_MARK.match(line.strip())
        if m:
            area, what, status = m.groups()
            if what == "start":
                self.area, self.area_start = area, time.monotonic()
                say(f"suite [{self._elapsed()}] area {self.done + 1}/{len(self.areas)} "
                    f"{area}: started")
            else:
                self.done += 1
                took = fmt_duration(time.monotonic() - self.area_start)
                say(f"suite [{self._elapsed()}] {area}: finished in {took}, "
                    f"exit status {status}")
            return
        if self.area and _RESULT_LINE.match(line):
            say(f"suite [{self._elapsed()}] {self.area}: {line.strip()[:120]}")
