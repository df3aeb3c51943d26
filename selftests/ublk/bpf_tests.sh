# SPDX-License-Identifier: GPL-2.0
# ublk-bpf tests, sourced by run.sh: devices whose I/O BPF struct_ops
# programs (progs/, loaded by `ublk add --bpf`) handle before the server.
#
# bpf_case     the test program (progs/ublk_test.bpf.c) over the null
#              target: each 1 MiB region one disposition, one bad byte
#              count, one bad kfunc argument; the I/O's exact result and
#              the device's counters (/sys/block/ublkbN/bpf/)
# bpf_null     the null target wholly in BPF, fio verify
# bpf_mixed    BPF serves the reads of never-written chunks, the server
#              the rest (loop, copy mode): fio verify, the device read
#              whole and compared with its backing file, both paths ran
# bpf_handback the server maps chunks in a BPF map and hands writes back
#              (commit -EAGAIN), BPF does them: exact counters, fio verify
# failures     an unknown ops id at START_DEV, an id registered twice,
#              unregistering during I/O, programs the verifier refuses
# bpf_loop     the loop target wholly in BPF with bpf aio (progs/
#              ublk_loop*.bpf.c): fio verify at 4k and 512k, QD 1 and 32,
#              from ->queue_rq() and from a sleepable daemon callback
#              (IOCB_NOWAIT inline); ext4 on it; flush, discard and
#              write-zeroes on the backing file; a bad file index; delete
#              with aios in flight
# bpf_split    stripe and concat wholly in BPF (progs/ublk_stripe.bpf.c,
#              ublk_concat.bpf.c): each I/O split at chunk and file ends
#              with CONTINUE, one aio per piece: fio verify (in run.sh's
#              data phase, bpf_data_check), I/O crossing chunks and file
#              ends with the files checked after the device is gone, ext4
#              on stripe (run.sh's t_mkfs), a wrong CONTINUE byte count
#              with an aio in flight, the wrong target refused
# eject       ublk_bpf_eject() from a program, and a BPF-owned I/O past
#              the queue's io_timeout: the device falls back to the
#              server, the reason in sysfs and in both logs, no I/O lost

# bstat ID NAME: counter NAME of device ID
bstat() { bcounters "$1" "$2"; }

# bcounters ID NAME...: the counters NAME... of device ID, one line (read
# by the shell: a fork and exec per counter is slow under TCG)
bcounters() {
	local d=/sys/block/ublkb$1/bpf n v out=
	shift
	for n in "$@"; do
		read -r v < "$d/$n"
		out="$out $v"
	done
	echo "${out# }"
}

# bstats ID: handled redirected split errors, one line
bstats() { bcounters "$1" handled redirected split errors; }

# bstat_past ID NAME N: counter NAME of device ID is above N
bstat_past() { [ "$(bstat "$1" "$2")" -gt "$3" ]; }

# region_dd DEV REGION BYTES [write]: one direct I/O of BYTES at the start
# of REGION (1 MiB each), read into $WORK/r (or $WORK/w written); the
# error message of dd in DD_ERR
region_dd() {
	local bs=$3 skip=$(($2 * (1 << 20) / $3))
	if [ "${4:-}" = write ]; then
		pattern "$WORK/w" "$bs"
		dd if="$WORK/w" of="$1" bs="$bs" count=1 seek="$skip" oflag=direct \
			status=none 2> "$WORK/dd.err"
	else
		dd if="$1" of="$WORK/r" bs="$bs" count=1 skip="$skip" iflag=direct \
			status=none 2> "$WORK/dd.err"
	fi
	local st=$?
	DD_ERR=$(sed -n 's/^dd: error [a-z]* [^:]*: //p' "$WORK/dd.err")
	return $st
}

# region_eio DEV REGION BYTES: the read of region_dd fails with EIO
region_eio() {
	if region_dd "$@"; then
		msg "the read succeeded"
		return 1
	fi
	[ "$DD_ERR" = "$EIO" ] || { msg "the read failed with '$DD_ERR', not $EIO"; return 1; }
}

# region numbers, as ublk_bpf_shared.h has them
declare -A REGION=([null]=0 [redirect]=1 [continue_512]=2 [continue_zero]=3
		   [continue_odd]=4 [continue_past]=5 [redirect_part]=6
		   [queued_nocomp]=7 [res_past]=8 [res_bad_errno]=9
		   [complete_twice]=10 [bad_disp]=11 [enospc]=12 [daemon]=13
		   [kfuncs]=14 [continue_4k]=15)
EIO="Input/output error"

# bpf_case CASE: sets C_REGION C_OP C_BYTES C_EXPECT (ok, or the error dd
# reports), C_DELTA (the change of "handled redirected split errors"; a
# call that completes the I/O is not counted as a split) and C_LOG (a
# line the kernel logs for it)
bpf_case() {
	C_LOG=
	case $1 in
	null_read)	set -- null read 4096 ok "1 0 0 0" ;;
	null_write)	set -- null write 4096 ok "1 0 0 0" ;;
	redirect)	set -- redirect read 4096 ok "0 2 0 0" ;;
	daemon)		set -- daemon read 4096 ok "1 1 0 0" ;;
	continue_512)	set -- continue_512 read 4096 ok "1 0 7 0" ;;
	continue_4k)	set -- continue_4k write 65536 ok "1 0 15 0" ;;
	continue_zero)	set -- continue_zero read 4096 "$EIO" "0 0 0 1"
			C_LOG="CONTINUE byte count zero, not a multiple of 512 or past the end (returned 0x200000000, 0 of 4096 bytes taken)" ;;
	continue_odd)	set -- continue_odd read 4096 "$EIO" "0 0 0 1"
			C_LOG="past the end (returned 0x200000064, 0 of 4096 bytes taken)" ;;
	continue_past)	set -- continue_past read 4096 "$EIO" "0 0 0 1"
			C_LOG="past the end (returned 0x200001200, 0 of 4096 bytes taken)" ;;
	redirect_part)	set -- redirect_part read 4096 "$EIO" "0 0 1 1"
			C_LOG="REDIRECT after part of the I/O was taken (returned 0x100000000, 512 of 4096 bytes taken)" ;;
	queued_nocomp)	set -- queued_nocomp read 4096 "$EIO" "0 0 0 1"
			C_LOG="QUEUED without ublk_bpf_complete_io()" ;;
	bad_disp)	set -- bad_disp read 4096 "$EIO" "0 0 0 1"
			C_LOG="unknown disposition (returned 0x700000000" ;;
	res_past)	set -- res_past read 4096 "$EIO" "0 0 0 1"
			C_LOG="ublk_bpf_complete_io() result neither an errno nor at most the I/O's bytes" ;;
	res_bad_errno)	set -- res_bad_errno write 4096 "$EIO" "0 0 0 1"
			C_LOG="ublk_bpf_complete_io() result neither an errno nor at most the I/O's bytes" ;;
	complete_twice)	set -- complete_twice read 4096 ok "1 0 0 1"
			C_LOG="ublk_bpf_complete_io() called again, the first result stands" ;;
	enospc)		set -- enospc write 4096 "No space left on device" "1 0 0 0" ;;
	kfuncs)		set -- kfuncs read 4096 ok "1 0 0 0" ;;
	*)		return 1 ;;
	esac
	C_REGION=${REGION[$1]} C_OP=$2 C_BYTES=$3 C_EXPECT=$4 C_DELTA=$5
}

# bstats_settled ID: bstats once two reads 0.2 s apart agree (udev may
# still be probing the new disk)
bstats_settled() {
	local a b i
	a=$(bstats "$1")
	for ((i = 0; i < 20; i++)); do
		nap; nap
		b=$(bstats "$1")
		[ "$a" = "$b" ] && break
		a=$b
	done
	echo "$a"
}

