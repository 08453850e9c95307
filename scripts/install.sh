#!/bin/bash
# make install / make uninstall.
#
# Usage: scripts/install.sh install|uninstall
#   install    drivers/edu-rng.ko (built for $KVER) to
#              $DESTDIR/lib/modules/$KVER/updates/ (then depmod, unless
#              DESTDIR is set), udev/60-edu-rng.rules to $DESTDIR$UDEVDIR,
#              Documentation/*.rst and README.md to
#              $DESTDIR$PREFIX/share/doc/edu-rng/, and the CLI edu-rng (as
#              make user builds it into build/user/, else user/edu-rng) and
#              its man page user/edu-rng.1, when they exist, to
#              $DESTDIR$PREFIX/bin and $DESTDIR$PREFIX/share/man/man1
#   uninstall  remove all of it again, the module from every kernel's
#              updates/ (then depmod for those kernels, unless DESTDIR)
#
# PREFIX (default /usr/local), DESTDIR (default none) and UDEVDIR (default
# /etc/udev/rules.d) come from the environment, as make passes them.
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR-}
UDEVDIR=${UDEVDIR:-/etc/udev/rules.d}
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf")
DOCDIR=$DESTDIR$PREFIX/share/doc/edu-rng
BINDIR=$DESTDIR$PREFIX/bin
MANDIR=$DESTDIR$PREFIX/share/man/man1
RULE=60-edu-rng.rules

# depmod for kernel $1, on the live system only; a kernel without a
# modules tree (only its headers here) has nothing to index.
run_depmod() {
	[ -z "$DESTDIR" ] || return 0
	[ -d "/lib/modules/$1/kernel" ] || [ -f "/lib/modules/$1/modules.order" ] || return 0
	depmod -a "$1"
}

# udev reads rules again on its own, but only when it runs
reload_udev() {
	[ -z "$DESTDIR" ] || return 0
	udevadm control --reload >/dev/null 2>&1 || true
}

# install MODE SRC DEST: install -D, and note DEST
put() {
	install -D -m "$1" "$2" "$3"
	echo "  $3"
}

do_install() {
	local ko=$TOP/drivers/edu-rng.ko v f
	[ -f "$ko" ] || die "no $ko: run make module first"
	v=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	[ "$v" = "$KVER" ] || die "$ko is built for '$v', not $KVER (make module KVER=$KVER)"
	echo "install: edu-rng $VERSION for $KVER, PREFIX=$PREFIX${DESTDIR:+, DESTDIR=$DESTDIR}"
	put 644 "$ko" "$DESTDIR/lib/modules/$KVER/updates/edu-rng.ko"
	put 644 "$TOP/udev/$RULE" "$DESTDIR$UDEVDIR/$RULE"
	for f in "$TOP"/Documentation/*.rst "$TOP/README.md"; do
		put 644 "$f" "$DOCDIR/${f##*/}"
	done
	echo "$VERSION" >"$DOCDIR/VERSION"
	for f in "$BUILD/user/edu-rng" "$TOP/user/edu-rng"; do
		if [ -f "$f" ]; then
			put 755 "$f" "$BINDIR/edu-rng"
			break
		fi
	done
	if [ -f "$TOP/user/edu-rng.1" ]; then
		put 644 "$TOP/user/edu-rng.1" "$MANDIR/edu-rng.1"
	fi
	run_depmod "$KVER"
	reload_udev
}

do_uninstall() {
	local ko k f
	for ko in "$DESTDIR"/lib/modules/*/updates/edu-rng.ko; do
		[ -f "$ko" ] || continue
		k=${ko%/updates/edu-rng.ko}
		k=${k##*/}
		rm -f "$ko"
		rmdir "${ko%/*}" 2>/dev/null || true
		run_depmod "$k"
	done
	rm -f "$DESTDIR$UDEVDIR/$RULE" "$BINDIR/edu-rng" "$MANDIR/edu-rng.1"
	rm -f "$DOCDIR/VERSION" "$DOCDIR/README.md"
	for f in "$TOP"/Documentation/*.rst; do
		rm -f "$DOCDIR/${f##*/}"
	done
	rmdir "$DOCDIR" 2>/dev/null || true
	reload_udev
	echo "uninstall: edu-rng removed${DESTDIR:+ from $DESTDIR}"
}

case ${1-} in
install) do_install ;;
uninstall) do_uninstall ;;
-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' ;;
*) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
