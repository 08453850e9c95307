# shellcheck shell=bash
# TAP for the host-side suites.  Source it, then
#   tap_run NAME CMD...   one TAP line; the output of a failing CMD as comments
#   tap_end               the plan line; status 1 if any check failed
TAP_N=0
TAP_FAILED=0

tap_run() {
	local name=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	TAP_N=$((TAP_N + 1))
	if [ $rc -eq 0 ]; then
		echo "ok $TAP_N $name"
	else
		TAP_FAILED=$((TAP_FAILED + 1))
		echo "not ok $TAP_N $name"
		printf '%s\n' "$out" | grep -v '^$' | tail -n 30 | sed 's/^/# /'
	fi
}

tap_end() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