# The cases share one device (adding one takes seconds under TCG): the
# first case adds it, bpf_case_end deletes it; run.sh does not count it
# as left by a case (BPF_KEEP_ID).
BPF_KEEP_ID=
bpf_case_dev() {
	[ -n "$BPF_KEEP_ID" ] && return 0
	add -t null --size 32M --bpf test || return 1
	BPF_KEEP_ID=$ID BPF_DEV=$DEV BPF_SRV=$SRV
	if [ "$(bstat "$ID" attached)" != 1 ] || [ "$(bstat "$ID" ops_id)" != "$ID" ]; then
		msg "attached $(bstat "$ID" attached), ops_id $(bstat "$ID" ops_id): not 1, $ID"
		return 1
	fi
}

# t_bpf_case CASE: on the null device with the test program, one I/O in
# the region of CASE (bpf_case): its result, the counters, the kernel's log
t_bpf_case() {
	local before after rc=0 want h r s e id
	bpf_case "$1" || { msg "no case $1"; return 1; }
	bpf_case_dev || return 1
	id=$BPF_KEEP_ID
	before=$(bstats_settled "$id")
	dmesg -C
	if region_dd "$BPF_DEV" "$C_REGION" "$C_BYTES" "$C_OP"; then
		if [ "$C_EXPECT" != ok ]; then
			msg "$1: $C_OP of $C_BYTES succeeded, expected: $C_EXPECT"
			rc=1
		elif [ "$C_OP" = read ] && ! cmp -s -n "$C_BYTES" "$WORK/r" /dev/zero; then
			msg "$1: the read did not return zeroes"
			rc=1
		fi
	elif [ "$DD_ERR" != "$C_EXPECT" ]; then
		msg "$1: $C_OP of $C_BYTES: '$DD_ERR', expected: $C_EXPECT"
		rc=1
	fi
	after=$(bstats "$id")
	read -r h r s e <<< "$before"
	# shellcheck disable=SC2086
	set -- $C_DELTA
	want="$((h + $1)) $((r + $2)) $((s + $3)) $((e + $4))"
	msg "counters (handled redirected split errors): $before -> $after"
	if [ "$after" != "$want" ]; then
		msg "expected $want"
		rc=1
	fi
	if [ -n "$C_LOG" ] && ! dmesg | grep -qF "$C_LOG"; then
		msg "the kernel did not log '$C_LOG':"
		dmesg | tail -5 | while IFS= read -r l; do msg "$l"; done
		rc=1
	fi
	return $rc
}

# bpf_case_end: the cases' device is deleted, its server exits
t_bpf_case_end() {
	local id=$BPF_KEEP_ID
	[ -n "$id" ] || { msg "no device: the first case failed to add it"; return 1; }
	BPF_KEEP_ID=
	del_dev "$id" "$BPF_SRV"
}

# t_bpf_null QUEUES: the null target in BPF, fio writes zeroes verified
# at 4k and 512k, QD 1 and 32: every I/O handled, none redirected
t_bpf_null() {
	local rc=0 h r s e
	add -t null --size 16M -q "$1" --bpf null || return 1
	fio --output="$WORK/fio.out" --thread --direct=1 --ioengine=io_uring \
		--filename="$DEV" --rw=randwrite --randrepeat=0 \
		--verify=pattern --verify_pattern=0x00 --do_verify=1 \
		--verify_fatal=1 --verify_state_save=0 \
		--name=a --bs=4k --iodepth=32 --size=1M \
		--name=b --bs=512k --iodepth=1 --size=4M --wait_for=a \
		> "$WORK/fio.err" 2>&1 ||
		{ msg "fio failed:"; msg_file "$WORK/fio.err"; msg_file "$WORK/fio.out"; rc=1; }
	read -r h r s e <<< "$(bstats "$ID")"
	msg "handled $h, redirected $r, split $s, errors $e"
	# 256 + 8 writes and as many verify reads at least
	if [ "$h" -lt 528 ] || [ "$r" != 0 ] || [ "$s" != 0 ] || [ "$e" != 0 ]; then
		msg "not every I/O handled by BPF alone"
		rc=1
	fi
	del_dev "$ID" "$SRV" || rc=1
	return $rc
}

# fio_sizes RW A B C: one fio on $DEV's first 16M, verified (crc32c),
# three jobs one after the other: 4k at 0, 64k at 4M, 512k at 8M, each
# QD:IO_SIZE (A, B, C); fails with fio's output
fio_sizes() {
	fio --output="$WORK/fio.out" --thread --direct=1 --ioengine=io_uring \
		--filename="$DEV" --rw="$1" --randrepeat=0 --size=16M \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 \
		--name=a --bs=4k --iodepth="${2%%:*}" --io_size="${2#*:}" \
		--name=b --bs=64k --iodepth="${3%%:*}" --io_size="${3#*:}" --offset=4M --wait_for=a \
		--name=c --bs=512k --iodepth="${4%%:*}" --io_size="${4#*:}" --offset=8M --wait_for=b \
		> "$WORK/fio.err" 2>&1 && return 0
	msg "fio failed:"
	msg_file "$WORK/fio.err"
	return 1
}

# t_bpf_mixed QUEUES MODE: mixed over loop; data in the file before the
# device starts, fio verify in the first half, then the device read whole
# equals the file; both BPF and the server served I/O
t_bpf_mixed() {
	local rc=0 h r s e u=
	[ "$2" = user_copy ] && u=-u
	mkfile "$TMP/mixed" 32M
	pattern "$WORK/pre" $((1 << 20))
	dd if="$WORK/pre" of="$TMP/mixed" bs=64k seek=$((24 * 16)) conv=notrunc status=none
	add -t loop -q "$1" $u --bpf mixed "$TMP/mixed" || return 1
	fio_sizes randwrite 32:512K 1:1M 32:2M || rc=1
	if ! cmp "$DEV" "$TMP/mixed" > "$WORK/cmp.out" 2>&1; then
		msg "the device does not read as its file:"
		msg_file "$WORK/cmp.out"
		rc=1
	fi
	dd if="$DEV" of="$WORK/r" bs=64k skip=$((24 * 16)) count=16 iflag=direct status=none
	cmp -s "$WORK/pre" "$WORK/r" || { msg "data in the file before start not read back"; rc=1; }
	read -r h r s e <<< "$(bstats "$ID")"
	msg "handled $h, redirected $r, split $s, errors $e"
	if [ "$h" -lt 10 ] || [ "$r" -lt 100 ] || [ "$e" != 0 ]; then
		msg "expected both paths to serve I/O, and no error"
		rc=1
	fi
	# a never-written chunk is BPF's, one with data the server's
	region_dd "$DEV" 30 65536 || { msg "read at 30M: $DD_ERR"; rc=1; }
	cmp -s -n 65536 "$WORK/r" /dev/zero || { msg "30M: not zeroes"; rc=1; }
	region_dd "$DEV" 24 65536 || { msg "read at 24M: $DD_ERR"; rc=1; }
	cmp -s -n 65536 "$WORK/r" "$WORK/pre" || { msg "24M: not the data"; rc=1; }
	if [ "$(bstats "$ID")" != "$((h + 1)) $((r + 1)) $s $e" ]; then
		msg "after a read at 30M and one at 24M: $(bstats "$ID"), expected $((h + 1)) $((r + 1)) $s $e"
		rc=1
	fi
	del_dev "$ID" "$SRV" || rc=1
	rm -f "$TMP/mixed"
	return $rc
}

