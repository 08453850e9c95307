#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Hot removal under load, the guest side of selftests/hotplug_host.sh: four
# readers (two on /dev/hwrng, two on /dev/edu-rng0) and rngd run while the
# host removes the device with QMP device_del and adds it back with
# device_add, $CYCLES times (edu.cycles=N on the kernel command line,
# default 10).  The guest asks for each step with a marker line on the
# console ("edu-rng-hotplug: remove N", "... add N", "... done"), which the
# host waits for, and polls sysfs, with a bound, for the device to go and
# come back.  Readers must only ever get data or a clean error (ENODEV,
# EIO, EAGAIN; ENOENT opening a node that is gone), nothing may hang, and
# after each add the driver binds, /dev/hwrng serves the new device, every
# reader reads again and a seeded stream reads back exact through
# /dev/edu-rngN, the device out of the hwrng core while seeded.  Output is
# TAP.
set -eu

DRV=/sys/bus/pci/drivers/edu-rng
# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

CYCLES=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^edu\.cycles=//p')
CYCLES=${CYCLES:-10}
# per seeded check: 192 KiB through /dev/edu-rngN
DIRECT=196608

# cur and avail: rng_current and rng_available (blank-separated names;
# without the "none" that 6.12 and 7.2 list) of the hwrng core
hwrngs() {
	read -r cur </sys/class/misc/hw_random/rng_current
	read -r all </sys/class/misc/hw_random/rng_available
	avail=
	for a in $all; do
		[ "$a" = none ] || avail="$avail${avail:+ }$a"
	done
}

# the device, its driver, its hwrng and its /dev node are all gone
gone() {
	! bdf >/dev/null && [ ! -e /dev/edu-rng0 ] && hwrngs &&
		[ "$cur" = none ] && [ -z "$avail" ]
}

# A device is bound, its /dev/edu-rngN is there, its hwrng (the only one)
# serves /dev/hwrng.  Sets B and NODE.
bound() {
	B=$(bdf) || return 1
	[ -e "$DRV/$B" ] || return 1
	node=$(ls "/sys/bus/pci/devices/$B/misc" 2>/dev/null) || return 1
	NODE=/dev/$node
	[ -c "$NODE" ] && hwrngs &&
		[ "$cur" = "edu-rng-$B" ] && [ "$avail" = "edu-rng-$B" ]
}

# A reader keeps $1 open on fd 3 (so the open file outlives a removal)
# and reads 64 KiB at a time, reopening after an error; it counts reads
# with data, clean errors, opens of a node that is gone, and anything else
# ("bad").  A reader of /dev/edu-rng0 stops reading while /tmp/pause
# exists, saying so with /tmp/paused.N.
reader() {
	src=$1 r=$2
	ok=0 err=0 absent=0 bad=0 open=0
	while [ ! -e /tmp/stop ]; do
		if [ "$src" != /dev/hwrng ] && [ -e /tmp/pause ]; then
			: >"/tmp/paused.$r"
			while [ -e /tmp/pause ] && [ ! -e /tmp/stop ]; do
				sleep 0.02
			done
			rm -f "/tmp/paused.$r"
			continue
		fi
		msg=
		# "command": a failed redirection must not end the shell
		if [ $open -eq 1 ] || { command exec 3<"$src"; } 2>"/tmp/open.$r"; then
			open=1
			if msg=$(dd bs=4096 count=16 of=/dev/null <&3 2>&1); then
				ok=$((ok + 1))
				msg=
			fi
		else
			msg="open: $(cat "/tmp/open.$r")"
		fi
		case $msg in
		'') ;;
		"open: "*[Nn]"o such file"* | "open: "*"No such device"*)
			absent=$((absent + 1)) ;;
		*"No such device"* | *"Input/output error"* | *"Resource temporarily unavailable"*)
			err=$((err + 1)) ;;
		*)
			bad=$((bad + 1))
			echo "# reader $r ($src): $(echo "$msg" | head -n 1)" ;;
		esac
		if [ -n "$msg" ]; then
			# reopen; no busy loop while the device is away
			# (a rate, not a synchronisation)
			[ $open -eq 0 ] || exec 3<&-
			open=0
			sleep 0.1
		fi
		echo "$ok $err $absent $bad" >"/tmp/reader.$r.new"
		mv "/tmp/reader.$r.new" "/tmp/reader.$r"
	done
}

# good reads of reader $1 so far
reads_ok() {
	o=0
	[ ! -s "/tmp/reader.$1" ] || read -r o _ <"/tmp/reader.$1"
	echo "$o"
}

# every reader has read with success since the counts in $1 (4 numbers)
all_read_again() {
	# shellcheck disable=SC2086 # four numbers
	set -- $1
	for r in 1 2 3 4; do
		[ "$(reads_ok $r)" -gt "$1" ] || return 1
		shift
	done
}

all_paused() {
	for r in 3 4; do
		[ -e "/tmp/paused.$r" ] || return 1
	done
}

# DIFF: bytes of $1 from offset $2 on that differ from /tmp/ref's from $3
# on, or are missing, over $4 bytes
differ() {
	have=0
	[ ! -e "$1" ] || have=$(($(wc -c <"$1") - $2))
	[ "$have" -le "$4" ] || have=$4
	[ "$have" -ge 0 ] || have=0
	DIFF=$(($4 - have + $(cmp -l -n "$have" "$1" /tmp/ref "$2" "$3" 2>/dev/null | wc -l)))
}

