"""Run the guest selftests (selftests/<area>/run.sh) in one guest.

Every area runs in the same boot, one after the other, each with its own
time limit (``timeout=`` in ``selftests/<area>/settings``, as kselftest
has it); each writes its KTAP output and exit status to the shared
directory, where the host parses them, and its output goes to the console
as it comes, so that the host shows live which area and test runs.  One
boot for the whole suite keeps a TCG test run short.

The verdict of an area is strict: exit 4 (skip) counts only for a whole
area that printed ``1..0 # SKIP reason`` and nothing else, and in the
project's own runs (strict, the default) any skip fails unless
harness/expected_skips.py lists it with a reason.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from harness import ktap
from harness.expected_skips import EXPECTED_SKIPS
from harness.guest_output import SuiteProgress
from harness.kbuild import selftest_areas
from harness.layout import Layout
from harness.vm import BOOT_SECONDS_TCG, GuestRun, make_disk, read_status, run_in_guest, \
    timeout_scale

DEFAULT_AREA_TIMEOUT = 300  # seconds under TCG, for an area without a settings file
# Every area's limit added up, plus the boot: the most the suite guest may
# take.  CI has 90 minutes for a cold build (about 20), the other VM tests
# (about 10 at most) and this guest: 74 minutes of limits (59 before the
# liburing area's 15) overrun CI's time only if nearly every area hangs to
# its limit.  On a quiet machine the suite takes a third of its limits, so
# one area that hangs to its limit still leaves CI well inside its time.
SUITE_BUDGET = 4500
SKIP_STATUS = 4
TIMEOUT_STATUSES = (124, 137)  # timeout(1): limit reached, killed after -k
_SETTING = re.compile(r"^\s*(\w+)\s*=\s*(\S+)\s*$")


def area_timeout(area_dir: Path) -> int:
    """The area's time limit in seconds: ``timeout=N`` in its settings file."""
    settings = area_dir / "settings"
    if not settings.is_file():
        return DEFAULT_AREA_TIMEOUT
    for line in settings.read_text().splitlines():
        m = _SETTING.match(line)
        if m and m.group(1) == "timeout":
            return int(m.group(2))
    return DEFAULT_AREA_TIMEOUT


@dataclass
class AreaResult:
    area: str
    status: int | None  # None: the area did not finish (guest died or timeout)
    report: ktap.KtapReport
    raw: str
    timeout: int = DEFAULT_AREA_TIMEOUT


@dataclass
class SuiteRun:
    guest: GuestRun
    areas: dict[str, AreaResult]


@dataclass(frozen=True)
class AreaVerdict:
    outcome: str  # "pass", "fail" or "skip" (an expected skip of the whole area)
    problems: list[str] = field(default_factory=list)
    skip_reason: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome == "fail"


def guest_driver(layout: Layout, areas: dict[str, int], shared: str) -> str:
    """Shell run in the guest: each area's run.sh, its output teed to the
    console and captured, its status written atomically (tmp + rename)."""
    lines = ["set -u"]
    for area, limit in areas.items():
        out = layout.selftests_out / area
        run = layout.selftests_dir / area / "run.sh"
        ktap_file = f"{shared}/{area}.ktap"
        status = f"{shared}/{area}.status"
        lines.append(
            f"echo '[suite] {area} start'; "
            f"{{ OUTPUT={shlex.quote(str(out))} KSRC={shlex.quote(str(layout.tree))} "
            f"HARNESS_TIMEOUT_SCALE={timeout_scale():g} "
            f"timeout -k 10 {limit} bash {shlex.quote(str(run))} 2>&1; "
            f"echo $? > {status}.tmp; }} | tee {ktap_file}; "
            f"mv {status}.tmp {status}; "
            f"echo \"[suite] {area} done status $(cat {status})\"")
    return "\n".join(lines)


def area_limits(layout: Layout, names: list[str]) -> dict[str, int]:
    """Each area's limit in the guest, scaled like every other timeout."""
    return {name: int(area_timeout(layout.selftests_dir / name) * timeout_scale())
            for name in names}