# t_bpf_handback QUEUES MODE: handback over loop (progs/ublk_handback.bpf.c,
# the server maps chunks in srv_mapped): a read of a chunk with data in
# the file (mapped at start) is BPF's; a read of an unmapped chunk the
# server's; a write of it is mapped by the server and handed back, and
# BPF does it; a read of it then is BPF's: exact counters for each.  Then
# fio verify over mostly unmapped chunks (each first write handed back),
# the device read whole equals its file, no error.
t_bpf_handback() {
	local rc=0 h r e b h2 r2 e2 b2 u=
	[ "$2" = user_copy ] && u=-u
	mkfile "$TMP/hb" 32M
	pattern "$WORK/pre" $((1 << 20))
	dd if="$WORK/pre" of="$TMP/hb" bs=64k seek=$((24 * 16)) conv=notrunc status=none
	add -t loop -q "$1" $u --bpf handback "$TMP/hb" || return 1
	bstats_settled "$ID" > /dev/null
	read -r h r e b <<< "$(bcounters "$ID" handled redirected errors handed_back)"
	region_dd "$DEV" 24 65536 || { msg "read at 24M: $DD_ERR"; rc=1; }
	cmp -s -n 65536 "$WORK/r" "$WORK/pre" || { msg "24M (mapped): not the file's data"; rc=1; }
	region_dd "$DEV" 30 65536 || { msg "read at 30M: $DD_ERR"; rc=1; }
	cmp -s -n 65536 "$WORK/r" /dev/zero || { msg "30M (unmapped): not zeroes"; rc=1; }
	region_dd "$DEV" 30 65536 write || { msg "write at 30M: $DD_ERR"; rc=1; }
	region_dd "$DEV" 30 65536 || { msg "read at 30M after the write: $DD_ERR"; rc=1; }
	cmp -s "$WORK/r" "$WORK/w" || { msg "30M: not what was written"; rc=1; }
	read -r h2 r2 e2 b2 <<< "$(bcounters "$ID" handled redirected errors handed_back)"
	# handled: the mapped read, the handed-back write, the read after it;
	# redirected: the unmapped read and the write; handed back: the write
	if [ "$h2 $r2 $e2 $b2" != "$((h + 3)) $((r + 2)) $e $((b + 1))" ]; then
		msg "handled redirected errors handed_back: $h $r $e $b -> $h2 $r2 $e2 $b2, expected +3 +2 +0 +1"
		rc=1
	fi
	fio_sizes randrw 32:1M 4:2M 8:4M || rc=1
	cmp "$DEV" "$TMP/hb" > "$WORK/cmp.out" 2>&1 ||
		{ msg "the device does not read as its file:"; msg_file "$WORK/cmp.out"; rc=1; }
	read -r h r e b <<< "$(bcounters "$ID" handled redirected errors handed_back)"
	msg "after fio: handled $h, redirected $r, errors $e, handed back $b"
	[ "$b" -gt $((b2 + 10)) ] && [ "$h" -gt $((h2 + 100)) ] && [ "$e" = "$e2" ] ||
		{ msg "fio's writes were not handed back and done by BPF without error"; rc=1; }
	del_dev "$ID" "$SRV" || rc=1
	rm -f "$TMP/hb"
	return $rc
}

# t_bpf_unknown_id: START_DEV names ops nobody registered: ENOENT, the
# server says so, no device is left
t_bpf_unknown_id() {
	local st
	dmesg -C
	"$UBLK" add -t null --bpf-id 4000000 > "$WORK/add.out" 2> "$WORK/add.err"
	st=$?
	msg_file "$WORK/add.err"
	[ $st != 0 ] || { msg "add succeeded"; return 1; }
	grep -qE '^ublk: START_DEV \(dev [0-9]+\): No such file or directory$' "$WORK/add.err" ||
		{ msg "no START_DEV ENOENT reported"; return 1; }
	dmesg | grep -qE 'ublk[0-9]+: no BPF ops of id 4000000 registered' ||
		{ msg "the kernel did not log the missing ops"; return 1; }
	wait_for 10 test -z "$(ublk_ids)" || { msg "device left: $(ublk_ids)"; return 1; }
}

# t_bpf_bad_fd: the server passes a descriptor that is not open as file 0
# of the BPF loop target (--bpf-bad-fd): START_DEV fails with EBADF (the
# files are taken in the server's task then, not by fd in whatever task
# runs the I/O), the kernel names the descriptor, no device is left
t_bpf_bad_fd() {
	local st
	mkfile "$TMP/bl" 16M
	dmesg -C
	"$UBLK" add -t loop --bpf loop --bpf-bad-fd "$TMP/bl" > "$WORK/add.out" 2> "$WORK/add.err"
	st=$?
	msg_file "$WORK/add.err"
	[ $st != 0 ] || { msg "add succeeded"; return 1; }
	grep -qE '^ublk: START_DEV \(dev [0-9]+\): Bad file descriptor$' "$WORK/add.err" ||
		{ msg "no START_DEV EBADF reported"; return 1; }
	dmesg | grep -qE 'ublk[0-9]+: BPF file 0: fd 999999 is not open' ||
		{ msg "the kernel did not log the descriptor"; return 1; }
	wait_for 10 test -z "$(ublk_ids)" || { msg "device left: $(ublk_ids)"; return 1; }
	rm -f "$TMP/bl"
}

# t_bpf_not_a_file: a FIFO, then a character device, as file 0 of the BPF
# loop target (--bpf-file0): START_DEV fails with EINVAL, since bpf aio binds
# only regular files and block devices (a read of a FIFO may wait for ever,
# and the device's removal waits for every aio); the kernel names the
# descriptor, no device is left.  A writer feeds the FIFO meanwhile, so that
# a kernel without the check serves the partition scan's reads (and fails
# the test) instead of hanging in START_DEV.
t_bpf_not_a_file() {
	local st wpid rc=0 f
	mkfile "$TMP/bl" 16M
	rm -f "$TMP/fifo"
	mkfifo "$TMP/fifo" || { msg "mkfifo failed"; return 1; }
	for f in "$TMP/fifo" /dev/zero; do
		wpid=
		if [ "$f" = "$TMP/fifo" ]; then
			head -c 64M /dev/zero > "$f" 2> /dev/null &
			wpid=$!
		fi
		dmesg -C
		"$UBLK" add -t loop --bpf loop --bpf-file0 "$f" "$TMP/bl" \
			> "$WORK/add.out" 2> "$WORK/add.err"
		st=$?
		[ -n "$wpid" ] && { kill "$wpid" 2> /dev/null; wait "$wpid" 2> /dev/null; }
		msg_file "$WORK/add.err"
		if [ $st = 0 ]; then
			msg "$f: add succeeded ($(cat "$WORK/add.out"))"
			"$UBLK" del -a
			rc=1
		elif ! grep -qE '^ublk: START_DEV \(dev [0-9]+\): Invalid argument$' \
			"$WORK/add.err"; then
			msg "$f: no START_DEV EINVAL reported"
			rc=1
		fi
		dmesg | grep -qE 'ublk[0-9]+: BPF file 0: fd [0-9]+ is neither a regular file nor a block device$' ||
			{ msg "$f: the kernel did not log the descriptor"; rc=1; }
		wait_for 10 test -z "$(ublk_ids)" || { msg "$f: device left: $(ublk_ids)"; rc=1; }
	done
	rm -f "$TMP/bl" "$TMP/fifo"
	return $rc
}

# t_bpf_id_twice: a second registration of an id in use fails (EEXIST)
# before its device starts; the first device still serves through BPF
t_bpf_id_twice() {
	local rc=0 st h
	add -t null --size 16M --bpf null --bpf-id 77 || return 1
	"$UBLK" add -t null --bpf null --bpf-id 77 > "$WORK/add2.out" 2> "$WORK/add2.err"
	st=$?
	msg_file "$WORK/add2.err"
	if [ $st = 0 ]; then
		msg "the second add succeeded"
		rc=1
	elif ! grep -q 'bpf: .*ublk_null.bpf.o: File exists$' "$WORK/add2.err"; then
		msg "no EEXIST reported for the second registration"
		rc=1
	fi
	h=$(bstat "$ID" handled)
	region_dd "$DEV" 0 4096 || { msg "read: $DD_ERR"; rc=1; }
	[ "$(bstat "$ID" handled)" = $((h + 1)) ] || { msg "the first device's read was not BPF's"; rc=1; }
	del_dev "$ID" "$SRV" || rc=1
	return $rc
}

bpf_detached() { [ "$(bstat "$1" attached)" = 0 ]; }

