"""The drgn block helper, run in a guest as ``python -m harness drgn`` runs it
(harness.drgn_run.drgn_command), agrees with sysfs read in the same guest."""

from __future__ import annotations

import shlex

import pytest

from harness.drgn_run import drgn_command
from harness.layout import Layout
from harness.vm import make_disk, run_in_guest

pytestmark = pytest.mark.vm

# Elevators other than the defaults, so that agreement means something.
ELEVATORS = {"nullb0": "kyber", "vda": "bfq"}
SYSFS_FILE = "sysfs-schedulers"


def sysfs_elevators(text: str) -> dict[str, str]:
    """``grep . /sys/block/*/queue/scheduler`` lines -> {disk: selected elevator}."""
    disks = {}
    for line in text.splitlines():
        path, _, value = line.partition(":")
        disk = path.split("/")[3]
        value = value.strip()
        disks[disk] = value.split("[", 1)[1].split("]", 1)[0] if "[" in value else value
    return disks


def test_drgn_block_helper_matches_sysfs(built: Layout) -> None:
    script = built.repo / "harness/drgn_helpers/block.py"
    disk = make_disk(built.build_dir / "disks/drgn.img", 64)
    select = "".join(f"echo {e} > /sys/block/{d}/queue/scheduler && "
                     for d, e in ELEVATORS.items())
    command = (f"{select}grep . /sys/block/*/queue/scheduler > \"$HARNESS_SHARED/{SYSFS_FILE}\""
               f" && {shlex.join(drgn_command(built, script, []))}")
    run = run_in_guest(built, command, name="drgn-block", timeout=1200, disks=[disk])
    assert run.ok, run.report()
    sysfs_path = run.shared_dir / SYSFS_FILE
    assert sysfs_path.exists(), f"the guest wrote no {SYSFS_FILE}:\n{run.output}"
    sysfs = sysfs_elevators(sysfs_path.read_text())
    lines = [line.split("\t") for line in run.output.splitlines() if "\t" in line]
    drgn = {fields[0]: fields[1] for fields in lines if len(fields) == 2}
    for name, elevator in ELEVATORS.items():
        assert sysfs.get(name) == elevator, f"sysfs: {sysfs}"
    assert drgn == sysfs, f"drgn: {drgn}\nsysfs: {sysfs}\noutput:\n{run.output}"
