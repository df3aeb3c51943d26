"""The IORING_OP_BPF benchmark: per-group baselines, the second kernel's runs
paired with the first's, the order check, the goals and the exit status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import harness.bench as bench_mod
from harness.bench import BENCHMARKS, Benchmark, evaluate, markdown, run_benchmarks
from harness.bench_opbpf import GROUPS, PLAIN, check_opbpf, order_problems, reduce_opbpf
from harness.kconfig import profile_requests
from harness.layout import Layout, profile_chain
from harness.vm import GuestRun

# guest ns per request (per block for xf_*), roughly as measured
PER_REQUEST = {"nop64": 200e-9, "bpf64": 260e-9, "bpf64_all": 300e-9, "link3": 400e-9,
               "link_bpf": 420e-9, "xf_user": 20e-6, "xf_link": 15e-6, "xf_loop": 12e-6,
               PLAIN: 190e-9}


def _write(results: Path, variant: str, run: int, seconds: float, requests: int = 6400) -> None:
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{variant}_{run}.json").write_text(
        json.dumps({"variant": variant, "requests": requests, "seconds": seconds}) + "\n")


def _order(results: Path, variants: list[str], runs: int) -> None:
    lines = []
    for run in range(1, runs + 1):
        order = variants if run % 2 else variants[::-1]
        lines += [f"{run} {v}" for v in order]
    (results / "order").write_text("\n".join(lines) + "\n")


def _shared(shared: Path, per: dict[str, float], noext: float | None = 190e-9,
            runs: int = 3) -> Path:
    for run in range(1, runs + 1):
        for variant, secs in per.items():
            # run 2 of the variants a little slower: the spread is not a point
            slower = run == 2 and variant not in ("nop64", "link3", "xf_user")
            _write(shared / "opbpf", variant, run, secs * 6400 * (1.001 if slower else 1))
        if noext is not None:
            _write(shared / "opbpf/noext", PLAIN, run, noext * 6400)
    _order(shared / "opbpf", list(per), runs)
    return shared


def test_each_group_has_its_own_baseline(tmp_path: Path) -> None:
    report = evaluate(BENCHMARKS["opbpf"], _shared(tmp_path, PER_REQUEST), 0)
    assert report.problems == []
    rows = {(r.group, r.variant): r for r in report.rows}
    assert [r.variant for r in report.rows if r.group == "64 per enter"] == [
        "nop64", "bpf64", "bpf64_all"]
    assert rows[("64 per enter", "nop64")].cost_ratio.median == 1.0
    assert abs(rows[("64 per enter", "bpf64")].cost_ratio.median - 1.3) < 1e-9
    assert abs(rows[("3-request link", "link_bpf")].cost_ratio.median - 420 / 400) < 1e-9
    xf = rows[("READ -> XOR -> WRITE 4 KiB", "xf_loop")]
    assert xf.unit == "blocks/s" and abs(xf.cost_ratio.median - 12 / 20) < 1e-9
    # the bench-noext kernel's runs of the same program are the baseline
    assert [r.variant for r in report.rows if r.group == "NOP, option unused"] == [
        "not_built", "built_in"]
    assert abs(rows[("NOP, option unused", "built_in")].cost_ratio.median - 1.0) < 1e-9
    assert abs(rows[("NOP, option unused", "built_in")].cost_ratio.high - 1.001) < 1e-9
    assert [(v.goal, v.met) for v in report.verdicts] == [
        ("bpf64 / nop64 CPU per op <= 1.50", True),
        ("built_in / not_built CPU per op <= 1.01", True)]
    md = markdown(report, "python -m harness bench opbpf", {})
    assert "| / baseline (min..max) |" in md and "blocks/s" in md and "requests/s" in md
    assert md.count("| met |") == 2


def test_goals_fail_on_the_whole_spread(tmp_path: Path) -> None:
    slow = dict(PER_REQUEST, bpf64=299e-9)  # 1.495x, but run 2 of bpf64 1.4965x: met
    report = evaluate(BENCHMARKS["opbpf"], _shared(tmp_path / "a", slow), 0)
    assert [v.met for v in report.verdicts] == [True, True]
    slower = dict(PER_REQUEST, bpf64=300e-9)  # 1.5 in two runs, 1.5015 in one: not met
    report = evaluate(BENCHMARKS["opbpf"], _shared(tmp_path / "b", slower), 0)
    assert [v.met for v in report.verdicts] == [False, True] and not report.ok
    # the option costs 2% when unused: not met
    report = evaluate(BENCHMARKS["opbpf"], _shared(tmp_path / "c", PER_REQUEST, 186e-9), 0)
    assert [v.met for v in report.verdicts] == [True, False]
    # no run of the other kernel: its goal is not measured, the check says why
    report = evaluate(BENCHMARKS["opbpf"], _shared(tmp_path / "d", PER_REQUEST, None), 0)
    assert not report.verdicts[1].met and report.verdicts[1].ratio is None
    assert f"opbpf {PLAIN} (bench-noext): 0 runs of 3" in report.problems


def test_reduce_and_check_find_failed_and_missing_runs(tmp_path: Path) -> None:
    shared = _shared(tmp_path, PER_REQUEST)
    (shared / "opbpf/xf_link_2.json").write_text("")  # the program failed
    (shared / "opbpf/link3_3.json").write_text('{"variant": "link3", "requests": 0}')
    _write(shared / "opbpf/noext", "bpf64", 1, 1.0)  # no BPF op on that kernel
    rows = {(r.group, r.variant): r for r in reduce_opbpf(shared)}
    assert len(rows[("READ -> XOR -> WRITE 4 KiB", "xf_link")].rounds) == 2
    problems = check_opbpf(shared).problems
    assert problems == ["opbpf run link3_3 left no result",
                        "opbpf run xf_link_2 left no result",
                        "opbpf link3: 2 runs of 3", "opbpf xf_link: 2 runs of 3",
                        "opbpf on the bench-noext kernel ran ['bpf64']"]
    assert check_opbpf(tmp_path / "nothing").problems == ["opbpf: no results"]


def test_the_order_must_alternate(tmp_path: Path) -> None:
    order = tmp_path / "order"
    order.write_text("1 a\n1 b\n1 c\n2 c\n2 b\n2 a\n3 a\n3 b\n3 c\n")
    assert order_problems(order, ["a", "b", "c"]) == []
    order.write_text("1 a\n1 b\n2 a\n2 b\n3 b\n")
    assert order_problems(order, ["a", "b"]) == [
        "run 2 runs a, b after run 1's a, b (the order must alternate)",
        "run 3 ran b, not every variant once"]
    assert order_problems(tmp_path / "none", ["a"]) == [f"{tmp_path / 'none'}: missing"]


def test_every_variant_of_the_program_has_a_group() -> None:
    script = (Layout().selftests_dir / "bench/opbpf.sh").read_text()
    default = script.split("VARIANTS=${OPBPF_VARIANTS:-", 1)[1].split("}", 1)[0].split()
    assert default == list(GROUPS)
    source = (Layout().selftests_dir / "iouring/iou_opbpf_bench.c").read_text()
    for variant in GROUPS:
        assert f'"{variant}"' in source, variant


def test_the_noext_kernel_differs_from_the_bench_kernel_in_one_option() -> None:
    st = Layout().selftests_dir
    bench, noext = profile_requests(st, "bench"), profile_requests(st, "bench-noext")
    assert profile_chain("bench-noext") == ["bench", "bench-noext"]
    assert profile_chain("test") == []
    changed = {k for k in bench.keys() | noext.keys()
               if (bench.get(k) and bench[k].value) != (noext.get(k) and noext[k].value)}
    assert changed == {"CONFIG_IO_URING_BPF_EXT"}
    assert noext["CONFIG_IO_URING_BPF_EXT"].value == "n"
    layout = Layout(repo=Path("/r"), profile="bench-noext")
    assert layout.kobj == Path("/r/build/bench-noext/obj")
    assert layout.parent == Layout(repo=Path("/r"), profile="bench")
    assert Layout(repo=Path("/r"), profile="bench").parent is None


def test_run_benchmarks_runs_the_other_kernel_and_fails_on_its_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = Layout(repo=tmp_path / "repo")
    monkeypatch.setenv("HARNESS_KVM", "1")
    calls: list[dict[str, Any]] = []

    def fake(noext_status: int, noext_cost: float):
        def guest(layout: Layout, benches: list[Benchmark], clock: str, name: str, disk: Path,
                  kernel: Layout | None = None,
                  extra_env: dict[str, str] | None = None) -> GuestRun:
            calls.append({"name": name, "profile": (kernel or layout).profile,
                          "env": extra_env, "programs": layout.profile})
            run_dir = tmp_path / f"{len(calls)}-{name}"
            shared = run_dir / "rw"
            shared.mkdir(parents=True)
            (shared / "kernel-release").write_text("6.12.117-ufq-bench\n")
            other = kernel is not None
            (shared / "status-opbpf").write_text(f"{noext_status if other else 0}\n")
            for run in (1, 2, 3):
                if other:
                    _write(shared / "opbpf", PLAIN, run, noext_cost * 6400)
                else:
                    for variant, secs in PER_REQUEST.items():
                        _write(shared / "opbpf", variant, run, secs * 6400)
            if not other:
                _order(shared / "opbpf", list(PER_REQUEST), 3)
            (shared / "status").write_text("0\n")
            return GuestRun(name=name, run_dir=run_dir, console_log=run_dir / "console.log",
                            status=0, timed_out=False, duration=1.0)
        return guest

    monkeypatch.setattr(bench_mod, "_bench_guest", fake(0, 190e-9))
    assert run_benchmarks(layout, ["opbpf"], build=False) == 0
    assert [(c["name"], c["profile"], c["programs"]) for c in calls] == [
        ("bench", "bench", "bench"), ("bench-bench-noext", "bench-noext", "bench")]
    assert calls[1]["env"] == {"OPBPF_VARIANTS": PLAIN}
    data = json.loads((layout.out_dir / "bench/opbpf.json").read_text())
    assert data["ok"] and [g["met"] for g in data["goals"]] == [True, True]
    assert data["other_kernels"] == {"bench-bench-noext": "6.12.117-ufq-bench"}
    # the option costing 3% when unused fails the command
    monkeypatch.setattr(bench_mod, "_bench_guest", fake(0, 184e-9))
    assert run_benchmarks(layout, ["opbpf"], build=False) == 1
    # and so does the other kernel's script failing
    monkeypatch.setattr(bench_mod, "_bench_guest", fake(1, 190e-9))
    assert run_benchmarks(layout, ["opbpf"], build=False) == 1
    assert json.loads((layout.out_dir / "bench/opbpf.json").read_text())["problems"][0] == \
        "bench/opbpf.sh exited with status 1"
