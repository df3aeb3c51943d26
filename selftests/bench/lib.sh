# SPDX-License-Identifier: GPL-2.0
# Shared by the fio benchmarks (sourced): each case (device, workload, queue
# depth) is one fio process running PAIRS pairs of RUNTIME-second runs, one
# run of every variant per pair, in the given order in odd pairs and in the
# reverse order in even ones.  Around each run fio calls hook.sh, which
# selects the variant's scheduler and snapshots the guest's CPU time (and
# UFQ's state), so that the host can check what was measured and divide CPU
# time by the I/Os done.  Results: OUT/fio.json (jobs <variant>-<pair>) and
# OUT/<variant>-<pair>.{prerun,postrun}.txt.

BENCH_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
. "$BENCH_DIR/../lib/blk.sh"

PAIRS=${PAIRS:-5}
RUNTIME=${RUNTIME:-1}

# post_command VARIANT DEV: fio's exec_postrun (no ";": fio cuts a value
# there): the snapshot first, with no shell script started before it
post_command() {
	local files="/proc/timer_list /proc/stat" dbg
	case $1 in
	ufq|ufq_simple)
		dbg=/sys/kernel/debug/block/$(dev_name "$2")/sched
		files="$files $dbg/sched $dbg/stats"
		;;
	esac
	echo "(awk -f $BENCH_DIR/snapshot.awk $files && bash $BENCH_DIR/hook.sh post $1 $2)"
}

# reverse WORD...: the words in reverse order
reverse() {
	local out= w
	for w in "$@"; do out="$w $out"; done
	echo $out
}

# bench_warmup DEV: a short unmeasured fio run.  The first jobs of a guest
# fault fio's pages in from the host's 9p root; under the instruction-count
# clock guest time runs on while the guest waits for the host, and a 1 s
# run that starts that way may end before its first I/O.
bench_warmup() {
	fio --name=warmup --filename="$1" --direct=1 --ioengine=io_uring --rw=randrw \
		--bs=4k --iodepth=4 --size=16M --time_based --runtime=1 > /dev/null 2>&1
}

# bench_case OUT DEV WORKLOAD QD VARIANT...  (NR_REQUESTS: the queue's
# nr_requests under every scheduler but none)
bench_case() {
	local out=$1 dev=$2 wl=$3 qd=$4 i v order
	shift 4
	mkdir -p "$out"
	{
		printf '[global]\nfilename=%s\ndirect=1\nioengine=io_uring\n' "$dev"
		printf 'rw=%s\nbs=4k\niodepth=%s\nsize=256M\n' "$wl" "$qd"
		[ "$wl" = randrw ] && printf 'rwmixread=70\n'
		printf 'time_based\nruntime=%s\nstonewall\n' "$RUNTIME"
		for i in $(seq "$PAIRS"); do
			order="$*"
			[ $((i % 2)) = 0 ] && order=$(reverse "$@")
			for v in $order; do
				printf '[%s-%s]\n' "$v" "$i"
				printf 'exec_prerun=bash %s pre %s %s %s\n' "$BENCH_DIR/hook.sh" \
					"$v" "$dev" "${NR_REQUESTS:-}"
				printf 'exec_postrun=%s\n' "$(post_command "$v" "$dev")"
			done
		done
	} > "$out/job.fio"
	(cd "$out" && fio --output-format=json --output="$out/fio.json" job.fio \
		> "$out/fio.log" 2>&1)
}

# bench_setup NAME: the state directory hook.sh keeps the ufq_simple loader in
bench_setup() {
	export BENCH_STATE=$HARNESS_SHARED/$1/.state
	mkdir -p "$BENCH_STATE"
}

# bench_finish: detach ufq_simple if a run left it attached; fails if the
# kernel ejected it at any point
bench_finish() {
	bash "$BENCH_DIR/hook.sh" stop
}
