#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# drgn helpers (harness/drgn_helpers/) checked against what the kernel
# shows elsewhere, all in one drgn run (checks.py), KTAP output:
#
# block     disks get different elevators first (mq-deadline on a null_blk,
#           bfq on the virtio disk, kyber on a second null_blk) so that
#           agreement with /sys/block/*/queue/scheduler means something.
# ufq       a slow null_blk (one driver tag, 3 s completions) using ufq,
#           selftests/ufq's scheduler attached in stall mode with the
#           watchdog off, and fio holding UFQ_NR writes in the scheduler;
#           checked against debugfs (ufq_checks.py).
# io_uring  selftests/iouring's iou_ring_report leaves a ring with BPF loop
#           ops installed and an overflowed ring, and reports what it sees;
#           checked against that report (io_uring_checks.py).
#           iou_opbpf_report leaves a ring with IORING_OP_BPF operations in
#           two slots, loop ops, and BPF operations waiting in links behind
#           a READ of an empty pipe and a TIMEOUT; checked against what it
#           reports (io_uring_opbpf_checks.py).
# ublk      selftests/ublk's server holds five requests of a fio on one
#           device, a second device is QUIESCED and a third DEAD (their
#           servers killed); checked against what the servers report in
#           `ublk list -v` (ublk_checks.py, set up by
#           selftests/ublk/drgn_setup.sh).  A fourth device, the BPF loop
#           target over a fifth whose server holds what its aios read,
#           has four reads of a fio owned by BPF, each with its bpf aio
#           in flight; checked against its sysfs counters, bpftool, the
#           server and fio (ublk_bpf_checks.py).
#
# Environment: KSRC (kernel tree), OUTPUT (build/selftests/drgn: the other
# areas' programs are next to it), TEST_DISK (optional), DRGN (the drgn
# program), HARNESS_STRICT (selftests/lib/strict.sh: no drgn, no
# /proc/kcore or a TEST_DISK that is no block device fails the area).

DIR=$(dirname "$(readlink -f "$0")")
REPO=$(readlink -f "$DIR/../..")
KSRC=${KSRC:-$REPO/build/linux}
# ktap_helpers.sh only for lib/ufq.sh's messages: checks.py prints the
# area's plan and results
. "$KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh"
. "$DIR/../lib/blk.sh"
. "$DIR/../lib/strict.sh"
. "$DIR/../lib/ufq.sh"
. "$DIR/../lib/wait.sh"
. "$DIR/../ublk/drgn_setup.sh"

VMLINUX=${VMLINUX:-$REPO/build/obj/vmlinux}
DRGN=${DRGN:-$REPO/.venv/bin/drgn}
BUILT=$(dirname "${OUTPUT:-$REPO/build/selftests/drgn}")
UFQ_TEST=$BUILT/ufq/ufq_test
IOU_APP=$BUILT/iouring/iou_ring_report
OPBPF_APP=$BUILT/iouring/iou_opbpf_report
WDT=/sys/module/ufq/parameters/watchdog_timeout_ms
UFQ_DEV=drgnufq0
UFQ_NR=6
LOADER_PID=
FIO_PID=
APP_PID=
OPBPF_PID=
DRGN_PID=
OLD_WDT=

# the KTAP header; checks.py prints the plan and the results
echo "TAP version 13"
if [ ! -x "$DRGN" ] || [ ! -r /proc/kcore ]; then
	skip_area_or_fail "drgn ($DRGN) or /proc/kcore missing"
fi
check_test_disk
WORK=$(mktemp -d /tmp/drgn.XXXXXX)

msg() { echo "# $*"; }

