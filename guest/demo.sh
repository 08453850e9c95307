#!/bin/sh
# Demo payload for `make run` (runs as /exec/payload in the guest): shows the
# edu-rng PCI device and its driver, the hw_random core's view, a sample of
# output, seeding, and rngd feeding the kernel.  Each step says what it is
# missing instead of stopping, and the demo exits 0: it shows, it does not
# test.
VENDOR=0x1234
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
	grep -v '^0x0000000000000000 0x0000000000000000' "$dev/resource"
	[ -e "$dev/driver" ] || missing "no driver bound to $BDF"
}

show_module() {
	step "edu_rng module"
	if [ -d /sys/module/edu_rng ]; then
		lsmod | grep -E '^(Module|edu_rng)'
		modinfo edu_rng 2>/dev/null | grep -E '^(filename|version|description|alias|vermagic):'
	elif modinfo edu_rng >/dev/null 2>&1; then
		missing "edu_rng.ko is in the image but not loaded (no device, or autoload failed)"
	else
		missing "edu_rng.ko not in the image (drivers/edu-rng.ko not built?)"
	fi
}

show_hwrng() {
	step "hw_random core"
	hw=/sys/class/misc/hw_random
	if [ ! -d $hw ]; then
		missing "no $hw"
		return
	fi
	echo "rng_available: $(cat $hw/rng_available)"
	echo "rng_current:   $(cat $hw/rng_current)"
	grep -q edu /sys/class/misc/hw_random/rng_current ||
		missing "edu-rng is not the current hwrng"
	step "64 bytes from /dev/hwrng"
	if ! timeout 10 dd if=/dev/hwrng bs=64 count=1 2>/dev/null | hexdump -C; then
		missing "reading /dev/hwrng failed"
	fi
}

# Reseed twice with 42 and show what follows each time, from the direct
# path: seed 42's stream begins 1f 76 e5 26 51 0a e3 6a (the device spec's
# known answers).  /dev/hwrng is not used here: it hands out the tail of a
# 64-byte chunk first, and keeps the rest for the next reader.
show_seed() {
	step "seeding through sysfs"
	seed=/sys/bus/pci/devices/$BDF/seed
	if [ -z "$BDF" ] || [ ! -e "$seed" ]; then
		missing "no seed attribute (${BDF:-no device})"
		return
	fi
	echo "seed 42's stream begins 1f 76 e5 26 51 0a e3 6a (Documentation/edu-rng-device.rst)"
	for i in 1 2; do
		if echo 42 >"$seed"; then
			echo "after 'echo 42 > $seed' (#$i), /dev/edu-rng0 gives:"
			timeout 10 dd if=/dev/edu-rng0 bs=16 count=1 2>/dev/null | hexdump -C
		else
			missing "writing $seed failed"
			return
		fi
	done
	echo "(#1 can start 1 KiB later: entering seeded mode re-registers the hwrng,"
	echo " and the kernel's hwrng thread may take the first KiB; see admin-guide.rst)"
	echo "mode: $(cat "/sys/bus/pci/devices/$BDF/mode"), rng_quality: $(cat /sys/class/misc/hw_random/rng_quality)"
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
	kill "$pid" 2>/dev/null
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
