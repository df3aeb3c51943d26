"""Boot the built kernel under virtme-ng and run a command in the guest.

virtme-ng's own exit status is not reliable here (it returns 255 for clean
runs), so the guest writes the command's exit status into a shared
read-write directory; no status file means the guest died.  The whole
console (``vng -v``) is kept per run and scanned for kernel splats: a run
with a splat fails whatever the command returned.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.console import Splat, find_splats, kernel_message
from harness.layout import Layout
from harness.progress import fmt_duration, say

# no_timer_check: under TCG on a busy host the emulated timer may tick too
# slowly for check_timer()'s IO-APIC probe, which then panics at boot ("IO-APIC
# + timer doesn't work!", seen here); the probe tests interrupt routing of real
# hardware, and virtual machines commonly skip it (cloud images do the same).
DEFAULT_APPEND = ["panic_on_warn=1", "printk.time=1", "nokaslr", "no_timer_check"]
BOOT_SECONDS_TCG = 60.0


class GuestError(Exception):
    """A guest run failed: crashed, timed out, splatted or the command failed."""


def timeout_scale() -> float:
    """Multiplier for every guest timeout (HARNESS_TIMEOUT_SCALE, default 1)."""
    return float(os.environ.get("HARNESS_TIMEOUT_SCALE", "1"))


@functools.cache
def kvm_usable() -> bool:
    """Whether QEMU really runs with KVM here (not just whether /dev/kvm opens).

    On these machines /dev/kvm opens but QEMU aborts setting MSRs with
    ``-cpu host``; a QEMU that is still running after a few seconds has
    got past that.
    """
    if os.environ.get("HARNESS_KVM") in ("0", "1"):
        return os.environ["HARNESS_KVM"] == "1"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    qemu = shutil.which("qemu-system-x86_64")
    if qemu is None:
        return False
    proc = subprocess.Popen([qemu, "-accel", "kvm", "-cpu", "host", "-nodefaults",
                             "-display", "none", "-m", "64"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=4)
        return False  # exited on its own: it aborted
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return True


_announced = False


def _announce_accel(kvm: bool) -> None:
    global _announced
    if not _announced:
        _announced = True
        if kvm:
            say("QEMU runs with KVM here")
        else:
            say("KVM is not usable here (QEMU cannot start with -accel kvm -cpu host): "
                "guests run under TCG with a 9p root; timeouts are sized for that")


@dataclass
class GuestRun:
    """What one guest run left behind."""

    name: str
    run_dir: Path
    console_log: Path
    status: int | None
    timed_out: bool
    duration: float
    splats: list[Splat] = field(default_factory=list)

    @property
    def shared_dir(self) -> Path:
        """The guest's read-write results directory (same path in the guest)."""
        return self.run_dir / "rw"

    @property
    def output(self) -> str:
        path = self.shared_dir / "output"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def crashed(self) -> bool:
        return self.status is None and not self.timed_out

    @property
    def ok(self) -> bool:
        return self.status == 0 and not self.splats and not self.timed_out

    def report(self) -> str:
        """A human explanation of what went wrong, with the splats in full."""
        parts = []
        if self.timed_out:
            parts.append(f"guest run '{self.name}' did not finish within its timeout "
                         f"({fmt_duration(self.duration)}): the command or the kernel hung")
        elif self.crashed:
            parts.append(f"guest run '{self.name}' died before the command finished "
                         "(kernel panic or crash; no exit status was written)")
        elif self.status != 0:
            parts.append(f"guest command of '{self.name}' exited with status {self.status}")
        if self.splats:
            parts.append(f"{len(self.splats)} kernel splat(s) on the console:")
            parts += [str(s) for s in self.splats]
        if not self.splats and (self.timed_out or self.crashed):
            tail = self.console_log.read_text(errors="replace").splitlines()[-40:]
            parts.append("last console lines:\n" + "\n".join(tail))
        parts.append(f"console log: {self.console_log}")
        return "\n".join(parts)


class CommandEcho:
    """Echo the guest command's own output live, without the kernel log.

    The console carries boot messages, kernel log lines (timestamped) and
    the command's output; only the last are shown, starting when the guest
    init starts the script.  Kernel splats are reported after the run.
    """

    START_MARK = b"starting script"

    def __init__(self) -> None:
        self.started = False
        self.pending = b""

    def feed(self, chunk: bytes) -> None:
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            if not self.started:
                self.started = self.START_MARK in line
                continue
            if kernel_message(line.decode(errors="replace")) is None:
                sys.stdout.buffer.write(line + b"\n")
        sys.stdout.flush()


def _guest_script(command: str, shared: Path, cwd: Path, env: dict[str, str]) -> str:
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    status = shlex.quote(str(shared / "status"))
    output = shlex.quote(str(shared / "output"))
    return (
        "#!/bin/sh\n"
        f"export HARNESS_SHARED={shlex.quote(str(shared))}\n"
        f"{exports}"
        f"cd {shlex.quote(str(cwd))} || exit 1\n"
        "mount -t debugfs none /sys/kernel/debug 2>/dev/null\n"
        f"{{ sh -c {shlex.quote(command)}; echo $? > {status}.tmp; }} 2>&1 | tee {output}\n"
        f"sync; mv {status}.tmp {status}; sync\n"
    )


