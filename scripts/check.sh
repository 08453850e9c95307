#!/bin/bash
# make check: build what is missing, run every suite, print a summary per
# suite and a last line "N passed, M failed".  Exit status 1 on any failure.
#
# Suites: lint (static checks), device (unit tests of the device core under
# ASan/UBSan, KAT cross-checked with openssl), dkms (DKMS build in scratch
# trees, make install/uninstall layout), deb (the Debian packages, in a
# scratch bookworm root), guest (selftests in a guest with
# MSI), guest-intx (the same with INTx only), guest-two (two devices),
# run-guest (make run's guest on a terminal and its demo), guest-debian
# (the packages on a Debian 12 guest with systemd, udev, rngd.service and
# DKMS, two boots), all on $KVER;
# then guest-<series> (the MSI selftests) on each kernel of
# $KVER_EXTRA (default 6.12, the newest 6.12 release; empty: none) whose
# series differs from $KVER's.  And fuzz (libFuzzer on the device core),
# guest-fault (injected device faults), guest-iommu (behind intel-iommu),
# guest-swiotlb (swiotlb=force), guest-latency (dma-latency-ns=100000),
# guest-lifecycle (unbind/bind and rmmod/insmod loops under load),
# guest-hotplug (device_del/device_add over QMP under load), guest-migrate
# (live migration to a file and on in a second QEMU, readers running, MSI
# and INTx, with and without a transfer pending), guest-clone (one saved
# state restored twice, host-entropy and seeded), guest-debug
# (the selftests and kmemleak on a KASAN/lockdep/DMA-API debug kernel) and
# guest-debug-{fault,lifecycle,hotplug} (those lanes on it too).  Then on
# each kernel of $KVER_BUILT (default 7.2, empty: none) built here by
# guest/build-kernel.sh: guest-7.2 (the MSI selftests on Linux 7.2) and
# guest-7.2-{intx,two,fault,lifecycle,hotplug,migrate}.  On the
# newest QEMU Debian serves ($QEMU_NEW: default newest, a series such as
# 10.0, empty for none), named after its series: qtest-qemu-<series> (the
# qtest checks and QEMU's own qtest tests/qtest/edu-rng-test),
# guest-qemu-<series> (as guest) and guest-migrate-qemu-<series> (as
# guest-migrate); and guest-migrate-cross, a guest migrated mid-stream from
# QEMU 7.2 to it, both -M pc-q35-7.2.
# TAP of each suite is kept in build/check/<suite>.tap; serial logs beside.
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

OUT=$BUILD/check
SUITES=()
declare -A SECS BUILT_REL

# suite NAME CMD...: run CMD, keep its TAP; a failing CMD whose TAP shows
# no failure still fails the suite.
suite() {
	local name=$1 rc=0 t0=$SECONDS
	shift
	echo "== $name"
	"$@" >"$OUT/$name.out" 2>&1 || rc=$?
	SECS[$name]=$((SECONDS - t0))
	grep -E '^(not )?ok\b' "$OUT/$name.out" >"$OUT/$name.tap" || true
	if [ $rc -ne 0 ] && ! grep -q '^not ok' "$OUT/$name.tap"; then
		echo "not ok - $name exited with status $rc" >>"$OUT/$name.tap"
	fi
	if [ ! -s "$OUT/$name.tap" ]; then
		echo "not ok - $name ran no test" >>"$OUT/$name.tap"
	fi
	grep -E '^not ok|^# .*:[0-9]+:|run-vm:' "$OUT/$name.out" | head -n 40 || true
	SUITES+=("$name")
}

