"""The ublk demo's rows (selftests/ublk/demo.sh) and their report (no VM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.ublk_demo import DEMO_KTAP, DEMO_TSV, read_rows, report_ublk_demo
from harness.vm import GuestError

HEADER = "device\ttarget\tbpf\tfiles\tbytes_written\tbytes_read\tserver_cpu_ms\n"
ROWS = HEADER + (
    "loop\tloop\t-\t1\t536870912\t536870912\t1500\n"
    "stripe\tstripe\t-\t2\t1073741824\t0\t250\n"
    "loop_bpf\tloop\tloop\t1\t536870912\t536870912\t150\n"
    "stripe_bpf\tstripe\tstripe\t2\t1073741824\t0\t50\n")
KTAP = ("TAP version 13\n1..4\nok 1 ublk loop\nok 2 ublk stripe\nok 3 ublk loop bpf\n"
        "ok 4 ublk stripe bpf\n")


def test_cpu_per_gib_is_over_the_bytes_written_and_read(tmp_path: Path) -> None:
    (tmp_path / DEMO_TSV).write_text(ROWS)
    loop, stripe, loop_bpf, _ = read_rows(tmp_path / DEMO_TSV)
    assert loop.moved == 2**30 and loop.cpu_ms_per_gib == 1500
    assert stripe.files == 2 and stripe.cpu_ms_per_gib == 250
    assert loop_bpf.bpf == "loop" and loop_bpf.cpu_ms_per_gib == 150


def test_garbled_row_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / DEMO_TSV).write_text(HEADER + "loop\tloop\t-\t1\t12\n")
    with pytest.raises(GuestError, match=r"ublk_demo.tsv:2: not a row"):
        read_rows(tmp_path / DEMO_TSV)


def test_report_passes_with_both_devices_and_a_clean_ktap(tmp_path: Path, capsys) -> None:
    (tmp_path / DEMO_TSV).write_text(ROWS)
    (tmp_path / DEMO_KTAP).write_text(KTAP)
    assert report_ublk_demo(tmp_path)
    out = capsys.readouterr().out
    assert "1.50 s" in out
    assert ("ublk loop: server CPU per GiB 1.50 s served by the server, 0.15 s in BPF (0.10x)"
            in out)
    assert ("ublk stripe: server CPU per GiB 0.25 s served by the server, 0.05 s in BPF (0.20x)"
            in out)


def test_report_fails_without_a_device_or_with_a_failed_result(tmp_path: Path) -> None:
    (tmp_path / DEMO_TSV).write_text(ROWS.split("stripe_bpf\t")[0])
    (tmp_path / DEMO_KTAP).write_text(KTAP)
    assert not report_ublk_demo(tmp_path)
    (tmp_path / DEMO_TSV).write_text(ROWS)
    (tmp_path / DEMO_KTAP).write_text(KTAP.replace("ok 2", "not ok 2"))
    assert not report_ublk_demo(tmp_path)
    (tmp_path / DEMO_KTAP).unlink()
    assert not report_ublk_demo(tmp_path)
