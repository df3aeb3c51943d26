#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest tests of the example UFQ schedulers in tools/ufq_iosched
# (ufq_simple, ufq_prio) and their loaders, KTAP output.
#
# Devices: a memory-backed null_blk, a loop device on a tmpfs file,
# $TEST_DISK (virtio-blk) when given, and a slow memory-backed null_blk
# (one hardware tag, 1 ms completions) on which requests wait in the
# scheduler: for merges, the watchdog and ufq_prio's effect.
#
# Environment: KSRC (kernel tree, for ktap_helpers.sh), UFQ_BIN (the
# built loaders; default build/ufq_iosched/bin next to $KSRC, where the
# harness builds them), TEST_DISK (optional).

DIR=$(dirname "$(readlink -f "$0")")
. "$KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh"
. "$DIR/../lib/blk.sh"
. "$DIR/../lib/ufq.sh"
. "$DIR/../lib/strict.sh"

UFQ_BIN=${UFQ_BIN:-$(dirname "$KSRC")/ufq_iosched/bin}
WORK=$(mktemp -d /tmp/ufqt.XXXXXX)
NB=ufqtnb0
SLOW=ufqtslow0
VSLOW=ufqtvslow0	# 500 ms completions (test 12)
SCHEDS="ufq_simple ufq_prio"
STRESS_SECS=8		# one verifying fio round of the stress test
STRESS_CYCLES=3		# attach/detach cycles at least, under I/O
POLICY_SECS=6		# each fio run of the policy tests
export UFQ_VERIFY_SIZE=${UFQ_VERIFY_SIZE:-8M}
LOADER_PID=
LOOPDEV=
IODEVS=
WDT_OLD=

cleanup() {
	[ -n "$LOADER_PID" ] && kill -9 "$LOADER_PID" 2>/dev/null &&
		wait "$LOADER_PID" 2>/dev/null
	mountpoint -q "$WORK/mnt" && umount "$WORK/mnt"
	[ -n "$WDT_OLD" ] && echo "$WDT_OLD" > "$UFQ_WATCHDOG"
	cd /
	ufq_teardown_devices $NB $SLOW
	nullb_destroy $VSLOW 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

msg() { ktap_print_msg "$@"; }

# start_loader NAME TAG [options]: loader NAME of tools/ufq_iosched in
# the background, its output in $WORK/TAG.{out,err}, until it attached
start_loader() {
	local name=$1 tag=$2
	shift 2
	ufq_start_loader $tag ': attached' "$UFQ_BIN/$name" -i 1 "$@"
}

final() {	# final TAG NAME: a counter of the loader's final stats
	awk -v k="$2" '$1 == k { v = $2 } END { print v }' "$WORK/$1.out"
}

exit_line() {	# exit_line TAG: the loader's exit report
	grep -m1 ': exit kind=' "$WORK/$1.out"
}

# fio_json TAG EXPR...: values from fio's JSON output $WORK/TAG.json (j),
# on one line (one python3 start: slow under TCG)
fio_json() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(*[eval(e, {"j": j}) for e in sys.argv[2:]])' "$WORK/$1.json" "${@:2}"
}

# await_eject FIO_PID SECS: wait up to SECS for the loader to exit (the
# kernel ejected its scheduler), stop it if it did not, and wait for fio;
# the loader's status in ST; false if fio failed
await_eject() {
	local i
	for i in $(seq $(($2 * 10))); do
		kill -0 $LOADER_PID 2>/dev/null || break
		sleep 0.1
	done
	ufq_stop_loader
	ST=$?
	wait $1 || { msg "fio failed"; return 1; }
}

sum_stat() {	# sum_stat NAME DEV...: a debugfs counter summed over devices
	local name=$1 d s=0
	shift
	for d in "$@"; do s=$((s + $(ufq_stat "$d" "$name"))); done
	echo $s
}

ktap_print_header