build_all() {
	"$TOP/scripts/deps.sh"
	"$TOP/scripts/module.sh"
	"$TOP/qemu/build-qemu.sh"
	new_qemu
	"$TOP/guest/fetch-kernel.sh" >/dev/null
	LSRC=$("$TOP/scripts/linux-source.sh")
	make -s -C "$TOP/selftests" OUTPUT="$BUILD/selftests" \
		KSFT_INC="$LSRC/tools/testing/selftests"
	make -s -C "$TOP/qemu/tests" OUTPUT="$BUILD/qemu-tests" all fuzz
	# the CLI and the lab's program, static for the guest (cli_test.sh)
	make -s -C "$TOP/user" OUTPUT="$BUILD/user" STATIC=1
	# the Debian 12 guest's image (cached); a failure fails guest-debian
	"$TOP/guest/build-debian.sh" || echo "check: guest/build-debian.sh failed" >&2
	# kernels built here (cached), their edu-rng.ko, initramfs: the
	# debug kernel (guest-debug*) and 7.2 (guest-7.2*); a failure fails
	# those suites only
	for k in debug ${KVER_BUILT-7.2}; do
		if "$TOP/guest/build-guest.sh" "$k" "$BUILD/guest-$k"; then
			BUILT_REL[$k]=$("$TOP/guest/build-kernel.sh" "$k" --print-release)
		else
			echo "check: guest/build-guest.sh $k failed" >&2
			BUILT_REL[$k]='(build failed)'
		fi
	done
}

# The newest QEMU ($QEMU_NEW): NEW_BIN, its qtest NEW_QTEST, its series
# NEW_SERIES (10.2).  A failed build fails its suites only.
new_qemu() {
	local want=${QEMU_NEW-newest}
	NEW_BIN='' NEW_QTEST='' NEW_SERIES=''
	[ -n "$want" ] || return 0
	if NEW_BIN=$(QEMU_VERSION=$want "$TOP/qemu/build-qemu.sh" --print-path); then
		NEW_QTEST=$(dirname "$NEW_BIN")/edu-rng-test
		NEW_SERIES=$(cut -d. -f1-2 "$(dirname "$NEW_BIN")/../VERSION")
	else
		echo "check: building QEMU_VERSION=$want failed" >&2
		NEW_BIN=/nonexistent NEW_QTEST=/nonexistent NEW_SERIES=$want
	fi
}

new_qtests() {
	local ok=1
	make -s -C "$TOP/qemu/tests" OUTPUT="$BUILD/qemu-tests" qtest QEMU="$NEW_BIN" || ok=0
	QTEST_QEMU_BINARY=$NEW_BIN "$NEW_QTEST" --tap || ok=0
	[ $ok -eq 1 ]
}

# make patches' upstream QEMU series: git am onto a fresh baseline of the
# newest QEMU source, its build and qtest, checkpatch on every patch
qemu_patches() {
	"$TOP/scripts/patches.sh" --check qemu
}

# make patches' Linux series: git am onto a git baseline of the 7.2 source,
# drivers/char/hw_random built against the 7.2 guest kernel's tree (W=1
# C=1), checkpatch --strict on every patch
linux_patches() {
	"$TOP/scripts/patches.sh" --check linux
}

new_guest() {
	QEMU=$NEW_BIN guest_tests "guest-qemu-$NEW_SERIES" --append edu.irq=msi
}

new_migrate() {
	QEMU=$NEW_BIN "$TOP/selftests/migrate_host.sh" "$OUT/guest-migrate-qemu-$NEW_SERIES" \
		msi msi-pending intx intx-pending -- --timeout 300
}

# from 7.2 to the newest, mid-stream, with and without a transfer pending
cross_migrate() {
	SRC_QEMU=$("$TOP/qemu/build-qemu.sh" --print-path) DST_QEMU=$NEW_BIN \
		"$TOP/selftests/migrate_host.sh" "$OUT/guest-migrate-cross" \
		cross-msi cross-msi-pending -- --timeout 300
}

