"""The ublk part of the demo (make run).

selftests/ublk/demo.sh runs in the demo's guest after the verify workload:
it adds a ublk loop device and a stripe device (selftests/ublk's server),
runs the data-verify workload on each and measures the server's CPU time
(utime + stime of its threads) over the run, leaving a row per device in
<shared>/ublk_demo.tsv and its KTAP in <shared>/ublk_demo.ktap.  This module
names that command and prints the rows with the CPU time per GiB moved.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from harness import ktap
from harness.layout import Layout
from harness.tables import format_table, read_tsv_rows

DEMO_TSV = "ublk_demo.tsv"
DEMO_KTAP = "ublk_demo.ktap"
DEVICES = ("loop", "stripe")


def ublk_demo_command(layout: Layout) -> str:
    """The guest command of the ublk demo, its KTAP in the shared directory."""
    script = shlex.quote(str(layout.selftests_dir / "ublk/demo.sh"))
    return f"bash {script} > $HARNESS_SHARED/{DEMO_KTAP} 2>&1"


@dataclass(frozen=True)
class UblkDemoRow:
    device: str
    target: str
    files: int
    bytes_written: int
    bytes_read: int
    server_cpu_ms: int

    @property
    def moved(self) -> int:
        return self.bytes_written + self.bytes_read

    @property
    def cpu_ms_per_gib(self) -> float:
        return self.server_cpu_ms / (self.moved / 2**30) if self.moved else 0.0


def read_rows(path: Path) -> list[UblkDemoRow]:
    """The rows demo.sh wrote (harness.tables.read_tsv_rows)."""
    return read_tsv_rows(path, lambda r: UblkDemoRow(
        r["device"], r["target"], int(r["files"]), int(r["bytes_written"]),
        int(r["bytes_read"]), int(r["server_cpu_ms"])), "selftests/ublk/demo.sh's table")


def rows_table(rows: list[UblkDemoRow]) -> str:
    return format_table(
        ["device", "files", "written", "read+verify", "server CPU", "CPU per GiB"],
        [[f"ublk {r.target}", str(r.files), f"{r.bytes_written / 2**20:.1f} MiB",
          f"{r.bytes_read / 2**20:.1f} MiB", f"{r.server_cpu_ms} ms",
          f"{r.cpu_ms_per_gib / 1000:.2f} s"] for r in rows])


def report_ublk_demo(shared: Path) -> bool:
    """Print the ublk demo's rows; True if both devices verified and their KTAP passed."""
    rows = read_rows(shared / DEMO_TSV)
    print("\nublk server (selftests/ublk): the data-verify workload on a loop and a"
          " stripe device, the server's CPU time (utime + stime of its threads)"
          " per GiB written and read:")
    print(rows_table(rows) if rows else f"no result (see {DEMO_KTAP} in the run directory)")
    path = shared / DEMO_KTAP
    report = ktap.parse(path.read_text(errors="replace") if path.exists() else "")
    problems = list(report.problems)
    problems += [f"{p} failed" for p, res in report.flat() if res.failed]
    problems += [f"no row for the {d} device" for d in DEVICES
                 if d not in {r.device for r in rows}]
    for problem in problems:
        print(f"ublk demo: {problem}")
    if problems and path.exists():
        print(f"{DEMO_KTAP}:\n{path.read_text(errors='replace')}")
    return not problems
