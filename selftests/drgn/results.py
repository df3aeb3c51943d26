# SPDX-License-Identifier: GPL-2.0
"""KTAP results of the drgn checks, through the kernel tree's ksft.py."""

import os
from dataclasses import asdict, is_dataclass
from typing import Any

import ksft


class Results:
    """Counts results, so that the driver can fail the unreached ones."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.count = 0

    def msg(self, text: str) -> None:
        for line in str(text).splitlines() or [""]:
            ksft.print_msg(line)

    def check(self, name: str, ok: bool, *why: str) -> bool:
        """One result; ``why`` is printed as diagnostics when it failed."""
        if not ok:
            for text in why:
                self.msg(text)
        ksft.test_result(ok, name)
        self.count += 1
        return ok

    def report(self, variable: str, what: str) -> str | None:
        """The text of the file named by environment ``variable`` (a report
        run.sh left), shown as diagnostics; None, said, if there is none."""
        path = os.environ.get(variable, "")
        if not path or not os.path.exists(path):
            self.msg(f"no {what} at {path!r} (${variable})")
            return None
        with open(path) as fh:
            text = fh.read()
        self.msg(text.strip())
        return text

    def equal(self, name: str, got: Any, want: Any,
              what: str = "drgn", truth: str = "want") -> bool:
        """``got == want``; on a mismatch the differing fields are shown."""
        if got == want:
            return self.check(name, True)
        return self.check(name, False, *differences(got, want, what, truth))


def differences(got: Any, want: Any, what: str, truth: str) -> list[str]:
    if is_dataclass(got) and not isinstance(got, type):
        got = asdict(got)
    if is_dataclass(want) and not isinstance(want, type):
        want = asdict(want)
    if isinstance(got, dict) and isinstance(want, dict):
        keys = sorted(set(got) | set(want), key=str)
        missing = "<missing>"
        return [f"{key}: {what} {got.get(key, missing)!r}, {truth} {want.get(key, missing)!r}"
                for key in keys if got.get(key) != want.get(key)]
    return [f"{what}: {got!r}", f"{truth}: {want!r}"]
