"""The harness proves its own strictness on real guests.

A clean command passes, as root and told it runs strict, and its exit
status comes back; a panic, a WARN (also one the console never shows) and
a hang (also a silent one) each fail with the right report.  If any of these broke, every other
VM test's verdict would be worthless.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.layout import Layout
from harness.vm import run_in_guest

pytestmark = pytest.mark.vm


def test_clean_command_passes(built: Layout) -> None:
    run = run_in_guest(built, "uname -r; test -d /sys/kernel/debug/block; "
                       "echo uid=$(id -u) strict=$HARNESS_STRICT", name="clean", timeout=300)
    assert run.ok, run.report()
    assert run.status == 0
    assert "-ufq-test" in run.output
    assert "uid=0 strict=1" in run.output
    assert "Linux version" in run.dmesg.read_text()
    assert "Linux version" in run.console_log.read_text(errors="replace")


def test_cli_run_returns_guest_exit_status(built: Layout) -> None:
    proc = subprocess.run([sys.executable, "-m", "harness", "run", "--timeout", "300", "--",
                           "sh", "-c", "echo from-the-guest; exit 3"],
                          capture_output=True, text=True, cwd=built.repo, timeout=1200)
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert "from-the-guest" in proc.stdout


def test_panic_fails_with_panic_report(built: Layout) -> None:
    run = run_in_guest(built, "echo c > /proc/sysrq-trigger; sleep 60", name="panic",
                       timeout=300)
    assert not run.ok
    assert run.crashed, run.report()
    kinds = [s.kind for s in run.splats]
    assert "panic" in kinds, run.report()
    assert "sysrq triggered crash" in run.report()


def test_warn_fails_with_warning_report(built: Layout) -> None:
    run = run_in_guest(built, "echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT; sleep 30",
                       name="warn", timeout=300)
    assert not run.ok
    kinds = [s.kind for s in run.splats]
    assert kinds and kinds[0] == "warning", run.report()
    warning = run.splats[0]
    assert "lkdtm" in warning.text.lower(), warning.text
    # panic_on_warn=1 is on by default: the WARN took the guest down.
    assert run.crashed and "panic" in kinds, run.report()


def test_warn_only_in_dmesg_fails_a_command_that_exits_0(built: Layout) -> None:
    # The console shows nothing of it (loglevel 1) and the guest does not
    # panic (panic_on_warn=0): only the dmesg the guest saved has it.
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--timeout", "300", "--", "sh", "-c",
         "dmesg -n 1; echo 0 > /proc/sys/kernel/panic_on_warn; "
         "echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT; echo survived; exit 0"],
        capture_output=True, text=True, cwd=built.repo, timeout=1200)
    assert "survived" in proc.stdout, proc.stderr[-3000:]
    assert proc.returncode != 0, proc.stderr[-3000:]
    assert "1 kernel splat(s)" in proc.stderr, proc.stderr[-3000:]
    assert "warning at dmesg line" in proc.stderr, proc.stderr[-3000:]
    assert "WARNING: CPU:" in proc.stderr and "lkdtm" in proc.stderr.lower()


def test_silent_guest_is_killed_as_hung(built: Layout) -> None:
    run = run_in_guest(built, "echo going-quiet; sleep 100000", name="silent", timeout=900,
                       silence=20)
    assert not run.ok
    assert run.silent_for is not None and run.duration < 600, run.report()
    assert "printed nothing for" in run.report()
    assert "going-quiet" in run.report()  # the last console lines are shown


def test_hang_fails_with_timeout_report(built: Layout) -> None:
    run = run_in_guest(built, "echo hanging; sleep 100000", name="hang", timeout=5)
    assert not run.ok
    assert run.timed_out, run.report()
    assert "did not finish within its timeout" in run.report()
