#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Two edu-rng devices in one guest: two hwrngs with their own names, modes
# and seeds; each serves /dev/hwrng when selected; unbinding one leaves the
# other working.  Output is TAP.
set -eu

# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

HWRNG=/sys/class/misc/hw_random
DRV=/sys/bus/pci/drivers/edu-rng

bdfs=
for d in "$DRV"/0000:*; do
	[ ! -e "$d" ] || bdfs="$bdfs ${d##*/}"
done
a=$(echo "$bdfs" | cut -d' ' -f2)
b=$(echo "$bdfs" | cut -d' ' -f3)

echo "TAP version 13"
echo "1..10"
check "two devices bound to edu-rng ($a, $b)" \
	test "$(echo "$bdfs" | wc -w)" -eq 2
both_listed() {
	grep -q "edu-rng-$a" $HWRNG/rng_available &&
		grep -q "edu-rng-$b" $HWRNG/rng_available
}
check "rng_available lists edu-rng-$a and edu-rng-$b" both_listed

select_rng() {
	echo "edu-rng-$1" >$HWRNG/rng_current
	[ "$(cat $HWRNG/rng_current)" = "edu-rng-$1" ]
}
reads_4k() {
	[ "$(dd if=/dev/hwrng bs=4096 count=1 2>/dev/null | wc -c)" -eq 4096 ]
}
served_by() {
	select_rng "$1" && reads_4k
}
both_serve() {
	served_by "$a" && served_by "$b"
}
check "each device serves /dev/hwrng when selected" both_serve

echo 1 >"$DRV/$a/seed"
check "seeding one device leaves the other in host mode" \
	test "$(cat "$DRV/$a/mode")" = seeded -a "$(cat "$DRV/$b/mode")" = host
# a seeded device is no hwrng: the other serves /dev/hwrng meanwhile
withdrawn() {
	! grep -q "edu-rng-$a" $HWRNG/rng_available &&
		[ "$(cat $HWRNG/rng_current)" = "edu-rng-$b" ] && reads_4k
}
check "the seeded $a leaves the hwrng core, $b serves /dev/hwrng" withdrawn
# Seeds are per device, and a seeded stream is read through the device's
# own node only: from the seed's first byte, whatever the other does.
node() {
	for m in "$DRV/$1/misc/"edu-rng*; do
		echo "/dev/${m##*/}"
	done
}
sample() {
	dd if="$(node "$1")" bs=1024 count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \n'
}
echo 7 >"$DRV/$a/seed"
echo 7 >"$DRV/$b/seed"
sa=$(sample "$a")
sb=$(sample "$b")
ref=$("$(dirname "$0")/edu-rng-stream" 7 1024 | od -An -v -tx1 | tr -d ' \n')
check "same seed on both devices: the same stream, from its first byte" \
	test "$sa" = "$ref" -a "$sb" = "$ref"
echo 8 >"$DRV/$b/seed"
sb=$(sample "$b")
ref8=$("$(dirname "$0")/edu-rng-stream" 8 1024 | od -An -v -tx1 | tr -d ' \n')
check "different seeds give different streams: $b gives seed 8's" \
	test "$sa" != "$sb" -a "$sb" = "$ref8"
echo host >"$DRV/$a/mode"
echo host >"$DRV/$b/mode"
check "host mode brings both hwrngs back" both_listed

echo "$a" >$DRV/unbind
check "after unbinding $a, $b still serves /dev/hwrng" served_by "$b"
echo "$a" >$DRV/bind
check "rebinding $a brings its hwrng back" served_by "$a"
tap_done
