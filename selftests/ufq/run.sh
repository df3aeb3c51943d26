#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest selftests of the UFQ I/O scheduler (CONFIG_IOSCHED_UFQ), KTAP output.
#
# Devices: a memory-backed null_blk (configfs), a loop device on a tmpfs
# file, $TEST_DISK (virtio-blk) when given, and a slow memory-backed
# null_blk with a tiny queue depth, on which requests pile up in the
# scheduler so that merges happen; more devices for single tests (a null_blk
# with requeue injection, ublk devices...).
#
# Environment: KSRC (kernel tree, for ktap_helpers.sh), OUTPUT (built
# ufq_test), UFQ_BIN (tools/ufq_iosched's loaders; default
# build/ufq_iosched/bin next to $KSRC, where the harness builds them),
# TEST_DISK (optional).

DIR=$(dirname "$(readlink -f "$0")")
OUTPUT=${OUTPUT:-$DIR}
. "$DIR/common.sh"
. "$DIR/multiqueue.sh"

UFQ_TEST=$OUTPUT/ufq_test
# selftests/ublk's server, for requeues (--reissue)
UBLK=$OUTPUT/../ublk/ublk
UBLK_ID=
# tools/ufq_iosched's loaders, for ufq_prio (test 28)
UFQ_BIN=${UFQ_BIN:-$(dirname "$KSRC")/ufq_iosched/bin}
WORK=$(mktemp -d /tmp/ufq.XXXXXX)
CFS=/sys/kernel/config/nullb
NB=ufqnb0
MB=ufqmerge0
RQD=ufqrq0	# requeue injection (test 28)
LOOPDEV=
IODEVS=
DEVS=
LOADER_PID=
WDT_OLD=

cleanup() {
	[ -n "$LOADER_PID" ] && kill "$LOADER_PID" 2>/dev/null && wait "$LOADER_PID" 2>/dev/null
	[ -n "$WDT_OLD" ] && echo "$WDT_OLD" > "$UFQ_WATCHDOG"
	nullb_destroy ufqstall0 2>/dev/null
	nullb_destroy $RQD 2>/dev/null
	[ -n "$UBLK_ID" ] && "$UBLK" del -n "$UBLK_ID" 2>/dev/null
	ufq_teardown_devices $NB $MB
	rm -rf "$WORK"
}
trap cleanup EXIT

# sub_test NAME: run "ufq_test NAME" into $WORK/NAME.out and .err, its
# exit status in ST, and print both
sub_test() {
	"$UFQ_TEST" "$1" > "$WORK/$1.out" 2> "$WORK/$1.err"
	ST=$?
	msg "$1: status $ST: $(cat "$WORK/$1.out" "$WORK/$1.err" | tr '\n' ' ' | cut -c1-400)"
}

# ublk_field LINE KEY: VALUE of " KEY=VALUE" in a line of `ublk list`
ublk_field() { [[ " $1 " =~ \ $2=([^ ]*)\  ]] && echo "${BASH_REMATCH[1]}"; }
# ublk_held N: the server of device $UBLK_ID holds N requests
ublk_held() { [ "$("$UBLK" list -v -n "$UBLK_ID" | grep -c 'state=held')" = "$1" ]; }

# timed CMD: run CMD in a shell, print how long it took in ms, or "failed"
timed() {
	sh -c 's=$(date +%s%N); '"$1"' || { echo failed; exit 1; }
		echo $((($(date +%s%N) - s) / 1000000))'
}

# wait_done PID SECS WHAT: true if PID exits within SECS (its status is in
# DONE_ST); else turn the watchdog on (1 s), so that the kernel ejects the
# stall scheduler and PID finishes, and fail
wait_done() {
	local pid=$1 i
	for i in $(seq $(($2 * 10))); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $pid 2>/dev/null; then
		msg "$3 still waits after $2 s: the freeze waits for BPF"
		echo 1000 > $UFQ_WATCHDOG
		wait $pid
		return 1
	fi
	wait $pid
	DONE_ST=$?
}

# wait_stat DEV NAME MIN SECS: until debugfs counter NAME of DEV >= MIN
wait_stat() {
	local i
	for i in $(seq $(($4 * 10))); do
		[ "$(ufq_stat $1 $2)" -ge $3 ] && return 0
		sleep 0.1
	done
	msg "$1: $2 is $(ufq_stat $1 $2) after $4 s, not $3"
	return 1
}

ktap_print_header

ufq_prepare || skip_area_or_fail "CONFIG_IOSCHED_UFQ is not enabled"

# $MB: requests wait in the scheduler, so that merges happen
ufq_setup_devices $NB $MB
DEVS="$IODEVS $MB"
ndev=$(echo $IODEVS | wc -w)

ktap_set_plan $((1 + 2 * ndev + 26))

# 1. ufq is offered and selectable on every device
rc=0
for d in $DEVS; do
	if ! ufq_set_sched $d ufq; then
		msg "$d: $(cat /sys/block/$d/queue/scheduler)"
		rc=1
	fi
done
ktap_result $rc "ufq selectable on $DEVS"

# 2. data verify under ufq without a BPF scheduler (FIFO)
for d in $IODEVS; do
	ufq_set_sched $d ufq && ufq_fio_verify $d fifo-$d
	ktap_result $? "fio verify under ufq FIFO on $d"
done

# 3. stats consistent after FIFO I/O
for d in $IODEVS; do
	ufq_stats_consistent $d
	rc=$?
	[ "$(ufq_stat $d dispatched)" -gt 0 ] || rc=1
	[ "$(ufq_stat $d bpf_dispatched)" -eq 0 ] || rc=1
	ktap_result $rc "debugfs stats consistent on $d"
done

# 4. kernel merges without BPF: sequential writes pile up on $MB.  With
# one driver tag, the scheduler needs more than the default 2 requests
# to hold some while one waits for the tag on the dispatch list.
ufq_set_sched $MB ufq
echo 64 > /sys/block/$MB/queue/nr_requests
fio --name=seq --filename=/dev/$MB --rw=write --bs=4k --size=8M \
	--ioengine=libaio --iodepth=32 --iodepth_batch_submit=1 --direct=1 \
	--output="$WORK/seq.fio" >/dev/null 2>&1