ufq_prepare || skip_area_or_fail "CONFIG_IOSCHED_UFQ is not enabled"
for s in $SCHEDS; do
	[ -x "$UFQ_BIN/$s" ] ||
		ktap_exit_fail_msg "$UFQ_BIN/$s is missing: python -m harness build builds it"
done
cd "$WORK" || exit 1

ufq_setup_devices $NB $SLOW
# devices that never requeue: every dispatched request finishes once
EXACT="$NB ${LOOPDEV#/dev/}"

ktap_set_plan 13

# 1-2. verified random I/O on every device under each scheduler; the
# kernel's counters (debugfs) and the scheduler's own (BPF) agree that
# every request was inserted and dispatched exactly once
for s in $SCHEDS; do
	rc=0
	devopts=
	for d in $IODEVS; do
		ufq_set_sched $d ufq || rc=1
		devopts="$devopts -d $d"
	done
	b0=$(sum_stat bpf_dispatched $IODEVS)
	mb0=$(sum_stat bpf_merged_bios $IODEVS)
	mr0=$(sum_stat merged_requests $IODEVS)
	if start_loader $s $s-verify $devopts; then
		pids=
		for d in $IODEVS; do
			ufq_fio_verify $d $s-$d & pids="$pids $!"
		done
		for p in $pids; do wait $p || rc=1; done
		for d in $IODEVS; do
			[ "$(ufq_sched_field $d queue_attached)" = 1 ] || rc=1
			case " $EXACT " in
			*" $d "*) ufq_stats_consistent $d exact || rc=1 ;;
			*) ufq_stats_consistent $d || rc=1 ;;
			esac
		done
		ufq_stop_loader || { msg "$s exited with $?"; rc=1; }
		msg "$(exit_line $s-verify)"
		exit_line $s-verify | grep -q 'kind=unregistered' || rc=1
		ins=$(final $s-verify inserted); disp=$(final $s-verify dispatched)
		b1=$(sum_stat bpf_dispatched $IODEVS)
		msg "$s: inserted $ins dispatched $disp; debugfs bpf_dispatched +$((b1 - b0))"
		[ "${disp:-0}" -gt 0 ] && [ "$ins" = "$disp" ] &&
			[ $((b1 - b0)) -eq "$disp" ] || rc=1
		# (the kernel's finished counter is checked by ufq_stats_consistent)
		if [ $s = ufq_simple ]; then
			bm=$(($(final $s-verify bio_back_merges) + $(final $s-verify bio_front_merges)))
			[ $(($(sum_stat bpf_merged_bios $IODEVS) - mb0)) -eq $bm ] || rc=1
			[ $(($(sum_stat merged_requests $IODEVS) - mr0)) -eq \
			  "$(final $s-verify rq_merges)" ] || rc=1
		else
			# fio runs at the default priority, BE level 4
			[ "$(final $s-verify be4_dispatched)" = "$disp" ] || rc=1
			# ufq_prio's finish_req saw every request it dispatched
			[ "$(final $s-verify finished)" = "$disp" ] || rc=1
		fi
		# the devices were on ufq already: the loader leaves them there
		for d in $IODEVS; do
			grep -q '\[ufq\]' /sys/block/$d/queue/scheduler || rc=1
		done
	else
		rc=1
	fi
	ktap_result $rc "$s: verified randrw on $IODEVS, counters consistent"
done

# 3. ext4 with ufq_simple: files written, synced, read back from the disk;
# on null_blk and on virtio-blk, which has a volatile write cache, so that
# journal commits go through the flush machinery
FSDEVS=
for d in $IODEVS; do
	case $d in loop*) ;; *) FSDEVS="$FSDEVS $d" ;; esac
