# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
# TAP and polling helpers for the guest test scripts: source it, then
#   check "what" CMD...   one test: ok if CMD succeeds
#   ok "what" / not_ok "what"
#   tap_done              print the tally; status 0 if nothing failed
#   now                   seconds since boot
#   poll SECS CMD...      retry CMD until it succeeds, at most SECS s
#   bdf                   the edu-rng device's PCI address (1234:cafe)
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $1"
}

check() {
	what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

tap_done() {
	echo "# $((n - failed)) passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# seconds since boot (no fork)
now() {
	read -r up _ </proc/uptime
	echo "${up%.*}"
}

# poll COND... every 50 ms until it succeeds, for at most $1 s by the
# clock (a loaded TCG guest runs a poll round much slower than 50 ms)
poll() {
	end=$(($(now) + $1))
	shift
	until "$@"; do
		[ "$(now)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# the device's PCI address; no fork, as polls call it often
bdf() {
	for d in /sys/bus/pci/devices/*; do
		read -r dv 2>/dev/null <"$d/device" || continue
		read -r vd 2>/dev/null <"$d/vendor" || continue
		if [ "$vd" = 0x1234 ] && [ "$dv" = 0xcafe ]; then
			echo "${d##*/}"
			return 0
		fi
	done
	return 1
}
