# SPDX-License-Identifier: GPL-2.0
# Skips that cannot hide a broken feature (sourced by bash scripts).
#
# The harness exports HARNESS_STRICT=1 into every guest command of the
# project's own runs.  There a missing feature is a broken feature: each
# "feature missing" skip fails instead, naming what is missing.  Without it
# (run.sh run by hand on another kernel) a missing feature is skipped as
# kselftest does: "1..0 # SKIP reason" and exit 4 for a whole area.
#
# selftests/lib/strict.h is the same for the C test programs.

# strict_mode: true when HARNESS_STRICT is set to anything but "" or 0
strict_mode() {
	[ -n "${HARNESS_STRICT:-}" ] && [ "$HARNESS_STRICT" != 0 ]
}

# fail_area REASON...: end the area (after its KTAP header, before its
# plan) with one failing result named REASON, exit 1
fail_area() {
	echo "1..1"
	echo "# $*"
	echo "not ok 1 $*"
	exit 1
}

# skip_area_or_fail REASON...: end the area (after its KTAP header,
# before its plan) because a feature is missing: "1..0 # SKIP REASON" and
# exit 4, or when strict a failing result named REASON and exit 1
skip_area_or_fail() {
	if strict_mode; then
		echo "# HARNESS_STRICT=$HARNESS_STRICT: a missing feature is a failure"
		fail_area "$@"
	fi
	echo "1..0 # SKIP $*"
	exit 4
}

# skip_test_or_fail NAME REASON: the result of one test whose feature is
# missing (ktap_helpers.sh counts it): "ok N NAME # SKIP REASON", or when
# strict REASON as a diagnostic and "not ok N NAME"
skip_test_or_fail() {
	if strict_mode; then
		ktap_print_msg "$2 (HARNESS_STRICT=$HARNESS_STRICT: a missing feature is a failure)"
		ktap_test_fail "$1"
		return
	fi
	__ktap_test ok "$1" "SKIP $2"
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
}

# check_test_disk: TEST_DISK names the guest's extra disk to test on, if
# any.  Set but not a block device, it is dropped (TEST_DISK= and a
# diagnostic), or when strict the area fails (fail_area).  Call it after
# the KTAP header, before the plan.
check_test_disk() {
	[ -n "${TEST_DISK:-}" ] && [ ! -b "$TEST_DISK" ] || return 0
	if strict_mode; then
		fail_area "TEST_DISK=$TEST_DISK is not a block device"
	fi
	echo "# TEST_DISK=$TEST_DISK is not a block device: not tested"
	TEST_DISK=
}
