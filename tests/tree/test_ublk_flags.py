"""The ublk drgn helper's tables match the tree's ublk header and driver.

UBLK_F_*, UBLK_S_DEV_*, UBLK_IO_OP_*, UBLK_IO_FLAG_* and UB_STATE_* are
macros, absent from DWARF, so harness/drgn_helpers/ublk.py keeps its own
tables; this checks them against include/uapi/linux/ublk_cmd.h and
drivers/block/ublk_drv.c of the assembled tree (base + series).  The names
of the ublk-bpf counters are those of their sysfs files in
drivers/block/ublk_bpf.c.
"""

from __future__ import annotations

import re

import pytest

from harness.drgn_helpers.ublk import (
    AIO_STATS, BPF_STATS, DESC_OPS, DEV_STATES, FEATURE_FLAGS, IO_FLAGS, UB_STATES)
from harness.layout import Layout

pytestmark = pytest.mark.tree


def defines(text: str, prefix: str) -> dict[str, int]:
    """``#define PREFIXNAME VALUE`` -> {NAME: value}; VALUE a number or ``(1ULL << N)``."""
    number = r"\(1U?L?L?\s*<<\s*\d+\)|0x[0-9a-fA-F]+|\d+"
    pattern = re.compile(rf"^#define\s+{prefix}(\w+)\s+({number})\s*$", re.MULTILINE)
    values = {}
    for name, value in pattern.findall(text):
        shift = re.match(r"\(1U?L?L?\s*<<\s*(\d+)\)", value)
        values[name] = 1 << int(shift.group(1)) if shift else int(value, 0)
    return values


def bits(table: tuple[tuple[str, int], ...]) -> dict[str, int]:
    return {name: 1 << bit for name, bit in table}


def test_tables_match_ublk_cmd_h(built: Layout) -> None:
    header = (built.tree / "include/uapi/linux/ublk_cmd.h").read_text()
    assert bits(FEATURE_FLAGS) == defines(header, "UBLK_F_")
    assert {v: k for k, v in DEV_STATES.items()} == defines(header, "UBLK_S_DEV_")
    assert {v: k for k, v in DESC_OPS.items()} == defines(header, "UBLK_IO_OP_")


def test_tables_match_ublk_drv_c(built: Layout) -> None:
    driver = (built.tree / "drivers/block/ublk_drv.c").read_text()
    assert bits(IO_FLAGS) == defines(driver, "UBLK_IO_FLAG_")
    assert dict(UB_STATES) == defines(driver, "UB_STATE_")


def test_bpf_counters_match_ublk_bpf_c(built: Layout) -> None:
    source = (built.tree / "drivers/block/ublk_bpf.c").read_text()

    def attrs(macro: str) -> tuple[tuple[str, str], ...]:
        return tuple(re.findall(rf"^{macro}\((\w+), (\w+)\);$", source, re.MULTILINE))

    assert attrs("UBLK_BPF_STAT_ATTR") == BPF_STATS
    assert attrs("UBLK_BPF_AIO_STAT_ATTR") == AIO_STATS