done
rc=0
mkdir -p "$WORK/mnt"
if start_loader ufq_simple ext4; then
	for d in $FSDEVS; do
		b0=$(ufq_stat $d bpf_dispatched)
		if ! mkfs.ext4 -q -F /dev/$d > "$WORK/mkfs.out" 2>&1 ||
		   ! mount /dev/$d "$WORK/mnt"; then
			sed 's/^/# /' "$WORK/mkfs.out"
			rc=1
			continue
		fi
		# three large files, and many small ones (one process: split)
		for i in 1 2 3; do
			head -c $((i * 1024 * 1024 + i * 4097)) /dev/urandom \
				> "$WORK/mnt/file$i" || rc=1
		done
		mkdir -p "$WORK/mnt/dir"
		head -c 3M /dev/urandom |
			split -b 29k -a 3 - "$WORK/mnt/dir/small" || rc=1
		dd if=/dev/urandom of="$WORK/mnt/direct" bs=64k count=32 \
			oflag=direct status=none || rc=1
		(cd "$WORK/mnt" && find . -type f -print0 | sort -z |
			xargs -0 sha256sum) > "$WORK/sums"
		sync
		echo 3 > /proc/sys/vm/drop_caches
		(cd "$WORK/mnt" && sha256sum -c --quiet "$WORK/sums") ||
			{ msg "$d: checksums differ after dropping caches"; rc=1; }
		umount "$WORK/mnt" || rc=1
		e2fsck -fn /dev/$d > "$WORK/fsck.out" 2>&1 ||
			{ sed 's/^/# /' "$WORK/fsck.out" | tail; rc=1; }
		b1=$(ufq_stat $d bpf_dispatched)
		msg "$d: $(wc -l < "$WORK/sums") files verified, $((b1 - b0)) requests dispatched by ufq_simple"
		[ "$b1" -gt "$b0" ] || rc=1
		ufq_stats_consistent $d || rc=1
	done
	ufq_stop_loader || rc=1
else
	rc=1
fi
ktap_result $rc "ufq_simple: ext4 files verified after sync and drop_caches on$FSDEVS"

# 4. like blktests block/005: switch the elevator among none, mq-deadline
# and ufq, and attach and detach ufq_simple, while verifying fio runs
rc=0
cycles=0
switches=0
rounds=0
fio_pids=
while [ $cycles -lt $STRESS_CYCLES ] || [ -n "$fio_pids" ]; do
	if [ -z "$fio_pids" ]; then
		rounds=$((rounds + 1))
		for d in $IODEVS; do
			ufq_fio_verify $d stress$rounds-$d --time_based \
				--runtime=$STRESS_SECS &
			fio_pids="$fio_pids $!"
		done
	fi
	if start_loader ufq_simple stress; then
		for d in $IODEVS; do
			for e in none ufq mq-deadline ufq; do
				ufq_set_sched $d $e || { msg "$d: cannot select $e"; rc=1; }
				switches=$((switches + 1))
			done
		done
		sleep 0.5
		ufq_stop_loader || { msg "ufq_simple exited with $?"; rc=1; }
		exit_line stress | grep -q 'kind=unregistered' || rc=1
		cycles=$((cycles + 1))
	else
		rc=1
		break
	fi
	for d in $IODEVS; do
		for e in mq-deadline none ufq; do
			ufq_set_sched $d $e || rc=1
			switches=$((switches + 1))
		done
	done
	running=
	for p in $fio_pids; do
		if kill -0 $p 2>/dev/null; then
			running="$running $p"
		else
			wait $p || rc=1
		fi
	done
	fio_pids=$running
	[ $cycles -lt $STRESS_CYCLES ] || [ -z "$fio_pids" ] || sleep 1
done
for p in $fio_pids; do wait $p || rc=1; done
for d in $IODEVS; do ufq_stats_consistent $d || rc=1; done
msg "$cycles attach/detach cycles, $switches elevator switches, $rounds fio rounds"
ktap_result $rc "stress: elevator switches and ufq_simple attach/detach under verifying fio"

