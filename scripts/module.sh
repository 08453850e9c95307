#!/bin/bash
# Build edu-rng.ko for $KVER against its headers (installed, else unpacked
# into the cache by scripts/fetch-headers.sh).
# Usage: scripts/module.sh [--print] [DIR]
#   without DIR  build in drivers/ (drivers/edu-rng.ko)
#   with DIR     build a copy of drivers/ and include/ in DIR (DIR/drivers/
#                edu-rng.ko), leaving drivers/ alone; files are copied only
#                when changed, so an unchanged second build is a no-op
#   --print      print the path of the module afterwards
# MAKEFLAGS such as W=1 C=1 pass through.
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

print=
if [ "${1-}" = --print ]; then
	print=1
	shift
fi
case ${1-} in
-h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
-*) die "unknown option '$1' (see --help)" ;;
esac
src=$TOP/drivers
if [ $# -gt 0 ]; then
	mkdir -p "$1"
	copy_sources "$(realpath "$1")"
	src=$(realpath "$1")/drivers
fi

use_headers
out=$(make -s -C "$src" KVER="$KVER" KDIR="$KDIR" 2>&1) || {
	printf '%s\n' "$out" >&2
	die "module build failed ($src, $KVER)"
}
printf '%s\n' "$out" | grep -v -e '^$' -e '^Skipping BTF' -e 'BTF \[M\]' >&2 || true
ko=$src/edu-rng.ko
v=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
[ "$v" = "$KVER" ] || die "$ko is built for '$v', not $KVER"
[ -z "$print" ] || echo "$ko"