# t_bpf_unregister [PROG]: the ops are unregistered (SIGRTMIN to the
# server) while fio writes and verifies (and, with mixed, reads of
# never-written chunks) run: no I/O fails, all later I/O is the
# server's, the data stays right.  With loop, both ops (ublk_bpf_ops and
# bpf_aio_complete_ops) go with aios in flight: those complete.
t_bpf_unregister() {
	local rc=0 fio_pid h r h2 r2
	mkfile "$TMP/mixed" 32M
	add -t loop -q 2 --bpf "${1:-mixed}" "$TMP/mixed" || return 1
	dmesg -C
	fio --output="$WORK/fio.out" --thread --direct=1 --ioengine=io_uring \
		--filename="$DEV" --rw=randrw --randrepeat=0 --size=32M \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 \
		--name=a --bs=4k --iodepth=16 --io_size=2M \
		> "$WORK/fio.err" 2>&1 &
	fio_pid=$!
	BG_PIDS="$BG_PIDS $fio_pid"
	# fio takes seconds to start under TCG
	wait_for 30 bstat_past "$ID" handled 50
	kill -RTMIN "$SRV"
	wait_for 10 bpf_detached "$ID" ||
		{ msg "still attached 10 s after SIGRTMIN"; rc=1; }
	wait "$fio_pid" || { msg "fio failed:"; msg_file "$WORK/fio.err"; rc=1; }
	read -r h r _ <<< "$(bstats "$ID")"
	msg "at unregister: handled $h, redirected $r"
	[ "$h" -gt 0 ] || { msg "BPF handled nothing before unregistering"; rc=1; }
	cmp "$DEV" "$TMP/mixed" > "$WORK/cmp.out" 2>&1 ||
		{ msg "the device does not read as its file:"; msg_file "$WORK/cmp.out"; rc=1; }
	read -r h2 r2 _ <<< "$(bstats "$ID")"
	[ "$h2 $r2" = "$h $r" ] || { msg "BPF still ran after unregistering: $h $r -> $h2 $r2"; rc=1; }
	dmesg | grep -qE "ublk$ID: BPF ops $ID unregistered, I/O goes to the server" ||
		{ msg "the kernel did not log the unregistration"; rc=1; }
	del_dev "$ID" "$SRV" || rc=1
	rm -f "$TMP/mixed"
	return $rc
}

# srv_logged ID LINE: the server of device ID logged LINE
srv_logged() { grep -qF -- "$2" "$UBLK_RUN_DIR/ublk$1.log"; }

# t_bpf_eject: progs/ublk_loop_eject.bpf.c ejects its device with
# ublk_bpf_eject() at the write that starts at 32 MiB and redirects it:
# the server serves that write and all later I/O, exit_reason has the
# program's reason, the kernel and the server log it, the BPF counters
# stop, and the device and its file hold every byte written.
t_bpf_eject() {
	local rc=0 h r h2 r2 a e
	local want="ejected by BPF: marker I/O at sector 65536"
	mkfile "$TMP/eject" 64M
	add -t loop -q 1 --bpf loop_eject "$TMP/eject" || return 1
	dmesg -C
	read -r a e <<< "$(bcounters "$ID" attached exit_reason)"
	[ "$a" = 1 ] && [ -z "$e" ] ||
		{ msg "before the marker: attached '$a', exit_reason '$e'"; rc=1; }
	pattern "$WORK/e" 4M
	# 64k writes, each one I/O: 16 at 31 MiB (BPF's), the marker at
	# 32 MiB, 47 after it (the server's)
	dd if="$WORK/e" of="$DEV" bs=64k count=16 seek=496 oflag=direct \
		status=none || { msg "the writes before the marker failed"; rc=1; }
	read -r h r _ <<< "$(bstats "$ID")"
	[ "$h" -ge 16 ] || { msg "BPF handled $h of the 16 writes before the marker"; rc=1; }
	dd if="$WORK/e" of="$DEV" bs=64k count=1 skip=16 seek=512 oflag=direct \
		status=none || { msg "the marker write failed"; rc=1; }
	wait_for 10 bpf_detached "$ID" ||
		{ msg "still attached 10 s after the marker write"; rc=1; }
	e=$(bstat "$ID" exit_reason)
	[ "$e" = "$want" ] || { msg "exit_reason '$e', not '$want'"; rc=1; }
	read -r h r _ <<< "$(bstats "$ID")"
	dd if="$WORK/e" of="$DEV" bs=64k count=47 skip=17 seek=513 oflag=direct \
		status=none || { msg "the writes after the marker failed"; rc=1; }
	cmp -n 4194304 "$WORK/e" <(dd if="$DEV" bs=1M skip=31 count=4 iflag=direct status=none) \
		> "$WORK/cmp.out" 2>&1 ||
		{ msg "the device does not read what was written:"; msg_file "$WORK/cmp.out"; rc=1; }
	read -r h2 r2 _ <<< "$(bstats "$ID")"
	[ "$h2 $r2" = "$h $r" ] || { msg "BPF still ran after the eject: $h $r -> $h2 $r2"; rc=1; }
	dmesg | grep -qF "ublk$ID: BPF ops $ID ejected: $want; I/O goes to the server" ||
		{ msg "the kernel did not log the eject"; rc=1; }
	wait_for 5 srv_logged "$ID" "dev $ID: BPF ops detached ($want): the server serves every I/O" ||
		{ msg "the server did not log the eject:"; msg_file "$UBLK_RUN_DIR/ublk$ID.log"; rc=1; }
	del_dev "$ID" "$SRV" || rc=1
	cmp -n 4194304 "$WORK/e" <(dd if="$TMP/eject" bs=1M skip=31 count=4 status=none) \
		> "$WORK/cmp.out" 2>&1 ||
		{ msg "the file does not hold what was written:"; msg_file "$WORK/cmp.out"; rc=1; }
	rm -f "$TMP/eject"
	return $rc
}

# no_inflight ID: no request in flight on ublkbID
no_inflight() { [[ $(< "/sys/block/ublkb$1/inflight") =~ ^\ *0\ +0$ ]]; }

# t_bpf_timeout: the BPF loop target over a null_blk whose every I/O takes
# 4 s (memory-backed, timer completions), the ublk queue's io_timeout
# 1 s: the read BPF owns times out, the kernel ejects the device with the
# request's queue and tag, the read still ends with the data of its aio
# (no I/O lost, none failed), and the next read is the server's.
t_bpf_timeout() {
	local rc=0 nb=/sys/kernel/config/nullb/ublkslow h t h2 t2 e
	local re='^timeout: queue 0 tag [0-9]+: BPF-owned I/O not done after 1000 ms$'
	mkdir "$nb" && echo 64 > "$nb/size" && echo 1 > "$nb/memory_backed" &&
		echo 2 > "$nb/irqmode" && echo 4000000000 > "$nb/completion_nsec" &&
		echo 1 > "$nb/power" && wait_for 10 test -b /dev/ublkslow ||
		{ msg "cannot create a slow memory-backed null_blk (configfs)"; rmdir "$nb" 2> /dev/null; return 1; }
	pattern "$WORK/s" 128k
	dd if="$WORK/s" of=/dev/ublkslow bs=128k count=1 oflag=direct status=none ||
		{ msg "cannot write the pattern to /dev/ublkslow"; rc=1; }
	# the partition scan of add reads through BPF, 4 s an I/O
	if add -t loop -q 1 --bpf loop /dev/ublkslow; then
		# udev's probe reads of the new disk, 4 s each, done first
		udevadm settle 2> /dev/null
		wait_for 60 no_inflight "$ID" || { msg "ublkb$ID still busy 60 s after add"; rc=1; }
		echo 1000 > "/sys/block/ublkb$ID/queue/io_timeout" ||
			{ msg "cannot set io_timeout"; rc=1; }
		read -r h t <<< "$(bcounters "$ID" handled timeouts)"
		dd if="$DEV" of="$WORK/r" bs=4k count=1 iflag=direct status=none 2> "$WORK/dd.err" ||
			{ msg "the BPF-owned read failed: $(< "$WORK/dd.err")"; rc=1; }
		cmp -n 4096 "$WORK/s" "$WORK/r" > "$WORK/cmp.out" 2>&1 ||
			{ msg "the BPF-owned read did not return the data:"; msg_file "$WORK/cmp.out"; rc=1; }
		read -r h2 t2 <<< "$(bcounters "$ID" handled timeouts)"
		[ "$h2" = $((h + 1)) ] && [ "$t2" -ge $((t + 1)) ] ||
			{ msg "handled $h -> $h2, timeouts $t -> $t2: not one more each"; rc=1; }
		wait_for 10 bpf_detached "$ID" || { msg "still attached after the timeout"; rc=1; }
		e=$(bstat "$ID" exit_reason)
		[[ $e =~ $re ]] || { msg "exit_reason '$e', not /$re/"; rc=1; }
		wait_for 5 srv_logged "$ID" "dev $ID: BPF ops detached ($e): the server serves every I/O" ||
			{ msg "the server did not log the timeout:"; msg_file "$UBLK_RUN_DIR/ublk$ID.log"; rc=1; }
		dd if="$DEV" of="$WORK/r" bs=4k count=1 skip=16 iflag=direct status=none ||
			{ msg "the read after the eject failed"; rc=1; }
		cmp -n 4096 <(tail -c +65537 "$WORK/s") "$WORK/r" > "$WORK/cmp.out" 2>&1 ||
			{ msg "the server's read did not return the data:"; msg_file "$WORK/cmp.out"; rc=1; }
		[ "$(bstat "$ID" handled)" = "$h2" ] || { msg "BPF handled a read after the eject"; rc=1; }
		del_dev "$ID" "$SRV" || rc=1
	else
		rc=1
	fi
	echo 0 > "$nb/power" && rmdir "$nb" || { msg "cannot remove /dev/ublkslow"; rc=1; }
	return $rc
}

