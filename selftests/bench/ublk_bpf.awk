# SPDX-License-Identifier: GPL-2.0
#
# awk -f ublk_bpf.awk /sys/block/ublkbN/bpf/FILE...: a ublk-bpf device's
# state and counters (selftests/bench/ublk.sh), as a snapshot section:
#
#   == ublk_bpf
#   attached 1
#   handled N    (one line per file: its name and value)

BEGIN { print "== ublk_bpf" }
{
	name = FILENAME
	sub(/.*\//, "", name)
	print name, $0
}
