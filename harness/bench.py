"""Benchmarks: measured side by side in one guest, reported as ratios with spreads.

Each benchmark is a guest script (selftests/bench/) writing raw results to the
shared directory, a host-side reducer turning them into rows, checks that the
runs measured what they claim, and goals.  They run on the benchmark kernel
(``Layout(profile="bench")``: the series with a production-like config),
which ``run_benchmarks`` builds first when it is missing or stale.

The clock: by default the guest runs under QEMU's instruction counting
(``-icount shift=0,sleep=off``) with one vCPU.  The guest's clock then
advances by 1 ns per instruction executed and jumps over idle time, so a
run's guest time measures the instructions it took, whatever the host's load:
IOPS and latencies are figures of instructions per I/O, repeatable to a
fraction of a percent.  It does not see what costs time on hardware without
costing instructions (caches, TLB, memory, the real price of a syscall with
speculation mitigations, device timing, anything waiting on the host such as
virtio-blk completions).  ``clock="wall"`` runs plain TCG instead, in real
time (noisy: the host is shared).

Every figure is compared with a baseline measured in the same guest run, in
alternating pairs: each round (pair) runs every variant once, in the
opposite order to the round before, and each ratio is the median of the
per-pair ratios, reported with its spread (min..max over the pairs).  A goal
is met only when the whole spread is on its side of the bound.  Next to the
throughput (higher is better) a benchmark may report a cost: CPU time per
operation (the guest's busy time over the run divided by the I/Os; under
icount, instructions per I/O), lower is better.

``run_benchmarks`` returns non-zero when a script failed, a check found a
run that did not measure what it claims (a fio error, ufq_simple not
serving the queue, ...), a benchmark has no results, or a goal is not met.
Results go to out/bench/<name>.{json,md,png}.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.layout import Layout
from harness.progress import fmt_duration, say
from harness.tables import format_table
from harness.vm import GuestRun, kvm_usable, make_disk, run_in_guest

CLOCKS = ("icount", "wall")
# one instruction per ns of guest time; idle time is skipped, not waited for
ICOUNT_QEMU_OPTS = ["-icount shift=0,sleep=off"]
NAN = float("nan")
USER_HZ = 100  # /proc/stat's unit


def clock_qemu_opts(clock: str) -> list[str] | None:
    """The extra QEMU arguments of a guest clock (CLOCKS)."""
    if clock not in CLOCKS:
        raise ValueError(f"unknown clock {clock!r}; known: {CLOCKS}")
    return list(ICOUNT_QEMU_OPTS) if clock == "icount" else None


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


@dataclass(frozen=True)
class Spread:
    """The median of per-pair figures, and their range."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("a spread of nothing")
        return cls(_median(values), min(values), max(values), len(values))

    def text(self, digits: int = 2) -> str:
        shown = f"{self.median:.{digits}f}"
        if self.n < 2:
            return shown
        return f"{shown} ({self.low:.{digits}f}..{self.high:.{digits}f})"


def pair_ratios(values: Sequence[float], refs: Sequence[float]) -> list[float]:
    """variant / reference, pair by pair when both were measured in the same
    pairs (as many values), else the single ratio of their medians."""
    if len(values) == len(refs) >= 1 and all(refs):
        return [v / r for v, r in zip(values, refs, strict=True)]
    if values and refs and _median(refs):
        return [_median(values) / _median(refs)]
    return []


@dataclass(frozen=True)
class BenchRow:
    group: str  # what the ratio is taken within, e.g. "vda randread qd8"
    variant: str  # e.g. the scheduler
    value: float  # median over the pairs; higher is better (IOPS, NOPs/s)
    unit: str
    p99_us: float | None = None
    ratio: float = 1.0  # to the group's baseline: median of the per-pair ratios
    rounds: tuple[float, ...] = ()  # the value of each pair, in pair order
    ratio_spread: Spread | None = None
    cost: float | None = None  # median CPU ns per operation (instructions under icount)
    cost_rounds: tuple[float, ...] = ()
    cost_ratio: Spread | None = None  # cost / the baseline's cost, per pair
    wall_ratio: Spread | None = None  # the ratio measured again in wall-clock time

    @property
    def samples(self) -> tuple[float, ...]:
        return self.rounds or (self.value,)

    @property
    def cost_samples(self) -> tuple[float, ...]:
        if self.cost_rounds:
            return self.cost_rounds
        return (self.cost,) if self.cost is not None else ()


