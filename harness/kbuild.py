"""Build the kernel, libbpf, bpftool, vmlinux.h and the guest selftests.

All of it comes from the assembled tree (build/linux) into build/obj and
build/tools for the test kernel, build/<profile>/obj and .../tools for
another profile (``harness build --profile bench``).  Kernel builds go
through ccache and hold a machine-wide lock, because two kernel builds on a
two-core machine only slow each other down.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from harness import kconfig
from harness.layout import Layout
from harness.progress import StageTimer, fmt_duration, say
from harness.tools import missing, run_tool

LOCK_FILE = Path.home() / ".cache/ufq-harness/kernel-build.lock"
CLANG = "clang-19"
LLVM_STRIP = "llvm-strip-19"


class BuildError(Exception):
    """A build step failed; the message names the step and its log."""


def jobs() -> int:
    return int(os.environ.get("JOBS", os.cpu_count() or 2))


def build_env(layout: Layout) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CCACHE_DIR", str(Path.home() / ".cache/ccache"))
    env.setdefault("CCACHE_MAXSIZE", "20G")
    # Paths under the checkout are hashed relative to it, so a fresh clone
    # elsewhere (CI) still hits the cache.
    env["CCACHE_BASEDIR"] = str(layout.repo)
    env["CCACHE_NOHASHDIR"] = "1"
    env["KBUILD_BUILD_TIMESTAMP"] = "2026-01-01 00:00:00 UTC"
    env["KBUILD_BUILD_USER"] = "harness"
    env["KBUILD_BUILD_HOST"] = "ufq"
    return env


@contextlib.contextmanager
def build_lock() -> Iterator[None]:
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"another kernel build holds {LOCK_FILE}; waiting for it")
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _make_cmd(layout: Layout, *targets: str) -> list[str]:
    cc = "ccache gcc" if shutil.which("ccache") else "gcc"
    return ["make", "-C", str(layout.tree), f"O={layout.kobj}", f"-j{jobs()}",
            f"CC={cc}", *targets]


_STAGE_LINE = re.compile(r"^\s+([A-Z][A-Z0-9_-]+)\s+(\S+)")
# Long single steps at the end of a kernel build, reported as they start.
_MILESTONES = {("LD", "vmlinux"), ("LD", ".tmp_vmlinux1"), ("LD", ".tmp_vmlinux2"),
               ("BUILD", "arch/x86/boot/bzImage"), ("GEN", "modules.builtin")}


def run_logged(cmd: list[str], log: Path, step: str, env: dict[str, str],
               cwd: Path | None = None) -> None:
    """Run a build command, its output in ``log``, reporting kbuild stages."""
    log.parent.mkdir(parents=True, exist_ok=True)
    timer = StageTimer(step)
    with open(log, "w") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, env=env, cwd=cwd, errors="replace")
        except FileNotFoundError as exc:
            raise missing(Path(cmd[0]).name) from exc
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            m = _STAGE_LINE.match(line)
            if m:
                kind, what = m.groups()
                if (kind, what) in _MILESTONES or kind in ("BTF", "MODPOST", "BTFIDS"):
                    timer.update(f"{kind} {what}", 1, milestone=True)
                else:
                    timer.update(f"{kind} {what}", 1)
        rc = proc.wait()
    if rc != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-40:])
        raise BuildError(f"{step} failed (exit {rc}); full log: {log}\n{tail}")
    timer.done()


def configure(layout: Layout, *, series_prefix: bool = False) -> Path:
    """Write <kobj>/.config from virtme-ng's config plus our fragments
    (and the profile's overrides, kconfig.profile_requests).

    The config is generated from scratch in a scratch object directory each
    time, and copied over build/obj/.config only when it differs, so an
    unchanged config costs no rebuild.  With ``series_prefix`` (a bisect
    build of the first patches only) options that the tree does not define
    yet are left out of both the fragment and the check.
    """
    frags = (kconfig.fragment_files(layout.selftests_dir)
             + kconfig.profile_chain_fragment_files(layout.selftests_dir, layout.profile))
    merged = kconfig.profile_requests(layout.selftests_dir, layout.profile)
    if series_prefix:
        known = kconfig.known_requests(merged, kconfig.defined_symbols(layout.tree))
        for name in sorted(set(merged) - set(known)):
            say(f"config: {name} is not defined at this point of the series, not checked")
        merged = known
    layout.profile_dir.mkdir(parents=True, exist_ok=True)
    frag = layout.profile_dir / "config-fragment"
    frag.write_text(kconfig.fragment_text(merged))
    scratch = layout.profile_dir / "kconfig-scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / ".config").unlink(missing_ok=True)
    configkernel = Path(sys.executable).parent / "virtme-configkernel"
    if not configkernel.exists():
        configkernel = Path(shutil.which("virtme-configkernel") or "virtme-configkernel")
    log = layout.logs / "config.log"
    run_logged([str(configkernel), "--defconfig", "--custom", str(frag), f"O={scratch}"],
               log, "config", build_env(layout), cwd=layout.tree)
    actual = kconfig.parse_dotconfig(scratch / ".config")
    problems = kconfig.unmet_requests(merged, actual)
    if problems:
        raise kconfig.ConfigError(
            "the kernel config does not have what the fragments ask for "
            "(a missing dependency, or an option that does not exist in this tree):\n  "
            + "\n  ".join(problems))
    layout.kobj.mkdir(parents=True, exist_ok=True)
    dotconfig = layout.kobj / ".config"
    new = (scratch / ".config").read_bytes()
    if not dotconfig.exists() or dotconfig.read_bytes() != new:
        dotconfig.write_bytes(new)
        say(f"kernel config updated ({len(merged)} options requested by {len(frags)} fragments)")
    return dotconfig


def _newer(target: Path, *sources: Path) -> bool:
    if not target.exists():
        return False
    t = target.stat().st_mtime
    return all(s.exists() and s.stat().st_mtime <= t for s in sources)


def build_kernel(layout: Layout) -> None:
    log = layout.logs / "kernel.log"
    run_logged(_make_cmd(layout, "bzImage", "vmlinux", "modules"), log, "kernel build",
               build_env(layout))


def build_tools(layout: Layout) -> None:
    """libbpf and bpftool from the same tree, then vmlinux.h from its BTF."""
    env = build_env(layout)
    tools = layout.tools
    for sub in ("libbpf", "bpftool", "bpftool-libbpf"):
        (tools / sub).mkdir(parents=True, exist_ok=True)
    libbpf_dir = layout.tree / "tools/lib/bpf"
    run_logged(["make", "-C", str(libbpf_dir), f"-j{jobs()}", f"OUTPUT={tools}/libbpf/",
                "EXTRA_CFLAGS=-g -O2 -fPIC", f"DESTDIR={tools}", "prefix=",
                "all", "install_headers"],
               layout.logs / "libbpf.log", "libbpf", env)
    run_logged(["make", "-C", str(layout.tree / "tools/bpf/bpftool"), f"-j{jobs()}",
                f"OUTPUT={tools}/bpftool/", f"LIBBPF_OUTPUT={tools}/bpftool-libbpf/",
                f"LIBBPF_DESTDIR={tools}/bpftool-libbpf-install/", f"CLANG={CLANG}",
                f"LLVM_STRIP={LLVM_STRIP}", "prefix=", f"DESTDIR={tools}", "install-bin"],
               layout.logs / "bpftool.log", "bpftool", env)
    if not _newer(layout.vmlinux_h, layout.vmlinux, layout.bpftool):
        layout.vmlinux_h.parent.mkdir(parents=True, exist_ok=True)
        tmp = layout.vmlinux_h.with_suffix(".tmp")
        with open(tmp, "w") as out:
            run_tool([str(layout.bpftool), "btf", "dump", "file", str(layout.vmlinux),
                      "format", "c"], f"generating {layout.vmlinux_h} from the kernel's BTF",
                     stdout=out)
        tmp.replace(layout.vmlinux_h)
        say(f"generated {layout.vmlinux_h}")


def build_ufq_tools(layout: Layout) -> None:
    """The example UFQ schedulers (tools/ufq_iosched) into build/ufq_iosched.

    They use the libbpf, bpftool and vmlinux.h built above, as the
    selftests do.  A tree without tools/ufq_iosched (``tree --upto``) has
    nothing to build.
    """
    src = layout.tree / "tools/ufq_iosched"
    if not src.is_dir():
        return
    layout.ufq_tools.mkdir(parents=True, exist_ok=True)
    tools = layout.tools
    run_logged(["make", "-C", str(src), f"OUTPUT={layout.ufq_tools}/", f"-j{jobs()}",
                f"CLANG={CLANG}", f"LLVM_STRIP={LLVM_STRIP}", f"BPFTOOL={layout.bpftool}",
                f"VMLINUX_H={layout.vmlinux_h}", f"LIBBPF_OBJ={tools}/libbpf/libbpf.a",
                f"LIBBPF_INCLUDE={tools}/include"],
               layout.logs / "ufq_iosched.log", "tools/ufq_iosched",
               build_env(layout))


def selftest_areas(layout: Layout) -> list[Path]:
    """selftests/<area>/ directories that have a guest entry point run.sh."""
    return sorted(p.parent for p in layout.selftests_dir.glob("*/run.sh"))


def build_selftests(layout: Layout) -> None:
    env = build_env(layout)
    for area in sorted(p.parent for p in layout.selftests_dir.glob("*/Makefile")):
        out = layout.selftests_out / area.name
        run_logged(["make", "-C", str(area), f"OUTPUT={out}", f"KSRC={layout.tree}",
                    f"KBUILD_OUTPUT={layout.kobj}", f"TOOLS={layout.tools}",
                    f"CLANG={CLANG}", f"-j{jobs()}"],
                   layout.logs / f"selftests-{area.name}.log",
                   f"selftests/{area.name}", env)


def seed_objects(layout: Layout) -> bool:
    """A derived profile's first build starts from a copy of its parent's
    objects (layout.PROFILE_PARENTS): with a config that differs in a few
    options, kbuild (fixdep) then rebuilds only the files that use them.
    Returns whether it copied."""
    parent = layout.parent
    if parent is None or layout.kobj.exists() or not (parent.kobj / ".config").exists():
        return False
    say(f"{layout.profile}: starting from a copy of {parent.kobj}")
    tmp = layout.kobj.with_name(layout.kobj.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(parent.kobj, tmp, symlinks=True)
    tmp.rename(layout.kobj)
    return True


def build_all(layout: Layout) -> None:
    """Assemble, configure and build everything the tests (or, for the bench
    profile, the benchmarks) need; make rebuilds only what is stale."""
    from harness.build_stamp import source_fingerprints, write_stamp
    from harness.liburing import build as build_liburing
    from harness.tree import assemble

    start = time.monotonic()
    sources = source_fingerprints(layout.repo)
    upto = layout.series_upto
    with build_lock():
        result = assemble(layout, upto=upto)
        say(f"tree assembled: {len(result.applied)} patches, "
            f"{len(result.rewritten)} files rewritten")
        seed_objects(layout)
        configure(layout, series_prefix=upto is not None)
        build_kernel(layout)
        if layout.parent is None:
            build_tools(layout)
    if layout.parent is not None:
        say(f"{layout.profile} kernel: only the kernel; the {layout.parent.profile}"
            " profile's programs run on it")
        write_stamp(layout, sources)
        say(f"build complete in {fmt_duration(time.monotonic() - start)}: {layout.bzimage}"
            f" ({layout.profile} kernel)")
        return
    build_ufq_tools(layout)
    if upto is None:
        build_selftests(layout)
    else:
        say(f"{layout.profile} kernel (the first {upto} patches): the project's selftests "
            "need the series, only liburing's tests are built")
    if layout.profile != "bench":  # liburing's tests check the test and unpatched kernels
        build_liburing(layout)
    write_stamp(layout, sources)
    say(f"build complete in {fmt_duration(time.monotonic() - start)}: {layout.bzimage}"
        f" ({layout.profile} kernel)")
