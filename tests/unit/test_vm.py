"""What the guest is told and what is scanned after it, without booting."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.guest_output import CommandLines
from harness.layout import Layout
from harness.vm import BOOT_SECONDS_TCG, guest_deadline, guest_script, guest_splats, \
    vng_command


def test_guest_command_runs_as_root_with_strict_mode(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("HARNESS_KVM", "0")
    cmd = vng_command(Layout(), tmp_path, tmp_path / "run.sh", mem="2G", cpus=2, disks=[],
                      append=[], interactive=False, qemu_opts=["-icount shift=0,sleep=off"])
    assert cmd[cmd.index("--user") + 1] == "root"
    assert cmd[cmd.index("--qemu-opts") + 1] == "-icount shift=0,sleep=off"
    script = guest_script("true", tmp_path, tmp_path, {"A": "b c"})
    assert "export HARNESS_STRICT=1\n" in script
    assert "export A='b c'\n" in script
    assert "export HARNESS_STRICT=0\n" in guest_script("true", tmp_path, tmp_path, {},
                                                       strict=False)


def test_guest_saves_dmesg_before_its_status(tmp_path: Path) -> None:
    script = guest_script("true", tmp_path, tmp_path, {})
    assert script.index(f"dmesg > {tmp_path}/dmesg.tmp") < script.index(
        f"mv {tmp_path}/status.tmp {tmp_path}/status")


def test_splat_only_in_dmesg_is_reported(tmp_path: Path) -> None:
    console = "[    1.000000] Linux version 6.12\nhello from the command\n"
    dmesg = tmp_path / "dmesg"
    dmesg.write_text("[    1.000000] Linux version 6.12\n"
                     "[    5.000000] WARNING: CPU: 0 PID: 1 at drivers/misc/lkdtm/bugs.c:1 "
                     "lkdtm_WARNING+0x1/0x2\n"
                     "[    5.000001] ---[ end trace 0000000000000000 ]---\n")
    splats = guest_splats(console, dmesg)
    assert [(s.kind, s.source) for s in splats] == [("warning", "dmesg")]
    assert "warning at dmesg line 2" in str(splats[0])


def test_splat_on_console_and_in_dmesg_is_reported_once(tmp_path: Path) -> None:
    line = "[    5.000000] BUG: kernel NULL pointer dereference, address: 0000000000000008\n"
    dmesg = tmp_path / "dmesg"
    dmesg.write_text(line)
    splats = guest_splats(line, dmesg)
    assert [(s.kind, s.source) for s in splats] == [("bug", "console")]


def test_command_timeout_counts_from_the_script_start() -> None:
    # Before the guest starts its script the boot allowance is added; after
    # it the command has its own (scaled) timeout from that moment, however
    # long the boot took.
    assert guest_deadline(100.0, None, 5, 2.0) == 100.0 + (5 + BOOT_SECONDS_TCG) * 2.0
    assert guest_deadline(100.0, 112.0, 5, 2.0) == 122.0
    assert guest_deadline(100.0, 400.0, 5, 2.0) == 410.0


def test_console_lines_note_when_the_script_started() -> None:
    lines = CommandLines([])
    lines.feed(b"[    1.0] Linux version 6.12\n")
    assert lines.started_at is None
    before = time.monotonic()
    lines.feed(b"[    2.0] virtme-ng-init: starting script\nhello\n")
    assert lines.started_at is not None and lines.started_at >= before
    assert lines.last_line == "hello"