def run_suite(layout: Layout, areas: list[str] | None = None, *, disk_mb: int = 512,
              strict: bool = True) -> SuiteRun:
    names = areas or [p.name for p in selftest_areas(layout)]
    limits = area_limits(layout, names)
    disk = make_disk(layout.build_dir / "disks/suite.img", disk_mb)
    command = guest_driver(layout, limits, "$HARNESS_SHARED")
    # the guest's own timeouts are already scaled; run_in_guest scales its own
    total = sum(limits.values()) / timeout_scale() + 15 * len(names)
    guest = run_in_guest(layout, command, name="suite", disks=[disk], timeout=total,
                         env={"TEST_DISK": "/dev/vda"}, on_output=SuiteProgress(names),
                         strict=strict)
    results: dict[str, AreaResult] = {}
    for name in names:
        ktap_path = guest.shared_dir / f"{name}.ktap"
        raw = ktap_path.read_text(errors="replace") if ktap_path.exists() else ""
        status = read_status(guest.shared_dir / f"{name}.status")
        results[name] = AreaResult(area=name, status=status, report=ktap.parse(raw), raw=raw,
                                   timeout=limits[name])
    return SuiteRun(guest=guest, areas=results)


def suite_limit(layout: Layout) -> int:
    """Unscaled seconds the whole suite guest may take: areas plus boot."""
    names = [p.name for p in selftest_areas(layout)]
    return sum(area_timeout(layout.selftests_dir / n) for n in names) + int(BOOT_SECONDS_TCG)


def area_verdict(result: AreaResult, *, strict: bool = True,
                 expected: dict[str, str] | None = None) -> AreaVerdict:
    """Whether an area passed, failed or (expectedly) skipped, and why."""
    expected = EXPECTED_SKIPS if expected is None else expected
    area, report = result.area, result.report
    if result.status is None:
        return AreaVerdict("fail", [
            f"{area}: did not finish (no valid exit status: the guest died, hung or "
            "timed out before the area ended)"])
    if result.status == SKIP_STATUS:
        if not report.whole_skip:
            return AreaVerdict("fail", [
                f"{area}: run.sh exited 4 (skip), but its output is not a whole-area skip "
                "(`1..0 # SKIP reason` and nothing else)"] + _result_problems(result, strict,
                                                                              expected))
        reason = report.skip_all or ""
        if strict and area not in expected:
            return AreaVerdict("fail", [
                f"{area}: skipped the whole area ({reason}); in the project's own runs "
                "a skip is a failure unless harness/expected_skips.py lists it"])
        return AreaVerdict("skip", [], reason)
    problems: list[str] = []
    if result.status in TIMEOUT_STATUSES:
        problems.append(f"{area}: timed out after its limit of {result.timeout} s "
                        f"(timeout=N in selftests/{area}/settings)")
    elif result.status != 0:
        problems.append(f"{area}: run.sh exited with {result.status}")
    if report.whole_skip:
        problems.append(f"{area}: skipped everything ({report.skip_all}) but exited "
                        f"{result.status}, not 4")
    problems += _result_problems(result, strict, expected)
    return AreaVerdict("fail" if problems else "pass", problems)


def _result_problems(result: AreaResult, strict: bool,
                     expected: dict[str, str]) -> list[str]:
    area = result.area
    problems = [f"{area}: {p}" for p in result.report.problems]
    for path, res in result.report.flat():
        if res.failed:
            problems.append(f"{area}/{path}:\n{res.detail()}")
        elif res.skipped and strict and f"{area}/{path}" not in expected:
            problems.append(f"{area}/{path}: skipped ({res.reason or 'no reason given'}); "
                            "in the project's own runs a skip is a failure unless "
                            "harness/expected_skips.py lists it")
    return problems


def area_failures(result: AreaResult, *, strict: bool = True) -> list[str]:
    """Why an area failed, one entry per problem; empty if it passed or skipped."""
    return area_verdict(result, strict=strict).problems


def summary_lines(run: SuiteRun, *, strict: bool = True) -> list[str]:
    lines = []
    for name, res in run.areas.items():
        flat = res.report.flat()
        passed = sum(1 for _, r in flat if r.passed and not r.subtests)
        failed = sum(1 for _, r in flat if r.failed)
        skipped = sum(1 for _, r in flat if r.skipped)
        verdict = area_verdict(res, strict=strict).outcome.upper()
        lines.append(f"{verdict:4}  {name:20} pass {passed:3}  fail {failed:3}  skip {skipped:3}")
    return lines
