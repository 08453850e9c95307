#!/bin/bash
# Build qemu-system-x86_64 with the edu-rng device from Debian's QEMU source.
#
#   qemu/build-qemu.sh              build when needed, print nothing else
#   qemu/build-qemu.sh --print-path build when needed, print the binary's path
#   qemu/build-qemu.sh --print-bios-dir  print the firmware dir (option ROMs)
#   qemu/build-qemu.sh --print-src  fetch Debian's QEMU source, print its dir
#
# Debian's source (apt-get source qemu, patches applied by dpkg-source) is
# unpacked once under $CACHE/qemu-src.  One build tree under $CACHE/qemu-build
# is reused, so a change to the device recompiles a few files only.  The
# finished binary is copied to $CACHE/qemu/<hash>/, the hash covering the
# QEMU version, our device sources, this script and the configure flags: an
# unchanged second run only hashes and returns.  Firmware comes from Debian's
# seabios (BIOS) and qemu-system-data (option ROMs such as linuxboot_dma.bin)
# packages, as the source package strips prebuilt blobs.
set -eu
# shellcheck source=../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

CONFIGURE_FLAGS=(
	--target-list=x86_64-softmmu --without-default-features
	--disable-docs --disable-werror --enable-tcg --enable-slirp
	--enable-fdt=system --disable-install-blobs
	--enable-avx2
)
DEVICE_FILES=(edu-rng.c edu-rng-core.c edu-rng-core.h)

print=
case "${1:-}" in
--print-path) print=bin ;;
--print-bios-dir) print=bios ;;
--print-src) print=src ;;
-h | --help)
	sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
"") ;;
*) die "unknown option '$1' (see --help)" ;;
esac

add_deb_src() {
	local list=/etc/apt/sources.list.d/edu-rng-src.sources sudo=

	apt-cache showsrc qemu >/dev/null 2>&1 && return 0
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "build-qemu: adding deb-src entries ($list)" >&2
	$sudo tee "$list" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	$sudo apt-get update -qq
}

# Echo the unpacked source dir for Debian's current qemu source version.
fetch_source() {
	local ver dir tmp

	add_deb_src
	ver=$(apt-cache showsrc qemu | sed -n 's/^Version: //p' | sort -V | tail -n1)
	[ -n "$ver" ] || die "cannot find the qemu source package"
	dir=$CACHE/qemu-src/${ver//:/_}
	if [ ! -f "$dir/.done" ]; then
		echo "build-qemu: fetching Debian qemu $ver source" >&2
		rm -rf "$dir"
		tmp=$(mktemp -d "$CACHE/qemu-src/tmp.XXXXXX")
		(cd "$tmp" && apt-get source -qq "qemu=$ver" >&2)
		mv "$tmp"/qemu-*/ "$dir"
		rm -rf "$tmp"
		touch "$dir/.done"
	fi
	echo "$dir"
}

# Copy a file only when it differs, so ninja sees true changes only.
install_if_changed() {
	cmp -s "$1" "$2" || cp "$1" "$2"
}

# Hook our device into the tree: files, meson and Kconfig entries.
add_device() {
	local src=$1 f

	for f in "${DEVICE_FILES[@]}"; do
		install_if_changed "$TOP/qemu/hw/$f" "$src/hw/misc/$f"
	done
	grep -q CONFIG_EDU_RNG "$src/hw/misc/meson.build" ||
		cat >>"$src/hw/misc/meson.build" <<'MESON'
softmmu_ss.add(when: 'CONFIG_EDU_RNG', if_true: files('edu-rng.c', 'edu-rng-core.c'))
MESON
	grep -q 'config EDU_RNG' "$src/hw/misc/Kconfig" ||
		cat >>"$src/hw/misc/Kconfig" <<'KCONFIG'

config EDU_RNG
    bool
    default y if TEST_DEVICES
    depends on PCI && MSI_NONBROKEN
KCONFIG
}

build() {
	local src=$1 bdir=$CACHE/qemu-build flags="${CONFIGURE_FLAGS[*]}"

	if [ ! -f "$bdir/build.ninja" ] || [ "$(cat "$bdir/.flags" 2>/dev/null)" != "$src $flags" ]; then
		rm -rf "$bdir"
		mkdir -p "$bdir"
		echo "build-qemu: configuring" >&2
		(cd "$bdir" && "$src/configure" "${CONFIGURE_FLAGS[@]}" >configure.log 2>&1) ||
			die "configure failed, see $bdir/configure.log"
		echo "$src $flags" >"$bdir/.flags"
	fi
	echo "build-qemu: building qemu-system-x86_64 (cold: ~6-10 min)" >&2
	ninja -C "$bdir" qemu-system-x86_64 >"$bdir/ninja.log" 2>&1 ||
		{
			tail -n 40 "$bdir/ninja.log" >&2
			die "build failed, see $bdir/ninja.log"
		}
}

main() {
	local src key out f hashed=()

	"$TOP/scripts/deps.sh" dpkg-dev meson ninja-build pkg-config python3 \
		libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev flex bison \
		seabios qemu-system-data
	mkdir -p "$CACHE/qemu-src" "$CACHE/qemu"
	src=$(fetch_source)
	if [ "$print" = src ]; then
		echo "$src"
		return 0
	fi
	for f in "${DEVICE_FILES[@]}"; do
		hashed+=("$TOP/qemu/hw/$f")
	done
	key=$(hash_inputs "$0" "${hashed[@]}" "${src##*/}" "${CONFIGURE_FLAGS[@]}")
	out=$CACHE/qemu/$key
	# one build at a time: parallel runs share the build tree
	exec 9>"$CACHE/qemu/.lock"
	flock 9
	if [ ! -x "$out/bin/qemu-system-x86_64" ]; then
		add_device "$src"
		build "$src"
		rm -rf "$out.tmp"
		mkdir -p "$out.tmp/bin"
		cp "$CACHE/qemu-build/qemu-system-x86_64" "$out.tmp/bin/"
		rm -rf "$out"
		mv "$out.tmp" "$out"
	fi
	case $print in
	bin) echo "$out/bin/qemu-system-x86_64" ;;
	bios) echo /usr/share/qemu ;;
	esac
}

main
