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
#
# The device goes in as upstream QEMU would have it (install_device,
# install_qtest: hw/misc/edu-rng.c at PCI 1b36:0015, scripts/patches.sh
# makes the upstream series with them); our build compiles it through
# qemu/hw/edu-rng-lab.c, which gives it the lab's PCI ID 1234:cafe, and
# the qtest through qemu/tests/qtest/edu-rng-lab-test.c.  Sourced, this
# script only defines its functions.
set -eu
# shellcheck source=../scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

CONFIGURE_FLAGS=(
	--target-list=x86_64-softmmu --without-default-features
	--disable-docs --disable-werror --enable-tcg --enable-slirp
	--enable-fdt=system --disable-install-blobs
)
# 7.2 only (gone in 10.x, where both are on when the compiler has them)
FLAGS_7=(--enable-avx2 --enable-avx512f)
# 10.x: Debian's own python (the first python3 on PATH may not see
# Debian's modules), no Rust, nothing fetched from the network; firmware
# from Debian's seabios and qemu-system-data packages without -L (qtests)
FLAGS_10=(--python=/usr/bin/python3 --disable-rust --disable-download
	--firmwarepath=/usr/share/seabios:/usr/share/qemu)
# the device as upstream has it (hw/misc/), and the qtest (10.x)
DEVICE_FILES=(edu-rng.c edu-rng-core.c edu-rng-core.h)
QTEST_FILE=$TOP/qemu/tests/qtest/edu-rng-test.c
# ours only: the units our build compiles instead (the lab's PCI ID), and
# system/runstate.h for 7.2 (its sysemu/runstate.h)
LAB_FILE=$TOP/qemu/hw/edu-rng-lab.c
LAB_QTEST_FILE=$TOP/qemu/tests/qtest/edu-rng-lab-test.c
COMPAT_7_FILE=$TOP/qemu/hw/compat-7.2/system/runstate.h
TRACE_FILE=$TOP/qemu/hw/trace-events
QEMU_VERSION=${QEMU_VERSION:-7.2}

parse_args() {
	print=
	case "${1:-}" in
	--print-path) print=bin ;;
	--print-bios-dir) print=bios ;;
	--print-src) print=src ;;
	--print-version) print=version ;;
	--print-qtest) print=qtest ;;
	-h | --help)
		sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	"") ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
}

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
	keep_source "$tmp" "$dir" "$ver"
	echo "$dir"
}

# Move the tree apt-get source unpacked in $1 to $2 (qemu version $3),
# and keep the rest of $1, the .dsc and its tarballs, for pristine_source.
keep_source() {
	rm -rf "$2"
	mv "$1"/qemu-*/ "$2"
	rm -rf "$CACHE/qemu-dsc/${3//:/_}"
	mkdir -p "$CACHE/qemu-dsc"
	mv "$1" "$CACHE/qemu-dsc/${3//:/_}"
	touch "$2/.done"
}

