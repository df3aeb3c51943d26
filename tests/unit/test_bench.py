"""Benchmark reduction: fio JSON and snapshots to rows, ratios to the baseline
with their spreads over the pairs, goals, checks, plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.bench import (BENCHMARKS, BenchRow, Goal, bench_table, check_fio_ufq, plot,
                           reduce_fio_sched, reduce_fio_ufq, with_ratios)

JOB_NS = 1_000_000_000  # every fake run lasts 1 s of guest time


def snapshot(now: int, idle: int, sched: dict[str, str] | None = None,
             bpf: list[int] | None = None, stat_busy: int = 0) -> str:
    """What selftests/bench/hook.sh prints."""
    text = (f"== cpu\nnow {now}\nidle {idle}\niowait 0\ncpus 1\n"
            f"== stat\ncpu  {stat_busy} 0 0 100 0 0 0 0 0 0\n")
    if sched is not None:
        text += "== ufq_sched\n" + "".join(f"{k} {v}\n" for k, v in sched.items())
        text += "== ufq_stats\ninserted 0\n"
    if bpf is not None:
        text += "== bpf_stats\n" + json.dumps(
            [{"key": i, "values": [{"cpu": 0, "value": v}]} for i, v in enumerate(bpf)]) + "\n"
    return text


ATTACHED = {"name": "ufq_simple", "state": "enabled", "queue_attached": "1"}


def write_case(shared: Path, subdir: str, case: str,
               runs: list[dict[str, Any]]) -> Path:
    """A case directory as selftests/bench/lib.sh leaves it.  Each run:
    variant, pair, read (IOPS), optional write, ios, busy (ns), p99 (ns),
    error, sched (ufq debugfs), bpf (ufq_simple counters before, after)."""
    d = shared / subdir / case
    d.mkdir(parents=True, exist_ok=True)
    jobs = []
    now = ticks = 0  # guest ns, /proc/stat busy ticks
    for run in runs:
        name = f"{run['variant']}-{run['pair']}"
        ios = run.get("ios", int(run["read"] + run.get("write", 0.0)))
        jobs.append({"jobname": name, "error": run.get("error", 0),
                     "read": {"iops": run["read"], "total_ios": ios,
                              "runtime": run.get("io_ms", 1000),
                              "clat_ns": {"percentile": {"99.000000": run.get("p99", 1000)}}},
                     "write": {"iops": run.get("write", 0.0), "total_ios": 0, "runtime": 0}})
        busy = run.get("busy", JOB_NS)
        bpf = run.get("bpf")
        sched = run.get("sched")
        (d / f"{name}.prerun.txt").write_text(
            snapshot(now, now, sched, bpf[0] if bpf else None, stat_busy=ticks))
        now += JOB_NS
        ticks += busy // 10_000_000
        (d / f"{name}.postrun.txt").write_text(
            snapshot(now, now - busy, sched, bpf[1] if bpf else None, stat_busy=ticks))
    (d / "fio.json").write_text(json.dumps({"global options": {"runtime": "1"},
                                            "jobs": jobs}))
    return d


def test_ratios_are_taken_within_each_group(tmp_path: Path) -> None:
    write_case(tmp_path, "fio_sched", "vda_randread_qd8", [
        {"variant": "none", "pair": 1, "read": 1000.0, "p99": 2_000_000},
        {"variant": "mq-deadline", "pair": 1, "read": 800.0, "p99": 3_000_000}])
    write_case(tmp_path, "fio_sched", "vda_randread_qd32", [
        {"variant": "none", "pair": 1, "read": 4000.0, "p99": 9_000_000},
        {"variant": "kyber", "pair": 1, "read": 5000.0, "p99": 8_000_000}])
    rows = with_ratios(reduce_fio_sched(tmp_path), "none")
    got = [(r.group, r.variant, round(r.ratio, 2), r.p99_us) for r in rows]
    assert got == [("vda randread qd8", "none", 1.0, 2000.0),
                   ("vda randread qd8", "mq-deadline", 0.8, 3000.0),
                   ("vda randread qd32", "none", 1.0, 9000.0),
                   ("vda randread qd32", "kyber", 1.25, 8000.0)]
    table = bench_table(rows, "none")
    assert "ratio to none" in table and "1.250" in table
    png = tmp_path / "fio.png"
    plot(rows, BENCHMARKS["fio"], png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_baseline_gives_nan_not_a_crash(tmp_path: Path) -> None:
    write_case(tmp_path, "fio_sched", "vda_randread_qd1",
               [{"variant": "bfq", "pair": 1, "read": 10.0}])
    rows = with_ratios(reduce_fio_sched(tmp_path), "none")
    assert rows[0].ratio != rows[0].ratio  # NaN
    assert rows[0].ratio_spread is None and rows[0].cost_ratio is None


def test_ufq_reduction_keeps_scheduler_names_with_underscores(tmp_path: Path) -> None:
    write_case(tmp_path, "ufq", "benchufq_randrw_qd8", [
        {"variant": "none", "pair": 1, "read": 700.0, "write": 300.0, "p99": 50_000},
        {"variant": "mq-deadline", "pair": 1, "read": 560.0, "write": 240.0, "p99": 60_000},
        {"variant": "ufq_simple", "pair": 1, "read": 490.0, "write": 210.0, "p99": 70_000}])
    write_case(tmp_path, "ufq", "vda_randread_qd1",
               [{"variant": "ufq_simple", "pair": 1, "read": 100.0, "p99": 10_000}])
    rows = with_ratios(reduce_fio_ufq(tmp_path), "none")
    got = [(r.group, r.variant, r.value, round(r.ratio, 2), r.p99_us) for r in rows]
    assert got[:3] == [("benchufq randrw qd8", "none", 1000.0, 1.0, 50.0),
                       ("benchufq randrw qd8", "mq-deadline", 800.0, 0.8, 60.0),
                       ("benchufq randrw qd8", "ufq_simple", 700.0, 0.7, 70.0)]
    device, variant, value, ratio, p99 = got[3]
    assert (device, variant, value, p99) == ("vda randread qd1", "ufq_simple", 100.0, 10.0)
    assert ratio != ratio  # no "none" measured in that group: NaN


def test_rounds_reduce_to_their_median(tmp_path: Path) -> None:
    write_case(tmp_path, "ufq", "benchufq_randread_qd1", [
        {"variant": "ufq_simple", "pair": p, "read": iops, "p99": p99}
        for p, (iops, p99) in enumerate([(900.0, 40_000), (300.0, 90_000),
                                         (1000.0, 30_000)], 1)]
        + [{"variant": "none", "pair": 1, "read": 1000.0, "p99": 30_000}])
    rows = with_ratios(reduce_fio_ufq(tmp_path), "none")
    got = [(r.group, r.variant, r.value, r.p99_us) for r in rows]
    # one slow pair moves neither the IOPS nor the p99
    assert got == [("benchufq randread qd1", "none", 1000.0, 30.0),
                   ("benchufq randread qd1", "ufq_simple", 900.0, 40.0)]
    assert rows[1].rounds == (900.0, 300.0, 1000.0)


def test_pairs_give_a_median_ratio_with_its_spread_and_the_cost(tmp_path: Path) -> None:
    runs = []
    for pair, (none, dl, busy_dl) in enumerate([(1000.0, 900.0, 0.5), (500.0, 400.0, 0.4),
                                                 (1000.0, 950.0, 0.6)], 1):
        order = [("none", none, 1.0), ("mq-deadline", dl, busy_dl)]
        for variant, iops, busy in order if pair % 2 else order[::-1]:
            runs.append({"variant": variant, "pair": pair, "read": iops,
                         "busy": int(busy * JOB_NS)})
    write_case(tmp_path, "fio_sched", "benchnull_randread_qd1", runs)
    none, dl = with_ratios(reduce_fio_sched(tmp_path), "none")
    assert dl.rounds == (900.0, 400.0, 950.0)
    assert dl.ratio_spread is not None
    assert (dl.ratio, dl.ratio_spread.low, dl.ratio_spread.high, dl.ratio_spread.n) == (
        0.9, 0.8, 0.95, 3)
    assert none.ratio_spread is not None and none.ratio_spread.text() == "1.00 (1.00..1.00)"
    # CPU per I/O: busy time / I/Os, per pair
    assert none.cost_rounds == (1e6, 2e6, 1e6)
    assert dl.cost_rounds == (0.5e9 / 900, 0.4e9 / 400, 0.6e9 / 950)
    assert dl.cost_ratio is not None
    assert round(dl.cost_ratio.low, 3) == 0.5 and round(dl.cost_ratio.high, 3) == 0.632


def test_goal_verdicts_per_group() -> None:
    goal = Goal(variant="ufq_simple", reference="mq-deadline", min_ratio=0.9, groups="benchufq")
    rows = [BenchRow("benchufq randread qd1", "mq-deadline", 100.0, "IOPS"),
            BenchRow("benchufq randread qd1", "ufq_simple", 95.0, "IOPS"),
            BenchRow("benchufq randread qd8", "mq-deadline", 100.0, "IOPS"),
            BenchRow("benchufq randread qd8", "ufq_simple", 80.0, "IOPS"),
            BenchRow("benchufq randrw qd8", "ufq_simple", 80.0, "IOPS"),
            BenchRow("vda randread qd1", "ufq_simple", 1.0, "IOPS")]
    assert [v.line() for v in goal.verdicts(rows)] == [
        "benchufq randread qd1: 0.950 (goal ufq_simple / mq-deadline IOPS >= 0.90: met)",
        "benchufq randread qd8: 0.800 (goal ufq_simple / mq-deadline IOPS >= 0.90: NOT met)",
        "benchufq randrw qd8: not measured (goal ufq_simple / mq-deadline IOPS >= 0.90:"
        " NOT met)"]
    assert [v.met for v in goal.verdicts(rows)] == [True, False, False]


def test_goal_takes_the_median_of_per_round_ratios() -> None:
    goal = Goal(variant="ufq_simple", reference="mq-deadline", min_ratio=0.9)
    # round 2 ran on a slow host for both: the per-round ratios stay close
    rows = [BenchRow("g", "mq-deadline", 1000.0, "IOPS", rounds=(1000.0, 500.0, 1100.0)),
            BenchRow("g", "ufq_simple", 950.0, "IOPS", rounds=(950.0, 480.0, 1000.0))]
    (verdict,) = goal.verdicts(rows)
    assert verdict.line() == (
        "g: 0.950 (0.909..0.960) over 3 pairs (goal ufq_simple / mq-deadline IOPS >= 0.90: met)")
    assert verdict.pairs == (0.95, 0.96, 1000.0 / 1100.0)


def test_goal_is_met_only_when_the_whole_spread_is() -> None:
    goal = Goal(variant="ufq_simple", reference="mq-deadline", min_ratio=0.95)
    rows = [BenchRow("g", "mq-deadline", 100.0, "IOPS", rounds=(100.0, 100.0, 100.0)),
            BenchRow("g", "ufq_simple", 99.0, "IOPS", rounds=(99.0, 94.9, 99.0))]
    (verdict,) = goal.verdicts(rows)
    assert verdict.ratio is not None and verdict.ratio.median == 0.99
    assert not verdict.met  # the median is well past it, one pair is not
    assert verdict.line().endswith("NOT met)")


def test_cost_goal_bounds_every_pair_from_above() -> None:
    goal = Goal(variant="ufq_simple", reference="mq-deadline", max_cost_ratio=1.1,
                groups="^benchq ")
    def rows(costs: tuple[float, ...]) -> list[BenchRow]:
        return [BenchRow("benchq randread qd32", "mq-deadline", 1.0, "IOPS",
                         cost=10.0, cost_rounds=(10.0, 10.0, 10.0)),
                BenchRow("benchq randread qd32", "ufq_simple", 1.0, "IOPS",
                         cost=costs[1], cost_rounds=costs),
                BenchRow("benchufq randread qd32", "ufq_simple", 1.0, "IOPS", cost=99.0)]
    (ok,) = goal.verdicts(rows((10.5, 10.8, 11.0)))
    assert ok.met and ok.ratio is not None and ok.ratio.high == 1.1
    (bad,) = goal.verdicts(rows((10.5, 10.8, 11.2)))
    assert not bad.met
    assert "CPU per op <= 1.10: NOT met" in bad.line()


def test_ufq_goals_judge_every_pair_on_both_null_blk_devices() -> None:
    goals = BENCHMARKS["ufq"].goals
    assert [(g.min_ratio, g.max_cost_ratio) for g in goals] == [(0.95, None), (None, 1.1)]
    rows = []
    for group in ("benchufq randread qd1", "benchq randrw qd32", "vda randread qd1"):
        rows += [BenchRow(group, "mq-deadline", 100.0, "IOPS", rounds=(100.0, 50.0, 90.0),
                          cost=1.0, cost_rounds=(1.0, 1.0, 1.0)),
                 BenchRow(group, "ufq_simple", 96.0, "IOPS", rounds=(96.0, 48.0, 88.0),
                          cost=1.05, cost_rounds=(1.05, 1.0, 1.09))]
    iops, cpu = (g.verdicts(rows) for g in goals)
    assert [(v.group, v.met) for v in iops] == [("benchufq randread qd1", True),
                                                ("benchq randrw qd32", True)]
    assert [(v.group, v.met) for v in cpu] == [("benchq randrw qd32", True)]


def ufq_runs(direct: int = 1, inserted: int = 900, attached: dict[str, str] = ATTACHED,
             error: int = 0, ios: int = 900) -> list[dict[str, Any]]:
    """A queued case: two pairs of mq-deadline and ufq_simple, alternating."""
    after = [direct, inserted - direct, 0, 0] + [0] * 9
    runs: list[dict[str, Any]] = []
    for pair in (1, 2):
        pair_runs: list[dict[str, Any]] = [
            {"variant": "mq-deadline", "pair": pair, "read": 900.0, "ios": 900},
            {"variant": "ufq_simple", "pair": pair, "read": 900.0, "ios": ios, "error": error,
             "sched": attached, "bpf": ([0] * 13, after)}]
        runs += pair_runs if pair == 1 else pair_runs[::-1]
    return runs


def test_queued_case_checks_pass(tmp_path: Path) -> None:
    write_case(tmp_path, "ufq", "benchq_randread_qd32", ufq_runs())
    result = check_fio_ufq(tmp_path)
    assert result.problems == []
    assert result.notes == ["benchq randread qd32: ufq_simple dispatched 0.001 (0.001..0.001)"
                            " of its requests directly from insert_req (checked < 0.10)",
                            "CPU time cross-check: /proc/stat's busy time (10 ms units) is"
                            " 1.000 (1.000..1.000) times the ns figure over 4 runs"]


def test_queued_case_with_direct_dispatches_fails(tmp_path: Path) -> None:
    write_case(tmp_path, "ufq", "benchq_randread_qd32", ufq_runs(direct=100))
    (problem,) = check_fio_ufq(tmp_path).problems
    assert "dispatched up to 11.1% of its requests directly" in problem
    # the same on the plain device is what it is built for: no problem
    write_case(tmp_path / "plain", "ufq", "benchufq_randread_qd32", ufq_runs(direct=900))
    assert check_fio_ufq(tmp_path / "plain").problems == []


def test_ufq_simple_must_serve_its_runs(tmp_path: Path) -> None:
    detached = {"name": "ufq_simple", "state": "enabled", "queue_attached": "0"}
    write_case(tmp_path, "ufq", "benchufq_randread_qd1", ufq_runs(attached=detached))
    problems = check_fio_ufq(tmp_path).problems
    assert len(problems) == 4  # before and after each of the two runs
    assert all("ufq_simple did not serve the queue" in p for p in problems)


def test_ufq_simple_counters_must_grow_by_the_ios(tmp_path: Path) -> None:
    write_case(tmp_path, "ufq", "benchufq_randread_qd1", ufq_runs(inserted=500))
    problems = check_fio_ufq(tmp_path).problems
    assert len(problems) == 2
    assert "grew by 500 requests and bios, fewer than 99% of the 900 I/Os" in problems[0]


def test_fio_errors_and_missing_snapshots_fail(tmp_path: Path) -> None:
    case = write_case(tmp_path, "ufq", "benchufq_randread_qd1", ufq_runs(error=5))
    (case / "mq-deadline-2.postrun.txt").unlink()
    problems = check_fio_ufq(tmp_path).problems
    assert "benchufq randread qd1 ufq_simple pair 1: fio error 5" in problems
    assert "benchufq randread qd1 mq-deadline pair 2: no mq-deadline-2.postrun.txt" in problems
    assert "benchufq randread qd1 mq-deadline pair 2: no CPU time snapshot" in problems


def test_a_run_that_did_io_for_part_of_its_runtime_fails(tmp_path: Path) -> None:
    runs = ufq_runs()
    runs[0]["io_ms"] = 400  # guest time ran on while the guest waited for the host
    write_case(tmp_path, "ufq", "benchufq_randread_qd1", runs)
    assert check_fio_ufq(tmp_path).problems == [
        "benchufq randread qd1 mq-deadline pair 1: did I/O for 400 ms of its 1000 ms"]


def test_pair_order_must_alternate(tmp_path: Path) -> None:
    runs = [{"variant": v, "pair": p, "read": 1.0} for p in (1, 2) for v in ("none", "ufq")]
    for run in runs:
        if run["variant"] == "ufq":
            run["sched"] = {"name": "none", "state": "disabled", "queue_attached": "0"}
    write_case(tmp_path, "ufq", "benchufq_randread_qd1", runs)
    assert check_fio_ufq(tmp_path).problems == [
        "benchufq randread qd1: pair 2 runs none, ufq after pair 1's none, ufq"
        " (the order must alternate)"]


def test_ufq_without_bpf_must_not_be_served_by_bpf(tmp_path: Path) -> None:
    write_case(tmp_path, "ufq", "benchufq_randread_qd1",
               [{"variant": "ufq", "pair": 1, "read": 1.0, "sched": ATTACHED}])
    assert check_fio_ufq(tmp_path).problems == [
        "benchufq randread qd1 ufq pair 1: a BPF scheduler served the queue (queue_attached 1)"]


def test_no_results_is_a_problem(tmp_path: Path) -> None:
    assert check_fio_ufq(tmp_path).problems == ["ufq: no results"]
    (tmp_path / "ufq/.state").mkdir(parents=True)  # hook.sh's, not a case
    assert check_fio_ufq(tmp_path).problems == ["ufq: no results"]
