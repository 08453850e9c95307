#!/bin/bash
# Build a guest kernel from a Debian linux-source package with the host's
# gcc: `make tinyconfig` plus a fragment of ours, then olddefconfig; its
# modules_install, and modules_prepare so that the tree is a KDIR for
# out-of-tree modules.
#
# Usage: guest/build-kernel.sh KERNEL [OPTION]...
#   KERNEL             debug: 6.1 with KASAN, lockdep, DEBUG_ATOMIC_SLEEP,
#                      DMA_API_DEBUG and kmemleak (bookworm's
#                      linux-source-6.1, guest/debug-kernel.config)
#                      7.2: a lean 7.2 (sid's linux-source-7.2 through our
#                      own apt, see capt in scripts/common.sh;
#                      guest/kernel-7.2.config)
#   (no option)        build when needed, print nothing
#   --print-path       print the kernel for run-vm --kernel: debug's bzImage
#                      (not vmlinux: PVH entry runs KASAN-instrumented C code
#                      before KASAN's shadow exists, a triple fault), 7.2's
#                      ELF vmlinux (PVH entry: no decompressor under TCG)
#   --print-build-dir  print the build tree, the KDIR for out-of-tree modules
#                      (scripts/module.sh --kdir DIR)
#   --print-moddir     print lib/modules/<release> of its modules_install
#                      (for guest/mkinitramfs.sh --moddir)
#   --print-release    print the kernel release (6.1.x-edu-debug)
#   Several --print-* options print one line each, in their order.
#
# The source is unpacked once under $CACHE/linux-src/<package>-<version>/
# and built out of tree (O=) in $CACHE/kernel-<KERNEL>-<hash>/, the hash
# covering what makes the tree: the fragment, the package's version, the
# compiler, the make targets and the steps (configure, build; not the rest
# of this script, whose edits would cost a full build each): an unchanged
# second run only hashes.  One build per tree at a time (flock); a run
# that finds one going waits for it.  Trees of the same KERNEL unused for
# two days go after a build, and so do sources no tree is built from.  A
# tree stays where it is: objtool's build records its absolute path.
# sid's newest linux-source-7.2 is taken (our apt's lists are refreshed
# daily), so a new upload there means a new tree, a cold build; when sid
# cannot be reached, the newest source unpacked before is used.
set -eu
# shellcheck source=SCRIPTDIR/../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

MK=(make -s ARCH=x86_64)
TOOLS=(gcc make bc flex bison libelf-dev xz-utils kmod)

usage() {
	sed -n '7,24p' "$0" | sed 's/^# \{0,1\}//'
}

# Run a command quietly: its output only when it fails.
quiet() {
	local out
	out=$("$@" 2>&1) || {
		printf '%s\n' "$out" >&2
		return 1
	}
}

