# SPDX-License-Identifier: GPL-2.0
# The ublk scenario of the drgn area (selftests/drgn/ublk_checks.py),
# sourced by selftests/drgn/run.sh (after selftests/lib/wait.sh):
#
#   ublk_drgn_setup WORK BUILT ENV   set up, append its environment to ENV
#   ublk_drgn_cleanup                release the held requests, delete all
#
# Three devices: "held" (loop over a tmpfs file, 2 queues of depth 8,
# UBLK_F_USER_COPY and UBLK_F_USER_RECOVERY) whose server holds five
# requests of a fio (io_uring: its task sleeps interruptibly, so no hung
# task warning however long drgn takes): writes at sectors 2048, 2080,
# 2112 and reads at 4096, 4128, 8 sectors each; "quiesced" (null, -r, its
# server killed) and "dead" (null, its server killed).
#
# Two more for ublk-bpf (selftests/drgn/ublk_bpf_checks.py): "bpf", the
# loop target wholly in BPF (--bpf loop: progs/ublk_loop.bpf.c, one bpf
# aio per I/O) over the block device of "lower" (null), opened
# --buffered, so that each aio reads lower's page cache.  Once bpf is
# idle, lower's server holds its requests (SIGUSR2) and fio reads
# UBLK_DRGN_BPF_NR blocks of bpf, 1 MiB apart (never read before, so not
# cached): each read is an I/O the BPF program owns, held by its aio,
# which runs in a bpf aio worker waiting (killably, as page cache reads
# do: no hung task warning) for the page lower's server holds; bpf's
# io_timeout is an hour, so that the watchdog does not eject it.  The
# counters of /sys/block/ublkbN/bpf/ are saved before fio, and bpftool
# says which struct_ops maps and programs are registered.
#
# `ublk list -v` then says what the servers report, in UBLK_REPORT.

UBLK_DRGN_BIN=
UBLK_DRGN_WORK=
UBLK_DRGN_HELD_ID=
UBLK_DRGN_HELD_PID=
UBLK_DRGN_FIO=
UBLK_DRGN_BPF_ID=
UBLK_DRGN_LOWER_PID=
UBLK_DRGN_BPF_FIO=
UBLK_DRGN_BPF_NR=4
UBLK_DRGN_BPF_WANT=

ublk_drgn_msg() { echo "# ublk: $*"; }

# ublk_drgn_held_count N: the server of the held device holds N requests
ublk_drgn_held_count() {
	[ "$(UBLK_RUN_DIR=$UBLK_DRGN_WORK/run "$UBLK_DRGN_BIN" list -v -n "$UBLK_DRGN_HELD_ID" |
		grep -c 'state=held')" = "$1" ]
}

# ublk_drgn_add NAME ARGS...: ublk add; prints the device id
ublk_drgn_add() {
	local name=$1 out
	shift
	out=$(UBLK_RUN_DIR=$UBLK_DRGN_WORK/run "$UBLK_DRGN_BIN" add "$@" 2> "$UBLK_DRGN_WORK/$name.err")
	if [[ ! $out =~ ^/dev/ublkb([0-9]+)$ ]]; then
		ublk_drgn_msg "add $name: '$out'"
		sed 's/^/# /' "$UBLK_DRGN_WORK/$name.err"
		return 1
	fi
	echo "${BASH_REMATCH[1]}"
}

ublk_drgn_pid() {
	UBLK_RUN_DIR=$UBLK_DRGN_WORK/run "$UBLK_DRGN_BIN" list -n "$1" |
		sed -n '1s/.* pid=\([0-9-]*\) .*/\1/p'
}

# ublk_drgn_not_live ID: the kernel no longer has device ID LIVE
ublk_drgn_not_live() {
	! UBLK_RUN_DIR=$UBLK_DRGN_WORK/run "$UBLK_DRGN_BIN" list -n "$1" | grep -q 'state=LIVE'
}

