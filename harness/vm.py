"""Boot the built kernel under virtme-ng and run a command in the guest.

virtme-ng's own exit status is not reliable here (it returns 255 for clean
runs), so the guest writes the command's exit status into a shared
read-write directory; no status file means the guest died.  The whole
console (``vng -v``) is kept per run, and the guest's dmesg is saved next to
it at the end; both are scanned for kernel splats: a run with a splat fails
whatever the command returned.  A guest that prints nothing for too long is
killed and reported as hung.  The command runs as root, with
HARNESS_STRICT=1 in its environment: in the project's own runs a test that
would skip for a missing feature fails instead.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.console import Splat, find_splats
from harness.guest_output import CommandLines, Heartbeat, LineSink, echo_line
from harness.layout import Layout
from harness.progress import fmt_duration, say

# no_timer_check: under TCG on a busy host the emulated timer may tick too
# slowly for check_timer()'s IO-APIC probe, which then panics at boot ("IO-APIC
# + timer doesn't work!", seen here); the probe tests interrupt routing of real
# hardware, and virtual machines commonly skip it (cloud images do the same).
# log_buf_len: the dmesg saved at the end of a run must still hold the
# start of a long suite.
DEFAULT_APPEND = ["panic_on_warn=1", "printk.time=1", "nokaslr", "no_timer_check",
                  "log_buf_len=8M"]
BOOT_SECONDS_TCG = 60.0
# A guest whose console stays silent this long (scaled) is taken as hung:
# kernel messages count as output, and every test area prints its results
# as they come.
SILENCE_SECONDS = 600.0
DMESG_FILE = "dmesg"


class GuestError(Exception):
    """A guest run failed: crashed, timed out, splatted or the command failed."""


@functools.cache
def _host_scale() -> float:
    """The host's own scale (harness.host_speed), said once if above 1."""
    from harness.host_speed import REFERENCE_RATE, measured

    rate, scale = measured()
    if scale > 1:
        say(f"host runs the calibration loop at {rate / 1e6:.1f} M/s against"
            f" {REFERENCE_RATE / 1e6:.0f} M/s where the limits were set: guest time"
            f" limits x{scale:.2f} (HARNESS_TIMEOUT_SCALE overrides)")
    return scale


def timeout_scale() -> float:
    """Multiplier for every guest timeout: HARNESS_TIMEOUT_SCALE if set, else
    the host's own (harness.host_speed: 1 on a host as fast as the one the
    limits were set on, more on a slower one), said once."""
    value = os.environ.get("HARNESS_TIMEOUT_SCALE")
    if value:
        try:
            scale = float(value)
        except ValueError:
            raise GuestError(f"HARNESS_TIMEOUT_SCALE={value!r} is not a number: "
                             "set it to a factor such as 2, or unset it") from None
        if scale <= 0:
            raise GuestError(f"HARNESS_TIMEOUT_SCALE={value!r} must be above 0")
        return scale
    return _host_scale()


KVM_PROBE_SECONDS = 20.0
KVM_PROBE_MARK = b"Linux version"
KVM_PROBE_CACHE = Path.home() / ".cache/ufq-harness/kvm-probe.json"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


@functools.cache
def kvm_usable(bzimage: Path) -> bool:
    """Whether a guest really boots with KVM here (not just whether /dev/kvm
    opens, or QEMU starts).

    Seen on these machines: /dev/kvm opens but QEMU aborts setting MSRs
    with ``-cpu host``; or QEMU runs and the guest never gets past the
    kernel's decompressor.  So the probe boots ``bzimage`` with KVM and
    waits for the kernel's first line on the serial console (under a working
    KVM it comes within a second).  The answer is kept for the host's boot
    (``KVM_PROBE_CACHE``); HARNESS_KVM=0/1 overrides it.
    """
    if os.environ.get("HARNESS_KVM") in ("0", "1"):
        return os.environ["HARNESS_KVM"] == "1"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    qemu = shutil.which("qemu-system-x86_64")
    if qemu is None:
        return False
    key = f"{_boot_id()}:{qemu}:{int(Path(qemu).stat().st_mtime)}"
    try:
        cached = json.loads(KVM_PROBE_CACHE.read_text())
        if cached.get("key") == key:
            return bool(cached["usable"])
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    usable = _probe_kvm_boot(qemu, bzimage)
    KVM_PROBE_CACHE.parent.mkdir(parents=True, exist_ok=True)
    KVM_PROBE_CACHE.write_text(json.dumps({"key": key, "usable": usable}))
    return usable