# 5. the loader killed with SIGKILL: the kernel detaches the scheduler,
# the queue goes on in FIFO order and the I/O completes
rc=0
ufq_set_sched $NB mq-deadline || rc=1
if start_loader ufq_simple kill -d $NB; then
	ufq_fio_verify $NB kill-$NB --time_based --runtime=10 &
	fpid=$!
	for i in $(seq 600); do
		[ "$(ufq_stat $NB bpf_dispatched)" -gt 0 ] && break
		sleep 0.1
	done
	ufq_stop_loader KILL
	st=$?
	[ $st -eq 137 ] || { msg "loader status $st"; rc=1; }
	ufq_wait_state $NB disabled 30 || rc=1
	msg "after SIGKILL: $(ufq_sched_field $NB exit_kind): $(ufq_sched_field $NB exit_reason)"
	[ "$(ufq_sched_field $NB exit_kind)" = unregistered ] || rc=1
	[ "$(ufq_sched_field $NB queue_attached)" = 0 ] || rc=1
	grep -q '\[ufq\]' /sys/block/$NB/queue/scheduler || rc=1
	# the run in flight at the kill completes and verifies
	wait $fpid || rc=1
	# and new I/O is dispatched by the kernel's FIFO, none by BPF (a
	# fresh run: the one above may have ended before the detach showed)
	b1=$(ufq_stat $NB bpf_dispatched); d1=$(ufq_stat $NB dispatched)
	ufq_fio_verify $NB kill-fifo-$NB || rc=1
	b2=$(ufq_stat $NB bpf_dispatched); d2=$(ufq_stat $NB dispatched)
	msg "$NB: dispatched $d1 -> $d2 after the kill, by BPF $b1 -> $b2"
	[ "$b1" -gt 0 ] && [ "$b2" -eq "$b1" ] && [ "$d2" -gt "$d1" ] || rc=1
	ufq_stats_consistent $NB exact || rc=1
else
	rc=1
fi
ktap_result $rc "ufq_simple killed by SIGKILL: detached, I/O completes in FIFO mode"

# 6. the loader reports an eject by the kernel: with -S ufq_simple
# declines every dispatch (has_req returns false) while the requests of 32
# random readers wait in its trees, and the watchdog (500 ms) ejects it
# within twice its timeout; the loader exits with status 2 and restores
# the device's scheduler.  (A correct scheduler on a slow device is not
# ejected: test 12.)
rc=0
WDT_OLD=$(cat $UFQ_WATCHDOG)
ufq_set_sched $SLOW mq-deadline || rc=1
echo 500 > $UFQ_WATCHDOG
if start_loader ufq_simple wdog -d $SLOW -S; then
	echo 128 > /sys/block/$SLOW/queue/nr_requests
	fio --name=wdog --filename=/dev/$SLOW --rw=randread --bs=4k \
		--ioengine=libaio --iodepth=32 --direct=1 --time_based \
		--runtime=5 --output="$WORK/wdog.fio" > /dev/null 2>&1 &
	await_eject $! 60 || rc=1
	st=$ST
	sed -n '/ejected\|exit kind/s/^/# /p' "$WORK/wdog.out"
	[ $st -eq 2 ] || { msg "loader status $st"; rc=1; }
	grep -q 'ufq_simple: ejected by the kernel' "$WORK/wdog.out" || rc=1
	exit_line wdog | grep -q "kind=watchdog reason=watchdog: request on $SLOW not dispatched for .* the scheduler declined every time it was asked" || rc=1
	waited=$(exit_line wdog | sed -n 's/.* not dispatched for \([0-9]*\) ms.*/\1/p')
	if [ -z "$waited" ] || [ "$waited" -lt 500 ] || [ "$waited" -gt 1000 ]; then
		msg "the watchdog fired after '${waited:-?}' ms, not within 500..1000 ms"
		rc=1
	fi
	grep -q '\[mq-deadline\]' /sys/block/$SLOW/queue/scheduler ||
		{ msg "$SLOW: $(cat /sys/block/$SLOW/queue/scheduler)"; rc=1; }
else
	rc=1
fi
echo "$WDT_OLD" > $UFQ_WATCHDOG
WDT_OLD=
ktap_result $rc "loader reports the kernel's eject of a declining scheduler (has_req false), exits 2, restores the scheduler"

