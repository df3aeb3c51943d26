# SPDX-License-Identifier: GPL-2.0
#
# awk -f snapshot.awk /proc/timer_list /proc/stat [FILE...]: the snapshot a
# benchmark run is measured between (hook.sh), in "== name" sections:
#
#   cpu    now, idle, iowait: guest time and the idle and iowait time the
#          kernel accounts (summed over the CPUs), in ns; cpus
#   stat   /proc/stat's cpu line (the same accounting in 10 ms units)
#   other FILEs, e.g. UFQ's debugfs sched and stats: their lines, in a
#   section named ufq_<basename> for files under block/*/sched/
#
# /proc/timer_list comes first: awk reads it as soon as it starts, which
# keeps what a snapshot after a run counts of its own start-up small.

FNR == 1 && NR != FNR {
	flush()
	name = FILENAME
	sub(/.*\//, "", name)
	if (FILENAME ~ /\/block\/[^\/]+\/sched\//)
		name = "ufq_" name
	else if (FILENAME == "/proc/stat")
		name = "stat"
	print "== " name
}
NR == FNR {	# the first file: /proc/timer_list
	key = $1
	sub(/:$/, "", key)	# ".iowait_sleeptime: N nsecs" has no blank before ":"
	if (key == "now" && $2 == "at")
		now = $3
	else if (key == ".idle_sleeptime")
		idle += $(NF - 1)
	else if (key == ".iowait_sleeptime")
		iowait += $(NF - 1)
	else if (key == "cpu")
		cpus++
	next
}
FILENAME == "/proc/stat" {
	if ($1 == "cpu")
		print
	next
}
{ print }

function flush() {
	if (done)
		return
	done = 1
	print "== cpu"
	printf "now %.0f\nidle %.0f\niowait %.0f\ncpus %d\n", now, idle, iowait, cpus
}

END { flush() }
