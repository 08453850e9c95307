#!/bin/bash
# Static checks, one TAP line each: checkpatch --strict, W=1 C=1 (sparse)
# module builds for $KVER, $KVER_EXTRA (6.12) and $KVER_BUILT (7.2, built
# by guest/build-kernel.sh when missing), kernel-doc on the driver, QEMU's
# checkpatch on the device model, shellcheck on every script.  Exit status
# 1 if any check failed.
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

KERNEL_C=(drivers/edu-rng-main.c drivers/edu-rng-cdev.c drivers/edu-rng-lab.c
	drivers/edu-rng.h drivers/edu-rng-lab.h drivers/edu-rng-compat.h
	drivers/bench/edu_rng_bench.c)

# An out-of-tree module built for several kernels may need
# LINUX_VERSION_CODE.
checkpatch() {
	local f
	for f in "${KERNEL_C[@]}"; do
		perl "$LSRC/scripts/checkpatch.pl" --strict --no-tree --quiet \
			--show-types --ignore LINUX_VERSION_CODE -f "$TOP/$f" || return 1
	done
}

# A clean W=1 C=1 build prints no warning at all, and sparse ran on every
# file.  $1: the top of the sources (the work tree, or a copy of the
# module's sources), then make variables: KDIR=, CHECK=.
w1_sparse() {
	local top=$1 out d
	shift
	for d in drivers drivers/bench; do
		make -s -C "$top/$d" "$@" clean >/dev/null
		out=$(make -C "$top/$d" "$@" W=1 C=1 2>&1) || { echo "$out"; return 1; }
		! printf '%s\n' "$out" | grep -E 'warning|error|not available|\.c:[0-9]+:' || return 1
		printf '%s\n' "$out" | grep -q '^ *CHECK ' || { echo "$out"; echo "sparse did not run"; return 1; }
	done
}

# $KVER's build in drivers/ itself, as make module does.
module_w1_sparse() {
	w1_sparse "$TOP"
}

# Another kernel's, in a copy of the sources under build/lint/: KDIR $1,
# release $2, sparse $3.
other_w1_sparse() {
	local src=$BUILD/lint/$2
	copy_sources "$src"
	mkdir -p "$src/drivers/bench"
	cp "$TOP"/drivers/bench/Kbuild "$TOP"/drivers/bench/Makefile "$TOP"/drivers/bench/*.c \
		"$src/drivers/bench/"
	w1_sparse "$src" KDIR="$1" CHECK="$3"
}

kernel_doc() {
	local out
	out=$(cd "$TOP" && perl "$LSRC/scripts/kernel-doc" -Werror -none "${KERNEL_C[@]}" 2>&1)
	[ -z "$out" ] || { echo "$out"; return 1; }
}

qemu_checkpatch() {
	local src
	src=$("$TOP/qemu/build-qemu.sh" --print-src)
	perl "$src/scripts/checkpatch.pl" --no-tree -f "$TOP"/qemu/hw/*.[ch]
}

# Every shell script: by extension or by shebang.
shell_scripts() {
	git -C "$TOP" ls-files --cached --others --exclude-standard | while read -r f; do
		case $f in
		*.sh) echo "$TOP/$f" ;;
		*.*) ;;
		*) head -n1 "$TOP/$f" 2>/dev/null | grep -qE '^#!.*\b(ba)?sh' && echo "$TOP/$f" ;;
		esac
	done
}

shellcheck_all() {
	local files
	mapfile -t files < <(shell_scripts)
	shellcheck -x "${files[@]}"
}

"$TOP/scripts/deps.sh" sparse shellcheck linux-headers-amd64
LSRC=$("$TOP/scripts/linux-source.sh")
# the W=1 build is for $KVER: its headers, installed or from the cache
use_headers

echo "TAP version 13"
tap_run "checkpatch --strict ${KERNEL_C[*]}" checkpatch
tap_run "W=1 C=1 (sparse) module builds without warnings on $KVER" module_w1_sparse
# ... and on the other kernels of make check: $KVER_EXTRA's headers (6.12),
# $KVER_BUILT's trees (7.2, whose C=1 wants a newer sparse than bookworm's)
for k in ${KVER_EXTRA-6.12}; do
	r=$(resolve_kver "$k") || r=$k
	[ "$(kver_series "$r")" != "$(kver_series "$KVER")" ] || continue
	if kd=$(KVER=$r && use_headers && echo "$KDIR"); then
		tap_run "W=1 C=1 (sparse) module builds without warnings on $r" \
			other_w1_sparse "$kd" "$r" sparse
	else
		tap_run "W=1 C=1 on $r: its headers" false
	fi
done
for k in ${KVER_BUILT-7.2}; do
	if kd=$("$TOP/guest/build-kernel.sh" "$k" --print-build-dir) &&
		sp=$("$TOP/scripts/sparse.sh"); then
		r=$(cat "$kd/include/config/kernel.release")
		tap_run "W=1 C=1 (sparse) module builds without warnings on $r" \
			other_w1_sparse "$kd" "$r" "$sp"
	else
		tap_run "W=1 C=1 on $k: guest/build-kernel.sh $k and scripts/sparse.sh" false
	fi
done
tap_run "kernel-doc ${KERNEL_C[*]}" kernel_doc
tap_run "QEMU checkpatch qemu/hw" qemu_checkpatch
tap_run "shellcheck on every script" shellcheck_all
tap_end
