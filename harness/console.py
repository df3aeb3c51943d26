"""Find kernel splats in a guest's console log.

Only kernel log lines (those with a printk timestamp) are scanned, so a test
program printing the word "WARNING:" is not mistaken for a kernel warning.
The timestamp need not start the line: on the console, kernel messages
interleave with the command's output, so a splat may begin in the middle
of a line the command had started.  A splat is reported whole: from its
first line to the kernel's end-of-trace marker, or a bounded number of
lines when there is none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TIMESTAMP = re.compile(r"^\s*(?:<\d+>)?\[\s*\d+\.\d+\]\s?")
# printk.time=1's "[%5lu.%06lu] " after other output on the same line
_TIMESTAMP_INSIDE = re.compile(r"(?:<\d+>)?\[\s*\d+\.\d{6}\] ?")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

# (kind, pattern on the message after the timestamp)
SPLAT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # Specific reports first: they also start with "BUG:" or "WARNING:".
    ("kasan", re.compile(r"^BUG: KASAN: ")),
    ("kfence", re.compile(r"^BUG: KFENCE: ")),
    ("ubsan", re.compile(r"UBSAN: ")),
    ("lockdep", re.compile(r"possible circular locking dependency detected")),
    ("lockdep", re.compile(r"possible recursive locking detected")),
    ("lockdep", re.compile(r"inconsistent lock state|possible irq lock inversion")),
    ("lockdep", re.compile(r"lock held when returning to user space")),
    ("rcu", re.compile(r"suspicious RCU usage")),
    ("rcu-stall", re.compile(r"rcu: INFO: rcu_\w+ (?:self-)?detected stall|"
                             r"rcu_\w+ detected stalls? on CPU")),
    ("soft-lockup", re.compile(r"soft lockup - CPU#")),
    ("hard-lockup", re.compile(r"Watchdog detected hard LOCKUP")),
    ("hung-task", re.compile(r"INFO: task .* blocked for more than")),
    ("workqueue-stall", re.compile(r"BUG: workqueue lockup")),
    ("list-corruption", re.compile(r"list_(?:add|del) corruption")),
    ("panic", re.compile(r"Kernel panic - not syncing")),
    ("bug", re.compile(r"^kernel BUG at ")),
    ("gpf", re.compile(r"general protection fault")),
    ("oops", re.compile(r"^Oops\b")),
    ("bug", re.compile(r"^BUG: ")),
    ("warning", re.compile(r"^WARNING: ")),
]

_END = re.compile(r"---\[ end (?:trace [0-9a-f]+|Kernel panic)")
MAX_SPLAT_LINES = 120


@dataclass(frozen=True)
class Splat:
    kind: str
    first_line: str
    text: str
    line_number: int
    source: str = "console"  # or "dmesg": the kernel log the guest saved

    def __str__(self) -> str:
        return f"{self.kind} at {self.source} line {self.line_number}:\n{self.text}"


def clean_line(line: str) -> str:
    return _ANSI.sub("", line).replace("\r", "")


def kernel_message(line: str) -> str | None:
    """The message of a kernel log line, or None for other console output."""
    m = _TIMESTAMP.match(line)
    return line[m.end():] if m else None


def kernel_message_in(line: str) -> str | None:
    """The kernel message in a console line, also one that starts after
    the command's own output on that line."""
    msg = kernel_message(line)
    if msg is not None:
        return msg
    m = _TIMESTAMP_INSIDE.search(line)
    return line[m.end():] if m else None


def find_splats(console: str) -> list[Splat]:
    lines = [clean_line(line) for line in console.splitlines()]
    starts: list[tuple[int, str, str]] = []
    for i, line in enumerate(lines):
        msg = kernel_message_in(line)
        kind = _classify(msg) if msg is not None else None
        if kind is not None and msg is not None:
            starts.append((i, kind, msg.strip()))
    splats: list[Splat] = []
    covered = -1
    for n, (i, kind, msg) in enumerate(starts):
        if i <= covered:
            continue  # part of the previous report (e.g. panic after WARN)
        limit = min(len(lines), i + MAX_SPLAT_LINES)
        end = next((j + 1 for j in range(i + 1, limit) if _END.search(lines[j])), None)
        if end is None:
            nxt = next((s for s, _, _ in starts[n + 1:] if s > i), limit)
            end = min(nxt, limit)
        covered = end - 1
        splats.append(Splat(kind=kind, first_line=msg, text="\n".join(lines[i:end]),
                            line_number=i + 1))
    return splats


def _classify(msg: str) -> str | None:
    for kind, pattern in SPLAT_PATTERNS:
        if pattern.search(msg):
            return kind
    return None
