#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark of I/O schedulers, UFQ among them: fio 4k random read and a
# 70/30 random read/write mix at several queue depths, on a plain null_blk
# and on the virtio-blk disk, under none, mq-deadline, kyber, bfq, ufq
# with no BPF scheduler (its FIFO) and ufq with tools/ufq_iosched's
# ufq_simple attached.
#
# The host these guests run on is shared and its speed drifts by up to 2x
# within seconds, so the schedulers of one device, workload and depth are
# measured in turns, ROUNDS times, with short runs, and the host takes
# medians.  mq-deadline and ufq_simple, the pair the issue's goal compares,
# run back to back in each round: the loader attaches before mq-deadline's
# run (no queue uses ufq yet) and the device switches to ufq right after,
# so that the host reduces each round to a ratio of two neighbouring runs.
# Last, on null_blk, PAIRS alternations of the two inside one fio process
# ($BENCH_OUT/paired/<device>_<workload>_qd<N>.json, one job per run),
# which is what the host checks the goal on.
# One fio JSON per run goes to
# $HARNESS_SHARED/$BENCH_OUT/<device>_<workload>_<scheduler>_qd<N>_r<round>.json
# and the host prints IOPS, p99 read latency and ratios to "none" of the
# same device, workload and depth.  bench/fio_sched.sh runs a subset.

DIR=$(dirname "$(readlink -f "$0")")
. "$DIR/../lib/blk.sh"

UFQ_BIN=${UFQ_BIN:-$(dirname "$KSRC")/ufq_iosched/bin}
SCHEDULERS=${SCHEDULERS:-"none mq-deadline kyber bfq ufq ufq_simple"}
WORKLOADS=${WORKLOADS:-"randread randrw"}
DEPTHS=${DEPTHS:-"1 8 32"}
ROUNDS=${ROUNDS:-3}
RUNTIME=${RUNTIME:-2}
PAIRS=${PAIRS:-9}
NULLB=${NULLB:-benchufq}
OUT=$HARNESS_SHARED/${BENCH_OUT:-ufq}
LOG=$OUT/ufq_simple.log
LOADER_PID=
mkdir -p "$OUT"

stop_loader() {
	[ -n "$LOADER_PID" ] || return 0
	kill -INT "$LOADER_PID" 2>/dev/null
	wait "$LOADER_PID"
	local rc=$?
	LOADER_PID=
	return $rc
}

cleanup() {
	stop_loader
	nullb_destroy "$NULLB"
}
trap cleanup EXIT

# start_ufq_simple: attach ufq_simple; it serves the queues that use ufq
start_ufq_simple() {
	local i
	: > "$LOG"
	"$UFQ_BIN/ufq_simple" -i 3600 >> "$LOG" 2>&1 &
	LOADER_PID=$!
	for i in $(seq 1200); do
		grep -q ": attached" "$LOG" && return 0
		kill -0 "$LOADER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "ufq_simple did not attach:"
	cat "$LOG"
	LOADER_PID=
	return 1
}

# fio_run DEV WORKLOAD QD JSON
fio_run() {
	local mix=
	[ "$2" = randrw ] && mix="--rwmixread=70"
	fio --name="$2" --filename="$1" --direct=1 --ioengine=io_uring \
		--rw="$2" $mix --bs=4k --iodepth="$3" --size=256M \
		--time_based --runtime="$RUNTIME" --ramp_time=500ms \
		--output-format=json --output="$4" >/dev/null 2>&1
}

# measure DEV WORKLOAD QD ROUND SCHED: one fio run under SCHED
# (ufq_simple: ufq, with the loader attached)
measure() {
	local dev=$1 wl=$2 qd=$3 round=$4 sched=$5 name elv=$5
	name=$(dev_name "$dev")
	[ "$sched" = ufq_simple ] && elv=ufq
	if ! set_scheduler "$dev" "$elv"; then
		echo "cannot select $elv on $name"
		return 1
	fi
	fio_run "$dev" "$wl" "$qd" "$OUT/${name}_${wl}_${sched}_qd${qd}_r${round}.json" ||
		{ echo "fio failed: $name $wl $sched qd$qd round $round"; return 1; }
}

