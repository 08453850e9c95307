#!/bin/bash
# Static checks, one TAP line each: checkpatch --strict, a W=1 C=1 (sparse)
# module build, kernel-doc on the driver, QEMU's checkpatch on the device
# model, shellcheck on every script.  Exit status 1 if any check failed.
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

KERNEL_C=(drivers/edu-rng.c drivers/bench/edu_rng_bench.c)

# An out-of-tree module built for several kernels may need
# LINUX_VERSION_CODE.
checkpatch() {
	local f
	for f in "${KERNEL_C[@]}"; do
		perl "$LSRC/scripts/checkpatch.pl" --strict --no-tree --quiet \
			--show-types --ignore LINUX_VERSION_CODE -f "$TOP/$f" || return 1
	done
}

# A clean W=1 C=1 build prints no warning at all.
module_w1_sparse() {
	local out d
	for d in drivers drivers/bench; do
		make -s -C "$TOP/$d" clean >/dev/null
		out=$(make -C "$TOP/$d" W=1 C=1 2>&1) || { echo "$out"; return 1; }
		! printf '%s\n' "$out" | grep -E 'warning|error|\.c:[0-9]+:' || return 1
	done
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
tap_run "W=1 C=1 (sparse) module builds without warnings" module_w1_sparse
tap_run "kernel-doc ${KERNEL_C[*]}" kernel_doc
tap_run "QEMU checkpatch qemu/hw" qemu_checkpatch
tap_run "shellcheck on every script" shellcheck_all
tap_end
