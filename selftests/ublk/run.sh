#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest selftests of the ublk server (selftests/ublk/ublk) on 6.12's
# drivers/block/ublk_drv.c, KTAP output.
#
# data      every target (null, loop, stripe, concat) in copy mode and with
#           UBLK_F_USER_COPY, with 1 and 2 queues: fio random writes
#           verified with crc32c at 4k, 64k and 512k, queue depths 1 and
#           32 (null: zeroes written and read back); stripe and concat then
#           read whole and compared with their backing files as the layout
#           says; with them the BPF stripe and concat devices of
#           bpf_tests.sh (mode bpf), their counters checked
# mkfs      mkfs.ext4, mount, files, sync, drop caches, checksums, umount,
#           e2fsck on loop, stripe and concat in both data modes (and
#           stripe in BPF, from bpf_tests.sh)
# layout    stripe and concat: writes and reads that cross chunks and file
#           ends, checked against the backing files directly
# failures  bad options and files refused before ADD_DEV; the kernel's errno
#           of invalid control and I/O commands (ublk_ctrl_test); SIGTERM,
#           SIGINT, SIGKILL (with requests in flight, and with every tag in
#           the server), recovery (-r, --reissue), delete during I/O, a
#           backing file shorter than the device, two servers for one id
# ops       discard, write-zeroes and flush as fallocate and fsync
# bpf       ublk-bpf (bpf_tests.sh): BPF programs handling the I/O before
#           the server, each disposition, each bad byte count and kfunc
#           argument, unknown and duplicate ops ids, unregistering during
#           I/O, programs the verifier refuses, a null target in BPF and a
#           mixed BPF + server target with its data verified
#
# Backing files are on a tmpfs (and, for the fallocate test, on ext4 over
# the kernel loop driver).  Environment: KSRC (kernel tree, for
# ktap_helpers.sh), OUTPUT (built ublk, ublk_ctrl_test, ublk_io),
# HARNESS_STRICT (selftests/lib/strict.sh: a missing program, tool or
# driver fails the area instead of skipping it),
# UBLK_ONLY (an extended regular expression: only the tests whose name
# matches it, for development).

set -u
DIR=$(dirname "$(readlink -f "$0")")
OUTPUT=${OUTPUT:-$DIR}
. "$KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh"
. "$DIR/../lib/strict.sh"
. "$DIR/../lib/wait.sh"
. "$DIR/bpf_tests.sh"

UBLK=$OUTPUT/ublk
CTRL_TEST=$OUTPUT/ublk_ctrl_test
UBLK_IO=$OUTPUT/ublk_io
LAYOUT="python3 $DIR/layout.py"
WORK=$(mktemp -d /tmp/ublk.XXXXXX)
TMP=$WORK/tmp
export UBLK_RUN_DIR=$WORK/run
LOOPDEV=
BG_PIDS=
NAP_FD=

# fio: bytes per job.  Each QD 32 job issues exactly 32 I/Os (all in
# flight at once), each QD 1 job a few; a device is as big as the
# largest job.
FIO_SIZES="4k-qd1=65536 4k-qd32=131072 64k-qd1=524288 64k-qd32=2097152 512k-qd1=2097152 512k-qd32=16777216"
DEV_MB=16

