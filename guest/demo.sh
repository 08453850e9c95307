#!/bin/sh
# Demo payload for `make run` (runs as /exec/payload in the guest): shows the
# edu-rng PCI device and its driver, the hw_random core's view, a sample of
# output, seeding, rngd feeding the kernel and rngtest.  What the CLI does
# (devices, driver, node, mode, hwrng core; seeding; reading /dev/edu-rngN)
# it shows through edu-rng, as a user would type it; the rest (all PCI
# devices, the module, /dev/hwrng, back to host mode) through sysfs and
# busybox.  Each step says what it is missing instead of stopping, and the
# demo exits 0: it shows, it does not test.  (set -eu stops it only on a
# mistake of its own: every command that may fail in the guest is checked.)
set -eu
HWRNG=/sys/class/misc/hw_random
MISSING=
BDF=
NODE=

step() {
	echo
	echo "=== $*"
}

# Run a command as typed at the shell: the prompt line, then its output;
# killed after 10 s, so that a device that stops answering shows as a
# failed step rather than a demo that hangs.
typed() {
	echo "# $*"
	timeout 10 "$@"
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

# The first edu-rng device and its node, from edu-rng info (BDF, NODE).
find_device() {
	out=$(edu-rng info 2>/dev/null) || return 1
	BDF=$(echo "$out" | sed -n 's/^edu-rng //p' | head -n1)
	NODE=$(echo "$out" | sed -n 's/^  node: *//p' | head -n1)
	[ -n "$BDF" ]
}

# The hwrng line of edu-rng info: "edu-rng-BDF (current)", "(available)",
# "(withdrawn while seeded)".
hwrng_state() {
	edu-rng info 2>/dev/null | sed -n 's/^  hwrng: *//p' | head -n1
}

show_pci() {
	step "PCI devices"
	for d in /sys/bus/pci/devices/*; do
		pci_line "$d"
	done
	step "edu-rng devices (PCI 1234:cafe), their driver and the hwrng core"
	if ! command -v edu-rng >/dev/null; then
		missing "no edu-rng CLI in the guest (make user builds build/user/edu-rng)"
		return
	fi
	typed edu-rng --version
	if ! typed edu-rng info; then
		missing "edu-rng info failed: no device 1234:cafe (QEMU without edu-rng, --no-edu) or no driver bound"
		find_device || true
		return
	fi
	find_device || missing "edu-rng info names no device"
	[ -n "$BDF" ] || return 0
	dev=/sys/bus/pci/devices/$BDF
	echo "modalias: $(cat "$dev/modalias")"
	echo "irq: $(cat "$dev/irq")"
	echo "resources (start end flags):"
	grep -v '^0x0000000000000000 0x0000000000000000' "$dev/resource" || true
	echo "(man edu-rng, edu-rng --help: the CLI's manual)"
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

# The CLI reads /dev/edu-rngN; /dev/hwrng is the hwrng core's, whose
# current rng edu-rng info showed.
show_hwrng() {
	step "64 bytes from /dev/hwrng (the hwrng core's node)"
	if [ ! -d $HWRNG ]; then
		missing "no $HWRNG"
		return
	fi
	grep -q edu $HWRNG/rng_current ||
		missing "edu-rng is not the current hwrng (rng_current $(cat $HWRNG/rng_current))"
	echo "# dd if=/dev/hwrng bs=64 count=1 | hexdump -C"
	if ! timeout 10 dd if=/dev/hwrng bs=64 count=1 2>/dev/null | hexdump -C; then
		missing "reading /dev/hwrng failed"
	fi
}

# Reseed twice with 42 and show what follows each time, from the device's
# own node: seed 42's stream begins 1f 76 e5 26 51 0a e3 6a (the device
# spec's known answers), from its first byte after every seed; the lab's
# program, seeding by ioctl, reads the same stream as 32-bit words.  A
# seeded device is withdrawn from the hwrng core, so that no root-chosen
# byte is credited as entropy: it leaves rng_available until 'echo host'
# to its mode registers it again, and /dev/hwrng gets none of the seeded
# stream.  (The CLI has no verb for host mode: sysfs it is.)
show_seed() {
	step "seeding"
	if [ -z "$BDF" ] || [ -z "$NODE" ]; then
		missing "no edu-rng device with a /dev/edu-rngN to seed"
		return
	fi
	dev=/sys/bus/pci/devices/$BDF
	echo "seed 42's stream begins 1f 76 e5 26 51 0a e3 6a (Documentation/edu-rng-device.rst)"
	for i in 1 2; do
		if ! typed edu-rng seed 42; then
			missing "edu-rng seed 42 failed"
			return
		fi
		typed edu-rng read -n 16 || missing "edu-rng read failed"
	done
	echo "the lab's program, seed 42 by MY_RNG_IOCTL_SEED, then words by MY_RNG_IOCTL_RAND"
	echo "(0x26e5761f = 652572191: the bytes 1f 76 e5 26 as a little-endian word):"
	typed lab-rng -d "$NODE" -s 42 -n 2 || missing "lab-rng failed"
	typed edu-rng info || true
	case $(hwrng_state) in
	*withdrawn*) echo "edu-rng-$BDF left the hwrng core while seeded: /dev/hwrng and rngd get none of its bytes" ;;
	*) missing "edu-rng-$BDF is still in the hwrng core while seeded" ;;
	esac
	echo "# echo host > $dev/mode"
	if ! echo host >"$dev/mode"; then
		missing "writing host to $dev/mode failed"
		return
	fi
	typed edu-rng info || true
	case $(hwrng_state) in
	*'(current)' | *'(available)') echo "edu-rng-$BDF is back in the hwrng core" ;;
	*) missing "edu-rng-$BDF is not back in the hwrng core after 'echo host'" ;;
	esac
}

# Bytes process $1 has read.
rchar() {
	sed -n 's/^rchar: //p' "/proc/$1/io" 2>/dev/null || echo 0
}

show_rngd() {
	step "rngd (the shell guest runs it from boot)"
	echo "entropy_avail before: $(cat /proc/sys/kernel/random/entropy_avail)"
	# rng-tools 5: -r input device, -p pid file; no RDRAND, no TPM: only
	# /dev/hwrng; it forks into the background.
	rm -f /run/rngd.pid
	if ! typed rngd -r /dev/hwrng --no-drng=1 --no-tpm=1 -p /run/rngd.pid; then
		missing "rngd failed to start"
		return
	fi
	# until it has checked its first 2500-byte block (at most 10 s)
	i=0
	pid=
	while [ $i -lt 100 ]; do
		pid=$(cat /run/rngd.pid 2>/dev/null) || pid=
		[ -z "$pid" ] || [ "$(rchar "$pid")" -lt 2500 ] || break
		sleep 0.1
		i=$((i + 1))
	done
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		echo "rngd running, pid $pid, has read $(rchar "$pid") bytes: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	else
		missing "rngd exited"
	fi
	echo "entropy_avail after:  $(cat /proc/sys/kernel/random/entropy_avail)"
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
}

# FIPS 140-2 tests of rng-tools5's rngtest on 20 blocks (50 KB) of /dev/hwrng.
show_rngtest() {
	step "rngtest"
	echo "# rngtest -c 20 </dev/hwrng"
	out=$(timeout 10 rngtest -c 20 </dev/hwrng 2>&1) || true
	echo "$out" | grep -E 'FIPS 140-2 (successes|failures)|bits received' ||
		missing "rngtest gave no result: $out"
}

show_pci
show_module
show_hwrng
show_seed
show_rngd
show_rngtest
echo
if [ -n "$MISSING" ]; then
	echo "demo: done, with missing pieces:$MISSING"
else
	echo "demo: done, all steps found what they looked for"
fi
exit 0
