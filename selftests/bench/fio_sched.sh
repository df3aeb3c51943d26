#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: fio 4k random read at several queue depths on a null_blk and on
# the virtio-blk disk, under each scheduler.  Writes one fio JSON per run to
# $HARNESS_SHARED/fio_sched/<device>_<scheduler>_qd<N>.json; the host turns
# them into a table of IOPS and ratios to "none" on the same device and QD.

DIR=$(dirname "$(readlink -f "$0")")
. "$DIR/../lib/blk.sh"

SCHEDULERS=${SCHEDULERS:-"none mq-deadline kyber bfq"}
DEPTHS=${DEPTHS:-"1 8 32"}
RUNTIME=${RUNTIME:-4}
OUT=$HARNESS_SHARED/fio_sched
mkdir -p "$OUT"

# A plain (not memory-backed) null_blk: the fastest device, where scheduler
# overhead shows most.
nullb_create benchnull 1024 memory_backed=0 || exit 1
devices="/dev/benchnull"
[ -n "${TEST_DISK:-}" ] && [ -b "$TEST_DISK" ] && devices="$devices $TEST_DISK"

rc=0
for dev in $devices; do
	name=$(dev_name "$dev")
	for sched in $SCHEDULERS; do
		set_scheduler "$dev" "$sched" || { echo "cannot select $sched on $name"; rc=1; continue; }
		for qd in $DEPTHS; do
			echo "bench: $name $sched qd$qd"
			fio --name=randread --filename="$dev" --direct=1 --ioengine=io_uring \
				--rw=randread --bs=4k --iodepth="$qd" --size=256M \
				--time_based --runtime="$RUNTIME" --ramp_time=1 \
				--output-format=json --output="$OUT/${name}_${sched}_qd${qd}.json" \
				>/dev/null 2>&1 || { echo "fio failed: $name $sched qd$qd"; rc=1; }
		done
	done
done
nullb_destroy benchnull
exit $rc