rc=$?
b=$(ufq_stat $MB merged_bios)
msg "$MB: merged_bios $b merged_requests $(ufq_stat $MB merged_requests)"
[ "${b:-0}" -gt 0 ] || rc=1
ufq_stats_consistent $MB || rc=1
ktap_result $rc "bio merges in FIFO mode"

# 5. elevator switching during a verifying fio
rc=0
ufq_fio_verify $NB switch-$NB --time_based --runtime=10 &
fpid=$!
n=0
while kill -0 $fpid 2>/dev/null; do
	for s in none mq-deadline ufq mq-deadline none ufq; do
		ufq_set_sched $NB $s || { msg "cannot switch $NB to $s"; rc=1; }
		n=$((n + 1))
		sleep 0.2
	done
done
wait $fpid || rc=1
msg "$n elevator switches"
ufq_set_sched $NB ufq
ktap_result $rc "elevator switching none<->mq-deadline<->ufq under verifying fio"

# 6. a BPF FIFO scheduler: attach, I/O on every device, detach
rc=0
for d in $DEVS; do ufq_set_sched $d ufq; done
if start_loader fifo; then
	[ "$(ufq_sched_field $NB name)" = ufq_test_fifo ] || rc=1
	[ "$(ufq_sched_field $NB state)" = enabled ] || rc=1
	[ "$(ufq_sched_field $NB queue_attached)" = 1 ] || rc=1
	before=$(ufq_stat $NB bpf_dispatched)
	pids=
	for d in $IODEVS; do
		ufq_fio_verify $d bpf-$d & pids="$pids $!"
	done
	for p in $pids; do wait $p || rc=1; done
	after=$(ufq_stat $NB bpf_dispatched)
	ufq_stop_loader || rc=1
	msg "bpf_dispatched on $NB: $before -> $after"
	[ "$after" -gt "$before" ] || rc=1
	[ "$(counter dispatched)" -gt 0 ] || rc=1
	[ "$(counter finished)" -gt 0 ] || rc=1
	[ "$(counter init_sched)" -ge "$(echo $DEVS | wc -w)" ] || rc=1
	[ "$(counter init_sched)" = "$(counter exit_sched)" ] || rc=1
	msg "loader: $(tr '\n' ' ' < $WORK/loader.out)"
	[ "$(ufq_sched_field $NB state)" = disabled ] || rc=1
	[ "$(ufq_sched_field $NB exit_kind)" = unregistered ] || rc=1
	for d in $IODEVS; do ufq_stats_consistent $d || rc=1; done
else
	rc=1
fi
ktap_result $rc "BPF FIFO scheduler: attach, verified I/O, detach"

# 7. merge kfuncs (KF_SPIN_LOCK) from the BPF scheduler: bio merges with
# mode fifo, request merges with mode rqmerge (which merges no bio)
rc=0
echo 64 > /sys/block/$MB/queue/nr_requests
for mode in fifo rqmerge; do
	b0=$(ufq_stat $MB bpf_merged_bios); r0=$(ufq_stat $MB merged_requests)
	if ! start_loader $mode; then
		rc=1
		continue
	fi
	fio --name=seq$mode --filename=/dev/$MB --rw=write --bs=4k --size=8M \
		--ioengine=libaio --iodepth=32 --iodepth_batch_submit=1 \
		--direct=1 --verify=crc32c --verify_fatal=1 --do_verify=1 \
		--output="$WORK/seq$mode.fio" >/dev/null 2>&1 || rc=1
	ufq_stop_loader || rc=1
	b1=$(ufq_stat $MB bpf_merged_bios); r1=$(ufq_stat $MB merged_requests)
	msg "$mode: debugfs bpf_merged_bios +$((b1 - b0)) merged_requests +$((r1 - r0))"
	msg "$mode: loader $(tr '\n' ' ' < $WORK/loader.out)"
	# the kfuncs' refusals: outside merge_req, an unowned id, a bio
	# merged twice
	[ "$(counter einval)" -eq "$(counter inserted)" ] || rc=1
	if [ $mode = fifo ]; then
		[ "$(counter bio_merged)" -gt 0 ] || rc=1
		[ $((b1 - b0)) -eq "$(counter bio_merged)" ] || rc=1
		[ "$(counter enoent)" -ge "$(counter bio_merged)" ] || rc=1
		[ "$(counter ealready)" -eq "$(counter bio_merged)" ] || rc=1
	else
		[ "$(counter rq_merged)" -gt 0 ] || rc=1
		[ "$(counter bio_merged)" -eq 0 ] || rc=1
		[ $((r1 - r0)) -eq "$(counter rq_merged)" ] || rc=1
	fi
	[ "$(counter merge_errors)" -eq 0 ] || rc=1
	ufq_stats_consistent $MB || rc=1
done
ktap_result $rc "BPF merge kfuncs (bio and request) under bpf_spin_lock, and their -EINVAL, -ENOENT, -EALREADY"

# 8. attach and detach repeatedly while verifying I/O runs on every device
rc=0
pids=
for d in $IODEVS; do
	ufq_fio_verify $d cycle-$d --time_based --runtime=15 & pids="$pids $!"
done
cycles=0
while [ $cycles -lt 5 ]; do
	"$UFQ_TEST" fifo 1 > "$WORK/cycle.out" 2>&1 ||
		{ rc=1; sed 's/^/# /' "$WORK/cycle.out" | tail; }
	cycles=$((cycles + 1))
	sleep 0.5
done
for p in $pids; do wait $p || rc=1; done
for d in $IODEVS; do ufq_stats_consistent $d || rc=1; done
msg "$cycles attach/detach cycles"
ktap_result $rc "attach/detach under verifying I/O on $IODEVS"

# 9. a second attach gets EBUSY
"$UFQ_TEST" ebusy > "$WORK/ebusy.out" 2>&1
rc=$?
sed 's/^/# /' "$WORK/ebusy.out"
ktap_result $rc "second attach fails with EBUSY"

