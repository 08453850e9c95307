#!/bin/bash
# The dkms suite of make check, one TAP line per check: scripts/dkms.sh
# (what make dkms-install / dkms-remove run) in scratch DKMS trees for each
# kernel given, so the host's /usr/src, /var/lib/dkms and /lib/modules stay
# as they are; then make install / make uninstall into a scratch DESTDIR.
# Usage: scripts/install-test.sh KVER...   (default: $KVER)
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

conf() {
	sed -n "s/^$1=\"\\(.*\\)\"\$/\\1/p" "$TOP/dkms.conf"
}

dkms_conf() {
	[ "$(conf PACKAGE_NAME)" = edu-rng ] &&
		[ "$(conf 'BUILT_MODULE_NAME\[0\]')" = edu-rng ] &&
		[ "$(conf 'BUILT_MODULE_LOCATION\[0\]')" = drivers/ ] &&
		[ "$(conf AUTOINSTALL)" = yes ] &&
		[ -n "$(conf PACKAGE_VERSION)" ] &&
		[ "$(conf PACKAGE_VERSION)" = "$(make -s -C "$TOP" version)" ]
}

host_state() {
	ls -la /usr/src /var/lib/dkms 2>&1
	find /lib/modules -name 'edu-rng.ko*' 2>/dev/null
}

dkms_install() {
	local out
	out=$("$TOP/scripts/dkms.sh" install "$@" 2>&1) || {
		echo "$out"
		# the compiler's complaint, from DKMS's log
		grep -hE 'error|Error' "$DKMS_TREE"/edu-rng/*/build/make.log 2>/dev/null | head -n 5
		return 1
	}
}

# The module DKMS installed for kernel $1, built for it.
dkms_module() {
	local ko v
	ko=$(find "$DKMS_INSTALL_TREE/$1/updates/dkms" -name 'edu-rng.ko*' 2>/dev/null | head -n1)
	[ -n "$ko" ] || { echo "no edu-rng.ko* in $DKMS_INSTALL_TREE/$1/updates/dkms"; return 1; }
	v=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	[ "$v" = "$1" ] || { echo "$ko: vermagic '$v'"; return 1; }
}

# A second install with the same sources builds nothing.
dkms_again() {
	local out
	out=$("$TOP/scripts/dkms.sh" install "$@" 2>&1) || { echo "$out"; return 1; }
	! printf '%s\n' "$out" | grep -i 'building module' || { echo "$out"; return 1; }
}

dkms_status() {
	local k st
	st=$("$TOP/scripts/dkms.sh" status)
	for k in "$@"; do
		printf '%s\n' "$st" | grep -qF "edu-rng/$(conf PACKAGE_VERSION), $k, x86_64: installed" ||
			{ echo "$st"; return 1; }
	done
}

dkms_remove() {
	local left
	"$TOP/scripts/dkms.sh" remove >/dev/null
	"$TOP/scripts/dkms.sh" remove >/dev/null
	left=$(find "$DKMS_SOURCE_TREE" "$DKMS_TREE" "$DKMS_INSTALL_TREE" -name 'edu-rng*')
	[ -z "$left" ] || { echo "left behind: $left"; return 1; }
}

# The files make install puts under DESTDIR, relative to it.
expected_files() {
	local f
	echo "lib/modules/$KVER/updates/edu-rng.ko"
	echo "etc/udev/rules.d/60-edu-rng.rules"
	for f in "$TOP"/Documentation/*.rst README.md VERSION; do
		echo "usr/share/doc/edu-rng/${f##*/}"
	done
	[ ! -f "$BUILD/user/edu-rng" ] && [ ! -f "$TOP/user/edu-rng" ] || echo usr/bin/edu-rng
	[ ! -f "$TOP/user/edu-rng.1" ] || echo usr/share/man/man1/edu-rng.1
}

make_install() {
	local d=$T/destdir got
	make -s -C "$TOP" install DESTDIR="$d" PREFIX=/usr >/dev/null
	got=$(cd "$d" && find . -type f -o -type l | sed 's|^\./||' | sort)
	diff <(expected_files | sort) <(echo "$got")
	[ "$(modinfo -F vermagic "$d/lib/modules/$KVER/updates/edu-rng.ko" | cut -d' ' -f1)" = "$KVER" ]
	cmp "$d/etc/udev/rules.d/60-edu-rng.rules" "$TOP/udev/60-edu-rng.rules"
	[ "$(cat "$d/usr/share/doc/edu-rng/VERSION")" = "$(conf PACKAGE_VERSION)" ]
	[ ! -f "$BUILD/user/edu-rng" ] || [ -x "$d/usr/bin/edu-rng" ]
}

make_uninstall() {
	local d=$T/destdir left
	make -s -C "$TOP" uninstall DESTDIR="$d" PREFIX=/usr >/dev/null
	left=$(find "$d" -type f -o -type l)
	[ -z "$left" ] || { echo "left behind: $left"; return 1; }
}

# The rule names the misc devices edu-rng0.. and makes them 0444 root:root.
udev_rule() {
	local r=$TOP/udev/60-edu-rng.rules
	grep -E '^SUBSYSTEM=="misc", KERNEL=="edu-rng\[0-9\]\*",' "$r" | grep 'MODE="0444"' |
		grep 'OWNER="root"' | grep -q 'GROUP="root"'
}

[ $# -gt 0 ] || set -- "$KVER"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export DKMS_SOURCE_TREE=$T/src DKMS_TREE=$T/dkms DKMS_INSTALL_TREE=$T/modules
for k in "$@"; do
	# as if the kernel were installed: DKMS installs only there
	mkdir -p "$DKMS_INSTALL_TREE/$k"
done
before=$(host_state)

echo "TAP version 13"
tap_run "dkms.conf: edu-rng, drivers/edu-rng.ko, AUTOINSTALL, version = make version" dkms_conf
tap_run "dkms add, build, install for $*" dkms_install "$@"
for k in "$@"; do
	tap_run "DKMS installed updates/dkms/edu-rng.ko for $k" dkms_module "$k"
done
tap_run "dkms status: installed for $*" dkms_status "$@"
tap_run "dkms-install again: nothing rebuilt" dkms_again "$@"
tap_run "dkms-remove (twice): nothing left in the DKMS trees" dkms_remove
tap_run "host's /usr/src, /var/lib/dkms and /lib/modules untouched" \
	test "$before" = "$(host_state)"
tap_run "udev rule: /dev/edu-rng* 0444 root:root" udev_rule
tap_run "make install DESTDIR: module, udev rule, docs, CLI when present" make_install
tap_run "make uninstall DESTDIR: no file left" make_uninstall
tap_end