# t_bpf_refused OBJ: the verifier refuses progs/ublk_OBJ.bpf.c with its
# message in the log; add fails and leaves no device
t_bpf_refused() {
	local st
	case $1 in
	bad_null_io)	set -- "$1" "Possibly NULL pointer passed to trusted arg0" ;;
	bad_prog_type)	set -- "$1" "calling kernel function ublk_bpf_get_dev_id is not allowed" ;;
	bad_sleepable)	set -- "$1" "attach to unsupported member queue_io_cmd of struct ublk_bpf_ops" ;;
	bad_aio_leak)	set -- "$1" "^ublk: bpf: Unreleased reference id=[0-9]+ alloc_insn=[0-9]+$" ;;
	bad_aio_prog_type) set -- "$1" "calling kernel function bpf_aio_alloc is not allowed" ;;
	esac
	"$UBLK" add -t null --bpf "$1" > "$WORK/add.out" 2> "$WORK/add.err"
	st=$?
	[ $st != 0 ] || { msg "add succeeded"; return 1; }
	if ! grep -qE "$2" "$WORK/add.err"; then
		msg "no '$2' in what add printed:"
		msg_file "$WORK/add.err"
		return 1
	fi
	msg "$(grep -E "$2" "$WORK/add.err" | head -1)"
	wait_for 10 test -z "$(ublk_ids)" || { msg "device left: $(ublk_ids)"; return 1; }
}

# astats ID: aio_submitted aio_completed aio_wq aio_errors, one line
astats() { bcounters "$1" aio_submitted aio_completed aio_wq aio_errors; }

# aios_settled ID: every aio submitted has completed (an I/O ends in its
# last aio's callback, before that aio is counted as completed)
aios_settled() {
	local as ac
	read -r as ac <<< "$(bcounters "$1" aio_submitted aio_completed)"
	[ "$as" = "$ac" ]
}

# bpf_aio_check ID MIN [FILES]: every I/O of the device so far was BPF's
# through its aios: at least MIN handled, nothing redirected, no error;
# one aio per piece (handled + split) and FILES - 1 more per flush (an
# fsync of each file), all completed; a device of one file (loop) never
# split; the block layer's count of reads and writes no more than what
# BPF handled (the server saw none)
bpf_aio_check() {
	local n=${3:-1} h r s e as ac aw ae rd wr fl want rc=0
	wait_for 5 aios_settled "$1"
	read -r h r s e <<< "$(bstats "$1")"
	read -r as ac aw ae <<< "$(astats "$1")"
	read -r rd _ _ _ wr _ _ _ _ _ _ _ _ _ _ fl _ < "/sys/block/ublkb$1/stat"
	want=$((h + s + (n - 1) * fl))
	msg "handled $h, redirected $r, split $s, errors $e; aio submitted $as, completed $ac, workqueue $aw, errors $ae; block layer: $rd reads, $wr writes, $fl flushes"
	if [ "$h" -lt "$2" ] || [ "$r" != 0 ] || [ "$e" != 0 ] || [ "$ae" != 0 ] ||
	   [ "$as" != "$want" ] || [ "$ac" != "$want" ] || [ $((rd + wr)) -gt "$h" ] ||
	   { [ "$n" = 1 ] && [ "$s" != 0 ]; }; then
		msg "not every I/O done by BPF, one aio per piece ($want expected)"
		rc=1
	fi
	return $rc
}

# bpf_files_done TARGET MIN FILES...: the device reads as its files (loop:
# the file; stripe, 64K chunks, and concat: as the layout says), and
# bpf_aio_check MIN
bpf_files_done() {
	local tgt=$1 min=$2 rc=0
	shift 2
	case $tgt in
	loop)
		cmp "$DEV" "$1" > "$WORK/cmp.out" 2>&1 ||
			{ msg "the device does not read as its file:"; msg_file "$WORK/cmp.out"; rc=1; } ;;
	*)
		[ "$tgt" = stripe ] && tgt=stripe:65536 || tgt=concat:512
		$LAYOUT compare "$tgt" "$DEV" "$@" > "$WORK/layout.out" || rc=1
		msg_file "$WORK/layout.out" ;;
	esac
	bpf_aio_check "$ID" "$min" $# || rc=1
	return $rc
}

# bpf_loop_fio JOBS...: fio random writes verified (crc32c) on $DEV, one
# job per BS:QD:BYTES, one after the other
bpf_loop_fio() {
	local args=() j bs qd size prev=
	for j in "$@"; do
		IFS=: read -r bs qd size <<< "$j"
		args+=(--name="$bs-qd$qd" --bs="$bs" --iodepth="$qd" --io_size="$size")
		[ -n "$prev" ] && args+=(--wait_for="$prev")
		prev=$bs-qd$qd
	done
	fio --output="$WORK/fio.out" --thread --direct=1 --ioengine=io_uring \
		--filename="$DEV" --rw=randwrite --randrepeat=0 --size=16M \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 \
		"${args[@]}" > "$WORK/fio.err" 2>&1 ||
		{ msg "fio failed:"; msg_file "$WORK/fio.err"; msg_file "$WORK/fio.out"; return 1; }
}

# t_bpf_loop QUEUES: the loop target wholly in BPF (aios from
# ->queue_rq()): fio verify at 4k and 512k, QD 1 and 32; the device
# equals its file; every I/O BPF's
t_bpf_loop() {
	local rc=0
	mkfile "$TMP/bl" 16M
	add -t loop -q "$1" --bpf loop "$TMP/bl" || return 1
	bpf_loop_fio 4k:1:128k 4k:32:512k 512k:1:2M 512k:32:8M || rc=1
	# 32 + 128 + 4 + 16 writes and their verify reads
	bpf_files_done loop 360 "$TMP/bl" || rc=1
	del_dev "$ID" "$SRV" || rc=1
	rm -f "$TMP/bl"
	return $rc
}

# bpf_ext4 SIZE: an ext4 over the kernel loop driver at $WORK/ext4 (a
# file system with IOCB_NOWAIT, which tmpfs has not)
bpf_ext4() {
	mkfile "$TMP/ext4.img" "$1"
	mkdir -p "$WORK/ext4"
	LOOPDEV=$(losetup -f --show "$TMP/ext4.img") &&
		mkfs.ext4 -q -F -b 4096 "$LOOPDEV" && mount "$LOOPDEV" "$WORK/ext4"
}

bpf_ext4_end() {
	umount "$WORK/ext4" && losetup -d "$LOOPDEV" && LOOPDEV=
	rm -f "$TMP/ext4.img"
}

