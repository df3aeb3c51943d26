"""The ublk benchmark (``python -m harness bench ublk``, selftests/bench/ublk.sh).

selftests/ublk's server against the kernel's own drivers on the same
backing, and the same targets with their I/O in BPF (ublk-bpf): the loop
target and the loop driver (``losetup --direct-io=on``) on one tmpfs file,
512k random writes at QD 16 (seed 001's job), 4k random reads at QD 32 and
QD 1; the null target and null_blk, 4k random reads at QD 32 and QD 1; the
stripe and concat targets on two tmpfs files, 4k random reads at QD 1.  The
variants are ``kernel`` (the baseline, where the kernel has the driver),
``ublk`` (the server) and ``ublk_bpf`` (the server with ``--bpf TARGET``),
in alternating pairs as every fio benchmark (harness.bench).  The rows are
harness.bench's (IOPS, guest CPU per I/O, their ratios with spreads); the
notes add throughput, p50 and p99 completion latency of the side that did
I/O, the guest's CPU time per GiB and the ublk server's own (utime + stime
of its threads over the run) per GiB.

Goals (issue 13, from seed 001 and the RFC): on the loop 512k writes the
server's CPU per GiB with BPF at most 1/5 of without, at no less
throughput; on the null 4k reads at QD 32 at least 1.8 times the IOPS.  A
ublk_bpf run counts only if BPF served it: ops attached before and after,
``handled`` grew by at least the I/Os fio did, nothing redirected to the
server, no BPF errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.bench import (
    USER_HZ, Benchmark, BenchRow, CheckResult, FioRun, Goal, Spread, Verdict, _median,
    case_dirs, case_group, check_fio_cases, pair_ratios, read_fio_case, reduce_fio_cases,
    register)

SUBDIR = "ublk"
UBLK_VARIANT = "ublk"
BPF_VARIANT = "ublk_bpf"
SERVER_VARIANTS = (UBLK_VARIANT, BPF_VARIANT)
GIB = 2**30
# the server's CPU per GiB with BPF over without, at most (seed 001: 9.3-10% -> 1.3-1.7%)
SERVER_CPU_GROUP = "loop 512k randwrite qd16"
SERVER_CPU_MAX_RATIO = 0.2


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

    def bpf_delta(self, counter: str) -> float | None:
        """How much a ublk_bpf run's device counter grew over the run."""
        pre, post = (s.number("ublk_bpf", counter) for s in (self.run.pre, self.run.post))
        return None if pre is None or post is None else post - pre


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
                      if variant in SERVER_VARIANTS else "-")
            lines.append(
                f"| {case_group(case)} | {variant} | {_med([r.bw_mib for r in runs], '{:,.1f}')}"
                f" | {_med([r.run.iops for r in runs], '{:,.0f}')}"
                f" | {_med([r.p50_us for r in runs], '{:,.0f} us')}"
                f" | {_med([r.p99_us for r in runs], '{:,.0f} us')}"
                f" | {_med([r.guest_s_per_gib for r in runs], '{:.2f} s')} | {server} |")
    return "\n".join(lines)


def bpf_run_problems(where: str, r: UblkRun) -> list[str]:
    """Whether BPF served a ublk_bpf run: ops attached before and after it,
    ``handled`` grew by at least the I/Os fio completed (a few more may be
    the page cache's or udev's), none redirected, no BPF error."""
    problems = []
    for snap, when in ((r.run.pre, "before"), (r.run.post, "after")):
        attached = snap.values("ublk_bpf").get("attached")
        if attached != "1":
            problems.append(f"{where}: BPF ops not attached {when} the run"
                            f" (attached {attached or 'missing'})")
    handled, redirected, errors = (r.bpf_delta(c) for c in ("handled", "redirected", "errors"))
    if handled is None or redirected is None or errors is None:
        problems.append(f"{where}: the device's BPF counters could not be read")
        return problems
    if handled < r.run.ios:
        problems.append(f"{where}: BPF handled {handled:.0f} I/Os, fewer than the"
                        f" {r.run.ios} fio completed")
    if redirected:
        problems.append(f"{where}: BPF redirected {redirected:.0f} I/Os to the server")
    if errors:
        problems.append(f"{where}: {errors:.0f} BPF errors")
    return problems


