#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest selftests of the UFQ I/O scheduler (CONFIG_IOSCHED_UFQ), KTAP output.
#
# Devices: a memory-backed null_blk (configfs), a loop device on a tmpfs
# file, $TEST_DISK (virtio-blk) when given, and a slow memory-backed
# null_blk with a tiny queue depth, on which requests pile up in the
# scheduler so that merges happen.
#
# Environment: KSRC (kernel tree, for ktap_helpers.sh), OUTPUT (built
# ufq_test), TEST_DISK (optional).

DIR=$(dirname "$(readlink -f "$0")")
OUTPUT=${OUTPUT:-$DIR}
. "$KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh"
. "$DIR/../lib/blk.sh"
. "$DIR/../lib/ufq.sh"
. "$DIR/../lib/strict.sh"

UFQ_TEST=$OUTPUT/ufq_test
WORK=$(mktemp -d /tmp/ufq.XXXXXX)
CFS=/sys/kernel/config/nullb
NB=ufqnb0
MB=ufqmerge0
LOOPDEV=
IODEVS=
DEVS=
LOADER_PID=

cleanup() {
	[ -n "$LOADER_PID" ] && kill "$LOADER_PID" 2>/dev/null && wait "$LOADER_PID" 2>/dev/null
	ufq_teardown_devices $NB $MB
	rm -rf "$WORK"
}
trap cleanup EXIT

msg() { ktap_print_msg "$@"; }

# start_loader MODE [EJECT_AFTER]: attach in the background until stopped
start_loader() {
	ufq_start_loader loader '^attached' "$UFQ_TEST" "$1" 0 ${2:-}
}

counter() {	# counter NAME: from the last loader's output
	awk -v k="$1" '$1 == k { print $2 }' "$WORK/loader.out"
}

ktap_print_header

ufq_prepare || skip_area_or_fail "CONFIG_IOSCHED_UFQ is not enabled"

# $MB: requests wait in the scheduler, so that merges happen
ufq_setup_devices $NB $MB
DEVS="$IODEVS $MB"
ndev=$(echo $IODEVS | wc -w)

ktap_set_plan $((1 + 2 * ndev + 15))

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
"$UFQ_TEST" kptr > "$WORK/kptr.out" 2> "$WORK/kptr.err"
st=$?
msg "kptr: status $st: $(tr '\n' ' ' < "$WORK/kptr.out")"
[ $st -eq 0 ] || rc=1
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

# 15. a UFQ device goes away while a BPF scheduler is attached
rc=0
if nullb_create ufqgone0 32 && ufq_set_sched ufqgone0 ufq && start_loader fifo; then
	dd if=/dev/urandom of=$WORK/gone.dat bs=64k count=32 2>/dev/null
	dd if=$WORK/gone.dat of=/dev/ufqgone0 bs=64k oflag=direct 2>/dev/null || rc=1
	cmp -n $((64 * 1024 * 32)) $WORK/gone.dat /dev/ufqgone0 || rc=1
	echo 0 > $CFS/ufqgone0/power && rmdir $CFS/ufqgone0 || rc=1
	# the other queues keep their scheduler
	ufq_fio_verify $NB gone-$NB || rc=1
	ufq_stop_loader || rc=1
	msg "loader: $(tr '\n' ' ' < $WORK/loader.out)"
	[ "$(counter init_sched)" = "$(counter exit_sched)" ] || rc=1
else
	rc=1
	ufq_stop_loader
fi
rmdir $CFS/ufqgone0 2>/dev/null
ktap_result $rc "device removal while a BPF scheduler is attached"

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

# 18. every queue leaving ufq (exit_sched) found its statistics exact: the
# kernel reports a slip in the log (no WARN, which panic_on_warn makes a
# panic), and none happened in all the above
rc=0
for d in $DEVS; do ufq_set_sched $d none || rc=1; done
n=$(dmesg | grep -c 'ufq: .*statistics do not add up')
msg "statistics reports in the kernel log: $n"
[ "$n" -eq 0 ] || { rc=1; dmesg | grep 'ufq: .*statistics do not add up' | sed 's/^/# /'; }
ktap_result $rc "exact statistics on every queue that left ufq"

ktap_finished