# 7. ufq_simple merges bios into its requests with the KF_SPIN_LOCK kfuncs:
# two streams of sequential 4k writes queue up on the slow device.  (With
# one stream, a request dispatched from insert_req while the device is
# busy waits in the kernel's FIFO and the kernel merges the stream into
# it; the second stream's requests wait in ufq_simple's trees.)
rc=0
ufq_set_sched $SLOW ufq || rc=1
mb0=$(ufq_stat $SLOW bpf_merged_bios)
if start_loader ufq_simple merge; then
	echo 128 > /sys/block/$SLOW/queue/nr_requests
	fio --name=seq --filename=/dev/$SLOW --rw=write --bs=4k --size=4M \
		--numjobs=2 --offset_increment=8M \
		--ioengine=libaio --iodepth=32 --iodepth_batch_submit=1 \
		--direct=1 --verify=crc32c --verify_fatal=1 --do_verify=1 \
		--output="$WORK/merge.fio" > /dev/null 2>&1 || rc=1
	ufq_stop_loader || rc=1
	back=$(final merge bio_back_merges); front=$(final merge bio_front_merges)
	mb1=$(ufq_stat $SLOW bpf_merged_bios)
	msg "bio merges: back $back front $front request $(final merge rq_merges); debugfs bpf_merged_bios +$((mb1 - mb0))"
	[ "${back:-0}" -gt 0 ] && [ $((mb1 - mb0)) -eq $((back + front)) ] || rc=1
	ufq_stats_consistent $SLOW exact || rc=1
else
	rc=1
fi
ktap_result $rc "ufq_simple: bio merges under bpf_spin_lock, counted once"

# 8-9. ufq_prio's effect, against mq-deadline on the same slow device
# policy_run SCHED TAG FIO_JOBS...: run fio's jobs on $SLOW under SCHED
# (mq-deadline, or ufq with the ufq_prio loader), JSON in $WORK/TAG.json
policy_run() {
	local sched=$1 tag=$2 rc=0
	shift 2
	if [ $sched = ufq_prio ]; then
		start_loader ufq_prio $tag -d $SLOW || return 1
	else
		ufq_set_sched $SLOW $sched || return 1
	fi
	echo 128 > /sys/block/$SLOW/queue/nr_requests
	fio --filename=/dev/$SLOW --direct=1 --ioengine=libaio --bs=4k \
		--time_based --runtime=$POLICY_SECS --output-format=json \
		--output="$WORK/$tag.json" "$@" > /dev/null 2>&1 || rc=1
	if [ $sched = ufq_prio ]; then
		ufq_stop_loader || rc=1
		msg "ufq_prio dispatched be0 $(final $tag be0_dispatched) be7 $(final $tag be7_dispatched)"
		[ "$(final $tag be0_dispatched)" -gt 0 ] &&
			[ "$(final $tag be7_dispatched)" -gt 0 ] || rc=1
	fi
	return $rc
}

# policy_compare TAG FIO_JOBS...: the jobs under mq-deadline, then under
# ufq_prio; JSON in $WORK/TAG-mq-deadline.json and $WORK/TAG-ufq_prio.json
policy_compare() {
	local tag=$1 s rc=0
	shift
	for s in mq-deadline ufq_prio; do
		policy_run $s $tag-$s "$@" || rc=1
	done
	return $rc
}

# ratio A B: A / B with two decimals
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

# 8. latency of a high priority reader (BE level 0, queue depth 1) next
# to a bulk reader (BE level 7, 32 random reads in flight).  Against a bulk
# writer mq-deadline's read preference already protects the reader (about
# 1.7x worse than ufq_prio here); against other reads it does not.
policy_compare lat \
	--name=hi --rw=randread --iodepth=1 --prioclass=2 --prio=0 \
	--name=bulk --rw=randread --iodepth=32 --prioclass=2 --prio=7
