#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Migration and cloning, the guest side of selftests/migrate_host.sh.  The
# guest is migrated (QMP migrate to a file) by the host while this script
# runs, and goes on in a second QEMU: the same shell, the same readers.
# What to do comes from the kernel command line, edu.migrate=:
#
#   stream        seed the device, read /dev/edu-rng0 in a loop into
#                 /tmp/out (paced, so the stream is mid-way when the host
#                 migrates) until the host says the destination runs, then
#                 read on at full speed to $TOTAL bytes and at least $AFTER
#                 past the resume; the bytes must be exactly the seed's
#                 stream, and no interrupt lost nor transfer timed out.
#                 The kernel's hwrng thread reads virtio-rng meanwhile
#                 (rng_current), so nothing else takes the stream.
#   clone-host    host-entropy mode: fill the ring, idle while the state is
#                 saved; after each restore, read 64 KiB of /dev/edu-rng0
#                 and 64 KiB of /dev/hwrng and print their hashes, and the
#                 first 16 KiB of each in hex, which the host compares
#                 between two clones of one saved state.
#   clone-seeded  the same, seeded: the bytes must be the stream, continued
#                 (and the two clones' hashes equal).
#
# Protocol: "edu-rng-migrate: ready" on the console (ttyS0) asks the host to
# migrate; the host answers on the second serial port (ttyS1, a socket on
# the destination, null on the source) with a line "resumed" once the
# destination runs, and the guest acknowledges with "edu-rng-migrate:
# resumed".  The guest prints nothing between the two, so no line is split
# between the two QEMUs' logs.  Output is TAP.
set -eu

DRV=/sys/bus/pci/drivers/edu-rng
# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

MODE=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^edu\.migrate=//p')
MODE=${MODE:-stream}
SEED=42
TOTAL=4194304	# stream: bytes read in all
AFTER=2097152	# stream: bytes read at least after the resume (8 transfers)
READY=1572864	# stream: bytes read before asking for the migration (6 transfers:
		# every buffer of the ring written with the seed's bytes)
# edu.pending=1: the device has dma-latency-ns, and the reader reads as fast
# as it can before the migration, so that the device always has a transfer
# in flight (and one is pending when the source stops); else the reader
# takes 16 KiB per 20 ms, the ring stays full and the device mostly idle.
PENDING=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^edu\.pending=//p')
CLONE=65536	# clone: bytes of each source after the resume
CLONE_HEX=16384	# clone: of which printed in hex, for the host to compare

bound() {
	B=$(bdf) && [ -e "$DRV/$B" ] && [ -c /dev/edu-rng0 ]
}

# lost_irqs timeouts errors, from the driver's stats
stats() {
	s=
	for c in lost_irqs timeouts errors; do
		read -r v <"$DRV/$B/stats/$c"
		s="$s${s:+ }$v"
	done
	echo "$s"
}

# The kernel's hwrng thread has read and sleeps until its next read (60 s
# once the crng is ready); see hotplug_test.sh.
hwrng_thread_asleep() {
	for p in /proc/[0-9]*; do
		read -r c 2>/dev/null <"$p/comm" || continue
		[ "$c" = hwrng ] || continue
		w=
		read -r w 2>/dev/null <"$p/wchan" || :
		read -r _ _ st _ 2>/dev/null <"$p/stat" || return 1
		[ "$st" = S ] || return 1
		case $w in hwrng_fillfn | add_hwgenerator_randomness) return 0 ;; esac
		return 1
	done
	return 1
}

size() {
	wc -c <"$1"
}

big_enough() {
	[ "$(size "$1")" -ge "$2" ]
}

# The host's word on ttyS1 (its echo off; a line at a time)
listen() {
	stty -F /dev/ttyS1 -echo 2>/dev/null || :
	(read -r line </dev/ttyS1 && echo "$line" >/tmp/resumed.new &&
		mv /tmp/resumed.new /tmp/resumed) &
}

# Ask for the migration and wait for the destination to run; $1: how long
migrate() {
	listen
	echo "edu-rng-migrate: ready"
	if poll "$1" test -e /tmp/resumed; then
		echo "edu-rng-migrate: resumed"
		return 0
	fi
	echo "# the host did not say the destination runs within $1 s"
	return 1
}