def _natural_key(text: str) -> list[object]:
    """'vda qd32' after 'vda qd8': numbers compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def with_ratios(rows: list[BenchRow], baseline: str | Callable[[str], str]) -> list[BenchRow]:
    """Rows with their ratios to the baseline of their group, baseline first.
    ``baseline``: the baseline variant of every group, or a function giving
    it for a group."""
    of = baseline if callable(baseline) else (lambda _group: baseline)
    base = {r.group: r for r in rows if r.variant == of(r.group)}
    out = []
    ordered = sorted(rows, key=lambda r: (_natural_key(r.group), r.variant != of(r.group)))
    for r in ordered:
        ref = base.get(r.group)
        ratios = pair_ratios(r.samples, ref.samples) if ref else []
        spread = Spread.of(ratios) if ratios else None
        cost_ratio = None
        if ref is not None:
            costs = pair_ratios(r.cost_samples, ref.cost_samples)
            cost_ratio = Spread.of(costs) if costs else None
        out.append(replace(r, ratio=spread.median if spread else NAN, ratio_spread=spread,
                           cost_ratio=cost_ratio))
    return out


@dataclass(frozen=True)
class Verdict:
    """A goal judged on one group."""

    goal: str  # e.g. "ufq_simple / mq-deadline IOPS >= 0.95"
    group: str
    met: bool
    ratio: Spread | None  # None: not measured
    pairs: tuple[float, ...] = ()

    def line(self) -> str:
        if self.ratio is None:
            return f"{self.group}: not measured (goal {self.goal}: NOT met)"
        over = f" over {self.ratio.n} pairs" if self.ratio.n > 1 else ""
        return (f"{self.group}: {self.ratio.text(3)}{over}"
                f" (goal {self.goal}: {'met' if self.met else 'NOT met'})")


@dataclass(frozen=True)
class Goal:
    """A target stated by an issue, judged in every group whose name matches
    ``groups`` (a regular expression searched in it): ``variant`` reaches
    ``min_ratio`` times ``reference``'s value, or costs at most
    ``max_cost_ratio`` times its cost, in every pair."""

    variant: str
    reference: str
    min_ratio: float | None = None
    groups: str = ""
    max_cost_ratio: float | None = None

    def __post_init__(self) -> None:
        if (self.min_ratio is None) == (self.max_cost_ratio is None):
            raise ValueError("a goal has either a min_ratio or a max_cost_ratio")

    def text(self, unit: str = "") -> str:
        if self.max_cost_ratio is not None:
            return f"{self.variant} / {self.reference} CPU per op <= {self.max_cost_ratio:.2f}"
        assert self.min_ratio is not None
        what = f" {unit}" if unit else ""
        return f"{self.variant} / {self.reference}{what} >= {self.min_ratio:.2f}"

    def verdicts(self, rows: list[BenchRow]) -> list[Verdict]:
        """One verdict per group the goal applies to."""
        by_group: dict[str, dict[str, BenchRow]] = {}
        for r in rows:
            if re.search(self.groups, r.group):
                by_group.setdefault(r.group, {})[r.variant] = r
        out = []
        for group, found in by_group.items():
            variant, reference = found.get(self.variant), found.get(self.reference)
            unit = (variant or reference or next(iter(found.values()))).unit
            text = self.text(unit)
            if variant is None or reference is None:
                out.append(Verdict(text, group, False, None))
                continue
            if self.max_cost_ratio is not None:
                ratios = pair_ratios(variant.cost_samples, reference.cost_samples)
                met = bool(ratios) and max(ratios) <= self.max_cost_ratio
            else:
                assert self.min_ratio is not None
                ratios = pair_ratios(variant.samples, reference.samples)
                met = bool(ratios) and min(ratios) >= self.min_ratio
            out.append(Verdict(text, group, met, Spread.of(ratios) if ratios else None,
                               tuple(ratios)))
        return out


@dataclass
class CheckResult:
    """What the checks of a benchmark's raw results found."""

    problems: list[str] = field(default_factory=list)  # each fails the benchmark
    notes: list[str] = field(default_factory=list)  # figures the checks looked at
    # goals on figures the rows do not carry (e.g. one process's CPU time),
    # judged by the checks, reported with the Goal verdicts
    verdicts: list[Verdict] = field(default_factory=list)


@dataclass(frozen=True)
class OtherKernel:
    """A kernel a benchmark also runs on, in a guest of its own after the
    main one (a config option cannot differ within one guest): the build
    profile, the environment its run of the script gets (e.g. the variants
    to run), and where its results go among the main guest's: the files of
    ``results`` (relative to its shared directory) are copied to
    ``into``."""

    profile: str
    env: tuple[tuple[str, str], ...]
    results: str
    into: str


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    script: str  # relative to selftests/
    baseline: str  # variant every other one is compared with
    reduce: Callable[[Path], list[BenchRow]]
    timeout: float = 1800  # wall-clock seconds the script may take in the guest
    goals: tuple[Goal, ...] = ()
    check: Callable[[Path], CheckResult] | None = None
    cpus: int = 1  # vCPUs it needs (icount runs them on one host thread)
    # also run it under the wall clock, in a second guest, for its ratios
    wall_clock_beside: bool = False
    cost_label: str = "CPU/IO"
    # (group regular expression, its baseline variant): groups whose
    # baseline is not ``baseline``; the first expression that matches wins
    group_baselines: tuple[tuple[str, str], ...] = ()
    other_kernels: tuple[OtherKernel, ...] = ()

    def baseline_for(self, group: str) -> str:
        for pattern, variant in self.group_baselines:
            if re.search(pattern, group):
                return variant
        return self.baseline

    @property
    def baseline_text(self) -> str:
        """The baseline as a column header says it."""
        return "baseline" if self.group_baselines else self.baseline


# ---------------------------------------------------------------- snapshots

