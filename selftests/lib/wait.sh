# SPDX-License-Identifier: GPL-2.0
# Polling for guest-side selftests (sourced by bash scripts).

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; false
# if it did not within SECONDS.  Between tries it calls the script's own
# nap if it defines one (e.g. one that needs no fork), else sleep 0.1.
wait_for() {
	local i tries=$(($1 * 10))
	shift
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		if declare -F nap > /dev/null; then
			nap
		else
			sleep 0.1
		fi
	done
	return 1
}