wanted() {	# wanted SCHED: is SCHED in $SCHEDULERS
	case " $SCHEDULERS " in *" $1 "*) return 0 ;; esac
	return 1
}

# round DEV WORKLOAD QD ROUND: every scheduler once, the pair last
round() {
	local sched rc=0
	for sched in $SCHEDULERS; do
		case $sched in mq-deadline|ufq_simple) continue ;; esac
		measure "$@" "$sched" || rc=1
	done
	if wanted ufq_simple; then
		set_scheduler "$1" none
		start_ufq_simple || return 1
	fi
	for sched in mq-deadline ufq_simple; do
		wanted $sched && { measure "$@" "$sched" || rc=1; }
	done
	if wanted ufq_simple; then
		set_scheduler "$1" none
		stop_loader || { echo "ufq_simple exited with an error:"; cat "$LOG"; rc=1; }
	fi
	return $rc
}

# The fastest device (nothing stored), where scheduler overhead shows most
nullb_create "$NULLB" 1024 memory_backed=0 || exit 1
devices="/dev/$NULLB"
[ -n "${TEST_DISK:-}" ] && [ -b "$TEST_DISK" ] && devices="$devices $TEST_DISK"

# pairs DEV WORKLOAD QD: PAIRS alternations of mq-deadline and ufq_simple,
# 1 s each, in one fio process whose exec_prerun switches the elevator
# before each job (ufq_simple serves the device once it uses ufq), so that
# the two runs of a pair are a second apart with no fio or loader start
# between them: the goal's ratio with less noise than the rounds above.
pairs() {
	local dev=$1 wl=$2 qd=$3 name i sched elv mix=
	name=$(dev_name "$dev")
	[ "$wl" = randrw ] && mix="rwmixread=70"
	{
		printf '[global]\nfilename=%s\ndirect=1\nioengine=io_uring\n' "$dev"
		printf 'rw=%s\n%s\nbs=4k\niodepth=%s\nsize=256M\n' "$wl" "$mix" "$qd"
		printf 'time_based\nruntime=1\nramp_time=200ms\nstonewall\n'
		for i in $(seq "$PAIRS"); do
			for sched in mq-deadline ufq_simple; do
				elv=$sched
				[ $sched = ufq_simple ] && elv=ufq
				printf '[%s-%s]\nexec_prerun=echo %s > /sys/block/%s/queue/scheduler\n' \
					"$sched" "$i" "$elv" "$name"
			done
		done
	} > "$PAIRDIR/job.fio"
	(cd "$PAIRDIR" && fio --output-format=json \
		--output="$PAIRDIR/${name}_${wl}_qd${qd}.json" job.fio >/dev/null 2>&1)
}

rc=0
for dev in $devices; do
	for wl in $WORKLOADS; do
		for qd in $DEPTHS; do
			echo "bench: $(dev_name "$dev") $wl qd$qd: $ROUNDS rounds of $SCHEDULERS"
			for r in $(seq "$ROUNDS"); do
				round "$dev" "$wl" "$qd" "$r" || rc=1
			done
		done
	done
	set_scheduler "$dev" none
done

if wanted mq-deadline && wanted ufq_simple && [ "$PAIRS" -gt 0 ]; then
	PAIRDIR=$OUT/paired
	mkdir -p "$PAIRDIR"
	echo "bench: $NULLB: $PAIRS pairs of mq-deadline and ufq_simple in one fio"
	if start_ufq_simple; then
		for wl in $WORKLOADS; do
			for qd in $DEPTHS; do
				pairs "/dev/$NULLB" "$wl" "$qd" ||
					{ echo "fio failed: pairs $wl qd$qd"; rc=1; }
			done
		done
		set_scheduler "/dev/$NULLB" none
		stop_loader || { echo "ufq_simple exited with an error:"; cat "$LOG"; rc=1; }
	else
		rc=1
	fi
	rm -f "$PAIRDIR/job.fio" "$PAIRDIR"/*.prerun.txt
fi
exit $rc
