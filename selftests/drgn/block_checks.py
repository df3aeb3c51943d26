# SPDX-License-Identifier: GPL-2.0
"""The block helper must agree with /sys/block/*/queue/scheduler.

One result per disk, comparing the elevator drgn reads from the kernel's
request_queue with the one sysfs shows as selected, plus one result checking
that drgn saw exactly the disks sysfs lists.
"""

import os

from harness.drgn_helpers.block import for_each_disk_elevator, sysfs_elevator


def sysfs_disks() -> list[str]:
    return sorted(d for d in os.listdir("/sys/block")
                  if os.path.exists(f"/sys/block/{d}/queue/scheduler"))


def plan() -> int:
    return len(sysfs_disks()) + 1


def run(prog, results) -> None:
    seen = {e.disk: e for e in for_each_disk_elevator(prog)}
    for disk in sysfs_disks():
        got = seen[disk].elevator if disk in seen else "<missing>"
        want = sysfs_elevator(disk)
        results.check(f"block: {disk} elevator {want}", got == want,
                      f"drgn says {got!r}, /sys/block/{disk}/queue/scheduler says {want!r}")
    extra = sorted(set(seen) - set(os.listdir("/sys/block")))
    results.check(f"block: disk lists agree ({len(seen)} disks)", not extra,
                  f"drgn lists disks that /sys/block does not: {extra}")
