#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Demo of the BPF-controlled io_uring (make run): copy a file with the BPF
# cp loop (iou_cp) and check the copy byte for byte, then the NOP benchmark
# in short form, and last the checksum-after-READ example of IORING_OP_BPF
# (iou_crc: a READ of each 4 KiB block of a file linked to a BPF crc32c,
# checked against user space's crc32c).  Results go to
# $HARNESS_SHARED/iouring-demo/:
#   cp.json       what iou_cp reports
#   cp.result     "identical" or what went wrong
#   crc.json      what iou_crc reports (blocks, blocks whose checksums matched)
#   iouring/      the benchmark's JSON lines, as for `harness bench iouring`
#   bench.log     its output

DIR=$(dirname "$(readlink -f "$0")")
REPO=$(readlink -f "$DIR/../..")
BUILD=${IOU_BUILD:-$REPO/build/selftests/iouring}
OUT=${HARNESS_SHARED:-/tmp}/iouring-demo
SIZE=${IOU_DEMO_SIZE:-$(((8 << 20) + 4321))}
mkdir -p "$OUT"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# not a multiple of the 64 KiB block: the last READ is short
head -c "$SIZE" /dev/urandom > "$work/src"
if ! "$BUILD/iou_cp" "$work/src" "$work/dst" 65536 > "$OUT/cp.json"; then
	echo "iou_cp failed" > "$OUT/cp.result"
elif cmp -s "$work/src" "$work/dst"; then
	echo identical > "$OUT/cp.result"
else
	echo "copy differs: $(cmp "$work/src" "$work/dst" 2>&1 | head -1)" > "$OUT/cp.result"
fi

# 16 blocks and a short one
head -c $(((64 << 10) + 1000)) /dev/urandom > "$work/crc"
"$BUILD/iou_crc" "$work/crc" > "$OUT/crc.json" 2> "$OUT/crc.log"

IOU_BENCH=$BUILD/iou_bench IOU_BENCH_OUT=$OUT/iouring IOU_BENCH_NOPS=${IOU_DEMO_NOPS:-50000} \
	IOU_BENCH_REPS=1 IOU_BENCH_VARIANTS="link2 qd1 bpf bpf_inline" \
	bash "$DIR/../bench/iouring.sh" > "$OUT/bench.log" 2>&1