# unpack TARBALL, unpack DEB MEMBER (the tarball at MEMBER inside DEB):
# the source into $SRC, once.
unpack() {
	local tmp
	[ ! -f "$SRC/.done" ] || return 0
	echo "build-kernel: unpacking $PKG $VER into $SRC" >&2
	mkdir -p "$CACHE/linux-src"
	tmp=$(mktemp -d "$CACHE/linux-src/tmp.XXXXXX")
	if [ $# -eq 2 ]; then
		dpkg-deb --fsys-tarfile "$1" | tar -xO "$2"
	else
		cat "$1"
	fi | tar -xJ -C "$tmp" --strip-components=1
	rm -rf "$SRC"
	mv "$tmp" "$SRC"
	touch "$SRC/.done"
}

# Set PKG, VER, SRC for bookworm's installed linux-source-6.1; unpack it.
source_host() {
	PKG=$1
	"$TOP/scripts/deps.sh" "$PKG"
	VER=$(dpkg-query -W -f '${Version}' "$PKG")
	SRC=$CACHE/linux-src/$PKG-$VER
	[ -f "$SRC/.done" ] || unpack "/usr/src/$PKG.tar.xz"
}

# The same for sid's linux-source-$1, downloaded with our apt; when that
# fails, the newest one unpacked before.
source_sid() {
	local tmp deb
	PKG=$1
	mkdir -p "$CACHE/linux-src"
	capt_update
	VER=$(capt apt-cache show --no-all-versions "$PKG/sid" 2>/dev/null |
		sed -n 's/^Version: //p')
	SRC=$CACHE/linux-src/$PKG-$VER
	[ -z "$VER" ] || [ ! -f "$SRC/.done" ] || return 0
	(
		flock 9
		[ -z "$VER" ] || [ ! -f "$SRC/.done" ] || exit 0
		tmp=$(mktemp -d "$CACHE/linux-src/tmp.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		[ -n "$VER" ] && echo "build-kernel: fetching $PKG $VER from sid (164 MB)" >&2 &&
			(cd "$tmp" && capt apt-get download -qq "$PKG=$VER" >&2) || exit 1
		deb=$(ls "$tmp"/*.deb)
		unpack "$deb" "./usr/src/$PKG.tar.xz"
	) 9>"$CACHE/linux-src/.lock" && return 0
	SRC=$(find "$CACHE/linux-src" -maxdepth 2 -path "*/$PKG-*/.done" 2>/dev/null |
		sed 's|/.done$||' | sort -V | tail -n1)
	[ -n "$SRC" ] || die "cannot fetch $PKG from sid, and none is unpacked"
	VER=${SRC##*/"$PKG"-}
	echo "build-kernel: cannot fetch $PKG from sid; using $VER, unpacked before" >&2
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
	echo "build-kernel: building $KERNEL ($PKG $VER) in $OBJ (log: $log)" >&2
	rm -rf "$OBJ"
	mkdir -p "$OBJ"
	configure
	if ! { "${MK[@]}" -C "$SRC" O="$OBJ" -j"$(nproc)" "${TARGETS[@]}" &&
		"${MK[@]}" -C "$SRC" O="$OBJ" modules_prepare &&
		"${MK[@]}" -C "$SRC" O="$OBJ" INSTALL_MOD_PATH="$OBJ/mod" modules_install; } \
		>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "kernel build failed, see $log"
	fi
	"${MK[@]}" -C "$SRC" O="$OBJ" kernelrelease >"$OBJ/.release"
	echo "$((SECONDS - t0))" >"$OBJ/.seconds"
	touch "$OBJ/.done"
	echo "build-kernel: built $(cat "$OBJ/.release") in $((SECONDS - t0)) s" >&2
}

# Other trees of this KERNEL that nobody used for two days and nobody holds.
clean_old() {
	local d
	for d in "$CACHE/kernel-$KERNEL"-*/; do
		d=${d%/}
		if [ ! -d "$d" ] || [ "$d" = "$OBJ" ] ||
			[ -n "$(find "$d/.used" -mmin -2880 2>/dev/null)" ]; then
			continue
		fi
		if (flock -n 8 && rm -rf "$d") 8>"$d.lock"; then
			rm -f "$d.lock"
		fi
	done
	# other versions of this source that no tree is built from
	for d in "$CACHE/linux-src/$PKG"-*/; do
		d=${d%/}
		if [ -d "$d" ] && [ "$d" != "$SRC" ] &&
			! find "$CACHE" -maxdepth 2 -name source -lname "$d" | grep -q .; then
			rm -rf "$d"
		fi
	done
	rm -rf "$CACHE"/linux-src/tmp.*
}

KERNEL=${1-}
case $KERNEL in
debug | 7.2) shift ;;
-h | --help) usage; exit 0 ;;
*) usage >&2; exit 2 ;;
esac
prints=()
for a in "$@"; do
	case $a in
	--print-path | --print-build-dir | --print-moddir | --print-release) prints+=("$a") ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

"$TOP/scripts/deps.sh" "${TOOLS[@]}"
case $KERNEL in
debug)
	source_host linux-source-6.1
	FRAGMENT=$TOP/guest/debug-kernel.config
	IMAGE=arch/x86/boot/bzImage
	TARGETS=(all)
	;;
7.2)
	source_sid linux-source-7.2
	FRAGMENT=$TOP/guest/kernel-7.2.config
	IMAGE=vmlinux
	# no bzImage: run-vm boots the ELF
	TARGETS=(vmlinux modules)
	;;
esac
KEY=$(hash_inputs "$FRAGMENT" "$PKG=$VER" "$(gcc --version | head -n1)" \
	"${MK[*]}" "${TARGETS[*]}" "$(declare -f quiet configure build)")
OBJ=$CACHE/kernel-$KERNEL-$KEY

if [ ! -f "$OBJ/.done" ]; then
	exec 8>"$OBJ.lock"
	if ! flock -n 8; then
		echo "build-kernel: $OBJ is being built elsewhere; waiting" >&2
		flock 8
	fi
	if [ ! -f "$OBJ/.done" ]; then
		build
		clean_old
	fi
	exec 8>&-
fi
touch "$OBJ/.used"
REL=$(cat "$OBJ/.release")
for a in "${prints[@]}"; do
	case $a in
	--print-path) echo "$OBJ/$IMAGE" ;;
	--print-build-dir) echo "$OBJ" ;;
	--print-moddir) echo "$OBJ/mod/lib/modules/$REL" ;;
	--print-release) echo "$REL" ;;
	esac
done
