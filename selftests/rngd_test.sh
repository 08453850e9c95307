#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# rng-tools5 against edu-rng in the guest: rngd feeds the kernel from
# /dev/hwrng, and rngtest's FIPS 140-2 figures on 2 MB are what an ideal
# source gives.  Output is TAP.
set -eu

# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

# Wait for a condition, polling, for at most $1 tenths of a second.
wait_for() {
	tries=$1
	shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

rchar() {
	sed -n 's/^rchar: //p' "/proc/$1/io" 2>/dev/null || echo 0
}

rngd_read_a_block() {
	# rngd checks 2500-byte blocks before it passes them to the kernel
	[ "$(rchar "$pid")" -ge 2500 ]
}

has_fd() {
	for fd in "/proc/$pid/fd/"*; do
		[ "$(readlink "$fd")" != "$1" ] || return 0
	done
	return 1
}

feeds_from_hwrng() {
	has_fd /dev/hwrng && has_fd /dev/random
}

echo "TAP version 13"
echo "1..5"

current=$(cat /sys/class/misc/hw_random/rng_current)
check "edu-rng is the current hwrng ($current)" \
	test "${current#edu-rng-}" != "$current"

# As a user configures it: /dev/hwrng only, no RDRAND or TPM.
rm -f /run/rngd.pid
rngd -r /dev/hwrng --no-drng=1 --no-tpm=1 -p /run/rngd.pid
wait_for 100 test -s /run/rngd.pid || true
pid=$(cat /run/rngd.pid 2>/dev/null || echo 0)
check "rngd started (pid $pid)" kill -0 "$pid"
check "rngd has /dev/hwrng and /dev/random open" feeds_from_hwrng
if wait_for 300 rngd_read_a_block && kill -0 "$pid"; then
	ok "rngd read $(rchar "$pid") bytes from /dev/hwrng and keeps running"
else
	not_ok "rngd read $(rchar "$pid") bytes from /dev/hwrng and keeps running"
fi
kill "$pid" 2>/dev/null || true

# 800 blocks of 20000 bits.  An ideal source fails about 1 block in 1250
# (0.64 expected); more than 5 happens by chance less than once in 10^4 runs.
out=$(rngtest -c 800 </dev/hwrng 2>&1 || true)
echo "$out" | sed 's/^/# /'
fails=$(echo "$out" | sed -n 's/^rngtest: FIPS 140-2 failures: //p')
succ=$(echo "$out" | sed -n 's/^rngtest: FIPS 140-2 successes: //p')
if [ -n "$fails" ] && [ "$((succ + fails))" -eq 800 ] && [ "$fails" -le 5 ]; then
	ok "rngtest: $fails FIPS 140-2 failures in 800 blocks (limit 5)"
else
	not_ok "rngtest: '${fails:-?}' FIPS 140-2 failures in '${succ:-?}'+ blocks (limit 5)"
fi
tap_done
