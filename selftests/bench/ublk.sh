#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: selftests/ublk's server against the kernel's own drivers, the
# baseline ublk-bpf must beat.  Every device has one queue of depth 128 and
# no I/O scheduler; the variants of a case run in alternating pairs of
# RUNTIME-second runs in one fio process (PAIRS pairs, as lib.sh's
# bench_case, but each variant on its own device):
#
#   loop_512k_randwrite_qd16  seed 001's fio job (libaio)  on one tmpfs file:
#   loop_4k_randread_qd32     io_uring                     kernel (losetup
#                                                          --direct-io=on),
#                                                          ublk (loop target,
#                                                          copy mode)
#   null_4k_randread_qd32     io_uring                     kernel (null_blk,
#                                                          nothing stored),
#                                                          ublk (null target)
#
# Around each run fio's exec_prerun / exec_postrun take snapshot.awk's CPU
# time snapshot and, for a ublk run, the server's threads' utime + stime
# (server.awk over /proc/PID/task/*/stat: "== server" ticks, threads).
# Results in $HARNESS_SHARED/ublk/<case>/ (fio.json, <job>.prerun.txt and
# .postrun.txt), what was set up in $HARNESS_SHARED/ublk/.setup;
# harness/bench_ublk.py reduces them.

set -u
DIR=$(dirname "$(readlink -f "$0")")
REPO=$(readlink -f "$DIR/../..")
. "$DIR/lib.sh"

UBLK=${UBLK:-$REPO/build/selftests/ublk/ublk}
OUT=$HARNESS_SHARED/ublk
FILE_MB=${FILE_MB:-256}
NULLB=benchublk
WORK=$(mktemp -d /tmp/bench-ublk.XXXXXX)
export UBLK_RUN_DIR=$WORK/run
LOOPDEV=