# ublk_drgn_kill ID: SIGKILL the server of ID, wait until the kernel saw it
ublk_drgn_kill() {
	kill -9 "$(ublk_drgn_pid "$1")" || return 1
	wait_for 10 ublk_drgn_not_live "$1" && return 0
	ublk_drgn_msg "device $1 still LIVE 10 s after its server was killed"
	return 1
}

# ublk_drgn_bpf_counters ID: the counters of /sys/block/ublkbID/bpf/,
# "NAME=VALUE ..."
ublk_drgn_bpf_counters() {
	local dir=/sys/block/ublkb$1/bpf f out=
	for f in handled redirected split errors timeouts handed_back aio_submitted aio_completed aio_wq aio_errors; do
		out="$out $f=$(cat "$dir/$f")" || return 1
	done
	echo "${out# }"
}

# ublk_drgn_bpf_plus COUNTERS NAME...: COUNTERS ("NAME=VALUE ...") with
# UBLK_DRGN_BPF_NR added to each NAME
ublk_drgn_bpf_plus() {
	local counters=$1
	shift
	echo "$counters" | awk -v n="$UBLK_DRGN_BPF_NR" -v names="$*" '{
		split(names, add, " ")
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			for (j in add)
				if (kv[1] == add[j])
					kv[2] += n
			printf "%s%s=%d", (i > 1 ? " " : ""), kv[1], kv[2]
		}
	}'
}

# ublk_drgn_bpf_idle ID: no I/O of device ID in flight, every aio done
ublk_drgn_bpf_idle() {
	local dir=/sys/block/ublkb$1
	[ "$(cat "$dir/inflight")" = "$(printf '%8d %8d' 0 0)" ] &&
		[ "$(cat "$dir/bpf/aio_submitted")" = "$(cat "$dir/bpf/aio_completed")" ]
}

# ublk_drgn_bpf_held: fio's reads are BPF's, their aios submitted and not
# done, and lower's server holds what their page cache reads asked
ublk_drgn_bpf_held() {
	local now
	now=$(ublk_drgn_bpf_counters "$UBLK_DRGN_BPF_ID") || return 1
	[ "$now" = "$UBLK_DRGN_BPF_WANT" ] &&
		[ "$(UBLK_RUN_DIR=$UBLK_DRGN_WORK/run "$UBLK_DRGN_BIN" list -v -n "$1" |
			grep -c 'state=held')" -gt 0 ]
}

