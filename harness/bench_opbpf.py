"""The IORING_OP_BPF benchmark (``python -m harness bench opbpf``,
selftests/bench/opbpf.sh running selftests/iouring's iou_opbpf_bench).

What a BPF operation costs per request, the figure the review of Ming
Lei's series asked for and nobody posted, as ratios measured in one guest
run on the benchmark kernel (harness.bench: instruction-count clock, runs
of every variant in alternating order, medians of the per-run ratios with
their spread, goals judged on the whole spread):

- ``64 per enter``: 64 IORING_OP_BPF operations per io_uring_enter(2)
  (issue_fn only; ``bpf64_all`` with all four callbacks) against 64 NOPs
  (goal: at most 1.5x the NOP's cost per request);
- ``3-request link``: NOP -> BPF -> NOP against NOP -> NOP -> NOP;
- ``READ -> XOR -> WRITE``: 4 KiB blocks between two tmpfs files with a
  transform of every word between the READ and the WRITE: in user space
  between two enters (the baseline), as a BPF operation linked between them
  (one enter per block), and by the BPF event loop between the completions
  (one enter for all);
- ``NOP, option unused``: 64 NOPs per enter on a ring without
  IORING_SETUP_BPF_EXT, on the benchmark kernel (``built_in``) against the
  same program on the benchmark kernel built without CONFIG_IO_URING_BPF_EXT
  (``not_built``, profile ``bench-noext``: the config differs in that option
  only).  A config option cannot differ within one guest, so the second
  kernel runs in a guest of its own right after the first, with the same
  command, clock and program; run i of one is paired with run i of the other
  (goal: at most 1.01x, the same cost within icount's run-to-run spread).

The cost is guest ns per request (per block for the transforms):
instructions under icount.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.bench import (
    Benchmark, BenchRow, CheckResult, Goal, OtherKernel, _median, register)

SUBDIR = "opbpf"
NOEXT_SUBDIR = "opbpf/noext"  # the bench-noext kernel's runs, copied in
NOEXT_PROFILE = "bench-noext"
PLAIN = "nop64_plain"  # the variant that runs on both kernels

# program variant -> (group, variant shown); its group's baseline first
GROUPS: dict[str, tuple[str, str]] = {
    "nop64": ("64 per enter", "nop64"),
    "bpf64": ("64 per enter", "bpf64"),
    "bpf64_all": ("64 per enter", "bpf64_all"),
    "link3": ("3-request link", "link3"),
    "link_bpf": ("3-request link", "link_bpf"),
    "xf_user": ("READ -> XOR -> WRITE 4 KiB", "xf_user"),
    "xf_link": ("READ -> XOR -> WRITE 4 KiB", "xf_link"),
    "xf_loop": ("READ -> XOR -> WRITE 4 KiB", "xf_loop"),
    PLAIN: ("NOP, option unused", "built_in"),
}
NOT_BUILT = "not_built"
UNITS = {"READ -> XOR -> WRITE 4 KiB": "blocks/s"}
BASELINES = (("^64 per enter$", "nop64"), ("^3-request link$", "link3"),
             ("^READ -> XOR -> WRITE", "xf_user"), ("^NOP, option unused$", NOT_BUILT))


def read_runs(results: Path) -> tuple[dict[str, list[tuple[int, int, float]]], list[str]]:
    """Per program variant (run, requests, seconds) from ``<variant>_<run>.json``
    files, and the runs that left no (or a garbled) result."""
    runs: dict[str, list[tuple[int, int, float]]] = {}
    failed: list[str] = []
    if not results.is_dir():
        return runs, failed
    for path in sorted(results.glob("*.json")):
        variant, _, run = path.stem.rpartition("_")
        try:
            res = json.loads(path.read_text().strip() or "null")
            requests, seconds = int(res["requests"]), float(res["seconds"])
        except (TypeError, KeyError, ValueError):
            failed.append(path.stem)
            continue
        if not run.isdigit() or res.get("variant") != variant or requests <= 0 or seconds <= 0:
            failed.append(path.stem)
            continue
        runs.setdefault(variant, []).append((int(run), requests, seconds))
    return runs, failed


def _row(group: str, variant: str, numbered: list[tuple[int, int, float]]) -> BenchRow:
    numbered = sorted(numbered)
    rates = tuple(n / s for _, n, s in numbered)
    costs = tuple(s * 1e9 / n for _, n, s in numbered)
    return BenchRow(group=group, variant=variant, value=_median(rates),
                    unit=UNITS.get(group, "requests/s"), rounds=rates,
                    cost=_median(costs), cost_rounds=costs)


def reduce_opbpf(shared: Path) -> list[BenchRow]:
    """Per variant: the median rate over the runs, the per-run rates, and
    guest ns per request (per block for the transforms); the not_built row
    from the bench-noext kernel's runs of nop64_plain."""
    runs, _ = read_runs(shared / SUBDIR)
    rows = [_row(*GROUPS[v], runs[v]) for v in GROUPS if runs.get(v)]
    noext, _ = read_runs(shared / NOEXT_SUBDIR)
    if noext.get(PLAIN):
        rows.append(_row(GROUPS[PLAIN][0], NOT_BUILT, noext[PLAIN]))
    return rows