# Paced reads until the resume, then fast ones to the total.  Any failed
# read is counted in /tmp/read_errors.
stream_reader() {
	exec 3</dev/edu-rng0
	errs=0
	while [ ! -e /tmp/resumed ]; do
		if [ "$PENDING" = 1 ]; then
			dd bs=262144 count=1 <&3 >>/tmp/out 2>/dev/null || errs=$((errs + 1))
		else
			dd bs=16384 count=1 <&3 >>/tmp/out 2>/dev/null || errs=$((errs + 1))
			sleep 0.02
		fi
	done
	have=$(size /tmp/out)
	echo "$have" >/tmp/pre
	want=$((have + AFTER))
	[ $want -ge $TOTAL ] || want=$TOTAL
	t0=$(now)
	while [ "$have" -lt $want ] && [ $errs -lt 100 ]; do
		n=$((want - have))
		[ $n -le 262144 ] || n=262144
		dd bs=$n count=1 <&3 >>/tmp/out 2>/dev/null || errs=$((errs + 1))
		have=$(size /tmp/out)
	done
	echo $(($(now) - t0)) >/tmp/after_secs
	echo $errs >/tmp/read_errors
	exec 3<&-
	: >/tmp/reader_done
}

# Where /tmp/out first differs from /tmp/ref, and what it holds there
explain() {
	first=$(cmp /tmp/out /tmp/ref 2>/dev/null | sed -n 's/.* \(byte\|char\) \([0-9]*\).*/\2/p')
	[ -n "$first" ] || { echo "# the output is a prefix of the stream or longer"; return; }
	first=$((first - 1))
	bad=$(cmp -l /tmp/out /tmp/ref 2>/dev/null | wc -l)
	echo "# first wrong byte at $first (transfer $((first / 262144)), offset $((first % 262144)) in it); $bad bytes wrong of $(size /tmp/out)"
	# stale: the bytes of a transfer 1-8 buffers earlier (the ring has 4)
	j=1
	while [ $j -le 8 ]; do
		back=$((first - j * 262144))
		if [ $back -ge 0 ] && cmp -s -n 4096 /tmp/out /tmp/ref "$first" "$back"; then
			echo "# the wrong bytes are the stream's from $((j * 262144)) bytes earlier: a buffer's stale bytes ($j transfers old)"
			return
		fi
		j=$((j + 1))
	done
	if cmp -s -n 4096 /tmp/out /tmp/zero "$first" 0; then
		echo "# the wrong bytes are zeros (a buffer never written)"
	else
		echo "# the wrong bytes are not the stream's of the last 8 transfers: a buffer's contents from before the seed?"
	fi
}

use_virtio() {
	echo virtio_rng.0 >/sys/class/misc/hw_random/rng_current
}

stream_case() {
	check "virtio-rng serves the kernel's hwrng thread" use_virtio
	echo "# rng_current $(cat /sys/class/misc/hw_random/rng_current)"
	check "seeded with $SEED" seed
	before=$(stats)
	rm -f /tmp/out /tmp/resumed /tmp/reader_done
	: >/tmp/out
	stream_reader &
	if ! poll 120 big_enough /tmp/out $READY; then
		not_ok "reader read $READY bytes before the migration"
		tap_done
		return 1
	fi
	check "the destination runs (told over ttyS1)" migrate 600
	if poll 300 test -e /tmp/reader_done; then
		ok "reader read $(size /tmp/out) bytes across the migration, $(cat /tmp/pre) before the resume was told, the rest in $(cat /tmp/after_secs) s"
	else
		not_ok "reader read on after the resume (stuck at $(size /tmp/out) bytes)"
	fi
	errs=$(cat /tmp/read_errors 2>/dev/null || echo '?')
	check "no failed read ($errs)" test "$errs" = 0
	./edu-rng-stream $SEED "$(size /tmp/out)" >/tmp/ref
	if cmp -s /tmp/out /tmp/ref; then
		ok "all $(size /tmp/out) bytes are seed $SEED's stream: none stale, repeated or missing"
	else
		head -c 4096 /dev/zero >/tmp/zero
		explain
		not_ok "the bytes are exactly seed $SEED's stream"
	fi
	after=$(stats)
	echo "# stats lost_irqs timeouts errors: before $before, after $after"
	# shellcheck disable=SC2086 # three numbers each
	set -- $before $after
	check "no interrupt lost (lost_irqs $1 -> $4)" test "$1" -eq "$4"
	check "no transfer timed out or failed (timeouts $2 -> $5, errors $3 -> $6)" \
		test "$2" -eq "$5" -a "$3" -eq "$6"
	read -r mode <"$DRV/$B/mode"
	check "still seeded after the migration ($mode)" test "$mode" = seeded
}

# The kernel logged the VM generation change (vmgenid, add_vmfork_randomness)
vm_forked() {
	dmesg | grep -q 'crng reseeded due to virtual machine fork'
}

seed() {
	echo $SEED >"$DRV/$B/seed"
}