def _probe_kvm_boot(qemu: str, bzimage: Path) -> bool:
    proc = subprocess.Popen([qemu, "-accel", "kvm", "-cpu", "host", "-nodefaults",
                             "-display", "none", "-m", "256", "-no-reboot", "-serial", "stdio",
                             "-kernel", str(bzimage), "-append", "console=ttyS0 panic=-1"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    seen = b""
    deadline = time.monotonic() + KVM_PROBE_SECONDS
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            seen += proc.stdout.read() or b""
            if KVM_PROBE_MARK in seen:
                return True
            time.sleep(0.1)
        return KVM_PROBE_MARK in seen + (proc.stdout.read() or b"")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


_announced = False


def _announce_accel(kvm: bool) -> None:
    global _announced
    if not _announced:
        _announced = True
        if kvm:
            say("QEMU runs with KVM here")
        else:
            say("KVM is not usable here (a kernel does not boot with -accel kvm -cpu host): "
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
    silent_for: float | None = None  # set when killed for printing nothing

    @property
    def dmesg(self) -> Path:
        """The guest's kernel log, saved by the guest at the end of the run."""
        return self.shared_dir / DMESG_FILE

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
        if self.silent_for is not None:
            parts.append(f"guest run '{self.name}' printed nothing for "
                         f"{fmt_duration(self.silent_for)} and was killed as hung "
                         f"after {fmt_duration(self.duration)}: the command or the kernel hung")
        elif self.timed_out:
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
        if self.timed_out or (self.crashed and not self.splats):
            tail = self.console_log.read_text(errors="replace").splitlines()[-40:]
            parts.append("last console lines:\n" + "\n".join(tail))
        parts.append(f"console log: {self.console_log}")
        return "\n".join(parts)


def guest_script(command: str, shared: Path, cwd: Path, env: dict[str, str], *,
                 strict: bool = True) -> str:
    """The script the guest's init runs: the command, its output teed to
    the shared directory, its status, then the kernel log."""
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    status = shlex.quote(str(shared / "status"))
    output = shlex.quote(str(shared / "output"))
    dmesg = shlex.quote(str(shared / DMESG_FILE))
    return (
        "#!/bin/sh\n"
        f"export HARNESS_SHARED={shlex.quote(str(shared))}\n"
        f"export HARNESS_STRICT={1 if strict else 0}\n"
        f"{exports}"
        f"cd {shlex.quote(str(cwd))} || exit 1\n"
        "mount -t debugfs none /sys/kernel/debug 2>/dev/null\n"
        f"{{ sh -c {shlex.quote(command)}; echo $? > {status}.tmp; }} 2>&1 | tee {output}\n"
        f"dmesg > {dmesg}.tmp 2>&1; mv {dmesg}.tmp {dmesg}\n"
        f"sync; mv {status}.tmp {status}; sync\n"
    )


def vng_command(layout: Layout, shared: Path, script: Path, *, mem: str, cpus: int,
                disks: list[Path], append: list[str], interactive: bool,
                qemu_opts: list[str] | None = None) -> list[str]:
    kvm = kvm_usable(layout.bzimage)
    _announce_accel(kvm)
    vng = Path(sys.executable).parent / "vng"
    if not vng.exists():
        found = shutil.which("vng")
        if found is None:
            raise GuestError("vng (virtme-ng) not found: install it with `make venv` "
                             "(it is a dependency of the harness)")
        vng = Path(found)
    cmd = [str(vng), "--run", str(layout.bzimage), "--verbose", "--user", "root",
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
                 qemu_opts: list[str] | None = None, on_output: LineSink | None = None,
                 silence: float | None = SILENCE_SECONDS, strict: bool = True) -> GuestRun:
    """Boot the built kernel, run ``command`` with sh as root, return the run.

    ``timeout`` covers the command from its start in the guest, times
    HARNESS_TIMEOUT_SCALE; the boot before it has its own allowance
    (guest_deadline()).  ``qemu_opts`` are extra QEMU
    arguments (e.g. ``-icount shift=0,sleep=off``).  Each line the command
    prints goes to ``on_output`` (and to stdout with ``echo``); without
    ``echo`` a heartbeat line says every minute that the guest still runs.
    A console silent for ``silence`` seconds (scaled; None: no limit) ends
    the run as hung.  ``strict`` is passed to the guest as HARNESS_STRICT.
    """
    if not layout.bzimage.exists():
        raise GuestError(f"no kernel at {layout.bzimage}: run `python -m harness build` first")
    run_dir = new_run_dir(layout, name)
    shared = run_dir / "rw"
    script = shared / "run.sh"
    script.write_text(guest_script(command, shared, cwd or layout.repo, env or {},
                                   strict=strict))
    console_log = run_dir / "console.log"
    cmd = vng_command(layout, shared, script, mem=mem, cpus=cpus, disks=disks or [],
                      append=DEFAULT_APPEND + (append or []), interactive=False,
                      qemu_opts=qemu_opts)
    (run_dir / "vng-command").write_text(shlex.join(cmd) + "\n")
    scale = timeout_scale()
    silence_limit = silence * timeout_scale() if silence is not None else None
    say(f"guest '{name}': booting {layout.bzimage.name} (limit "
        f"{fmt_duration(timeout * scale)} from the command's start, boot "
        f"{fmt_duration(BOOT_SECONDS_TCG * scale)}"
        + (f", or {fmt_duration(silence_limit)} without output" if silence_limit else "")
        + f"), console in {console_log}")
    sinks = ([echo_line] if echo else []) + ([on_output] if on_output else [])
    lines = CommandLines(sinks)
    heartbeat = None if echo else Heartbeat(name, lines)
    start = time.monotonic()
    timed_out = False
    silent_for: float | None = None
    with open(console_log, "wb") as log:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    cwd=layout.repo, env=vng_env())
        except OSError as exc:
            raise GuestError(f"cannot start {cmd[0]}: {exc}; run `make venv`") from exc
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        last_output = start
        try:
            while True:
                chunk = proc.stdout.read()
                now = time.monotonic()
                if chunk:
                    last_output = now
                    log.write(chunk)
                    log.flush()
                    lines.feed(chunk)
                if proc.poll() is not None:
                    rest = proc.stdout.read()
                    if rest:
                        log.write(rest)
                        lines.feed(rest)
                    break
                quiet = now - last_output
                deadline = guest_deadline(start, lines.started_at, timeout, scale)
                if now > deadline or (silence_limit is not None and quiet > silence_limit):
                    timed_out = True
                    if now <= deadline:
                        silent_for = quiet
                    break
                if heartbeat:
                    heartbeat.tick()
                time.sleep(0.2)
        finally:
            if proc.poll() is None:  # timed out, hung, or the harness was interrupted
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    duration = time.monotonic() - start
    status = read_status(shared / "status")
    console = console_log.read_text(errors="replace")
    run = GuestRun(name=name, run_dir=run_dir, console_log=console_log, status=status,
                   timed_out=timed_out, duration=duration,
                   splats=guest_splats(console, shared / DMESG_FILE), silent_for=silent_for)
    if silent_for is not None:
        verdict = f"HUNG (no output for {fmt_duration(silent_for)})"
    elif timed_out:
        verdict = "TIMED OUT"
    elif status is None:
        verdict = "DIED (no exit status)"
    else:
        verdict = f"exit status {status}"
    if run.splats:
        verdict += f", {len(run.splats)} kernel splat(s)"
    say(f"guest '{name}': {verdict} after {fmt_duration(duration)}")
    return run


def guest_deadline(boot_start: float, command_start: float | None, timeout: float,
                   scale: float) -> float:
    """When a guest run is killed as timed out (time.monotonic() values).

    The command has ``timeout`` seconds (scaled) from the moment the guest
    starts its script; until then the boot may take BOOT_SECONDS_TCG
    (scaled) on top, so that a guest whose script never starts still ends.
    """
    if command_start is None:
        return boot_start + (timeout + BOOT_SECONDS_TCG) * scale
    return command_start + timeout * scale


def read_status(path: Path) -> int | None:
    """An exit status the guest wrote, or None if it wrote none (or garbage)."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def guest_splats(console: str, dmesg: Path) -> list[Splat]:
    """Splats on the console, then those only the saved dmesg has (a splat
    the console did not show, e.g. under a lowered console loglevel)."""
    splats = find_splats(console)
    seen = {(s.kind, s.first_line) for s in splats}
    if dmesg.is_file():
        for splat in find_splats(dmesg.read_text(errors="replace")):
            if (splat.kind, splat.first_line) not in seen:
                seen.add((splat.kind, splat.first_line))
                splats.append(Splat(kind=splat.kind, first_line=splat.first_line,
                                    text=splat.text, line_number=splat.line_number,
                                    source="dmesg"))
    return splats


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
