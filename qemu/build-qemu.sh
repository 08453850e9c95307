#!/bin/bash
# Build qemu-system-x86_64 with the edu-rng device from Debian's QEMU source.
#
#   qemu/build-qemu.sh              build when needed, print nothing else
#   qemu/build-qemu.sh --print-path build when needed, print the binary's path
#   qemu/build-qemu.sh --print-bios-dir  print the firmware dir (option ROMs)
#   qemu/build-qemu.sh --print-src  fetch Debian's QEMU source, print its dir
#   qemu/build-qemu.sh --print-version   the QEMU version built (7.2.22)
#   qemu/build-qemu.sh --print-qtest     build when needed, print the path of
#                    tests/qtest/edu-rng-test (QEMU 10.x only)
#
# QEMU_VERSION picks the QEMU: 7.2 (default: bookworm's, from the host's
# deb-src), newest (the newest qemu source Debian serves: sid's, falling
# back to older versions in sid and trixie when its files are not there),
# or a series such as 10.2 or 10.0 (its newest served version).  10.x
# sources come through an apt configuration of our own under $CACHE/apt
# (its sources list, lists and archives: the host's apt is not touched),
# refreshed once a day; 10.x needs meson >= 1.5, unpacked from
# bookworm-backports' .deb under $CACHE/meson/, not installed.
#
# Debian's source (apt-get source qemu, patches applied by dpkg-source) is
# unpacked once under $CACHE/qemu-src.  One build tree per QEMU series under
# $CACHE/qemu-build (7.2) or $CACHE/qemu-build-<series> is reused, so a
# change to the device recompiles a few files only.  The finished binary is
# copied to $CACHE/qemu/<hash>/, the hash covering the QEMU version, our
# device sources, this script and the configure flags: an unchanged second
# run only hashes and returns.  Firmware comes from Debian's seabios (BIOS)
# and qemu-system-data (option ROMs such as linuxboot_dma.bin) packages, as
# the source package strips prebuilt blobs.
set -eu
# shellcheck source=../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

CONFIGURE_FLAGS=(
	--target-list=x86_64-softmmu --without-default-features
	--disable-docs --disable-werror --enable-tcg --enable-slirp
	--enable-fdt=system --disable-install-blobs
)
# 7.2 only (gone in 10.x)
FLAGS_7=(--enable-avx2)
# 10.x: Debian's own python (the first python3 on PATH may not see
# Debian's modules), no Rust, nothing fetched from the network
FLAGS_10=(--python=/usr/bin/python3 --disable-rust --disable-download)
DEVICE_FILES=(edu-rng.c edu-rng-core.c edu-rng-core.h)
# hashed, and copied in as tests/qtest/edu-rng-test.c (10.x)
QTEST_FILE=$TOP/qemu/tests/qtest/edu-rng-test.c
TRACE_FILE=$TOP/qemu/hw/trace-events
QEMU_VERSION=${QEMU_VERSION:-7.2}
print=
case "${1:-}" in
--print-path) print=bin ;;
--print-bios-dir) print=bios ;;
--print-src) print=src ;;
--print-version) print=version ;;
--print-qtest) print=qtest ;;
-h | --help)
	sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'
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

# Echo the unpacked source dir of Debian qemu $1, fetched with our apt
# (sid, trixie); fail when its files cannot be had.
fetch_debian_source() {
	local ver=$1 dir tmp
	dir=$CACHE/qemu-src/${ver//:/_}
	[ -f "$dir/.done" ] && { echo "$dir"; return 0; }
	grep -qxF "$ver" "$CACHE/apt/unavailable" 2>/dev/null && return 1
	echo "build-qemu: fetching Debian qemu $ver source" >&2
	tmp=$(mktemp -d "$CACHE/qemu-src/tmp.XXXXXX")
	if ! (cd "$tmp" && capt apt-get source -qq "qemu=$ver" >&2 2>"$tmp/.err"); then
		grep -v '^W: Download is performed unsandboxed' "$tmp/.err" | head -n 3 >&2 || true
		echo "build-qemu: qemu $ver is listed but not served; trying an older one" >&2
		echo "$ver" >>"$CACHE/apt/unavailable"
		rm -rf "$tmp"
		return 1
	fi
	rm -rf "$dir"
	mv "$tmp"/qemu-*/ "$dir"
	rm -rf "$tmp"
	touch "$dir/.done"
	echo "$dir"
}

# Echo the source dir of the newest served qemu whose version matches the
# series $1 (10.2), or of any 10.x or later for "newest".
fetch_new_source() {
	local want=$1 ver series picked=$CACHE/apt/picked-$1 dir
	capt_update
	# what this series resolved to since the last refresh
	if [ "$picked" -nt "$CACHE/apt/stamp" ]; then
		dir=$(cat "$picked")
		[ ! -f "$dir/.done" ] || { echo "$dir"; return 0; }
	fi
	for ver in $(capt apt-cache showsrc qemu 2>/dev/null |
		sed -n 's/^Version: //p' | sort -urV); do
		series=$(echo "$ver" | sed -E 's/^([0-9]+:)?([0-9]+\.[0-9]+).*/\2/')
		case $want in
		newest) [ "${series%%.*}" -ge 10 ] || continue ;;
		*) [ "$series" = "$want" ] || continue ;;
		esac
		if dir=$(fetch_debian_source "$ver"); then
			echo "$dir" >"$picked"
			echo "$dir"
			return 0
		fi
	done
	die "no Debian qemu source for QEMU_VERSION=$want could be fetched"
}

