"""The io_uring NOP benchmark reducer: median rate per variant, ratios to link2
pair by pair, guest ns per NOP, checks and goals."""

from __future__ import annotations

import json
from pathlib import Path

from harness.bench import (BENCHMARKS, check_iouring, evaluate, reduce_iouring, resolve_names,
                           with_ratios)


def _run(dirpath: Path, variant: str, run: int, seconds: float, nops: int = 1000) -> None:
    dirpath.mkdir(parents=True, exist_ok=True)
    (dirpath / f"{variant}_{run}.json").write_text(
        json.dumps({"variant": variant, "nops": nops, "seconds": seconds}) + "\n")


def test_reduce_iouring(tmp_path: Path) -> None:
    out = tmp_path / "iouring"
    out.mkdir()
    for run, secs in enumerate([0.010, 0.020, 0.012], 1):
        _run(out, "link2", run, secs)
    for run, secs in enumerate([0.004, 0.005, 0.100], 1):
        _run(out, "bpf", run, secs)
    (out / "qd1_1.json").write_text("")  # a run that failed: ignored
    rows = with_ratios(reduce_iouring(tmp_path), "link2")
    assert [r.variant for r in rows] == ["link2", "bpf"]
    link2, bpf = rows
    assert link2.group == bpf.group == "1000 NOPs"
    assert link2.value == 1000 / 0.012 and link2.ratio == 1.0
    assert bpf.value == 1000 / 0.005
    # the ratio is the median of the per-run ratios: 2.5, 4.0 and 0.12
    assert abs(bpf.ratio - 0.010 / 0.004) < 1e-9
    assert bpf.ratio_spread is not None
    assert abs(bpf.ratio_spread.low - 0.012 / 0.100) < 1e-9
    assert abs(bpf.ratio_spread.high - 0.020 / 0.005) < 1e-9
    # guest ns per NOP: instructions under icount
    assert bpf.cost_rounds == (4000.0, 5000.0, 100000.0) and bpf.cost == 5000.0
    assert check_iouring(tmp_path).problems == ["iouring run qd1_1 left no result",
                                                "iouring qd1: 0 runs of 3",
                                                "iouring bpf_inline: 0 runs of 3",
                                                "iouring bpf_empty: 0 runs of 3",
                                                "iouring bpf_empty_ns: 0 runs of 3",
                                                "iouring bpf_regions: 0 runs of 3"]


def test_iouring_goals_in_instructions_with_the_wall_clock_beside(tmp_path: Path) -> None:
    icount, wall = tmp_path / "icount", tmp_path / "wall"
    per_nop = {"link2": 685e-9, "qd1": 896e-9, "bpf": 661e-9, "bpf_inline": 361e-9,
               "bpf_empty": 300e-9, "bpf_empty_ns": 250e-9, "bpf_regions": 400e-9}
    for run in (1, 2, 3):
        for variant, secs in per_nop.items():
            _run(icount / "iouring", variant, run, secs * 100000, nops=100000)
            _run(wall / "iouring", variant, run, secs * 100000 * (2 if variant == "bpf" else 1),
                 nops=100000)
    report = evaluate(BENCHMARKS["iouring"], icount, 0, wall_shared=wall)
    assert report.problems == []
    bpf = next(r for r in report.rows if r.variant == "bpf")
    assert bpf.wall_ratio is not None and abs(bpf.wall_ratio.median - 685 / 1322) < 1e-9
    assert [(v.goal, v.met) for v in report.verdicts] == [
        ("bpf / link2 NOPs/s >= 1.25", False), ("bpf_inline / link2 NOPs/s >= 2.00", False)]
    assert not report.ok  # a missed goal fails the benchmark
    (bpf_goal, inline_goal) = report.verdicts
    assert bpf_goal.ratio is not None and abs(bpf_goal.ratio.median - 685 / 661) < 1e-9


def test_former_name_runs_iouring() -> None:
    assert resolve_names(["iou_nops"]) == ["iouring"]
    assert resolve_names(["iouring", "iou_nops", "fio"]) == ["iouring", "fio"]
    assert resolve_names([]) == list(BENCHMARKS)