def order_problems(order_file: Path, variants: list[str]) -> list[str]:
    """Each run ran every variant once, in the reverse order of the run
    before (``<run> <variant>`` lines, as opbpf.sh wrote them)."""
    if not order_file.exists():
        return [f"{order_file}: missing"]
    by_run: dict[int, list[str]] = {}
    for line in order_file.read_text().splitlines():
        run, _, variant = line.partition(" ")
        if run.isdigit() and variant:
            by_run.setdefault(int(run), []).append(variant)
    problems = []
    runs = [by_run[r] for r in sorted(by_run)]
    for i, order in enumerate(runs):
        if sorted(order) != sorted(variants):
            problems.append(f"run {i + 1} ran {', '.join(order)}, not every variant once")
        elif i and order != runs[i - 1][::-1]:
            problems.append(f"run {i + 1} runs {', '.join(order)} after run {i}'s"
                            f" {', '.join(runs[i - 1])} (the order must alternate)")
    return problems


def check_opbpf(shared: Path) -> CheckResult:
    """Every variant ran as often as the others, on the bench-noext kernel
    too, no run failed, the orders alternate."""
    runs, failed = read_runs(shared / SUBDIR)
    noext, noext_failed = read_runs(shared / NOEXT_SUBDIR)
    result = CheckResult([f"opbpf run {name} left no result" for name in failed]
                         + [f"opbpf run {name} on the {NOEXT_PROFILE} kernel left no result"
                            for name in noext_failed])
    counts = {v: len(runs.get(v, [])) for v in GROUPS}
    counts[f"{PLAIN} ({NOEXT_PROFILE})"] = len(noext.get(PLAIN, []))
    most = max(counts.values())
    if not most:
        result.problems.append("opbpf: no results")
        return result
    result.problems += [f"opbpf {v}: {n} runs of {most}" for v, n in counts.items() if n < most]
    extra = sorted(set(noext) - {PLAIN})
    if extra:
        result.problems.append(f"opbpf on the {NOEXT_PROFILE} kernel ran {extra}")
    result.problems += [f"opbpf: {p}" for p in order_problems(shared / SUBDIR / "order",
                                                              [v for v in GROUPS if runs.get(v)])]
    result.notes.append(
        f"not_built: the same program on the {NOEXT_PROFILE} kernel (the bench config without"
        " CONFIG_IO_URING_BPF_EXT) in a second guest, run i paired with run i of the first")
    return result


OPBPF_BENCHMARK = Benchmark(
    name="opbpf",
    description="IORING_OP_BPF per request: 64 BPF ops vs 64 NOPs per enter, NOP -> BPF -> NOP"
                " vs 3 NOPs linked, READ -> XOR -> WRITE of 4 KiB blocks in user space / a"
                " linked BPF op / the BPF loop, a NOP with IO_URING_BPF_EXT built in but unused"
                " vs not built; 5 alternating runs",
    script="bench/opbpf.sh", baseline="nop64", reduce=reduce_opbpf, check=check_opbpf,
    timeout=900, cost_label="ns/op", group_baselines=BASELINES,
    other_kernels=(OtherKernel(profile=NOEXT_PROFILE, env=(("OPBPF_VARIANTS", PLAIN),),
                               results=SUBDIR, into=NOEXT_SUBDIR),),
    goals=(Goal(variant="bpf64", reference="nop64", max_cost_ratio=1.5,
                groups="^64 per enter$"),
           Goal(variant="built_in", reference=NOT_BUILT, max_cost_ratio=1.01,
                groups="^NOP, option unused$")))
register(OPBPF_BENCHMARK)
