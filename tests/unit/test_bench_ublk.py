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
