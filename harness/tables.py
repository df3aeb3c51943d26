"""Plain-text tables for the demo and benchmark reports, and the
tab-separated tables guest scripts write for them."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from harness.vm import GuestError

Row = TypeVar("Row")


def read_tsv_rows(path: Path, parse: Callable[[dict[str, str]], Row], what: str) -> list[Row]:
    """The rows of a tab-separated table with a header line that a guest
    script wrote, each made by ``parse``; none if there is no file.  A row
    ``parse`` rejects (KeyError, TypeError, ValueError) is an error naming
    the file and line: the guest did not finish writing it, or the format
    changed."""
    if not path.exists():
        return []
    rows = []
    with open(path, errors="replace") as fh:
        for n, r in enumerate(csv.DictReader(fh, delimiter="\t"), 2):
            try:
                rows.append(parse(r))
            except (KeyError, TypeError, ValueError) as exc:
                raise GuestError(f"{path}:{n}: not a row of {what} ({exc}): {dict(r)}; "
                                 "the guest's workload did not finish writing it, see "
                                 "the run's console.log") from exc
    return rows


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)
