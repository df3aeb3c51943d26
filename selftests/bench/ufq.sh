#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark of UFQ: fio 4k random read and a 70/30 random read/write mix
# under none, mq-deadline, ufq with no BPF scheduler (its FIFO) and ufq with
# tools/ufq_iosched's ufq_simple attached, in alternating pairs (lib.sh), on
# two null_blk devices (kyber and bfq are in fio_sched.sh):
#
#   benchufq  plain (no delay, 1024 tags): QD 1, 8 and 32, 1 s runs.
#             Requests find the device free, ufq_simple dispatches almost all
#             of them straight from insert_req; the figure is the CPU cost
#             per I/O.
#   benchq    2 hardware tags, completions after 100 us (timer): QD 32,
#             3 s runs, with nr_requests 64 (a scheduler's default is twice
#             the device's depth, 4 here, and fio's other requests would
#             wait for a tag before reaching it).  The device sets the
#             throughput and requests wait in the scheduler (the host
#             checks that ufq_simple dispatched under 10% of them
#             directly), so its trees, merges and dispatch are what the CPU
#             time per I/O measures.  The runs are longer because the way
#             completions and dispatches interleave drifts within a run and
#             moved the CPU time per I/O by up to 13% between 1 s runs.
#
# Results in $HARNESS_SHARED/ufq/<device>_<workload>_qd<N>/.

DIR=$(dirname "$(readlink -f "$0")")
. "$DIR/lib.sh"

SCHEDULERS=${SCHEDULERS:-"none mq-deadline ufq ufq_simple"}
WORKLOADS=${WORKLOADS:-"randread randrw"}
DEPTHS=${DEPTHS:-"1 8 32"}
QUEUED_SCHEDULERS=${QUEUED_SCHEDULERS:-"none mq-deadline ufq ufq_simple"}
QUEUED_DEPTH=${QUEUED_DEPTH:-32}
QUEUED_RUNTIME=${QUEUED_RUNTIME:-3}
PLAIN=benchufq
QUEUED=benchq
OUT=$HARNESS_SHARED/ufq

trap 'nullb_destroy $PLAIN; nullb_destroy $QUEUED' EXIT
bench_setup ufq
nullb_create "$PLAIN" 1024 memory_backed=0 || exit 1
nullb_create "$QUEUED" 1024 memory_backed=0 hw_queue_depth=2 irqmode=2 \
	completion_nsec=100000 || exit 1
bench_warmup "/dev/$PLAIN"
bench_warmup "/dev/$QUEUED"

rc=0
for wl in $WORKLOADS; do
	for qd in $DEPTHS; do
		echo "bench: $PLAIN $wl qd$qd: $PAIRS pairs of $SCHEDULERS"
		bench_case "$OUT/${PLAIN}_${wl}_qd$qd" "/dev/$PLAIN" "$wl" "$qd" $SCHEDULERS ||
			{ echo "fio failed: $PLAIN $wl qd$qd"; rc=1; }
	done
	echo "bench: $QUEUED $wl qd$QUEUED_DEPTH: $PAIRS pairs of $QUEUED_SCHEDULERS"
	RUNTIME=$QUEUED_RUNTIME NR_REQUESTS=64 bench_case "$OUT/${QUEUED}_${wl}_qd$QUEUED_DEPTH" "/dev/$QUEUED" \
		"$wl" "$QUEUED_DEPTH" $QUEUED_SCHEDULERS ||
		{ echo "fio failed: $QUEUED $wl qd$QUEUED_DEPTH"; rc=1; }
done
for dev in $PLAIN $QUEUED; do
	set_scheduler "/dev/$dev" none
done
bench_finish || rc=1
exit $rc
