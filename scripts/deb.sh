#!/bin/bash
# make deb: build the Debian packages edu-rng-dkms (Architecture: all, the
# driver's sources for DKMS) and edu-rng-tools (edu-rng, lab-rng, the man
# pages, the udev rule, the docs) with dpkg-buildpackage from debian/.
#
# Usage: scripts/deb.sh [--version V] [OUTDIR]   (default OUTDIR: build/deb)
#   The tree (the files git knows, as they are in the work tree) is copied
#   to OUTDIR/edu-rng-<version>/, which gets a debian/changelog of one
#   entry for PACKAGE_VERSION of dkms.conf; dpkg-buildpackage builds the
#   source and the binary packages there and leaves .dsc, .tar.xz, .deb,
#   .buildinfo and .changes in OUTDIR.  The source tree is not touched.
#   --version V builds version V instead, dkms.conf of the copy saying so
#   (the deb suite builds 0.1.0~prev to test an upgrade).
# Missing build dependencies are installed first (scripts/deps.sh: root,
# or sudo).  The log is OUTDIR/build.log.
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

usage() {
	sed -n '5,16p' "$0" | sed 's/^# \{0,1\}//'
}

VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf")
[ -n "$VERSION" ] || die "no PACKAGE_VERSION in dkms.conf"
while [ $# -gt 0 ]; do
	case $1 in
	--version) [ $# -ge 2 ] || { usage >&2; exit 2; }; VERSION=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -le 1 ] || { usage >&2; exit 2; }
OUT=${1:-$BUILD/deb}
case $VERSION in
*[!0-9A-Za-z.+~]* | [!0-9]*) die "version '$VERSION': not a native Debian version" ;;
esac

# What dpkg-buildpackage and its debian/control need
"$TOP/scripts/deps.sh" dpkg-dev debhelper dh-dkms dkms build-essential fakeroot lintian

# The tree's files, relative to $TOP: what git tracks and what it would
# (not ignored), as they are now; without git, everything but the outputs.
tree_files() {
	if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$TOP" ls-files -z --cached --others --exclude-standard |
			(cd "$TOP" && while IFS= read -r -d '' f; do
				[ -e "$f" ] || [ -L "$f" ] && printf '%s\n' "$f"
			done)
	else
		(cd "$TOP" && find . -path ./build -prune -o \( -type f -o -type l \) -print |
			sed 's|^\./||' |
			grep -vE '(\.o|\.ko|\.mod|\.mod\.c|\.cmd|Module\.symvers|modules\.order)$')
	fi
}

# One changelog entry, dated as the last commit (reproducible builds),
# by the maintainer debian/control names.
changelog() {
	local date who rev
	date=$(git -C "$TOP" log -1 --format=%aD 2>/dev/null) || date=$(date -R)
	[ -n "$date" ] || date=$(date -R)
	rev=$(git -C "$TOP" describe --always --dirty 2>/dev/null) || rev=
	who=$(sed -n 's/^Maintainer: //p' "$TOP/debian/control")
	cat <<EOF
edu-rng ($VERSION) unstable; urgency=medium

  * edu-rng $VERSION, packaged from the source tree${rev:+ (git $rev)}.

 -- $who  $date
EOF
}

SRC=$OUT/edu-rng-$VERSION
rm -rf "$SRC"
mkdir -p "$SRC"
rm -f "$OUT"/edu-rng_* "$OUT"/edu-rng-dkms_* "$OUT"/edu-rng-tools_* \
	"$OUT"/edu-rng-tools-dbgsym_*
tree_files | (cd "$TOP" && cpio --quiet -pdm "$SRC")
# the version: dkms.conf's (it is the one place), the changelog's from it
sed -i "s/^PACKAGE_VERSION=\".*\"\$/PACKAGE_VERSION=\"$VERSION\"/" "$SRC/dkms.conf"
changelog >"$SRC/debian/changelog"

echo "deb: building edu-rng $VERSION in $SRC (log: $OUT/build.log)"
if ! (cd "$SRC" && dpkg-buildpackage -us -uc) >"$OUT/build.log" 2>&1; then
	tail -n 40 "$OUT/build.log" >&2
	die "dpkg-buildpackage failed (log: $OUT/build.log, tree: $SRC)"
fi
rm -rf "$SRC"
(cd "$OUT" && ls -1 ./*"_${VERSION}"[_.]*) | sed "s|^\./|  $OUT/|"
