#!/bin/sh
# Demo payload for `make run` (runs as /exec/payload in the guest): shows the
# edu-rng PCI device and its driver, the hw_random core's view, a sample of
# output, seeding, and rngd feeding the kernel.  Each step says what it is
# missing instead of stopping, and the demo exits 0: it shows, it does not
# test.  (set -eu stops it only on a mistake of its own: every command that
# may fail in the guest is checked.)
set -eu
VENDOR=0x1234
HWRNG=/sys/class/misc/hw_random
DEVICE=0xcafe
MISSING=

step() {
	echo
	echo "=== $*"
}

missing() {
	echo "MISSING: $*"
	MISSING="$MISSING
  - $*"
}

# lspci-like line for one sysfs PCI device dir: BDF class vendor:device driver.
pci_line() {
	drv=-
	[ -e "$1/driver" ] && drv=$(basename "$(readlink "$1/driver")")
	printf '%s class %s %s:%s rev %s driver %s\n' "${1##*/}" \
		"$(cat "$1/class")" "$(cat "$1/vendor")" "$(cat "$1/device")" \
		"$(cat "$1/revision")" "$drv"
}

find_device() {
	BDF=
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = $VENDOR ] && [ "$(cat "$d/device")" = $DEVICE ]; then
			BDF=${d##*/}
			return 0
		fi
	done
	return 1
}

show_pci() {
	step "PCI devices"
	for d in /sys/bus/pci/devices/*; do
		pci_line "$d"
	done
	step "edu-rng device ($VENDOR:$DEVICE)"
	if ! find_device; then
		missing "no PCI device 1234:cafe (QEMU without edu-rng, or --no-edu)"
		return
	fi
	dev=/sys/bus/pci/devices/$BDF
	pci_line "$dev"
	echo "modalias: $(cat "$dev/modalias")"
	echo "irq: $(cat "$dev/irq")"
	echo "resources (start end flags):"
	grep -v '^0x0000000000000000 0x0000000000000000' "$dev/resource" || true
	[ -e "$dev/driver" ] || missing "no driver bound to $BDF"
}

show_module() {
	step "edu_rng module"
	if [ -d /sys/module/edu_rng ]; then
		lsmod | grep -E '^(Module|edu_rng)' || true
		modinfo edu_rng 2>/dev/null |
			grep -E '^(filename|version|description|alias|vermagic):' || true
	elif modinfo edu_rng >/dev/null 2>&1; then
		missing "edu_rng.ko is in the image but not loaded (no device, or autoload failed)"
	else
		missing "edu_rng.ko not in the image (drivers/edu-rng.ko not built?)"
	fi
}

show_hwrng() {
	step "hw_random core"
	if [ ! -d $HWRNG ]; then
		missing "no $HWRNG"
		return
	fi
	show_core
	grep -q edu $HWRNG/rng_current ||
		missing "edu-rng is not the current hwrng"
	step "64 bytes from /dev/hwrng"
	if ! timeout 10 dd if=/dev/hwrng bs=64 count=1 2>/dev/null | hexdump -C; then
		missing "reading /dev/hwrng failed"
	fi
}

show_core() {
	echo "rng_available: $(cat $HWRNG/rng_available 2>/dev/null)"
	echo "rng_current:   $(cat $HWRNG/rng_current 2>/dev/null)"
}

# Is hwrng $1 in rng_available?
available() {
	case " $(cat $HWRNG/rng_available 2>/dev/null) " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# Reseed twice with 42 and show what follows each time, from the device's
# own node: seed 42's stream begins 1f 76 e5 26 51 0a e3 6a (the device
# spec's known answers), from its first byte after every seed.  A seeded
# device is withdrawn from the hwrng core, so that no root-chosen byte is
# credited as entropy: it leaves rng_available until 'echo host' to its
# mode registers it again, and /dev/hwrng gets none of the seeded stream.
show_seed() {
	step "seeding through sysfs"
	dev=/sys/bus/pci/devices/$BDF
	seed=$dev/seed
	if [ -z "$BDF" ] || [ ! -e "$seed" ]; then
		missing "no seed attribute (${BDF:-no device})"
		return
	fi
	node=
	for m in "$dev"/misc/edu-rng*; do
		if [ -e "$m" ]; then
			node=/dev/${m##*/}
		fi
	done
	if [ -z "$node" ]; then
		missing "no /dev/edu-rngN for $BDF"
		return
	fi
	hw=edu-rng-$BDF
	echo "seed 42's stream begins 1f 76 e5 26 51 0a e3 6a (Documentation/edu-rng-device.rst)"
	for i in 1 2; do
		if ! echo 42 >"$seed"; then
			missing "writing $seed failed"
			return
		fi
		echo "after 'echo 42 > $seed' (#$i), $node gives:"
		timeout 10 dd if="$node" bs=16 count=1 2>/dev/null | hexdump -C
	done
	echo "mode: $(cat "$dev/mode")"
	show_core
	if available "$hw"; then
		missing "$hw is still in rng_available while seeded"
	else
		echo "$hw left the hwrng core while seeded: /dev/hwrng and rngd get none of its bytes"
	fi
	if ! echo host >"$dev/mode"; then
		missing "writing host to $dev/mode failed"
		return
	fi
	echo "after 'echo host > $dev/mode': mode $(cat "$dev/mode")"
	show_core
	if available "$hw"; then
		echo "$hw is back in the hwrng core"
	else
		missing "$hw is not back in rng_available after 'echo host'"
	fi
}

show_rngd() {
	step "rngd"
	echo "entropy_avail before: $(cat /proc/sys/kernel/random/entropy_avail)"
	# rng-tools 5: -r input device, -p pid file; -n 1 -d 1 keep it to
	# /dev/hwrng (no TPM, no RDRAND); it forks into the background.
	if ! rngd -r /dev/hwrng -p /run/rngd.pid -n 1 -d 1; then
		missing "rngd failed to start"
		return
	fi
	sleep 1
	if pid=$(pidof rngd); then
		echo "rngd running, pid $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	else
		missing "rngd exited"
	fi
	echo "entropy_avail after:  $(cat /proc/sys/kernel/random/entropy_avail)"
	kill "$pid" 2>/dev/null || true
}

show_pci
show_module
show_hwrng
show_seed
show_rngd
echo
if [ -n "$MISSING" ]; then
	echo "demo: done, with missing pieces:$MISSING"
else
	echo "demo: done, all steps found what they looked for"
fi
exit 0
