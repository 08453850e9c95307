#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Last selftest on the debug kernel (check.sh's guest-debug suite, whose
# kernel has KASAN, lockdep, DMA_API_DEBUG and kmemleak): remove the module,
# have kmemleak scan twice and expect no suspected leak; expect no DMA-API
# error, lockdep still on (a report turns it off) and no taint but for the
# out-of-tree module (a KASAN report taints B, a WARN W).  The kernel's
# reports themselves fail the run in qemu/run-vm.  Output is TAP.
set -eu

# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

KMEMLEAK=/sys/kernel/debug/kmemleak
DMA=/sys/kernel/debug/dma-api

not_loaded() {
	! grep -q '^edu_rng ' /proc/modules
}

# kmemleak's report, at most 80 lines, as TAP comments
leaks() {
	sed -n '1,80s/^/#   /p' "$KMEMLEAK"
}

echo "TAP version 13"
echo "1..6"

if not_loaded || rmmod edu_rng; then
	check "edu_rng removed" not_loaded
else
	not_ok "rmmod edu_rng"
fi

# DMA-API prints only its first error: count them all
errs=$(cat "$DMA/error_count" 2>/dev/null || echo '?')
dis=$(cat "$DMA/disabled" 2>/dev/null || echo '?')
check "DMA-API debug: $errs errors, disabled=$dis" \
	test "$errs" = 0 -a "$dis" = N

# Objects younger than 5 s are not reported; the second scan confirms.
if [ -e "$KMEMLEAK" ]; then
	sleep 5
	if echo scan >"$KMEMLEAK" && echo scan >"$KMEMLEAK"; then
		nleaks=$(grep -c '^unreferenced object' "$KMEMLEAK" || true)
		ok "kmemleak scanned twice"
		if [ "$nleaks" -eq 0 ]; then
			ok "kmemleak: no suspected leaks"
		else
			not_ok "kmemleak: $nleaks suspected leaks"
			leaks
		fi
	else
		not_ok "kmemleak scanned twice"
		not_ok "kmemleak: no suspected leaks (no scan)"
	fi
else
	not_ok "kmemleak scanned twice (no $KMEMLEAK)"
	not_ok "kmemleak: no suspected leaks (no $KMEMLEAK)"
fi

dl=$(sed -n 's/^ *debug_locks: *//p' /proc/lockdep_stats 2>/dev/null)
check "lockdep on (debug_locks ${dl:-?})" test "${dl:-0}" = 1

# O (4096, out-of-tree) and E (8192, unsigned) are ours; anything else not
t=$(cat /proc/sys/kernel/tainted)
check "kernel taint $t: none but O and E" test $((t & ~(4096 | 8192))) -eq 0

tap_done
