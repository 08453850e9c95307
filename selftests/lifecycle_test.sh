#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Lifecycle under load: four readers and rngd run while the device is
# unbound and rebound 100 times and the module removed and reloaded 50
# times.  Readers must only ever get data or a clean error (ENODEV, EIO,
# EAGAIN), nothing may hang or oops (qemu/run-vm fails the run on any
# kernel report), and the device must work afterwards.  Output is TAP.
set -eu

DRV=/sys/bus/pci/drivers/edu-rng
KO=/lib/modules/$(uname -r)/extra/edu-rng.ko
# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

B=$(bdf)

# A reader: reads in a loop, reopening after errors, counting good reads,
# clean errors (the node gone; ENODEV, EIO, EAGAIN) and any other error,
# which it names.
reader() {
	src=$1
	log=/tmp/reader.$2
	ok=0
	err=0
	bad=0
	while [ ! -e /tmp/stop ]; do
		if msg=$(dd if="$src" of=/dev/null bs=4096 count=16 2>&1); then
			ok=$((ok + 1))
		else
			case $msg in
			*[Nn]"o such file"* | *"No such device"* | *"Input/output error"* | \
				*"Resource temporarily unavailable"*)
				err=$((err + 1)) ;;
			*)
				bad=$((bad + 1))
				echo "# reader $2 ($src): $(echo "$msg" | head -n 1)" ;;
			esac
		fi
		echo "$ok $err $bad" >"$log.new"
		mv "$log.new" "$log"
	done
}

# Poll, for at most 5 s, until the device is bound and its node is back.
wait_bound() {
	tries=0
	while [ ! -e "$DRV/$B" ] || [ ! -c /dev/edu-rng0 ]; do
		tries=$((tries + 1))
		[ $tries -lt 100 ] || return 1
		sleep 0.05
	done
}

echo "TAP version 13"
echo "1..6"
rm -f /tmp/stop
reader /dev/hwrng 1 &
reader /dev/hwrng 2 &
reader /dev/edu-rng0 3 &
reader /dev/edu-rng0 4 &
rngd -r /dev/hwrng --no-drng=1 --no-tpm=1 -p /run/rngd.pid

unbinds=0
for i in $(seq 100); do
	echo "$B" >"$DRV/unbind"
	echo "$B" >"$DRV/bind"
	wait_bound || break
	unbinds=$i
done
check "unbind and rebind 100 times under load ($unbinds done)" test "$unbinds" -eq 100

# rmmod fails while a reader has /dev/edu-rng0 open: the files pin the
# module, as they should.  Retry, a bounded number of times.
remove_module() {
	tries=0
	while ! rmmod edu_rng 2>/dev/null; do
		tries=$((tries + 1))
		[ $tries -lt 200 ] || return 1
		sleep 0.01
	done
}

reloads=0
for i in $(seq 50); do
	remove_module || break
	insmod "$KO" || break
	wait_bound || break
	reloads=$i
done
check "rmmod and insmod 50 times under load ($reloads done)" test "$reloads" -eq 50

touch /tmp/stop
wait
total_ok=0
total_err=0
total_bad=0
idle=0
for r in 1 2 3 4; do
	read -r o e b </tmp/reader.$r
	echo "# reader $r: $o reads with data, $e clean errors, $b other errors"
	total_ok=$((total_ok + o))
	total_err=$((total_err + e))
	total_bad=$((total_bad + b))
	[ "$o" -gt 0 ] || idle=$((idle + 1))
done
check "every reader kept reading, only clean errors ($total_ok good reads, $total_err clean errors, $total_bad other, $idle readers with no data)" \
	test "$total_bad" -eq 0 -a "$idle" -eq 0
check "rngd survived" kill -0 "$(cat /run/rngd.pid)"
kill "$(cat /run/rngd.pid)" 2>/dev/null || true

# afterwards, the device is as new
check "/dev/edu-rng0 reads 1 MiB after it all" \
	test "$(dd if=/dev/edu-rng0 bs=65536 count=16 2>/dev/null | wc -c)" -eq 1048576
cur=$(cat /sys/class/misc/hw_random/rng_current)
check "edu-rng serves /dev/hwrng again ($cur)" test "${cur#edu-rng-}" != "$cur"
tap_done