def vng_command(layout: Layout, shared: Path, script: Path, *, mem: str, cpus: int,
                disks: list[Path], append: list[str], interactive: bool,
                qemu_opts: list[str] | None = None) -> list[str]:
    kvm = kvm_usable()
    _announce_accel(kvm)
    vng = Path(sys.executable).parent / "vng"
    cmd = [str(vng if vng.exists() else "vng"), "--run", str(layout.bzimage), "--verbose",
           "--memory", mem, "--cpus", str(cpus), f"--rwdir={shared}",
           "--append", " ".join(append)]
    if not kvm:
        cmd += ["--disable-kvm", "--force-9p"]
    for disk in disks:
        cmd += ["--disk", str(disk)]
    for opt in qemu_opts or []:
        cmd += ["--qemu-opts", opt]
    if not interactive:
        cmd += ["--exec", f"sh {script}"]
    return cmd


def vng_env() -> dict[str, str]:
    """vng runs virtme-run by name: the venv's bin must be on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def new_run_dir(layout: Layout, name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = layout.out_dir / "runs" / f"{stamp}-{name}"
    run_dir, n = base, 1
    while run_dir.exists():
        n += 1
        run_dir = Path(f"{base}-{n}")
    (run_dir / "rw").mkdir(parents=True)
    return run_dir


def run_in_guest(layout: Layout, command: str, *, name: str = "run", timeout: float = 600,
                 mem: str = "2G", cpus: int = 2, disks: list[Path] | None = None,
                 append: list[str] | None = None, env: dict[str, str] | None = None,
                 cwd: Path | None = None, echo: bool = False,
                 qemu_opts: list[str] | None = None) -> GuestRun:
    """Boot the built kernel, run ``command`` with sh as root, return the run.

    ``timeout`` covers the command; boot time under TCG and
    HARNESS_TIMEOUT_SCALE are added on top.  ``qemu_opts`` are extra QEMU
    arguments (e.g. ``-icount shift=0,sleep=off``).
    """
    if not layout.bzimage.exists():
        raise GuestError(f"no kernel at {layout.bzimage}: run `python -m harness build` first")
    run_dir = new_run_dir(layout, name)
    shared = run_dir / "rw"
    script = shared / "run.sh"
    script.write_text(_guest_script(command, shared, cwd or layout.repo, env or {}))
    console_log = run_dir / "console.log"
    cmd = vng_command(layout, shared, script, mem=mem, cpus=cpus, disks=disks or [],
                      append=DEFAULT_APPEND + (append or []), interactive=False,
                      qemu_opts=qemu_opts)
    (run_dir / "vng-command").write_text(shlex.join(cmd) + "\n")
    limit = (timeout + BOOT_SECONDS_TCG) * timeout_scale()
    say(f"guest '{name}': booting {layout.bzimage.name} (limit {fmt_duration(limit)}), "
        f"console in {console_log}")
    start = time.monotonic()
    timed_out = False
    with open(console_log, "wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                cwd=layout.repo, env=vng_env())
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        echoer = CommandEcho() if echo else None
        while True:
            chunk = proc.stdout.read()
            if chunk:
                log.write(chunk)
                log.flush()
                if echoer:
                    echoer.feed(chunk)
            if proc.poll() is not None:
                rest = proc.stdout.read()
                if rest:
                    log.write(rest)
                    if echoer:
                        echoer.feed(rest)
                break
            if time.monotonic() - start > limit:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.2)
    duration = time.monotonic() - start
    status_file = shared / "status"
    status = int(status_file.read_text().strip()) if status_file.exists() else None
    console = console_log.read_text(errors="replace")
    run = GuestRun(name=name, run_dir=run_dir, console_log=console_log, status=status,
                   timed_out=timed_out, duration=duration, splats=find_splats(console))
    if timed_out:
        verdict = "TIMED OUT"
    elif status is None:
        verdict = "DIED (no exit status)"
    else:
        verdict = f"exit status {status}"
    if run.splats:
        verdict += f", {len(run.splats)} kernel splat(s)"
    say(f"guest '{name}': {verdict} after {fmt_duration(duration)}")
    return run


def interactive_shell(layout: Layout, *, mem: str = "2G", cpus: int = 2,
                      disks: list[Path] | None = None) -> int:
    run_dir = new_run_dir(layout, "shell")
    cmd = vng_command(layout, run_dir / "rw", run_dir / "rw/run.sh", mem=mem, cpus=cpus,
                      disks=disks or [], append=DEFAULT_APPEND, interactive=True)
    return subprocess.call(cmd, cwd=layout.repo, env=vng_env())


def make_disk(path: Path, size_mb: int) -> Path:
    """A sparse raw disk image for a guest's virtio-blk device."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.truncate(size_mb * 1024 * 1024)
    return path