msg() { echo "# $*"; }
msg_file() { local l; while IFS= read -r l; do echo "# $l"; done < "$1"; }
# guest uptime in centiseconds, and seconds since one, without a fork
now() { local up; read -r up _ < /proc/uptime; echo $((10#${up/./})); }
since() { local d=$(($(now) - $1)); printf '%d.%02d' $((d / 100)) $((d % 100)); }
# nap: 0.1 s without a fork (read times out on a FIFO nobody writes;
# sleep before the FIFO is made)
nap() {
	if [ -n "$NAP_FD" ]; then
		read -r -t 0.1 -u "$NAP_FD"
	else
		sleep 0.1
	fi
}

cleanup() {
	local p
	for p in $BG_PIDS; do kill -9 "$p" 2>/dev/null; done
	del_all
	mountpoint -q "$WORK/mnt" && umount "$WORK/mnt"
	mountpoint -q "$WORK/ext4" && umount "$WORK/ext4"
	[ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV"
	mountpoint -q "$TMP" && umount "$TMP"
	rm -rf "$WORK"
}
trap cleanup EXIT

# gone PID: the process has exited (init may not have reaped it yet)
gone() {
	local pid comm st
	{ read -r pid comm st _ < "/proc/$1/stat"; } 2>/dev/null || return 0
	[ "$st" = Z ]
}

# field LINE KEY: VALUE of " KEY=VALUE" in LINE
field() {
	[[ " $1 " =~ \ $2=([^ ]*)\  ]] && echo "${BASH_REMATCH[1]}"
}

# ublk_ids: the ids of the ublk devices, one line
ublk_ids() {
	local p ids=
	for p in /sys/class/ublk-char/ublkc*; do
		[ -e "$p" ] && ids="$ids ${p##*/ublkc}"
	done
	echo "${ids# }"
}

# del_all: delete every ublk device left (after a failed test)
del_all() {
	local id
	for id in $(ublk_ids); do
		timeout 20 "$UBLK" del -n "$id" --async > /dev/null 2>&1
	done
	wait_for 20 test -z "$(ublk_ids)"
}

# add ARGS...: `ublk add ARGS`, which must print /dev/ublkbN of a block
# device; sets DEV, ID, SRV (the server's pid) and LIST (`ublk list -n ID`)
add() {
	"$UBLK" add "$@" > "$WORK/add.out" 2> "$WORK/add.err"
	added "$*" "$WORK/add.out" "$WORK/add.err" $?
}

# added ARGS OUT ERR [STATUS]: the checks of add, on what `ublk add ARGS`
# printed (STATUS: its exit status, 0 if not given)
added() {
	local out
	if [ "${4:-0}" != 0 ] || [ -s "$3" ]; then
		msg "ublk add $1: exit status ${4:-0}, stderr:"
		msg_file "$3"
		[ "${4:-0}" != 0 ] && return 1
	fi
	out=$(< "$2")
	if [[ ! $out =~ ^/dev/ublkb([0-9]+)$ ]]; then
		msg "ublk add $1: printed '$out', not /dev/ublkbN"
		return 1
	fi
	DEV=$out
	ID=${BASH_REMATCH[1]}
	if [ ! -b "$DEV" ]; then
		msg "$DEV is not a block device after ublk add"
		return 1
	fi
	LIST=$("$UBLK" list -n "$ID")
	SRV=$(field "${LIST%%$'\n'*}" pid)
	if [ "$(field "${LIST%%$'\n'*}" state)" != LIVE ] || [ -z "$SRV" ] || gone "$SRV"; then
		msg "after add: ${LIST%%$'\n'*}"
		return 1
	fi
}

# del_dev ID [SRV]: ublk del; then the server has exited and the nodes and
# the device are gone within 10 s
del_dev() {
	if ! "$UBLK" del -n "$1" 2> "$WORK/del.err"; then
		msg "ublk del -n $1 failed:"
		msg_file "$WORK/del.err"
		return 1
	fi
	if [ -n "${2:-}" ] && ! wait_for 10 gone "$2"; then
		msg "server $2 still runs 10 s after ublk del -n $1"
		return 1
	fi
	if ! wait_for 10 test ! -e "/dev/ublkb$1" -a ! -e "/dev/ublkc$1" -a \
	     ! -e "/sys/class/ublk-char/ublkc$1"; then
		msg "ublk$1 still exists 10 s after ublk del: $(ls -d /dev/ublk*$1 /sys/class/ublk-char/ublkc$1 2>&1)"
		return 1
	fi
}

# mkfile PATH SIZE: a file of SIZE bytes (sparse)
mkfile() { rm -f "$1" && truncate -s "$2" "$1"; }

# pattern PATH SIZE: SIZE random bytes
pattern() { head -c "$2" /dev/urandom > "$1"; }

# check_list ID QUEUES FLAG...: `ublk list` (LIST, from add) agrees with
# the device: the queues, each with a thread of the server, and the flags
# asked for
check_list() {
	local id=$1 queues=$2 line tid q rc=0 flag
	shift 2
	line=${LIST%%$'\n'*}
	[ "$(field "$line" queues)" = "$queues" ] || { msg "list: $line: not $queues queues"; rc=1; }
	for flag in "$@"; do
		[[ $(field "$line" flags) == *"$flag"* ]] || { msg "list: $line: no $flag"; rc=1; }
	done
	for ((q = 0; q < queues; q++)); do
		[[ $LIST =~ $'\n'"  queue=$q tid="([0-9-]+) ]] && tid=${BASH_REMATCH[1]} || tid=
		if [ -z "$tid" ] || [ ! -d "/proc/$SRV/task/$tid" ]; then
			msg "list: queue $q: thread '$tid' is not a thread of the server $SRV"
			rc=1
		fi
	done
	return $rc
}

# dd_verify DEV: 1 MiB of new random bytes written at 8 MiB and read back
dd_verify() {
	pattern "$WORK/v1" $((1 << 20))
	dd if="$WORK/v1" of="$1" bs=64k seek=128 oflag=direct status=none &&
		dd if="$1" of="$WORK/v2" bs=64k skip=128 count=16 iflag=direct status=none &&
		cmp "$WORK/v1" "$WORK/v2" || { msg "$1: data written at 8 MiB not read back"; return 1; }
}

# ---- data ----

# The data tests share one fio process and one layout.py run (starting
# fio takes seconds under TCG): the first t_data sets up the devices of
# every data test selected (their `ublk add`s run side by side), runs all
# their jobs in one fio (each device's jobs one after the other, the
# devices side by side), checks the stripe and concat devices against
# their files in one layout.py run, deletes the devices, and keeps each
# device's verdict and diagnostics for its own t_data.
declare -A DATA_RC DATA_DEV DATA_ARGS
DATA_KEYS=()
DATA_DONE=

# data_args KEY: the ublk add arguments of data test KEY
# (TARGET-MODE-QUEUES), its backing files made
data_args() {
	local key=$1 tgt mode q args sz
	IFS=- read -r tgt mode q <<< "$key"
	args="-t $tgt -q $q"
	[ "$mode" = user_copy ] && args="$args -u"
	[ "$mode" = bpf ] && args="$args --bpf $tgt"
	case $tgt in
	null)
		args="$args --size ${DEV_MB}M" ;;
	loop)
		mkfile "$TMP/$key.0" "${DEV_MB}M"
		args="$args $TMP/$key.0" ;;
	concat)
		# BPF: aligned 64k and 512k I/Os cross the end of the first file
		[ "$mode" = bpf ] && sz=4096 || sz=0
		mkfile "$TMP/$key.0" $(((DEV_MB << 19) - sz))
		mkfile "$TMP/$key.1" $(((DEV_MB << 19) + sz))
		args="$args $TMP/$key.0 $TMP/$key.1" ;;
	stripe)
		mkfile "$TMP/$key.0" $((DEV_MB / 2))M
		mkfile "$TMP/$key.1" $((DEV_MB / 2))M
		args="$args $TMP/$key.0 $TMP/$key.1" ;;
	esac
	DATA_ARGS[$key]=$args
}

# data_jobs KEY: the fio jobs of KEY's device, one after the other
data_jobs() {
	local key=$1 verify=--verify=crc32c job name prev=
	# null keeps nothing: zeroes written, zeroes read back
	[[ $key == null-* ]] && verify="--verify=pattern --verify_pattern=0x00"
	for job in $FIO_SIZES; do
		name=${job%%=*}
		# shellcheck disable=SC2206
		DATA_JOBS+=("--name=$key.$name" "--filename=$DEV" "--bs=${name%%-*}"
			    "--iodepth=${name#*-qd}" "--size=${job#*=}" $verify)
		[ -n "$prev" ] && DATA_JOBS+=("--wait_for=$prev")
		prev=$key.$name
		DATA_EXPECT="$DATA_EXPECT $key.$job"
	done
}

