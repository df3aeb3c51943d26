"""Benchmarks: measured side by side in one guest, reported as ratios.

Each benchmark is a guest script writing raw results (fio JSON) to the shared
directory, and a host-side reducer turning them into rows.  Every figure is
compared with a baseline measured in the same guest run (for schedulers:
"none" on the same device at the same queue depth), because absolute numbers
under TCG mean little.  Results go to out/bench/<name>.json and a PNG plot.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections.abc import Callable
from typing import Any
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.layout import Layout
from harness.vm import make_disk, run_in_guest
from harness.tables import format_table


def _median(values: list[float]) -> float:
    return statistics.median(values)


@dataclass(frozen=True)
class BenchRow:
    group: str  # what the ratio is taken within, e.g. "vda qd8"
    variant: str  # e.g. the scheduler
    value: float  # higher is better (IOPS, requests/s)
    unit: str
    p99_us: float | None = None
    ratio: float = 1.0
    rounds: tuple[float, ...] = ()  # per round, in round order, when measured in rounds


@dataclass(frozen=True)
class Goal:
    """A target stated by an issue: ``variant`` reaches ``min_ratio`` times
    ``reference`` in every group whose name contains ``groups``."""

    variant: str
    reference: str
    min_ratio: float
    groups: str = ""
    # only the "... paired" groups (alternating runs) when there are any
    paired_only: bool = False

    def ratio(self, variant: BenchRow, reference: BenchRow) -> tuple[float, str]:
        """variant / reference, and how it was taken.

        Measured in the same rounds, it is the median of the per-round
        ratios, which cancels the host's drift between rounds; otherwise
        the ratio of the two values."""
        if len(variant.rounds) == len(reference.rounds) >= 2 and all(reference.rounds):
            pairs = zip(variant.rounds, reference.rounds, strict=True)
            per_round = [v / r for v, r in pairs]
            shown = ", ".join(f"{x:.2f}" for x in per_round)
            return _median(per_round), f"median of {len(per_round)} paired ratios: {shown}"
        return variant.value / reference.value, ""

    def verdicts(self, rows: list[BenchRow]) -> list[str]:
        """One line per group the goal applies to, measured against the goal."""
        lines = []
        by_group: dict[str, dict[str, BenchRow]] = {}
        paired = self.paired_only and any(r.group.endswith(" paired") for r in rows)
        for r in rows:
            if self.groups in r.group and (not paired or r.group.endswith(" paired")):
                by_group.setdefault(r.group, {})[r.variant] = r
        for group, found in by_group.items():
            variant, reference = found.get(self.variant), found.get(self.reference)
            if variant is None or reference is None or not reference.value:
                lines.append(f"{group}: {self.variant} or {self.reference} not measured")
                continue
            ratio, how = self.ratio(variant, reference)
            verdict = "met" if ratio >= self.min_ratio else "NOT met"
            lines.append(f"{group}: {self.variant} / {self.reference} = {ratio:.2f}"
                         f"{f' ({how})' if how else ''}"
                         f" (goal >= {self.min_ratio:.2f}: {verdict})")
        return lines


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    script: str  # relative to selftests/
    baseline: str  # variant every other one is compared with
    reduce: Callable[[Path], list[BenchRow]]
    timeout: float = 1800
    goal: Goal | None = None


def _natural_key(text: str) -> list[object]:
    """'vda qd32' after 'vda qd8': numbers compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def with_ratios(rows: list[BenchRow], baseline: str) -> list[BenchRow]:
    """Rows with their ratio to the baseline of their group, baseline first."""
    base = {r.group: r.value for r in rows if r.variant == baseline}
    out = []
    ordered = sorted(rows, key=lambda r: (_natural_key(r.group), r.variant != baseline))
    for r in ordered:
        ref = base.get(r.group)
        ratio = r.value / ref if ref else float("nan")
        out.append(BenchRow(r.group, r.variant, r.value, r.unit, r.p99_us, ratio, r.rounds))
    return out


def fio_read_stats(path: Path) -> tuple[float, float | None]:
    """(IOPS, p99 completion latency in µs) of the read side of a fio JSON."""
    job = json.loads(path.read_text())["jobs"][0]["read"]
    pct = job.get("clat_ns", {}).get("percentile", {})
    p99 = pct.get("99.000000")
    return float(job["iops"]), (p99 / 1000.0 if p99 is not None else None)