rc=$?
if [ $rc -eq 0 ]; then
	lat='j["jobs"][0]["read"]["clat_ns"]["mean"]'
	ios='j["jobs"][0]["read"]["total_ios"]'
	bulk='j["jobs"][1]["read"]["total_ios"]'
	read -r dl dl_ios dl_bulk <<< "$(fio_json lat-mq-deadline "$lat" "$ios" "$bulk")"
	read -r pr pr_ios pr_bulk <<< "$(fio_json lat-ufq_prio "$lat" "$ios" "$bulk")"
	msg "high priority reader mean latency: mq-deadline $(ratio "$dl" 1000000) ms, ufq_prio $(ratio "$pr" 1000000) ms: $(ratio "$dl" "$pr")x lower"
	msg "I/Os high priority/bulk: mq-deadline $dl_ios/$dl_bulk, ufq_prio $pr_ios/$pr_bulk"
	# ufq_prio serves the reader right after the request in flight, where
	# mq-deadline sorts it in with the bulk reader's queue: about 10x
	# lower here; assert at least 2x
	awk -v d="$dl" -v p="$pr" 'BEGIN { exit !(p > 0 && d >= 2 * p) }' || rc=1
fi
ktap_result $rc "ufq_prio: a high priority reader's latency next to a bulk reader, at least 2x lower than mq-deadline"

# 9. two backlogged readers at BE levels 0 and 7 (32 requests in flight
# each): ufq_prio shares the device by weight, 8:1; mq-deadline does not
# tell the levels apart.  The share is only as exact as the readers keep
# their queues full: under TCG on a busy host fio is not always quick
# enough to refill the level 0 queue, which then goes empty and hands
# dispatches to level 7 (4.5:1 to 7:1 measured).
policy_compare share \
	--name=be0 --rw=randread --iodepth=32 --prioclass=2 --prio=0 \
	--name=be7 --rw=randread --iodepth=32 --prioclass=2 --prio=7
rc=$?
if [ $rc -eq 0 ]; then
	for s in mq-deadline ufq_prio; do
		read -r a b <<< "$(fio_json share-$s 'j["jobs"][0]["read"]["total_ios"]' \
			'j["jobs"][1]["read"]["total_ios"]')"
		eval "share_${s//-/_}=$(ratio "$a" "$b")"
		msg "$s: be0 $a I/Os, be7 $b I/Os: $(ratio "$a" "$b"):1"
	done
	awk -v u="$share_ufq_prio" -v d="$share_mq_deadline" \
		'BEGIN { exit !(u >= 3 && u >= 2 * d) }' || rc=1
fi
ktap_result $rc "ufq_prio: backlogged BE0 and BE7 readers share the device by weight (8:1, at least 3:1), mq-deadline does not"

# 10. loader errors: bad options and a second scheduler (EBUSY) are
# refused with a message and status 1, without touching any device
rc=0
check_refused() {	# check_refused PATTERN LOADER ARGS...: status 1, message
	local pat=$1 out
	shift
	out=$("$UFQ_BIN/$@" 2>&1 < /dev/null)
	local st=$?
	if [ $st -ne 1 ] || ! grep -q -- "$pat" <<< "$out"; then
		msg "$*: status $st: $out"
		return 1
	fi
}
check_refused 'not a whole-disk block device' ufq_simple -d /dev/nonexistent || rc=1
check_refused '-i takes seconds' ufq_simple -i 0 || rc=1
check_refused '-b takes' ufq_simple -b x || rc=1
check_refused '-w takes BUCKET=WEIGHT' ufq_prio -w be8=2 || rc=1
check_refused 'unexpected argument' ufq_prio extra || rc=1
"$UFQ_BIN/ufq_prio" -h 2>&1 | grep -q '^Usage: ufq_prio' || rc=1
ufq_set_sched $NB none || rc=1
if start_loader ufq_simple busy; then
	check_refused 'another UFQ scheduler is attached' ufq_prio -d $NB || rc=1
	# the refused loader put back what it had changed
	grep -q '\[none\]' /sys/block/$NB/queue/scheduler || rc=1
	ufq_stop_loader || rc=1
