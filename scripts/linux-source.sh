#!/bin/bash
# Unpack the pieces of Debian's linux-source-6.1 that edu-rng uses:
# checkpatch.pl and its data files, kernel-doc, and the kselftest headers.
# Prints the directory (a linux-source tree holding only those files).
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

PKG=linux-source-6.1
FILES=(
	scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch
	scripts/kernel-doc
	tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/kselftest.h
)

"$TOP/scripts/deps.sh" "$PKG"
ver=$(dpkg-query -W -f '${Version}' "$PKG")
dir=$CACHE/$PKG-$ver
if [ ! -f "$dir/.done" ]; then
	rm -rf "$dir"
	mkdir -p "$dir"
	tar -xJf "/usr/src/$PKG.tar.xz" -C "$dir" --strip-components=1 \
		"${FILES[@]/#/$PKG/}"
	touch "$dir/.done"
fi
echo "$dir"