# 10. elevator switches to and from ufq while a BPF scheduler is attached
rc=0
if start_loader fifo; then
	pids=
	for d in $IODEVS; do
		ufq_fio_verify $d attsw-$d --time_based --runtime=10 & pids="$pids $!"
	done
	n=0
	set -- $pids
	while kill -0 $1 2>/dev/null; do
		for d in $IODEVS; do
			for s in none ufq mq-deadline ufq; do
				ufq_set_sched $d $s || rc=1
				n=$((n + 1))
			done
		done
		sleep 0.3
	done
	for p in $pids; do wait $p || rc=1; done
	ufq_stop_loader || rc=1
	msg "$n switches; loader: $(tr '\n' ' ' < $WORK/loader.out)"
	[ "$(counter init_sched)" -gt "$(echo $DEVS | wc -w)" ] || rc=1
	[ "$(counter init_sched)" = "$(counter exit_sched)" ] || rc=1
	for d in $IODEVS; do
		ufq_set_sched $d ufq
		ufq_stats_consistent $d || rc=1
	done
else
	rc=1
fi
ktap_result $rc "elevator switches while a BPF scheduler is attached"

# 11. eject kfunc: the scheduler ejects itself, I/O goes on in FIFO order
rc=0
if start_loader eject 50; then
	ufq_fio_verify $NB eject-$NB || rc=1
	ufq_wait_state $NB ejected 10 || rc=1
	reason=$(ufq_sched_field $NB exit_reason)
	msg "exit_kind $(ufq_sched_field $NB exit_kind): $reason"
	[ "$(ufq_sched_field $NB exit_kind)" = bpf ] || rc=1
	case "$reason" in *"ejecting on purpose"*) ;; *) rc=1 ;; esac
	[ "$(ufq_sched_field $NB queue_attached)" = 0 ] || rc=1
	# still attached: a new one is refused with EBUSY until the loader
	# detaches
	"$UFQ_TEST" fifo 1 > "$WORK/busy.out" 2>&1
	st=$?
	msg "attach while ejected: status $st: $(tr '\n' ' ' < "$WORK/busy.out")"
	[ $st -eq 1 ] && grep -qx 'attach failed: errno 16 (EBUSY): .*' "$WORK/busy.out" || rc=1
	ufq_stop_loader || rc=1
	[ "$(ufq_sched_field $NB state)" = disabled ] || rc=1
	[ "$(ufq_sched_field $NB exit_kind)" = bpf ] || rc=1
	ufq_stats_consistent $NB || rc=1
else
	rc=1
fi
ktap_result $rc "bpf_ufq_eject() ejects the scheduler with its reason"

# 12. an unknown request id ejects the scheduler
rc=0
if start_loader badid; then
	timeout 60 dd if=/dev/zero of=/dev/$NB bs=64k count=64 oflag=direct \
		2>/dev/null || rc=1
	ufq_wait_state $NB ejected 10 || rc=1
	msg "exit_kind $(ufq_sched_field $NB exit_kind): $(ufq_sched_field $NB exit_reason)"
	[ "$(ufq_sched_field $NB exit_kind)" = error ] || rc=1
	ufq_stop_loader || rc=1
	ufq_stats_consistent $NB || rc=1
else
	rc=1
fi
ktap_result $rc "an invalid request id from dispatch_req ejects the scheduler"

# 13. watchdog: a scheduler that never dispatches is ejected, I/O completes
rc=0
old=$(cat $UFQ_WATCHDOG)
echo 1000 > $UFQ_WATCHDOG
if start_loader stall; then
	start=$(date +%s)
	timeout 60 dd if=/dev/zero of=/dev/$NB bs=64k count=16 oflag=direct \
		2>/dev/null || rc=1
	msg "dd took $(($(date +%s) - start)) s"
	ufq_wait_state $NB ejected 10 || rc=1
	reason=$(ufq_sched_field $NB exit_reason)
	msg "exit_kind $(ufq_sched_field $NB exit_kind): $reason"
	[ "$(ufq_sched_field $NB exit_kind)" = watchdog ] || rc=1
	# it fired within twice its timeout, by the kernel's own count of how
	# long the oldest request waited ("not dispatched for N ms")
	waited=$(echo "$reason" | sed -n 's/.* not dispatched for \([0-9]*\) ms .*/\1/p')
	if [ -z "$waited" ] || [ "$waited" -lt 1000 ] || [ "$waited" -gt 2000 ]; then
		msg "the watchdog fired after '${waited:-?}' ms, not within 1000..2000 ms"
		rc=1
	fi
	ufq_stop_loader || rc=1
	[ "$(counter dispatched)" -eq 0 ] || rc=1
	ufq_stats_consistent $NB || rc=1
else
	rc=1
fi
echo "$old" > $UFQ_WATCHDOG
ktap_result $rc "watchdog ejects a scheduler that never dispatches"

# 14. no program can keep a request beyond a callback (it would keep its
# tags and the queue's usage count until user space frees a map): no kfunc
# acquires a request (libbpf cannot resolve bpf_request_acquire), and
# struct request has no kptr destructor, so the kernel refuses the BTF of
# a program that has a struct request kptr (ENOENT)
rc=0
sub_test kptr
[ $ST -eq 0 ] || rc=1
grep -qxF "libbpf: extern (func ksym) 'bpf_request_acquire': not found in kernel or module BTFs" \
	"$WORK/kptr.err" || rc=1
grep -qxF "stash: load failed: errno 2 (ENOENT): No such file or directory" \
	"$WORK/kptr.out" || rc=1
grep -qxF "libbpf: Error loading .BTF into kernel: -2. BTF is mandatory, can't proceed." \
	"$WORK/kptr.err" || rc=1
n=$(grep -ac 'bpf_request_acquire\|bpf_request_release' /sys/kernel/btf/vmlinux)
msg "bpf_request_acquire/release in the kernel's BTF: $n"
[ "$n" -eq 0 ] || rc=1
[ $rc -eq 0 ] || grep '^libbpf: ' "$WORK/kptr.err" | tail -20 | sed 's/^/# /'
# nothing holds a request: the queue freezes at once
timeout 10 sh -c "echo none > /sys/block/$NB/queue/scheduler" || rc=1
ufq_set_sched $NB ufq || rc=1
ktap_result $rc "no request reference can outlive a callback: no acquire kfunc, no request kptr"

