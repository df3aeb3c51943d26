"""The demo workloads (make run): data-verify I/O under each scheduler.

The guest runs selftests/block/verify.sh, which writes one row per device and
scheduler to the shared directory, then selftests/ufq_iosched/demo.sh, which
attaches the ufq_simple BPF scheduler (tools/ufq_iosched), runs the same
workload under it, adds its rows and keeps the loader's output; the host
prints the rows as a table and the scheduler's statistics.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from harness import ktap
from harness.iouring_demo import iouring_demo_command, report_iouring_demo
from harness.layout import Layout
from harness.tables import format_table
from harness.vm import GuestError, GuestRun, make_disk, run_in_guest


@dataclass(frozen=True)
class VerifyRow:
    device: str
    scheduler: str
    bytes_written: int
    bytes_verified: int
    result: str


def read_verify_rows(path: Path) -> list[VerifyRow]:
    """The rows selftests/block/verify.sh wrote; a garbled file is an error
    that names it (the guest wrote it half, or the format changed)."""
    if not path.exists():
        return []
    rows = []
    with open(path, errors="replace") as fh:
        for n, r in enumerate(csv.DictReader(fh, delimiter="\t"), 2):
            try:
                rows.append(VerifyRow(r["device"], r["scheduler"], int(r["bytes_written"]),
                                      int(r["bytes_verified"]), r["result"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise GuestError(f"{path}:{n}: not a row of verify.sh's table ({exc}): "
                                 f"{dict(r)}; the guest's workload did not finish writing "
                                 "it, see the run's console.log") from exc
    return rows


def verify_table(rows: list[VerifyRow]) -> str:
    return format_table(
        ["device", "scheduler", "written", "read+verify", "result"],
        [[r.device, r.scheduler, f"{r.bytes_written / 2**20:.1f} MiB",
          f"{r.bytes_verified / 2**20:.1f} MiB", r.result] for r in rows])


UFQ_DEMO_KTAP = "ufq_demo.ktap"
UFQ_DEMO_LOG = "ufq_simple.log"
# The loader's final counters shown by the demo, in this order
UFQ_DEMO_STATS = ["inserted", "dispatched", "dispatched_direct", "inserted_reads",
                  "inserted_writes", "bio_back_merges", "bio_front_merges",
                  "rq_merges", "writes_forced", "sweeps", "refused"]


@dataclass
class DemoRun:
    guest: GuestRun
    rows: list[VerifyRow]
    reports: dict[str, ktap.KtapReport]
    loader_log: str


def loader_final_stats(log: str) -> dict[str, int]:
    """The ``name value`` lines a tools/ufq_iosched loader prints at exit."""
    stats: dict[str, int] = {}
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.endswith(": final stats"):
            stats = {}
            for stat in lines[i + 1:]:
                name, _, value = stat.partition(" ")
                if not value.isdigit():
                    break
                stats[name] = int(value)
    return stats


def loader_exit_line(log: str) -> str | None:
    """The loader's report of why the scheduler exited, if it printed one."""
    return next((line for line in log.splitlines() if ": exit kind=" in line), None)


def ufq_stats_table(stats: dict[str, int]) -> str:
    return format_table(["ufq_simple counter", "value"],
                        [[name, str(stats[name])] for name in UFQ_DEMO_STATS
                         if name in stats])


def run_verify_workload(layout: Layout) -> DemoRun:
    disk = make_disk(layout.build_dir / "disks/demo.img", 512)
    verify = layout.selftests_dir / "block/verify.sh"
    ufq_demo = layout.selftests_dir / "ufq_iosched/demo.sh"
    # the UFQ and io_uring demos run in the same guest, after the verify workload
    command = (f"bash {verify}; v=$?; "
               f"bash {ufq_demo} > $HARNESS_SHARED/{UFQ_DEMO_KTAP} 2>&1; u=$?; "
               f"{iouring_demo_command(layout)}; "
               "exit $((v | u))")
    guest = run_in_guest(layout, command, name="demo-verify", disks=[disk],
                         timeout=1500, env={"TEST_DISK": "/dev/vda",
                                            "KSRC": str(layout.tree)})
    shared = guest.shared_dir
    rows = read_verify_rows(shared / "verify.tsv")
    demo_ktap = shared / UFQ_DEMO_KTAP
    reports = {"block/verify.sh": ktap.parse(guest.output),
               "ufq_iosched/demo.sh": ktap.parse(
                   demo_ktap.read_text(errors="replace") if demo_ktap.exists() else "")}
    log_path = shared / UFQ_DEMO_LOG
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    return DemoRun(guest=guest, rows=rows, reports=reports, loader_log=log)


def run_demo(layout: Layout) -> int:
    demo = run_verify_workload(layout)
    print("\nData-verify workload (fio randrw, verify=crc32c):")
    print(verify_table(demo.rows))
    stats = loader_final_stats(demo.loader_log)
    exit_line = loader_exit_line(demo.loader_log)
    if stats:
        print("\nufq_simple (BPF scheduler, tools/ufq_iosched) over its workloads:")
        print(ufq_stats_table(stats))
    if exit_line:
        print(exit_line)
    problems = [f"{name}: {p}" for name, report in demo.reports.items()
                for p in report.problems]
    problems += [f"{name}: {path} failed" for name, report in demo.reports.items()
                 for path, res in report.flat() if res.failed]
    if not stats:
        problems.append(f"no final statistics from ufq_simple in {UFQ_DEMO_LOG}")
    iouring_ok = report_iouring_demo(demo.guest.shared_dir)
    failed = [r for r in demo.rows if r.result != "verified"]
    if not demo.guest.ok or failed or not demo.rows or problems or not iouring_ok:
        print(demo.guest.report(), file=sys.stderr)
        for problem in problems:
            print(f"KTAP: {problem}", file=sys.stderr)
        if demo.loader_log:
            print(f"ufq_simple loader output:\n{demo.loader_log}", file=sys.stderr)
        return 1
    print(f"\nall {len(demo.rows)} workloads verified")
    return 0
