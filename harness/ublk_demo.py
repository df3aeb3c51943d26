"""The ublk part of the demo (make run).

selftests/ublk/demo.sh runs in the demo's guest after the verify workload:
it adds a ublk loop device and a stripe device (selftests/ublk's server),
each served by the server and then wholly in BPF (ublk-bpf with bpf aio),
runs the data-verify workload on each and measures the server's CPU time
(utime + stime of its threads) over the run, leaving a row per device in
<shared>/ublk_demo.tsv and its KTAP in <shared>/ublk_demo.ktap.  This module
names that command and prints the rows with the CPU time per GiB moved, and
for each target the server's CPU with BPF against without.
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
DEVICES = ("loop", "stripe", "loop_bpf", "stripe_bpf")


def ublk_demo_command(layout: Layout) -> str:
    """The guest command of the ublk demo, its KTAP in the shared directory."""
    script = shlex.quote(str(layout.selftests_dir / "ublk/demo.sh"))
    return f"bash {script} > $HARNESS_SHARED/{DEMO_KTAP} 2>&1"


@dataclass(frozen=True)
class UblkDemoRow:
    device: str
    target: str
    bpf: str  # the BPF program of --bpf, or "-"
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
        r["device"], r["target"], r["bpf"], int(r["files"]), int(r["bytes_written"]),
        int(r["bytes_read"]), int(r["server_cpu_ms"])), "selftests/ublk/demo.sh's table")


def rows_table(rows: list[UblkDemoRow]) -> str:
    return format_table(
        ["device", "BPF", "files", "written", "read+verify", "server CPU", "CPU per GiB"],
        [[f"ublk {r.target}", r.bpf, str(r.files), f"{r.bytes_written / 2**20:.1f} MiB",
          f"{r.bytes_read / 2**20:.1f} MiB", f"{r.server_cpu_ms} ms",
          f"{r.cpu_ms_per_gib / 1000:.2f} s"] for r in rows])


def bpf_comparison(rows: list[UblkDemoRow]) -> list[str]:
    """For each target with a row served by the server and one in BPF: the
    server's CPU per GiB with BPF against without (one run each: the demo's
    figure, not a benchmark)."""
    server = {r.target: r for r in rows if r.bpf == "-"}
    lines = []
    for r in rows:
        base = server.get(r.target)
        if r.bpf == "-" or base is None or not base.cpu_ms_per_gib:
            continue
        lines.append(f"ublk {r.target}: server CPU per GiB {base.cpu_ms_per_gib / 1000:.2f} s"
                     f" served by the server, {r.cpu_ms_per_gib / 1000:.2f} s in BPF"
                     f" ({r.cpu_ms_per_gib / base.cpu_ms_per_gib:.2f}x)")
    return lines


def report_ublk_demo(shared: Path) -> bool:
    """Print the ublk demo's rows; True if both devices verified and their KTAP passed."""
    rows = read_rows(shared / DEMO_TSV)
    print("\nublk server (selftests/ublk): the data-verify workload on a loop and a"
          " stripe device, served by the server and wholly in BPF, the server's CPU"
          " time (utime + stime of its threads) per GiB written and read:")
    print(rows_table(rows) if rows else f"no result (see {DEMO_KTAP} in the run directory)")
    for line in bpf_comparison(rows):
        print(line)
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