# 15. a UFQ device goes away while a BPF scheduler is attached: an idle
# one, and one with I/O in flight (a random reader and writer at queue
# depth 16 through BPF): the power-off and rmdir complete within seconds,
# fio ends (with I/O errors), and the other queues keep their scheduler
rc=0
if nullb_create ufqgone0 32 && ufq_set_sched ufqgone0 ufq &&
   nullb_create ufqgone1 32 && ufq_set_sched ufqgone1 ufq && start_loader fifo; then
	dd if=/dev/urandom of=$WORK/gone.dat bs=64k count=32 2>/dev/null
	dd if=$WORK/gone.dat of=/dev/ufqgone0 bs=64k oflag=direct 2>/dev/null || rc=1
	cmp -n $((64 * 1024 * 32)) $WORK/gone.dat /dev/ufqgone0 || rc=1
	echo 0 > $CFS/ufqgone0/power && rmdir $CFS/ufqgone0 || rc=1
	fio --name=gone1 --filename=/dev/ufqgone1 --rw=randrw --bs=4k \
		--ioengine=libaio --iodepth=16 --direct=1 --time_based \
		--runtime=60 --output="$WORK/gone1.fio" > /dev/null 2>&1 &
	FIO_PID=$!
	wait_stat ufqgone1 bpf_dispatched 200 30 || rc=1
	timed "echo 0 > $CFS/ufqgone1/power && rmdir $CFS/ufqgone1" \
		> $WORK/gone1.ms &
	wait_done $! 30 "power-off and rmdir of ufqgone1 under I/O" || rc=1
	ms=$(cat $WORK/gone1.ms)
	msg "power-off and rmdir under I/O took $ms ms"
	[ "$DONE_ST" = 0 ] && [ "$ms" -le 5000 ] || rc=1
	# fio sees the device go: it ends with errors, long before its 60 s
	wait_done $FIO_PID 15 "fio on the removed ufqgone1" || rc=1
	[ "$DONE_ST" != 0 ] || { msg "fio on the removed device reported no error"; rc=1; }
	# the other queues keep their scheduler
	ufq_fio_verify $NB gone-$NB || rc=1
	ufq_stop_loader || rc=1
	msg "loader: $(tr '\n' ' ' < $WORK/loader.out)"
	[ "$(counter init_sched)" = "$(counter exit_sched)" ] || rc=1
else
	rc=1
	ufq_stop_loader
fi
rmdir $CFS/ufqgone0 $CFS/ufqgone1 2>/dev/null
ktap_result $rc "device removal while a BPF scheduler is attached, idle and under I/O"

# 16. an init_sched that returns 1 (neither 0 nor an errno) fails the
# attach with EPROTO, as sched_ext's ops_sanitize_err(): no positive
# BPF_LINK_CREATE result that libbpf would take for an fd (stdout)
rc=0
"$UFQ_TEST" initpos 1 > "$WORK/initpos.out" 2> "$WORK/initpos.err"
st=$?
msg "initpos: status $st: $(cat "$WORK/initpos.out" "$WORK/initpos.err" | tr '\n' ' ')"
[ $st -eq 1 ] || rc=1
grep -qx 'attach failed: errno 71 (EPROTO): Protocol error' "$WORK/initpos.err" || rc=1
grep -q '^attached' "$WORK/initpos.out" && rc=1
reason=$(ufq_sched_field $NB exit_reason)
msg "state $(ufq_sched_field $NB state) exit_kind $(ufq_sched_field $NB exit_kind): $reason"
[ "$(ufq_sched_field $NB state)" = disabled ] || rc=1
[ "$(ufq_sched_field $NB exit_kind)" = error ] || rc=1
case "$reason" in *"init_sched returned 1"*) ;; *) rc=1 ;; esac
[ "$(ufq_sched_field $NB queue_attached)" = 0 ] || rc=1
# nothing stays attached: a correct scheduler attaches after it
"$UFQ_TEST" fifo 1 > "$WORK/afterpos.out" 2>&1 ||
	{ rc=1; sed 's/^/# /' "$WORK/afterpos.out" | tail; }
ktap_result $rc "init_sched returning 1 fails the attach with EPROTO"

# 17. bpf_request_bio_try_merge() with a segment count that is not the one
# of the running merge_bio is refused with -EINVAL (an undercount would
# overrun the driver's scatterlist), under a sequential verifying writer:
# 64k on $TEST_DISK (virtio-blk), 4k on $MB (whose 127k requests take no
# two 64k bios).  The badsegs scheduler holds requests back for merges.
rc=0
segdevs=$MB
[ -z "${TEST_DISK:-}" ] || segdevs="$segdevs $(dev_name "$TEST_DISK")"
for d in $segdevs; do
	bs=64k
	[ $d != $MB ] || bs=4k
	ufq_set_sched $d ufq || rc=1
	if ! start_loader badsegs; then
		rc=1
		continue
	fi
	if ! fio --name=segs-$d --filename=/dev/$d --rw=write --bs=$bs \
		--size=16M --ioengine=libaio --iodepth=32 \
		--iodepth_batch_submit=1 --direct=1 --verify=crc32c \
		--verify_fatal=1 --do_verify=1 \
		--output="$WORK/segs-$d.fio" >/dev/null 2>&1; then
		rc=1
		msg "fio on $d failed:"
		tail -15 "$WORK/segs-$d.fio" | sed 's/^/# /'
	fi
	ufq_stop_loader || rc=1
	msg "$d: debugfs merged_bios $(ufq_stat $d merged_bios) bpf_merged_bios $(ufq_stat $d bpf_merged_bios)"
	msg "$d: loader $(tr '\n' ' ' < $WORK/loader.out)"
	[ "$(counter wrong_segs_merged)" -eq 0 ] || rc=1
	[ "$(counter wrong_segs_einval)" -eq "$(counter wrong_segs)" ] || rc=1
	[ "$(counter merge_errors)" -eq 0 ] || rc=1
	# bios did reach merge_bio: the wrong counts were asked, and the
	# right one merged
	[ "$(counter wrong_segs)" -gt 0 ] || rc=1
	[ "$(counter bio_merged)" -gt 0 ] || rc=1
	ufq_stats_consistent $d || rc=1
done
ktap_result $rc "bio merge with a wrong segment count refused with -EINVAL on $segdevs"

