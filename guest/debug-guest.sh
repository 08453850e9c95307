#!/bin/bash
# Prepare a guest on the debug kernel (guest/build-debug-kernel.sh) for
# qemu/run-vm: build edu-rng.ko against that kernel's tree in a copy of the
# sources (build/debug-module/, so drivers/edu-rng.ko stays $KVER's), and
# the initramfs with it.  Writes into OUTDIR:
#   bzImage      the kernel (a link into the cache), for run-vm --kernel
#   initrd.img   the initramfs with the module, for run-vm --initrd
#   edu-rng.ko   the module (a link)
# Usage: guest/debug-guest.sh OUTDIR
set -eu
# shellcheck source=SCRIPTDIR/../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

case ${1-} in
-h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
'' | -*) die "usage: ${0##*/} OUTDIR" ;;
esac
out=$1
# Nothing stale for run-vm to boot if a step below fails.
rm -rf "$out"
mkdir -p "$out"

"$TOP/guest/build-debug-kernel.sh"
tree=$("$TOP/guest/build-debug-kernel.sh" --print-build-dir)
rel=$("$TOP/guest/build-debug-kernel.sh" --print-release)
moddir=$("$TOP/guest/build-debug-kernel.sh" --print-moddir)
kernel=$("$TOP/guest/build-debug-kernel.sh" --print-path)

src=$BUILD/debug-module
copy_sources "$src"
log=$(make -s -C "$tree" M="$src/drivers" modules 2>&1) || {
	printf '%s\n' "$log" >&2
	die "module build against $tree failed"
}
[ -z "$log" ] || printf '%s\n' "$log" >&2
ko=$src/drivers/edu-rng.ko
v=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
[ "$v" = "$rel" ] || die "$ko is built for '$v', not $rel"

"$TOP/guest/mkinitramfs.sh" "$out/initrd.img" --moddir "$moddir" --module "$ko"
ln -sfn "$ko" "$out/edu-rng.ko"
ln -sfn "$kernel" "$out/bzImage"
