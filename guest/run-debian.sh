#!/bin/bash
# make run GUEST=debian: boot the Debian 12 guest (guest/build-debian.sh)
# with edu-rng's packages (make deb) installed by apt, DKMS having built
# the module in the guest.  On a terminal: root's shell on the serial
# console (autologin; poweroff ends it); else a short demo
# (guest/debian/demo.sh).
#
# The guest's disk is a qcow2 overlay of the cached image,
# build/debian-run/<hash of the image and the packages>/disk.qcow2: made,
# and the packages installed in a first boot (the DKMS build under TCG:
# a few minutes), when the packages or the image change; it keeps what
# you do in the guest until then (rm -r build/debian-run: start over).
# Usage: guest/run-debian.sh [run-vm option...]
set -eu
# shellcheck source=SCRIPTDIR/../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

case ${1-} in
-h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
"$TOP/scripts/deps.sh" qemu-utils e2fsprogs
IMG=$("$TOP/guest/build-debian.sh" --print-dir)
make -s -C "$TOP" deb >/dev/null
VERSION=$(make -s -C "$TOP" version)
DEBS=("$BUILD/deb/edu-rng-dkms_${VERSION}_all.deb" "$BUILD/deb/edu-rng-tools_${VERSION}_amd64.deb")
DIR=$BUILD/debian-run/$(hash_inputs "$IMG" "${DEBS[@]}")
VM=(--kernel "$IMG/kernel" --initrd "$IMG/initrd.img" --disk "$DIR/disk.qcow2"
	--payload-disk)
CMDLINE=$(cat "$IMG/cmdline")

if [ ! -f "$DIR/disk.qcow2" ]; then
	rm -rf "$BUILD/debian-run"
	mkdir -p "$DIR"
	qemu-img create -q -f qcow2 -F raw -b "$IMG/disk.img" "$DIR/disk.tmp"
	echo "run-debian: first boot: apt install ${DEBS[*]##*/} (DKMS builds the module; a few minutes under TCG)" >&2
	mv "$DIR/disk.tmp" "$DIR/disk.qcow2"
	if ! "$TOP/qemu/run-vm" --timeout 900 --log "$DIR/install.serial.log" "${VM[@]}" \
		--append "$CMDLINE systemd.show_status=error systemd.mask=serial-getty@ttyS0.service" \
		--exec "$TOP/guest/debian/install.sh" \
		--add "${DEBS[0]}:/exec/" --add "${DEBS[1]}:/exec/" </dev/null >"$DIR/install.out" 2>&1; then
		tail -n 30 "$DIR/install.out" >&2
		rm -f "$DIR/disk.qcow2"
		die "installing the packages in the guest failed ($DIR/install.serial.log)"
	fi
fi
if [ -t 0 ] && [ -t 1 ]; then
	echo "run-debian: root's shell on the serial console; poweroff (or Ctrl-A x) ends it" >&2
	exec "$TOP/qemu/run-vm" "${VM[@]}" --append "$CMDLINE" "$@"
fi
exec "$TOP/qemu/run-vm" "${VM[@]}" \
	--append "$CMDLINE systemd.show_status=error systemd.mask=serial-getty@ttyS0.service" \
	--exec "$TOP/guest/debian/demo.sh" "$@"
