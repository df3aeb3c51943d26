"""Console scanning on recorded guest logs (tests/data) and synthetic lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.console import find_splats

DATA = Path(__file__).resolve().parent.parent / "data"


def test_clean_log_has_no_splat() -> None:
    text = (DATA / "console-clean.log").read_text()
    assert find_splats(text) == []


def test_lkdtm_warning_is_reported_whole() -> None:
    splats = find_splats((DATA / "console-warn.log").read_text())
    kinds = [s.kind for s in splats]
    assert kinds[0] == "warning"
    assert "lkdtm_WARNING" in splats[0].text
    assert "Call Trace:" in splats[0].text and "</TASK>" in splats[0].text
    # panic_on_warn turns it into a panic, reported as its own splat
    assert kinds[1] == "panic"
    assert "panic_on_warn set" in splats[1].text


def test_sysrq_panic_is_reported() -> None:
    splats = find_splats((DATA / "console-panic.log").read_text())
    assert [s.kind for s in splats] == ["panic"]
    assert "sysrq triggered crash" in splats[0].text
    assert "sysrq_handle_crash" in splats[0].text


@pytest.mark.parametrize("line,kind", [
    ("[   12.345678] BUG: KASAN: slab-use-after-free in foo+0x1/0x2", "kasan"),
    ("[   12.345678] BUG: KFENCE: out-of-bounds read in bar", "kfence"),
    ("[    1.000000] WARNING: possible circular locking dependency detected", "lockdep"),
    ("[    1.000000] WARNING: possible recursive locking detected", "lockdep"),
    ("[    1.000000] WARNING: suspicious RCU usage", "rcu"),
    ("[    1.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [fio:12]", "soft-lockup"),
    ("[    1.000000] INFO: task fio:123 blocked for more than 60 seconds.", "hung-task"),
    ("[    1.000000] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", "rcu-stall"),
    ("[    1.000000] kernel BUG at block/blk-mq.c:123!", "bug"),
    ("[    1.000000] Oops: general protection fault, probably for non-canonical address",
     "gpf"),
    ("[    1.000000] BUG: unable to handle page fault for address: 0000000000001234", "bug"),
    ("[    1.000000] UBSAN: shift-out-of-bounds in foo.c:1:2", "ubsan"),
    ("[    1.000000] WARNING: CPU: 0 PID: 1 at block/blk-mq.c:1 foo+0x1/0x2", "warning"),
])
def test_each_splat_kind(line: str, kind: str) -> None:
    splats = find_splats(f"[    0.900000] ok line\n{line}\n[    1.100000] after\n")
    assert [s.kind for s in splats] == [kind]
    assert splats[0].first_line in line


def test_program_output_is_not_a_kernel_splat() -> None:
    text = "WARNING: this is fio talking\nBUG: not the kernel\n# KTAP diag: Kernel panic\n"
    assert find_splats(text) == []


def test_splat_without_end_marker_stops_at_next_splat() -> None:
    text = ("[ 1.0] INFO: task a:1 blocked for more than 60 seconds.\n"
            "[ 1.1]       Not tainted\n"
            "[ 2.0] INFO: task b:2 blocked for more than 60 seconds.\n")
    splats = find_splats(text)
    assert len(splats) == 2
    assert "task b" not in splats[0].text


def test_splat_after_command_output_on_the_same_line_is_found() -> None:
    # The console interleaves the command's output with kernel messages:
    # before, only lines starting with a timestamp were scanned.
    console = ("[    3.000000] virtme-ng-init: starting script\n"
               "writing 64 MiB...[   12.345678] WARNING: CPU: 1 PID: 77 at block/ufq-iosched.c:10 "
               "ufq_dispatch+0x1/0x2\n"
               "[   12.345679] Call Trace:\n"
               "[   12.345690] ---[ end trace 0000000000000000 ]---\n")
    splats = find_splats(console)
    assert [s.kind for s in splats] == ["warning"]
    assert splats[0].first_line.startswith("WARNING: CPU: 1 PID: 77 at block/ufq-iosched.c")
    assert "end trace" in splats[0].text


def test_bracketed_numbers_in_program_output_are_not_kernel_lines() -> None:
    assert find_splats("progress [ 12.5] WARNING: 3 retries left\n") == []
