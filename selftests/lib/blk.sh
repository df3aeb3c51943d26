# SPDX-License-Identifier: GPL-2.0
# Block-device helpers for guest-side selftests (sourced by bash scripts).

# nullb_create NAME SIZE_MB [extra configfs attr=value ...]
# A memory-backed null_blk named NAME (/dev/NAME): plain null_blk stores
# nothing, so data verification needs memory_backed=1.
nullb_create() {
	local name=$1 size=$2 dir
	shift 2
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config || return 1
	dir=/sys/kernel/config/nullb/$name
	mkdir "$dir" || return 1
	echo 1 > "$dir/memory_backed" &&
	echo "$size" > "$dir/size" &&
	echo 4096 > "$dir/blocksize" &&
	echo 2 > "$dir/queue_mode" || return 1
	local kv
	for kv in "$@"; do
		echo "${kv#*=}" > "$dir/${kv%%=*}" || return 1
	done
	echo 1 > "$dir/power" || return 1
	udevadm settle 2>/dev/null
	[ -b "/dev/$name" ] || mknod "/dev/$name" b \
		"$(cut -d: -f1 "/sys/block/$name/dev")" "$(cut -d: -f2 "/sys/block/$name/dev")"
}

nullb_destroy() {
	local dir=/sys/kernel/config/nullb/$1
	[ -d "$dir" ] || return 0
	echo 0 > "$dir/power" && rmdir "$dir"
}

# dev_name /dev/X -> X
dev_name() {
	basename "$(readlink -f "$1")"
}

# set_scheduler DEV SCHED: switch and check that it took.
set_scheduler() {
	local name f
	name=$(dev_name "$1")
	f=/sys/block/$name/queue/scheduler
	echo "$2" > "$f" || return 1
	grep -q "\[$2\]" "$f"
}

current_scheduler() {
	sed -n 's/.*\[\(.*\)\].*/\1/p' "/sys/block/$(dev_name "$1")/queue/scheduler"
}

# available_schedulers DEV: the scheduler names the queue offers.
available_schedulers() {
	tr -d '[]' < "/sys/block/$(dev_name "$1")/queue/scheduler"
}

# fio_verify DEV SIZE JSON_OUT [fio options...]: random read/write with
# crc32c verification of everything written; fails on any error.  fio's
# messages (verify errors, bad options) go to JSON_OUT.log.
fio_verify() {
	local dev=$1 size=$2 out=$3
	shift 3
	fio --name=verify --filename="$dev" --direct=1 --ioengine=io_uring \
		--rw=randrw --bs=4k --iodepth=16 --size="$size" \
		--verify=crc32c --verify_fatal=1 --do_verify=1 \
		--randrepeat=0 --output-format=json --output="$out" "$@" \
		> "$out.log" 2>&1
}

# fio_json_field JSON EXPR: a number from fio's JSON output (python3 -c).
fio_json_field() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"j": j}))' "$1" "$2"
}