def job_total_iops(job: dict[str, Any]) -> float:
    """Read plus write IOPS of one fio job (a mixed workload counts both)."""
    return sum(float(job.get(side, {}).get("iops", 0.0)) for side in ("read", "write"))


def fio_total_iops(path: Path) -> float:
    """Read plus write IOPS of the first job of a fio JSON."""
    return job_total_iops(json.loads(path.read_text())["jobs"][0])


def reduce_fio_grid(shared: Path, subdir: str) -> list[BenchRow]:
    """Median total IOPS and read p99 over the rounds of bench/ufq.sh.

    Files are <device>_<workload>_<scheduler>_qd<N>_r<round>.json.  Device
    and workload names have no underscore; scheduler names may
    (ufq_simple), so they are what lies between the second and the
    qd field.
    """
    runs: dict[tuple[str, str], list[tuple[int, Path]]] = {}
    for path in (shared / subdir).glob("*.json"):
        device, workload, *rest = path.stem.split("_")
        rnd = 1
        if rest and rest[-1].startswith("r") and rest[-1][1:].isdigit():
            rnd = int(rest.pop()[1:])
        *sched, qd = rest
        runs.setdefault((f"{device} {workload} {qd}", "_".join(sched)), []).append((rnd, path))
    rows = []
    for (group, variant), numbered in sorted(runs.items()):
        paths = [path for _, path in sorted(numbered)]
        iops = tuple(fio_total_iops(path) for path in paths)
        p99s = [p for p in (fio_read_stats(path)[1] for path in paths) if p is not None]
        rows.append(BenchRow(group=group, variant=variant, value=_median(list(iops)),
                             unit="IOPS", p99_us=_median(p99s) if p99s else None,
                             rounds=iops if len(iops) > 1 else ()))
    return rows


def reduce_fio_pairs(shared: Path, subdir: str) -> list[BenchRow]:
    """The alternating runs of bench/ufq.sh's pairs, one fio JSON per
    <device>_<workload>_qd<N>.json with jobs named <scheduler>-<pair>:
    per scheduler the median IOPS, and the per-pair values as rounds."""
    rows = []
    for path in sorted((shared / subdir).glob("*.json")):
        device, workload, qd = path.stem.split("_")
        runs: dict[str, list[tuple[int, float]]] = {}
        for job in json.loads(path.read_text())["jobs"]:
            sched, _, pair = job["jobname"].rpartition("-")
            runs.setdefault(sched, []).append((int(pair), job_total_iops(job)))
        for sched, numbered in runs.items():
            values = tuple(iops for _, iops in sorted(numbered))
            rows.append(BenchRow(group=f"{device} {workload} {qd} paired", variant=sched,
                                 value=_median(list(values)), unit="IOPS", rounds=values))
    return rows


def reduce_fio_sched(shared: Path) -> list[BenchRow]:
    return reduce_fio_grid(shared, "fio_sched")


def reduce_fio_ufq(shared: Path) -> list[BenchRow]:
    return reduce_fio_grid(shared, "ufq") + reduce_fio_pairs(shared, "ufq/paired")


IOURING_VARIANTS = ("link2", "qd1", "bpf", "bpf_inline", "bpf_empty", "bpf_empty_ns",
                    "bpf_regions")