# ublk_drgn_bpf_setup WORK ENV: the "bpf" and "lower" devices
ublk_drgn_bpf_setup() {
	local work=$1 env=$2 lower base reads= i
	local bpftool=$(dirname "$(dirname "$(dirname "$UBLK_DRGN_BIN")")")/tools/sbin/bpftool
	[ -x "$bpftool" ] || { ublk_drgn_msg "$bpftool not built"; return 1; }
	lower=$(ublk_drgn_add lower -t null --size 16M) || return 1
	UBLK_DRGN_BPF_ID=$(ublk_drgn_add bpf -t loop --buffered --bpf loop "/dev/ublkb$lower") ||
		return 1
	if ! wait_for 30 ublk_drgn_bpf_idle "$UBLK_DRGN_BPF_ID"; then
		ublk_drgn_msg "device $UBLK_DRGN_BPF_ID not idle after its start:"
		ublk_drgn_bpf_counters "$UBLK_DRGN_BPF_ID" | sed 's/^/# /'
		return 1
	fi
	# the reads stay BPF-owned while drgn looks, longer than blk-mq's
	# default 30 s request timeout on a slow host: that would eject the
	# ops (the watchdog of ublk-bpf, timeouts counted) from under the checks
	echo 3600000 > "/sys/block/ublkb$UBLK_DRGN_BPF_ID/queue/io_timeout" ||
		{ ublk_drgn_msg "cannot set io_timeout of ublkb$UBLK_DRGN_BPF_ID"; return 1; }
	base=$(ublk_drgn_bpf_counters "$UBLK_DRGN_BPF_ID") || return 1
	# what fio's reads add: an aio each, on the workqueue (from ->queue_rq())
	UBLK_DRGN_BPF_WANT=$(ublk_drgn_bpf_plus "$base" aio_submitted aio_wq)
	UBLK_DRGN_LOWER_PID=$(ublk_drgn_pid "$lower")
	kill -USR2 "$UBLK_DRGN_LOWER_PID"	# hold from now on
	fio --filename="/dev/ublkb$UBLK_DRGN_BPF_ID" --allow_file_create=0 --direct=1 \
		--ioengine=io_uring --bs=4k --name=bpf --rw=read:1020k --offset=4m \
		--size=$((UBLK_DRGN_BPF_NR))m --number_ios=$UBLK_DRGN_BPF_NR \
		--iodepth=$UBLK_DRGN_BPF_NR > "$work/fio-bpf.out" 2>&1 &
	UBLK_DRGN_BPF_FIO=$!
	if ! wait_for 30 ublk_drgn_bpf_held "$lower"; then
		ublk_drgn_msg "fio's $UBLK_DRGN_BPF_NR reads are not held in BPF: counters" \
			"$(ublk_drgn_bpf_counters "$UBLK_DRGN_BPF_ID"), want $UBLK_DRGN_BPF_WANT;" \
			"lower:"
		UBLK_RUN_DIR=$work/run "$UBLK_DRGN_BIN" list -v -n "$lower" | sed 's/^/# /'
		return 1
	fi
	for ((i = 0; i < UBLK_DRGN_BPF_NR; i++)); do
		reads="$reads READ:$(((4 + i) * 2048))+8"
	done
	echo "$base" > "$work/bpf.base"
	"$bpftool" -j struct_ops show > "$work/struct_ops.json" &&
		"$bpftool" -j struct_ops dump > "$work/struct_ops_dump.json" &&
		"$bpftool" -j prog show > "$work/progs.json" ||
		{ ublk_drgn_msg "bpftool failed"; return 1; }
	printf '%s\n' "UBLK_BPF_ID=$UBLK_DRGN_BPF_ID" "UBLK_BPF_LOWER_ID=$lower" \
		"UBLK_BPF_READS=${reads# }" "UBLK_BPF_BASE=$work/bpf.base" \
		"UBLK_BPF_ADD_LOG=$work/bpf.err" "UBLK_BPF_STRUCT_OPS=$work/struct_ops.json" \
		"UBLK_BPF_STRUCT_OPS_DUMP=$work/struct_ops_dump.json" \
		"UBLK_BPF_PROGS=$work/progs.json" >> "$env"
}