cleanup() {
	[ -n "$DRGN_PID" ] && kill "$DRGN_PID" 2>/dev/null && wait "$DRGN_PID"
	[ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null && wait "$APP_PID"
	[ -n "$OPBPF_PID" ] && kill "$OPBPF_PID" 2>/dev/null && wait "$OPBPF_PID"
	ublk_drgn_cleanup > /dev/null
	# the loader holds the writes: detach it first so that fio finishes
	[ -n "$LOADER_PID" ] && kill "$LOADER_PID" 2>/dev/null
	[ -n "$LOADER_PID" ] && wait "$LOADER_PID"
	[ -n "$FIO_PID" ] && wait "$FIO_PID"
	[ -n "$OLD_WDT" ] && echo "$OLD_WDT" > $WDT
	nullb_destroy drgn0
	nullb_destroy drgn1
	nullb_destroy $UFQ_DEV
	rm -rf "$WORK"
}
trap cleanup EXIT

queued_bpf() {
	[ "$(awk '$1 == "queued_bpf" { print $2 }' \
		/sys/kernel/debug/block/$UFQ_DEV/sched/stats)" = "$UFQ_NR" ]
}

# start_loader MODE: attach selftests/ufq's scheduler in the background
start_loader() {
	ufq_start_loader loader '^attached' "$UFQ_TEST" "$1" 0
}

# Adds the environment of ufq_checks.py to $WORK/env, or says why it could not.
ufq_setup() {
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	[ -x "$UFQ_TEST" ] || { msg "ufq: $UFQ_TEST not built"; return 1; }
	nullb_create $UFQ_DEV 64 hw_queue_depth=1 irqmode=2 \
		completion_nsec=3000000000 && set_scheduler /dev/$UFQ_DEV ufq ||
		{ msg "ufq: cannot set up $UFQ_DEV"; return 1; }
	# more scheduler tags than the default 2, and no timeout of the
	# slow completions
	echo 64 > /sys/block/$UFQ_DEV/queue/nr_requests
	echo 60000 > /sys/block/$UFQ_DEV/queue/io_timeout
	OLD_WDT=$(cat $WDT)
	echo 0 > $WDT
	# sequential writes pile up: bio merges (fifo mode), request merges
	# (rqmerge mode) and BPF dispatches, so that no counter stays 0
	local mode
	for mode in fifo rqmerge; do
		start_loader $mode || return 1
		fio --name=seq-$mode --filename=/dev/$UFQ_DEV --rw=write --bs=4k \
			--offset=1m --size=64k --ioengine=libaio --iodepth=16 \
			--direct=1 > "$WORK/seq-$mode.out" 2>&1 ||
			{ msg "ufq: fio seq-$mode failed"; return 1; }
		kill $LOADER_PID && wait $LOADER_PID ||
			{ msg "ufq: loader $mode failed"; return 1; }
		LOADER_PID=
	done
	start_loader stall || return 1
	# UFQ_NR 4k writes 16k apart (no merge): sectors 0, 32, 64, ...
	fio --name=held --filename=/dev/$UFQ_DEV --rw=write:12k --bs=4k \
		--number_ios=$UFQ_NR --size=$((UFQ_NR * 16))k --ioengine=libaio \
		--iodepth=$UFQ_NR --direct=1 > "$WORK/fio.out" 2>&1 &
	FIO_PID=$!
	if ! wait_for 60 queued_bpf; then
		msg "ufq: $UFQ_NR writes not held by the scheduler:"
		sed 's/^/# /' /sys/kernel/debug/block/$UFQ_DEV/sched/stats
		return 1
	fi
	local held= i
	for ((i = 0; i < UFQ_NR; i++)); do
		held="$held $((i * 32))+8"
	done
	printf 'UFQ_DISK=%s\nUFQ_LOADER_PID=%s\nUFQ_HELD=%s\n' \
		$UFQ_DEV "$LOADER_PID" "$held" >> "$WORK/env"
}

iou_setup() {
	[ -x "$IOU_APP" ] || { msg "io_uring: $IOU_APP not built"; return 1; }
	"$IOU_APP" "$WORK/iou.report" 2> "$WORK/iou.err" &
	APP_PID=$!
	if ! wait_for 60 test -e "$WORK/iou.report"; then
		msg "io_uring: no report from $IOU_APP:"
		sed 's/^/# /' "$WORK/iou.err" | tail -20
		return 1
	fi
	echo "IOU_REPORT=$WORK/iou.report" >> "$WORK/env"
}

opbpf_setup() {
	[ -x "$OPBPF_APP" ] || { msg "io_uring opbpf: $OPBPF_APP not built"; return 1; }
	"$OPBPF_APP" "$WORK/opbpf.report" 2> "$WORK/opbpf.err" &
	OPBPF_PID=$!
	if ! wait_for 60 test -e "$WORK/opbpf.report"; then
		msg "io_uring opbpf: no report from $OPBPF_APP:"
		sed 's/^/# /' "$WORK/opbpf.err" | tail -20
		return 1
	fi
	echo "IOU_OPBPF_REPORT=$WORK/opbpf.report" >> "$WORK/env"
}

# drgn loads the DWARF (minutes under TCG) while the scenarios are set up;
# checks.py waits for $WORK/ready
cd "$REPO" || exit 1
"$DRGN" -k -s "$VMLINUX" --main-symbols -q "$DIR/checks.py" "$KSRC" "$WORK/ready" \
	block_checks ufq_checks io_uring_checks io_uring_opbpf_checks ublk_checks ublk_bpf_checks &
DRGN_PID=$!

nullb_create drgn0 64 && set_scheduler /dev/drgn0 mq-deadline || msg "cannot set up drgn0"
nullb_create drgn1 64 && set_scheduler /dev/drgn1 kyber || msg "cannot set up drgn1"
[ -z "${TEST_DISK:-}" ] || set_scheduler "$TEST_DISK" bfq || msg "cannot select bfq on $TEST_DISK"

touch "$WORK/env"
ufq_setup
iou_setup
opbpf_setup
ublk_drgn_setup "$WORK" "$BUILT" "$WORK/env"
mv "$WORK/env" "$WORK/ready"
wait $DRGN_PID
rc=$?
DRGN_PID=
if [ -n "$APP_PID" ]; then
	kill "$APP_PID"
	if ! wait "$APP_PID"; then
		msg "io_uring: iou_ring_report failed:"
		sed 's/^/# /' "$WORK/iou.err"
		rc=1
	fi
	APP_PID=
fi
if [ -n "$OPBPF_PID" ]; then
	kill "$OPBPF_PID"
	if ! wait "$OPBPF_PID"; then
		msg "io_uring opbpf: iou_opbpf_report failed:"
		sed 's/^/# /' "$WORK/opbpf.err"
		rc=1
	fi
	OPBPF_PID=
fi
# the held requests released, fio must end well and every device go
ublk_drgn_cleanup || rc=1
exit $rc