# t_bpf_loop_daemon: the loop target from a sleepable
# queue_io_cmd_daemon, on a file of ext4: fio verify, the device equals
# its file, reads and writes done inline (IOCB_NOWAIT): fewer aios on the
# workqueue than submitted
t_bpf_loop_daemon() {
	local rc=0 as aw f=$WORK/ext4/bl
	bpf_ext4 64M || return 1
	pattern "$f" $((16 << 20))
	add -t loop --bpf loop_daemon "$f" || { bpf_ext4_end; return 1; }
	bpf_loop_fio 4k:32:512k 512k:1:2M || rc=1
	bpf_files_done loop 272 "$f" || rc=1
	read -r as _ aw _ <<< "$(astats "$ID")"
	if [ "$aw" -ge "$as" ]; then
		msg "no aio done inline: $aw of $as on the workqueue"
		rc=1
	fi
	del_dev "$ID" "$SRV" || rc=1
	bpf_ext4_end || rc=1
	return $rc
}

# t_bpf_loop_mkfs: ext4 on the BPF loop target: files, checksums after
# drop_caches, umount, e2fsck, the device equals its backing file
t_bpf_loop_mkfs() {
	local rc=0 i
	mkfile "$TMP/bl" 64M
	add -t loop --bpf loop "$TMP/bl" || return 1
	mkdir -p "$WORK/mnt"
	if ! mkfs.ext4 -q -F "$DEV" > "$WORK/mkfs.out" 2>&1 || ! mount "$DEV" "$WORK/mnt"; then
		msg "mkfs.ext4 or mount failed:"; msg_file "$WORK/mkfs.out"
		del_dev "$ID" "$SRV"
		return 1
	fi
	for i in 1 2 3 4; do pattern "$WORK/mnt/f$i" $((i << 20)); done
	(cd "$WORK/mnt" && md5sum f1 f2 f3 f4) > "$WORK/sums"
	sync
	echo 3 > /proc/sys/vm/drop_caches
	(cd "$WORK/mnt" && md5sum -c --quiet "$WORK/sums") > "$WORK/sums.out" 2>&1 ||
		{ msg "checksums differ:"; msg_file "$WORK/sums.out"; rc=1; }
	umount "$WORK/mnt" || rc=1
	e2fsck -f -n "$DEV" > "$WORK/fsck.out" 2>&1 ||
		{ msg "e2fsck:"; msg_file "$WORK/fsck.out"; rc=1; }
	bpf_files_done loop 100 "$TMP/bl" || rc=1
	del_dev "$ID" "$SRV" || rc=1
	rm -f "$TMP/bl"
	return $rc
}

# t_bpf_loop_ops: a direct write and its fsync are two I/Os of BPF (the
# flush an fsync aio); discard and write-zeroes punch the backing file,
# which then reads zeroes there, and nothing else changed
t_bpf_loop_ops() {
	local rc=0 before after h
	pattern "$TMP/bl" $((8 << 20))
	cp "$TMP/bl" "$WORK/orig"
	add -t loop --bpf loop "$TMP/bl" || return 1
	before=$(bstats_settled "$ID")
	dd if=/dev/urandom of="$WORK/w" bs=4k count=1 status=none
	dd if="$WORK/w" of="$DEV" bs=4k count=1 seek=1 oflag=direct conv=fsync,notrunc status=none || rc=1
	after=$(bstats "$ID")
	msg "a 4k direct write and fsync: handled ${before%% *} -> ${after%% *}"
	[ "$((${after%% *} - ${before%% *}))" = 2 ] || { msg "not 2 I/Os (the write and the flush)"; rc=1; }
	cmp -n 4096 -i 0:4096 "$WORK/w" "$TMP/bl" || { msg "the write is not in the file"; rc=1; }
	dd if="$WORK/w" of="$WORK/orig" bs=4k count=1 seek=1 conv=notrunc status=none
	blkdiscard -o $((1 << 20)) -l $((1 << 20)) "$DEV" || { msg "blkdiscard failed"; rc=1; }
	blkdiscard -z -o $((4 << 20)) -l $((1 << 20)) "$DEV" || { msg "blkdiscard -z failed"; rc=1; }
	zeroes "$TMP/bl" $((1 << 20)) $((1 << 20)) || rc=1
	zeroes "$TMP/bl" $((4 << 20)) $((1 << 20)) || rc=1
	dd if=/dev/zero of="$WORK/orig" bs=1M count=1 seek=1 conv=notrunc status=none
	dd if=/dev/zero of="$WORK/orig" bs=1M count=1 seek=4 conv=notrunc status=none
	cmp "$WORK/orig" "$TMP/bl" > "$WORK/cmp.out" 2>&1 ||
		{ msg "the file changed outside the discarded ranges:"; msg_file "$WORK/cmp.out"; rc=1; }
	h=$(holes "$TMP/bl")
	msg "(hole,data) from 0 and 4M: $h"
	[ "$h" = "$((1 << 20)),0 $((4 << 20)),$((5 << 20))" ] || { msg "not punched"; rc=1; }
	bpf_aio_check "$ID" 4 || rc=1
	del_dev "$ID" "$SRV" || rc=1
	rm -f "$TMP/bl" "$WORK/orig"
	return $rc
}

# bpf_eio_read REGION BYTES DELTA: on $DEV, a direct read of BYTES at the
# start of REGION (region_dd) fails with EIO, and the counters "handled
# redirected split errors aio_submitted aio_completed aio_errors" of $ID
# grow by exactly DELTA (seven numbers)
bpf_eio_read() {
	local rc=0 i b a d want=
	read -ra b <<< "$(bstats_settled "$ID") $(bcounters "$ID" aio_submitted aio_completed aio_errors)"
	region_eio "$DEV" "$1" "$2" || rc=1
	wait_for 5 aios_settled "$ID"
	read -ra a <<< "$(bcounters "$ID" handled redirected split errors aio_submitted aio_completed aio_errors)"
	read -ra d <<< "$3"
	for ((i = 0; i < 7; i++)); do want="$want $((b[i] + d[i]))"; done
	msg "handled redirected split errors, aio submitted completed errors: ${b[*]} -> ${a[*]}"
	if [ "${a[*]}" != "${want# }" ]; then
		msg "expected${want}"
		rc=1
	fi
	return $rc
}

# t_bpf_loop_badidx: a program naming file 3 of a device with one: the
# read fails with EIO, its aio with EBADF, both counted as errors
t_bpf_loop_badidx() {
	local rc=0
	mkfile "$TMP/bl" 8M
	add -t loop --bpf loop_badidx "$TMP/bl" || return 1
	dmesg -C
	# one more I/O error, one more aio submitted, completed and failed
	bpf_eio_read 2 4096 "0 0 0 1 1 1 1" || rc=1
	dmesg | grep -qE "ublk$ID: queue 0 tag [0-9]+: bpf aio \(op 0\) failed: -9$" ||
		{ msg "the kernel did not log the aio's EBADF"; rc=1; }
	del_dev "$ID" "$SRV" || rc=1
	rm -f "$TMP/bl"
	return $rc
}

# t_bpf_loop_del: ublk del while fio keeps 32 512k writes in flight: the
# device is gone within 10 s, every aio completed, no splat
t_bpf_loop_del() {
	local rc=0 fio_pid t0
	mkfile "$TMP/bl" 32M
	add -t loop --bpf loop "$TMP/bl" || return 1
	fio --output="$WORK/fio.out" --thread --direct=1 --ioengine=io_uring \
		--filename="$DEV" --rw=randwrite --size=32M --bs=512k --iodepth=32 \
		--time_based --runtime=60 --name=w > "$WORK/fio.err" 2>&1 &
	fio_pid=$!
	BG_PIDS="$BG_PIDS $fio_pid"
	# fio takes seconds to start under TCG
	wait_for 30 bstat_past "$ID" aio_submitted 64 ||
		{ msg "fio submitted no more than 64 aios in 30 s"; rc=1; }
	msg "aios before del: $(astats "$ID")"
	t0=$(now)
	del_dev "$ID" "$SRV" || rc=1
	msg "ublk del took $(since "$t0") s"
	[ $(($(now) - t0)) -le 1000 ] || { msg "more than 10 s"; rc=1; }
	wait_for 10 gone "$fio_pid" || { msg "fio still runs"; kill -9 "$fio_pid"; rc=1; }
	wait "$fio_pid" 2>/dev/null
	rm -f "$TMP/bl"
	return $rc
}

