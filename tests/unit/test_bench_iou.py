"""The io_uring NOP benchmark reducer: median rate per variant, ratios to link2."""

from __future__ import annotations

import json
from pathlib import Path

from harness.bench import BENCHMARKS, reduce_iouring, resolve_names, with_ratios


def _run(dirpath: Path, variant: str, run: int, seconds: float) -> None:
    (dirpath / f"{variant}_{run}.json").write_text(
        json.dumps({"variant": variant, "nops": 1000, "seconds": seconds}) + "\n")


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
    assert abs(bpf.ratio - 0.012 / 0.005) < 1e-9


def test_former_name_runs_iouring() -> None:
    assert resolve_names(["iou_nops"]) == ["iouring"]
    assert resolve_names(["iouring", "iou_nops", "fio"]) == ["iouring", "fio"]
    assert resolve_names([]) == list(BENCHMARKS)