ublk_drgn_setup() {
	local work=$1/ublk built=$2 env=$3 q d
	UBLK_DRGN_BIN=$built/ublk/ublk
	UBLK_DRGN_WORK=$work
	[ -x "$UBLK_DRGN_BIN" ] || { ublk_drgn_msg "$UBLK_DRGN_BIN not built"; return 1; }
	[ -c /dev/ublk-control ] || { ublk_drgn_msg "no /dev/ublk-control"; return 1; }
	mkdir -p "$work/tmp" "$work/run"
	mount -t tmpfs tmpfs "$work/tmp" || return 1
	truncate -s 16M "$work/tmp/held.img"
	UBLK_DRGN_HELD_ID=$(ublk_drgn_add held -t loop -q 2 -d 8 -u -r "$work/tmp/held.img") ||
		return 1
	q=$(ublk_drgn_add quiesced -t null -r --size 16M) || return 1
	d=$(ublk_drgn_add dead -t null --size 16M) || return 1
	ublk_drgn_kill "$q" && ublk_drgn_kill "$d" || return 1
	UBLK_DRGN_HELD_PID=$(ublk_drgn_pid "$UBLK_DRGN_HELD_ID")
	kill -USR2 "$UBLK_DRGN_HELD_PID"	# hold from now on
	fio --filename="/dev/ublkb$UBLK_DRGN_HELD_ID" --allow_file_create=0 --direct=1 \
		--ioengine=io_uring --bs=4k \
		--name=w --rw=write:12k --offset=1m --size=48k --number_ios=3 --iodepth=3 \
		--name=r --rw=read:12k --offset=2m --size=32k --number_ios=2 --iodepth=2 \
		> "$work/fio.out" 2>&1 &
	UBLK_DRGN_FIO=$!
	if ! wait_for 30 ublk_drgn_held_count 5; then
		ublk_drgn_msg "the server does not hold the 5 requests of fio:"
		UBLK_RUN_DIR=$work/run "$UBLK_DRGN_BIN" list -v | sed 's/^/# /'
		return 1
	fi
	ublk_drgn_bpf_setup "$work" "$env" || return 1
	UBLK_RUN_DIR=$work/run "$UBLK_DRGN_BIN" list -v > "$work/report" || return 1
	printf 'UBLK_REPORT=%s\nUBLK_HELD_ID=%s\nUBLK_HELD=%s\n' "$work/report" \
		"$UBLK_DRGN_HELD_ID" "WRITE:2048+8 WRITE:2080+8 WRITE:2112+8 READ:4096+8 READ:4128+8" \
		>> "$env"
}

ublk_drgn_cleanup() {
	local rc=0
	[ -n "$UBLK_DRGN_WORK" ] || return 0
	[ -n "$UBLK_DRGN_HELD_PID" ] && kill -USR2 "$UBLK_DRGN_HELD_PID" 2>/dev/null
	if [ -n "$UBLK_DRGN_FIO" ]; then
		wait "$UBLK_DRGN_FIO" || { ublk_drgn_msg "fio failed:"; sed 's/^/# /' "$UBLK_DRGN_WORK/fio.out"; rc=1; }
	fi
	ublk_drgn_bpf_cleanup || rc=1
	UBLK_RUN_DIR=$UBLK_DRGN_WORK/run "$UBLK_DRGN_BIN" del -a || rc=1
	mountpoint -q "$UBLK_DRGN_WORK/tmp" && umount "$UBLK_DRGN_WORK/tmp"
	UBLK_DRGN_WORK=
	return $rc
}

# ublk_drgn_bpf_cleanup: release lower's requests; fio's reads must then
# end well, as BPF's: each handled, no error; the bpf device goes first
ublk_drgn_bpf_cleanup() {
	local rc=0 want
	[ -n "$UBLK_DRGN_LOWER_PID" ] && kill -USR2 "$UBLK_DRGN_LOWER_PID" 2>/dev/null
	UBLK_DRGN_LOWER_PID=
	if [ -n "$UBLK_DRGN_BPF_FIO" ]; then
		if ! wait "$UBLK_DRGN_BPF_FIO"; then
			ublk_drgn_msg "fio on the bpf device failed:"
			sed 's/^/# /' "$UBLK_DRGN_WORK/fio-bpf.out"
			rc=1
		fi
		# the held aios complete: each I/O handled
		want=$(ublk_drgn_bpf_plus "$UBLK_DRGN_BPF_WANT" handled aio_completed)
		if [ "$(ublk_drgn_bpf_counters "$UBLK_DRGN_BPF_ID")" != "$want" ]; then
			ublk_drgn_msg "bpf counters after fio: $(ublk_drgn_bpf_counters "$UBLK_DRGN_BPF_ID"), want $want"
			rc=1
		fi
		UBLK_DRGN_BPF_FIO=
	fi
	if [ -n "$UBLK_DRGN_BPF_ID" ]; then
		UBLK_RUN_DIR=$UBLK_DRGN_WORK/run "$UBLK_DRGN_BIN" del -n "$UBLK_DRGN_BPF_ID" || rc=1
	fi
	UBLK_DRGN_BPF_ID=
	return $rc
}
