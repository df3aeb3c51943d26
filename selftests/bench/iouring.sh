#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: N sequential NOPs on the same kind of ring, each submitted after
# the one before it completed: a 2-NOP link chain per submit-and-wait syscall
# (link2), one NOP per submit-and-wait (qd1), and the BPF event loop running
# all of them in one syscall, one NOP per loop step (bpf) or reaping inline
# completions within a step (bpf_inline).  bpf_empty, bpf_empty_ns and
# bpf_regions time N loop steps without NOPs, to show what a step costs.
# REPS runs of every variant, in the given order in odd runs and reversed in
# even ones; one JSON line per run in $OUT/<variant>_<run>.json.  iou_bench
# times only the NOPs (or steps), in guest time: instructions under the
# instruction-count clock.
#
# IOU_BENCH_VARIANTS, IOU_BENCH_NOPS and IOU_BENCH_REPS shorten it (the demo).

DIR=$(dirname "$(readlink -f "$0")")
REPO=$(readlink -f "$DIR/../..")
BENCH=${IOU_BENCH:-$REPO/build/selftests/iouring/iou_bench}
NOPS=${IOU_BENCH_NOPS:-100000}
REPS=${IOU_BENCH_REPS:-5}
VARIANTS=${IOU_BENCH_VARIANTS:-link2 qd1 bpf bpf_inline bpf_empty bpf_empty_ns bpf_regions}
OUT=${IOU_BENCH_OUT:-$HARNESS_SHARED/iouring}
mkdir -p "$OUT"

reversed=
for variant in $VARIANTS; do
	reversed="$variant $reversed"
done

# the BPF JIT is what a struct_ops program runs as
echo "bench: iouring: bpf_jit_enable=$(cat /proc/sys/net/core/bpf_jit_enable 2>/dev/null || echo '?')"
rc=0
for run in $(seq 1 "$REPS"); do
	order=$VARIANTS
	[ $((run % 2)) = 0 ] && order=$reversed
	for variant in $order; do
		echo "bench: iouring $variant run $run"
		"$BENCH" "$variant" "$NOPS" > "$OUT/${variant}_${run}.json" ||
			{ echo "iou_bench $variant failed"; rc=1; }
	done
done
exit $rc