@dataclass(frozen=True)
class Snapshot:
    """What selftests/bench/hook.sh printed before or after a run:
    ``== name`` sections of ``key value`` lines (``bpf_stats``: bpftool JSON)."""

    sections: dict[str, str]

    def values(self, section: str) -> dict[str, str]:
        out = {}
        for line in self.sections.get(section, "").splitlines():
            key, _, value = line.strip().partition(" ")
            if key:
                out[key] = value.strip()
        return out

    def number(self, section: str, key: str) -> float | None:
        try:
            return float(self.values(section)[key])
        except (KeyError, ValueError):
            return None

    @property
    def errors(self) -> list[str]:
        return [line for line in self.sections.get("error", "").splitlines() if line.strip()]

    def bpf_stats(self) -> list[int] | None:
        """ufq_simple's per-CPU "stats" array summed over the CPUs, by index."""
        text = self.sections.get("bpf_stats", "").strip()
        if not text:
            return None
        try:
            entries = json.loads(text)
        except ValueError:
            return None
        # an error object, or several maps named "stats" (a list per map)
        if not isinstance(entries, list) or any(not isinstance(e, dict) for e in entries):
            return None
        counts: dict[int, int] = {}
        try:
            for entry in entries:
                entry = entry.get("formatted", entry)
                counts[int(entry["key"])] = sum(int(v["value"]) for v in entry["values"])
        except (KeyError, TypeError, ValueError):
            return None
        return [counts.get(i, 0) for i in range(max(counts, default=-1) + 1)]


def parse_snapshot(text: str) -> Snapshot:
    sections: dict[str, list[str]] = {}
    current = "error"  # anything before the first section is unexpected
    for line in text.splitlines():
        m = re.match(r"^== (\S+)\s*$", line)
        if m:
            current = m.group(1)
            sections.setdefault(current, [])
        else:
            sections.setdefault(current, []).append(line)
    return Snapshot({k: "\n".join(v) for k, v in sections.items()})


def busy_ns(pre: Snapshot, post: Snapshot) -> float | None:
    """Guest CPU time between two snapshots: elapsed time on every CPU minus
    the idle and iowait time the kernel accounts (the nohz figures /proc/stat
    reports in 10 ms units, read in ns from /proc/timer_list)."""
    got = [s.number("cpu", k) for s in (pre, post) for k in ("now", "idle", "iowait", "cpus")]
    if any(v is None for v in got):
        return None
    now0, idle0, iow0, cpus, now1, idle1, iow1, _ = (float(v or 0) for v in got)
    return cpus * (now1 - now0) - (idle1 - idle0) - (iow1 - iow0)


def stat_busy_ns(pre: Snapshot, post: Snapshot) -> float | None:
    """The same from /proc/stat's cpu line (user nice system irq softirq steal),
    10 ms resolution: kept next to busy_ns as a cross-check."""
    def busy(s: Snapshot) -> float | None:
        fields = s.values("stat").get("cpu", "").split()
        if len(fields) < 8:
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = (float(f) for f in fields[:8])
        return user + nice + system + irq + softirq + steal
    a, b = busy(pre), busy(post)
    return None if a is None or b is None else (b - a) * 1e9 / USER_HZ


# ---------------------------------------------------------------- fio cases

def job_total_iops(job: dict[str, Any]) -> float:
    """Read plus write IOPS of one fio job (a mixed workload counts both)."""
    return sum(float(job.get(side, {}).get("iops", 0.0)) for side in ("read", "write"))


def job_total_ios(job: dict[str, Any]) -> int:
    return sum(int(job.get(side, {}).get("total_ios", 0)) for side in ("read", "write"))


def job_read_p99_us(job: dict[str, Any]) -> float | None:
    p99 = job.get("read", {}).get("clat_ns", {}).get("percentile", {}).get("99.000000")
    return p99 / 1000.0 if p99 is not None else None


@dataclass(frozen=True)
class FioRun:
    """One fio job of a case: one variant in one pair, with its snapshots."""

    variant: str
    pair: int
    index: int  # position in the fio job file
    ios: int
    iops: float
    p99_us: float | None
    error: int
    pre: Snapshot
    post: Snapshot
    io_ms: float = 0.0  # how long it did I/O (fio's runtime of the read or write side)
    runtime_ms: float = 0.0  # the runtime asked for (fio's global options)

    @property
    def busy_ns(self) -> float | None:
        return busy_ns(self.pre, self.post)

    @property
    def stat_busy_ns(self) -> float | None:
        return stat_busy_ns(self.pre, self.post)

    @property
    def cost(self) -> float | None:
        """CPU ns per I/O."""
        busy = self.busy_ns
        return busy / self.ios if busy is not None and self.ios else None


def case_group(case_dir: Path) -> str:
    """<device>_<workload>_qd<N> -> '<device> <workload> qd<N>'."""
    return case_dir.name.replace("_", " ")


def read_fio_case(case_dir: Path) -> list[FioRun]:
    """The jobs of one case (selftests/bench/lib.sh bench_case): fio.json with
    jobs named <variant>-<pair>, and <job>.prerun.txt / .postrun.txt."""
    path = case_dir / "fio.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    runtime = str(data.get("global options", {}).get("runtime", "0"))
    runtime_ms = float(runtime) * 1000 if runtime.replace(".", "", 1).isdigit() else 0.0
    runs = []
    for index, job in enumerate(data["jobs"]):
        name = job["jobname"]
        variant, _, pair = name.rpartition("-")
        snaps = []
        for kind in ("prerun", "postrun"):
            snap = case_dir / f"{name}.{kind}.txt"
            snaps.append(parse_snapshot(snap.read_text(errors="replace"))
                         if snap.exists() else Snapshot({"error": f"no {snap.name}"}))
        runs.append(FioRun(variant=variant, pair=int(pair), index=index,
                           ios=job_total_ios(job), iops=job_total_iops(job),
                           p99_us=job_read_p99_us(job), error=int(job.get("error", 0)),
                           pre=snaps[0], post=snaps[1], runtime_ms=runtime_ms,
                           io_ms=max(float(job.get(side, {}).get("runtime", 0))
                                     for side in ("read", "write"))))
    return runs


