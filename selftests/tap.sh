# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
# TAP helpers for the guest test scripts: source it, then
#   check "what" CMD...   one test: ok if CMD succeeds
#   ok "what" / not_ok "what"
#   tap_done              print the tally; status 0 if nothing failed
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
