#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# UFQ with several hardware queues: null_blk with submit_queues=N (no poll
# queues), and changes of their number and of nr_requests while the FIFO
# scheduler (ufq_fifo.bpf.c) is attached and verifying fio runs (two
# jobs, one run after the other until the changes are done): the hardware
# queues go N -> 1 -> N (blk_mq_update_nr_hw_queues switches the elevator
# off and back: exit_sched, init_sched) and nr_requests 64 -> 16 -> 64,
# five times.  fio verifies, the scheduler serves the queue afterwards (a
# write read back through BPF), and the statistics are exact.
#
# Sourced by run.sh (test 26, N = the guest's CPUs, up to 4), or run on its
# own as a KTAP script of one test with N = $UFQ_MQ_QUEUES (default 4),
# which fails on a guest with fewer CPUs than that: null_blk gives a queue
# at most one hardware queue per CPU (tests/vm/test_ufq_multiqueue.py
# boots a guest of 4 CPUs for it).
#
# Environment when run on its own: KSRC (kernel tree, for
# ktap_helpers.sh), OUTPUT (built ufq_test), UFQ_MQ_QUEUES.

# ufqmq_queues: hardware queues of ufqmq0 in sysfs
ufqmq_queues() { ls -d /sys/block/ufqmq0/mq/[0-9]* 2>/dev/null | wc -l; }

# ufq_multiqueue_test N: the test with N hardware queues, one KTAP result
ufq_multiqueue_test() {
	local nq=$1 cfs=/sys/kernel/config/nullb rc=0 changes fpid

	if [ $nq -lt 2 ]; then
		msg "$nq hardware queue: the test needs 2 or more"
		rc=1
	elif nullb_create ufqmq0 64 submit_queues=$nq poll_queues=0 &&
	     ufq_set_sched ufqmq0 ufq && start_loader fifo; then
		[ "$(ufqmq_queues)" -eq $nq ] || { msg "ufqmq0 has $(ufqmq_queues) hardware queues, not $nq"; rc=1; }
		rm -f $WORK/mq.stop
		(
			n=0
			while [ ! -e $WORK/mq.stop ]; do
				n=$((n + 1))
				UFQ_VERIFY_SIZE=16M ufq_fio_verify ufqmq0 mq$n \
					--numjobs=2 --offset_increment=16M || exit 1
			done
			msg "fio verified $n runs"
		) &
		fpid=$!
		changes=0
		while [ $changes -lt 5 ] && kill -0 $fpid 2>/dev/null; do
			echo 1 > $cfs/ufqmq0/submit_queues || rc=1
			[ "$(ufqmq_queues)" -eq 1 ] || { msg "$(ufqmq_queues) hardware queues after 1"; rc=1; }
			echo 16 > /sys/block/ufqmq0/queue/nr_requests || rc=1
			echo $nq > $cfs/ufqmq0/submit_queues || rc=1
			[ "$(ufqmq_queues)" -eq $nq ] || { msg "$(ufqmq_queues) hardware queues after $nq"; rc=1; }
			echo 64 > /sys/block/ufqmq0/queue/nr_requests || rc=1
			changes=$((changes + 1))
			sleep 0.2
		done
		touch $WORK/mq.stop
		wait $fpid || rc=1
		msg "ufqmq0: $changes rounds of changes under fio"
		[ $changes -eq 5 ] || { msg "fio failed before 5 rounds"; rc=1; }
		[ "$(current_scheduler ufqmq0)" = ufq ] || rc=1
		head -c $((64 * 1024 * 16)) /dev/urandom > $WORK/mq.dat
		dd if=$WORK/mq.dat of=/dev/ufqmq0 bs=64k oflag=direct status=none || rc=1
		dd if=/dev/ufqmq0 of=$WORK/mq.rd bs=64k count=16 iflag=direct \
			status=none || rc=1
		cmp $WORK/mq.dat $WORK/mq.rd || rc=1
		[ "$(ufq_stat ufqmq0 bpf_dispatched)" -gt 0 ] || rc=1
		ufq_stats_consistent ufqmq0 exact || rc=1
		ufq_stop_loader || rc=1
		msg "loader: $(tr '\n' ' ' < $WORK/loader.out)"
		# init_sched at attach and at each switch back, exit_sched at each
		# switch off and at detach
		[ "$(counter init_sched)" = "$(counter exit_sched)" ] || rc=1
		[ "$(counter init_sched)" -ge $((changes * 2)) ] || rc=1
	else
		rc=1
		ufq_stop_loader
	fi
	nullb_destroy ufqmq0 2>/dev/null
	ktap_result $rc "$nq hardware queues, nr_hw_queues and nr_requests changed under I/O with a BPF scheduler"
}

[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

DIR=$(dirname "$(readlink -f "$0")")
OUTPUT=${OUTPUT:-$DIR}
. "$DIR/common.sh"

UFQ_TEST=$OUTPUT/ufq_test
WORK=$(mktemp -d /tmp/ufqmq.XXXXXX)
LOADER_PID=
NQ=${UFQ_MQ_QUEUES:-4}

cleanup() {
	[ -n "$LOADER_PID" ] && kill "$LOADER_PID" 2>/dev/null && wait "$LOADER_PID" 2>/dev/null
	nullb_destroy ufqmq0 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

ktap_print_header
ufq_prepare || skip_area_or_fail "CONFIG_IOSCHED_UFQ is not enabled"
[ -x "$UFQ_TEST" ] || fail_area "no $UFQ_TEST: run \`harness build\`"
ktap_set_plan 1
if [ "$(nproc)" -lt "$NQ" ]; then
	msg "the guest has $(nproc) CPUs: $NQ hardware queues need $NQ"
	ktap_test_fail "$NQ hardware queues, nr_hw_queues and nr_requests changed under I/O with a BPF scheduler"
else
	ufq_multiqueue_test "$NQ"
fi
ktap_finished
