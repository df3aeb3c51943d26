#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Data-verify workload: fio random read/write with crc32c verification on a
# memory-backed null_blk and on the guest's virtio-blk disk, under every
# built-in I/O scheduler.  One KTAP result per device and scheduler; a row
# per run in $HARNESS_SHARED/verify.tsv for the demo table.

DIR=$(dirname "$(readlink -f "$0")")
. "$KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh"
. "$DIR/../lib/blk.sh"
. "$DIR/../lib/strict.sh"

SCHEDULERS=${SCHEDULERS:-"none mq-deadline kyber bfq"}
SIZE=${VERIFY_SIZE:-32M}
TSV=${HARNESS_SHARED:-/tmp}/verify.tsv
WORK=$(mktemp -d)

ktap_print_header
check_test_disk
devices="/dev/verify0 ${TEST_DISK:-}"
set -- $devices
ndev=$#
nsched=$(echo $SCHEDULERS | wc -w)
ktap_set_plan $((ndev * nsched + 1))

if ! nullb_create verify0 256; then
	ktap_exit_fail_msg "cannot create a memory-backed null_blk through configfs"
fi
printf 'device\tscheduler\tbytes_written\tbytes_verified\tresult\n' > "$TSV"

for dev in $devices; do
	for sched in $SCHEDULERS; do
		name="verify $(dev_name "$dev") $sched"
		if ! set_scheduler "$dev" "$sched"; then
			ktap_print_msg "cannot select $sched on $dev: $(cat /sys/block/$(dev_name "$dev")/queue/scheduler)"
			ktap_test_fail "$name"
			printf '%s\t%s\t0\t0\tno-scheduler\n' "$(dev_name "$dev")" "$sched" >> "$TSV"
			continue
		fi
		json=$WORK/$(dev_name "$dev")-$sched.json
		if fio_verify "$dev" "$SIZE" "$json"; then
			written=$(fio_json_field "$json" 'j["jobs"][0]["write"]["io_bytes"]')
			verified=$(fio_json_field "$json" 'j["jobs"][0]["read"]["io_bytes"]')
			errors=$(fio_json_field "$json" 'j["jobs"][0]["error"]')
			if [ "$errors" = 0 ] && [ "$written" -gt 0 ]; then
				printf '%s\t%s\t%s\t%s\tverified\n' "$(dev_name "$dev")" "$sched" \
					"$written" "$verified" >> "$TSV"
				ktap_test_pass "$name"
				continue
			fi
			ktap_print_msg "fio error $errors, wrote $written bytes"
		else
			ktap_print_msg "fio failed on $dev under $sched:"
			cat "$json.log" "$json" 2>/dev/null | tail -20 | sed 's/^/# /'
		fi
		printf '%s\t%s\t0\t0\tFAILED\n' "$(dev_name "$dev")" "$sched" >> "$TSV"
		ktap_test_fail "$name"
	done
done

nullb_destroy verify0

# The check itself must be able to fail: a plain null_blk stores nothing, so
# verifying data read back from it has to fail with fio's verify error: a
# "verify: bad ..." or "crc32c: verify failed" line and the job's error
# EILSEQ (84), not any other failure of fio (missing, a bad option, EIO).
VERIFY_ERROR='^(verify: bad |crc32c: verify failed )'
lossy_verify_fails() {
	local json=$WORK/lossy.json rc err
	fio_verify /dev/lossy0 4M "$json"
	rc=$?
	if [ $rc -eq 0 ]; then
		ktap_print_msg "fio verify passed on a device that stores nothing"
		return 1
	fi
	err=$(fio_json_field "$json" 'j["jobs"][0]["error"]' 2>/dev/null)
	if [ "$err" != 84 ] || ! grep -Eq "$VERIFY_ERROR" "$json.log"; then
		ktap_print_msg "fio exited with $rc, job error ${err:-none}: not a verify failure (want error 84, EILSEQ, and a verify error line):"
		tail -10 "$json.log" | sed 's/^/# /'
		return 1
	fi
	ktap_print_msg "fio exited with $rc, job error $err: $(grep -Em1 "$VERIFY_ERROR" "$json.log")"
}
if nullb_create lossy0 64 memory_backed=0; then
	ktap_test_result "verify detects lost data" lossy_verify_fails
	nullb_destroy lossy0
else
	ktap_test_fail "verify detects lost data (cannot create lossy0)"
fi
rm -rf "$WORK"
ktap_finished
