# SPDX-License-Identifier: GPL-2.0
"""drgn script: the block helper must agree with /sys/block/*/queue/scheduler.

Prints KTAP: one result per disk, comparing the elevator drgn reads from the
kernel's request_queue with the one sysfs shows as selected, plus one
result checking that drgn saw exactly the disks sysfs lists.
"""

import os
import sys

from harness.drgn_helpers.block import for_each_disk_elevator, sysfs_elevator

seen = {e.disk: e for e in for_each_disk_elevator(prog)}  # noqa: F821 (drgn global)
sysfs = sorted(d for d in os.listdir("/sys/block") if os.path.exists(f"/sys/block/{d}/queue/scheduler"))
print("TAP version 13")
print(f"1..{len(sysfs) + 1}")
failed = 0
n = 0
for disk in sysfs:
    n += 1
    want = sysfs_elevator(disk)
    got = seen[disk].elevator if disk in seen else "<missing>"
    if got == want:
        print(f"ok {n} {disk} elevator {got}")
    else:
        failed += 1
        print(f"# drgn says {got!r}, /sys/block/{disk}/queue/scheduler says {want!r}")
        print(f"not ok {n} {disk} elevator")
n += 1
extra = sorted(set(seen) - set(os.listdir("/sys/block")))
if extra:
    failed += 1
    print(f"# drgn lists disks that /sys/block does not: {extra}")
    print(f"not ok {n} disk lists agree")
else:
    print(f"ok {n} disk lists agree ({len(seen)} disks)")
sys.exit(1 if failed else 0)
