#!/bin/bash
# Build the guest initramfs: a gzip'd newc cpio with busybox, kmod, rngd and
# rngtest (their manual pages rendered to text for guest/man, the guest's
# man), the guest kernel's virtio-rng modules, our module(s) and /init.
#
# Usage: guest/mkinitramfs.sh OUT [--module KO]... [--add SRC:DEST]...
#                              [--moddir DIR]
#
# The guest kernel's modules come from Debian's linux-image-$KVER
# (guest/fetch-kernel.sh), or with --moddir from DIR, the lib/modules/<release>
# of a kernel's modules_install (guest/build-debug-kernel.sh), whose name
# is the release; modules built into that kernel need no file.
#
# The big part (tools, libraries, kernel modules, /init) is a base archive
# cached under $CACHE/initramfs/<hash>/.  Our modules and --add files go in a
# small second archive appended to it: the kernel unpacks concatenated
# archives in order, later files replacing earlier ones.
set -eu
# shellcheck source=SCRIPTDIR/../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

# Kernel modules the base image carries, with their dependencies.
KMODS=(virtio_pci virtio_rng)
# Tools copied from the host with their shared libraries.  kmod rather than
# busybox's modprobe: it is what Debian runs, reads the .bin indexes that
# depmod writes, and handles softdeps and module removal the same way.
BINS=(/usr/bin/kmod /usr/sbin/rngd /usr/bin/rngtest)
KMOD_LINKS=(modprobe insmod rmmod lsmod modinfo depmod)
# Their manual pages, shown by guest/man (busybox has no man).
MANS=(/usr/share/man/man8/rngd.8.gz /usr/share/man/man1/rngtest.1.gz)

usage() {
	sed -n '5,17p' "$0" | sed 's/^# \{0,1\}//'
}

# Write the tree under $1 as a gzip'd newc archive to $2.
mkcpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0) | gzip -n -6 >"$2"
}

# Set LIBS to the shared libraries and loader that the binaries need.
libs_of() {
	local out
	out=$(ldd "$@") || die "ldd failed on $*"
	mapfile -t LIBS < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\/.*[^:]$/ { print $1 }' <<<"$out" | sort -u)
}

# Print the entries of modules.dep or modules.builtin ($2) for module $1:
# the file and, from modules.dep, what it depends on.
kmod_match() {
	awk -F: -v m="${1//-/_}" '{
		n = $1; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n)
		if (n == m) print $1 $2
	}' "$2"
}

# Set KFILES to the files (relative to lib/modules/$KVER) of the named
# modules and of all they depend on: modules.dep lists whole chains.
# Modules built into the kernel (virtio_pci on 6.12) need no file.  Files
# keep their names: 6.12's are .ko.xz, which kmod reads.
kmod_files() {
	local m line deps
	KFILES=()
	for m in "$@"; do
		line=$(kmod_match "$m" "$KMODDIR/modules.dep")
		if [ -z "$line" ] && [ -n "$(kmod_match "$m" "$KMODDIR/modules.builtin")" ]; then
			continue
		fi
		[ -n "$line" ] || die "module $m not in $KMODDIR/modules.dep"
		read -ra deps <<<"$line"
		KFILES+=("${deps[@]}")
	done
}

# Copy a host file to the same path under root $1, following symlinks.
copy_host() {
	mkdir -p "$1$(dirname "$2")"
	cp -L "$2" "$1$2"
}

