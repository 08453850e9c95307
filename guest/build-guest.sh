#!/bin/bash
# Prepare a guest on a kernel built here (guest/build-kernel.sh KERNEL:
# debug, 7.2) for qemu/run-vm: build edu-rng.ko against that kernel's tree
# in a copy of the sources (build/module/<release>/, so drivers/edu-rng.ko
# stays $KVER's), and the initramfs with it.  Writes into OUTDIR:
#   kernel       the kernel (a link into the cache), for run-vm --kernel
#   initrd.img   the initramfs with the module, for run-vm --initrd
#   edu-rng.ko   the module (a link)
# Usage: guest/build-guest.sh KERNEL OUTDIR
set -eu
# shellcheck source=SCRIPTDIR/../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

case ${1-} in
-h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
if [ $# -ne 2 ] || [ -z "$2" ]; then
	die "usage: ${0##*/} KERNEL OUTDIR"
fi
k=$1 out=$2
# Nothing stale for run-vm to boot if a step below fails.
rm -rf "$out"
mkdir -p "$out"

out=$(realpath "$out")
# (not in $(...): errexit does not reach into command substitutions)
"$TOP/guest/build-kernel.sh" "$k" --print-build-dir --print-release --print-moddir \
	--print-path >"$out/.kernel"
{ read -r tree && read -r rel && read -r moddir && read -r kernel; } <"$out/.kernel"
rm "$out/.kernel"
ko=$("$TOP/scripts/module.sh" --print --kdir "$tree" "$BUILD/module/$rel")
"$TOP/guest/mkinitramfs.sh" "$out/initrd.img" --moddir "$moddir" --module "$ko"
ln -sfn "$ko" "$out/edu-rng.ko"
ln -sfn "$kernel" "$out/kernel"
