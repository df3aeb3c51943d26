#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# perf_profile.sh [-n OPS] [-F HZ] NAME -- CMD [ARGS...]
#
# Where the guest's time goes while CMD runs: `perf record -a` at HZ
# samples per second of guest time (default 10000) around CMD, reduced to
# one line per symbol with its samples, its share and, with -n (the
# operations CMD does: I/Os, requests), the guest nanoseconds per
# operation that fell in it.  Under `harness run --clock icount` guest time
# advances one nanosecond per instruction, so that last column is
# instructions per operation, the unit of `harness bench`; diff two
# profiles to see what one variant costs over another.
#
# The report is $HARNESS_SHARED/profile/NAME.txt (the run's rw/ directory
# on the host); CMD's own output goes to the console.  Everything CMD does
# counts, setup included: give it a count of operations that dwarfs it.
# Example, what an IORING_OP_BPF request costs over a NOP (bench opbpf's
# bpf64 and nop64, 64 requests per enter):
#
#   for v in nop64 bpf64; do
#     python -m harness run --profile bench --clock icount -- \
#       bash selftests/bench/perf_profile.sh -n 4194304 $v -- \
#       build/bench/selftests/iouring/iou_opbpf_bench $v 4194304
#   done

set -u
usage() {
	echo "usage: perf_profile.sh [-n OPS] [-F HZ] NAME -- CMD [ARGS...]" >&2
	exit 2
}

OPS= HZ=10000
while getopts n:F: opt; do
	case $opt in
	n) OPS=$OPTARG ;;
	F) HZ=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 3 ] && [ "$2" = -- ] || usage
NAME=$1
shift 2
[ -z "$OPS" ] || [ "$OPS" -gt 0 ] 2>/dev/null || { echo "perf_profile.sh: -n needs a positive count" >&2; exit 2; }
command -v perf > /dev/null || { echo "perf_profile.sh: no perf in the guest (Debian: linux-perf, in make deps)" >&2; exit 1; }
[ -n "${HARNESS_SHARED:-}" ] || { echo "perf_profile.sh: HARNESS_SHARED is not set (run it through harness run)" >&2; exit 1; }

OUT=$HARNESS_SHARED/profile
mkdir -p "$OUT"
DATA=$(mktemp /tmp/perf_profile.XXXXXX)
trap 'rm -f "$DATA"' EXIT

perf record -q -a -F "$HZ" -o "$DATA" -- "$@"
rc=$?
[ $rc = 0 ] || echo "perf_profile.sh: $* exited with $rc (profile kept)" >&2
{
	echo "# perf_profile.sh $NAME: $*"
	echo "# kernel $(uname -r), $HZ samples/s of guest time, ops ${OPS:-not given}"
	printf '# %8s %7s %10s  %s\n' samples share ns/op symbol
	perf report -i "$DATA" -n --no-children --sort sym --stdio 2>/dev/null |
		awk -v hz="$HZ" -v ops="$OPS" '
			/^#/ || NF < 4 { next }
			{
				share = $1; n = $2
				sym = $4; for (i = 5; i <= NF; i++) sym = sym " " $i
				per = ops ? sprintf("%10.1f", n * 1e9 / hz / ops) : sprintf("%10s", "-")
				printf "  %8d %7s %s  %s\n", n, share, per, sym
			}'
} > "$OUT/$NAME.txt"
echo "perf_profile.sh: $OUT/$NAME.txt"
head -25 "$OUT/$NAME.txt"
exit $rc
