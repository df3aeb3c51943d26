"""The io_uring part of the demo: reading and judging what the guest left."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.iouring_demo import (DEMO_DIR, DEMO_VARIANTS, read_cp_result, read_crc_result,
                                  report_iouring_demo)


def _write_demo(shared: Path, *, compare: str = "identical", copied: int = 8392929,
                variants: tuple[str, ...] = tuple(DEMO_VARIANTS), matched: int = 17,
                crc_error: int = 0, crc: bool = True) -> None:
    demo = shared / DEMO_DIR
    (demo / "iouring").mkdir(parents=True)
    (demo / "cp.json").write_text(json.dumps(
        {"bytes": copied, "size": 8392929, "block": 65536, "reads": 130, "writes": 129,
         "short_reads": 1, "steps": 390, "error": 0}) + "\n")
    (demo / "cp.result").write_text(compare + "\n")
    for i, variant in enumerate(variants):
        (demo / "iouring" / f"{variant}_1.json").write_text(json.dumps(
            {"variant": variant, "nops": 50000, "seconds": 0.5 / (i + 1)}) + "\n")
    if crc:
        (demo / "crc.json").write_text(json.dumps(
            {"size": 66536, "blocks": 17, "matched": matched, "first_crc": 3735928559,
             "error": crc_error}) + "\n")


def test_read_cp_result(tmp_path: Path) -> None:
    _write_demo(tmp_path)
    cp = read_cp_result(tmp_path / DEMO_DIR)
    assert cp is not None and cp.ok
    assert (cp.size, cp.copied, cp.reads, cp.writes, cp.steps) == (8392929, 8392929, 130, 129, 390)
    assert read_cp_result(tmp_path / "nothing") is None


def test_report_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_demo(tmp_path)
    assert report_iouring_demo(tmp_path)
    out = capsys.readouterr().out
    assert "8,392,929 B" in out and "identical" in out
    # link2 is the baseline; bpf_inline ran 4 times as fast in this fake run
    assert "bpf_inline" in out and "4.00" in out
    assert "crc32c after READ" in out and "0xdeadbeef" in out and "66,536 B" in out
    crc = read_crc_result(tmp_path / DEMO_DIR)
    assert crc is not None and crc.ok and (crc.blocks, crc.matched) == (17, 17)


@pytest.mark.parametrize("broken", [
    {"compare": "copy differs: byte 5"},
    {"copied": 4096},
    {"variants": ("link2", "qd1", "bpf")},
    {"matched": 16},  # a checksum differs from user space's
    {"crc_error": -14},
    {"crc": False},
])
def test_report_fails(tmp_path: Path, broken: dict[str, object],
                      capsys: pytest.CaptureFixture[str]) -> None:
    _write_demo(tmp_path, **broken)  # type: ignore[arg-type]
    assert not report_iouring_demo(tmp_path)


def test_report_without_results(tmp_path: Path) -> None:
    assert not report_iouring_demo(tmp_path)
