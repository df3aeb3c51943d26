#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: selftests/ublk's server against the kernel's own drivers, and
# the same targets with their I/O in BPF (ublk-bpf, the server's --bpf).
# Every device has one queue of depth 128 and no I/O scheduler; the
# variants of a case run in alternating pairs of RUNTIME-second runs in one
# fio process (PAIRS pairs, as lib.sh's bench_case, but each variant on its
# own device):
#
#   loop_512k_randwrite_qd16  seed 001's fio job (libaio)  on one tmpfs file:
#   loop_4k_randread_qd32     io_uring                     kernel (losetup
#   loop_4k_randread_qd1                                   --direct-io=on),
#                                                          ublk (loop target,
#                                                          copy mode),
#                                                          ublk_bpf (loop
#                                                          target, --bpf loop)
#   null_4k_randread_qd32     io_uring                     kernel (null_blk,
#   null_4k_randread_qd1                                   nothing stored),
#                                                          ublk (null target),
#                                                          ublk_bpf (--bpf null)
#   stripe_4k_randread_qd1    io_uring                     on two tmpfs files:
#   concat_4k_randread_qd1                                 ublk, ublk_bpf
#                                                          (--bpf stripe,
#                                                          --bpf concat)
#
# Around each run fio's exec_prerun / exec_postrun take snapshot.awk's CPU
# time snapshot and, for a ublk run, the server's threads' utime + stime
# (server.awk over /proc/PID/task/*/stat: "== server" ticks, threads) and,
# for a ublk_bpf run, the device's BPF state and counters (ublk_bpf.awk:
# "== ublk_bpf" attached, handled, redirected, errors).
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

# snapshot PRE|POST PID [DEV]: fio's exec_prerun / exec_postrun of a run
# (no ";": fio cuts a value there).  The CPU time snapshot is the last thing
# before a run and the first after it; the server's ticks are the server's
# own; with DEV (a ublk_bpf run) the device's BPF counters besides.
snapshot() {
	local cpu="awk -f $BENCH_DIR/snapshot.awk /proc/timer_list /proc/stat" srv= f
	if [ -n "$2" ]; then
		srv="awk -f $BENCH_DIR/server.awk /proc/$2/task/*/stat"
		if [ -n "${3:-}" ]; then
			srv="$srv && awk -f $BENCH_DIR/ublk_bpf.awk"
			for f in attached handled redirected errors; do
				srv="$srv /sys/block/$(dev_name "$3")/bpf/$f"
			done
		fi
	fi
	if [ -z "$srv" ]; then
		echo "$cpu"
	elif [ "$1" = PRE ]; then
		echo "($srv && $cpu)"
	else
		echo "($cpu && $srv)"
	fi
}

# ublk_case NAME "FIO OPTIONS" VARIANT=DEV[:PID]...: one case, in NAME/
# (a variant named ublk_bpf also snapshots its device's BPF counters)
ublk_case() {
	local out=$OUT/$1 opts=$2 i v order dev pid bdev
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
				bdev=
				[ "${v%%=*}" = ublk_bpf ] && bdev=$dev
				printf '[%s-%s]\nfilename=%s\n' "${v%%=*}" "$i" "$dev"
				printf 'exec_prerun=%s\n' "$(snapshot PRE "$pid" "$bdev")"
				printf 'exec_postrun=%s\n' "$(snapshot POST "$pid" "$bdev")"
			done
		done
	} > "$out/job.fio"
	(cd "$out" && fio --output-format=json --output="$out/fio.json" job.fio \
		> "$out/fio.log" 2>&1)
}

# ublk_pair NAME ARGS...: the server's device and the same with --bpf NAME
# (ARGS: the target and its files), into NAME_DEV NAME_PID and
# NAME_BPF_DEV NAME_BPF_PID (NAME in capitals)
ublk_pair() {
	local name=$1 up dev pid
	shift
	up=$(echo "$name" | tr '[:lower:]' '[:upper:]')
	read -r dev pid < <(ublk_dev "$@") && [ -n "${pid:-}" ] ||
		fail "no ublk $name device"
	printf -v "${up}_DEV" %s "$dev"
	printf -v "${up}_PID" %s "$pid"
	read -r dev pid < <(ublk_dev --bpf "$name" "$@") && [ -n "${pid:-}" ] ||
		fail "no ublk $name device with --bpf $name"
	[ "$(cat "/sys/block/$(dev_name "$dev")/bpf/attached")" = 1 ] ||
		fail "$dev: --bpf $name added a device without BPF ops attached"
	printf -v "${up}_BPF_DEV" %s "$dev"
	printf -v "${up}_BPF_PID" %s "$pid"
}

mkdir -p "$OUT" "$WORK/tmp" "$UBLK_RUN_DIR"
[ -x "$UBLK" ] || fail "$UBLK not built (the harness builds selftests/ublk)"
[ -c /dev/ublk-control ] || fail "no /dev/ublk-control (CONFIG_BLK_DEV_UBLK)"
mount -t tmpfs -o size=$((2 * FILE_MB + 16))m tmpfs "$WORK/tmp" || fail "cannot mount a tmpfs"
# written, not sparse: every driver finds the same pages there
head -c $((FILE_MB << 20)) /dev/zero > "$WORK/tmp/loop.img" || fail "no backing file"
for f in a b; do
	head -c $((FILE_MB << 19)) /dev/zero > "$WORK/tmp/$f.img" || fail "no backing file $f"
