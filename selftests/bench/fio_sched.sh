#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: fio 4k random read at queue depths 1, 8 and 32 under the
# kernel's own schedulers, on a plain null_blk (nothing stored: scheduler
# overhead shows most) and on a loop device over a tmpfs file (a device
# that copies data, still all inside the guest).  Under the wall clock
# (BENCH_CLOCK=wall) also on the virtio-blk disk: its completions come
# from the host, which the instruction-count clock does not measure.
# PAIRS alternating pairs of 1 s runs per case (lib.sh), results in
# $HARNESS_SHARED/fio_sched/<device>_randread_qd<N>/.

DIR=$(dirname "$(readlink -f "$0")")
. "$DIR/lib.sh"

SCHEDULERS=${SCHEDULERS:-"none mq-deadline kyber bfq"}
DEPTHS=${DEPTHS:-"1 8 32"}
NULLB=benchnull
OUT=$HARNESS_SHARED/fio_sched
TMP=$(mktemp -d)
LOOP=

cleanup() {
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	umount "$TMP" 2>/dev/null
	rmdir "$TMP"
	nullb_destroy "$NULLB"
}
trap cleanup EXIT
bench_setup fio_sched

nullb_create "$NULLB" 1024 memory_backed=0 || exit 1
mount -t tmpfs -o size=300M tmpfs "$TMP" && truncate -s 256M "$TMP/disk" &&
	LOOP=$(losetup -f --show "$TMP/disk") || { echo "no loop device on tmpfs"; exit 1; }
devices="/dev/$NULLB $LOOP"
[ "${BENCH_CLOCK:-}" = wall ] && [ -b "${TEST_DISK:-}" ] && devices="$devices $TEST_DISK"

rc=0
for dev in $devices; do
	bench_warmup "$dev"
	for qd in $DEPTHS; do
		echo "bench: $(dev_name "$dev") randread qd$qd: $PAIRS pairs of $SCHEDULERS"
		bench_case "$OUT/$(dev_name "$dev")_randread_qd$qd" "$dev" randread "$qd" \
			$SCHEDULERS || { echo "fio failed: $(dev_name "$dev") qd$qd"; rc=1; }
	done
	set_scheduler "$dev" none
done
bench_finish || rc=1
exit $rc
