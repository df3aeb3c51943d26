#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: the ublk server of selftests/ublk against the kernel's own
# drivers, the baseline that ublk-bpf must beat.
#
#   loop 512k randwrite qd16  seed 001's fio job (libaio)    on one tmpfs file:
#   loop 4k randread qd32     io_uring                       ublk (loop target),
#                                                            ublk_u (UBLK_F_USER_COPY),
#                                                            kernel (losetup --direct-io=on)
#   null 4k randread qd32     io_uring                       ublk (null target),
#                                                            kernel (null_blk, no storage)
#
# Every device has 1 queue of depth 128 and no I/O scheduler.  A case is
# one fio process running PAIRS pairs of RUNTIME-second runs, every variant
# once per pair, in the reverse order every other pair.  Around each run
# fio's exec_prerun and exec_postrun record the guest's CPU time
# (/proc/stat) and the ublk server's (utime + stime of its threads).
# Results: $HARNESS_SHARED/ublk/<case>/fio.json (jobs <variant>-<pair>),
# <job>.pre and <job>.post, and $HARNESS_SHARED/ublk/setup.txt (what was
# set up, or why not).  harness/bench_ublk.py reduces them.

DIR=$(dirname "$(readlink -f "$0")")
REPO=$(readlink -f "$DIR/../..")
UBLK=${UBLK:-$REPO/build/selftests/ublk/ublk}
OUT=${HARNESS_SHARED:-/tmp}/ublk
PAIRS=${PAIRS:-5}
RUNTIME=${RUNTIME:-2}
FILE_MB=${FILE_MB:-256}
WORK=$(mktemp -d /tmp/bench-ublk.XXXXXX)
export UBLK_RUN_DIR=$WORK/run
NULLB=/sys/kernel/config/nullb/benchublk
LOOPDEV=

mkdir -p "$OUT" "$WORK/tmp" "$UBLK_RUN_DIR"
SETUP=$OUT/setup.txt
: > "$SETUP"

fail() {
	echo "error $*" >> "$SETUP"
	echo "bench ublk: $*" >&2
	exit 1
}

cleanup() {
	"$UBLK" del -a > /dev/null 2>&1
	[ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV"
	[ -d "$NULLB" ] && echo 0 > "$NULLB/power" && rmdir "$NULLB"
	mountpoint -q "$WORK/tmp" && umount "$WORK/tmp"
	rm -rf "$WORK"
}
trap cleanup EXIT

# The snapshot of one side of a run: the guest's cpu line of /proc/stat
# (USER_HZ ticks) and the server's threads' utime + stime (ticks).
cat > "$WORK/snap.awk" <<'EOF'
FILENAME == "/proc/stat" && $1 == "cpu" { print "stat", $2, $3, $4, $5, $6, $7, $8, $9 }
FILENAME ~ /\/task\/[0-9]+\/stat$/ {
	sub(/^[^)]*\) /, "")	# after "pid (comm) ": state is $1, utime $12, stime $13
	server += $12 + $13
	threads++
}
END { if (threads) print "server", server, threads }
EOF