# Unpack Debian qemu source dir $1 (as fetch_debian_source made it, before
# add_device changed it) afresh into the new directory $2: its .dsc
# unpacked by dpkg-source, Debian's patches applied, as apt-get source
# does.  The .dsc and tarballs are kept under $CACHE/qemu-dsc/; a source
# fetched before they were is downloaded again (--download-only).
pristine_source() {
	local ver dsc d out
	ver=${1##*/}
	ver=${ver/_/:}
	d=$CACHE/qemu-dsc/${ver//:/_}
	dsc=$(find "$d" -maxdepth 1 -name 'qemu_*.dsc' 2>/dev/null | head -n1)
	if [ -z "$dsc" ]; then
		echo "build-qemu: fetching Debian qemu $ver source files (.dsc)" >&2
		rm -rf "$d"
		mkdir -p "$d"
		if [ "$(cut -d. -f1-2 "$1/VERSION")" = 7.2 ]; then
			add_deb_src
			(cd "$d" && apt-get source --download-only -qq "qemu=$ver" >&2)
		else
			capt_update
			(cd "$d" && capt apt-get source --download-only -qq "qemu=$ver" >&2)
		fi || die "cannot download Debian qemu $ver source"
		dsc=$(find "$d" -maxdepth 1 -name 'qemu_*.dsc' | head -n1)
		[ -n "$dsc" ] || die "no .dsc in $d"
	fi
	# (its signature unchecked: apt checked the files' hashes); unpacked
	# beside the .dsc, where dpkg-source finds the tarballs it would
	# otherwise copy next to the tree, then moved
	rm -rf "$d/unpack"
	out=$(dpkg-source -x "$dsc" "$d/unpack" 2>&1) ||
		{ printf '%s\n' "$out" | tail -n 5 >&2; die "dpkg-source cannot unpack $dsc"; }
	mv "$d/unpack" "$2"
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
	# 7.2 only: a backports or newer deb-src line must not turn the
	# default QEMU (and -M pc-q35-7.2's migration lanes) into another
	ver=$(apt-cache showsrc qemu | sed -n 's/^Version: //p' |
		grep -E '^(1:)?7\.2[.+~-]' | sort -V | tail -n1 || true)
	[ -n "$ver" ] || die "no qemu 7.2 source in apt's sources (bookworm's deb-src)"
	dir=$CACHE/qemu-src/${ver//:/_}
	if [ ! -f "$dir/.done" ]; then
		echo "build-qemu: fetching Debian qemu $ver source" >&2
		rm -rf "$dir"
		tmp=$(mktemp -d "$CACHE/qemu-src/tmp.XXXXXX")
		(cd "$tmp" && apt-get source -qq "qemu=$ver" >&2)
		keep_source "$tmp" "$dir" "$ver"
	fi
	echo "$dir"
}

# Copy a file only when it differs, so ninja sees true changes only.
install_if_changed() {
	cmp -s "$1" "$2" || cp "$1" "$2"
}

# Put $1.new in place of $1 when they differ, else drop it.
replace_if_changed() {
	if cmp -s "$1.new" "$1"; then
		rm "$1.new"
	else
		mv "$1.new" "$1"
	fi
}

# Delete the blank lines at the end of stdin.
strip_trailing_blanks() {
	sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

# The device as upstream QEMU would have it: scripts/patches.sh makes the
# upstream series with these two, add_device puts our parts on top.  Both
# are idempotent and replace what an older add_device put there.

# hw/misc: the device and its core, a Kconfig entry and a meson line after
# edu's, the trace events as the last section of hw/misc/trace-events.  $2
# is the unit meson builds for the device: edu-rng.c upstream, ours
# edu-rng-lab.c (which includes edu-rng.c).
install_device() {
	local src=$1 unit=$2 f ss=system_ss m=$1/hw/misc

	for f in "${DEVICE_FILES[@]}"; do
		install_if_changed "$TOP/qemu/hw/$f" "$m/$f"
	done
	# (older builds put theirs last after a line "# edu-rng: ours")
	{
		awk '/^# edu-rng: ours$/ { exit }
			/^# edu-rng\.c$/ { skip = 1; next }
			skip && /^$/ { skip = 0; next }
			!skip' "$m/trace-events" | strip_trailing_blanks
		echo
		cat "$TRACE_FILE"
	} >"$m/trace-events.new"
	replace_if_changed "$m/trace-events"
	grep -q '^softmmu_ss' "$m/meson.build" && ss=softmmu_ss
	awk -v edu="'CONFIG_EDU'" \
		-v line="$ss.add(when: 'CONFIG_EDU_RNG', if_true: files('$unit', 'edu-rng-core.c'))" \
		'/CONFIG_EDU_RNG/ { next }
		{ print }
		index($0, edu) { print line }' "$m/meson.build" >"$m/meson.build.new"
	grep -q CONFIG_EDU_RNG "$m/meson.build.new" ||
		die "no CONFIG_EDU line in $m/meson.build to put edu-rng after"
	replace_if_changed "$m/meson.build"
	awk 'BEGIN { entry = "config EDU_RNG\n    bool\n    default y if TEST_DEVICES\n    depends on PCI && MSI_NONBROKEN\n" }
		$0 == "config EDU_RNG" { skip = 1; next }
		skip { if ($0 == "") skip = 0; next }
		{ print }
		$0 == "config EDU" { edu = 1 }
		edu && $0 == "" { print entry; edu = 0 }' "$m/Kconfig" |
		strip_trailing_blanks >"$m/Kconfig.new"
	grep -q '^config EDU_RNG$' "$m/Kconfig.new" ||
		die "no 'config EDU' entry in $m/Kconfig to put edu-rng after"
	replace_if_changed "$m/Kconfig"
}

# tests/qtest (10.x): our qtest, and test $2 (edu-rng-test upstream, ours
# edu-rng-lab-test) for x86_64 when CONFIG_EDU_RNG is on.
install_qtest() {
	local src=$1 name=$2 mb=$1/tests/qtest/meson.build

	install_if_changed "$QTEST_FILE" "$src/tests/qtest/edu-rng-test.c"
	awk -v name="$name" -v q="'" '/edu-rng/ { next }
		/^qtests_x86_64 = qtests_i386/ {
			print "qtests_x86_64 = qtests_i386 + \\"
			print "  (config_all_devices.has_key(" q "CONFIG_EDU_RNG" q ") ? [" q name q "] : [])"
			next
		}
		{ print }' "$mb" >"$mb.new"
	grep -q "'$name'" "$mb.new" || die "cannot add $name to $mb"
	replace_if_changed "$mb"
}

# Our build: the upstream device compiled through edu-rng-lab.c (the lab's
# PCI ID 1234:cafe, the old names of the test properties, QEMU 7.2's API),
# and in 10.x the upstream qtest through edu-rng-lab-test.c (that ID).
add_device() {
	local src=$1

	install_device "$src" edu-rng-lab.c
	install_if_changed "$LAB_FILE" "$src/hw/misc/edu-rng-lab.c"
	if [ "$(major "$src")" -lt 10 ]; then
		mkdir -p "$src/hw/misc/system"
		install_if_changed "$COMPAT_7_FILE" "$src/hw/misc/system/runstate.h"
	else
		install_qtest "$src" edu-rng-lab-test
		install_if_changed "$LAB_QTEST_FILE" "$src/tests/qtest/edu-rng-lab-test.c"
	fi
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

# The Debian packages a QEMU build needs.
qemu_deps() {
	"$TOP/scripts/deps.sh" dpkg-dev meson ninja-build pkg-config python3 \
		python3-venv libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev \
		flex bison seabios qemu-system-data
}

# EXTRA_FLAGS for source tree $1, and PYPATH: where meson >= 1.5 is for
# 10.x (empty: the installed one).
set_flags() {
	EXTRA_FLAGS=("${FLAGS_7[@]}")
	PYPATH=
	if [ "$(major "$1")" -ge 10 ]; then
		EXTRA_FLAGS=("${FLAGS_10[@]}")
		PYPATH=$(fetch_meson)
	fi
}

# In build dir $2, configure source tree $1 (when not yet configured so)
# with CONFIGURE_FLAGS and EXTRA_FLAGS, then build the ninja targets $3...
build_tree() {
	local src=$1 bdir=$2 flags="${CONFIGURE_FLAGS[*]} ${EXTRA_FLAGS[*]}"
	shift 2

	# meson (configure's venv, ninja's regeneration) finds 1.7 there
	export PYTHONPATH=$PYPATH${PYTHONPATH:+:$PYTHONPATH}
	if [ ! -f "$bdir/build.ninja" ] || [ "$(cat "$bdir/.flags" 2>/dev/null)" != "$src $flags" ]; then
		rm -rf "$bdir"
		mkdir -p "$bdir"
		echo "build-qemu: configuring QEMU $(cat "$src/VERSION") in $bdir" >&2
		(cd "$bdir" && "$src/configure" "${CONFIGURE_FLAGS[@]}" "${EXTRA_FLAGS[@]}" \
			>configure.log 2>&1) ||
			die "configure failed, see $bdir/configure.log"
		echo "$src $flags" >"$bdir/.flags"
	fi
	echo "build-qemu: building QEMU $(cat "$src/VERSION") $* (cold: 7.2 ~6-10 min, 10.x ~3-5 min)" >&2
	ninja -C "$bdir" "$@" >"$bdir/ninja.log" 2>&1 ||
		{
			tail -n 40 "$bdir/ninja.log" >&2
			die "build failed, see $bdir/ninja.log"
		}
}

# Echo the source dir QEMU_VERSION names, fetched when needed.
source_dir() {
	mkdir -p "$CACHE/qemu-src"
	case $QEMU_VERSION in
	7.2) fetch_source ;;
	newest | [1-9]*.*) fetch_new_source "$QEMU_VERSION" ;;
	*) die "QEMU_VERSION=$QEMU_VERSION: want 7.2, newest or a series (10.2)" ;;
	esac
}

main() {
	local src key out f hashed=() bdir

	parse_args "$@"
	qemu_deps
	src=$(source_dir)
	mkdir -p "$CACHE/qemu"
	case $print in
	src) echo "$src"; return 0 ;;
	version) cat "$src/VERSION"; return 0 ;;
	esac
	[ "$print" != qtest ] || [ "$(major "$src")" -ge 10 ] ||
		die "the edu-rng qtest builds in QEMU 10.x only (QEMU_VERSION=newest)"
	set_flags "$src"
	[ "$(major "$src")" -lt 10 ] || hashed+=("$QTEST_FILE" "$LAB_QTEST_FILE")
	[ "$(major "$src")" -ge 10 ] || hashed+=("$COMPAT_7_FILE")
	for f in "${DEVICE_FILES[@]}"; do
		hashed+=("$TOP/qemu/hw/$f")
	done
	key=$(hash_inputs "$0" "${hashed[@]}" "$LAB_FILE" "$TRACE_FILE" "${src##*/}" \
		"${CONFIGURE_FLAGS[@]}" "${EXTRA_FLAGS[@]}")
	out=$CACHE/qemu/$key
	# one build at a time: parallel runs share the build trees
	exec 9>"$CACHE/qemu/.lock"
	flock 9
	if [ ! -x "$out/bin/qemu-system-x86_64" ]; then
		add_device "$src"
		bdir=$(build_dir "$src")
		if [ "$(major "$src")" -lt 10 ]; then
			build_tree "$src" "$bdir" qemu-system-x86_64
		else
			build_tree "$src" "$bdir" qemu-system-x86_64 tests/qtest/edu-rng-lab-test
		fi
		rm -rf "$out.tmp"
		mkdir -p "$out.tmp/bin"
		cp "$bdir/qemu-system-x86_64" "$out.tmp/bin/"
		# the upstream qtest with the lab's ID, under the upstream name
		[ "$(major "$src")" -lt 10 ] ||
			cp "$bdir/tests/qtest/edu-rng-lab-test" "$out.tmp/bin/edu-rng-test"
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

# Run as a program; sourced (scripts/patches.sh), only define the above.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
