"""The demo workloads (make run): data-verify I/O under each scheduler.

The guest runs selftests/block/verify.sh, which writes one row per device and
scheduler to the shared directory; the host prints them as a table.
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
from harness.vm import GuestRun, make_disk, run_in_guest


@dataclass(frozen=True)
class VerifyRow:
    device: str
    scheduler: str
    bytes_written: int
    bytes_verified: int
    result: str


def read_verify_rows(path: Path) -> list[VerifyRow]:
    if not path.exists():
        return []
    with open(path) as fh:
        return [VerifyRow(r["device"], r["scheduler"], int(r["bytes_written"]),
                          int(r["bytes_verified"]), r["result"])
                for r in csv.DictReader(fh, delimiter="\t")]


def verify_table(rows: list[VerifyRow]) -> str:
    return format_table(
        ["device", "scheduler", "written", "read+verify", "result"],
        [[r.device, r.scheduler, f"{r.bytes_written / 2**20:.1f} MiB",
          f"{r.bytes_verified / 2**20:.1f} MiB", r.result] for r in rows])


def run_verify_workload(layout: Layout) -> tuple[GuestRun, list[VerifyRow], ktap.KtapReport]:
    disk = make_disk(layout.build_dir / "disks/demo.img", 512)
    script = layout.selftests_dir / "block/verify.sh"
    # the io_uring demo runs in the same guest, after the verify workload
    command = f"bash {script}; rc=$?; {iouring_demo_command(layout)}; exit $rc"
    guest = run_in_guest(layout, command, name="demo-verify", disks=[disk],
                         timeout=1200, env={"TEST_DISK": "/dev/vda",
                                            "KSRC": str(layout.tree)})
    rows = read_verify_rows(guest.shared_dir / "verify.tsv")
    return guest, rows, ktap.parse(guest.output)


def run_demo(layout: Layout) -> int:
    guest, rows, report = run_verify_workload(layout)
    print("\nData-verify workload (fio randrw, verify=crc32c):")
    print(verify_table(rows))
    failed = [r for r in rows if r.result != "verified"]
    iouring_ok = report_iouring_demo(guest.shared_dir)
    if not guest.ok or failed or not rows or report.problems or not iouring_ok:
        print(guest.report(), file=sys.stderr)
        for problem in report.problems:
            print(f"KTAP: {problem}", file=sys.stderr)
        return 1
    print(f"\nall {len(rows)} workloads verified")
    return 0