device_tests() {
	local seed ok=1
	"$BUILD/qemu-tests/test-edu-rng-core" || ok=0
	# the device in a built QEMU, over qtest and QMP: stop/cont,
	# migration with a transfer pending, clones of one state
	make -s -C "$TOP/qemu/tests" OUTPUT="$BUILD/qemu-tests" qtest \
		QEMU="$("$TOP/qemu/build-qemu.sh" --print-path)" || ok=0
	# the spec says: seed s is ChaCha20 with key le64(s) || 0^24, nonce 0
	for seed in 0 42 18446744073709551615; do
		if cmp -s <("$BUILD/qemu-tests/edu-rng-stream" "$seed" 1048576) \
			<(head -c 1048576 /dev/zero | openssl enc -chacha20 \
				-K "$(printf '%016x' "$seed" | fold -w2 | tac | tr -d '\n')$(printf '0%.0s' {1..48})" \
				-iv 00000000000000000000000000000000); then
			echo "ok - seed $seed: 1 MiB equals openssl's chacha20"
		else
			echo "not ok - seed $seed: 1 MiB differs from openssl's chacha20"
			ok=0
		fi
	done
	[ $ok -eq 1 ]
}

# The selftests (edu_rng_test, rngd_test.sh, cli_test.sh) in a guest; NAME,
# then run-vm options.
guest_tests() {
	local name=$1
	shift
	"$TOP/qemu/run-vm" --timeout 600 --log "$OUT/$name.serial.log" \
		--exec "$TOP/selftests/run_guest.sh" \
		--add "$BUILD/selftests/edu_rng_test:/exec/" \
		--add "$TOP/selftests/rngd_test.sh:/exec/" \
		--add "$TOP/selftests/tap.sh:/exec/" \
		--add "$TOP/selftests/cli_test.sh:/exec/" \
		--add "$BUILD/selftests/edu-rng-stream:/exec/" \
		--add "$BUILD/user/edu-rng:/exec/" \
		--add "$BUILD/user/lab-rng:/exec/" "$@"
}

# The selftests (MSI) on another kernel $1: the module is built from a copy
# of drivers/ in build/module/$1/, so drivers/edu-rng.ko stays $KVER's.
other_kernel() {
	local k=$1 name=$2 out
	if ! out=$(KVER=$k "$TOP/scripts/module.sh" "$BUILD/module/$k" 2>&1); then
		echo "not ok 1 edu-rng.ko builds against linux-headers-$k"
		printf '%s\n' "$out" | grep -E 'error|module\.sh|common\.sh' | head -n 10 | sed 's/^/# /'
		return 1
	fi
	KVER=$k "$TOP/guest/fetch-kernel.sh"
	KVER=$k guest_tests "$name" --module "$BUILD/module/$k/drivers/edu-rng.ko" \
		--append edu.irq=msi
}

