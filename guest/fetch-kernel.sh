#!/bin/bash
# Unpack Debian's linux-image-$KVER into $CACHE/kernel/$KVER/ for the guest.
# The package is only downloaded and extracted, never installed: the host's
# /boot and /lib/modules stay untouched.
# Also extracts the uncompressed ELF vmlinux: QEMU boots it directly (PVH
# entry), which skips the xz decompressor, ~5 s under TCG.
# Usage: guest/fetch-kernel.sh [--print-path | --print-elf]
set -eu
# shellcheck source=SCRIPTDIR/../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

usage() {
	echo "usage: ${0##*/} [--print-path | --print-elf]"
	echo "  Unpack linux-image-$KVER into \$CACHE/kernel/$KVER (cached)."
	echo "  --print-path  print the vmlinuz path afterwards"
	echo "  --print-elf   print the uncompressed vmlinux (ELF, PVH) path"
}

# Download the .deb in a scratch dir and extract it next to the stamp.
fetch() {
	local tmp
	"$TOP/scripts/deps.sh" dpkg-dev kmod
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# Let apt's sandbox user write there (else apt warns and runs as root).
	if id _apt >/dev/null 2>&1; then
		chown _apt "$tmp"
	fi
	# apt-get download writes to the current directory.
	(cd "$tmp" && apt-get download -q "linux-image-$KVER") ||
		(apt-get update -qq && cd "$tmp" && apt-get download -q "linux-image-$KVER") ||
		die "cannot download linux-image-$KVER"
	rm -rf "$KDIR"
	mkdir -p "$KDIR"
	dpkg-deb -x "$tmp"/linux-image-*.deb "$KDIR"
	[ -f "$VMLINUZ" ] || die "no vmlinuz in linux-image-$KVER"
	# The package ships no modules.dep: dpkg's postinst would make it.
	depmod -b "$KDIR" "$KVER" || die "depmod failed for $KVER"
	rm -rf "$tmp"
	trap - EXIT
}

# Write the ELF kernel inside the bzImage: the compressed stream after the
# setup code, found by its magic (what the kernel's extract-vmlinux does).
# Debian compresses 6.1 with xz, 6.12 with zstd.
extract_elf() {
	local magic pat tool off
	"$TOP/scripts/deps.sh" xz-utils zstd
	for magic in xz zstd; do
		case $magic in
		xz) pat='\xfd7zXZ\x00' ;;
		zstd) pat='\x28\xb5\x2f\xfd' ;;
		esac
		# the byte offset only: the match itself holds a NUL
		off=$(LC_ALL=C grep -obUaP "$pat" "$VMLINUZ" | head -n1 | cut -d: -f1)
		[ -z "$off" ] || break
	done
	[ -n "$off" ] || die "no xz or zstd stream in $VMLINUZ"
	case $magic in
	xz) tool=(xz -dc --single-stream) ;;
	# zstd stops at the frame's end, but complains of the size word after it
	zstd) tool=(zstd -dcq) ;;
	esac
	tail -c +"$((off + 1))" "$VMLINUZ" | "${tool[@]}" >"$ELF.tmp" 2>/dev/null || true
	[ "$(head -c4 "$ELF.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] ||
		die "cannot decompress $VMLINUZ ($magic) into an ELF kernel"
	mv "$ELF.tmp" "$ELF"
}

KDIR=$CACHE/kernel/$KVER
VMLINUZ=$KDIR/boot/vmlinuz-$KVER
ELF=$KDIR/vmlinux-$KVER
STAMP=$KDIR/.stamp

print=
case "${1-}" in
--print-path) print=$VMLINUZ ;;
--print-elf) print=$ELF ;;
-h | --help) usage; exit 0 ;;
"") ;;
*) usage >&2; exit 2 ;;
esac

if [ ! -f "$STAMP" ] || [ ! -f "$ELF" ]; then
	# parallel runs (other work trees) share the cache: one unpacks
	mkdir -p "$CACHE/kernel"
	exec 9>"$CACHE/kernel/.lock"
	flock 9
	if [ ! -f "$STAMP" ]; then
		echo "fetch-kernel: unpacking linux-image-$KVER into $KDIR" >&2
		fetch
		touch "$STAMP"
	fi
	[ -f "$ELF" ] || extract_elf
	exec 9>&-
fi
if [ -n "$print" ]; then
	echo "$print"
fi