def server_cpu_verdict(runs: list[UblkRun], group: str = SERVER_CPU_GROUP,
                       max_ratio: float = SERVER_CPU_MAX_RATIO) -> Verdict:
    """The server's CPU per GiB with BPF over without, pair by pair, over
    ``runs`` (those of ``group``): met when every pair is at most
    ``max_ratio``; not measured when a run lacks the figure."""
    goal = f"{BPF_VARIANT} / {UBLK_VARIANT} server CPU per GiB <= {max_ratio:.2f}"
    per_pair: dict[str, list[float]] = {}
    for variant in SERVER_VARIANTS:
        values = [r.server_s_per_gib for r in sorted(runs, key=lambda r: r.run.pair)
                  if r.run.variant == variant]
        per_pair[variant] = [v for v in values if v is not None]
        if len(per_pair[variant]) < len(values):
            per_pair[variant] = []
    ratios = pair_ratios(per_pair[BPF_VARIANT], per_pair[UBLK_VARIANT])
    if not ratios:
        return Verdict(goal, group, False, None)
    return Verdict(goal, group, max(ratios) <= max_ratio, Spread.of(ratios), tuple(ratios))


def check_ublk(shared: Path) -> CheckResult:
    """harness.bench's checks of fio cases, and: every ublk and ublk_bpf
    run has the server's threads (the main one and the queue's) in both
    snapshots, the server used CPU in every ublk run, no kernel run has
    them; BPF served every ublk_bpf run; the server CPU goal; the figures
    table as a note."""
    result = check_fio_cases(shared, SUBDIR)
    server_cpu_runs: list[UblkRun] | None = None
    for case in case_dirs(shared, SUBDIR):
        runs = read_ublk_case(case)
        if case_group(case) == SERVER_CPU_GROUP:
            server_cpu_runs = (server_cpu_runs or []) + runs
        for r in runs:
            where = f"{case_group(case)} {r.run.variant} pair {r.run.pair}"
            threads = [s.number("server", "threads") for s in (r.run.pre, r.run.post)]
            if r.run.variant in SERVER_VARIANTS:
                if any(t is None or t < 2 for t in threads):
                    result.problems.append(f"{where}: the server's threads not in the"
                                           f" snapshots ({threads})")
                elif r.run.variant == UBLK_VARIANT and not r.server_ticks:
                    result.problems.append(f"{where}: the server used no CPU time")
                if r.run.variant == BPF_VARIANT:
                    result.problems += bpf_run_problems(where, r)
            elif any(t is not None for t in threads):
                result.problems.append(f"{where}: a server snapshot in a kernel run")
    if server_cpu_runs is not None:
        result.verdicts.append(server_cpu_verdict(server_cpu_runs))
    if not result.problems:
        result.notes.append("Medians over the pairs (p50/p99: completion latency of the"
                            " side that did I/O; CPU/GiB: seconds per GiB read or"
                            " written):\n\n" + figures_table(shared))
    return result


UBLK_BENCHMARK = Benchmark(
    name="ublk",
    description="selftests/ublk's server, without and with its I/O in BPF (--bpf), against"
                " the kernel's drivers: loop target and losetup --direct-io=on on one tmpfs"
                " file (512k randwrite QD 16, 4k randread QD 32 and 1), null target and"
                " null_blk (4k randread QD 32 and 1), stripe and concat targets on two tmpfs"
                " files (4k randread QD 1); 5 alternating pairs of 1 s runs",
    script="bench/ublk.sh", baseline="kernel", reduce=reduce_ublk, check=check_ublk,
    # the kernel has no stripe or concat driver of its own here: the server is their baseline
    group_baselines=((r"^(stripe|concat) ", UBLK_VARIANT),),
    goals=(Goal(variant=BPF_VARIANT, reference=UBLK_VARIANT, min_ratio=1.0,
                groups=f"^{SERVER_CPU_GROUP}$"),
           Goal(variant=BPF_VARIANT, reference=UBLK_VARIANT, min_ratio=1.8,
                groups="^null 4k randread qd32$")),
    timeout=3600)
register(UBLK_BENCHMARK)
