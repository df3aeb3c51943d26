"""Run drgn inside a guest against the running kernel (/proc/kcore).

drgn needs the DWARF of the kernel it reads; BTF is not enough, so the
built vmlinux (build/obj/vmlinux, visible in the guest at the same path) is
given explicitly.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from harness.layout import Layout
from harness.vm import interactive_shell, run_in_guest


def drgn_command(layout: Layout, script: Path | None, args: list[str]) -> list[str]:
    drgn = Path(sys.executable).parent / "drgn"
    cmd = [str(drgn), "-k", "-s", str(layout.vmlinux), "--main-symbols", "-q"]
    if script is not None:
        cmd += [str(script.resolve()), *args]
    return cmd


def run_drgn(layout: Layout, script: str | None, args: list[str]) -> int:
    if script is None:
        print("No script: starting a guest shell; run there:\n  "
              + shlex.join(drgn_command(layout, None, [])), file=sys.stderr)
        return interactive_shell(layout)
    run = run_in_guest(layout, shlex.join(drgn_command(layout, Path(script), args)),
                       name="drgn", timeout=600, echo=True)
    if not run.ok:
        print(run.report(), file=sys.stderr)
        return run.status or 1
    return 0
