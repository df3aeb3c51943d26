"""Parse KTAP (kselftest and KUnit output) into results.

Handles the version line, the plan, ``ok``/``not ok`` lines with a
``# SKIP``/``# XFAIL``/``# TODO`` directive, ``#`` diagnostics (attached to
the result that follows them) and indented subtests.  A result missing from
the plan is reported as a failure, so a test program that dies half-way
cannot pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_RESULT = re.compile(
    r"^(not ok|ok)\s+(\d+)\s*(?:-\s*)?(.*?)\s*(?:#\s*(SKIP|TODO|XFAIL)\b\s*(.*))?$",
    re.IGNORECASE)
_PLAN = re.compile(r"^1\.\.(\d+)")
_VERSION = re.compile(r"^(?:KTAP|TAP) version \d+")


@dataclass
class KtapResult:
    number: int
    name: str
    ok: bool
    directive: str = ""  # SKIP, TODO, XFAIL or ""
    reason: str = ""
    diagnostics: list[str] = field(default_factory=list)
    subtests: list["KtapResult"] = field(default_factory=list)

    @property
    def skipped(self) -> bool:
        return self.directive == "SKIP"

    @property
    def passed(self) -> bool:
        """Passed or an expected failure; a skip is neither pass nor fail."""
        return (self.ok and not self.skipped) or self.directive in ("XFAIL", "TODO")

    @property
    def failed(self) -> bool:
        return not self.ok and self.directive not in ("XFAIL", "TODO", "SKIP")

    def detail(self) -> str:
        lines = [f"{'ok' if self.ok else 'not ok'} {self.number} {self.name}"
                 + (f" # {self.directive} {self.reason}".rstrip() if self.directive else "")]
        lines += [f"  # {d}" for d in self.diagnostics]
        for sub in self.subtests:
            if sub.failed:
                lines += ["  " + line for line in sub.detail().splitlines()]
        return "\n".join(lines)


@dataclass
class KtapReport:
    results: list[KtapResult]
    plan: int | None
    problems: list[str]  # structural problems: missing results, no plan, ...

    def flat(self, prefix: str = "") -> list[tuple[str, KtapResult]]:
        """(path, result) for every result, subtests as 'parent/child'."""
        out: list[tuple[str, KtapResult]] = []

        def walk(results: list[KtapResult], pre: str) -> None:
            for r in results:
                path = f"{pre}{r.name or r.number}"
                out.append((path, r))
                walk(r.subtests, path + "/")

        walk(self.results, prefix)
        return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def parse(text: str) -> KtapReport:
    lines = [line.rstrip("\r\n") for line in text.splitlines()]
    results, plan, problems, _ = _parse_level(lines, 0, 0)
    if plan is None and not results:
        problems.append("no KTAP output (no plan and no results)")
    elif plan is not None:
        numbers = {r.number for r in results}
        missing = [n for n in range(1, plan + 1) if n not in numbers]
        if missing:
            problems.append(f"planned {plan} results, missing {len(missing)}: "
                            f"{', '.join(map(str, missing[:20]))}")
    return KtapReport(results=results, plan=plan, problems=problems)


def _parse_level(lines: list[str], start: int, indent: int
                 ) -> tuple[list[KtapResult], int | None, list[str], int]:
    results: list[KtapResult] = []
    plan: int | None = None
    problems: list[str] = []
    pending_diag: list[str] = []
    pending_subtests: list[KtapResult] = []
    i = start
    while i < len(lines):
        raw = lines[i]
        if not raw.strip():
            i += 1
            continue
        ind = _indent(raw)
        line = raw.strip()
        if ind < indent:
            break
        if ind > indent:
            # An indented block: subtests of the result that follows it.
            subs, _, sub_problems, i = _parse_level(lines, i, ind)
            pending_subtests.extend(subs)
            problems.extend(sub_problems)
            continue
        if _VERSION.match(line):
            i += 1
            continue
        m = _PLAN.match(line)
        if m:
            plan = int(m.group(1))
            i += 1
            continue
        m = _RESULT.match(line)
        if m:
            status, number, name, directive, reason = m.groups()
            results.append(KtapResult(
                number=int(number), name=name.strip(), ok=status.lower() == "ok",
                directive=(directive or "").upper(), reason=(reason or "").strip(),
                diagnostics=pending_diag, subtests=pending_subtests))
            pending_diag, pending_subtests = [], []
            i += 1
            continue
        if line.startswith("#"):
            pending_diag.append(line[1:].strip())
        else:
            pending_diag.append(line)
        i += 1
    return results, plan, problems, i
