#!/bin/bash
# make check: build what is missing, run every suite, print a summary per
# suite and a last line "N passed, M failed".  Exit status 1 on any failure.
#
# Suites: lint (static checks), device (unit tests of the device core under
# ASan/UBSan, KAT cross-checked with openssl), guest (selftests in a guest
# with MSI), guest-intx (the same with INTx only), guest-two (two devices).
# TAP of each suite is kept in build/check/<suite>.tap; serial logs beside.
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

OUT=$BUILD/check
SUITES=()

# suite NAME CMD...: run CMD, keep its TAP; a failing CMD whose TAP shows
# no failure still fails the suite.
suite() {
	local name=$1 rc=0
	shift
	echo "== $name"
	"$@" >"$OUT/$name.out" 2>&1 || rc=$?
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
	make -s -C "$TOP/drivers" 2>&1 | grep -v -e '^Skipping BTF' -e 'BTF \[M\]' || true
	[ -f "$TOP/drivers/edu-rng.ko" ] || die "module build failed"
	"$TOP/qemu/build-qemu.sh"
	"$TOP/guest/fetch-kernel.sh" >/dev/null
	LSRC=$("$TOP/scripts/linux-source.sh")
	make -s -C "$TOP/selftests" OUTPUT="$BUILD/selftests" \
		KSFT_INC="$LSRC/tools/testing/selftests"
	make -s -C "$TOP/qemu/tests" OUTPUT="$BUILD/qemu-tests"
}

device_tests() {
	local seed ok=1
	"$BUILD/qemu-tests/test-edu-rng-core" || ok=0
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

guest_tests() {
	local name=$1
	shift
	"$TOP/qemu/run-vm" --timeout 600 --log "$OUT/$name.serial.log" \
		--exec "$TOP/selftests/run_guest.sh" \
		--add "$BUILD/selftests/edu_rng_test:/exec/" \
		--add "$TOP/selftests/rngd_test.sh:/exec/" "$@"
}

two_devices() {
	"$TOP/qemu/run-vm" --timeout 300 --log "$OUT/guest-two.serial.log" \
		--exec "$TOP/selftests/two_devices_test.sh" -- -device edu-rng
}

summary() {
	local s p f tp=0 tf=0
	echo
	for s in "${SUITES[@]}"; do
		p=$(grep -c '^ok' "$OUT/$s.tap" || true)
		f=$(grep -c '^not ok' "$OUT/$s.tap" || true)
		printf '%-12s %3d passed, %d failed\n' "$s:" "$p" "$f"
		tp=$((tp + p))
		tf=$((tf + f))
	done
	echo "$tp passed, $tf failed"
	[ $tf -eq 0 ]
}

mkdir -p "$OUT"
build_all
suite lint "$TOP/scripts/lint.sh"
suite device device_tests
suite guest guest_tests guest --append edu.irq=msi
suite guest-intx guest_tests guest-intx --append edu.irq=intx \
	--no-edu -- -device edu-rng,msi=off
suite guest-two two_devices
summary
