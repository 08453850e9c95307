#!/bin/bash
# Print the path of a sparse new enough for 7.2's C=1, building it first
# when needed.  7.2's kbuild checks that its checker knows
# __typeof_unqual__ (scripts/checker-valid.sh) and skips sparse, with no
# more than a make warning, when it does not; bookworm's sparse 0.6.4 does
# not.  So sid's sparse source (fetched with our apt, see capt in
# scripts/common.sh) is built with the host's gcc into
# $CACHE/sparse/<version>/, once; the host's sparse stays as it is.
# Usage: scripts/sparse.sh
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

case ${1-} in
-h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) die "unknown argument '$1' (see --help)" ;;
esac

# The newest sparse source our apt lists, else the newest built before.
newest() {
	capt apt-cache showsrc sparse 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n1
}

build() {
	local ver=$1 dir=$CACHE/sparse/$1 tmp
	tmp=$(mktemp -d "$CACHE/sparse/tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "sparse: fetching and building sid's sparse $ver" >&2
	(cd "$tmp" && capt apt-get source -qq "sparse=$ver" >"$tmp/err" 2>&1) || {
		grep -v '^W: Download is performed unsandboxed' "$tmp/err" >&2 || true
		return 1
	}
	# Debian's packaging names its gcc (gcc-16): the host's builds it
	make -s -C "$tmp"/sparse-*/ CC=gcc -j"$(nproc)" sparse >"$tmp/build.log" 2>&1 || {
		tail -n 20 "$tmp/build.log" >&2
		return 1
	}
	mkdir -p "$tmp/out"
	cp "$tmp"/sparse-*/sparse "$tmp/out/"
	rm -rf "$dir"
	mv "$tmp/out" "$dir"
	rm -rf "$tmp"
	trap - EXIT
}

"$TOP/scripts/deps.sh" dpkg-dev gcc make
mkdir -p "$CACHE/sparse"
capt_update
ver=$(newest)
if [ -n "$ver" ] && [ ! -x "$CACHE/sparse/$ver/sparse" ]; then
	exec 9>"$CACHE/sparse/.lock"
	flock 9
	[ -x "$CACHE/sparse/$ver/sparse" ] || build "$ver" ||
		echo "sparse: cannot build sparse $ver; trying one built before" >&2
	exec 9>&-
fi
if [ -z "$ver" ] || [ ! -x "$CACHE/sparse/$ver/sparse" ]; then
	ver=$(find "$CACHE/sparse" -mindepth 2 -maxdepth 2 -name sparse -type f 2>/dev/null |
		sed 's|/sparse$||; s|.*/||' | sort -V | tail -n1)
	[ -n "$ver" ] || die "no sparse from sid could be fetched or built"
fi
echo "$CACHE/sparse/$ver/sparse"
