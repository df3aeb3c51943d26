"""The ublk benchmark's reduction and checks (harness/bench_ublk.py), on
case directories as selftests/bench/ublk.sh leaves them."""

from __future__ import annotations

import json
from pathlib import Path

from harness.bench import BENCHMARKS, with_ratios
from harness.bench_ublk import check_ublk, figures_table, reduce_ublk
from tests.unit.test_bench import write_case

CASE = "loop_512k_randwrite_qd16"


def ublk_case(shared: Path, server: bool = True, ticks: int = 50) -> Path:
    """Two pairs of kernel and ublk runs; the ublk runs' snapshots have the
    server's section (ticks grow by ``ticks`` over a run), and every job
    wrote 1 GiB at 1 GiB/s."""
    runs = []
    for pair in (1, 2):
        order = [{"variant": "kernel", "pair": pair, "read": 1000.0},
                 {"variant": "ublk", "pair": pair, "read": 800.0}]
        runs += order if pair == 1 else order[::-1]
    d = write_case(shared, "ublk", CASE, runs)
    data = json.loads((d / "fio.json").read_text())
    for job in data["jobs"]:
        job["write"].update(io_bytes=2**30, bw_bytes=2**30,
                            clat_ns={"percentile": {"50.000000": 2000, "99.000000": 9000}})
        if job["jobname"].startswith("ublk") and server:
            for kind, add in (("prerun", 0), ("postrun", ticks)):
                snap = d / f"{job['jobname']}.{kind}.txt"
                snap.write_text(snap.read_text() + f"== server\nticks {100 + add}\nthreads 2\n")
    (d / "fio.json").write_text(json.dumps(data))
    return d


def test_ublk_is_a_benchmark_against_the_kernel_drivers() -> None:
    assert BENCHMARKS["ublk"].baseline == "kernel"
    assert BENCHMARKS["ublk"].script == "bench/ublk.sh"


def test_rows_and_the_figures_table(tmp_path: Path) -> None:
    ublk_case(tmp_path)
    rows = {r.variant: r for r in with_ratios(reduce_ublk(tmp_path), "kernel")}
    assert rows["ublk"].group == "loop 512k randwrite qd16"
    assert rows["ublk"].ratio == 0.8
    table = figures_table(tmp_path).splitlines()
    # the side that did I/O (writes), and the server's 0.5 s per GiB
    assert table[2] == ("| loop 512k randwrite qd16 | kernel | 1,024.0 | 1,000 | 2 us | 9 us"
                        " | 1.00 s | - |")
    assert table[3].endswith("| 1.00 s | 0.50 s |")
    result = check_ublk(tmp_path)
    assert result.problems == []
    assert any("| server CPU/GiB |" in note for note in result.notes)


def test_a_ublk_run_without_the_server_or_its_cpu_fails(tmp_path: Path) -> None:
    ublk_case(tmp_path, server=False)
    problems = check_ublk(tmp_path).problems
    assert problems == [f"loop 512k randwrite qd16 ublk pair {p}: the server's threads not in"
                        " the snapshots ([None, None])" for p in (1, 2)]
    ublk_case(tmp_path / "idle", ticks=0)
    assert check_ublk(tmp_path / "idle").problems == [
        f"loop 512k randwrite qd16 ublk pair {p}: the server used no CPU time" for p in (1, 2)]