def case_dirs(shared: Path, subdir: str) -> list[Path]:
    base = shared / subdir
    if not base.is_dir():
        return []
    # .state: selftests/bench/hook.sh's (the ufq_simple loader's pid and log)
    return sorted((p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.name)


def reduce_fio_cases(shared: Path, subdir: str) -> list[BenchRow]:
    """Per case and variant: the median IOPS (read plus write) and CPU per
    I/O over the pairs, the per-pair values, the median read p99."""
    rows = []
    for case in case_dirs(shared, subdir):
        by_variant: dict[str, list[FioRun]] = {}
        for run in read_fio_case(case):
            by_variant.setdefault(run.variant, []).append(run)
        for variant, runs in by_variant.items():
            runs.sort(key=lambda r: r.pair)
            iops = tuple(r.iops for r in runs)
            costs = [r.cost for r in runs]
            p99s = [r.p99_us for r in runs if r.p99_us is not None]
            cost_rounds = tuple(c for c in costs if c is not None)
            if len(cost_rounds) != len(costs):
                cost_rounds = ()
            rows.append(BenchRow(
                group=case_group(case), variant=variant, value=_median(iops), unit="IOPS",
                p99_us=_median(p99s) if p99s else None, rounds=iops,
                cost=_median(cost_rounds) if cost_rounds else None, cost_rounds=cost_rounds))
    return rows


def pair_order_problems(group: str, runs: list[FioRun]) -> list[str]:
    """Each pair runs the variants in the reverse order of the pair before."""
    order: dict[int, list[tuple[int, str]]] = {}
    for r in runs:
        order.setdefault(r.pair, []).append((r.index, r.variant))
    pairs = [[v for _, v in sorted(order[p])] for p in sorted(order)]
    return [f"{group}: pair {i + 2} runs {', '.join(b)} after pair {i + 1}'s {', '.join(a)}"
            " (the order must alternate)"
            for i, (a, b) in enumerate(itertools.pairwise(pairs)) if b != a[::-1]]


# ufq_simple's stats array (tools/ufq_iosched/ufq_simple.h)
UFQ_SIMPLE_DIRECT = 0
UFQ_SIMPLE_INSERTED = (0, 1, 2, 3)  # direct dispatches count as inserted too
UFQ_SIMPLE_BIO_MERGES = (9, 10)
UFQ_SIMPLE_REFUSED = 12
QUEUED_DIRECT_MAX = 0.10
# of the I/Os fio did, the share ufq_simple must have taken (requests inserted,
# bios merged, refusals): a plug merge of two adjacent random I/Os before the
# elevator is the rest
SERVED_MIN = 0.99


def ufq_run_problems(where: str, run: FioRun) -> tuple[list[str], float | None]:
    """Whether ufq_simple served a run: attached to the queue before and
    after it, its counters grew by the I/Os done.  Returns the problems and
    the share of requests it dispatched directly from insert_req."""
    problems = []
    for snap, when in ((run.pre, "before"), (run.post, "after")):
        sched = snap.values("ufq_sched")
        if (sched.get("name"), sched.get("state"), sched.get("queue_attached")) != \
                ("ufq_simple", "enabled", "1"):
            problems.append(f"{where}: ufq_simple did not serve the queue {when} the run"
                            f" (debugfs sched: {sched or 'missing'})")
    pre, post = run.pre.bpf_stats(), run.post.bpf_stats()
    if pre is None or post is None or len(pre) != len(post) or len(post) <= UFQ_SIMPLE_REFUSED:
        problems.append(f"{where}: ufq_simple's counters could not be read")
        return problems, None
    delta = [b - a for a, b in zip(pre, post, strict=True)]
    inserted = sum(delta[i] for i in UFQ_SIMPLE_INSERTED)
    taken = inserted + sum(delta[i] for i in UFQ_SIMPLE_BIO_MERGES) + delta[UFQ_SIMPLE_REFUSED]
    if inserted <= 0 or taken < SERVED_MIN * run.ios:
        problems.append(f"{where}: ufq_simple's counters grew by {taken} requests and bios,"
                        f" fewer than {SERVED_MIN:.0%} of the {run.ios} I/Os fio completed")
    return problems, (delta[UFQ_SIMPLE_DIRECT] / inserted if inserted > 0 else None)


def check_fio_cases(shared: Path, subdir: str, queued: str = "") -> CheckResult:
    """Every run completed without a fio error, did I/O and has both
    snapshots; pair orders alternate; ufq_simple runs were served by
    ufq_simple and ufq runs by no BPF scheduler; in the cases whose group
    matches ``queued``, ufq_simple dispatched under 10% of its requests
    directly (they waited in the scheduler)."""
    result = CheckResult()
    cases = case_dirs(shared, subdir)
    if not cases:
        result.problems.append(f"{subdir}: no results")
    cross = []  # /proc/stat's busy time over the ns figure, runs of 0.1 s or more
    for case in cases:
        group = case_group(case)
        runs = read_fio_case(case)
        if not runs:
            result.problems.append(f"{group}: no fio results ({case / 'fio.json'})")
            continue
        result.problems += pair_order_problems(group, runs)
        direct: list[float] = []
        for run in runs:
            where = f"{group} {run.variant} pair {run.pair}"
            if run.error:
                result.problems.append(f"{where}: fio error {run.error}")
            if run.ios <= 0:
                result.problems.append(f"{where}: no I/O done")
            elif run.io_ms < 0.95 * run.runtime_ms:
                result.problems.append(f"{where}: did I/O for {run.io_ms:.0f} ms of its"
                                       f" {run.runtime_ms:.0f} ms")
            for snap in (run.pre, run.post):
                result.problems += [f"{where}: {e}" for e in snap.errors]
            busy, stat = run.busy_ns, run.stat_busy_ns
            if busy is None:
                result.problems.append(f"{where}: no CPU time snapshot")
            elif stat is not None and busy >= 1e8:
                cross.append(stat / busy)
            if run.variant == "ufq_simple":
                problems, share = ufq_run_problems(where, run)
                result.problems += problems
                if share is not None:
                    direct.append(share)
            elif run.variant == "ufq":
                attached = run.post.values("ufq_sched").get("queue_attached")
                if attached != "0":
                    result.problems.append(f"{where}: a BPF scheduler served the queue"
                                           f" (queue_attached {attached})")
        if queued and re.search(queued, group):
            if not direct:
                result.problems.append(f"{group}: no ufq_simple dispatch counts")
            elif max(direct) >= QUEUED_DIRECT_MAX:
                result.problems.append(
                    f"{group}: ufq_simple dispatched up to {max(direct):.1%} of its requests"
                    f" directly (at most {QUEUED_DIRECT_MAX:.0%} for a queued case)")
            else:
                result.notes.append(
                    f"{group}: ufq_simple dispatched {Spread.of(direct).text(3)} of its"
                    f" requests directly from insert_req (checked < {QUEUED_DIRECT_MAX:.2f})")
    if cross:
        result.notes.append(f"CPU time cross-check: /proc/stat's busy time (10 ms units) is"
                            f" {Spread.of(cross).text(3)} times the ns figure over"
                            f" {len(cross)} runs")
    return result


def reduce_fio_sched(shared: Path) -> list[BenchRow]:
    return reduce_fio_cases(shared, "fio_sched")


def reduce_fio_ufq(shared: Path) -> list[BenchRow]:
    return reduce_fio_cases(shared, "ufq")


UFQ_PLAIN = "benchufq"  # null_blk, nothing stored: scheduler overhead shows most
UFQ_QUEUED = "benchq"  # null_blk, 2 tags, 100 us completions: requests wait (ufq.sh)


def check_fio_sched(shared: Path) -> CheckResult:
    return check_fio_cases(shared, "fio_sched")


def check_fio_ufq(shared: Path) -> CheckResult:
    return check_fio_cases(shared, "ufq", queued=f"^{UFQ_QUEUED} ")


# ---------------------------------------------------------------- io_uring

IOURING_VARIANTS = ("link2", "qd1", "bpf", "bpf_inline", "bpf_empty", "bpf_empty_ns",
                    "bpf_regions")


def _iouring_runs(shared: Path) -> tuple[int, dict[str, list[tuple[int, float]]], list[str]]:
    """NOP count, per variant (run, seconds), and the runs that left no result."""
    runs: dict[str, list[tuple[int, float]]] = {}
    failed = []
    nops = 0
    for path in sorted((shared / "iouring").glob("*.json")):
        text = path.read_text().strip()
        if not text:
            failed.append(path.stem)
            continue
        res = json.loads(text)
        nops = res["nops"]
        run = path.stem.rpartition("_")[2]
        runs.setdefault(res["variant"], []).append(
            (int(run) if run.isdigit() else 0, float(res["seconds"])))
    return nops, runs, failed


def reduce_iouring(shared: Path) -> list[BenchRow]:
    """Per variant: the median NOP rate over the runs, the per-run rates, and
    guest ns per NOP (per loop step for the bpf_empty* and bpf_regions
    variants): instructions under icount."""
    nops, runs, _ = _iouring_runs(shared)
    rows = []
    for variant in IOURING_VARIANTS:
        numbered = sorted(runs.get(variant, []))
        if numbered:
            rates = tuple(nops / secs for _, secs in numbered)
            costs = tuple(secs * 1e9 / nops for _, secs in numbered)
            rows.append(BenchRow(group=f"{nops} NOPs", variant=variant,
                                 value=_median(rates), unit="NOPs/s", rounds=rates,
                                 cost=_median(costs), cost_rounds=costs))
    return rows


def check_iouring(shared: Path) -> CheckResult:
    """Every variant ran, as many times as the others, and no run failed."""
    _, runs, failed = _iouring_runs(shared)
    result = CheckResult([f"iouring run {name} left no result" for name in failed])
    counts = {v: len(runs.get(v, [])) for v in IOURING_VARIANTS}
    most = max(counts.values())
    result.problems += [f"iouring {v}: {n} runs of {most}" for v, n in counts.items() if n < most]
    if not most:
        result.problems.append("iouring: no results")
    return result


BENCHMARKS: dict[str, Benchmark] = {
    "fio": Benchmark(
        name="fio",
        description="fio 4k random read, QD 1/8/32, null_blk and a loop device on tmpfs"
                    " (and virtio-blk under the wall clock), per scheduler;"
                    " 5 alternating pairs of 1 s runs",
        script="bench/fio_sched.sh", baseline="none", reduce=reduce_fio_sched,
        check=check_fio_sched, timeout=2400),
    "iouring": Benchmark(
        name="iouring",
        description="sequential NOPs: 2-NOP links per syscall, QD1 per syscall, BPF loop"
                    " (one NOP a step; inline: NOPs reaped within a step;"
                    " empty/regions: steps without NOPs); 5 alternating runs",
        script="bench/iouring.sh", baseline="link2", reduce=reduce_iouring,
        check=check_iouring, timeout=900, wall_clock_beside=True, cost_label="ns/op",
        goals=(Goal(variant="bpf", reference="link2", min_ratio=1.25),
               Goal(variant="bpf_inline", reference="link2", min_ratio=2.0))),
    "ufq": Benchmark(
        name="ufq",
        description="fio 4k randread and 70/30 randrw on null_blk: QD 1/8/32 on a plain one"
                    " (1 s runs), QD 32 on a queued one (2 tags, 100 us completions,"
                    " nr_requests 64, 3 s runs); none, mq-deadline, ufq (no BPF),"
                    " ufq + ufq_simple; 5 alternating pairs",
        script="bench/ufq.sh", baseline="none", reduce=reduce_fio_ufq, check=check_fio_ufq,
        timeout=3600,
        goals=(Goal(variant="ufq_simple", reference="mq-deadline", min_ratio=0.95,
                    groups=f"^({UFQ_PLAIN}|{UFQ_QUEUED}) "),
               Goal(variant="ufq_simple", reference="mq-deadline", max_cost_ratio=1.1,
                    groups=f"^{UFQ_QUEUED} "))),
}

# former names of benchmarks
BENCHMARK_ALIASES = {"iou_nops": "iouring"}


def register(bench: Benchmark) -> None:
    """Add a benchmark (later features register theirs here)."""
    BENCHMARKS[bench.name] = bench


# ---------------------------------------------------------------- reports

@dataclass
class BenchReport:
    """One benchmark's rows, verdicts and problems, judged."""

    bench: Benchmark
    rows: list[BenchRow]
    verdicts: list[Verdict]
    problems: list[str]
    notes: list[str]

    @property
    def goals_met(self) -> bool:
        return all(v.met for v in self.verdicts)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems and self.goals_met


def evaluate(bench: Benchmark, shared: Path, script_status: int | None,
             wall_shared: Path | None = None) -> BenchReport:
    """Reduce, check and judge one benchmark's results.  ``script_status`` is
    the guest script's exit status (None: it did not finish); ``wall_shared``
    the results of its wall-clock run, if any."""
    rows = with_ratios(bench.reduce(shared), bench.baseline_for)
    checked = bench.check(shared) if bench.check else CheckResult()
    problems = list(checked.problems)
    if script_status != 0:
        problems.insert(0, f"bench/{Path(bench.script).name} "
                        + ("did not finish" if script_status is None
                           else f"exited with status {script_status}"))
    if not rows:
        problems.append(f"benchmark {bench.name}: no results")
    if wall_shared is not None:
        wall = {(r.group, r.variant): r.ratio_spread
                for r in with_ratios(bench.reduce(wall_shared), bench.baseline_for)}
        rows = [replace(r, wall_ratio=wall.get((r.group, r.variant))) for r in rows]
    verdicts = [v for goal in bench.goals for v in goal.verdicts(rows)] + checked.verdicts
    return BenchReport(bench, rows, verdicts, problems, checked.notes)


def _us(ns: float | None) -> str:
    return f"{ns / 1000:,.2f} us" if ns is not None else "-"


def bench_table(rows: list[BenchRow], baseline: str, cost_label: str = "CPU/IO") -> str:
    wall = any(r.wall_ratio is not None for r in rows)
    ns_cost = cost_label == "ns/op"
    headers = ["group", "variant", "value", "p99 lat", f"ratio to {baseline} (min..max)",
               cost_label, f"{cost_label} ratio (min..max)"]
    if wall:
        headers.append("wall-clock ratio (min..max)")
    out = []
    for r in rows:
        cost = (f"{r.cost:,.0f}" if ns_cost else _us(r.cost)) if r.cost is not None else "-"
        line = [r.group, r.variant, f"{r.value:,.0f} {r.unit}",
                f"{r.p99_us:,.0f} us" if r.p99_us is not None else "-",
                r.ratio_spread.text(3) if r.ratio_spread else "-", cost,
                r.cost_ratio.text(3) if r.cost_ratio else "-"]
        if wall:
            line.append(r.wall_ratio.text(3) if r.wall_ratio else "-")
        out.append(line)
    return format_table(headers, out)


def _md_cells(r: BenchRow, bench: Benchmark) -> list[str]:
    """value, ratio to the baseline, cost, cost ratio, wall-clock ratio."""
    base = r.variant == bench.baseline_for(r.group)
    cost = "-"
    if r.cost is not None:
        cost = f"{r.cost:,.0f} ns" if bench.cost_label == "ns/op" else _us(r.cost)
    return [f"{r.value:,.0f}",
            "1" if base else (r.ratio_spread.text(3) if r.ratio_spread else "-"),
            cost,
            "1" if base else (r.cost_ratio.text(3) if r.cost_ratio else "-"),
            "1" if base else (r.wall_ratio.text(2) if r.wall_ratio else "-")]


def markdown(report: BenchReport, command: str, meta: dict[str, Any]) -> str:
    """The report as Markdown, for the README: a table per group (one row per
    variant: value, ratio to the baseline with its spread, cost and its
    ratio, the wall-clock ratio when measured), then the goals."""
    bench = report.bench
    groups = list(dict.fromkeys(r.group for r in report.rows))
    wall = any(r.wall_ratio is not None for r in report.rows)
    units = list(dict.fromkeys(r.unit for r in report.rows))
    mixed = len(units) > 1  # then each value carries its unit
    unit = "value" if mixed else (units[0] if units else "")
    ref = bench.baseline_text
    headers = ["group", "variant", unit, f"/ {ref} (min..max)", bench.cost_label,
               f"{bench.cost_label} / {ref} (min..max)"]
    if wall:
        headers.append(f"wall clock / {ref} (min..max)")
    lines = [f"`{command}`, {meta.get('date', '')}, kernel {meta.get('kernel', '?')},"
             f" clock {meta.get('clock', '?')}, commit {meta.get('commit', '?')}", "",
             "| " + " | ".join(headers) + " |", "| " + " | ".join(["---"] * len(headers)) + " |"]
    for g in groups:
        for r in (r for r in report.rows if r.group == g):
            cells = _md_cells(r, bench)
            if mixed:
                cells[0] += f" {r.unit}"
            lines.append("| " + " | ".join([g, r.variant] + cells[:len(headers) - 2]) + " |")
    if report.verdicts:
        lines += ["", "| goal | group | median (min..max) | verdict |",
                  "| --- | --- | --- | --- |"]
        lines += [f"| {v.goal} | {v.group} | {v.ratio.text(3) if v.ratio else '-'} |"
                  f" {'met' if v.met else 'NOT met'} |" for v in report.verdicts]
    for note in report.notes:
        lines.append(f"\n{note}")
    for problem in report.problems:
        lines.append(f"\nPROBLEM: {problem}")
    return "\n".join(lines) + "\n"


def plot(rows: list[BenchRow], bench: Benchmark, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys(r.group for r in rows))
    variants = list(dict.fromkeys(r.variant for r in rows))
    width = 0.8 / max(1, len(variants))
    fig, ax = plt.subplots(figsize=(max(6, len(groups) * 1.2), 4))
    for i, variant in enumerate(variants):
        found = [next((r for r in rows if r.group == g and r.variant == variant), None)
                 for g in groups]
        values = [r.ratio if r is not None and r.ratio == r.ratio else 0.0 for r in found]
        spread = [r.ratio_spread if r is not None else None for r in found]
        err = [[v - s.low if s else 0.0 for v, s in zip(values, spread, strict=True)],
               [s.high - v if s else 0.0 for v, s in zip(values, spread, strict=True)]]
        ax.bar([x + i * width for x in range(len(groups))], values, width, label=variant,
               yerr=err, capsize=2)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks([x + width * (len(variants) - 1) / 2 for x in range(len(groups))])
    ax.set_xticklabels(groups, rotation=30, ha="right")
    ax.set_ylabel(f"{rows[0].unit if rows else ''} ratio to {bench.baseline_text}")
    ax.set_title(bench.description, fontsize=8, wrap=True)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def resolve_names(names: list[str]) -> list[str]:
    """The benchmarks asked for, former names replaced, each once; all if none."""
    return list(dict.fromkeys(BENCHMARK_ALIASES.get(n, n) for n in names)) or list(BENCHMARKS)


def guest_command(layout: Layout, benches: list[Benchmark]) -> str:
    """Run every script, record each one's exit status in the shared
    directory, and exit non-zero if any failed."""
    lines = ['uname -r > "$HARNESS_SHARED/kernel-release"', "rc=0"]
    for b in benches:
        script = shlex.quote(str(layout.selftests_dir / b.script))
        status = f'"$HARNESS_SHARED/status-{b.name}"'
        lines.append(f'echo "bench: {b.name} starting"; bash {script}; st=$?; echo $st > {status}; '
                     f'[ $st = 0 ] || {{ echo "bench {b.name} failed (exit $st)"; rc=1; }}')
    lines.append("exit $rc")
    return "\n".join(lines)


def _worst_status(a: int | None, b: int | None) -> int | None:
    """Of two scripts' exit statuses, the one that fails (None: did not finish)."""
    if a is None or b is None:
        return None
    return a or b


def copy_results(src: Path, dst: Path) -> None:
    """The result files of a guest (a directory's files, not its
    subdirectories) into another guest's results."""
    dst.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        for path in src.iterdir():
            if path.is_file():
                (dst / path.name).write_bytes(path.read_bytes())


def script_status(shared: Path, name: str) -> int | None:
    try:
        return int((shared / f"status-{name}").read_text().strip())
    except (OSError, ValueError):
        return None


def _commit(layout: Layout) -> str:
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=layout.repo,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def _force_tcg() -> None:
    """Instruction counting is TCG's (QEMU refuses -icount with KVM): never
    let the KVM probe, which a loaded host can fool, pick KVM."""
    os.environ["HARNESS_KVM"] = "0"
    kvm_usable.cache_clear()


def _bench_guest(layout: Layout, benches: list[Benchmark], clock: str, name: str,
                 disk: Path, kernel: Layout | None = None,
                 extra_env: dict[str, str] | None = None) -> GuestRun:
    """A guest running ``benches``' scripts with ``layout``'s programs, on
    ``layout``'s kernel or ``kernel``'s."""
    env = {"TEST_DISK": "/dev/vda", "KSRC": str(layout.tree), "BENCH_CLOCK": clock,
           "UFQ_BIN": str(layout.ufq_tools / "bin"), "BPFTOOL": str(layout.bpftool),
           "IOU_BENCH": str(layout.selftests_out / "iouring/iou_bench"),
           "UBLK": str(layout.selftests_out / "ublk/ublk"),
           "OPBPF_BENCH": str(layout.selftests_out / "iouring/iou_opbpf_bench"),
           **(extra_env or {})}
    return run_in_guest(kernel or layout, guest_command(layout, benches), name=name, disks=[disk],
                        timeout=sum(b.timeout for b in benches),
                        cpus=max(b.cpus for b in benches), env=env,
                        qemu_opts=clock_qemu_opts(clock))


def run_benchmarks(layout: Layout, names: list[str], *, clock: str = "icount",
                   profile: str = "bench", build: bool = True) -> int:
    selected = resolve_names(names)
    unknown = [n for n in selected if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {sorted(BENCHMARKS)}", file=sys.stderr)
        return 2
    if clock not in CLOCKS:
        print(f"unknown clock {clock!r}; known: {CLOCKS}", file=sys.stderr)
        return 2
    command = shlex.join(["python", "-m", "harness", "bench", "--clock", clock,
                          "--profile", profile, *selected])
    layout = layout.with_profile(profile)
    commit = _commit(layout)  # of the tree measured, before anything else changes it
    benches = [BENCHMARKS[n] for n in selected]
    others = [(b, k) for b in benches for k in b.other_kernels]
    if build:
        from harness.kbuild import build_all

        build_all(layout)
        for profile in dict.fromkeys(k.profile for _, k in others):
            build_all(layout.with_profile(profile))
    if clock == "icount":
        _force_tcg()
    disk = make_disk(layout.build_dir / "disks/bench.img", 1024)
    start = time.monotonic()
    guest = _bench_guest(layout, benches, clock, "bench", disk)
    guests = [guest]
    wall_benches = [b for b in benches if b.wall_clock_beside and clock != "wall"]
    wall_guest = None
    if wall_benches:
        say(f"running {', '.join(b.name for b in wall_benches)} again under the wall clock")
        wall_guest = _bench_guest(layout, wall_benches, "wall", "bench-wall", disk)
        guests.append(wall_guest)
    other_status: dict[str, int | None] = {}
    for bench, kernel in others:
        say(f"running {bench.name} again on the {kernel.profile} kernel")
        other = _bench_guest(layout, [bench], clock, f"bench-{kernel.profile}", disk,
                             kernel=layout.with_profile(kernel.profile),
                             extra_env=dict(kernel.env))
        guests.append(other)
        other_status[bench.name] = _worst_status(other_status.get(bench.name, 0),
                                                 script_status(other.shared_dir, bench.name))
        copy_results(other.shared_dir / kernel.results, guest.shared_dir / kernel.into)
    guest_seconds = time.monotonic() - start
    release = (guest.shared_dir / "kernel-release")
    meta = {"command": command, "clock": clock, "profile": profile,
            "kernel": release.read_text().strip() if release.exists() else "?",
            "commit": commit, "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "guest_seconds": round(guest_seconds),
            "guest_runs": [str(g.run_dir) for g in guests]}
    if others:
        meta["other_kernels"] = {
            g.name: (g.shared_dir / "kernel-release").read_text().strip()
            if (g.shared_dir / "kernel-release").exists() else "?"
            for g in guests if g.name.startswith("bench-") and g.name != "bench-wall"}
    out = layout.out_dir / "bench"
    out.mkdir(parents=True, exist_ok=True)
    rc = 0 if all(g.ok for g in guests) else 1
    for bench in benches:
        wall_shared = wall_guest.shared_dir if wall_guest and bench in wall_benches else None
        status = script_status(guest.shared_dir, bench.name)
        if wall_shared is not None and status == 0:
            status = script_status(wall_shared, bench.name)
        if bench.name in other_status and status == 0:
            status = other_status[bench.name]
        report = evaluate(bench, guest.shared_dir, status, wall_shared)
        print(f"\n{bench.name}: {bench.description} ({clock} clock)")
        if report.rows:
            print(bench_table(report.rows, bench.baseline_text, bench.cost_label))
        for note in report.notes:
            print(f"  {note}")
        if report.verdicts:
            print("\n".join(["goals:"] + ["  " + v.line() for v in report.verdicts]))
        for problem in report.problems:
            print(f"PROBLEM: {problem}")
        print(f"{bench.name}: {'ok' if report.ok else 'FAILED'}")
        if not report.ok:
            rc = 1
        (out / f"{bench.name}.json").write_text(json.dumps(
            {"benchmark": bench.name, "description": bench.description,
             "baseline": bench.baseline, **meta, "script_status": status, "ok": report.ok,
             "goals": [asdict(v) | {"line": v.line()} for v in report.verdicts],
             "problems": report.problems, "notes": report.notes,
             "rows": [asdict(r) for r in report.rows]}, indent=1))
        (out / f"{bench.name}.md").write_text(markdown(report, command, meta))
        if report.rows:
            plot(report.rows, bench, out / f"{bench.name}.png")
        print(f"written: {out / bench.name}.{{json,md,png}}")
    for g in guests:
        if not g.ok:
            print(g.report(), file=sys.stderr)
    say(f"benchmark guests took {fmt_duration(guest_seconds)} in all")
    return rc


# Later features' benchmarks live in their own modules, which register()
# them when imported; imported last, since they use everything above.
import harness.bench_ublk  # noqa: E402, F401
import harness.bench_opbpf  # noqa: E402, F401