# the driver dropped its buffered bytes for the new VM generation
vm_fork_seen() {
	read -r n <"$DRV/$B/stats/vm_forks" && [ "$n" -gt 0 ]
}

clone_case() {
	seeded=
	[ "$MODE" = clone-seeded ] && seeded=1
	if [ -n "$seeded" ]; then
		# a seeded device is no hwrng: nothing else reads its stream
		check "seeded with $SEED" seed
		./edu-rng-stream $SEED $((3 * CLONE)) >/tmp/ref
		dd if=/dev/edu-rng0 of=/tmp/pre bs=$CLONE count=1 2>/dev/null
		check "the first $CLONE bytes are the stream" cmp -s -n $CLONE /tmp/pre /tmp/ref
	else
		# fill the ring and the hwrng side's chunk with this key's bytes
		dd if=/dev/edu-rng0 of=/dev/null bs=65536 count=4 2>/dev/null
		dd if=/dev/hwrng of=/dev/null bs=4096 count=1 2>/dev/null
		# and let the kernel's hwrng thread sleep (60 s) from here on,
		# so that it reads in neither clone: what the clones read then
		# depends on the device and the driver only
		check "the hwrng thread asleep" poll 10 hwrng_thread_asleep
	fi
	echo "# mode $(cat "$DRV/$B/mode"), state saved next"
	if ! migrate 600; then
		not_ok "restored (told over ttyS1)"
		tap_done
		return 1
	fi
	ok "restored (told over ttyS1)"
	# the vmgenid notification comes through ACPI, asynchronously
	check "the kernel saw the VM generation change (vmgenid)" poll 20 vm_forked
	if [ -n "$seeded" ]; then
		# a seeded stream is kept: the same in every clone anyway
		check "the driver kept the seeded stream (stats/vm_forks 0)" \
			test "$(cat "$DRV/$B/stats/vm_forks")" -eq 0
		dd if=/dev/edu-rng0 of=/tmp/direct bs=$CLONE count=1 2>/dev/null
		dd if=/dev/edu-rng0 of=/tmp/hw bs=$CLONE count=1 2>/dev/null
	else
		check "the driver dropped its buffered bytes (stats/vm_forks)" \
			poll 20 vm_fork_seen
		dd if=/dev/edu-rng0 of=/tmp/direct bs=$CLONE count=1 2>/dev/null
		dd if=/dev/hwrng of=/tmp/hw bs=$CLONE count=1 2>/dev/null
	fi
	check "read $CLONE bytes of /dev/edu-rng0" test "$(size /tmp/direct)" -eq $CLONE
	check "read $CLONE more bytes (of /dev/hwrng in host mode)" \
		test "$(size /tmp/hw)" -eq $CLONE
	d=$(sha256sum </tmp/direct | cut -c1-64)
	h=$(sha256sum </tmp/hw | cut -c1-64)
	echo "edu-rng-clone: edu-rng0 $d hwrng $h"
	# the first bytes themselves, where a replayed buffer would be: the
	# host looks for any 16 bytes that two clones (or two reads) share
	for f in direct hw; do
		head -c $CLONE_HEX /tmp/$f | od -An -v -tx1 -w64 | tr -d ' ' |
			sed "s/^/edu-rng-clone-hex: $f /"
	done
	if [ -n "$seeded" ]; then
		check "/dev/edu-rng0 goes on with the stream after the restore" \
			cmp -s -n $CLONE /tmp/direct /tmp/ref 0 $CLONE
		check "a second read goes on with the stream" \
			cmp -s -n $CLONE /tmp/hw /tmp/ref 0 $((2 * CLONE))
	fi
}

echo "TAP version 13"
echo "# edu.migrate=$MODE"
if ! poll 10 bound; then
	not_ok "edu-rng bound at boot"
	tap_done
	exit 1
fi
ok "edu-rng bound at boot ($B)"
# the interrupt mode the harness asked for (edu.irq=msi|intx) is the one in use
IRQ=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^edu\.irq=//p')
line=$(grep edu-rng /proc/interrupts || :)
echo "# interrupt: $(echo "$line" | tr -s ' ' | tr -d ':')"
case $line in
*MSI*) got=msi ;;
*IO-APIC*) got=intx ;;
*) got=unknown ;;
esac
check "interrupts by ${IRQ:-?} ($got)" test "$got" = "${IRQ:-msi}"
case $MODE in
stream) stream_case ;;
clone-host | clone-seeded) clone_case ;;
*) not_ok "edu.migrate=$MODE: no such mode" ;;
esac
echo "1..$n"
tap_done
