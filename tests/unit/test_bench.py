"""Benchmark reduction: fio JSON to rows, ratios to the baseline, plots."""

from __future__ import annotations

import json
from pathlib import Path

from harness.bench import (BENCHMARKS, BenchRow, Goal, bench_table, plot, reduce_fio_sched,
                           reduce_fio_ufq, with_ratios)


def fio_json(path: Path, iops: float, p99_ns: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"jobs": [{"read": {
        "iops": iops, "clat_ns": {"percentile": {"99.000000": p99_ns}}}}]}))


def test_ratios_are_taken_within_each_group(tmp_path: Path) -> None:
    d = tmp_path / "fio_sched"
    fio_json(d / "vda_randread_none_qd8_r1.json", 1000.0, 2_000_000)
    fio_json(d / "vda_randread_mq-deadline_qd8_r1.json", 800.0, 3_000_000)
    fio_json(d / "vda_randread_none_qd32_r1.json", 4000.0, 9_000_000)
    fio_json(d / "vda_randread_kyber_qd32_r1.json", 5000.0, 8_000_000)
    rows = with_ratios(reduce_fio_sched(tmp_path), "none")
    got = [(r.group, r.variant, round(r.ratio, 2), r.p99_us) for r in rows]
    assert got == [("vda randread qd8", "none", 1.0, 2000.0),
                   ("vda randread qd8", "mq-deadline", 0.8, 3000.0),
                   ("vda randread qd32", "none", 1.0, 9000.0),
                   ("vda randread qd32", "kyber", 1.25, 8000.0)]
    table = bench_table(rows, "none")
    assert "ratio to none" in table and "1.25" in table
    png = tmp_path / "fio.png"
    plot(rows, BENCHMARKS["fio"], png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_baseline_gives_nan_not_a_crash(tmp_path: Path) -> None:
    fio_json(tmp_path / "fio_sched/vda_randread_bfq_qd1_r1.json", 10.0, 1000)
    rows = with_ratios(reduce_fio_sched(tmp_path), "none")
    assert rows[0].ratio != rows[0].ratio  # NaN


def fio_mixed_json(path: Path, read_iops: float, write_iops: float, p99_ns: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"jobs": [{
        "read": {"iops": read_iops, "clat_ns": {"percentile": {"99.000000": p99_ns}}},
        "write": {"iops": write_iops}}]}))


def test_ufq_reduction_keeps_scheduler_names_with_underscores(tmp_path: Path) -> None:
    d = tmp_path / "ufq"
    fio_mixed_json(d / "benchufq_randrw_none_qd8.json", 700.0, 300.0, 50_000)
    fio_mixed_json(d / "benchufq_randrw_mq-deadline_qd8.json", 560.0, 240.0, 60_000)
    fio_mixed_json(d / "benchufq_randrw_ufq_simple_qd8.json", 490.0, 210.0, 70_000)
    fio_mixed_json(d / "vda_randread_ufq_simple_qd1.json", 100.0, 0.0, 10_000)
    rows = with_ratios(reduce_fio_ufq(tmp_path), "none")
    got = [(r.group, r.variant, r.value, round(r.ratio, 2), r.p99_us) for r in rows]
    assert got[:3] == [("benchufq randrw qd8", "none", 1000.0, 1.0, 50.0),
                       ("benchufq randrw qd8", "mq-deadline", 800.0, 0.8, 60.0),
                       ("benchufq randrw qd8", "ufq_simple", 700.0, 0.7, 70.0)]
    device, variant, value, ratio, p99 = got[3]
    assert (device, variant, value, p99) == ("vda randread qd1", "ufq_simple", 100.0, 10.0)
    assert ratio != ratio  # no "none" measured in that group: NaN


