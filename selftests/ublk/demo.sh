#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Demo of the ublk server (make run): a loop device on one file and a
# stripe device over two (files on a tmpfs), each served by the server and
# then wholly in BPF (ublk-bpf: `--bpf loop`, `--bpf stripe`, bpf aio on
# the files), each under the data-verify workload of
# selftests/block/verify.sh (fio randrw 4k, verify=crc32c), with the
# server's CPU time per GiB moved: utime + stime of its threads
# (/proc/PID/task/*/stat) over the run, divided by the bytes fio wrote and
# read.  A BPF device must have had every I/O handled by BPF (its
# /sys/block/ublkbN/bpf/ counters: handled grew, nothing redirected).
# KTAP on stdout, a row per device in $HARNESS_SHARED/ublk_demo.tsv
# (harness/ublk_demo.py prints them, and the BPF/server CPU ratio).
#
# Environment: KSRC (kernel tree), UBLK (the built server, default
# build/selftests/ublk/ublk), UBLK_DEMO_SIZE (fio's size per device, 32M),
# HARNESS_STRICT (selftests/lib/strict.sh: no server or no ublk_drv fails).

set -u
DIR=$(dirname "$(readlink -f "$0")")
REPO=$(readlink -f "$DIR/../..")
. "$KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh"
. "$DIR/../lib/blk.sh"
. "$DIR/../lib/strict.sh"

UBLK=${UBLK:-$REPO/build/selftests/ublk/ublk}
SIZE=${UBLK_DEMO_SIZE:-32M}
TSV=${HARNESS_SHARED:-/tmp}/ublk_demo.tsv
WORK=$(mktemp -d /tmp/ublk-demo.XXXXXX)
export UBLK_RUN_DIR=$WORK/run
HZ=$(getconf CLK_TCK)

cleanup() {
	"$UBLK" del -a > /dev/null 2>&1
	mountpoint -q "$WORK/tmp" && umount "$WORK/tmp"
	rm -rf "$WORK"
}

# server_ticks PID: utime + stime of every thread of PID, in clock ticks
server_ticks() {
	local f line rest ticks=0
	for f in /proc/"$1"/task/*/stat; do
		read -r line < "$f" || return 1
		# fields after "(comm) ": state is the 3rd field, utime the 14th
		read -r -a rest <<< "${line##*) }"
		ticks=$((ticks + rest[11] + rest[12]))
	done
	echo "$ticks"
}

# bpf_counter ID NAME: counter NAME of ublkbID's BPF ops
bpf_counter() { cat "/sys/block/ublkb$1/bpf/$2"; }

# demo NAME TARGET BPF FILES...: a device (BPF: the program of --bpf, or
# -), the workload on it, its row
demo() {
	local name=$1 tgt=$2 bpf=$3 out id pid t0 t1 json written rbytes cpu
	local opt=() h0=0 h1 r1
	shift 3
	[ "$bpf" != - ] && opt=(--bpf "$bpf")
	if ! out=$("$UBLK" add -t "$tgt" "${opt[@]}" "$@" 2> "$WORK/add.err") ||
	   [[ ! $out =~ ^/dev/ublkb([0-9]+)$ ]]; then
		ktap_print_msg "ublk add -t $tgt ${opt[*]} $*: '$out'"
		sed 's/^/# /' "$WORK/add.err"
		return 1
	fi
	id=${BASH_REMATCH[1]}
	pid=$("$UBLK" list -n "$id" | sed -n '1s/.* pid=\([0-9]*\) .*/\1/p')
	ktap_print_msg "$name: $out, $tgt over $*${opt:+ with BPF program $bpf}, server pid $pid"
	json=$WORK/$name.json
	[ "$bpf" != - ] && { h0=$(bpf_counter "$id" handled) || return 1; }
	t0=$(server_ticks "$pid") || return 1
	if ! fio_verify "$out" "$SIZE" "$json"; then
		ktap_print_msg "fio failed on $out:"
		tail -20 "$json.log" | sed 's/^/# /'
		return 1
	fi
	t1=$(server_ticks "$pid") || return 1
	written=$(fio_json_field "$json" 'j["jobs"][0]["write"]["io_bytes"]')
	rbytes=$(fio_json_field "$json" 'j["jobs"][0]["read"]["io_bytes"]')
	if [ "$(fio_json_field "$json" 'j["jobs"][0]["error"]')" != 0 ] || [ "$written" = 0 ]; then
		ktap_print_msg "fio: error or nothing written ($written bytes)"
		return 1
	fi
	cpu=$(((t1 - t0) * 1000 / HZ))
	ktap_print_msg "$name: $written bytes written, $rbytes read, server CPU $cpu ms"
	if [ "$bpf" != - ]; then
		h1=$(bpf_counter "$id" handled) && r1=$(bpf_counter "$id" redirected) || return 1
		ktap_print_msg "$name: BPF handled $((h1 - h0)) I/Os, redirected $r1"
		if [ "$h1" -le "$h0" ] || [ "$r1" != 0 ]; then
			ktap_print_msg "$name: not every I/O was BPF's"
			return 1
		fi
	fi
	"$UBLK" del -n "$id" || return 1
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$tgt" "$bpf" "$#" "$written" "$rbytes" \
		"$cpu" >> "$TSV"
}

ktap_print_header
[ -x "$UBLK" ] || skip_area_or_fail "$UBLK not built (the harness builds selftests/ublk)"
[ -c /dev/ublk-control ] || skip_area_or_fail "no /dev/ublk-control (CONFIG_BLK_DEV_UBLK)"
trap cleanup EXIT
mkdir -p "$WORK/tmp" "$UBLK_RUN_DIR"
mount -t tmpfs -o size=256m tmpfs "$WORK/tmp" || fail_area "cannot mount a tmpfs on $WORK/tmp"
printf 'device\ttarget\tbpf\tfiles\tbytes_written\tbytes_read\tserver_cpu_ms\n' > "$TSV"
truncate -s 64M "$WORK/tmp/loop.img" "$WORK/tmp/stripe0.img" "$WORK/tmp/stripe1.img"

ktap_set_plan 4
for bpf in no yes; do
	if [ "$bpf" = no ]; then
		sfx= loop=- stripe=- how="served by the server"
	else
		sfx=_bpf loop=loop stripe=stripe how="wholly in BPF (bpf aio)"
	fi
	ktap_test_result "ublk loop $how: fio randrw verified, server CPU measured" \
		demo "loop$sfx" loop "$loop" "$WORK/tmp/loop.img"
	ktap_test_result "ublk stripe (2 files, 64K chunks) $how: fio randrw verified, server CPU measured" \
		demo "stripe$sfx" stripe "$stripe" "$WORK/tmp/stripe0.img" "$WORK/tmp/stripe1.img"
done
ktap_finished
