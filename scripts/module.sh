#!/bin/bash
# Build edu-rng.ko for $KVER against its headers (installed, else unpacked
# into the cache by scripts/fetch-headers.sh), or against a kernel tree.
# Usage: scripts/module.sh [--print] [--kdir TREE] [DIR]
#   without DIR  build in drivers/ (drivers/edu-rng.ko)
#   with DIR     build a copy of drivers/ and include/ in DIR (DIR/drivers/
#                edu-rng.ko), leaving drivers/ alone; files are copied only
#                when changed, so an unchanged second build is a no-op
#   --print      print the path of the module afterwards
#   --kdir TREE  build against the kernel build tree TREE (a KDIR such as
#                guest/build-kernel.sh 7.2 --print-build-dir) for its
#                release, not against $KVER's headers
# MAKEFLAGS such as W=1 C=1 pass through.
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

print=
tree=
while [ $# -gt 0 ]; do
	case $1 in
	--print) print=1; shift ;;
	--kdir)
		[ -f "${2-}/include/config/kernel.release" ] ||
			die "--kdir needs a configured kernel build tree"
		tree=$(realpath "$2")
		shift 2
		;;
	-h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) break ;;
	esac
done
src=$TOP/drivers
if [ $# -gt 0 ]; then
	mkdir -p "$1"
	copy_sources "$(realpath "$1")"
	src=$(realpath "$1")/drivers
fi

if [ -n "$tree" ]; then
	KDIR=$tree
	KVER=$(cat "$tree/include/config/kernel.release")
else
	use_headers
fi
out=$(make -s -C "$src" KVER="$KVER" KDIR="$KDIR" 2>&1) || {
	printf '%s\n' "$out" >&2
	die "module build failed ($src, $KVER)"
}
printf '%s\n' "$out" | grep -v -e '^$' -e '^Skipping BTF' -e 'BTF \[M\]' >&2 || true
ko=$src/edu-rng.ko
v=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
[ "$v" = "$KVER" ] || die "$ko is built for '$v', not $KVER"
[ -z "$print" ] || echo "$ko"