# no_scheduler DEV
no_scheduler() {
	local name=${1#/dev/}
	echo none > "/sys/block/$name/queue/scheduler" &&
		grep -q '\[none\]' "/sys/block/$name/queue/scheduler"
}

# ublk_dev ARGS...: a ublk device; prints "DEV PID"
ublk_dev() {
	local dev pid
	dev=$("$UBLK" add -q 1 -d 128 "$@" 2>> "$SETUP") || return 1
	pid=$("$UBLK" list -n "${dev#/dev/ublkb}" | sed -n '1s/.* pid=\([0-9]*\) .*/\1/p')
	[ -n "$pid" ] && no_scheduler "$dev" || return 1
	echo "$dev $pid"
}

# job_file CASE_DIR GLOBAL VARIANT=DEV:PID...: fio jobs <variant>-<pair>,
# alternating order, with the snapshots around each
job_file() {
	local dir=$1 global=$2 i v order dev pid tasks
	shift 2
	printf '[global]\n%s\ndirect=1\ntime_based\nruntime=%s\nstonewall\n' \
		"$global" "$RUNTIME" | tr ' ' '\n'
	for ((i = 1; i <= PAIRS; i++)); do
		order="$*"
		if [ $((i % 2)) = 0 ]; then
			order=
			for v in "$@"; do order="$v $order"; done
		fi
		for v in $order; do
			dev=${v#*=}
			pid=${dev#*:}
			dev=${dev%:*}
			tasks=
			[ -n "$pid" ] && tasks="/proc/$pid/task/*/stat"
			printf '[%s-%s]\nfilename=%s\n' "${v%%=*}" "$i" "$dev"
			printf 'exec_prerun=awk -f %s /proc/stat %s > %s/%s-%s.pre\n' \
				"$WORK/snap.awk" "$tasks" "$dir" "${v%%=*}" "$i"
			printf 'exec_postrun=awk -f %s /proc/stat %s > %s/%s-%s.post\n' \
				"$WORK/snap.awk" "$tasks" "$dir" "${v%%=*}" "$i"
		done
	done
}

# run_case NAME GLOBAL VARIANT=DEV:PID...
run_case() {
	local dir=$OUT/$1 global=$2
	shift 2
	mkdir -p "$dir"
	job_file "$dir" "$global" "$@" > "$dir/job.fio"
	# a short run first: fio's pages come from the host's 9p root
	local first=${1#*=}
	fio --name=warmup --filename="${first%:*}" --direct=1 --ioengine=io_uring \
		--rw=randread --bs=4k --size=16M --time_based --runtime=1 > /dev/null 2>&1
	(cd "$dir" && fio --output-format=json --output="$dir/fio.json" job.fio \
		> "$dir/fio.log" 2>&1) || echo "error $1: fio failed, see $1/fio.log" >> "$SETUP"
}

[ -x "$UBLK" ] || fail "$UBLK not built"
[ -c /dev/ublk-control ] || fail "no /dev/ublk-control"
mount -t tmpfs -o size=$((FILE_MB + 64))m tmpfs "$WORK/tmp" || fail "cannot mount a tmpfs"
head -c $((FILE_MB << 20)) /dev/zero > "$WORK/tmp/loop.img" || fail "no backing file"

read -r U_DEV U_PID < <(ublk_dev -t loop "$WORK/tmp/loop.img") || fail "ublk loop: $(tail -1 "$SETUP")"
read -r UU_DEV UU_PID < <(ublk_dev -t loop -u "$WORK/tmp/loop.img") || fail "ublk loop -u"
read -r N_DEV N_PID < <(ublk_dev -t null --size "${FILE_MB}M") || fail "ublk null"
LOOPDEV=$(losetup --direct-io=on --show -f "$WORK/tmp/loop.img") || fail "losetup"
no_scheduler "$LOOPDEV" || fail "$LOOPDEV: cannot select none"
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
mkdir "$NULLB" && echo 2 > "$NULLB/queue_mode" && echo 128 > "$NULLB/hw_queue_depth" &&
	echo "$FILE_MB" > "$NULLB/size" && echo 1 > "$NULLB/power" || fail "null_blk benchublk"
[ -b /dev/benchublk ] || mknod /dev/benchublk b "$(cut -d: -f1 /sys/block/benchublk/dev)" \
	"$(cut -d: -f2 /sys/block/benchublk/dev)"
no_scheduler /dev/benchublk || fail "benchublk: cannot select none"
{
	echo "ublk $U_DEV $U_PID"
	echo "ublk_u $UU_DEV $UU_PID"
	echo "ublk_null $N_DEV $N_PID"
	echo "kernel_loop $LOOPDEV dio=$(cat /sys/block/${LOOPDEV#/dev/}/loop/dio)"
	echo "kernel_null /dev/benchublk"
	echo "cpus $(nproc)"
	echo "pairs $PAIRS runtime $RUNTIME"
} >> "$SETUP"

LOOPS="ublk=$U_DEV:$U_PID ublk_u=$UU_DEV:$UU_PID kernel=$LOOPDEV:"
run_case loop_512k-randwrite_qd16 \
	"ioengine=libaio rw=randwrite bs=512k iodepth=16 size=${FILE_MB}M" $LOOPS
run_case loop_4k-randread_qd32 \
	"ioengine=io_uring rw=randread bs=4k iodepth=32 size=${FILE_MB}M" $LOOPS
run_case null_4k-randread_qd32 \
	"ioengine=io_uring rw=randread bs=4k iodepth=32 size=${FILE_MB}M" \
	"ublk=$N_DEV:$N_PID" "kernel=/dev/benchublk:"
# the servers must still be serving
for pid in $U_PID $UU_PID $N_PID; do
	state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ] || echo "error the server $pid is gone" >> "$SETUP"
done
! grep -q '^error' "$SETUP"
