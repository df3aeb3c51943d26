"""Command line: python -m harness <command>."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from harness.bench import CLOCKS, clock_qemu_opts
from harness.layout import PROFILES, Layout
from harness.progress import say


def _cmd_tree(layout: Layout, args: argparse.Namespace) -> int:
    from harness.tree import assemble

    result = assemble(layout, upto=args.upto)
    say(f"{result.tree}: base {result.base.path}, {len(result.applied)} patches applied, "
        f"{len(result.rewritten)} files rewritten")
    return 0


def _cmd_config(layout: Layout, args: argparse.Namespace) -> int:
    from harness.kbuild import build_lock, configure
    from harness.tree import assemble

    with build_lock():
        assemble(layout)
        path = configure(layout)
    say(f"{path}: every requested option is set")
    return 0


def _cmd_build(layout: Layout, args: argparse.Namespace) -> int:
    from harness.kbuild import build_all

    build_all(layout.with_profile(args.profile))
    return 0


def _require_fresh_build(layout: Layout) -> None:
    """Refuse to boot a build older than its sources (HARNESS_PREBUILT=1:
    use it as it is, as the test fixtures do)."""
    from harness.build_stamp import StaleBuildError, check_fresh

    try:
        check_fresh(layout)
    except StaleBuildError as err:
        if os.environ.get("HARNESS_PREBUILT") != "1":
            raise
        say(f"warning: {err} (HARNESS_PREBUILT=1: using it as it is)")


def _disks(args: argparse.Namespace) -> list[Path]:
    return [Path(d).resolve() for d in (args.disk or [])]


def _cmd_run(layout: Layout, args: argparse.Namespace) -> int:
    from harness.vm import run_in_guest

    layout = layout.with_profile(args.profile)
    _require_fresh_build(layout)
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("run: give the guest command after --", file=sys.stderr)
        return 2
    cpus = args.cpus if args.cpus is not None else (1 if args.clock == "icount" else 2)
    run = run_in_guest(layout, shlex.join(command) if len(command) > 1 else command[0],
                       name="run", timeout=args.timeout, mem=args.mem, cpus=cpus,
                       disks=_disks(args), echo=True, cwd=Path.cwd(),
                       qemu_opts=clock_qemu_opts(args.clock))
    if run.splats or run.status is None:
        print(run.report(), file=sys.stderr)
        return 255 if run.status is None or run.status == 0 else run.status
    return run.status


def _cmd_shell(layout: Layout, args: argparse.Namespace) -> int:
    from harness.vm import interactive_shell

    _require_fresh_build(layout)
    return interactive_shell(layout, mem=args.mem, cpus=args.cpus, disks=_disks(args))


def _cmd_suite(layout: Layout, args: argparse.Namespace) -> int:
    from harness.kbuild import selftest_areas
    from harness.suite import area_failures, run_suite, summary_lines

    layout = layout.with_profile(args.profile)
    _require_fresh_build(layout)
    known = [p.name for p in selftest_areas(layout)]
    unknown = [a for a in args.areas if a not in known]
    if unknown:
        print(f"suite: no selftests/<area>/run.sh for {', '.join(unknown)}; "
              f"areas: {', '.join(known)}", file=sys.stderr)
        return 2
    strict = not args.allow_skips
    run = run_suite(layout, args.areas or None, strict=strict)
    for line in summary_lines(run, strict=strict):
        print(line)
    failures = [p for res in run.areas.values() for p in area_failures(res, strict=strict)]
    if run.guest.splats or run.guest.status is None:
        print(run.guest.report(), file=sys.stderr)
        return 1
    for problem in failures:
        print(problem, file=sys.stderr)
    return 1 if failures else 0


def _cmd_demo(layout: Layout, args: argparse.Namespace) -> int:
    from harness.workloads import run_demo

    _require_fresh_build(layout)
    return run_demo(layout)


def _cmd_bench(layout: Layout, args: argparse.Namespace) -> int:
    from harness.bench import run_benchmarks

    return run_benchmarks(layout, args.names, clock=args.clock, profile=args.profile)


def _cmd_drgn(layout: Layout, args: argparse.Namespace) -> int:
    from harness.drgn_run import run_drgn

    _require_fresh_build(layout)
    return run_drgn(layout, args.script, args.args)


def _cmd_series(layout: Layout, args: argparse.Namespace) -> int:
    from harness.submission import write_series

    return write_series(layout, Path(args.out) if args.out else None, bisect=args.bisect,
                        signoff=args.signoff)


def _add_guest_opts(p: argparse.ArgumentParser, cpus_help: str = "guest CPUs (default 2)",
                    cpus: int | None = 2) -> None:
    p.add_argument("--disk", action="append", metavar="FILE",
                   help="raw image attached as a virtio-blk disk (repeatable)")
    p.add_argument("--mem", default="2G", help="guest memory (default 2G)")
    p.add_argument("--cpus", type=int, default=cpus, help=cpus_help)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("tree", help="assemble build/linux from the base and the series")
    p.add_argument("--upto", type=int, help="apply only the first N patches")
    p.set_defaults(func=_cmd_tree)
    sub.add_parser("config", help="assemble and write/check the kernel config"
                   ).set_defaults(func=_cmd_config)
    p = sub.add_parser("build", help="build kernel, libbpf, bpftool, vmlinux.h and selftests")
    p.add_argument("--profile", choices=PROFILES, default="test",
                   help="test: the debug kernel the tests run on (build/obj, the default);"
                        " bench: the production-like benchmark kernel (build/bench/obj);"
                        " unpatched: the base without the series (tree --upto 0) and the"
                        " test config minus the series' options (build/unpatched/)")
    p.set_defaults(func=_cmd_build)
    p = sub.add_parser("run", help="boot the built kernel and run a command as root")
    _add_guest_opts(p, "guest CPUs (default 2; 1 with --clock icount)", cpus=None)
    p.add_argument("--timeout", type=float, default=600,
                   help="seconds for the command, boot excluded (default 600)")
    p.add_argument("--profile", choices=PROFILES, default="test",
                   help="the kernel booted (default test; unpatched: the base)")
    p.add_argument("--clock", choices=CLOCKS, default="wall",
                   help="wall: plain TCG in real time (the default); icount: QEMU"
                        " instruction counting as `harness bench` has it, one vCPU unless"
                        " --cpus says otherwise, so that guest time counts instructions"
                        " (for profiles: selftests/bench/perf_profile.sh)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("shell", help="an interactive shell in a guest")
    _add_guest_opts(p)
    p.set_defaults(func=_cmd_shell)
    p = sub.add_parser("suite", help="run the KTAP selftests in one guest")
    p.add_argument("areas", nargs="*", help="selftests/<area> names (default: all)")
    p.add_argument("--allow-skips", action="store_true",
                   help="not strict: tests may skip for a missing feature (a kernel or "
                        "machine other than the project's); by default any skip not in "
                        "harness/expected_skips.py fails")
    p.add_argument("--profile", choices=PROFILES, default="test",
                   help="the kernel the guest boots (default test); unpatched: the base"
                        " (build it first with `harness build --profile unpatched`; only"
                        " the liburing area is built for it)")
    p.set_defaults(func=_cmd_suite)
    sub.add_parser("demo", help="the project's demo (make run)").set_defaults(func=_cmd_demo)
    p = sub.add_parser("bench", help="build the benchmark kernel if stale, run benchmarks in"
                       " one guest, print ratios; fails on a failed run or a missed goal")
    p.add_argument("--clock", choices=CLOCKS, default="icount",
                   help="icount: QEMU instruction counting, one vCPU, guest time counts"
                        " instructions (the default); wall: plain TCG in real time")
    p.add_argument("--profile", choices=("bench", "test"), default="bench",
                   help="the kernel measured (default bench; test: the debug kernel)")
    p.add_argument("names", nargs="*", help="benchmarks (default: all)")
    p.set_defaults(func=_cmd_bench)
    p = sub.add_parser("drgn", help="run drgn in a guest against the running kernel")
    p.add_argument("script", nargs="?", help="drgn script (default: interactive)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    p.set_defaults(func=_cmd_drgn)
    p = sub.add_parser("series", help="write the series as format-patch files, checkpatch it")
    p.add_argument("--out", help="output directory (default out/series)")
    p.add_argument("--bisect", action="store_true", help="also build every prefix of the series")
    p.add_argument("--signoff", metavar="'NAME <EMAIL>'",
                   help="who writes and signs off the patches (default: your git "
                        "user.name and user.email; refused without one)")
    p.set_defaults(func=_cmd_series)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    layout = Layout()
    from harness.errors import HARNESS_ERRORS

    try:
        return int(args.func(layout, args))
    except HARNESS_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a harness bug: say so, keep the traceback in a file
        saved = save_traceback(layout)
        print(f"error: the harness failed in `{args.cmd}` with {type(exc).__name__}: {exc}\n"
              f"This is a bug of the harness, not of the kernel: the traceback is in "
              f"{saved}; report it with that file.", file=sys.stderr)
        return 1


def save_traceback(layout: Layout) -> Path:
    import traceback

    path = layout.out_dir / "harness-traceback.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(traceback.format_exc())
    return path
