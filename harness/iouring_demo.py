"""The BPF-controlled io_uring part of the demo (make run).

selftests/iouring/demo.sh runs in the demo's guest after the verify workload:
it copies a file with the BPF cp loop, compares the copy byte for byte,
runs the NOP benchmark in short form, and checksums a file with IORING_OP_BPF
(a READ of each block linked to opbpf_crc.bpf.c's crc32c, compared with user
space's crc32c by iou_crc), leaving the results in <shared>/iouring-demo/.
This module names that command and prints its results.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

from harness.bench import reduce_iouring, with_ratios
from harness.layout import Layout
from harness.tables import format_table

DEMO_DIR = "iouring-demo"
DEMO_VARIANTS = {
    "link2": "2-NOP link chain, submit and wait per pair",
    "qd1": "one NOP per submit and wait (QD 1)",
    "bpf": "BPF loop, one NOP per loop step, one syscall",
    "bpf_inline": "BPF loop, inline completions reaped within a step",
}


def iouring_demo_command(layout: Layout) -> str:
    """The guest command of the io_uring demo."""
    return f"bash {shlex.quote(str(layout.selftests_dir / 'iouring/demo.sh'))}"


@dataclass(frozen=True)
class CpResult:
    size: int  # bytes of the source file
    copied: int  # bytes the BPF loop wrote
    reads: int
    writes: int
    steps: int  # calls of loop_step
    error: int  # a failed request's result, 0 if none
    compare: str  # "identical", or what went wrong

    @property
    def ok(self) -> bool:
        return self.compare == "identical" and self.error == 0 and self.copied == self.size


def read_cp_result(demo_dir: Path) -> CpResult | None:
    """What iou_cp reported and how the copy compared, None if it did not run."""
    try:
        res = json.loads((demo_dir / "cp.json").read_text())
        compare = (demo_dir / "cp.result").read_text().strip()
    except (OSError, ValueError):
        return None
    return CpResult(size=int(res["size"]), copied=int(res["bytes"]), reads=int(res["reads"]),
                    writes=int(res["writes"]), steps=int(res["steps"]),
                    error=int(res["error"]), compare=compare)


def cp_table(cp: CpResult) -> str:
    return format_table(
        ["file size", "copied", "READs", "WRITEs", "loop steps", "result"],
        [[f"{cp.size:,} B", f"{cp.copied:,} B", str(cp.reads), str(cp.writes), str(cp.steps),
          cp.compare if cp.error == 0 else f"{cp.compare}, error {cp.error}"]])


@dataclass(frozen=True)
class CrcResult:
    size: int  # bytes of the file
    blocks: int  # READ -> crc32c links, one per 4 KiB block
    matched: int  # blocks whose BPF checksum equals user space's
    first_crc: int
    error: int  # a failed request's result, 0 if none

    @property
    def ok(self) -> bool:
        return self.error == 0 and self.blocks > 0 and self.matched == self.blocks


def read_crc_result(demo_dir: Path) -> CrcResult | None:
    """What iou_crc reported, None if it did not run or said nothing."""
    try:
        res = json.loads((demo_dir / "crc.json").read_text())
        return CrcResult(size=int(res["size"]), blocks=int(res["blocks"]),
                         matched=int(res["matched"]), first_crc=int(res["first_crc"]),
                         error=int(res["error"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def crc_table(crc: CrcResult) -> str:
    return format_table(
        ["file size", "READ -> crc32c links", "checksums equal to user space's",
         "first block's crc32c", "result"],
        [[f"{crc.size:,} B", str(crc.blocks), str(crc.matched), f"{crc.first_crc:#010x}",
          "ok" if crc.ok else f"FAILED (error {crc.error})"]])


def report_iouring_demo(shared: Path) -> bool:
    """Print the io_uring demo's results; True if the copy and every variant succeeded."""
    demo_dir = shared / DEMO_DIR
    print("\nBPF-controlled io_uring: cp by the BPF event loop"
          " (READ -> WRITE of the bytes read -> READ ..., one io_uring_enter):")
    cp = read_cp_result(demo_dir)
    print(cp_table(cp) if cp else "no result (see iouring-demo/ in the run directory)")
    rows = with_ratios(reduce_iouring(demo_dir), "link2")
    nops = rows[0].group if rows else "sequential NOPs"
    print(f"\nBPF-controlled io_uring: {nops} one after the other (short run;"
          " `python -m harness bench iouring` for the full benchmark):")
    print(format_table(
        ["variant", "what", "NOPs/s", "ratio to link2"],
        [[r.variant, DEMO_VARIANTS.get(r.variant, ""), f"{r.value:,.0f}", f"{r.ratio:.2f}"]
         for r in rows]))
    missing = sorted(set(DEMO_VARIANTS) - {r.variant for r in rows})
    if missing:
        print(f"no result for {', '.join(missing)} (see iouring-demo/bench.log)")
    print("\nIORING_OP_BPF: crc32c after READ (each 4 KiB block of a file read by a READ"
          " linked to a BPF operation that checksums the buffer; one enter per block):")
    crc = read_crc_result(demo_dir)
    print(crc_table(crc) if crc else "no result (see iouring-demo/crc.log in the run directory)")
    return cp is not None and cp.ok and not missing and crc is not None and crc.ok
