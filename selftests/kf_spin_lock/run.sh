#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest entry point of the KF_SPIN_LOCK verifier tests: prints KTAP on
# stdout and exits 0 (all passed), 1 (a failure) or 4 (skipped: not root;
# with HARNESS_STRICT=1 that fails instead, selftests/lib/strict.h).
# OUTPUT holds kfsl_verifier and kfsl_test_mod.ko (built by the Makefile).
# The built-in flagged case attaches a UFQ scheduler to a memory-backed
# null_blk using ufq, made here and named in KFSL_UFQ_DEV (when it cannot be
# made, that case fails and says why).

: "${OUTPUT:?OUTPUT must name the directory of the built tests}"

prog="$OUTPUT/kfsl_verifier"
mod="$OUTPUT/kfsl_test_mod.ko"

if [ ! -x "$prog" ] || [ ! -f "$mod" ]; then
	echo "TAP version 13"
	echo "1..1"
	echo "# missing $prog or $mod: build selftests/kf_spin_lock first"
	echo "not ok 1 kf_spin_lock_built"
	exit 1
fi

DIR=$(dirname "$(readlink -f "$0")")
. "$DIR/../lib/blk.sh"

NB=kfslufq0
trap 'nullb_destroy $NB 2>/dev/null' EXIT
KFSL_UFQ_DEV=
if nullb_create $NB 16 >&2 && set_scheduler $NB ufq >&2; then
	KFSL_UFQ_DEV=/dev/$NB
fi
KFSL_UFQ_DEV=$KFSL_UFQ_DEV "$prog" "$mod"