def test_rounds_reduce_to_their_median(tmp_path: Path) -> None:
    d = tmp_path / "ufq"
    for rnd, (iops, p99) in enumerate([(900.0, 40_000), (300.0, 90_000), (1000.0, 30_000)], 1):
        fio_json(d / f"benchufq_randread_ufq_simple_qd1_r{rnd}.json", iops, p99)
    fio_json(d / "benchufq_randread_none_qd1_r1.json", 1000.0, 30_000)
    rows = with_ratios(reduce_fio_ufq(tmp_path), "none")
    got = [(r.group, r.variant, r.value, r.p99_us) for r in rows]
    # one slow round (a busy host) moves neither the IOPS nor the p99
    assert got == [("benchufq randread qd1", "none", 1000.0, 30.0),
                   ("benchufq randread qd1", "ufq_simple", 900.0, 40.0)]


def test_goal_verdicts_per_group() -> None:
    goal = Goal(variant="ufq_simple", reference="mq-deadline", min_ratio=0.9, groups="benchufq")
    rows = [BenchRow("benchufq randread qd1", "mq-deadline", 100.0, "IOPS"),
            BenchRow("benchufq randread qd1", "ufq_simple", 95.0, "IOPS"),
            BenchRow("benchufq randread qd8", "mq-deadline", 100.0, "IOPS"),
            BenchRow("benchufq randread qd8", "ufq_simple", 80.0, "IOPS"),
            BenchRow("benchufq randrw qd8", "ufq_simple", 80.0, "IOPS"),
            BenchRow("vda randread qd1", "ufq_simple", 1.0, "IOPS")]
    assert goal.verdicts(rows) == [
        "benchufq randread qd1: ufq_simple / mq-deadline = 0.95 (goal >= 0.90: met)",
        "benchufq randread qd8: ufq_simple / mq-deadline = 0.80 (goal >= 0.90: NOT met)",
        "benchufq randrw qd8: ufq_simple or mq-deadline not measured"]


def test_goal_takes_the_median_of_per_round_ratios() -> None:
    goal = Goal(variant="ufq_simple", reference="mq-deadline", min_ratio=0.9)
    # round 2 ran on a slow host for both: the per-round ratios stay close
    rows = [BenchRow("g", "mq-deadline", 1000.0, "IOPS", rounds=(1000.0, 500.0, 1100.0)),
            BenchRow("g", "ufq_simple", 950.0, "IOPS", rounds=(950.0, 480.0, 1000.0))]
    assert goal.verdicts(rows) == [
        "g: ufq_simple / mq-deadline = 0.95 (median of 3 paired ratios: 0.95, 0.96, 0.91)"
        " (goal >= 0.90: met)"]


def test_paired_runs_decide_the_goal(tmp_path: Path) -> None:
    d = tmp_path / "ufq"
    fio_json(d / "benchufq_randread_mq-deadline_qd1_r1.json", 1000.0, 1000)
    fio_json(d / "benchufq_randread_ufq_simple_qd1_r1.json", 500.0, 1000)
    jobs = [{"jobname": f"{sched}-{pair}", "read": {"iops": iops}, "write": {"iops": 0.0}}
            for pair, (dl, simple) in enumerate([(100.0, 95.0), (50.0, 48.0), (90.0, 88.0)], 1)
            for sched, iops in (("mq-deadline", dl), ("ufq_simple", simple))]
    (d / "paired").mkdir(parents=True)
    (d / "paired" / "benchufq_randread_qd1.json").write_text(json.dumps({"jobs": jobs}))
    rows = with_ratios(reduce_fio_ufq(tmp_path), "none")
    paired = [r for r in rows if r.group == "benchufq randread qd1 paired"]
    assert [(r.variant, r.rounds) for r in paired] == [
        ("mq-deadline", (100.0, 50.0, 90.0)), ("ufq_simple", (95.0, 48.0, 88.0))]
    # the goal looks at the pairs, not at the single rounds
    assert BENCHMARKS["ufq"].goal is not None
    assert BENCHMARKS["ufq"].goal.verdicts(rows) == [
        "benchufq randread qd1 paired: ufq_simple / mq-deadline = 0.96"
        " (median of 3 paired ratios: 0.95, 0.96, 0.98) (goal >= 0.90: met)"]
    assert "-" in bench_table(paired, "none").splitlines()[-1].split()[-1]
