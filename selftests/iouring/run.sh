#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest entry point of the io_uring selftests: every case of iou_test in its
# own process, one KTAP result each, the case's output as diagnostics.
# Exit 0 if none failed, 1 if any failed, 4 if the area cannot run at
# all.  With HARNESS_STRICT=1 a missing feature (iou_test not built, no
# BPF loop ops in the kernel) fails instead of skipping
# (selftests/lib/strict.sh).

DIR=$(dirname "$(readlink -f "$0")")
OUTPUT=${OUTPUT:-$DIR}
KSRC=${KSRC:-$(readlink -f "$DIR/../../build/linux")}
. "$KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh"
. "$DIR/../lib/strict.sh"

CASE_TIMEOUT=${CASE_TIMEOUT:-300}
# the loop ops and regions, then IORING_OP_BPF
PROGS="$OUTPUT/iou_test $OUTPUT/iou_opbpf"

ktap_print_header
for p in $PROGS; do
	[ -x "$p" ] || skip_area_or_fail "$p not built"
done
cases=$(for p in $PROGS; do "$p" -l | sed "s|^|$p |"; done)
ktap_set_plan "$(echo "$cases" | wc -l)"

while read -r PROG c; do
	out=$(timeout -k 10 "$CASE_TIMEOUT" "$PROG" "$c" 2>&1 </dev/null)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed -e 's/^# //' -e 's/^/# /'
	case $rc in
	0) ktap_test_pass "$c" ;;
	4) skip_test_or_fail "$c" "$(printf '%s\n' "$out" | tail -1)" ;;
	124|137) ktap_print_msg "timed out after ${CASE_TIMEOUT}s"; ktap_test_fail "$c" ;;
	*) ktap_print_msg "exit status $rc"; ktap_test_fail "$c" ;;
	esac
done <<< "$cases"

ktap_print_totals
# Skipped cases are "ok ... # SKIP" results of a full plan: exit 4 is only
# for a whole-area skip ("1..0 # SKIP", above), as the harness requires.
[ "$KTAP_CNT_FAIL" -ne 0 ] && exit "$KSFT_FAIL"
exit "$KSFT_PASS"
