"""Run the guest selftests (selftests/<area>/run.sh) in one guest.

Every area runs in the same boot, one after the other, each with its own
time limit; each writes its KTAP output and exit status to the shared
directory, where the host parses them.  One boot for the whole suite keeps a
TCG test run short.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from harness import ktap
from harness.kbuild import selftest_areas
from harness.layout import Layout
from harness.vm import GuestRun, make_disk, run_in_guest

AREA_TIMEOUT = 900  # seconds, per area, under TCG
SKIP_STATUS = 4


@dataclass
class AreaResult:
    area: str
    status: int | None  # None: the area did not finish (guest died or timeout)
    report: ktap.KtapReport
    raw: str

    @property
    def skipped(self) -> bool:
        return self.status == SKIP_STATUS


@dataclass
class SuiteRun:
    guest: GuestRun
    areas: dict[str, AreaResult]


def guest_driver(layout: Layout, areas: list[str], shared: str) -> str:
    """Shell run in the guest: each area's run.sh with its KTAP captured."""
    lines = ["set -u"]
    for area in areas:
        out = layout.selftests_out / area
        run = layout.selftests_dir / area / "run.sh"
        ktap_file = f"{shared}/{area}.ktap"
        lines.append(
            f"echo '[suite] {area}'; "
            f"OUTPUT={shlex.quote(str(out))} KSRC={shlex.quote(str(layout.tree))} "
            f"timeout -k 10 {AREA_TIMEOUT} bash {shlex.quote(str(run))} "
            f"> {ktap_file} 2>&1; echo $? > {shared}/{area}.status; "
            f"cat {ktap_file}")
    return "\n".join(lines)


def run_suite(layout: Layout, areas: list[str] | None = None, *,
              disk_mb: int = 512) -> SuiteRun:
    names = areas or [p.name for p in selftest_areas(layout)]
    disk = make_disk(layout.build_dir / "disks/suite.img", disk_mb)
    placeholder = "$HARNESS_SHARED"
    command = guest_driver(layout, names, placeholder)
    guest = run_in_guest(layout, command, name="suite", disks=[disk],
                         timeout=AREA_TIMEOUT * max(1, len(names)),
                         env={"TEST_DISK": "/dev/vda"})
    results: dict[str, AreaResult] = {}
    for name in names:
        ktap_path = guest.shared_dir / f"{name}.ktap"
        status_path = guest.shared_dir / f"{name}.status"
        raw = ktap_path.read_text(errors="replace") if ktap_path.exists() else ""
        status = int(status_path.read_text().strip()) if status_path.exists() else None
        results[name] = AreaResult(area=name, status=status, report=ktap.parse(raw), raw=raw)
    return SuiteRun(guest=guest, areas=results)


def area_failures(result: AreaResult) -> list[str]:
    """Why an area failed, one entry per problem; empty if it passed or skipped."""
    problems: list[str] = []
    if result.status is None:
        problems.append(f"{result.area}: did not finish (guest died or timed out)")
    elif result.status not in (0, SKIP_STATUS):
        problems.append(f"{result.area}: run.sh exited with {result.status}")
    if result.status == SKIP_STATUS:
        return problems
    problems += [f"{result.area}: {p}" for p in result.report.problems]
    for path, res in result.report.flat():
        if res.failed and not res.subtests:
            problems.append(f"{result.area}/{path}:\n{res.detail()}")
    return problems


def summary_lines(run: SuiteRun) -> list[str]:
    lines = []
    for name, res in run.areas.items():
        flat = res.report.flat()
        passed = sum(1 for _, r in flat if r.passed and not r.subtests)
        failed = sum(1 for _, r in flat if r.failed and not r.subtests)
        skipped = sum(1 for _, r in flat if r.skipped)
        verdict = "SKIP" if res.skipped else ("FAIL" if area_failures(res) else "PASS")
        lines.append(f"{verdict:4}  {name:20} pass {passed:3}  fail {failed:3}  skip {skipped:3}")
    return lines

