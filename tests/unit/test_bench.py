"""Benchmark reduction: fio JSON to rows, ratios to the baseline, plots."""

from __future__ import annotations

import json
from pathlib import Path

from harness.bench import BENCHMARKS, bench_table, plot, reduce_fio_sched, with_ratios


def fio_json(path: Path, iops: float, p99_ns: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"jobs": [{"read": {
        "iops": iops, "clat_ns": {"percentile": {"99.000000": p99_ns}}}}]}))


def test_ratios_are_taken_within_each_group(tmp_path: Path) -> None:
    d = tmp_path / "fio_sched"
    fio_json(d / "vda_none_qd8.json", 1000.0, 2_000_000)
    fio_json(d / "vda_mq-deadline_qd8.json", 800.0, 3_000_000)
    fio_json(d / "vda_none_qd32.json", 4000.0, 9_000_000)
    fio_json(d / "vda_kyber_qd32.json", 5000.0, 8_000_000)
    rows = with_ratios(reduce_fio_sched(tmp_path), "none")
    got = [(r.group, r.variant, round(r.ratio, 2), r.p99_us) for r in rows]
    assert got == [("vda qd8", "none", 1.0, 2000.0), ("vda qd8", "mq-deadline", 0.8, 3000.0),
                   ("vda qd32", "none", 1.0, 9000.0), ("vda qd32", "kyber", 1.25, 8000.0)]
    table = bench_table(rows, "none")
    assert "ratio to none" in table and "1.25" in table
    png = tmp_path / "fio.png"
    plot(rows, BENCHMARKS["fio"], png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_baseline_gives_nan_not_a_crash(tmp_path: Path) -> None:
    fio_json(tmp_path / "fio_sched/vda_bfq_qd1.json", 10.0, 1000)
    rows = with_ratios(reduce_fio_sched(tmp_path), "none")
    assert rows[0].ratio != rows[0].ratio  # NaN