data_phase() {
	local key t0 line id srv st log pids= files
	DATA_JOBS=()
	DATA_LAYOUTS=()
	DATA_EXPECT=
	DATA_DONE=1
	t0=$(now)
	: > "$WORK/data.bad"
	for key in "${DATA_KEYS[@]}"; do
		: > "$WORK/data-$key.log"
		data_args "$key"
		# shellcheck disable=SC2086
		"$UBLK" add ${DATA_ARGS[$key]} > "$WORK/add-$key.out" 2> "$WORK/add-$key.err" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	for key in "${DATA_KEYS[@]}"; do
		log=$WORK/data-$key.log
		if ! added "${DATA_ARGS[$key]}" "$WORK/add-$key.out" "$WORK/add-$key.err" >> "$log"; then
			DATA_RC[$key]=1
			continue
		fi
		DATA_DEV[$key]="$ID $SRV"
		files=
		[[ $key == *user_copy* ]] && files=user_copy
		[[ $key == *-bpf-* ]] && files=bpf
		check_list "$ID" "${key##*-}" $files >> "$log" || DATA_RC[$key]=1
		data_jobs "$key"
		files=()
		for line in ${DATA_ARGS[$key]}; do
			[[ $line == "$TMP"/* ]] && files+=("$line")
		done
		# BPF: the queues do not change where the bytes go, one is compared
		case $key in
		*-bpf-2) ;;
		stripe-*) DATA_LAYOUTS+=(stripe:65536 "$DEV" "${files[@]}" --) ;;
		concat-*) DATA_LAYOUTS+=(concat:512 "$DEV" "${files[@]}" --) ;;
		esac
	done
	msg "data: ${#DATA_DEV[@]} devices added in $(since "$t0") s"
	t0=$(now)
	fio --output-format=terse --output="$WORK/data.fio" --thread \
		--allow_file_create=0 --direct=1 --ioengine=io_uring \
		--rw=randwrite --randrepeat=0 --verify_state_save=0 \
		--do_verify=1 --verify_fatal=1 "${DATA_JOBS[@]}" > "$WORK/data.err" 2>&1
	st=$?
	# terse v3: 3 job name, 5 error, 6 KiB read, 47 KiB written, 49 write IOPS
	awk -F';' -v want="$DATA_EXPECT" '
		BEGIN { n = split(want, w, " ")
			for (i = 1; i <= n; i++) { split(w[i], kv, "="); size[kv[1]] = kv[2] / 1024 } }
		NF >= 49 { seen[$3] = 1; k = $3; sub(/\..*/, "", k); j = $3; sub(/^[^.]*\./, "", j)
			printf "%s|# %s: write %d IOPS, %d KiB written, %d KiB read back, error %d\n", k, j, $49, $47, $6, $5
			if ($5 != 0 || !($3 in size) || $47 != size[$3] || $6 != size[$3]) print k "|bad" }
		END { for (j in size) if (!(j in seen)) { k = j; sub(/\..*/, "", k)
			print k "|# no result of fio job " j; print k "|bad" } }' "$WORK/data.fio" |
	while IFS='|' read -r key line; do
		if [ "$line" = bad ]; then
			echo "$key" >> "$WORK/data.bad"
		else
			echo "$line" >> "$WORK/data-$key.log"
		fi
	done
	if [ $st != 0 ]; then
		msg "fio exit status $st:"
		msg_file "$WORK/data.err"
	fi
	while read -r key; do DATA_RC[$key]=1; done < "$WORK/data.bad"
	msg "data: fio ran $(grep -c '^--name=' <(printf '%s\n' "${DATA_JOBS[@]}")) jobs in $(since "$t0") s"
	t0=$(now)
	if [ ${#DATA_LAYOUTS[@]} -gt 0 ]; then
		$LAYOUT compare "${DATA_LAYOUTS[@]}" > "$WORK/layout.out"
		for key in "${!DATA_DEV[@]}"; do
			read -r id srv <<< "${DATA_DEV[$key]}"
			while IFS= read -r line; do
				[[ $line == "# /dev/ublkb$id: "* ]] && echo "$line" >> "$WORK/data-$key.log"
				[ "$line" = "# /dev/ublkb$id: MISMATCH" ] && DATA_RC[$key]=1
			done < "$WORK/layout.out"
		done
		msg "data: layouts compared in $(since "$t0") s"
	fi
	# the BPF devices: every I/O BPF's (bpf_tests.sh)
	for key in "${!DATA_DEV[@]}"; do
		[[ $key == *-bpf-* ]] || continue
		read -r ID srv <<< "${DATA_DEV[$key]}"
		bpf_data_check "$key" >> "$WORK/data-$key.log" || DATA_RC[$key]=1
	done
	t0=$(now)
	pids=
	for key in "${!DATA_DEV[@]}"; do
		read -r id srv <<< "${DATA_DEV[$key]}"
		del_dev "$id" "$srv" >> "$WORK/data-$key.log" &
		pids="$pids $!:$key"
	done
	for st in $pids; do
		wait "${st%%:*}" || DATA_RC[${st#*:}]=1
	done
	rm -f "$TMP"/*-*-*.[01]
	msg "data: devices deleted in $(since "$t0") s"
}

# t_data TARGET MODE QUEUES: the verdict of its device in data_phase
t_data() {
	local key=$1-$2-$3
	[ -n "$DATA_DONE" ] || data_phase
	msg_file "$WORK/data-$key.log"
	[ -z "${DATA_RC[$key]:-}" ]
}

# ---- mkfs ----

# fs_source: the files the mkfs tests copy, and their checksums (once)
FS_FILES=
fs_source() {
	local i
	[ -n "$FS_FILES" ] && return 0
	mkdir -p "$WORK/fs/dir"
	for i in 1 2 3 4 5 6; do
		head -c $((i * 61 * 1024 + i)) /dev/urandom > "$WORK/fs/f$i" || return 1
	done
	head -c $((1 << 20)) /dev/urandom > "$WORK/fs/dir/big" || return 1
	(cd "$WORK/fs" && sha256sum f* dir/big > "$WORK/fs.sums") || return 1
	FS_FILES=7
}

# t_mkfs TARGET MODE: ext4 on the device, files, checksums after drop_caches
t_mkfs() {
	local tgt=$1 mode=$2 opts=() files=() rc=0 i
	[ "$mode" = user_copy ] && opts+=(-u)
	[ "$mode" = bpf ] && opts+=(--bpf "$tgt")
	case $tgt in
	loop)
		mkfile "$TMP/m0" 32M
		files=("$TMP/m0") ;;
	*)
		mkfile "$TMP/m0" 16M
		mkfile "$TMP/m1" 16M
		files=("$TMP/m0" "$TMP/m1") ;;
	esac
	fs_source || return 1
	add -t "$tgt" "${opts[@]}" "${files[@]}" || return 1
	mkdir -p "$WORK/mnt"
	if ! mkfs.ext4 -q -F "$DEV" > "$WORK/mkfs.out" 2>&1 ||
	   ! mount "$DEV" "$WORK/mnt"; then
		msg "mkfs.ext4 or mount of $DEV failed:"
		msg_file "$WORK/mkfs.out"
		del_dev "$ID" "$SRV"
		return 1
	fi
	cp -a "$WORK/fs/." "$WORK/mnt/" || rc=1
	sync
	echo 3 > /proc/sys/vm/drop_caches
	if ! (cd "$WORK/mnt" && sha256sum --quiet -c "$WORK/fs.sums") > "$WORK/sum.out" 2>&1; then
		msg "checksums after drop_caches:"
		msg_file "$WORK/sum.out"
		rc=1
	fi
	umount "$WORK/mnt" || rc=1
	if ! e2fsck -fn "$DEV" > "$WORK/fsck.out" 2>&1; then
		msg "e2fsck -fn $DEV:"
		msg_file "$WORK/fsck.out"
		rc=1
	fi
	# BPF: every I/O BPF's, one aio per piece (bpf_tests.sh)
	[ "$mode" = bpf ] && { bpf_aio_check "$ID" 100 ${#files[@]} || rc=1; }
	msg "$FS_FILES files verified on ext4 on $tgt ($mode)"
	del_dev "$ID" "$SRV" || rc=1
	rm -f "${files[@]}"
	return $rc
}

# ---- layout ----

# t_layout TARGET MODE LAYOUT BOUNDS SIZE... [--chunk C]: the device
# written and the files checked, the files written and the device read
# (BOUNDS: device offsets of file ends some I/O must cross, or -)
t_layout() {
	local tgt=$1 mode=$2 layout=$3 bounds=() opts=() files=() i=0 rc=0
	[ "$4" != - ] && bounds=(--bounds "$4")
	shift 4
	[ "$mode" = user_copy ] && opts+=(-u)
	while [ $# -gt 0 ]; do
		if [ "$1" = --chunk ]; then
			opts+=(--chunk "$2")
			shift 2
			continue
		fi
		mkfile "$TMP/x$i" "$1"
		files+=("$TMP/x$i")
		i=$((i + 1))
		shift
	done
	add -t "$tgt" "${opts[@]}" "${files[@]}" || return 1
	$LAYOUT roundtrip "$layout" "$DEV" "${files[@]}" "${bounds[@]}" || rc=1
	del_dev "$ID" "$SRV" || rc=1
	rm -f "${files[@]}"
	return $rc
}

# ---- failures ----

# has_line FILE LINE: FILE has LINE (whole)
has_line() {
	local l
	while IFS= read -r l; do
		[ "$l" = "$2" ] && return 0
	done < "$1"
	return 1
}

# refused EXPECTED ARGS...: `ublk ARGS` exits 1 printing EXPECTED on stderr,
# sends no ADD_DEV and adds no device
refused() {
	local want=$1 rc before
	shift
	before=$(ublk_ids)
	UBLK_TRACE=1 "$UBLK" "$@" > "$WORK/ref.out" 2> "$WORK/ref.err"
	rc=$?
	if [ $rc != 1 ] || ! has_line "$WORK/ref.err" "$want" ||
	   [[ $(< "$WORK/ref.err") == *"trace: ADD_DEV"* ]] || [ "$(ublk_ids)" != "$before" ]; then
		msg "ublk $*: exit status $rc (1 expected), devices '$(ublk_ids)' (before: '$before'), stderr:"
		msg_file "$WORK/ref.err"
		msg "expected: $want"
		return 1
	fi
}

t_bad_options() {
	local f=$TMP/b0 g=$TMP/b1 rc=0 ncpu
	ncpu=$(nproc --all)
	mkfile "$f" 32M
	mkfile "$g" 32M
	head -c 1000 /dev/zero > "$TMP/tiny"
	head -c 4096 /dev/zero > "$TMP/t4k"
	mkfile "$TMP/b2" 32M
	refused "ublk: add: -t TARGET is needed (null, loop, stripe or concat)" add || rc=1
	refused "ublk: add: -t bogus: unknown target (null, loop, stripe, concat)" \
		add -t bogus || rc=1
	refused "ublk: add: -q 0: the number of queues is 1 to the number of CPUs" \
		add -t null -q 0 || rc=1
	refused "ublk: add: -q $((ncpu + 1)): this machine has $ncpu CPUs, and ublk serves at most one queue per CPU" \
		add -t null -q $((ncpu + 1)) || rc=1
	refused "ublk: add: -d 0: the queue depth is 1 to 4096" add -t null -d 0 || rc=1
	refused "ublk: add: -d 4097: the queue depth is 1 to 4096" add -t null -d 4097 || rc=1
	refused "ublk: add: -n 1048576: a device id is 0 to 1048575" add -t null -n 1048576 || rc=1
	refused "ublk: add: -n abc: a device id is 0 to 1048575" add -t null -n abc || rc=1
	refused "ublk: loop: needs 1 backing file, 0 given" add -t loop || rc=1
	refused "ublk: loop: needs 1 backing file, 2 given" add -t loop "$f" "$g" || rc=1
	refused "ublk: stripe: needs 2 to 4 backing files, 1 given" add -t stripe "$f" || rc=1
	refused "ublk: stripe: needs 2 to 4 backing files, 5 given" \
		add -t stripe "$f" "$g" "$TMP/t4k" "$TMP/tiny" "$TMP/b2" || rc=1
	refused "ublk: null: takes no backing file, 1 given" add -t null "$f" || rc=1
	refused "ublk: add: --chunk 3000: a power of two from 4K to 64M is needed" \
		add -t stripe --chunk 3000 "$f" "$g" || rc=1
	refused "ublk: add: --chunk 128M: a power of two from 4K to 64M is needed" \
		add -t stripe --chunk 128M "$f" "$g" || rc=1
	refused "ublk: loop: --chunk is for the stripe target" add -t loop --chunk 64K "$f" || rc=1
	refused "ublk: /nonexistent: No such file or directory" add -t loop /nonexistent || rc=1
	refused "ublk: $TMP: not a regular file or a block device" add -t loop "$TMP" || rc=1
	refused "ublk: $f: given twice (as $f too)" add -t stripe "$f" "$f" || rc=1
	refused "ublk: $TMP/tiny: 1000 bytes: a backing file needs at least 4096" \
		add -t loop "$TMP/tiny" || rc=1
	refused "ublk: stripe: $TMP/t4k (4096 bytes) is smaller than one chunk (65536 bytes)" \
		add -t stripe "$f" "$TMP/t4k" || rc=1
	refused "ublk: stripe: --size is for the null and loop targets" \
		add -t stripe --size 1M "$f" "$g" || rc=1
	refused "ublk: null: --size 1000: a multiple of 512 of at least 4096 bytes is needed" \
		add -t null --size 1000 || rc=1
	refused "ublk: add: --size 12X: not a size (bytes, or with K, M, G, T)" \
		add -t null --size 12X || rc=1
	refused "ublk: add: --timeout 0: 1 to 3600 seconds" add -t null --timeout 0 || rc=1
	refused "add: unrecognized option '--bogus'" add -t null --bogus || rc=1
	refused "ublk: del: -n ID or -a is needed" del || rc=1
	refused "ublk: recover: -n ID (and nothing else) is needed" recover || rc=1
	refused "ublk: unknown command 'bogus'" bogus || rc=1
	rm -f "$f" "$g" "$TMP/tiny" "$TMP/t4k" "$TMP/b2"
	return $rc
}

# every control command that fails says which and the kernel's errno
t_errno_reported() {
	local rc=0 id=77
	refused "ublk: DEL_DEV (dev $id): No such device" del -n $id || rc=1
	refused "ublk: GET_DEV_INFO (dev $id): No such device" list -n $id || rc=1
	refused "ublk: GET_DEV_INFO (dev $id): No such device" recover -n $id || rc=1
	return $rc
}

# ctrl_test CASE [ARG]: ublk_ctrl_test's cases, each with its errno
ctrl_test() {
	"$CTRL_TEST" "$@" > "$WORK/ctrl.out" 2>&1
	local rc=$?
	msg_file "$WORK/ctrl.out"
	[ $rc = 0 ] && [ -z "$(ublk_ids)" ] || return 1
}

t_ctrl_live() {
	local rc=0
	add -t null --size 16M || return 1
	"$CTRL_TEST" live "$ID" > "$WORK/ctrl.out" 2>&1 || rc=1
	msg_file "$WORK/ctrl.out"
	del_dev "$ID" "$SRV" || rc=1
	return $rc
}

# spawn OUT CHECK ARG -- CMD...: CMD in the background (SPAWNED: its pid),
# its output in OUT; then wait up to 30 s until `CHECK ARG` succeeds.  OUT
# is emptied before CMD starts: the background shell's own truncation may
# come after the first CHECK, which would find the last run's output there.
spawn() {
	local out=$1 check=$2 arg=$3
	shift 4
	: > "$out"
	"$@" > "$out" 2>&1 &
	SPAWNED=$!
	BG_PIDS="$BG_PIDS $SPAWNED"
	wait_for 30 "$check" "$arg" && return 0
	msg "$1 did not get going ($check $arg):"
	msg_file "$out"
	return 1
}

# started FILE: ublk_io printed "running"
started() { has_line "$1" running; }

# io_start OUT DEV THREADS SECONDS read|write: ublk_io in the background
# (IO_PID) once its I/O runs
io_start() {
	spawn "$1" started "$1" -- "$UBLK_IO" "$2" "$3" "$4" "$5" || return 1
	IO_PID=$SPAWNED
}

# loop_io THREADS read|write: a loop device (DEV, ID, SRV) on a new
# 32 MiB file $TMP/k0, and ublk_io's THREADS threads on it for up to 60 s
loop_io() {
	mkfile "$TMP/k0" 32M
	add -t loop "$TMP/k0" && io_start "$WORK/io.out" "$DEV" "$1" 60 "$2"
}

# io_end OUT MAX_SECONDS START OUTCOME...: every ublk_io thread ended
# within MAX_SECONDS of START, each in one of the OUTCOMEs (EIO, ENOSPC,
# EOF...); an OUTCOME with a + must be seen at least once
io_end() {
	local out=$1 max=$2 start=$3 rc=0 st line o n total=0 allowed=" "
	shift 3
	if ! wait_for "$max" gone "$IO_PID"; then
		msg "I/O still running $max s after the event"
		kill -9 "$IO_PID"
		rc=1
	fi
	wait "$IO_PID"
	st=$?
	line=$(tail -1 "$out")
	msg "I/O ended $(since "$start") s after the event: $line"
	[ "$st" = 0 ] || { msg "ublk_io exit status $st: not every thread ended"; rc=1; }
	for o in "$@"; do
		allowed="$allowed${o%+} "
		n=$(field "$line" "${o%+}")
		[[ $o == *+ && -z $n ]] && { msg "no thread ended with ${o%+}"; rc=1; }
		total=$((total + ${n:-0}))
	done
	if [ "$total" != "$(field "$line" threads)" ]; then
		msg "threads ended otherwise than with:$allowed"
		rc=1
	fi
	return $rc
}

# no_d_state: no task waits uninterruptibly (a hung I/O)
no_d_state() {
	local d
	d=$(ps -eo stat=,pid=,comm= | awk '$1 ~ /^D/')
	[ -z "$d" ] && return 0
	msg "tasks in D state: $d"
	return 1
}

t_sigterm() {
	local rc=0 t
	loop_io 8 write || return 1
	t=$(now)
	kill -TERM "$SRV"
	# a clean stop: writes in flight complete, the next ones find the
	# capacity 0 (ENOSPC), or EIO if they were past that check already
	io_end "$WORK/io.out" 10 "$t" ENOSPC+ EIO || rc=1
	wait_for 10 gone "$SRV" || { msg "server still runs 10 s after SIGTERM"; rc=1; }
	wait_for 10 test -z "$(ublk_ids)" || { msg "device left after SIGTERM: $(ublk_ids)"; rc=1; }
	grep -q "signal 15: stopping and deleting the device" "$UBLK_RUN_DIR/ublk$ID.log" ||
		{ msg "server log:"; msg_file "$UBLK_RUN_DIR/ublk$ID.log"; rc=1; }
	no_d_state || rc=1
	rm -f "$TMP/k0"
	return $rc
}

# fg_device FILE: a foreground server printed its device (FG_ID: its id)
fg_device() {
	local l
	while IFS= read -r l; do
		[[ $l =~ ^/dev/ublkb([0-9]+)$ ]] && FG_ID=${BASH_REMATCH[1]} && return 0
	done < "$1"
	return 1
}

t_sigint_foreground() {
	local rc=0 pid st id
	mkfile "$TMP/k0" 32M
	pattern "$WORK/p1" $((1 << 20))
	spawn "$WORK/fg.out" fg_device "$WORK/fg.out" -- "$UBLK" add -t loop --foreground "$TMP/k0" ||
		return 1
	pid=$SPAWNED
	id=$FG_ID
	dd if="$WORK/p1" of="/dev/ublkb$id" bs=64k oflag=direct status=none || rc=1
	cmp -n $((1 << 20)) "$WORK/p1" "$TMP/k0" || { msg "data not in the file"; rc=1; }
	kill -INT "$pid"
	wait "$pid"
	st=$?
	[ $st = 0 ] || { msg "foreground server exit status $st after SIGINT:"; msg_file "$WORK/fg.out"; rc=1; }
	has_line "$WORK/fg.out" "ublk: dev $id: signal 2: stopping and deleting the device" || rc=1
	[ -z "$(ublk_ids)" ] || { msg "device left after SIGINT: $(ublk_ids)"; rc=1; }
	# as del_dev: the next test may get the same id, so its nodes must be
	# the new device's (once, ublk_io of the next test found no node)
	wait_for 10 test ! -e "/dev/ublkb$id" -a ! -e "/dev/ublkc$id" ||
		{ msg "/dev/ublk*$id still there 10 s after the server exited"; rc=1; }
	rm -f "$TMP/k0" "$WORK/p1"
	return $rc
}

t_sigkill() {
	local rc=0 t line
	loop_io 16 read || return 1
	t=$(now)
	kill -9 "$SRV"
	# the reads in flight are aborted (EIO); a read issued once the disk
	# is dead reads past its capacity of 0 (EOF)
	io_end "$WORK/io.out" 5 "$t" EIO+ EOF || rc=1
	no_d_state || rc=1
	line=$("$UBLK" list -n "$ID" | head -1)
	msg "after the kill: $line"
	[ "$(field "$line" state)" = DEAD ] && [ "$(field "$line" pid)" = -1 ] || rc=1
	t=$(now)
	del_dev "$ID" || rc=1
	msg "del took $(since "$t") s"
	rm -f "$TMP/k0"
	return $rc
}

# held_count N: the server of device ID holds N requests (ublk list -v)
held_count() {
	[ "$("$UBLK" list -v -n "$ID" | grep -c 'state=held')" = "$1" ]
}

# SIGKILL while the server has every tag of its queue: 6.12 fails them
# only when one times out (ublk_timeout()); --timeout 2 makes that quick
t_sigkill_all_tags() {
	local rc=0 t
	mkfile "$TMP/k0" 32M
	add -t loop -d 4 --hold --timeout 2 "$TMP/k0" || return 1
	io_start_held "$WORK/io.out" "$DEV" 4 read || rc=1
	"$UBLK" list -v -n "$ID" | sed 's/^/# /'
	t=$(now)
	kill -9 "$SRV"
	# every thread has its one read held: all aborted
	io_end "$WORK/io.out" 10 "$t" EIO+ || rc=1
	no_d_state || rc=1
	del_dev "$ID" || rc=1
	rm -f "$TMP/k0"
	return $rc
}

# io_start_held OUT DEV N read|write: N ublk_io threads whose first
# requests the server holds (it holds them all)
io_start_held() {
	spawn "$1" held_count "$3" -- "$UBLK_IO" "$2" "$3" 120 "$4" || return 1
	IO_PID=$SPAWNED
}

# dd_bg OUT ARGS...: a dd in the background (DD_PIDS), e.g. one whose
# request the server will hold
dd_bg() {
	local out=$1
	shift
	dd "$@" status=none > "$out" 2>&1 &
	DD_PIDS="$DD_PIDS $!"
	BG_PIDS="$BG_PIDS $!"
}

# -r: requests the killed server held fail, new ones wait for `recover`
t_recovery() {
	local rc=0 line pid st p t new f
	DD_PIDS=
	mkfile "$TMP/r0" 32M
	pattern "$WORK/p1" $((4 << 20))
	add -t loop -r -d 8 "$TMP/r0" || return 1
	dd if="$WORK/p1" of="$DEV" bs=1M oflag=direct status=none || rc=1
	kill -USR2 "$SRV"	# hold from now on
	dd_bg "$WORK/h1" if="$DEV" of=/dev/null bs=4k count=1 skip=1 iflag=direct
	dd_bg "$WORK/h2" if="$DEV" of=/dev/null bs=4k count=1 skip=9 iflag=direct
	wait_for 30 held_count 2 || { msg "2 reads not held"; rc=1; }
	kill -9 "$SRV"
	for p in $DD_PIDS; do
		wait "$p"
		st=$?
		[ $st = 1 ] || { msg "a held read ended with status $st (1 expected)"; rc=1; }
	done
	for f in "$WORK/h1" "$WORK/h2"; do
		grep -q "error reading '$DEV': Input/output error" "$f" ||
			{ msg "held read: $(cat "$f") (EIO expected)"; rc=1; }
	done
	line=$("$UBLK" list -n "$ID" | head -1)
	msg "after the kill: $line"
	[ "$(field "$line" state)" = QUIESCED ] || rc=1
	# a read while no server runs waits for the next one
	dd if="$DEV" of="$WORK/back" bs=1M count=4 iflag=direct status=none &
	pid=$!
	BG_PIDS="$BG_PIDS $pid"
	sleep 2
	gone "$pid" && { msg "the read did not wait for a server"; rc=1; }
	t=$(now)
	new=$("$UBLK" recover -n "$ID" 2> "$WORK/rec.err")
	st=$?
	msg "recover: exit status $st in $(since "$t") s, printed '$new'"
	[ $st = 0 ] && [ "$new" = "$DEV" ] || { msg_file "$WORK/rec.err"; rc=1; }
	wait "$pid" || { msg "the waiting read failed"; rc=1; }
	cmp "$WORK/p1" "$WORK/back" || { msg "data read after recovery differs"; rc=1; }
	line=$("$UBLK" list -n "$ID" | head -1)
	SRV=$(field "$line" pid)
	[ "$(field "$line" state)" = LIVE ] || { msg "after recover: $line"; rc=1; }
	dd_verify "$DEV" || rc=1
	del_dev "$ID" "$SRV" || rc=1
	rm -f "$TMP/r0" "$WORK/p1" "$WORK/back"
	return $rc
}

# --reissue: the writes the killed server held are done by the new one
t_reissue() {
	local rc=0 p st new
	DD_PIDS=
	mkfile "$TMP/r0" 32M
	pattern "$WORK/p1" $((4 << 20))
	pattern "$WORK/p2" 8192
	add -t loop --reissue -d 8 "$TMP/r0" || return 1
	dd if="$WORK/p1" of="$DEV" bs=1M oflag=direct status=none || rc=1
	kill -USR2 "$SRV"
	dd_bg "$WORK/h1" if="$WORK/p2" of="$DEV" bs=4k count=1 seek=3 oflag=direct
	dd_bg "$WORK/h2" if="$WORK/p2" of="$DEV" bs=4k count=1 skip=1 seek=700 oflag=direct
	wait_for 30 held_count 2 || { msg "2 writes not held"; rc=1; }
	kill -9 "$SRV"
	sleep 1
	for p in $DD_PIDS; do
		gone "$p" && { msg "a held write ended with the killed server"; rc=1; }
	done
	new=$("$UBLK" recover -n "$ID" 2> "$WORK/rec.err") || { msg_file "$WORK/rec.err"; rc=1; }
	[ "$new" = "$DEV" ] || rc=1
	for p in $DD_PIDS; do
		wait "$p"
		st=$?
		[ $st = 0 ] || { msg "a reissued write ended with status $st"; rc=1; }
	done
	cat "$WORK/h1" "$WORK/h2" | sed 's/^/# dd: /'
	# the file: p1 with p2's two blocks at 12k and 2800k
	dd if="$WORK/p2" of="$WORK/p1" bs=4k count=1 seek=3 conv=notrunc status=none
	dd if="$WORK/p2" of="$WORK/p1" bs=4k count=1 skip=1 seek=700 conv=notrunc status=none
	cmp -n $((4 << 20)) "$WORK/p1" "$TMP/r0" || { msg "backing file differs after reissue"; rc=1; }
	SRV=$(field "$("$UBLK" list -n "$ID" | head -1)" pid)
	del_dev "$ID" "$SRV" || rc=1
	rm -f "$TMP/r0" "$WORK/p1" "$WORK/p2"
	return $rc
}

t_del_during_io() {
	local rc=0 t
	loop_io 8 write || return 1
	t=$(now)
	del_dev "$ID" "$SRV" || rc=1
	msg "del and the server's exit took $(since "$t") s"
	# as after SIGTERM: a clean stop
	io_end "$WORK/io.out" 10 "$t" ENOSPC+ EIO || rc=1
	no_d_state || rc=1
	rm -f "$TMP/k0"
	return $rc
}

t_short_file() {
	local rc=0 out
	mkfile "$TMP/k0" 8M
	refused "ublk: loop: --size 16777216 is larger than $TMP/k0 (8388608 bytes)" \
		add -t loop --size 16M "$TMP/k0" || rc=1
	pattern "$WORK/p1" $((8 << 20))
	add -t loop "$TMP/k0" || return 1
	dd if="$WORK/p1" of="$DEV" bs=1M oflag=direct status=none || rc=1
	# the file shrinks under the device
	truncate -s 4M "$TMP/k0"
	out=$(dd if="$DEV" of=/dev/null bs=4k skip=2047 count=1 iflag=direct 2>&1)
	if [ $? != 1 ] || [[ $out != *"error reading '$DEV': Input/output error"* ]]; then
		msg "read past the end of the file: $out (EIO expected)"
		rc=1
	fi
	dd if="$DEV" of="$WORK/back" bs=1M count=4 iflag=direct status=none || rc=1
	cmp -n $((4 << 20)) "$WORK/p1" "$WORK/back" || { msg "data before the end differs"; rc=1; }
	grep -q "READ of 4096 bytes at 8384512 got none (past the end of the file?)" \
		"$UBLK_RUN_DIR/ublk$ID.log" || { msg "server log:"; msg_file "$UBLK_RUN_DIR/ublk$ID.log"; rc=1; }
	del_dev "$ID" "$SRV" || rc=1
	rm -f "$TMP/k0" "$WORK/p1" "$WORK/back"
	return $rc
}

t_two_servers() {
	local rc=0 first out
	mkfile "$TMP/a0" 32M
	mkfile "$TMP/b0" 32M
	add -t loop -n 7 "$TMP/a0" || return 1
	first=$SRV
	UBLK_TRACE=1 "$UBLK" add -t loop -n 7 "$TMP/b0" > "$WORK/two.out" 2> "$WORK/two.err"
	if [ $? != 1 ] || ! grep -qxF "ublk: ADD_DEV (dev 7): File exists" "$WORK/two.err" ||
	   ! grep -qxF "ublk: trace: ADD_DEV dev 7 -> -17" "$WORK/two.err"; then
		msg "second add -n 7:"
		msg_file "$WORK/two.err"
		rc=1
	fi
	gone "$first" && { msg "the first server died"; rc=1; }
	# a second server cannot open the first one's /dev/ublkc7
	out=$(python3 -c 'import os, sys; os.open(sys.argv[1], os.O_RDWR)' /dev/ublkc7 2>&1)
	[[ $out == *"[Errno 16] Device or resource busy"* ]] || { msg "open /dev/ublkc7: $out"; rc=1; }
	refused "ublk: recover: device 7 was added without -r: it cannot be recovered" \
		recover -n 7 || rc=1
	dd_verify "$DEV" || rc=1
	del_dev 7 "$first" || rc=1
	add -t loop -r -n 8 "$TMP/a0" || return 1
	refused "ublk: recover: device 8 is LIVE: its server is running" recover -n 8 || rc=1
	del_dev 8 "$SRV" || rc=1
	rm -f "$TMP/a0" "$TMP/b0"
	return $rc
}

# ---- ops ----

# alloc_kb FILE: allocated KiB
alloc_kb() { echo $(($(stat -c '%b * %B' "$1") / 1024)); }

# holes FILE: "data at D, hole at H" from offset 0 (SEEK_DATA, SEEK_HOLE)
# and from 4 MiB
holes() {
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
print(" ".join(f"{os.lseek(fd, o, os.SEEK_HOLE)},{os.lseek(fd, o, os.SEEK_DATA)}"
               for o in (0, 4 << 20)))' "$1"
}

# zeroes DEV OFF LEN: the device reads zeroes there
zeroes() {
	cmp -n "$3" -i "0:$2" /dev/zero "$1" || { msg "$1: not zeroes at $2 (+$3)"; return 1; }
}

# write_zeroes_kept FILE OFFSET LENGTH WHERE: a write-zeroes (NOUNMAP) of
# the range through $DEV leaves FILE's allocation as it was, and the range
# reads back as zeroes
write_zeroes_kept() {
	local a b rc=0
	a=$(alloc_kb "$1")
	blkdiscard -z -o "$2" -l "$3" "$DEV" || rc=1
	b=$(alloc_kb "$1")
	msg "write-zeroes of $(($3 >> 20)) MiB $4: file allocation $a -> $b KiB"
	[ "$a" = "$b" ] || rc=1
	zeroes "$DEV" "$2" "$3" || rc=1
	return $rc
}

# discard = punch hole, write-zeroes = zero range (NOUNMAP), flush =
# fsync, on a file of an ext4 (which has them all) on the kernel loop
# driver; then write-zeroes on tmpfs, which has no zero range: punched and
# allocated again
t_fallocate() {
	local rc=0 f=$WORK/ext4/d0 a b q h
	mkfile "$TMP/ext4.img" 256M
	mkdir -p "$WORK/ext4"
	LOOPDEV=$(losetup -f --show "$TMP/ext4.img") &&
		mkfs.ext4 -q -F -b 4096 "$LOOPDEV" && mount "$LOOPDEV" "$WORK/ext4" || return 1
	pattern "$f" $((16 << 20))
	add -t loop "$f" || return 1
	q=/sys/block/ublkb$ID/queue
	msg "queue: write_cache $(< $q/write_cache), fua $(< $q/fua), discard_max_bytes $(< $q/discard_max_bytes), write_zeroes_max_bytes $(< $q/write_zeroes_max_bytes)"
	[ "$(< $q/write_cache)" = "write back" ] && [ "$(< $q/fua)" = 1 ] &&
		[ "$(< $q/discard_max_bytes)" = 524288 ] &&
		[ "$(< $q/write_zeroes_max_bytes)" = 524288 ] || rc=1
	blkdiscard -o $((4 << 20)) -l $((4 << 20)) "$DEV" || rc=1
	h=$(holes "$f")
	msg "after discarding [4M, 8M): (hole,data) from 0 and 4M: $h"
	# from 0: the hole starts at 4M; from 4M: data again at 8M
	[ "$h" = "$((4 << 20)),0 $((4 << 20)),$((8 << 20))" ] || rc=1
	zeroes "$DEV" $((4 << 20)) $((4 << 20)) || rc=1
	write_zeroes_kept "$f" $((8 << 20)) $((1 << 20)) "at 8M (NOUNMAP)" || rc=1
	cmp -n $((4 << 20)) "$f" "$DEV" || { msg "data before the discard changed"; rc=1; }
	dd if=/dev/urandom of="$DEV" bs=64k count=16 oflag=direct conv=fsync status=none || rc=1
	del_dev "$ID" "$SRV" || rc=1
	umount "$WORK/ext4" && losetup -d "$LOOPDEV" && LOOPDEV=
	rm -f "$TMP/ext4.img"

	f=$TMP/z0
	pattern "$f" $((4 << 20))
	add -t loop "$f" || return 1
	write_zeroes_kept "$f" $((1 << 20)) $((1 << 20)) "on tmpfs" || rc=1
	[ "$(< "/sys/block/ublkb$ID/queue/write_zeroes_max_bytes")" = 524288 ] ||
		{ msg "write-zeroes was disabled: it failed"; rc=1; }
	del_dev "$ID" "$SRV" || rc=1
	rm -f "$f"
	return $rc
}

t_features() {
	local out
	out=$("$UBLK" features) || return 1
	msg "$(echo $out)"
	# 6.12's 0x1fe, and UBLK_F_BPF (bit 40)
	[ "$(head -1 <<< "$out")" = features=0x100000001fe ] &&
		grep -qx user_copy <<< "$out" && grep -qx user_recovery <<< "$out" &&
		grep -qx user_recovery_reissue <<< "$out" && grep -qx bpf <<< "$out"
}

# ---- main ----

TESTS=()
t() { [[ -z ${UBLK_ONLY:-} || ${1%%::*} =~ $UBLK_ONLY ]] && TESTS+=("$*"); }

t "features: GET_FEATURES of 6.12 and UBLK_F_BPF::t_features"
for tgt in null loop stripe concat; do
	for mode in copy user_copy; do
		for q in 1 2; do
			t "data: $tgt, $mode, $q queue(s): fio randwrite verified 4k/64k/512k QD 1/32::t_data $tgt $mode $q"
		done
	done
done
for tgt in loop stripe concat; do
	for mode in copy user_copy; do
		t "mkfs: ext4 on $tgt ($mode), files checked after drop_caches::t_mkfs $tgt $mode"
	done
done
t "layout: stripe over 3 files (64K chunks, copy): writes and reads across chunks land in their files::t_layout stripe copy stripe:65536 - $((1 << 20)) $((1 << 20)) $(((1 << 20) + 12288))"
t "layout: stripe over 4 files (4K chunks, user copy): 512K I/O split in 128 pieces::t_layout stripe user_copy stripe:4096 - $((512 << 10)) $((512 << 10)) $((512 << 10)) $((512 << 10)) --chunk 4K"
t "layout: concat of 3 files (user copy): writes and reads across file ends land in their files::t_layout concat user_copy concat:512 1060864,1564672 1060864 503808 270336"
t "layout: concat of 2 files (copy): first half one file, second half the other::t_layout concat copy concat:512 $((1 << 20)) $((1 << 20)) $((1 << 20))"
t "failure: bad options and files refused before ADD_DEV, with a message::t_bad_options"
t "failure: a failing control command reports its name and errno::t_errno_reported"
t "failure: ADD_DEV with invalid device info gets the kernel's errno::ctrl_test add"
t "failure: SET_PARAMS, GET_PARAMS, START_DEV, recovery, affinity with invalid arguments::ctrl_test params"
t "failure: second open of /dev/ublkcN, mmap and FETCH/COMMIT with invalid arguments::ctrl_test io"
t "failure: SET_PARAMS on a started device is EACCES::t_ctrl_live"
t "failure: SIGTERM during I/O stops and deletes the device, later writes get ENOSPC::t_sigterm"
t "failure: SIGINT stops a --foreground server, which exits 0::t_sigint_foreground"
t "failure: SIGKILL during I/O: EIO within 5 s, no hung task, del works::t_sigkill"
t "failure: SIGKILL with every tag in the server: EIO at the request timeout::t_sigkill_all_tags"
t "failure: recovery (-r): held requests fail, new ones wait, recover, data verified::t_recovery"
t "failure: recovery (--reissue): held writes done by the recovered server::t_reissue"
t "failure: delete during I/O: del returns, the server exits, later writes get ENOSPC::t_del_during_io"
t "failure: backing file shorter than the device: refused at add, EIO past its end::t_short_file"
t "failure: two servers for one device id: ADD_DEV EEXIST, ublkc busy, first one serves::t_two_servers"
t "ops: discard as punch hole, write-zeroes as zero range, flush as fsync::t_fallocate"
bpf_tests

for entry in "${TESTS[@]}"; do
	[[ ${entry#*::} =~ ^t_data\ ([^ ]+)\ ([^ ]+)\ ([^ ]+)$ ]] &&
		DATA_KEYS+=("${BASH_REMATCH[1]}-${BASH_REMATCH[2]}-${BASH_REMATCH[3]}")
done

ktap_print_header
for p in "$UBLK" "$CTRL_TEST" "$UBLK_IO"; do
	[ -x "$p" ] || skip_area_or_fail "$p not built (the harness builds selftests/ublk)"
done
for p in null mixed test bad_null_io bad_prog_type bad_sleepable loop loop_daemon \
	 loop_badidx bad_aio_leak bad_aio_prog_type stripe concat stripe_badcont; do
	[ -f "$OUTPUT/ublk_$p.bpf.o" ] || skip_area_or_fail "$OUTPUT/ublk_$p.bpf.o not built (the harness builds selftests/ublk)"
done
[ -c /dev/ublk-control ] || skip_area_or_fail "no /dev/ublk-control (CONFIG_BLK_DEV_UBLK)"
for p in fio mkfs.ext4 e2fsck python3 blkdiscard losetup; do
	command -v $p > /dev/null || skip_area_or_fail "$p not installed"
done
[ -z "$(ublk_ids)" ] || fail_area "ublk devices exist before the tests: $(ublk_ids)"
mkdir -p "$TMP" "$UBLK_RUN_DIR"
mount -t tmpfs -o size=2g tmpfs "$TMP" || fail_area "cannot mount a tmpfs on $TMP"
mkfifo "$WORK/nap" && exec {NAP_FD}<> "$WORK/nap" || fail_area "cannot make a FIFO in $WORK"

ktap_set_plan ${#TESTS[@]}
T_START=$(now)
for entry in "${TESTS[@]}"; do
	name=${entry%%::*}
	t0=$(now)
	# shellcheck disable=SC2086
	${entry#*::}
	rc=$?
	# the BPF cases share one device (bpf_tests.sh)
	left=$(ublk_ids)
	[ -n "$BPF_KEEP_ID" ] && left=$(echo " $left " | sed "s/ $BPF_KEEP_ID / /; s/^ *//; s/ *$//")
	if [ -n "$left" ]; then
		msg "devices left by the test: $left"
		rc=1
		del_all
	fi
	for p in $BG_PIDS; do kill -9 "$p" 2>/dev/null; done
	BG_PIDS=
	msg "$(since "$t0") s"
	if [ $rc = 0 ]; then
		ktap_test_pass "$name"
	else
		ktap_test_fail "$name"
	fi
done
msg "ublk area: $(since "$T_START") s of guest time"
ktap_finished
