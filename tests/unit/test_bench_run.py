"""How `harness bench` judges a run: script statuses, checks and goals make
the exit status; snapshots give CPU time; the report's Markdown."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import harness.bench as bench_mod
from harness.bench import (BENCHMARKS, Benchmark, BenchRow, CheckResult, Goal, busy_ns,
                           evaluate, guest_command, markdown, parse_snapshot, run_benchmarks,
                           script_status, stat_busy_ns)
from harness.layout import Layout
from harness.vm import GuestRun

TIMER_LIST_SNAPSHOT = """\
== cpu
now 5000000000
idle 1000000000
iowait 250000000
cpus 1
== stat
cpu  10 0 20 30 5 1 2 0 0 0
== ufq_sched
name ufq_simple
state enabled
queue_attached 1
exit_kind none
exit_reason
== bpf_stats
[{"key": ["0x00", "0x00", "0x00", "0x00"], "values": [{"cpu": 0, "value": ["0x01"]}],
  "formatted": {"key": 0, "values": [{"cpu": 0, "value": 7}]}},
 {"key": ["0x01", "0x00", "0x00", "0x00"], "values": [{"cpu": 0, "value": ["0x01"]}],
  "formatted": {"key": 1, "values": [{"cpu": 0, "value": 3}, {"cpu": 1, "value": 2}]}}]