done

ublk_pair loop -t loop "$WORK/tmp/loop.img"
ublk_pair null -t null --size "${FILE_MB}M"
ublk_pair stripe -t stripe "$WORK/tmp/a.img" "$WORK/tmp/b.img"
ublk_pair concat -t concat "$WORK/tmp/a.img" "$WORK/tmp/b.img"
LOOPDEV=$(losetup --direct-io=on --show -f "$WORK/tmp/loop.img") || fail "losetup failed"
[ "$(cat "/sys/block/$(dev_name "$LOOPDEV")/loop/dio")" = 1 ] ||
	fail "$LOOPDEV: no direct I/O on the tmpfs file"
set_scheduler "$LOOPDEV" none || fail "$LOOPDEV: cannot select none"
nullb_create "$NULLB" "$FILE_MB" memory_backed=0 hw_queue_depth=128 submit_queues=1 ||
	fail "no null_blk $NULLB"
set_scheduler "/dev/$NULLB" none || fail "$NULLB: cannot select none"
{
	for t in loop null stripe concat; do
		up=$(echo "$t" | tr '[:lower:]' '[:upper:]')
		dev=${up}_DEV pid=${up}_PID bdev=${up}_BPF_DEV bpid=${up}_BPF_PID
		echo "ublk_$t ${!dev} ${!pid}"
		echo "ublk_bpf_$t ${!bdev} ${!bpid}"
	done
	echo "kernel_loop $LOOPDEV"
	echo "kernel_null /dev/$NULLB"
	echo "pairs $PAIRS runtime $RUNTIME"
} > "$OUT/.setup"
for dev in "$LOOP_DEV" "$LOOP_BPF_DEV" "$LOOPDEV" "$NULL_DEV" "$NULL_BPF_DEV" "/dev/$NULLB" \
	"$STRIPE_DEV" "$STRIPE_BPF_DEV" "$CONCAT_DEV" "$CONCAT_BPF_DEV"; do
	bench_warmup "$dev"
done

rc=0
LOOPS="kernel=$LOOPDEV ublk=$LOOP_DEV:$LOOP_PID ublk_bpf=$LOOP_BPF_DEV:$LOOP_BPF_PID"
NULLS="kernel=/dev/$NULLB ublk=$NULL_DEV:$NULL_PID ublk_bpf=$NULL_BPF_DEV:$NULL_BPF_PID"
STRIPES="ublk=$STRIPE_DEV:$STRIPE_PID ublk_bpf=$STRIPE_BPF_DEV:$STRIPE_BPF_PID"
CONCATS="ublk=$CONCAT_DEV:$CONCAT_PID ublk_bpf=$CONCAT_BPF_DEV:$CONCAT_BPF_PID"
# run_case NAME WHAT "FIO OPTIONS" "VARIANT=DEV[:PID]..."
run_case() {
	local v names=
	for v in $4; do names="$names ${v%%=*}"; done
	echo "bench: $2: $PAIRS pairs of$names"
	ublk_case "$1" "$3" $4 || { echo "fio failed: $2"; rc=1; }
}
run_case loop_512k_randwrite_qd16 "loop 512k randwrite qd16" \
	"ioengine=libaio rw=randwrite bs=512k iodepth=16" "$LOOPS"
run_case loop_4k_randread_qd32 "loop 4k randread qd32" \
	"ioengine=io_uring rw=randread bs=4k iodepth=32" "$LOOPS"
run_case null_4k_randread_qd32 "null 4k randread qd32" \
	"ioengine=io_uring rw=randread bs=4k iodepth=32" "$NULLS"
for t in loop null stripe concat; do
	up=$(echo "$t" | tr '[:lower:]' '[:upper:]')S
	run_case "${t}_4k_randread_qd1" "$t 4k randread qd1" \
		"ioengine=io_uring rw=randread bs=4k iodepth=1" "${!up}"
done
# the servers served to the end, every BPF device kept its ops
for pid in $LOOP_PID $LOOP_BPF_PID $NULL_PID $NULL_BPF_PID $STRIPE_PID $STRIPE_BPF_PID \
	$CONCAT_PID $CONCAT_BPF_PID; do
	st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] || { echo "bench ublk: the server $pid is gone"; rc=1; }
done
for dev in $LOOP_BPF_DEV $NULL_BPF_DEV $STRIPE_BPF_DEV $CONCAT_BPF_DEV; do
	b=/sys/block/$(dev_name "$dev")/bpf
	[ "$(cat "$b/attached")" = 1 ] ||
		{ echo "bench ublk: $dev lost its BPF ops ($(cat "$b/exit_reason" 2>/dev/null))"; rc=1; }
done
exit $rc
