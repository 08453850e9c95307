#!/bin/bash
# Build the Debian 12 guest (make run GUEST=debian, the guest-debian suite):
# a bookworm root made by mmdebstrap from Debian's archive (minbase, no
# recommends: systemd, udev, kmod, rng-tools5, linux-image-$KVER and its
# headers, gcc, make and dkms, so that edu-rng-dkms builds offline), plus
# guest/debian/rootfs/ (a small initrd, root's autologin on ttyS0, the
# payload unit), turned into an ext4 disk image by mkfs.ext4 -d (no loop
# mount).  Cached by the hash of its inputs in
# $CACHE/debian/bookworm-<hash>/:
#   disk.img     the root, raw ext4; boot it through an overlay
#                (qemu-img create -b): nothing ever writes it
#   vmlinuz      the image's kernel; kernel: the same as an ELF for PVH
#                (guest/fetch-kernel.sh's, when it is the same build)
#   initrd.img   the image's initrd (initramfs-tools)
#   cmdline      the kernel command line it boots with
# Usage: guest/build-debian.sh [--print-dir]   (root, or sudo)
set -eu
# shellcheck source=SCRIPTDIR/../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

SUITE=bookworm
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
PKGS="systemd,systemd-sysv,udev,kmod,rng-tools5,initramfs-tools,linux-image-$KVER,linux-headers-$KVER,gcc,make,dkms"
# Module trees of linux-image-$KVER that dpkg leaves out (path-exclude,
# dpkg's own way to install less of a package): hardware a QEMU guest with
# no network card, sound or display never has, and nothing left needs
# (SCSI stays: q35's AHCI is libata's, which needs scsi_mod).  What is
# left (virtio, PCI, block, hw_random, file systems, ...) is half of the
# modules' 390 MB:
# depmod, which DKMS runs at each install and remove, reads that much less
# under TCG, and the image is smaller.
EXCLUDE=()
for d in sound drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet \
	drivers/infiniband drivers/iio drivers/staging drivers/bluetooth drivers/isdn \
	net/wireless net/bluetooth net/mac80211; do
	EXCLUDE+=("--dpkgopt=path-exclude=/lib/modules/*/kernel/$d/*")
done
# bump when the recipe changes in a way the hashed inputs do not show
RECIPE=2

print=
case ${1-} in
--print-dir) print=1 ;;
-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
'') ;;
*) die "usage: ${0##*/} [--print-dir]" ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "need root or sudo (mmdebstrap, chroot)"
	exec sudo env EDU_RNG_CACHE="$CACHE" KVER="$KVER" "$0" "$@"
fi

mapfile -t ROOTFS < <(find "$TOP/guest/debian/rootfs" -type f | LC_ALL=C sort)
hash=$(hash_inputs "recipe $RECIPE" "$SUITE" "$MIRROR" "$SECURITY" "$PKGS" "${EXCLUDE[*]}" "$0" \
	"${ROOTFS[@]}")
DIR=$CACHE/debian/$SUITE-$hash

build() {
	local tmp=$DIR.tmp root size mid
	root=$tmp/root
	rm -rf "$tmp"
	mkdir -p "$tmp"
	"$TOP/scripts/deps.sh" mmdebstrap e2fsprogs
	echo "build-debian: making $DIR (mmdebstrap $SUITE, a few minutes)" >&2
	mid=$(printf '%s' "$hash" | sha256sum | cut -c1-32)
	# essential-hook: our files, before the kernel's package makes the
	# initrd.  customize-hook: root without password, hostname, a fixed
	# machine-id (no first-boot setup in every test boot), the payload
	# unit enabled, the default target; masked: apt's timers (no network
	# to fetch from, and apt's lock is the tests'), getty-static (gettys
	# on tty2-6 of a guest without a display), e2scrub_reap (no LVM);
	# /etc and /var up to date with /usr, as after a first boot (the
	# packages' scripts ran ldconfig and the hwdb): no ldconfig.service
	# or systemd-hwdb-update in every test boot under TCG.  (The hooks'
	# $1, the root, is mmdebstrap's.)
	# shellcheck disable=SC2016
	mmdebstrap --quiet --variant=minbase --include="$PKGS" \
		--aptopt='APT::Install-Recommends "false"' \
		"${EXCLUDE[@]}" \
		--essential-hook="tar -C '$TOP/guest/debian/rootfs' --owner=0 --group=0 -c . | tar -C \"\$1\" -x" \
		--customize-hook='chroot "$1" passwd -d root >/dev/null' \
		--customize-hook='echo edu-rng-debian >"$1/etc/hostname"' \
		--customize-hook='printf "127.0.0.1 localhost\n127.0.1.1 edu-rng-debian\n" >"$1/etc/hosts"' \
		--customize-hook="echo $mid >\"\$1/etc/machine-id\"" \
		--customize-hook='printf "/dev/vda / ext4 rw,errors=remount-ro 0 0\n" >"$1/etc/fstab"' \
		--customize-hook='chroot "$1" systemctl enable edu-rng-payload.service' \
		--customize-hook='chroot "$1" systemctl set-default multi-user.target' \
		--customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer getty-static.service e2scrub_reap.service' \
		--customize-hook='touch -r "$1/usr" "$1/etc/.updated" "$1/var/.updated"' \
		"$SUITE" "$root" \
		"deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
		"deb $SECURITY $SUITE-security main" >"$tmp/mmdebstrap.log" 2>&1 ||
		{ tail -n 30 "$tmp/mmdebstrap.log" >&2; die "mmdebstrap failed ($tmp/mmdebstrap.log)"; }
	cp "$root/boot/vmlinuz-$KVER" "$tmp/vmlinuz"
	cp "$root/boot/initrd.img-$KVER" "$tmp/initrd.img"
	# the root, and room for DKMS's build and a few packages
	size=$(($(du -sm "$root" | cut -f1) + 384))
	mkfs.ext4 -q -L debian-root -E root_owner=0:0 -d "$root" "$tmp/disk.img" "${size}M" ||
		die "mkfs.ext4 -d failed"
	rm -rf "$root"
	echo "root=/dev/vda rw" >"$tmp/cmdline"
	mv "$tmp" "$DIR"
	# older recipes' images
	find "$CACHE/debian" -mindepth 1 -maxdepth 1 -name "$SUITE-*" ! -path "$DIR" \
		-exec rm -rf {} +
}

# The ELF of the same kernel (PVH: no decompressor under TCG), when
# guest/fetch-kernel.sh's build is the image's; else the bzImage.
kernel_link() {
	local elf vmlinuz
	"$TOP/guest/fetch-kernel.sh" >&2
	vmlinuz=$("$TOP/guest/fetch-kernel.sh" --print-path)
	elf=$("$TOP/guest/fetch-kernel.sh" --print-elf)
	if cmp -s "$vmlinuz" "$DIR/vmlinuz"; then
		ln -sfn "$elf" "$DIR/kernel"
	else
		ln -sfn vmlinuz "$DIR/kernel"
	fi
}

if [ ! -f "$DIR/disk.img" ]; then
	mkdir -p "$CACHE/debian"
	exec 9>"$CACHE/debian/.lock"
	flock 9
	[ -f "$DIR/disk.img" ] || build
	exec 9>&-
fi
[ -e "$DIR/kernel" ] || kernel_link
[ -z "$print" ] || echo "$DIR"
