# SPDX-License-Identifier: GPL-2.0
# What the selftests/ufq scripts (run.sh, multiqueue.sh) source first: the
# kselftest KTAP helpers ($KSRC), ../lib's block, UFQ and strictness
# helpers, and the helpers below, which use $UFQ_TEST (the built ufq_test)
# and $WORK (a scratch directory).  $DIR is the directory of this file.

. "$KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh"
. "$DIR/../lib/blk.sh"
. "$DIR/../lib/ufq.sh"
. "$DIR/../lib/strict.sh"

msg() { ktap_print_msg "$@"; }

# start_loader MODE [EJECT_AFTER]: attach in the background until stopped
start_loader() {
	ufq_start_loader loader '^attached' "$UFQ_TEST" "$1" 0 ${2:-}
}

counter() {	# counter NAME: from the last loader's output
	awk -v k="$1" '$1 == k { print $2 }' "$WORK/loader.out"
}
