#!/bin/bash
# Register edu-rng with DKMS, which then rebuilds the module for every new
# kernel (AUTOINSTALL), or remove it again.  Not root: runs itself by sudo.
#
# Usage: scripts/dkms.sh install [KVER...] | remove | status
#   install  copy dkms.conf, drivers/ and include/ to
#            /usr/src/edu-rng-<version>/, then dkms add, build and install
#            for each KVER (default: $KVER when set, else the running kernel
#            when its headers are installed, else Debian's default kernel).
#            Run again with the same sources it does nothing; with changed
#            sources it replaces the registration.
#   remove   dkms remove edu-rng/<version> from all kernels, delete its
#            sources; nothing to remove is no error
#   status   dkms status of edu-rng
#
# DKMS_SOURCE_TREE (/usr/src), DKMS_TREE (/var/lib/dkms) and
# DKMS_INSTALL_TREE (/lib/modules) move DKMS's trees, for tests: with a
# scratch install tree depmod is skipped, with a scratch DKMS tree the
# signing key (Debian's dkms signs modules) is made there.  Kernels without
# installed headers build against Debian's headers unpacked into the cache
# (scripts/fetch-headers.sh).
set -eu
# KVER as given, before common.sh resolves or defaults it
USER_KVER=${KVER-}
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

NAME=edu-rng
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf")
[ -n "$VERSION" ] || die "no PACKAGE_VERSION in dkms.conf"
SRC_TREE=${DKMS_SOURCE_TREE:-/usr/src}
DKMS_TREE=${DKMS_TREE:-/var/lib/dkms}
INSTALL_TREE=${DKMS_INSTALL_TREE:-/lib/modules}
SRC=$SRC_TREE/$NAME-$VERSION

usage() {
	sed -n '4,21p' "$0" | sed 's/^# \{0,1\}//'
}

# Root, or sudo, when a tree is not ours to write.
need_root() {
	local d
	[ "$(id -u)" -ne 0 ] || return 0
	for d in "$SRC_TREE" "$DKMS_TREE" "$INSTALL_TREE"; do
		mkdir -p "$d" 2>/dev/null || true
		if [ ! -w "$d" ]; then
			command -v sudo >/dev/null || die "need root or sudo to write $d"
			exec sudo env KVER="$USER_KVER" EDU_RNG_CACHE="$CACHE" \
				DKMS_SOURCE_TREE="$SRC_TREE" DKMS_TREE="$DKMS_TREE" \
				DKMS_INSTALL_TREE="$INSTALL_TREE" "$0" "$@"
		fi
	done
}

dkms_cmd() {
	dkms "$@" --sourcetree "$SRC_TREE" --dkmstree "$DKMS_TREE" \
		--installtree "$INSTALL_TREE" "${EXTRA_ARGS[@]}"
}

# Print edu-rng/$VERSION's state for kernel $1: built, installed or nothing.
state_for() {
	dkms_cmd status -m "$NAME" -v "$VERSION" -k "$1" 2>/dev/null |
		sed -n 's/.*: \(built\|installed\).*/\1/p' | head -n1
}

# Drop the registration (all kernels) and the sources.
remove() {
	if [ -d "$DKMS_TREE/$NAME/$VERSION" ]; then
		dkms_cmd remove -m "$NAME" -v "$VERSION" --all
	fi
	rm -rf "$SRC"
	# dkms leaves an empty $DKMS_TREE/edu-rng behind
	rmdir "$DKMS_TREE/$NAME" 2>/dev/null || true
}

# The kernels to install for, from the arguments or the defaults.
kernels() {
	if [ $# -gt 0 ]; then
		KERNELS=("$@")
	elif [ -n "$USER_KVER" ]; then
		KERNELS=("$KVER")
	elif [ -f "/lib/modules/$(uname -r)/build/Makefile" ]; then
		KERNELS=("$(uname -r)")
	else
		KERNELS=("$KVER")
	fi
}

install() {
	local stage k r kd kargs action
	kernels "$@"
	stage=$(mktemp -d)
	trap 'rm -rf "$stage"' EXIT
	cp "$TOP/dkms.conf" "$stage/"
	module_sources | (cd "$TOP" && cpio --quiet -pdm "$stage")
	if [ -f "$SRC/dkms.conf" ] && diff -qr "$stage" "$SRC" >/dev/null; then
		echo "dkms: $SRC is up to date"
	else
		remove
		cp -r "$stage" "$SRC"
		chmod 755 "$SRC"
	fi
	rm -rf "$stage"
	trap - EXIT
	[ -d "$DKMS_TREE/$NAME/$VERSION" ] || dkms_cmd add -m "$NAME" -v "$VERSION"
	for k in "${KERNELS[@]}"; do
		r=$(resolve_kver "$k")
		action=install
		if [ ! -d "$INSTALL_TREE/$r" ]; then
			echo "dkms: kernel $r is not installed here: build only"
			action=build
		fi
		case $action:$(state_for "$r") in
		install:installed | build:built | build:installed)
			echo "dkms: $NAME/$VERSION for $r is up to date"
			continue
			;;
		esac
		kargs=()
		if [ ! -f "/lib/modules/$r/build/Makefile" ]; then
			kd=$(KVER=$r && use_headers && echo "$KDIR") || die "no headers for $r"
			kargs=(--kernelsourcedir "$kd")
		fi
		dkms_cmd "$action" -m "$NAME" -v "$VERSION" -k "$r" "${kargs[@]}"
	done
}

EXTRA_ARGS=()
[ "$INSTALL_TREE" = /lib/modules ] || EXTRA_ARGS+=(--no-depmod)
if [ "$DKMS_TREE" != /var/lib/dkms ]; then
	export mok_signing_key=$DKMS_TREE/mok.key mok_certificate=$DKMS_TREE/mok.pub
fi

case ${1-} in
install | remove | status) ;;
-h | --help) usage; exit 0 ;;
*) usage >&2; exit 2 ;;
esac
"$TOP/scripts/deps.sh" dkms cpio
need_root "$@"
mkdir -p "$SRC_TREE" "$DKMS_TREE" "$INSTALL_TREE"
cmd=$1
shift
case $cmd in
install) install "$@" ;;
remove) [ $# -eq 0 ] || die "remove takes no kernel"; remove ;;
status) dkms_cmd status -m "$NAME" ;;
esac