# meson >= 1.5 for 10.x: bookworm-backports' .deb unpacked (not installed);
# echo the directory to put on PYTHONPATH.
fetch_meson() {
	local d=$CACHE/meson deb tmp
	if [ ! -f "$d/.done" ]; then
		capt_update
		echo "build-qemu: fetching meson from bookworm-backports" >&2
		rm -rf "$d"
		tmp=$(mktemp -d "$CACHE/meson.XXXXXX")
		(cd "$tmp" && capt apt-get download -qq meson/bookworm-backports >&2) ||
			die "cannot download meson from bookworm-backports"
		deb=$(ls "$tmp"/meson_*.deb)
		dpkg-deb -x "$deb" "$tmp/root"
		mv "$tmp/root" "$d"
		echo "${deb##*/}" >"$d/.done"
		rm -rf "$tmp"
	fi
	echo "$d/usr/lib/python3/dist-packages"
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

# Hook our device into the tree: files, meson, Kconfig and trace entries;
# in 10.x also our qtest.
add_device() {
	local src=$1 f ss=system_ss tev
	tev=$src/hw/misc/trace-events

	for f in "${DEVICE_FILES[@]}"; do
		install_if_changed "$TOP/qemu/hw/$f" "$src/hw/misc/$f"
	done
	# our trace events last, after a marker line: replaced when changed
	sed '/^# edu-rng: ours$/,$d' "$tev" >"$tev.new"
	{ echo '# edu-rng: ours'; cat "$TRACE_FILE"; } >>"$tev.new"
	if cmp -s "$tev.new" "$tev"; then
		rm "$tev.new"
	else
		mv "$tev.new" "$tev"
	fi
	grep -q '^softmmu_ss' "$src/hw/misc/meson.build" && ss=softmmu_ss
	grep -q CONFIG_EDU_RNG "$src/hw/misc/meson.build" ||
		echo "$ss.add(when: 'CONFIG_EDU_RNG', if_true: files('edu-rng.c', 'edu-rng-core.c'))" \
			>>"$src/hw/misc/meson.build"
	if [ "$(major "$src")" -ge 10 ]; then
		install_if_changed "$QTEST_FILE" "$src/tests/qtest/edu-rng-test.c"
		grep -q edu-rng-test "$src/tests/qtest/meson.build" ||
			sed -i "/^qtest_executables = {}/i qtests_x86_64 += ['edu-rng-test']" \
				"$src/tests/qtest/meson.build"
		grep -q edu-rng-test "$src/tests/qtest/meson.build" ||
			die "cannot add edu-rng-test to $src/tests/qtest/meson.build"
	fi
	grep -q 'config EDU_RNG' "$src/hw/misc/Kconfig" ||
		cat >>"$src/hw/misc/Kconfig" <<'KCONFIG'

config EDU_RNG
    bool
    default y if TEST_DEVICES
    depends on PCI && MSI_NONBROKEN
KCONFIG
}

# The source tree's major version: 7, 10
major() {
	cut -d. -f1 "$1/VERSION"
}

# The build tree of a source tree: 7.2's keeps its old name.
build_dir() {
	local v
	v=$(cut -d. -f1-2 "$1/VERSION")
	if [ "$v" = 7.2 ]; then
		echo "$CACHE/qemu-build"
	else
		echo "$CACHE/qemu-build-$v"
	fi
}

build() {
	local src=$1 bdir flags="${CONFIGURE_FLAGS[*]}" targets=(qemu-system-x86_64)

	bdir=$(build_dir "$src")
	flags="$flags ${EXTRA_FLAGS[*]}"
	[ "$(major "$src")" -lt 10 ] || targets+=(tests/qtest/edu-rng-test)
	if [ ! -f "$bdir/build.ninja" ] || [ "$(cat "$bdir/.flags" 2>/dev/null)" != "$src $flags" ]; then
		rm -rf "$bdir"
		mkdir -p "$bdir"
		echo "build-qemu: configuring QEMU $(cat "$src/VERSION")" >&2
		(cd "$bdir" && "$src/configure" "${CONFIGURE_FLAGS[@]}" "${EXTRA_FLAGS[@]}" \
			>configure.log 2>&1) ||
			die "configure failed, see $bdir/configure.log"
		echo "$src $flags" >"$bdir/.flags"
	fi
	echo "build-qemu: building QEMU $(cat "$src/VERSION") qemu-system-x86_64 (cold: 7.2 ~6-10 min, 10.x ~3-5 min)" >&2
	ninja -C "$bdir" "${targets[@]}" >"$bdir/ninja.log" 2>&1 ||
		{
			tail -n 40 "$bdir/ninja.log" >&2
			die "build failed, see $bdir/ninja.log"
		}
}

main() {
	local src key out f hashed=() pypath=

	"$TOP/scripts/deps.sh" dpkg-dev meson ninja-build pkg-config python3 \
		python3-venv libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev \
		flex bison seabios qemu-system-data
	mkdir -p "$CACHE/qemu-src" "$CACHE/qemu"
	case $QEMU_VERSION in
	7.2) src=$(fetch_source) ;;
	newest | [1-9]*.*) src=$(fetch_new_source "$QEMU_VERSION") ;;
	*) die "QEMU_VERSION=$QEMU_VERSION: want 7.2, newest or a series (10.2)" ;;
	esac
	case $print in
	src) echo "$src"; return 0 ;;
	version) cat "$src/VERSION"; return 0 ;;
	esac
	[ "$print" != qtest ] || [ "$(major "$src")" -ge 10 ] ||
		die "the edu-rng qtest builds in QEMU 10.x only (QEMU_VERSION=newest)"
	EXTRA_FLAGS=("${FLAGS_7[@]}")
	if [ "$(major "$src")" -ge 10 ]; then
		EXTRA_FLAGS=("${FLAGS_10[@]}")
		pypath=$(fetch_meson)
		hashed+=("$QTEST_FILE")
	fi
	for f in "${DEVICE_FILES[@]}"; do
		hashed+=("$TOP/qemu/hw/$f")
	done
	key=$(hash_inputs "$0" "${hashed[@]}" "$TRACE_FILE" "${src##*/}" \
		"${CONFIGURE_FLAGS[@]}" "${EXTRA_FLAGS[@]}")
	out=$CACHE/qemu/$key
	# one build at a time: parallel runs share the build trees
	exec 9>"$CACHE/qemu/.lock"
	flock 9
	if [ ! -x "$out/bin/qemu-system-x86_64" ]; then
		add_device "$src"
		# meson (configure's venv, ninja's regeneration) finds 1.7 here
		PYTHONPATH=$pypath${PYTHONPATH:+:$PYTHONPATH} build "$src"
		rm -rf "$out.tmp"
		mkdir -p "$out.tmp/bin"
		cp "$(build_dir "$src")/qemu-system-x86_64" "$out.tmp/bin/"
		[ "$(major "$src")" -lt 10 ] ||
			cp "$(build_dir "$src")/tests/qtest/edu-rng-test" "$out.tmp/bin/"
		cat "$src/VERSION" >"$out.tmp/VERSION"
		rm -rf "$out"
		mv "$out.tmp" "$out"
	fi
	[ -z "$print" ] || [ "$print" = bios ] ||
		echo "build-qemu: QEMU $(cat "$out/VERSION") (QEMU_VERSION=$QEMU_VERSION, Debian ${src##*/})" >&2
	case $print in
	bin) echo "$out/bin/qemu-system-x86_64" ;;
	bios) echo /usr/share/qemu ;;
	qtest) echo "$out/bin/edu-rng-test" ;;
	esac
}

main