"""


def test_snapshots_give_busy_time_and_counters() -> None:
    pre = parse_snapshot(TIMER_LIST_SNAPSHOT)
    post = parse_snapshot(TIMER_LIST_SNAPSHOT.replace("now 5000000000", "now 6000000000")
                          .replace("idle 1000000000", "idle 1600000000")
                          .replace("cpu  10 0 20", "cpu  20 0 50"))
    assert pre.values("ufq_sched")["queue_attached"] == "1"
    assert pre.values("ufq_sched")["exit_reason"] == ""
    assert pre.bpf_stats() == [7, 5]
    assert pre.errors == []
    # 1 s elapsed, 0.6 s of it idle
    assert busy_ns(pre, post) == 400_000_000
    # /proc/stat: 40 more ticks of 10 ms
    assert stat_busy_ns(pre, post) == 400_000_000
    assert busy_ns(pre, parse_snapshot("== stat\ncpu 1 2 3 4 5 6 7 8\n")) is None


def test_snapshot_errors_and_unusable_bpf_stats() -> None:
    snap = parse_snapshot("stray line\n== cpu\nnow 1\n== error\ncannot select ufq on /dev/x\n"
                          "== bpf_stats\n{\"error\": \"no such map\"}\n")
    assert snap.errors == ["stray line", "cannot select ufq on /dev/x"]
    assert snap.bpf_stats() is None
    two_maps = parse_snapshot("== bpf_stats\n[[], []]\n")
    assert two_maps.bpf_stats() is None


def _bench(goal_ratio: float) -> Benchmark:
    def reduce(shared: Path) -> list[BenchRow]:
        return [BenchRow("g", "base", 100.0, "IOPS", rounds=(100.0, 100.0)),
                BenchRow("g", "new", 99.0, "IOPS", rounds=(98.0, 100.0))]

    def check(shared: Path) -> CheckResult:
        return CheckResult(notes=["looked"])

    return Benchmark(name="x", description="", script="bench/x.sh", baseline="base",
                     reduce=reduce, check=check,
                     goals=(Goal(variant="new", reference="base", min_ratio=goal_ratio),))


def test_evaluate_fails_on_a_failed_script_or_a_missed_goal(tmp_path: Path) -> None:
    ok = evaluate(_bench(0.97), tmp_path, 0)
    assert ok.ok and ok.problems == [] and ok.notes == ["looked"]
    assert ok.rows[1].ratio_spread is not None and ok.rows[1].ratio_spread.low == 0.98
    failed = evaluate(_bench(0.97), tmp_path, 3)
    assert not failed.ok and failed.problems == ["bench/x.sh exited with status 3"]
    assert evaluate(_bench(0.97), tmp_path, None).problems == ["bench/x.sh did not finish"]
    missed = evaluate(_bench(0.99), tmp_path, 0)  # median 0.99, one pair 0.98
    assert missed.problems == [] and not missed.goals_met and not missed.ok
    text = markdown(missed, "python -m harness bench x", {"clock": "icount"})
    assert "| new / base IOPS >= 0.99 | g | 0.990 (0.980..1.000) | NOT met |" in text
    assert "| g | new | 99 | 0.990 (0.980..1.000) | - | - |" in text
    assert "| g | base | 100 | 1 | - | 1 |" in text
    assert text.startswith("`python -m harness bench x`")


def test_no_rows_fail(tmp_path: Path) -> None:
    bench = Benchmark(name="y", description="", script="bench/y.sh", baseline="b",
                      reduce=lambda shared: [])
    assert evaluate(bench, tmp_path, 0).problems == ["benchmark y: no results"]


def test_guest_command_records_statuses_and_fails_if_a_script_fails(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "selftests/bench").mkdir(parents=True)
    (repo / "selftests/bench/good.sh").write_text("echo good\n")
    (repo / "selftests/bench/bad.sh").write_text("exit 7\n")
    benches = [Benchmark(name=n, description="", script=f"bench/{n}.sh", baseline="b",
                         reduce=lambda shared: []) for n in ("bad", "good")]
    shared = tmp_path / "shared"
    shared.mkdir()
    proc = subprocess.run(["sh", "-c", guest_command(Layout(repo=repo), benches)],
                          env={"HARNESS_SHARED": str(shared), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "bench bad failed (exit 7)" in proc.stdout and "good" in proc.stdout
    assert script_status(shared, "bad") == 7 and script_status(shared, "good") == 0
    assert script_status(shared, "never") is None


def test_every_benchmark_checks_its_runs_and_needs_one_cpu() -> None:
    for bench in BENCHMARKS.values():
        assert bench.check is not None, bench.name
        assert bench.cpus == 1, bench.name
    assert json.dumps([g.text() for b in BENCHMARKS.values() for g in b.goals])


def _fake_guest(tmp_path: Path, statuses: dict[str, int], seconds: float = 661e-9
                ) -> Callable[..., GuestRun]:
    """A stand-in for the benchmark guests: iouring results as iou_bench
    writes them, with bpf taking ``seconds`` per NOP and link2 685 ns."""
    def guest(layout: Layout, benches: list[Benchmark], clock: str, name: str,
              disk: Path) -> GuestRun:
        run_dir = tmp_path / name
        shared = run_dir / "rw"
        (shared / "iouring").mkdir(parents=True)
        (shared / "kernel-release").write_text("6.12.117-ufq-bench\n")
        for b in benches:
            (shared / f"status-{b.name}").write_text(f"{statuses.get(b.name, 0)}\n")
        per_nop = {"link2": 685e-9, "qd1": 896e-9, "bpf": seconds, "bpf_inline": 300e-9,
                   "bpf_empty": 185e-9, "bpf_empty_ns": 185e-9, "bpf_regions": 254e-9}
        for run in (1, 2, 3):
            for variant, secs in per_nop.items():
                (shared / "iouring" / f"{variant}_{run}.json").write_text(json.dumps(
                    {"variant": variant, "nops": 1000, "seconds": secs * 1000}))
        (shared / "status").write_text(f"{max(statuses.values(), default=0)}\n")
        return GuestRun(name=name, run_dir=run_dir, console_log=run_dir / "console.log",
                        status=max(statuses.values(), default=0), timed_out=False,
                        duration=1.0)
    return guest


def test_run_benchmarks_exit_status_and_outputs(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    layout = Layout(repo=tmp_path / "repo")
    monkeypatch.setenv("HARNESS_KVM", "1")  # restored after the test
    # every goal met: exit 0, the figures and verdicts in the JSON
    monkeypatch.setattr(bench_mod, "_bench_guest", _fake_guest(tmp_path / "a", {}, 500e-9))
    assert run_benchmarks(layout, ["iouring"], build=False) == 0
    out = layout.out_dir / "bench"
    data = json.loads((out / "iouring.json").read_text())
    assert data["ok"] and data["clock"] == "icount" and data["kernel"] == "6.12.117-ufq-bench"
    assert data["command"] == "python -m harness bench --clock icount --profile bench iouring"
    assert [g["met"] for g in data["goals"]] == [True, True]
    assert abs(data["goals"][0]["ratio"]["median"] - 685 / 500) < 1e-9
    bpf = next(r for r in data["rows"] if r["variant"] == "bpf")
    assert abs(bpf["wall_ratio"]["median"] - 685 / 500) < 1e-9  # from the second (wall-clock) guest
    assert (out / "iouring.md").read_text().count("| met |") == 2
    assert (out / "iouring.png").exists()
    # a missed goal fails the run
    monkeypatch.setattr(bench_mod, "_bench_guest", _fake_guest(tmp_path / "b", {}, 661e-9))
    assert run_benchmarks(layout, ["iouring"], build=False) == 1
    assert not json.loads((out / "iouring.json").read_text())["ok"]
    # so does a failed script, whatever the figures
    monkeypatch.setattr(bench_mod, "_bench_guest",
                        _fake_guest(tmp_path / "c", {"iouring": 1}, 500e-9))
    assert run_benchmarks(layout, ["iouring"], build=False) == 1
    assert json.loads((out / "iouring.json").read_text())["problems"] == [
        "bench/iouring.sh exited with status 1"]
    assert run_benchmarks(layout, ["nothing"], build=False) == 2
    # icount needs TCG: the benchmark never lets the KVM probe choose
    assert os.environ["HARNESS_KVM"] == "0"


@pytest.mark.parametrize("argv, cpus, qemu_opts", [
    (["run", "--", "true"], 2, None),
    (["run", "--clock", "icount", "--", "true"], 1, ["-icount shift=0,sleep=off"]),
    (["run", "--clock", "icount", "--cpus", "2", "--", "true"], 2,
     ["-icount shift=0,sleep=off"]),
])
def test_run_clock(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str],
                   cpus: int, qemu_opts: list[str] | None) -> None:
    """`harness run --clock icount` boots the guest as `harness bench` does:
    QEMU's instruction counting and, unless --cpus says otherwise, one vCPU."""
    import harness.cli as cli
    import harness.vm as vm

    seen: dict[str, object] = {}

    def fake_run(layout: Layout, command: str, **kw: object) -> GuestRun:
        seen.update(kw, command=command)
        return GuestRun(name="run", run_dir=tmp_path, console_log=tmp_path / "console.log",
                        status=0, timed_out=False, duration=1.0, splats=[])

    monkeypatch.setattr(cli, "Layout", lambda: Layout(repo=tmp_path))
    monkeypatch.setattr(cli, "_require_fresh_build", lambda layout: None)
    monkeypatch.setattr(vm, "run_in_guest", fake_run)
    assert cli.main(argv) == 0
    assert seen["command"] == "true"
    assert seen["cpus"] == cpus and seen["qemu_opts"] == qemu_opts