# stall_hold DEV TAG: with the watchdog off, start the stall scheduler
# and a writer of 16 x 64k blocks at queue depth 16 on DEV (data from
# $WORK/TAG.dat, fio's pid in FIO_PID), until the scheduler holds all 16
stall_hold() {
	local d=$1 tag=$2 i
	WDT_OLD=$(cat $UFQ_WATCHDOG)
	echo 0 > $UFQ_WATCHDOG
	start_loader stall || return 1
	fio --name=$tag --filename=/dev/$d --rw=write --bs=64k --size=1M \
		--ioengine=libaio --iodepth=16 --direct=1 --verify=crc32c \
		--do_verify=0 --output="$WORK/$tag.fio" > /dev/null 2>&1 &
	FIO_PID=$!
	for i in $(seq 300); do
		[ "$(ufq_stat $d queued_bpf)" -ge 16 ] && return 0
		sleep 0.1
	done
	msg "$d: the stall scheduler holds $(ufq_stat $d queued_bpf) requests, not 16"
	return 1
}

# 18. a freeze takes the requests BPF holds back at once, without the
# watchdog: the stall scheduler holds 16 direct writes, and switching the
# elevator (which freezes the queue) returns within 3 s of what the same
# switch of the idle queue takes in this guest (without the fix it waits
# for the watchdog, here never; TCG beside a kernel build made it 1600 ms
# against 427 ms idle); the writes complete and read back intact
rc=0
ufq_set_sched $NB ufq || rc=1
timed "echo none > /sys/block/$NB/queue/scheduler" > $WORK/frz0.ms
idle_ms=$(cat $WORK/frz0.ms)
case $idle_ms in ''|*[!0-9]*) msg "the idle switch failed"; rc=1; idle_ms=0 ;; esac
ufq_set_sched $NB ufq || rc=1
if stall_hold $NB frz; then
	timed "echo none > /sys/block/$NB/queue/scheduler" > $WORK/frz.ms &
	wait_done $! 10 "echo none > queue/scheduler" || rc=1
	ms=$(cat $WORK/frz.ms)
	msg "echo none > queue/scheduler took $ms ms holding 16 requests, $idle_ms ms idle"
	[ "$DONE_ST" = 0 ] && [ "$ms" -le $((idle_ms + 3000)) ] || rc=1
	wait $FIO_PID || { msg "fio failed"; rc=1; }
	# fio wrote its own pattern: read it back with fio's verify
	fio --name=frzv --filename=/dev/$NB --rw=write --bs=64k --size=1M \
		--ioengine=libaio --iodepth=16 --direct=1 --verify=crc32c \
		--verify_only --output="$WORK/frzv.fio" > /dev/null 2>&1 ||
		{ msg "written data does not verify"; rc=1; }
	ufq_stop_loader || rc=1
	msg "loader: $(tr '\n' ' ' < $WORK/loader.out)"
	[ "$(counter dispatched)" -eq 0 ] || rc=1
	[ "$(counter init_sched)" = "$(counter exit_sched)" ] || rc=1
	[ "$(ufq_sched_field $MB exit_kind)" = unregistered ] || rc=1
else
	rc=1
	ufq_stop_loader
fi
echo "$WDT_OLD" > $UFQ_WATCHDOG
WDT_OLD=
ufq_set_sched $NB ufq || rc=1
ktap_result $rc "a freeze (elevator switch) takes the requests BPF holds back at once, data verified"

# 19. removal of a device while the stall scheduler (watchdog off) owns
# requests of it: del_gendisk's freeze takes them back, the power-off and
# rmdir complete within seconds, and so does the writer
rc=0
if nullb_create ufqstall0 32 && ufq_set_sched ufqstall0 ufq &&
   stall_hold ufqstall0 gone1; then
	timed "echo 0 > $CFS/ufqstall0/power && rmdir $CFS/ufqstall0" \
		> $WORK/gone1.ms &
	wait_done $! 30 "power-off and rmdir of ufqstall0" || rc=1
	ms=$(cat $WORK/gone1.ms)
	msg "power-off and rmdir took $ms ms"
	[ "$DONE_ST" = 0 ] && [ "$ms" -le 5000 ] || rc=1
	wait_done $FIO_PID 5 "the writer on ufqstall0" || rc=1
	ufq_stop_loader || rc=1
	msg "loader: $(tr '\n' ' ' < $WORK/loader.out)"
	[ "$(counter dispatched)" -eq 0 ] || rc=1
	[ "$(counter init_sched)" = "$(counter exit_sched)" ] || rc=1
else
	rc=1
	ufq_stop_loader
fi
echo "$WDT_OLD" > $UFQ_WATCHDOG
WDT_OLD=
nullb_destroy ufqstall0 2>/dev/null
ktap_result $rc "device removal while the stall scheduler owns requests (watchdog off) completes within seconds"

# 20. a scheduler that declines until it kicks: each request waits for a
# bpf_timer (30 ms) whose callback calls bpf_ufq_kick(); the kernel does
# not poll a declining scheduler (about 10 calls per wait at blk-mq's
# 3 ms), it asks again after the kick: one decline per timer.  Data
# written and read back through it.
rc=0
ufq_set_sched $NB ufq || rc=1
head -c $((64 * 1024 * 16)) /dev/urandom > $WORK/kick.dat
if start_loader kick; then
	dd if=$WORK/kick.dat of=/dev/$NB bs=64k oflag=direct status=none || rc=1
	dd if=/dev/$NB of=$WORK/kick.rd bs=64k count=16 iflag=direct \
		status=none || rc=1
	cmp $WORK/kick.dat $WORK/kick.rd || rc=1
	ufq_stop_loader || rc=1
	msg "loader: $(tr '\n' ' ' < $WORK/loader.out)"
	[ "$(counter inserted)" -ge 32 ] || rc=1
	[ "$(counter dispatched)" = "$(counter inserted)" ] || rc=1
	[ "$(counter timers)" -ge 32 ] || rc=1
	[ "$(counter kicks)" = "$(counter timers)" ] || rc=1
	[ "$(counter kick_errors)" -eq 0 ] || rc=1
	# one decline per wait; polling would give about ten
	[ "$(counter declined)" -lt $((2 * $(counter timers))) ] || rc=1
	ufq_stats_consistent $NB exact || rc=1
else
	rc=1