else
	rc=1
fi
ktap_result $rc "loaders refuse bad options and a second attach (EBUSY) with a message"

# 11. ufq_simple dispatches a request from insert_req (UFQ_INSERT_DISPATCH)
# when nothing waits: direct reads, one at a time, all go that way and the
# kernel counts them as BPF dispatches; of test 7's writes, which waited on
# the slow device, some went through the sector trees
rc=0
ufq_set_sched $NB ufq || rc=1
b0=$(ufq_stat $NB bpf_dispatched)
if start_loader ufq_simple direct; then
	dd if=/dev/$NB of=/dev/null bs=4k count=64 iflag=direct status=none || rc=1
	ufq_stop_loader || rc=1
	direct=$(final direct dispatched_direct)
	b1=$(ufq_stat $NB bpf_dispatched)
	msg "64 reads at queue depth 1: dispatched_direct $direct; debugfs bpf_dispatched +$((b1 - b0))"
	[ "${direct:-0}" -ge 64 ] && [ $((b1 - b0)) -eq 64 ] || rc=1
else
	rc=1
fi
m_direct=$(final merge dispatched_direct); m_ins=$(final merge inserted)
msg "test 7's queued writes: inserted $m_ins dispatched_direct $m_direct"
[ "${m_ins:-0}" -gt 0 ] && [ "${m_direct:-0}" -lt "$m_ins" ] || rc=1
ktap_result $rc "ufq_simple: direct dispatch from insert_req when nothing waits, the sector trees when requests wait"

# 12. the watchdog ejects only a scheduler that declines, never one whose
# device is slow: on a device with one tag and 500 ms completions, 16
# readers queue up in ufq_simple for 15 s, each request waiting up to 8 s
# (more than the 3 s timeout) while the scheduler dispatches whenever
# blk-mq asks: no eject, and dispatches come in every 3 s (4 windows from
# the first dispatch).  Then ufq_simple
# -S (has_req false) on the same device is ejected within twice the timeout.
rc=0
WDT_OLD=$(cat $UFQ_WATCHDOG)
echo 3000 > $UFQ_WATCHDOG
if nullb_create $VSLOW 64 hw_queue_depth=1 irqmode=2 \
	completion_nsec=500000000 && ufq_set_sched $VSLOW ufq &&
   echo 128 > /sys/block/$VSLOW/queue/nr_requests &&
   start_loader ufq_simple vslow -d $VSLOW; then
	fio --name=vslow --filename=/dev/$VSLOW --rw=randread --bs=4k \
		--ioengine=psync --direct=1 --numjobs=16 --time_based \
		--runtime=15 --output="$WORK/vslow.fio" > /dev/null 2>&1 &
	fpid=$!
	windows=
	b0=$(ufq_stat $VSLOW bpf_dispatched)
	# 16 fio jobs take seconds to start under TCG: from the first dispatch
	for i in $(seq 300); do
		[ "$(ufq_stat $VSLOW bpf_dispatched)" -gt $b0 ] && break
		sleep 0.1
	done
	b0=$(ufq_stat $VSLOW bpf_dispatched)
	for w in 1 2 3 4; do
		sleep 3
		b1=$(ufq_stat $VSLOW bpf_dispatched)
		windows="$windows $((b1 - b0))"
		[ $b1 -gt $b0 ] || rc=1
		b0=$b1
	done
	msg "ufq_simple on $VSLOW (500 ms, 16 readers): BPF dispatches per 3 s:$windows, $(ufq_stat $VSLOW queued_bpf) queued"
	wait $fpid || { msg "fio failed"; rc=1; }
	msg "state $(ufq_sched_field $VSLOW state) exit_kind $(ufq_sched_field $VSLOW exit_kind)"
	[ "$(ufq_sched_field $VSLOW state)" = enabled ] || rc=1
	ufq_stop_loader || rc=1
	exit_line vslow | grep -q 'kind=unregistered' || rc=1
	ufq_stats_consistent $VSLOW exact || rc=1
	# the same device and load, a scheduler that declines
	if start_loader ufq_simple vstall -d $VSLOW -S; then
		fio --name=vstall --filename=/dev/$VSLOW --rw=randread \
			--bs=4k --ioengine=psync --direct=1 --numjobs=16 \
			--time_based --runtime=8 \
			--output="$WORK/vstall.fio" > /dev/null 2>&1 &
		await_eject $! 30 || rc=1
		st=$ST
		msg "$(exit_line vstall)"
		[ $st -eq 2 ] || { msg "loader status $st"; rc=1; }
		exit_line vstall | grep -q 'kind=watchdog' || rc=1
		waited=$(exit_line vstall | sed -n 's/.* not dispatched for \([0-9]*\) ms.*/\1/p')
		if [ -z "$waited" ] || [ "$waited" -lt 3000 ] || [ "$waited" -gt 6000 ]; then
			msg "the watchdog fired after '${waited:-?}' ms, not within 3000..6000 ms"
			rc=1
		fi
	else
		rc=1
	fi
