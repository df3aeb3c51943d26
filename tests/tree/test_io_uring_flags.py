"""The io_uring drgn helper's flag tables match the tree's UAPI header.

IORING_SETUP_* and IORING_SQ_* are macros, absent from DWARF, so the helper
keeps its own table; this checks it against include/uapi/linux/io_uring.h of
the assembled tree (base + series), so a new setup flag cannot go unnoticed.
"""

from __future__ import annotations

import re

import pytest

from harness.drgn_helpers.io_uring import (IORING_BPF_OP_SHIFT, IORING_OP_BPF, SETUP_FLAGS,
                                         SQ_FLAGS)
from harness.layout import Layout

pytestmark = pytest.mark.tree


def uapi_bits(header: str, prefix: str) -> dict[str, int]:
    pattern = re.compile(rf"^#define\s+{prefix}(\w+)\s+\(1U\s*<<\s*(\d+)\)", re.MULTILINE)
    return {name: int(bit) for name, bit in pattern.findall(header)}


def test_flag_tables_match_uapi(built: Layout) -> None:
    header = (built.tree / "include/uapi/linux/io_uring.h").read_text()
    assert dict(SETUP_FLAGS) == uapi_bits(header, "IORING_SETUP_")
    assert dict(SQ_FLAGS) == uapi_bits(header, "IORING_SQ_")


def test_bpf_op_numbers_match_uapi(built: Layout) -> None:
    header = (built.tree / "include/uapi/linux/io_uring.h").read_text()
    assert re.search(rf"^\s*IORING_OP_BPF\s*=\s*{IORING_OP_BPF},", header, re.MULTILINE)
    bits = re.search(r"^#define\s+IORING_BPF_OP_BITS\s+(\d+)", header, re.MULTILINE)
    assert bits and re.search(r"^#define\s+IORING_BPF_OP_SHIFT\s+\(32 - IORING_BPF_OP_BITS\)",
                              header, re.MULTILINE)
    assert IORING_BPF_OP_SHIFT == 32 - int(bits.group(1))