fi
ktap_result $rc "bpf_ufq_kick() from a bpf_timer: a declining scheduler is asked again when it kicks, not polled"

# 21. exit information in one place, /sys/kernel/ufq, one line per value:
# a BPF reason with a newline and a fake "state: enabled" line (and a
# DEL) stays one line, in sysfs and in debugfs
rc=0
if start_loader ejectnl 5; then
	dd if=/dev/zero of=/dev/$NB bs=4k count=64 oflag=direct status=none || rc=1
	ufq_wait_state $NB ejected 10 || rc=1
	for f in ops state exit_kind exit_reason; do
		v=$(cat /sys/kernel/ufq/$f)
		msg "/sys/kernel/ufq/$f: $v"
		[ "$(wc -l < /sys/kernel/ufq/$f)" -eq 1 ] || rc=1
	done
	[ "$(cat /sys/kernel/ufq/ops)" = ufq_test_fifo ] || rc=1
	[ "$(cat /sys/kernel/ufq/state)" = ejected ] || rc=1
	[ "$(cat /sys/kernel/ufq/exit_kind)" = bpf ] || rc=1
	[ "$(cat /sys/kernel/ufq/exit_reason)" = "ufq selftest?state: enabled?" ] || rc=1
	[ "$(grep -c '^state' $UFQ_DBG/$NB/sched/sched)" -eq 1 ] || rc=1
	[ "$(ufq_sched_field $NB exit_reason)" = "ufq selftest?state: enabled?" ] || rc=1
	ufq_stop_loader || rc=1
	[ "$(cat /sys/kernel/ufq/state)" = disabled ] || rc=1
	[ "$(cat /sys/kernel/ufq/exit_kind)" = bpf ] || rc=1
else
	rc=1
fi
ktap_result $rc "/sys/kernel/ufq: exit information, a BPF reason cannot add lines"

# 22. finish_req goes to the scheduler that dispatched the request, never
# to one attached after it (attach generations).  On a ublk null device
# with one tag whose server holds what it gets (SIGUSR2), scheduler A
# (DIRECT: everything dispatched from insert_req) dispatches three reads:
# the first goes to the server and is held there, the second leaves the
# scheduler and waits for the tag on the hardware queue's dispatch list
# (both counted as A's), the third waits in the kernel FIFO
# (UFQ_INSERT_DISPATCH; nr_requests 8, as two scheduler tags, twice the
# device's one, would keep it out of the scheduler).  A is detached and B attached, then the server
# lets the reads go.  B hears of none of the completions, and the third
# read is dispatched as the kernel's (bpf_dispatched stays 2).
rc=0
gdev=
if [ -x "$UBLK" ]; then
	gdev=$("$UBLK" add -t null -d 1 --size 16M 2> $WORK/gen.err)
	[[ $gdev =~ ^/dev/ublkb([0-9]+)$ ]] && UBLK_ID=${BASH_REMATCH[1]} ||
		msg "ublk add: '$gdev' $(cat $WORK/gen.err)"
else
	msg "$UBLK (selftests/ublk) is not built"
fi
if [ -n "$UBLK_ID" ] && { udevadm settle 2>/dev/null; true; } &&
   ufq_set_sched ublkb$UBLK_ID ufq &&
   echo 8 > /sys/block/ublkb$UBLK_ID/queue/nr_requests && start_loader direct; then
	d=ublkb$UBLK_ID
	srv=$(ublk_field "$("$UBLK" list -n $UBLK_ID | head -1)" pid)
	kill -USR2 $srv
	dd if=$gdev of=/dev/null bs=4k count=1 iflag=direct status=none &
	rd1=$!
	for i in $(seq 300); do ublk_held 1 && break; sleep 0.1; done
	ublk_held 1 || { msg "the server does not hold the first read"; rc=1; }
	dd if=$gdev of=/dev/null bs=4k count=1 skip=1 iflag=direct status=none &
	rd2=$!
	dd if=$gdev of=/dev/null bs=4k count=1 skip=2 iflag=direct status=none &
	rd3=$!
	wait_stat $d inserted 3 30 || rc=1
	ufq_stop_loader || rc=1
	cp $WORK/loader.out $WORK/gen-a.out
	msg "scheduler A: $(tr '\n' ' ' < $WORK/gen-a.out)"
	start_loader direct || rc=1
	kill -USR2 $srv
	wait $rd1 || rc=1
	wait $rd2 || rc=1
	wait $rd3 || rc=1
	ufq_stop_loader || rc=1
	msg "scheduler B: $(tr '\n' ' ' < $WORK/loader.out)"
	msg "$d: bpf_dispatched $(ufq_stat $d bpf_dispatched) dispatched $(ufq_stat $d dispatched) finished $(ufq_stat $d finished)"
	# B finishes only what it dispatched itself (nothing, on a quiet host)
	[ "$(counter finished)" -le "$(counter inserted)" ] || rc=1
	[ "$(awk '$1 == "finished" { print $2 }' $WORK/gen-a.out)" -eq 0 ] || rc=1
	[ "$(ufq_stat $d bpf_dispatched)" -eq 2 ] || rc=1
	[ "$(ufq_stat $d finished)" -ge 3 ] || rc=1
	ufq_stats_consistent $d || rc=1
else
	rc=1
	ufq_stop_loader
fi
if [ -n "$UBLK_ID" ]; then
	"$UBLK" del -n $UBLK_ID || rc=1
	UBLK_ID=
fi
ktap_result $rc "finish_req only for the attach that dispatched the request, after a swap of schedulers"

# 23. no member may be a sleepable program: init_sched and exit_sched run
# with the queue frozen and under the UFQ list mutex (a program that
# faulted on a page of a file on the disk would wait for its own freeze);
# the verifier refuses both
rc=0
sub_test sleepable
[ $ST -eq 0 ] || rc=1
for m in init_sched exit_sched; do
	grep -qxF "$m: load failed: errno 22 (EINVAL): Invalid argument" \
		"$WORK/sleepable.out" || rc=1
	grep -qxF "attach to unsupported member $m of struct ufq_iosched_ops" \
		"$WORK/sleepable.err" || rc=1
done
[ $rc -eq 0 ] || tail -20 "$WORK/sleepable.err" | sed 's/^/# /'
ktap_result $rc "a sleepable init_sched or exit_sched is refused by the verifier"