else
	rc=1
fi
echo "$WDT_OLD" > $UFQ_WATCHDOG
WDT_OLD=
nullb_destroy $VSLOW || rc=1
ktap_result $rc "watchdog: a slow device (500 ms) never ejects ufq_simple, a declining scheduler is ejected within twice the timeout"

# 13. ufq_prio's limit_depth: a bulk reader (BE level 7) with 256 requests
# in flight, twice the queue's 128 tags, and a high priority reader (BE
# level 0, one at a time) in the same run, each a fio of its own under
# ionice.  Without a depth limit the bulk job holds every tag and the high
# priority reader waits for one behind it, as long as a bulk request
# (ratio about 1); with requests below BE0 limited to 3/4 of the tags it
# gets one at once and ufq_prio dispatches it next: its mean latency
# (submission included) is far below the bulk job's.  Assert 5x.
rc=0
if start_loader ufq_prio depth -d $SLOW; then
	echo 128 > /sys/block/$SLOW/queue/nr_requests
	ionice -c2 -n7 fio --name=bulk --filename=/dev/$SLOW --rw=randread \
		--bs=4k --ioengine=libaio --iodepth=256 --direct=1 \
		--time_based --runtime=$POLICY_SECS --output-format=json \
		--output="$WORK/depth-bulk.json" > /dev/null 2>&1 &
	bpid=$!
	ionice -c2 -n0 fio --name=hi --filename=/dev/$SLOW --rw=randread \
		--bs=4k --ioengine=libaio --iodepth=1 --direct=1 \
		--time_based --runtime=$POLICY_SECS --output-format=json \
		--output="$WORK/depth-hi.json" > /dev/null 2>&1 || rc=1
	wait $bpid || rc=1
	ufq_stop_loader || rc=1
	msg "ufq_prio dispatched be0 $(final depth be0_dispatched) be7 $(final depth be7_dispatched)"
	[ "$(final depth be0_dispatched)" -gt 0 ] &&
		[ "$(final depth be7_dispatched)" -gt 0 ] || rc=1
	lat='j["jobs"][0]["read"]["lat_ns"]["mean"]'
	ios='j["jobs"][0]["read"]["total_ios"]'
	read -r hl hn <<< "$(fio_json depth-hi "$lat" "$ios")"
	read -r bl bn <<< "$(fio_json depth-bulk "$lat" "$ios")"
	msg "mean latency: high priority $(ratio "$hl" 1000000) ms ($hn I/Os), bulk at iodepth 256 $(ratio "$bl" 1000000) ms ($bn I/Os): $(ratio "$bl" "$hl")x"
	awk -v h="$hl" -v b="$bl" 'BEGIN { exit !(h > 0 && b >= 5 * h) }' || rc=1
else
	rc=1
fi
ktap_result $rc "ufq_prio: limit_depth keeps tags for a high priority reader next to a bulk reader at iodepth 256 (5x lower latency)"

ktap_finished