# Seed the device with $1 and read the stream back through $NODE: the
# seed's stream from its first byte, $DIRECT bytes.  Sets LOST to the
# bytes wrong or missing.  The other readers of $NODE pause; the readers of
# /dev/hwrng, rngd and the kernel's hwrng thread go on, as a seeded device
# is no hwrng (checked: not in rng_available).  With $2 = keep, the device
# stays seeded (and is removed so next).
seeded_exact() {
	LOST=$DIRECT WITHDRAWN=no
	./edu-rng-stream "$1" $DIRECT >/tmp/ref
	rm -f /tmp/direct
	: >/tmp/pause
	if ! poll 20 all_paused; then
		echo "# readers did not pause"
		rm -f /tmp/pause
		return 1
	fi
	dev=/sys/bus/pci/devices/$B
	if echo "$1" >"$dev/seed"; then
		grep -q "edu-rng-$B" /sys/class/misc/hw_random/rng_available ||
			WITHDRAWN=yes
		timeout 20 dd if="$NODE" of=/tmp/direct bs=65536 count=$((DIRECT / 65536)) 2>/dev/null || :
	else
		echo "# seed $1: could not seed"
	fi
	[ "${2-}" = keep ] || echo host >"$dev/mode" || :
	rm -f /tmp/pause
	differ /tmp/direct 0 0 $DIRECT
	LOST=$DIFF
	[ "$WITHDRAWN" = yes ] || echo "# seed $1: still in rng_available while seeded"
	[ "$LOST" -eq 0 ] && [ "$WITHDRAWN" = yes ]
}

echo "TAP version 13"
echo "1..9"
rm -f /tmp/stop /tmp/pause
check "edu-rng bound at boot" poll 10 bound
echo "# device $B, $NODE; $CYCLES remove/add cycles"
reader /dev/hwrng 1 &
P1=$!
reader /dev/hwrng 2 &
P2=$!
reader /dev/edu-rng0 3 &
P3=$!
reader /dev/edu-rng0 4 &
P4=$!
rngd -r /dev/hwrng --no-drng=1 --no-tpm=1 -p /run/rngd.pid
poll 10 test -s /run/rngd.pid
RNGD=$(cat /run/rngd.pid)

removed=0 added=0 host=0 read_again=0 exact=0 checked=0 lost=0
for i in $(seq "$CYCLES"); do
	t0=$(now)
	echo "edu-rng-hotplug: remove $i"
	if ! poll 30 gone; then
		echo "# cycle $i: the device did not go"
		break
	fi
	removed=$((removed + 1))
	t1=$(now)
	echo "edu-rng-hotplug: add $i"
	if ! poll 30 bound; then
		echo "# cycle $i: the device did not come back and bind"
		break
	fi
	added=$((added + 1))
	echo "# cycle $i: gone after $((t1 - t0)) s, bound again after $(($(now) - t1)) s"
	# a new device starts in host-entropy mode, whatever the old one was
	read -r mode <"/sys/bus/pci/devices/$B/mode"
	if [ "$mode" = host ]; then
		host=$((host + 1))
	else
		echo "# cycle $i: the new device is in mode $mode"
	fi
	before="$(reads_ok 1) $(reads_ok 2) $(reads_ok 3) $(reads_ok 4)"
	if poll 30 all_read_again "$before"; then
		read_again=$((read_again + 1))
	else
		echo "# cycle $i: not every reader read again"
	fi
	# every other removal finds the device seeded
	keep=
	[ $((i % 2)) -eq 0 ] || keep=keep
	if seeded_exact $((4200 + i)) $keep; then
		exact=$((exact + 1))
	else
		echo "# cycle $i: the seeded stream differs"
	fi
	checked=$((checked + DIRECT)) lost=$((lost + LOST))
	echo "# cycle $i: seed $((4200 + i)), $LOST bytes lost or wrong"
done
echo "edu-rng-hotplug: done"

check "removed $removed of $CYCLES times under load" test "$removed" -eq "$CYCLES"
check "added back and bound $added of $CYCLES times ($B, $NODE)" test "$added" -eq "$CYCLES"
check "the new device in host mode after $host of $CYCLES adds" test "$host" -eq "$CYCLES"
check "every reader read again after $read_again of $CYCLES adds" test "$read_again" -eq "$CYCLES"
check "seeded stream exact after $exact of $CYCLES adds ($lost bytes lost)" \
	test "$exact" -eq "$CYCLES"

# stop the readers; one stuck in the kernel would not end
touch /tmp/stop
readers_ended() {
	for p in "$P1" "$P2" "$P3" "$P4"; do
		! kill -0 "$p" 2>/dev/null || return 1
	done
}
check "readers ended when told" poll 20 readers_ended
tok=0 terr=0 tabsent=0 tbad=0
for r in 1 2 3 4; do
	read -r o e a b <"/tmp/reader.$r"
	echo "# reader $r: $o reads with data, $e clean errors, $a opens of a gone node, $b other errors"
	tok=$((tok + o)) terr=$((terr + e)) tabsent=$((tabsent + a)) tbad=$((tbad + b))
done
check "readers got only data or clean errors ($tbad other)" test "$tbad" -eq 0
check "rngd survived" kill -0 "$RNGD"
kill "$RNGD" 2>/dev/null || true
echo "# totals: cycles $added/$CYCLES, reads ok $tok, clean errors $terr," \
	"opens of a gone node $tabsent, other errors $tbad;" \
	"seeded stream bytes checked $checked, lost or wrong $lost"
tap_done