# 1e6 random MMIO accesses, DMA requests, completions and resets against
# the device core (libFuzzer, ASan, UBSan), from an empty corpus.
fuzz_core() {
	local corpus out
	corpus=$(mktemp -d)
	out=$("$BUILD/qemu-tests/fuzz-edu-rng-core" -runs=1000000 -max_len=512 \
		-seed=1 "$corpus" 2>&1) && rc=0 || rc=$?
	rm -rf "$corpus"
	printf '%s\n' "$out" | tail -n 3 | sed 's/^/# /'
	if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q '^Done 1000000 runs'; then
		echo "ok 1 device core: 1000000 fuzzed executions, no crash or sanitizer report"
	else
		echo "not ok 1 device core fuzzing (status $rc)"
		return 1
	fi
	# inputs that once crashed it
	if "$BUILD/qemu-tests/fuzz-edu-rng-core" "$TOP"/qemu/tests/fuzz-regressions/* \
		>/dev/null 2>&1; then
		echo "ok 2 device core: the fuzzer's past crashes pass"
	else
		echo "not ok 2 device core: a past fuzzer crash fails again"
		return 1
	fi
}

# edu_rng_test alone in a guest with other QEMU or kernel settings
selftest_lane() {
	local name=$1
	shift
	"$TOP/qemu/run-vm" --timeout 900 --log "$OUT/$name.serial.log" \
		--exec "$BUILD/selftests/edu_rng_test" "$@"
}

# The lanes that run on several kernels: NAME, then run-vm options for the
# kernel (--kernel, --initrd, --timeout; none after --).
msi_lane() {
	guest_tests "$@" --append edu.irq=msi
}

intx_lane() {
	guest_tests "$@" --append "edu.irq=intx rng_core.default_quality=1024" \
		--no-edu -- -device edu-rng,msi=off
}

two_devices() {
	local name=$1
	shift
	"$TOP/qemu/run-vm" --timeout 300 --log "$OUT/$name.serial.log" \
		--exec "$TOP/selftests/two_devices_test.sh" \
		--add "$TOP/selftests/tap.sh:/exec/" \
		--add "$BUILD/selftests/edu-rng-stream:/exec/" "$@" -- -device edu-rng
}

# injected device faults; iomem=relaxed lets the test reach the FAULT
# register through the BAR the driver holds
# The fault tests skip without edu.fault=1: here none of them may.
fault_lane() {
	local rc=0
	selftest_lane "$@" --append "edu.irq=msi edu.fault=1 iomem=relaxed" \
		--no-edu -- -device edu-rng,fault-injection=on || rc=$?
	if grep -q 'SKIP .*no edu.fault=1' "$OUT/$1.serial.log"; then
		echo "not ok - fault tests skipped in $1"
		rc=1
	fi
	return $rc
}

lifecycle() {
	local name=$1
	shift
	"$TOP/qemu/run-vm" --timeout 900 --log "$OUT/$name.serial.log" \
		--exec "$TOP/selftests/lifecycle_test.sh" \
		--add "$TOP/selftests/tap.sh:/exec/" "$@"
}

# The device in a pcie-root-port, removed and added back 10 times over QMP
# while four readers and rngd run (selftests/hotplug_host.sh drives it).
hotplug() {
	local name=$1
	shift
	"$TOP/selftests/hotplug_host.sh" "$OUT/$name.serial.log" --timeout 600 "$@"
}

# Migrated mid-stream (MSI, INTx; a transfer pending or not) and cloned
# from one saved state (selftests/migrate_host.sh drives both).
migrate_lane() {
	local name=$1
	shift
	"$TOP/selftests/migrate_host.sh" "$OUT/$name" \
		msi msi-pending intx intx-pending -- --timeout 300 "$@"
}

# The lanes on kernel $1 built here (guest/build-guest.sh, in build_all):
# guest-$1 (the MSI selftests), guest-$1-intx, -two, -fault, -lifecycle,
# -hotplug and -migrate.
built_kernel_suites() {
	local k=$1 g=$BUILD/guest-$1 opts
	opts=(--kernel "$g/kernel" --initrd "$g/initrd.img")
	suite "guest-$k" msi_lane "guest-$k" "${opts[@]}"
	suite "guest-$k-intx" intx_lane "guest-$k-intx" "${opts[@]}"
	suite "guest-$k-two" two_devices "guest-$k-two" "${opts[@]}"
	suite "guest-$k-fault" fault_lane "guest-$k-fault" "${opts[@]}"
	suite "guest-$k-lifecycle" lifecycle "guest-$k-lifecycle" "${opts[@]}"
	suite "guest-$k-hotplug" hotplug "guest-$k-hotplug" "${opts[@]}"
	suite "guest-$k-migrate" migrate_lane "guest-$k-migrate" "${opts[@]}"
}

clone_lane() {
	"$TOP/selftests/migrate_host.sh" "$OUT/guest-clone" \
		clone-host clone-seeded -- --timeout 300
}

# make deb, lintian, and the packages installed, upgraded, removed and
# purged in a scratch bookworm root (cached), building the module by DKMS
deb_packages() {
	"$TOP/scripts/deb-test.sh"
}

summary() {
	local s p f tp=0 tf=0 k
	echo
	echo "kernel: $KVER"
	for k in "${EXTRA[@]}"; do
		echo "kernel of guest-$(kver_series "$k") (and dkms): $k"
	done
	for k in "${!BUILT_REL[@]}"; do
		echo "kernel of guest-$k*: ${BUILT_REL[$k]}"
	done
	for s in "${SUITES[@]}"; do
		p=$(grep -c '^ok' "$OUT/$s.tap" || true)
		f=$(grep -c '^not ok' "$OUT/$s.tap" || true)
		# skipped tests are among the passed ones, as TAP has them
		k=$(grep -c '^ok .*# SKIP' "$OUT/$s.tap" || true)
		printf '%-15s %3d passed, %d failed, %d skipped  (%d s)\n' "$s:" \
			"$p" "$f" "$k" "${SECS[$s]}"
		tp=$((tp + p))
		tf=$((tf + f))
	done
	echo "$tp passed, $tf failed"
	[ $tf -eq 0 ]
}

mkdir -p "$OUT"
build_all
# The other kernels' releases (a series that does not resolve stays as it
# is, and its suites fail).
EXTRA=()
for k in ${KVER_EXTRA-6.12}; do
	r=$(resolve_kver "$k") || r=$k
	[ "$(kver_series "$r")" = "$(kver_series "$KVER")" ] || EXTRA+=("$r")
done
suite lint "$TOP/scripts/lint.sh"
suite device device_tests
suite dkms "$TOP/scripts/install-test.sh" "$KVER" "${EXTRA[@]}"
suite deb deb_packages
suite guest msi_lane guest
suite guest-intx intx_lane guest-intx
suite guest-two two_devices guest-two
# make run as a new user meets it: the shell on a pty (edu-rng, lab-rng,
# rngd from boot, man pages, poweroff) and, without a terminal, the demo
suite run-guest "$TOP/selftests/make_run_host.sh" "$OUT/run-guest"
# the packages as a Debian 12 user gets them: apt, DKMS in the guest, a
# reboot, udev, systemd, rngd.service, the tools, apt purge
suite guest-debian "$TOP/selftests/debian_host.sh" "$OUT/guest-debian"
suite guest-lifecycle lifecycle guest-lifecycle
suite guest-hotplug hotplug guest-hotplug
suite guest-migrate migrate_lane guest-migrate
suite guest-clone clone_lane
suite fuzz fuzz_core
suite guest-fault fault_lane guest-fault
# the same with INTx: a storm is masked at the device, the line may be shared
suite guest-fault-intx selftest_lane guest-fault-intx \
	--append "edu.irq=intx edu.fault=1 iomem=relaxed" \
	--no-edu -- -device edu-rng,fault-injection=on,msi=off
suite guest-iommu selftest_lane guest-iommu --append "edu.irq=msi intel_iommu=on" \
	-- -device intel-iommu,intremap=off
suite guest-swiotlb selftest_lane guest-swiotlb --append "edu.irq=msi swiotlb=force"
suite guest-latency selftest_lane guest-latency --append edu.irq=msi \
	--no-edu -- -device edu-rng,dma-latency-ns=100000
# guest-debug: the selftests, then debug_kernel_test.sh, on KASAN/lockdep/DMA-API/kmemleak
DEBUG=(--timeout 2400 --mem 2G --kernel "$BUILD/guest-debug/kernel"
	--initrd "$BUILD/guest-debug/initrd.img")
suite guest-debug msi_lane guest-debug "${DEBUG[@]}" \
	--add "$TOP/selftests/debug_kernel_test.sh:/exec/"
# ... and the fault, lifecycle and hotplug lanes on the debug kernel
suite guest-debug-fault fault_lane guest-debug-fault "${DEBUG[@]}"
suite guest-debug-lifecycle lifecycle guest-debug-lifecycle "${DEBUG[@]}"
suite guest-debug-hotplug hotplug guest-debug-hotplug "${DEBUG[@]}"
for k in ${KVER_BUILT-7.2}; do
	built_kernel_suites "$k"
done
suite patches-linux linux_patches
for k in "${EXTRA[@]}"; do
	suite "guest-$(kver_series "$k")" other_kernel "$k" "guest-$(kver_series "$k")"
done
if [ -n "$NEW_SERIES" ]; then
	suite "qtest-qemu-$NEW_SERIES" new_qtests
	suite patches-qemu qemu_patches
	suite "guest-qemu-$NEW_SERIES" new_guest
	suite "guest-migrate-qemu-$NEW_SERIES" new_migrate
	suite guest-migrate-cross cross_migrate
fi
summary