def bpf_case(shared: Path, case: str = CASE, *, bpf_ticks: int = 5, handled: int | None = None,
             redirected: int = 0, attached: str = "1", bpf_iops: float = 1000.0) -> Path:
    """Two pairs of kernel, ublk and ublk_bpf runs, each job 1 GiB written;
    the ublk server uses 50 ticks a run, the BPF device's server
    ``bpf_ticks``; BPF's counters grow by ``handled`` (default: the run's
    I/Os) and ``redirected``."""
    runs = []
    for pair in (1, 2):
        order = [{"variant": "kernel", "pair": pair, "read": 1200.0},
                 {"variant": "ublk", "pair": pair, "read": 500.0},
                 {"variant": "ublk_bpf", "pair": pair, "read": bpf_iops}]
        runs += order if pair == 1 else order[::-1]
    d = write_case(shared, "ublk", case, runs)
    data = json.loads((d / "fio.json").read_text())
    for job in data["jobs"]:
        job["write"].update(io_bytes=2**30, bw_bytes=2**30)
        name = job["jobname"]
        ios = job["read"]["total_ios"]
        for kind, n in (("prerun", 0), ("postrun", 1)):
            snap = d / f"{name}.{kind}.txt"
            text = snap.read_text()
            if name.startswith("ublk_bpf"):
                text += (f"== server\nticks {100 + n * bpf_ticks}\nthreads 2\n"
                         f"== ublk_bpf\nattached {attached}\n"
                         f"handled {7 + n * (ios if handled is None else handled)}\n"
                         f"redirected {n * redirected}\nerrors 0\n")
            elif name.startswith("ublk"):
                text += f"== server\nticks {100 + n * 50}\nthreads 2\n"
            snap.write_text(text)
    (d / "fio.json").write_text(json.dumps(data))
    return d


def test_bpf_runs_served_by_bpf_and_the_server_cpu_goal(tmp_path: Path) -> None:
    bpf_case(tmp_path)
    result = check_ublk(tmp_path)
    assert result.problems == []
    [verdict] = result.verdicts
    # 5 ticks against 50 for the same GiB: 0.1 in both pairs
    assert verdict.group == "loop 512k randwrite qd16" and verdict.met
    assert verdict.pairs == (0.1, 0.1)
    assert verdict.goal == "ublk_bpf / ublk server CPU per GiB <= 0.20"
    table = figures_table(tmp_path)
    assert "| loop 512k randwrite qd16 | ublk_bpf | 1,024.0 | 1,000 |" in table
    assert table.splitlines()[-1].endswith("| 0.05 s |")  # 5 ticks per GiB


def test_the_server_cpu_goal_missed(tmp_path: Path) -> None:
    bpf_case(tmp_path, bpf_ticks=15)  # 0.3 of the server's
    [verdict] = check_ublk(tmp_path).verdicts
    assert not verdict.met and verdict.pairs == (0.3, 0.3)
    assert "NOT met" in verdict.line()


def test_the_server_cpu_goal_unmeasured_without_bpf_runs(tmp_path: Path) -> None:
    ublk_case(tmp_path)
    [verdict] = check_ublk(tmp_path).verdicts
    assert not verdict.met and verdict.ratio is None


def test_a_bpf_run_bpf_did_not_serve_fails(tmp_path: Path) -> None:
    bpf_case(tmp_path / "few", handled=10)
    assert check_ublk(tmp_path / "few").problems == [
        f"loop 512k randwrite qd16 ublk_bpf pair {p}: BPF handled 10 I/Os, fewer than the"
        " 1000 fio completed" for p in (1, 2)]
    bpf_case(tmp_path / "redir", redirected=3)
    assert check_ublk(tmp_path / "redir").problems == [
        f"loop 512k randwrite qd16 ublk_bpf pair {p}: BPF redirected 3 I/Os to the server"
        for p in (1, 2)]
    bpf_case(tmp_path / "detached", attached="0")
    assert check_ublk(tmp_path / "detached").problems[:2] == [
        f"loop 512k randwrite qd16 ublk_bpf pair 1: BPF ops not attached {when} the run"
        " (attached 0)" for when in ("before", "after")]


def test_goals_and_baselines(tmp_path: Path) -> None:
    bench = BENCHMARKS["ublk"]
    assert bench.baseline_for("stripe 4k randread qd1") == "ublk"
    assert bench.baseline_for("concat 4k randread qd1") == "ublk"
    assert bench.baseline_for("null 4k randread qd1") == "kernel"
    bpf_case(tmp_path, "null_4k_randread_qd32", bpf_iops=900.0)  # 1.8 x 500
    bpf_case(tmp_path, bpf_iops=499.0)  # below the server's 500
    rows = with_ratios(reduce_ublk(tmp_path), bench.baseline_for)
    verdicts = {v.group: v for g in bench.goals for v in g.verdicts(rows)}
    assert verdicts["null 4k randread qd32"].met
    assert verdicts["null 4k randread qd32"].goal == "ublk_bpf / ublk IOPS >= 1.80"
    assert not verdicts["loop 512k randwrite qd16"].met
