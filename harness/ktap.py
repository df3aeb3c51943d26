"""Parse KTAP (kselftest and KUnit output) into results.

Handles the version line, the plan (``1..N``, or ``1..0 # SKIP reason``
for a program that skipped everything), ``ok``/``not ok`` lines with a
``# SKIP``/``# XFAIL``/``# TODO`` directive, ``#`` diagnostics (attached to
the result that follows them), ``Bail out!`` and nested subtests.

The parser is strict, since a test program that dies half-way or prints
garbage must not pass: at every level, a missing plan, a result missing
from the plan, a result numbered above the plan, a number used twice, a
plan of 0 without a SKIP, subtests with no result line after them and
``Bail out!`` are reported as problems.  Only a block that starts with a
version line, ``# Subtest:`` or a plan nests; any other indented line
(a tool's own output) is a diagnostic, so it cannot swallow the results
that follow it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_RESULT = re.compile(
    r"^(not ok|ok)\s+(\d+)\s*(?:-\s*)?(.*?)\s*(?:#\s*(SKIP|TODO|XFAIL)\b\s*(.*))?$",
    re.IGNORECASE)
_PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(SKIP)\b\s*(.*))?$", re.IGNORECASE)
_VERSION = re.compile(r"^(?:KTAP|TAP) version \d+")
_SUBTEST = re.compile(r"^#\s*Subtest:\s*(.*)$")
_BAIL_OUT = re.compile(r"^Bail out!\s*(.*)$")


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
    skip_all: str | None = None  # the reason of a "1..0 # SKIP reason" plan
    trailing: list[str] = field(default_factory=list)  # diagnostics after the last result

    @property
    def whole_skip(self) -> bool:
        """The output is exactly a skip of everything: ``1..0 # SKIP reason``
        and no result (what kselftest's ktap_skip_all prints)."""
        return self.skip_all is not None and not self.results and not self.problems

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
    expanded = line.expandtabs(8)
    return len(expanded) - len(expanded.lstrip(" "))


def _starts_block(line: str) -> bool:
    return bool(_VERSION.match(line) or _SUBTEST.match(line) or _PLAN.match(line))


@dataclass
class _Level:
    """What one nesting level of the output held."""

    results: list[KtapResult] = field(default_factory=list)
    plan: int | None = None
    skip_all: str | None = None
    problems: list[str] = field(default_factory=list)
    trailing: list[str] = field(default_factory=list)
    name: str = ""  # from "# Subtest: name"


def parse(text: str) -> KtapReport:
    lines = [line.rstrip("\r\n") for line in text.splitlines()]
    level, _ = _parse_level(lines, 0, 0)
    problems = level.problems
    if level.plan is None and not level.results:
        problems = ["no KTAP output (no plan and no results)"] + problems
    else:
        problems = _plan_problems(level, "") + problems
    return KtapReport(results=level.results, plan=level.plan, problems=problems,
                      skip_all=level.skip_all, trailing=level.trailing)


def _plan_problems(level: _Level, where: str) -> list[str]:
    """What is wrong with one level's plan and numbering."""
    pre = f"{where}: " if where else ""
    problems: list[str] = []
    numbers = [r.number for r in level.results]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        problems.append(f"{pre}result number(s) used more than once: "
                        f"{', '.join(map(str, duplicates))}")
    if level.plan is None:
        problems.append(f"{pre}no plan (1..N) for {len(numbers)} result(s)")
        return problems
    if level.plan == 0:
        if level.skip_all is None:
            problems.append(f"{pre}a plan of 0 tests without a SKIP reason")
        if numbers:
            problems.append(f"{pre}a plan of 0 tests, but {len(numbers)} result(s)")
        return problems
    above = sorted({n for n in numbers if n > level.plan or n < 1})
    if above:
        problems.append(f"{pre}result number(s) outside the plan 1..{level.plan}: "
                        f"{', '.join(map(str, above))}")
    present = set(numbers)
    missing = [n for n in range(1, level.plan + 1) if n not in present]
    if missing:
        problems.append(f"{pre}planned {level.plan} results, missing {len(missing)}: "
                        f"{', '.join(map(str, missing[:20]))}")
    return problems


def _parse_level(lines: list[str], start: int, indent: int) -> tuple[_Level, int]:
    level = _Level()
    pending_diag: list[str] = []
    pending_subtests: list[KtapResult] = []
    pending_name = ""
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
            if not _starts_block(line):
                pending_diag.append(line[1:].strip() if line.startswith("#") else line)
                i += 1
                continue
            # A nested block: the subtests of the result that follows it.
            if pending_subtests:
                level.problems.append(f"subtests of '{pending_name or '?'}' have no "
                                      "result line")
            sub, i = _parse_level(lines, i, ind)
            pending_subtests, pending_name = sub.results, sub.name
            label = sub.name or f"subtest block before result {len(level.results) + 1}"
            level.problems += _plan_problems(sub, label)
            level.problems += [f"{label}: {p}" for p in sub.problems]
            continue
        if _VERSION.match(line):
            i += 1
            continue
        m = _SUBTEST.match(line)
        if m:
            level.name = level.name or m.group(1).strip()
            i += 1
            continue
        m = _BAIL_OUT.match(line)
        if m:
            level.problems.append(f"Bail out!{' ' + m.group(1) if m.group(1) else ''}")
            i += 1
            continue
        m = _PLAN.match(line)
        if m:
            if level.plan is not None:
                level.problems.append(f"a second plan: {line}")
            level.plan = int(m.group(1))
            if m.group(2):
                level.skip_all = (m.group(3) or "").strip()
            i += 1
            continue
        m = _RESULT.match(line)
        if m:
            status, number, name, directive, reason = m.groups()
            result = KtapResult(
                number=int(number), name=name.strip(), ok=status.lower() == "ok",
                directive=(directive or "").upper(), reason=(reason or "").strip(),
                diagnostics=pending_diag, subtests=pending_subtests)
            level.results.append(result)
            pending_diag, pending_subtests, pending_name = [], [], ""
            i += 1
            continue
        pending_diag.append(line[1:].strip() if line.startswith("#") else line)
        i += 1
    if pending_subtests:
        level.problems.append(f"subtests of '{pending_name or '?'}' have no result line")
    level.trailing = pending_diag
    return level, i
