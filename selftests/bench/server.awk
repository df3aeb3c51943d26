# SPDX-License-Identifier: GPL-2.0
#
# awk -f server.awk /proc/PID/task/*/stat: the CPU time of a server's
# threads (selftests/bench/ublk.sh), as a snapshot section:
#
#   == server
#   ticks N      utime + stime of every thread, in clock ticks (USER_HZ)
#   threads N

{
	sub(/^.*\) /, "")	# after "pid (comm) ": state is $1, utime $12, stime $13
	ticks += $12 + $13
	threads++
}
END {
	print "== server"
	printf "ticks %d\nthreads %d\n", ticks, threads
}