# 24. attaching needs CAP_SYS_ADMIN (in the initial user namespace): the
# loader without it in its effective set, but with CAP_BPF and
# CAP_PERFMON, gets EPERM; with it back, the same map attaches
rc=0
sub_test nocap
[ $ST -eq 0 ] || rc=1
grep -qxF "attach without CAP_SYS_ADMIN failed: errno 1 (EPERM): Operation not permitted" \
	"$WORK/nocap.out" || rc=1
grep -qxF "attach with CAP_SYS_ADMIN: attached" "$WORK/nocap.out" || rc=1
ktap_result $rc "attaching a scheduler without CAP_SYS_ADMIN fails with EPERM"

# 25. an id kept after its request completed holds nothing (no tag, no
# usage count): the KEEPID scheduler keeps the ids of the requests it
# dispatched in its map.  On a one-tag null_blk, 64 writes and 64 reads go
# through one after the other (each needs the tag of the one before), and
# the device powers off and goes away within seconds while the scheduler,
# its map and the ids are alive.
rc=0
head -c $((64 * 4096)) /dev/urandom > $WORK/keep.dat
if nullb_create ufqkeep0 16 hw_queue_depth=1 && ufq_set_sched ufqkeep0 ufq &&
   start_loader keepid; then
	timeout 60 dd if=$WORK/keep.dat of=/dev/ufqkeep0 bs=4k oflag=direct \
		status=none || { msg "writes did not complete"; rc=1; }
	timeout 60 dd if=/dev/ufqkeep0 of=$WORK/keep.rd bs=4k count=64 \
		iflag=direct status=none || { msg "reads did not complete"; rc=1; }
	cmp $WORK/keep.dat $WORK/keep.rd || rc=1
	timed "echo 0 > $CFS/ufqkeep0/power && rmdir $CFS/ufqkeep0" \
		> $WORK/keep.ms &
	wait_done $! 30 "power-off and rmdir of ufqkeep0" || rc=1
	ms=$(cat $WORK/keep.ms)
	msg "power-off and rmdir with 64 kept ids took $ms ms"
	[ "$DONE_ST" = 0 ] && [ "$ms" -le 5000 ] || rc=1
	ufq_stop_loader || rc=1
	msg "loader: $(tr '\n' ' ' < $WORK/loader.out)"
	[ "$(counter kept)" -ge 128 ] || rc=1
	[ "$(counter init_sched)" = "$(counter exit_sched)" ] || rc=1
else
	rc=1
	ufq_stop_loader
fi
nullb_destroy ufqkeep0 2>/dev/null
ktap_result $rc "ids kept after completion hold nothing: one-tag device does I/O and goes away within seconds"

# 26. several hardware queues and changes of their number and of
# nr_requests under I/O (multiqueue.sh): as many queues as the guest has
# CPUs, up to 4.  A guest of 4 CPUs runs the same test with 4 queues on its
# own (tests/vm/test_ufq_multiqueue.py), since this guest has 2.
nq=$(nproc)
[ $nq -le 4 ] || nq=4
ufq_multiqueue_test $nq

# 27. requeues, which were counted twice, never told to BPF and never
# reached finish_req, of requests the driver had started, and BPF's
# requeue_req (which ufq_prio of test 28 does not have): a ublk loop
# device (--reissue: UBLK_F_USER_RECOVERY_REISSUE) under the FIFO
# scheduler; its server holds two writes that BPF dispatched and is
# killed, the driver requeues both (blk_mq_requeue_request()), a new
# server (`ublk recover`) gets them from the head of the kernel FIFO.
# Each request is counted once (debugfs inserted equals the inserts BPF
# saw), requeued is 2 in debugfs and in BPF's requeue_req, BPF hears
# finish_req once for every request it dispatched, and the backing file
# holds what was written.
rc=0
if [ ! -x "$UBLK" ]; then
	msg "$UBLK (selftests/ublk) is not built"
	rc=1
else
	truncate -s 32M $WORK/rq.img
	head -c $((4 << 20)) /dev/urandom > $WORK/rq.p1
	head -c 8192 /dev/urandom > $WORK/rq.p2
	dev=$("$UBLK" add -t loop --reissue -d 8 $WORK/rq.img 2> $WORK/rq.err)
	[[ $dev =~ ^/dev/ublkb([0-9]+)$ ]] && UBLK_ID=${BASH_REMATCH[1]}
fi
if [ -n "$UBLK_ID" ] && { udevadm settle 2>/dev/null; true; } &&
   ufq_set_sched ublkb$UBLK_ID ufq && start_loader fifo; then
	d=ublkb$UBLK_ID
	srv=$(ublk_field "$("$UBLK" list -n $UBLK_ID | head -1)" pid)
	dd if=$WORK/rq.p1 of=$dev bs=1M oflag=direct status=none || rc=1
	kill -USR2 $srv
	dd if=$WORK/rq.p2 of=$dev bs=4k count=1 seek=3 oflag=direct status=none &
	w1=$!
	dd if=$WORK/rq.p2 of=$dev bs=4k count=1 skip=1 seek=700 oflag=direct \
		status=none &
	w2=$!
	for i in $(seq 300); do ublk_held 2 && break; sleep 0.1; done
	ublk_held 2 || { msg "the server does not hold 2 writes"; rc=1; }
	kill -9 $srv
	sleep 1
	new=$("$UBLK" recover -n $UBLK_ID 2> $WORK/rq.err) || rc=1
	[ "$new" = "$dev" ] || { msg "recover printed '$new': $(cat $WORK/rq.err)"; rc=1; }
	wait $w1 || rc=1
	wait $w2 || rc=1
	ufq_stats_consistent $d exact || rc=1
	ufq_stop_loader || rc=1
	msg "loader: $(tr '\n' ' ' < $WORK/loader.out)"
	msg "$d: $(tr '\n' ' ' < $UFQ_DBG/$d/sched/stats)"
	[ "$(ufq_stat $d requeued)" = 2 ] || rc=1
	[ "$(counter requeued)" = 2 ] || rc=1
	[ "$(ufq_stat $d inserted)" = "$(counter inserted)" ] || rc=1
	[ "$(counter finished)" = "$(counter dispatched)" ] || rc=1
	[ "$(counter dispatched)" -gt 2 ] || rc=1
	dd if=$WORK/rq.p2 of=$WORK/rq.p1 bs=4k count=1 seek=3 conv=notrunc status=none
	dd if=$WORK/rq.p2 of=$WORK/rq.p1 bs=4k count=1 skip=1 seek=700 \
		conv=notrunc status=none
	cmp -n $((4 << 20)) $WORK/rq.p1 $WORK/rq.img || { msg "backing file differs"; rc=1; }
