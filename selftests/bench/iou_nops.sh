#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: N sequential NOPs on the same kind of ring, three ways: a 2-NOP
# link chain per submit-and-wait syscall (link2), one NOP per submit-and-wait
# (qd1), and the BPF event loop running all of them in one syscall (bpf).
# Variants alternate, REPS runs each; one JSON line per run in
# $HARNESS_SHARED/iou_nops/<variant>_<run>.json.

DIR=$(dirname "$(readlink -f "$0")")
REPO=$(readlink -f "$DIR/../..")
BENCH=${IOU_BENCH:-$REPO/build/selftests/iouring/iou_bench}
NOPS=${IOU_BENCH_NOPS:-200000}
REPS=${IOU_BENCH_REPS:-5}
OUT=$HARNESS_SHARED/iou_nops
mkdir -p "$OUT"

rc=0
for run in $(seq 1 "$REPS"); do
	for variant in link2 qd1 bpf bpf_empty bpf_empty_ns bpf_regions; do
		echo "bench: iou_nops $variant run $run"
		"$BENCH" "$variant" "$NOPS" > "$OUT/${variant}_${run}.json" ||
			{ echo "iou_bench $variant failed"; rc=1; }
	done
done
exit $rc