# bpf_data_check KEY: after the data phase's fio and layout check (of
# the 1-queue devices), the BPF device of data test KEY
# (TARGET-bpf-QUEUES, run.sh) had every I/O BPF's, one aio per piece
# (FIO_SIZES: 124 writes and their verify reads), and was split at least
# as its layout makes fio's I/Os: stripe 7 times for each of the 36
# 512k written and 36 read; concat (files of 8M - 4K and 8M + 4K) once
# for the 512k write of [7.5M, 8M), which the 512k QD 32 job (the whole
# device once) has, and once for its verify read
bpf_data_check() {
	local min=2 s
	[[ $1 == stripe-* ]] && min=504
	bpf_aio_check "$ID" 248 2 || return 1
	s=$(bstat "$ID" split)
	[ "$s" -ge "$min" ] || { msg "split $s times, not at least $min"; return 1; }
}

# t_bpf_split_files TARGET LAYOUT SIZES IOS [ADD ARGS...]: TARGET wholly
# in BPF over files of SIZES (comma-separated) with random data; each
# I/O of IOS (OFFSET:BYTES:PIECES, comma-separated; one direct I/O each)
# written with new random bytes, then all read back; each read equal to
# the image expected (the files assembled as LAYOUT says before the
# start, each write applied in turn); the counters grew by exactly the
# I/Os (handled), their pieces less one each (split) and one aio per
# piece; the device read whole equals the image; after the device is
# deleted, the files assembled again equal it byte for byte
t_bpf_split_files() {
	local tgt=$1 layout=$2 files=() sz io off len n i=0 rc=0
	local nio=0 pieces=0 h r s e as ac h2 r2 s2 e2 as2 ac2
	local -a sizes ios
	IFS=, read -ra sizes <<< "$3"
	IFS=, read -ra ios <<< "$4"
	shift 4
	for sz in "${sizes[@]}"; do
		pattern "$TMP/bf$i" "$sz"
		files+=("$TMP/bf$i")
		i=$((i + 1))
	done
	$LAYOUT assemble "$layout" "$WORK/img" "${files[@]}" > /dev/null || return 1
	add -t "$tgt" "$@" --bpf "$tgt" "${files[@]}" || return 1
	read -r h r s e <<< "$(bstats_settled "$ID")"
	read -r as ac _ <<< "$(astats "$ID")"
	# the bytes of write k: k MiB into one file of random bytes
	pattern "$WORK/w" $((${#ios[@]} << 20))
	for io in "${ios[@]}"; do
		IFS=: read -r off len n <<< "$io"
		dd if="$WORK/w" of="$DEV" bs="$len" count=1 skip=$((nio << 20)) seek="$off" \
			iflag=skip_bytes oflag=direct,seek_bytes status=none 2> "$WORK/dd.err" ||
			{ msg "write of $len at $off:"; msg_file "$WORK/dd.err"; rc=1; }
		dd if="$WORK/w" of="$WORK/img" bs="$len" count=1 skip=$((nio << 20)) seek="$off" \
			iflag=skip_bytes oflag=seek_bytes conv=notrunc status=none
		nio=$((nio + 1)) pieces=$((pieces + n))
	done
	for io in "${ios[@]}"; do
		IFS=: read -r off len n <<< "$io"
		dd if="$DEV" of="$WORK/r" bs="$len" count=1 skip="$off" \
			iflag=direct,skip_bytes status=none 2> "$WORK/dd.err" ||
			{ msg "read of $len at $off:"; msg_file "$WORK/dd.err"; rc=1; }
		cmp -n "$len" -i "0:$off" "$WORK/r" "$WORK/img" > "$WORK/cmp.out" 2>&1 ||
			{ msg "read of $len at $off (device offset + byte):"; msg_file "$WORK/cmp.out"; rc=1; }
	done
	wait_for 5 aios_settled "$ID"
	read -r h2 r2 s2 e2 <<< "$(bstats "$ID")"
	read -r as2 ac2 _ <<< "$(astats "$ID")"
	msg "$nio writes and $nio reads in $pieces pieces each way: handled $h -> $h2, split $s -> $s2, aio submitted $as -> $as2, completed $ac -> $ac2"
	if [ "$h2 $r2 $s2 $e2" != "$((h + 2 * nio)) $r $((s + 2 * (pieces - nio))) $e" ] ||
	   [ "$r2 $e2" != "0 0" ] ||
	   [ "$as2 $ac2" != "$((as + 2 * pieces)) $((ac + 2 * pieces))" ]; then
		msg "expected handled +$((2 * nio)), split +$((2 * (pieces - nio))), aios +$((2 * pieces)), nothing redirected, no error"
		rc=1
	fi
	cmp "$DEV" "$WORK/img" > "$WORK/cmp.out" 2>&1 ||
		{ msg "the device does not read as the image:"; msg_file "$WORK/cmp.out"; rc=1; }
	del_dev "$ID" "$SRV" || rc=1
	$LAYOUT assemble "$layout" "$WORK/files" "${files[@]}" > "$WORK/asm.out" || rc=1
	msg_file "$WORK/asm.out"
	cmp "$WORK/files" "$WORK/img" > "$WORK/cmp.out" 2>&1 ||
		{ msg "after del, the files do not hold what was written:"; msg_file "$WORK/cmp.out"; rc=1; }
	rm -f "${files[@]}" "$WORK/img" "$WORK/files"
	return $rc
}

# t_bpf_split_badcont: the stripe program claiming 100 bytes more in
# CONTINUE than the 64K piece it queued: a 128K read fails with EIO once
# that piece's aio is done (submitted and completed, no aio error), one
# error, nothing handled or split, and the kernel says why; a 4K read (no
# CONTINUE) still succeeds with the file's data
t_bpf_split_badcont() {
	local rc=0 h
	pattern "$TMP/bs0" $((1 << 20))
	pattern "$TMP/bs1" $((1 << 20))
	add -t stripe --bpf stripe_badcont "$TMP/bs0" "$TMP/bs1" || return 1
	dmesg -C
	# one more I/O error, one more aio submitted and completed, no split
	bpf_eio_read 0 131072 "0 0 0 1 1 1 0" || rc=1
	h=$(bstat "$ID" handled)
	dmesg | grep -qF "ublk$ID: BPF ops $ID, queue 0 tag " ||
		{ msg "no message of the kernel for ublk$ID"; rc=1; }
	dmesg | grep -qF "CONTINUE byte count zero, not a multiple of 512 or past the end (returned 0x200010064, 0 of 131072 bytes taken): I/O failed" ||
		{ msg "the kernel did not log the bad CONTINUE:"; dmesg | tail -5 | while IFS= read -r l; do msg "$l"; done; rc=1; }
	region_dd "$DEV" 0 4096 || { msg "a 4K read: $DD_ERR"; rc=1; }
	cmp -s -n 4096 "$WORK/r" "$TMP/bs0" || { msg "the 4K read is not file 0's data"; rc=1; }
	[ "$(bstat "$ID" handled)" = $((h + 1)) ] || { msg "the 4K read was not BPF's"; rc=1; }
	del_dev "$ID" "$SRV" || rc=1
	rm -f "$TMP/bs0" "$TMP/bs1"
	return $rc
}

# t_bpf_split_refused: a stripe program on a concat device, and the loop
# program (bpf aio on file 0, no layout) on a stripe device, fail at load
# with a message and leave no device; concat of 9 files with --bpf is
# refused before ADD_DEV (the BPF parameter has room for 8)
t_bpf_split_refused() {
	local rc=0 i f=()
	for i in 0 1 2 3 4 5 6 7 8; do
		mkfile "$TMP/br$i" 1M
		f+=("$TMP/br$i")
	done
	bpf_add_fails "bpf: /.*/ublk_stripe\.bpf\.o is a program of the stripe target, not of concat" \
		-t concat --bpf stripe "${f[0]}" "${f[1]}" || rc=1
	bpf_add_fails "bpf: /.*/ublk_loop\.bpf\.o: bpf aio on file 0 only \(no layout\), not for the stripe target" \
		-t stripe --bpf loop "${f[0]}" "${f[1]}" || rc=1
	refused "ublk: concat: --bpf: at most 8 backing files (UBLK_BPF_MAX_FILES), 9 given" \
		add -t concat --bpf concat "${f[@]}" || rc=1
	rm -f "${f[@]}"
	return $rc
}

# bpf_add_fails REGEX ARGS...: `ublk add ARGS` fails, printing a line
# "ublk: " REGEX matches whole; no device is left
bpf_add_fails() {
	local want=$1 st
	shift
	"$UBLK" add "$@" > "$WORK/add.out" 2> "$WORK/add.err"
	st=$?
	if [ $st = 0 ] || ! grep -qxE "ublk: $want" "$WORK/add.err"; then
		msg "ublk add $*: exit status $st, stderr:"
		msg_file "$WORK/add.err"
		msg "expected: ublk: $want"
		return 1
	fi
	msg "$(grep -xE "ublk: $want" "$WORK/add.err")"
	wait_for 10 test -z "$(ublk_ids)" || { msg "device left: $(ublk_ids)"; return 1; }
}

bpf_tests() {
	t "bpf: UAPI: the parameter at byte 152; UBLK_F_BPF and the BPF parameter refused where invalid (EINVAL)::ctrl_test bpf"
	t "bpf: null target wholly in BPF, 1 queue: fio verify, every I/O BPF's::t_bpf_null 1"
	t "bpf: null target wholly in BPF, 2 queues: fio verify, every I/O BPF's::t_bpf_null 2"
	t "bpf: QUEUED read: completed by the program, reads zeroes::t_bpf_case null_read"
	t "bpf: QUEUED write: completed by the program::t_bpf_case null_write"
	t "bpf: REDIRECT from both callbacks: the server serves it::t_bpf_case redirect"
	t "bpf: REDIRECT to queue_io_cmd_daemon, completed there::t_bpf_case daemon"
	t "bpf: CONTINUE 512 bytes at a time on a 4K read::t_bpf_case continue_512"
	t "bpf: CONTINUE 4K at a time on a 64K write::t_bpf_case continue_4k"
	t "bpf: CONTINUE with 0 bytes: EIO::t_bpf_case continue_zero"
	t "bpf: CONTINUE with 100 bytes: EIO::t_bpf_case continue_odd"
	t "bpf: CONTINUE past the end: EIO::t_bpf_case continue_past"
	t "bpf: REDIRECT after part was taken: refused, EIO::t_bpf_case redirect_part"
	t "bpf: QUEUED without completing: EIO, no hang::t_bpf_case queued_nocomp"
	t "bpf: unknown disposition: EIO::t_bpf_case bad_disp"
	t "bpf: kfunc ublk_bpf_complete_io with more bytes than the I/O: EIO::t_bpf_case res_past"
	t "bpf: kfunc ublk_bpf_complete_io with -5000: EIO::t_bpf_case res_bad_errno"
	t "bpf: kfunc ublk_bpf_complete_io twice: the first result stands::t_bpf_case complete_twice"
	t "bpf: kfunc ublk_bpf_complete_io with -ENOSPC: the I/O gets ENOSPC::t_bpf_case enospc"
	t "bpf: kfuncs ublk_bpf_get_dev_id, get_queue_id, get_io_tag agree with the I/O::t_bpf_case kfuncs"
	t "bpf: the device of the cases deleted, its server exits::t_bpf_case_end"
	t "bpf: mixed over loop (copy, 2 queues): fio verify, device equals file, BPF and server both served::t_bpf_mixed 2 copy"
	t "bpf: mixed over loop (user copy, 1 queue): fio verify, device equals file::t_bpf_mixed 1 user_copy"
	t "bpf: handback over loop (copy, 2 queues): server maps and hands writes back (-EAGAIN), BPF does them; exact counters, fio verify, device equals file::t_bpf_handback 2 copy"
	t "bpf: handback over loop (user copy, 1 queue): the same with user copy::t_bpf_handback 1 user_copy"
	t "bpf: START_DEV with an unregistered ops id fails with ENOENT::t_bpf_unknown_id"
	t "bpf: an ops id registered twice: EEXIST, the first device still BPF's::t_bpf_id_twice"
	t "bpf: ops unregistered during fio verify: no I/O lost, the server takes over::t_bpf_unregister"
	t "bpf: verifier refuses ublk_bpf_complete_io(NULL)::t_bpf_refused bad_null_io"
	t "bpf: verifier refuses a ublk kfunc from a syscall program::t_bpf_refused bad_prog_type"
	t "bpf: verifier refuses a sleepable queue_io_cmd::t_bpf_refused bad_sleepable"
	t "bpf: loop target in BPF with bpf aio, 1 queue: fio verify 4k/512k QD1/QD32, device equals file, every I/O an aio::t_bpf_loop 1"
	t "bpf: loop target in BPF with bpf aio, 2 queues: fio verify 4k/512k QD1/QD32, device equals file, every I/O an aio::t_bpf_loop 2"
	t "bpf: loop target from a sleepable queue_io_cmd_daemon on ext4: fio verify, reads and writes inline (IOCB_NOWAIT)::t_bpf_loop_daemon"
	t "bpf: ext4 on the BPF loop target: checksums after drop_caches, e2fsck, device equals file::t_bpf_loop_mkfs"
	for tgt in stripe concat; do
		t "bpf: $tgt target in BPF with bpf aio, 1 queue: fio randwrite verified 4k/64k/512k QD 1/32 (data phase), device equals files, one aio per piece::t_data $tgt bpf 1"
		t "bpf: $tgt target in BPF with bpf aio, 2 queues: fio randwrite verified 4k/64k/512k QD 1/32 (data phase), one aio per piece::t_data $tgt bpf 2"
	done
	t "bpf: stripe in BPF over 3 files, 4K chunks: I/Os across chunks (a 512K one in 128 pieces) split by CONTINUE, the files hold what was written after del::t_bpf_split_files stripe stripe:4096 262144,262144,262144 4096:4096:1,18432:4096:2,65536:524288:128,774144:12288:3 --chunk 4K"
	t "bpf: concat in BPF of 3 files: I/Os across one and two file ends split by CONTINUE, the files hold what was written after del::t_bpf_split_files concat concat:512 1060864,503808,270336 4096:4096:1,1052672:65536:2,1056768:524288:3,1822720:12288:1,1560576:8192:2"
	t "bpf: ext4 on the BPF stripe target, files checked after drop_caches, every I/O BPF's::t_mkfs stripe bpf"
	t "bpf: stripe program with a CONTINUE byte count 100 more than its piece: EIO after its aio, counted::t_bpf_split_badcont"
	t "bpf: stripe and concat programs refused on the wrong target, and over more than 8 files::t_bpf_split_refused"
	t "bpf: BPF loop flush (fsync aio), discard and write-zeroes (punched, zeroes in the file)::t_bpf_loop_ops"
	t "bpf: aio on a file index the device does not have: EIO, counted::t_bpf_loop_badidx"
	t "bpf: START_DEV with a BPF file descriptor that is not open fails with EBADF::t_bpf_bad_fd"
	t "bpf: START_DEV with a FIFO or a character device as a BPF file fails with EINVAL::t_bpf_not_a_file"
	t "bpf: ublk del with 32 aios of 512k in flight: gone within 10 s::t_bpf_loop_del"
	t "bpf: BPF loop ops and aio ops unregistered during fio verify, aios in flight: no I/O lost, the server takes over::t_bpf_unregister loop"
	t "bpf: verifier refuses an aio neither submitted nor released (Unreleased reference)::t_bpf_refused bad_aio_leak"
	t "bpf: verifier refuses a bpf aio kfunc from a syscall program::t_bpf_refused bad_aio_prog_type"
	t "bpf: ublk_bpf_eject() at a marker write: the server serves it and all later I/O, exit_reason and both logs have the reason, data intact::t_bpf_eject"
	t "bpf: a BPF-owned read past the queue's io_timeout (null_blk backing, 4 s an I/O): device ejected with queue and tag, the read still returns its data, the next one is the server's::t_bpf_timeout"
}
