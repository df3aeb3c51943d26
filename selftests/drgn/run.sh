#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# drgn helpers checked against sysfs.  Disks get different elevators first
# (mq-deadline on a null_blk, bfq on the virtio disk, kyber on a second
# null_blk) so that agreement means something.

DIR=$(dirname "$(readlink -f "$0")")
REPO=$(readlink -f "$DIR/../..")
. "$DIR/../lib/blk.sh"

VMLINUX=${VMLINUX:-$REPO/build/obj/vmlinux}
DRGN=${DRGN:-$REPO/.venv/bin/drgn}

if [ ! -x "$DRGN" ] || [ ! -r /proc/kcore ]; then
	echo "1..0 # SKIP drgn or /proc/kcore missing"
	exit 4
fi

nullb_create drgn0 64 && set_scheduler /dev/drgn0 mq-deadline || echo "# cannot set up drgn0"
nullb_create drgn1 64 && set_scheduler /dev/drgn1 kyber || echo "# cannot set up drgn1"
[ -n "${TEST_DISK:-}" ] && [ -b "$TEST_DISK" ] && set_scheduler "$TEST_DISK" bfq

cd "$REPO" && "$DRGN" -k -s "$VMLINUX" --main-symbols -q "$DIR/check_block_elevators.py"
rc=$?
nullb_destroy drgn0
nullb_destroy drgn1
exit $rc
