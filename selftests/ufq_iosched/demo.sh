#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The UFQ part of the demo (make run), run after selftests/block/verify.sh
# in the same guest: ufq_simple (tools/ufq_iosched) attached to a
# memory-backed null_blk and to $TEST_DISK, the same data-verify workload
# under it, then the scheduler's statistics.  Appends one row per device
# to $HARNESS_SHARED/verify.tsv (scheduler "ufq_simple") and keeps the
# loader's output in $HARNESS_SHARED/ufq_simple.log.  KTAP on stdout.

DIR=$(dirname "$(readlink -f "$0")")
. "$KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh"
. "$DIR/../lib/blk.sh"
. "$DIR/../lib/ufq.sh"
. "$DIR/../lib/strict.sh"

UFQ_BIN=${UFQ_BIN:-$(dirname "$KSRC")/ufq_iosched/bin}
SIZE=${VERIFY_SIZE:-32M}
SHARED=${HARNESS_SHARED:-/tmp}
TSV=$SHARED/verify.tsv
LOG=$SHARED/ufq_simple.log
WORK=$(mktemp -d)
LOADER_PID=

cleanup() {
	[ -n "$LOADER_PID" ] && kill -9 "$LOADER_PID" 2>/dev/null
	nullb_destroy ufqdemo0 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

ktap_print_header
check_test_disk
devices=ufqdemo0
[ -n "${TEST_DISK:-}" ] && devices="$devices $(dev_name "$TEST_DISK")"
set -- $devices
ktap_set_plan $(($# + 1))

ufq_prepare || ktap_exit_fail_msg "no UFQ in this kernel (CONFIG_IOSCHED_UFQ)"
nullb_create ufqdemo0 256 || ktap_exit_fail_msg "cannot create a null_blk"
[ -s "$TSV" ] || printf 'device\tscheduler\tbytes_written\tbytes_verified\tresult\n' > "$TSV"

devopts=
for d in $devices; do devopts="$devopts -d $d"; done
"$UFQ_BIN/ufq_simple" -i 5 $devopts > "$LOG" 2>&1 &
LOADER_PID=$!
for i in $(seq 1800); do
	grep -q ': attached' "$LOG" && break
	kill -0 $LOADER_PID 2>/dev/null || break
	sleep 0.1
done
grep -q ': attached' "$LOG" || { sed 's/^/# /' "$LOG"; ktap_exit_fail_msg "ufq_simple did not attach"; }

for d in $devices; do
	json=$WORK/$d.json
	if fio_verify /dev/$d "$SIZE" "$json" &&
	   [ "$(fio_json_field "$json" 'j["jobs"][0]["error"]')" = 0 ]; then
		written=$(fio_json_field "$json" 'j["jobs"][0]["write"]["io_bytes"]')
		verified=$(fio_json_field "$json" 'j["jobs"][0]["read"]["io_bytes"]')
		printf '%s\tufq_simple\t%s\t%s\tverified\n' $d "$written" "$verified" >> "$TSV"
		ktap_test_pass "verify $d ufq_simple"
	else
		[ -f "$json" ] && sed 's/^/# /' "$json" | tail -20
		printf '%s\tufq_simple\t0\t0\tFAILED\n' $d >> "$TSV"
		ktap_test_fail "verify $d ufq_simple"
	fi
done

kill -INT $LOADER_PID
wait $LOADER_PID
rc=$?
LOADER_PID=
grep -q 'exit kind=unregistered' "$LOG" || rc=1
ktap_result $rc "ufq_simple detached cleanly"
ktap_finished
