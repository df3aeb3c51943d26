"""Documentation/io_uring/bpf-ops.rst: its example is the program the
io_uring selftests build, load and run (selftests/iouring/doc_example.bpf.c,
case doc_example_nops), so that the document shows code that works."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RST = REPO / "Documentation/io_uring/bpf-ops.rst"
EXAMPLE = REPO / "selftests/iouring/doc_example.bpf.c"


def rst_example_block(text: str) -> list[str]:
    """The literal block of the Example section: indented lines after '::'."""
    section = text.split("\nExample\n=======\n", 1)[1]
    after = section.split("::\n\n", 1)[1]
    lines: list[str] = []
    for line in after.split("\n"):
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    while lines and not lines[-1]:
        lines.pop()
    return lines


def test_rst_example_is_the_tested_program() -> None:
    src = EXAMPLE.read_text()
    code = src[src.index('#include "vmlinux.h"'):].rstrip("\n").split("\n")
    expected = [line.expandtabs(8).rstrip() for line in code]
    assert rst_example_block(RST.read_text()) == expected


def test_rst_example_defines_what_it_uses() -> None:
    block = "\n".join(rst_example_block(RST.read_text()))
    for name in ("CQ_SIZE", "CQ_ENTRIES", "struct params", "bpf_io_uring_get_region",
                 "bpf_io_uring_submit_sqes"):
        assert block.index(name) < block.index("SEC(\"struct_ops.s/nops_step\")"), name
    # the CQ loop is bounded: the verifier refuses an unbounded one
    assert "for (i = 0; i < CQ_ENTRIES && head != tail" in block
    assert "while (" not in block
