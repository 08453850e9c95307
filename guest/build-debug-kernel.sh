#!/bin/bash
# Build the debug guest kernel (KASAN, lockdep, DEBUG_ATOMIC_SLEEP,
# DMA_API_DEBUG, kmemleak) from Debian's linux-source-6.1: `make tinyconfig`
# plus guest/debug-kernel.config, then olddefconfig.
#
# Usage: guest/build-debug-kernel.sh [OPTION]
#   (none)             build when needed, print nothing
#   --print-path       print the bzImage, for run-vm --kernel (not vmlinux:
#                      PVH entry runs KASAN-instrumented C code before
#                      KASAN's shadow exists, a triple fault)
#   --print-build-dir  print the build tree, the KDIR for out-of-tree modules
#                      (make -C DIR M=... modules); modules_prepare is done
#   --print-moddir     print lib/modules/<release> of its modules_install
#                      (for guest/mkinitramfs.sh --moddir)
#   --print-release    print the kernel release (6.1.x-edu-debug)
#
# The source is unpacked once under $CACHE/debug-kernel/src-<version>/ and
# built out of tree (O=) in one build tree, $CACHE/debug-kernel/build/,
# stamped with a hash of this script, the fragment, the linux-source version
# and the compiler: with the stamp current an unchanged second run only
# hashes; otherwise kbuild recompiles what changed (all of it for another
# linux-source version).  The tree stays where it is: objtool's build
# records its absolute path, so a moved tree recompiles everything.
set -eu
# shellcheck source=SCRIPTDIR/../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

PKG=linux-source-6.1
FRAGMENT=$TOP/guest/debug-kernel.config
MK=(make -s ARCH=x86_64)

usage() {
	sed -n '6,16p' "$0" | sed 's/^# \{0,1\}//'
}

# Unpack the pristine source into $SRC once.
unpack() {
	local tmp
	[ ! -f "$SRC/.done" ] || return 0
	echo "build-debug-kernel: unpacking $PKG $VER" >&2
	rm -rf "$SRC"
	tmp=$(mktemp -d "$BASE/tmp.XXXXXX")
	tar -xJf "/usr/src/$PKG.tar.xz" -C "$tmp" --strip-components=1
	mv "$tmp" "$SRC"
	touch "$SRC/.done"
}

# A tree of another source version starts afresh; other sources go.
clean_old() {
	local d
	if [ -e "$OBJ" ] && [ "$(cat "$OBJ/.src" 2>/dev/null)" != "$SRC" ]; then
		rm -rf "$OBJ"
	fi
	for d in "$BASE"/src-* "$BASE"/tmp.*; do
		[ ! -e "$d" ] || [ "$d" = "$SRC" ] || rm -rf "$d"
	done
}

# Run a make quietly: its output only when it fails.
quiet() {
	local out
	out=$("$@" 2>&1) || {
		printf '%s\n' "$out" >&2
		return 1
	}
}

# .config: tinyconfig, the fragment over it, olddefconfig; every line of
# the fragment must have survived.
configure() {
	local line name
	quiet "${MK[@]}" -C "$SRC" O="$OBJ" tinyconfig
	quiet "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "$FRAGMENT"
	quiet "${MK[@]}" -C "$SRC" O="$OBJ" olddefconfig
	while read -r line; do
		case $line in
		CONFIG_*) name=${line%%=*} ;;
		'# CONFIG_'*' is not set') name=${line#\# }; name=${name%% *} ;;
		*) continue ;;
		esac
		grep -qxF "$line" "$OBJ/.config" ||
			die "$name: '$line' from $FRAGMENT did not survive olddefconfig" \
				"(now: $(grep -E "^(# )?${name}[= ]" "$OBJ/.config" || echo unset))"
	done <"$FRAGMENT"
}

build() {
	local log=$OBJ/build.log t0=$SECONDS
	echo "build-debug-kernel: building in $OBJ (log: $log)" >&2
	mkdir -p "$OBJ"
	rm -f "$OBJ/.key"
	echo "$SRC" >"$OBJ/.src"
	configure
	if ! { "${MK[@]}" -C "$SRC" O="$OBJ" -j"$(nproc)" all &&
		"${MK[@]}" -C "$SRC" O="$OBJ" modules_prepare &&
		rm -rf "$OBJ/mod" &&
		"${MK[@]}" -C "$SRC" O="$OBJ" INSTALL_MOD_PATH="$OBJ/mod" modules_install; } \
		>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "kernel build failed, see $log"
	fi
	"${MK[@]}" -C "$SRC" O="$OBJ" kernelrelease >"$OBJ/.release"
	echo "$KEY" >"$OBJ/.key"
	echo "build-debug-kernel: built $(cat "$OBJ/.release") in $((SECONDS - t0)) s" >&2
}

print=
case "${1-}" in
--print-path | --print-build-dir | --print-moddir | --print-release) print=$1 ;;
-h | --help) usage; exit 0 ;;
"") ;;
*) usage >&2; exit 2 ;;
esac

"$TOP/scripts/deps.sh" "$PKG" gcc make bc flex bison libelf-dev xz-utils kmod
VER=$(dpkg-query -W -f '${Version}' "$PKG")
BASE=$CACHE/debug-kernel
SRC=$BASE/src-$VER
KEY=$(hash_inputs "$0" "$FRAGMENT" "$PKG=$VER" "$(gcc --version | head -n1)")
OBJ=$BASE/build
mkdir -p "$BASE"

if [ "$(cat "$OBJ/.key" 2>/dev/null)" != "$KEY" ]; then
	unpack
	clean_old
	build
fi
REL=$(cat "$OBJ/.release")
case $print in
--print-path) echo "$OBJ/arch/x86/boot/bzImage" ;;
--print-build-dir) echo "$OBJ" ;;
--print-moddir) echo "$OBJ/mod/lib/modules/$REL" ;;
--print-release) echo "$REL" ;;
esac
