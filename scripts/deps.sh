#!/bin/bash
# Install the Debian packages edu-rng needs, when missing.
# Usage: scripts/deps.sh [PACKAGE...]   (default: everything make run/check use)
set -eu
# progress goes to stderr: callers capture stdout of the scripts that call us
exec >&2

pkgs=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then
	pkgs=(
		# QEMU build
		dpkg-dev meson ninja-build pkg-config python3 python3-venv
		libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev flex bison
		# module build and lint; pahole: BTF for 6.12's headers
		gcc make linux-headers-amd64 linux-source-6.1 sparse shellcheck pahole
		# make dkms-install and the dkms suite
		dkms
		# make deb and the deb suite (scripts/deb.sh, deb-test.sh)
		debhelper dh-dkms lintian fakeroot mmdebstrap
		# device tests: openssl checks the KAT, clang builds the fuzzer
		openssl clang libclang-rt-14-dev
		# guest and firmware; zstd: 6.12's bzImage; groff-base renders
		# the guest's manual pages; libc6-dev: the static CLI (make user)
		busybox-static rng-tools5 cpio seabios qemu-system-data kmod xz-utils zstd
		groff-base libc6-dev
		# the Debian guest (guest/build-debian.sh, run-debian.sh, the
		# guest-debian suite): its image and overlays, its payload disk
		qemu-utils e2fsprogs
	)
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "deps: need root or sudo to install: ${missing[*]}" >&2
		exit 1
	}
	sudo=sudo
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
