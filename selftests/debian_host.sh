#!/bin/bash
# The guest-debian suite: edu-rng's Debian packages on a real Debian 12
# guest (guest/build-debian.sh: systemd, udev, rng-tools5, DKMS), booted
# twice from one disk under TCG, with -device edu-rng and no network.
#
# Usage: selftests/debian_host.sh PREFIX
#
# The cached image stays pristine: both boots run on a qcow2 overlay of it
# (qemu-img create -b), in a scratch directory.  Boot 1 installs the .deb
# files of make deb with apt, offline, DKMS building the module in the
# guest; boot 2 is the reboot, and checks what udev, systemd and rngd made
# of it, the tools, and apt purge (selftests/debian_test.sh says what).
# Serial logs: PREFIX.boot1.serial.log, PREFIX.boot2.serial.log.  Output is
# TAP; exit status 1 when a check failed.
set -eu
# shellcheck source=../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

[ $# -eq 1 ] || die "usage: $0 PREFIX"
PREFIX=$1
mkdir -p "$(dirname "$PREFIX")"
"$TOP/scripts/deps.sh" qemu-utils e2fsprogs

IMG=$("$TOP/guest/build-debian.sh" --print-dir)
make -s -C "$TOP" deb >/dev/null
VERSION=$(make -s -C "$TOP" version)
STREAM=$BUILD/selftests/edu-rng-stream
[ -x "$STREAM" ] || die "no $STREAM (make selftests)"

T=$(mktemp -d "${TMPDIR:-/tmp}/guest-debian.XXXXXX")
trap 'rm -rf "$T"' EXIT
qemu-img create -q -f qcow2 -F raw -b "$IMG/disk.img" "$T/disk.qcow2"

# boot N PHASE: the payload in phase PHASE; its TAP numbers go on from the
# boots before
N=0
boot() {
	local rc=0
	echo "$2" >"$T/phase"
	echo "$N" >"$T/tap-start"
	echo "# boot $1: $2"
	"$TOP/qemu/run-vm" --timeout 900 --log "$PREFIX.boot$1.serial.log" \
		--kernel "$IMG/kernel" --initrd "$IMG/initrd.img" --disk "$T/disk.qcow2" \
		--payload-disk --append "$(cat "$IMG/cmdline") systemd.show_status=error systemd.mask=serial-getty@ttyS0.service" \
		--exec "$TOP/selftests/debian_test.sh" \
		--add "$TOP/selftests/tap.sh:/exec/" --add "$STREAM:/exec/" \
		--add "$T/phase:/exec/" --add "$T/tap-start:/exec/" \
		--add "$BUILD/deb/edu-rng-dkms_${VERSION}_all.deb:/exec/" \
		--add "$BUILD/deb/edu-rng-tools_${VERSION}_amd64.deb:/exec/" >"$T/out" 2>&1 || rc=$?
	tr -d '\r' <"$T/out" | grep -E '^(not )?ok |^# ' || true
	tr -d '\r' <"$T/out" | grep -E '^run-vm:' || true
	N=$((N + $(tr -d '\r' <"$T/out" | grep -cE '^(not )?ok ' || true)))
	return $rc
}

rc=0
boot 1 install || rc=1
boot 2 check || rc=1
echo "1..$N"
exit $rc