def reduce_iouring(shared: Path) -> list[BenchRow]:
    """Median NOP rate per variant of the io_uring NOP benchmark."""
    runs: dict[str, list[float]] = {}
    nops = 0
    for path in sorted((shared / "iouring").glob("*.json")):
        text = path.read_text().strip()
        if not text:
            continue
        res = json.loads(text)
        nops = res["nops"]
        runs.setdefault(res["variant"], []).append(res["nops"] / res["seconds"])
    rows = []
    for variant in IOURING_VARIANTS:
        rates = sorted(runs.get(variant, []))
        if rates:
            rows.append(BenchRow(group=f"{nops} NOPs", variant=variant,
                                 value=rates[len(rates) // 2], unit="NOPs/s"))
    return rows


BENCHMARKS: dict[str, Benchmark] = {
    "fio": Benchmark(
        name="fio",
        description="fio 4k random read, QD 1/8/32, null_blk and virtio-blk, per scheduler;"
                    " median of 3 rounds",
        script="bench/fio_sched.sh", baseline="none", reduce=reduce_fio_sched),
    "iouring": Benchmark(
        name="iouring",
        description="sequential NOPs: 2-NOP links per syscall, QD1 per syscall, BPF loop"
                    " (one NOP a step; inline: NOPs reaped within a step;"
                    " empty/regions: steps without NOPs)",
        script="bench/iouring.sh", baseline="link2", reduce=reduce_iouring,
        timeout=900),
    "ufq": Benchmark(
        name="ufq",
        description="fio 4k randread and 70/30 randrw, QD 1/8/32, null_blk and virtio-blk:"
                    " none, mq-deadline, kyber, bfq, ufq (no BPF), ufq + ufq_simple;"
                    " median of 3 rounds",
        script="bench/ufq.sh", baseline="none", reduce=reduce_fio_ufq, timeout=2700,
        goal=Goal(variant="ufq_simple", reference="mq-deadline", min_ratio=0.9,
                  groups="benchufq", paired_only=True)),
}

# former names of benchmarks
BENCHMARK_ALIASES = {"iou_nops": "iouring"}


def register(bench: Benchmark) -> None:
    """Add a benchmark (later features register theirs here)."""
    BENCHMARKS[bench.name] = bench


def bench_table(rows: list[BenchRow], baseline: str) -> str:
    return format_table(
        ["group", "variant", "value", "p99 lat", f"ratio to {baseline}"],
        [[r.group, r.variant, f"{r.value:,.0f} {r.unit}",
          f"{r.p99_us:,.0f} us" if r.p99_us is not None else "-",
          f"{r.ratio:.2f}" if r.ratio == r.ratio else "-"]
         for r in rows])


def plot(rows: list[BenchRow], bench: Benchmark, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys(r.group for r in rows))
    variants = list(dict.fromkeys(r.variant for r in rows))
    width = 0.8 / max(1, len(variants))
    fig, ax = plt.subplots(figsize=(max(6, len(groups) * 1.2), 4))
    for i, variant in enumerate(variants):
        values = [next((r.ratio for r in rows if r.group == g and r.variant == variant), 0.0)
                  for g in groups]
        ax.bar([x + i * width for x in range(len(groups))], values, width, label=variant)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks([x + width * (len(variants) - 1) / 2 for x in range(len(groups))])
    ax.set_xticklabels(groups, rotation=30, ha="right")
    ax.set_ylabel(f"{rows[0].unit if rows else ''} ratio to {bench.baseline}")
    ax.set_title(bench.description, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def resolve_names(names: list[str]) -> list[str]:
    """The benchmarks asked for, former names replaced, each once; all if none."""
    return list(dict.fromkeys(BENCHMARK_ALIASES.get(n, n) for n in names)) or list(BENCHMARKS)


def run_benchmarks(layout: Layout, names: list[str]) -> int:
    selected = resolve_names(names)
    unknown = [n for n in selected if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {sorted(BENCHMARKS)}", file=sys.stderr)
        return 2
    benches = [BENCHMARKS[n] for n in selected]
    disk = make_disk(layout.build_dir / "disks/bench.img", 1024)
    command = "\n".join(f"bash {layout.selftests_dir / b.script} || echo 'bench {b.name} failed'"
                        for b in benches)
    guest = run_in_guest(layout, command, name="bench", disks=[disk],
                         timeout=sum(b.timeout for b in benches),
                         env={"TEST_DISK": "/dev/vda", "KSRC": str(layout.tree)})
    out = layout.out_dir / "bench"
    out.mkdir(parents=True, exist_ok=True)
    rc = 0 if guest.ok else 1
    for bench in benches:
        rows = with_ratios(bench.reduce(guest.shared_dir), bench.baseline)
        if not rows:
            print(f"benchmark {bench.name}: no results", file=sys.stderr)
            rc = 1
            continue
        print(f"\n{bench.name}: {bench.description}")
        print(bench_table(rows, bench.baseline))
        if bench.goal:
            print("\n".join(["goal:"] + ["  " + line for line in bench.goal.verdicts(rows)]))
        (out / f"{bench.name}.json").write_text(json.dumps(
            {"benchmark": bench.name, "description": bench.description,
             "baseline": bench.baseline, "rows": [asdict(r) for r in rows]}, indent=1))
        plot(rows, bench, out / f"{bench.name}.png")
        print(f"written: {out / (bench.name + '.json')}, {out / (bench.name + '.png')}")
    if not guest.ok:
        print(guest.report(), file=sys.stderr)
    return rc
