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
# server killed) and "dead" (null, its server killed).  `ublk list -v`
# then says what the servers report, in UBLK_REPORT.

UBLK_DRGN_BIN=
UBLK_DRGN_WORK=
UBLK_DRGN_HELD_ID=
UBLK_DRGN_HELD_PID=
UBLK_DRGN_FIO=

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
	UBLK_RUN_DIR=$UBLK_DRGN_WORK/run "$UBLK_DRGN_BIN" del -a || rc=1
	mountpoint -q "$UBLK_DRGN_WORK/tmp" && umount "$UBLK_DRGN_WORK/tmp"
	UBLK_DRGN_WORK=
	return $rc
}
