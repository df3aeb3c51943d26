"""The ublk benchmark (``python -m harness bench ublk``, selftests/bench/ublk.sh).

selftests/ublk's server against the kernel's own drivers on the same
backing: the loop target and the loop driver (``losetup --direct-io=on``)
on one tmpfs file, 512k random writes at QD 16 (seed 001's job) and 4k
random reads at QD 32; the null target and null_blk, 4k random reads at QD
32.  In each case the variants are ``kernel`` (the baseline) and ``ublk``,
in alternating pairs as every fio benchmark (harness.bench).  The rows are
harness.bench's (IOPS, guest CPU per I/O, their ratios with spreads); the
notes add what these figures are for, the baseline ublk-bpf must beat:
throughput, p50 and p99 completion latency of the side that did I/O, the
guest's CPU time per GiB and the ublk server's own (utime + stime of its
threads over the run) per GiB.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.bench import (
    USER_HZ, Benchmark, BenchRow, CheckResult, FioRun, _median, case_dirs, case_group,
    check_fio_cases, read_fio_case, reduce_fio_cases, register)

SUBDIR = "ublk"
UBLK_VARIANT = "ublk"
GIB = 2**30


def reduce_ublk(shared: Path) -> list[BenchRow]:
    return reduce_fio_cases(shared, SUBDIR)


@dataclass(frozen=True)
class UblkRun:
    """One run with what the framework's FioRun does not keep."""

    run: FioRun
    bytes: int  # read plus written
    bw_mib: float  # MiB/s, read plus write
    p50_us: float | None  # completion latency of the side that did I/O
    p99_us: float | None

    @property
    def server_ticks(self) -> float | None:
        pre, post = (s.number("server", "ticks") for s in (self.run.pre, self.run.post))
        return None if pre is None or post is None else post - pre

    @property
    def server_s_per_gib(self) -> float | None:
        ticks = self.server_ticks
        return ticks / USER_HZ / (self.bytes / GIB) if ticks is not None and self.bytes else None

    @property
    def guest_s_per_gib(self) -> float | None:
        busy = self.run.busy_ns
        return busy / 1e9 / (self.bytes / GIB) if busy is not None and self.bytes else None


def _side(job: dict[str, Any]) -> dict[str, Any]:
    """The side (read or write) that did the job's I/O."""
    return max((job.get(s, {}) for s in ("read", "write")),
               key=lambda side: int(side.get("io_bytes", 0)))


def _percentile_us(side: dict[str, Any], pct: str) -> float | None:
    value = side.get("clat_ns", {}).get("percentile", {}).get(pct)
    return value / 1000.0 if value is not None else None


def read_ublk_case(case_dir: Path) -> list[UblkRun]:
    runs = read_fio_case(case_dir)
    if not runs:
        return []
    jobs = json.loads((case_dir / "fio.json").read_text())["jobs"]
    out = []
    for run in runs:
        job = jobs[run.index]
        side = _side(job)
        total = sum(int(job.get(s, {}).get("io_bytes", 0)) for s in ("read", "write"))
        bw = sum(float(job.get(s, {}).get("bw_bytes", 0)) for s in ("read", "write"))
        out.append(UblkRun(run=run, bytes=total, bw_mib=bw / 2**20,
                           p50_us=_percentile_us(side, "50.000000"),
                           p99_us=_percentile_us(side, "99.000000")))
    return out


def _med(values: list[float | None], fmt: str) -> str:
    got = [v for v in values if v is not None]
    return fmt.format(_median(got)) if got and len(got) == len(values) else "-"


def figures_table(shared: Path) -> str:
    """Markdown: per case and variant the medians over the pairs."""
    lines = ["| case | variant | MiB/s | IOPS | p50 | p99 | guest CPU/GiB | server CPU/GiB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for case in case_dirs(shared, SUBDIR):
        by_variant: dict[str, list[UblkRun]] = {}
        for r in read_ublk_case(case):
            by_variant.setdefault(r.run.variant, []).append(r)
        for variant, runs in sorted(by_variant.items()):
            server = (_med([r.server_s_per_gib for r in runs], "{:.2f} s")
                      if variant == UBLK_VARIANT else "-")
            lines.append(
                f"| {case_group(case)} | {variant} | {_med([r.bw_mib for r in runs], '{:,.1f}')}"
                f" | {_med([r.run.iops for r in runs], '{:,.0f}')}"
                f" | {_med([r.p50_us for r in runs], '{:,.0f} us')}"
                f" | {_med([r.p99_us for r in runs], '{:,.0f} us')}"
                f" | {_med([r.guest_s_per_gib for r in runs], '{:.2f} s')} | {server} |")
    return "\n".join(lines)


def check_ublk(shared: Path) -> CheckResult:
    """harness.bench's checks of fio cases, and: every ublk run has the
    server's threads (the main one and the queue's) in both snapshots and
    the server used CPU in it, no kernel run has them; the figures table
    as a note."""
    result = check_fio_cases(shared, SUBDIR)
    for case in case_dirs(shared, SUBDIR):
        for r in read_ublk_case(case):
            where = f"{case_group(case)} {r.run.variant} pair {r.run.pair}"
            threads = [s.number("server", "threads") for s in (r.run.pre, r.run.post)]
            if r.run.variant == UBLK_VARIANT:
                if any(t is None or t < 2 for t in threads):
                    result.problems.append(f"{where}: the server's threads not in the"
                                           f" snapshots ({threads})")
                elif not r.server_ticks:
                    result.problems.append(f"{where}: the server used no CPU time")
            elif any(t is not None for t in threads):
                result.problems.append(f"{where}: a server snapshot in a kernel run")
    if not result.problems:
        result.notes.append("Medians over the pairs (p50/p99: completion latency of the"
                            " side that did I/O; CPU/GiB: seconds per GiB read or"
                            " written):\n\n" + figures_table(shared))
    return result


UBLK_BENCHMARK = Benchmark(
    name="ublk",
    description="selftests/ublk's server against the kernel's drivers: loop target and"
                " losetup --direct-io=on on one tmpfs file (512k randwrite QD 16, 4k"
                " randread QD 32), null target and null_blk (4k randread QD 32);"
                " 5 alternating pairs of 1 s runs",
    script="bench/ublk.sh", baseline="kernel", reduce=reduce_ublk, check=check_ublk,
    timeout=2400)
register(UBLK_BENCHMARK)
