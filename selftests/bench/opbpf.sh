#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: what IORING_OP_BPF costs per request (selftests/iouring's
# iou_opbpf_bench, which describes the variants): 64 NOPs against 64 BPF
# operations per enter, a 3-NOP link against NOP -> BPF -> NOP, READ ->
# transform -> WRITE of 4 KiB blocks between two tmpfs files three ways
# (user space between two enters, a link through a BPF operation, the BPF
# event loop), and 64 NOPs per enter on a ring without IORING_SETUP_BPF_EXT
# (nop64_plain), which the harness also runs on a kernel built without
# CONFIG_IO_URING_BPF_EXT (OPBPF_VARIANTS=nop64_plain).
#
# REPS runs of every variant, in the given order in odd runs and reversed in
# even ones; one JSON line per run in $OUT/<variant>_<run>.json and the
# order the runs ran in, one "<run> <variant>" line each, in $OUT/order.
#
# OPBPF_VARIANTS, OPBPF_REPS, OPBPF_NOPS, OPBPF_LINKS and OPBPF_BLOCKS
# shorten it.

DIR=$(dirname "$(readlink -f "$0")")
REPO=$(readlink -f "$DIR/../..")
. "$DIR/lib.sh"
BENCH=${OPBPF_BENCH:-$REPO/build/bench/selftests/iouring/iou_opbpf_bench}
REPS=${OPBPF_REPS:-5}
NOPS=${OPBPF_NOPS:-131072}
LINKS=${OPBPF_LINKS:-60000}
BLOCKS=${OPBPF_BLOCKS:-4096}
VARIANTS=${OPBPF_VARIANTS:-nop64 bpf64 bpf64_all link3 link_bpf xf_user xf_link xf_loop nop64_plain}
OUT=${OPBPF_OUT:-$HARNESS_SHARED/opbpf}
mkdir -p "$OUT"
: > "$OUT/order"

TMP=$(mktemp -d /tmp/opbpf.XXXXXX)
# the transforms' files: memory, no waiting on the host
mount -t tmpfs -o size=16M tmpfs "$TMP" || { echo "cannot mount a tmpfs"; exit 1; }
trap 'umount "$TMP"; rmdir "$TMP"' EXIT

reversed=$(reverse $VARIANTS)

# unmeasured: the program's pages come from the host's 9p root once, and
# under the instruction-count clock waiting for the host counts as time
for variant in $VARIANTS; do
	"$BENCH" "$variant" 192 "$TMP" > /dev/null ||
		{ echo "iou_opbpf_bench $variant (warm-up) failed"; exit 1; }
done

echo "bench: opbpf: $(uname -r), bpf_jit_enable=$(cat /proc/sys/net/core/bpf_jit_enable 2>/dev/null || echo '?')"
rc=0
for run in $(seq 1 "$REPS"); do
	order=$VARIANTS
	[ $((run % 2)) = 0 ] && order=$reversed
	for variant in $order; do
		case $variant in
		link*) nr=$LINKS ;;
		xf_*) nr=$BLOCKS ;;
		*) nr=$NOPS ;;
		esac
		echo "bench: opbpf $variant run $run"
		echo "$run $variant" >> "$OUT/order"
		"$BENCH" "$variant" "$nr" "$TMP" > "$OUT/${variant}_${run}.json" ||
			{ echo "iou_opbpf_bench $variant failed"; rc=1; }
	done
done
exit $rc