# Busybox and all its applets as symlinks, then kmod's tools over them.
add_tools() {
	local root=$1 f a
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(busybox --list-full); do
		[ "$a" = bin/busybox ] || ln -sf /bin/busybox "$root/$a"
	done
	for f in "${BINS[@]}" "${LIBS[@]}"; do
		copy_host "$root" "$f"
	done
	for a in "${KMOD_LINKS[@]}"; do
		rm -f "$root/bin/$a" "$root/sbin/$a" "$root/usr/bin/$a" "$root/usr/sbin/$a"
		ln -s /usr/bin/kmod "$root/sbin/$a"
	done
	install -m 755 "$TOP/guest/man" "$root/usr/bin/man"
	for f in "${MANS[@]}"; do
		a=${f##*/}
		a=${a%.gz}
		render_man "$f" "$root/usr/share/man/cat${a##*.}/$a"
	done
}

# The skeleton: mount points, /init, and enough of /etc for id and ls -l.
add_skeleton() {
	local root=$1 d
	for d in proc sys dev tmp run root etc exec mnt var lib/modules; do
		mkdir -p "$root/$d"
	done
	ln -s /run "$root/var/run"
	install -m 755 "$TOP/guest/init" "$root/init"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
}

add_kernel_modules() {
	local root=$1 f dst=$1/lib/modules/$KVER
	mkdir -p "$dst"
	kmod_files "${KMODS[@]}"
	for f in "${KFILES[@]}"; do
		mkdir -p "$dst/$(dirname "$f")"
		cp "$KMODDIR/$f" "$dst/$f"
	done
	cp "$KMODDIR"/modules.builtin "$KMODDIR"/modules.builtin.modinfo \
		"$KMODDIR"/modules.order "$dst/"
	depmod -b "$root" "$KVER"
}

# Set BASE to the cached base archive's dir, building it first when needed.
# (Not run in $(...): errexit does not reach into command substitutions.)
base_archive() {
	local key dir tmp
	libs_of "${BINS[@]}"
	key=$(hash_inputs "$0" "$TOP/guest/init" "$TOP/guest/man" \
		"$(declare -f render_man)" /bin/busybox "${BINS[@]}" "${MANS[@]}" \
		"${LIBS[@]}" "$KMODDIR/modules.dep" \
		"$KMODDIR/modules.builtin" "$KVER" "${KMODS[@]}")
	dir=$CACHE/initramfs/$key
	if [ ! -f "$dir/base.cpio.gz" ]; then
		echo "mkinitramfs: building base image $key" >&2
		mkdir -p "$CACHE/initramfs"
		tmp=$(mktemp -d "$CACHE/initramfs/tmp.XXXXXX")
		add_skeleton "$tmp/root"
		add_tools "$tmp/root"
		add_kernel_modules "$tmp/root"
		mkcpio "$tmp/root" "$tmp/base.cpio.gz"
		# Keep only the module tree, which overlay_archive needs.
		mv "$tmp/root/lib/modules" "$tmp/modules"
		rm -rf "$tmp/root" "$dir"
		mv "$tmp" "$dir"
	fi
	BASE=$dir
}

# Warn early when a module was built for another kernel than the guest's.
check_vermagic() {
	local v
	v=$(modinfo -F vermagic "$1" 2>/dev/null | cut -d' ' -f1)
	[ "$v" = "$KVER" ] ||
		echo "mkinitramfs: warning: $1 is built for '$v', guest runs $KVER" >&2
}

# Build the small archive with our modules and --add files into $2.
# The modules.* indexes are redone over base + ours so aliases resolve.
overlay_archive() {
	local base=$1 out=$2 tmp ko spec src dest mods
	tmp=$(mktemp -d)
	mods=$tmp/full/lib/modules/$KVER
	mkdir -p "$tmp/full/lib/modules" "$tmp/over/lib/modules/$KVER/extra"
	cp -a "$base/modules/$KVER" "$tmp/full/lib/modules/"
	mkdir -p "$mods/extra"
	for ko in "${MODULES[@]}"; do
		check_vermagic "$ko"
		cp "$ko" "$mods/extra/"
		cp "$ko" "$tmp/over/lib/modules/$KVER/extra/"
	done
	depmod -b "$tmp/full" "$KVER"
	cp "$mods"/modules.* "$tmp/over/lib/modules/$KVER/"
	for spec in "${ADDS[@]}"; do
		src=${spec%%:*}
		dest=${spec#*:}
		case $dest in */) dest=$dest${src##*/} ;; esac
		mkdir -p "$tmp/over/$(dirname "/$dest")"
		cp -a "$src" "$tmp/over/${dest#/}"
	done
	mkcpio "$tmp/over" "$out"
	rm -rf "$tmp"
}

OUT=
MODULES=()
ADDS=()
MODDIR=
while [ $# -gt 0 ]; do
	case $1 in
	--module)
		[ $# -ge 2 ] || die "--module needs a file"
		[ -f "$2" ] || die "no such module: $2"
		MODULES+=("$(realpath "$2")")
		shift 2
		;;
	--add)
		case ${2-} in *:*) ;; *) die "--add needs SRC:DEST" ;; esac
		[ -e "${2%%:*}" ] || die "no such file: ${2%%:*}"
		ADDS+=("$2")
		shift 2
		;;
	--moddir)
		[ -f "${2-}/modules.dep" ] || die "--moddir needs a dir with modules.dep"
		MODDIR=$(realpath "$2")
		shift 2
		;;
	-h | --help) usage; exit 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*)
		[ -z "$OUT" ] || die "only one OUT allowed (see --help)"
		OUT=$1
		shift
		;;
	esac
done
[ -n "$OUT" ] || { usage >&2; exit 2; }

"$TOP/scripts/deps.sh" busybox-static rng-tools5 cpio kmod groff-base
if [ -n "$MODDIR" ]; then
	KVER=${MODDIR##*/}
	KMODDIR=$MODDIR
else
	"$TOP/guest/fetch-kernel.sh"
	KMODDIR=$CACHE/kernel/$KVER/lib/modules/$KVER
fi

base_archive
mkdir -p "$(dirname "$OUT")"
# A private temp name: run-vm instances may build the same OUT at once.
tmp=$(mktemp "$OUT.XXXXXX")
if [ ${#MODULES[@]} -eq 0 ] && [ ${#ADDS[@]} -eq 0 ]; then
	cp "$BASE/base.cpio.gz" "$tmp"
else
	overlay_archive "$BASE" "$tmp.over"
	cat "$BASE/base.cpio.gz" "$tmp.over" >"$tmp"
	rm -f "$tmp.over"
fi
chmod 644 "$tmp"
mv "$tmp" "$OUT"
