#!/bin/bash
# Unpack Debian's headers for $KVER (linux-headers-$KVER, its -common part
# and linux-kbuild) into $CACHE/headers/$KVER/ and print the build dir, for
# building the module against a kernel whose headers are not installed.
# Debian 6.12's headers package depends on its linux-image: installing it
# would put that kernel into /boot and pull in initramfs-tools and udev,
# so the packages are only downloaded and extracted, never installed.
# Usage: scripts/fetch-headers.sh
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

DIR=$CACHE/headers/$KVER
KDIR=$DIR/usr/src/linux-headers-$KVER

# apt-get download into $1; a failure may mean old lists: update, retry.
download() {
	local dir=$1
	shift
	(cd "$dir" && apt-get download -q "$@") >&2 ||
		(apt-get update -qq && cd "$dir" && apt-get download -q "$@") >&2 ||
		die "cannot download $*"
}

fetch() {
	local tmp deb deps
	# kbuild runs pahole on 6.12's headers (BTF), gcc-12 builds both
	"$TOP/scripts/deps.sh" dpkg-dev gcc make pahole
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# Let apt's sandbox user write there (else apt warns and runs as root).
	if id _apt >/dev/null 2>&1; then
		chown _apt "$tmp"
	fi
	download "$tmp" "linux-headers-$KVER"
	# The -common headers and linux-kbuild-* it depends on, by name.
	deps=$(dpkg-deb -f "$tmp"/linux-headers-*.deb Depends | tr ',|' '\n' |
		sed -n 's/^ *\(linux-\(headers\|kbuild\)-[^ ]*\).*/\1/p' | sort -u)
	[ -n "$deps" ] || die "linux-headers-$KVER names no -common or kbuild package"
	# shellcheck disable=SC2086 # one package name per word
	download "$tmp" $deps
	rm -rf "$DIR"
	mkdir -p "$DIR"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$DIR"
	done
	# The arch Makefile includes the -common one by its absolute path; the
	# scripts and tools links are relative and stay inside $DIR.
	sed -i "s|/usr/src/|$DIR/usr/src/|g" "$KDIR/Makefile"
	[ -f "$KDIR/Module.symvers" ] || die "no Module.symvers in linux-headers-$KVER"
	rm -rf "$tmp"
	trap - EXIT
}

case ${1-} in
-h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) die "unknown argument '$1' (see --help)" ;;
esac

if [ ! -f "$DIR/.stamp" ]; then
	# parallel runs (other work trees) share the cache: one unpacks
	mkdir -p "$CACHE/headers"
	exec 9>"$CACHE/headers/.lock"
	flock 9
	if [ ! -f "$DIR/.stamp" ]; then
		echo "fetch-headers: unpacking linux-headers-$KVER into $DIR" >&2
		fetch
		touch "$DIR/.stamp"
	fi
	exec 9>&-
fi
echo "$KDIR"