else
	rc=1
	[ -s $WORK/rq.err ] && msg "ublk add: $(cat $WORK/rq.err)"
	ufq_stop_loader
fi
if [ -n "$UBLK_ID" ]; then
	"$UBLK" del -n $UBLK_ID || rc=1
	UBLK_ID=
fi
ktap_result $rc "requests requeued by the driver (ublk reissue) counted once, requeue_req and finish_req once each"

# 28. requeues by the driver under ufq_prio (tools/ufq_iosched), with data
# verified: a memory-backed null_blk with one hardware queue and one tag
# whose requeue_inject (CONFIG_BLK_DEV_NULL_BLK_FAULT_INJECTION) fails
# every 5th null_queue_rq(), alternately (null_blk's requeue_selection,
# BLK_STS_RESOURCE first) with BLK_STS_RESOURCE (blk-mq keeps the request
# on the hardware queue's dispatch list: no requeue for the scheduler)
# and with blk_mq_requeue_request() (ufq's requeue_request, then back at
# the head of the kernel FIFO).  The fault attribute is set up before
# power=1 with times 0 (nothing injected: the partition scan under the
# default scheduler stays clean) and armed with times RQ_TIMES once
# ufq_prio is attached; times counts down once per injection, so the
# injections are RQ_TIMES minus what is left, and the driver's requeues
# are half of them (one tag: one null_queue_rq() at a time, the
# alternation is exact).  A verifying fio (randrw 4k-64k, crc32c, QD 16)
# must end with status 0 and no error in its JSON.  Each request is
# counted once: debugfs requeued is the driver's requeues, inserted =
# dispatched (ufq_prio merges no requests) = bpf_dispatched = finished,
# and ufq_prio's own inserted, dispatched and finished equal the kernel's.
rc=0
RQ_TIMES=100000
fi_attr() { cat $CFS/$RQD/requeue_inject/$1; }	# fi_attr NAME
if [ ! -x "$UFQ_BIN/ufq_prio" ]; then
	msg "$UFQ_BIN/ufq_prio is missing: python -m harness build builds it"
	rc=1
elif nullb_create $RQD 64 hw_queue_depth=1 submit_queues=1 poll_queues=0 \
	requeue_inject/verbose=0 requeue_inject/probability=100 \
	requeue_inject/interval=5 requeue_inject/times=0 &&
     ufq_set_sched $RQD ufq && echo 64 > /sys/block/$RQD/queue/nr_requests &&
     ufq_start_loader loader ': attached' "$UFQ_BIN/ufq_prio" -i 60; then
	echo $RQ_TIMES > $CFS/$RQD/requeue_inject/times || rc=1
	UFQ_VERIFY_SIZE=4M ufq_fio_verify $RQD requeue --output-format=json || rc=1
	left=$(fi_attr times)
	echo 0 > $CFS/$RQD/requeue_inject/times || rc=1
	ferr=$(fio_json_field $WORK/requeue.fio \
		'sum(x["error"] for x in j["jobs"])' 2>&1)
	[ "$ferr" = 0 ] || { msg "fio's JSON error fields: $ferr"; rc=1; }
	ufq_stats_consistent $RQD exact || rc=1
	msg "$RQD: $(tr '\n' ' ' < $UFQ_DBG/$RQD/sched/stats)"
	ufq_stop_loader || rc=1
	msg "loader: $(grep -v '^be\|^rt\|^idle' $WORK/loader.out | tr '\n' ' ')"
	injected=$((RQ_TIMES - left))
	requeued=$(ufq_stat $RQD requeued)
	msg "requeue_inject: $injected injected, $((injected / 2)) of them blk_mq_requeue_request(); debugfs requeued $requeued"
	[ $injected -ge 2 ] || { msg "nothing injected: times is $left"; rc=1; }
	[ "$requeued" -gt 0 ] && [ "$requeued" -eq $((injected / 2)) ] || rc=1
	[ "$(ufq_stat $RQD merged_requests)" -eq 0 ] || rc=1
	[ "$(ufq_stat $RQD insert_errors)" -eq 0 ] || rc=1
	[ "$(ufq_stat $RQD inserted)" -eq "$(ufq_stat $RQD dispatched)" ] || rc=1
	[ "$(ufq_stat $RQD bpf_dispatched)" -eq "$(ufq_stat $RQD dispatched)" ] || rc=1
	[ "$(ufq_stat $RQD finished)" -eq "$(ufq_stat $RQD dispatched)" ] || rc=1
	for c in inserted dispatched finished; do
		[ "$(counter $c)" = "$(ufq_stat $RQD $c)" ] ||
			{ msg "ufq_prio's $c $(counter $c), debugfs $(ufq_stat $RQD $c)"; rc=1; }
	done
	[ "$(counter refused)" = 0 ] || rc=1
	grep -q '^ufq_prio: exit kind=unregistered ' $WORK/loader.out || rc=1
else
	rc=1
	ufq_stop_loader
fi
nullb_destroy $RQD || rc=1
ktap_result $rc "requests requeued by the driver (null_blk requeue_inject) under ufq_prio: verified, counted once, BPF's counters equal the kernel's"

# 29. every queue leaving ufq (exit_sched) found its statistics exact: the
# kernel reports a slip in the log (no WARN, which panic_on_warn makes a
# panic), and none happened in all the above
rc=0
for d in $DEVS; do ufq_set_sched $d none || rc=1; done
n=$(dmesg | grep -c 'ufq: .*statistics do not add up')
msg "statistics reports in the kernel log: $n"
[ "$n" -eq 0 ] || { rc=1; dmesg | grep 'ufq: .*statistics do not add up' | sed 's/^/# /'; }
ktap_result $rc "exact statistics on every queue that left ufq"

ktap_finished
