"""python -m harness drgn runs a drgn script against the guest's kernel."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.layout import Layout

pytestmark = pytest.mark.vm


def test_drgn_block_helper_via_cli(built: Layout) -> None:
    script = built.repo / "harness/drgn_helpers/block.py"
    proc = subprocess.run([sys.executable, "-m", "harness", "drgn", str(script)],
                          capture_output=True, text=True, cwd=built.repo, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line.split("\t") for line in proc.stdout.splitlines() if "\t" in line]
    disks = {d: e for d, e in lines}
    # The default null_blk device exists in every guest (CONFIG_BLK_DEV_NULL_BLK=y).
    assert "nullb0" in disks, proc.stdout
    assert disks["nullb0"] in ("none", "mq-deadline", "kyber", "bfq"), proc.stdout