cleanup() {
	"$UBLK" del -a > /dev/null 2>&1
	[ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV"
	nullb_destroy "$NULLB"
	mountpoint -q "$WORK/tmp" && umount "$WORK/tmp"
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "bench ublk: $*"
	exit 1
}

# ublk_dev ARGS...: a ublk device with one queue of depth 128; prints
# "DEV PID" (the server's pid)
ublk_dev() {
	local dev pid
	dev=$("$UBLK" add -q 1 -d 128 "$@") || return 1
	pid=$("$UBLK" list -n "${dev#/dev/ublkb}" | sed -n '1s/.* pid=\([0-9]*\) .*/\1/p')
	[ -n "$pid" ] && set_scheduler "$dev" none || return 1
	echo "$dev $pid"
}

# snapshot PRE|POST PID: fio's exec_prerun / exec_postrun of a run (no ";":
# fio cuts a value there).  The CPU time snapshot is the last thing before
# a run and the first after it; the server's ticks are the server's own.
snapshot() {
	local cpu="awk -f $BENCH_DIR/snapshot.awk /proc/timer_list /proc/stat" srv=
	[ -n "$2" ] && srv="awk -f $BENCH_DIR/server.awk /proc/$2/task/*/stat"
	if [ -z "$srv" ]; then
		echo "$cpu"
	elif [ "$1" = PRE ]; then
		echo "($srv && $cpu)"
	else
		echo "($cpu && $srv)"
	fi
}

# ublk_case NAME "FIO OPTIONS" VARIANT=DEV[:PID]...: one case, in NAME/
ublk_case() {
	local out=$OUT/$1 opts=$2 i v order dev pid
	shift 2
	mkdir -p "$out"
	{
		printf '[global]\ndirect=1\nsize=%sM\n' "$FILE_MB"
		printf '%s\n' $opts
		printf 'time_based\nruntime=%s\nstonewall\n' "$RUNTIME"
		for i in $(seq "$PAIRS"); do
			order="$*"
			[ $((i % 2)) = 0 ] && order=$(reverse "$@")
			for v in $order; do
				dev=${v#*=}
				pid=
				[[ $dev == *:* ]] && pid=${dev#*:} && dev=${dev%%:*}
				printf '[%s-%s]\nfilename=%s\n' "${v%%=*}" "$i" "$dev"
				printf 'exec_prerun=%s\n' "$(snapshot PRE "$pid")"
				printf 'exec_postrun=%s\n' "$(snapshot POST "$pid")"
			done
		done
	} > "$out/job.fio"
	(cd "$out" && fio --output-format=json --output="$out/fio.json" job.fio \
		> "$out/fio.log" 2>&1)
}

mkdir -p "$OUT" "$WORK/tmp" "$UBLK_RUN_DIR"
[ -x "$UBLK" ] || fail "$UBLK not built (the harness builds selftests/ublk)"
[ -c /dev/ublk-control ] || fail "no /dev/ublk-control (CONFIG_BLK_DEV_UBLK)"
mount -t tmpfs -o size=$((FILE_MB + 16))m tmpfs "$WORK/tmp" || fail "cannot mount a tmpfs"
# written, not sparse: both drivers find the same pages there
head -c $((FILE_MB << 20)) /dev/zero > "$WORK/tmp/loop.img" || fail "no backing file"

read -r U_DEV U_PID < <(ublk_dev -t loop "$WORK/tmp/loop.img") && [ -n "${U_PID:-}" ] ||
	fail "no ublk loop device"
read -r N_DEV N_PID < <(ublk_dev -t null --size "${FILE_MB}M") && [ -n "${N_PID:-}" ] ||
	fail "no ublk null device"
LOOPDEV=$(losetup --direct-io=on --show -f "$WORK/tmp/loop.img") || fail "losetup failed"
[ "$(cat "/sys/block/$(dev_name "$LOOPDEV")/loop/dio")" = 1 ] ||
	fail "$LOOPDEV: no direct I/O on the tmpfs file"
set_scheduler "$LOOPDEV" none || fail "$LOOPDEV: cannot select none"
nullb_create "$NULLB" "$FILE_MB" memory_backed=0 hw_queue_depth=128 submit_queues=1 ||
	fail "no null_blk $NULLB"
set_scheduler "/dev/$NULLB" none || fail "$NULLB: cannot select none"
{
	echo "ublk_loop $U_DEV $U_PID"
	echo "ublk_null $N_DEV $N_PID"
	echo "kernel_loop $LOOPDEV"
	echo "kernel_null /dev/$NULLB"
	echo "pairs $PAIRS runtime $RUNTIME"
} > "$OUT/.setup"
for dev in "$U_DEV" "$LOOPDEV" "$N_DEV" "/dev/$NULLB"; do
	bench_warmup "$dev"
done

rc=0
LOOPS="kernel=$LOOPDEV ublk=$U_DEV:$U_PID"
NULLS="kernel=/dev/$NULLB ublk=$N_DEV:$N_PID"
echo "bench: loop 512k randwrite qd16: $PAIRS pairs of kernel loop and ublk loop"
ublk_case loop_512k_randwrite_qd16 "ioengine=libaio rw=randwrite bs=512k iodepth=16" \
	$LOOPS || { echo "fio failed: loop 512k randwrite"; rc=1; }
echo "bench: loop 4k randread qd32: $PAIRS pairs of kernel loop and ublk loop"
ublk_case loop_4k_randread_qd32 "ioengine=io_uring rw=randread bs=4k iodepth=32" \
	$LOOPS || { echo "fio failed: loop 4k randread"; rc=1; }
echo "bench: null 4k randread qd32: $PAIRS pairs of null_blk and ublk null"
ublk_case null_4k_randread_qd32 "ioengine=io_uring rw=randread bs=4k iodepth=32" \
	$NULLS || { echo "fio failed: null 4k randread"; rc=1; }
# the servers served to the end
for pid in $U_PID $N_PID; do
	st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] || { echo "bench ublk: the server $pid is gone"; rc=1; }
done
exit $rc
