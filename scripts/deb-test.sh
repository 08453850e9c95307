#!/bin/bash
# The deb suite of make check, one TAP line per check: make deb, lintian,
# the packages' contents and hardening; then, in a scratch Debian 12 root,
# installing a previous version (<version>~prev, built here), upgrading to
# this one, a kernel's headers arriving, removing and purging.
#
# Usage: scripts/deb-test.sh   (root, or sudo)
#
# The scratch root is an overlay on a bookworm minbase made by mmdebstrap
# with dkms and linux-headers-amd64 (the module is really built, by DKMS,
# in the root's maintainer scripts), cached in
# $EDU_RNG_CACHE/deb-root/bookworm-<hash of the recipe>/ (about 600 MB,
# 1-2 minutes to make); the overlay's upper layer shows what the packages
# leave behind.  The root looks like a booted system whose running kernel
# (the host's) has no headers: /lib/modules/$(uname -r) exists, so dkms's
# common.postinst takes the path of a real system, not of a chroot.  The
# host's dpkg, DKMS and /lib/modules are not touched.  Logs: build/deb-test/.
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "need root or sudo (chroot, mounts)"
	exec sudo env EDU_RNG_CACHE="$CACHE" ${KVER:+KVER="$KVER"} "$0" "$@"
fi
# a mount namespace of our own: the overlay and the root's /proc, /sys and
# /dev go away with us, whatever happens
if [ -z "${EDU_RNG_DEB_NS-}" ]; then
	"$TOP/scripts/deps.sh" mmdebstrap util-linux
	EDU_RNG_DEB_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

VERSION=$(make -s -C "$TOP" version)
PREV=$VERSION~prev
DEB=$BUILD/deb
LOG=$BUILD/deb-test
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
ROOT_PKGS=dkms,linux-headers-amd64
# bump when the recipe of the root changes
ROOT_RECIPE=2

T=$(mktemp -d)
R=$T/root
UP=$T/upper
# the root's mounts first; rm never crosses into a mount
trap 'umount -R "$R" 2>/dev/null || umount -R -l "$R" 2>/dev/null; rm -rf --one-file-system "$T"' EXIT
mkdir -p "$LOG"

step() {
	local t0=$SECONDS
	tap_run "$@"
	echo "# $((SECONDS - t0)) s"
}

# ----- the packages
#
# The checks run in tap_run's command substitution, where set -e does not
# hold: each command that matters ends in || return 1, or is the last.

make_deb() {
	make -s -C "$TOP" deb || return 1
	[ -f "$DEB/edu-rng-dkms_${VERSION}_all.deb" ] &&
		[ -f "$DEB/edu-rng-tools_${VERSION}_amd64.deb" ] &&
		[ -f "$DEB/edu-rng_${VERSION}_amd64.changes" ]
}

# make deb leaves the source tree as it was (debian/changelog is made in
# the copy under build/deb/)
tree_clean() {
	git -C "$TOP" status --porcelain >"$T/status.after" 2>/dev/null || true
	diff "$T/status.before" "$T/status.after"
}

lintian_clean() {
	local out rc=0
	out=$(lintian --pedantic --display-info --show-overrides --fail-on error,warning \
		"$DEB/edu-rng_${VERSION}_amd64.changes" 2>&1) || rc=$?
	out=$(printf '%s\n' "$out" | grep -v '^running with root privileges' || true)
	printf '%s\n' "$out" >"$LOG/lintian.txt"
	[ $rc -eq 0 ] || { echo "$out"; return 1; }
}

lintian_summary() {
	local n
	n=$(grep -cE '^[EWIPXO]: ' "$LOG/lintian.txt" || true)
	echo "# lintian --pedantic --display-info --show-overrides: $n tags"
	grep -E '^[EWIPXO]: ' "$LOG/lintian.txt" | sed 's/^/#   /' || true
}

unpack() {
	rm -rf "$T/x-$1"
	dpkg-deb -x "$DEB/$1_${VERSION}_$2.deb" "$T/x-$1"
}

# the sources where dkms.conf and the module's Makefiles expect them
dkms_contents() {
	local d=$T/x-edu-rng-dkms/usr/src/edu-rng-$VERSION f
	unpack edu-rng-dkms all || return 1
	for f in $(module_sources); do
		cmp "$TOP/$f" "$d/$f" || return 1
	done
	grep -qx "PACKAGE_VERSION=\"$VERSION\"" "$d/dkms.conf" || { echo "dkms.conf: version"; return 1; }
	grep -qx 'AUTOINSTALL="yes"' "$d/dkms.conf" || { echo "dkms.conf: no AUTOINSTALL"; return 1; }
	dpkg-deb -f "$DEB/edu-rng-dkms_${VERSION}_all.deb" Depends | grep -q '^dkms' ||
		{ echo "no Depends: dkms"; return 1; }
	# the module builds from that tree alone (against the host's headers)
	cp -r "$d" "$T/build-dkms" || return 1
	make -s -C "$T/build-dkms/drivers" KVER="$KVER" >/dev/null || return 1
	[ "$(modinfo -F vermagic "$T/build-dkms/drivers/edu-rng.ko" | cut -d' ' -f1)" = "$KVER" ]
}

tools_contents() {
	local x=$T/x-edu-rng-tools f
	unpack edu-rng-tools amd64 || return 1
	cmp "$TOP/udev/60-edu-rng.rules" "$x/lib/udev/rules.d/60-edu-rng.rules" || return 1
	for f in usr/bin/edu-rng usr/bin/lab-rng usr/share/man/man1/edu-rng.1.gz \
		usr/share/man/man1/lab-rng.1.gz usr/share/doc/edu-rng-tools/copyright \
		usr/share/doc/edu-rng-tools/README.md.gz \
		usr/share/doc/edu-rng-tools/sysfs-bus-pci-drivers-edu-rng; do
		[ -e "$x/$f" ] || { echo "missing /$f"; return 1; }
	done
	# the user's documents; not the developers' (make check, bench, packaging)
	for f in admin-guide design ecosystem edu-rng-device; do
		[ -e "$x/usr/share/doc/edu-rng-tools/$f.rst" ] ||
			[ -e "$x/usr/share/doc/edu-rng-tools/$f.rst.gz" ] ||
			{ echo "missing doc $f.rst"; return 1; }
	done
	for f in testing bench packaging upstream; do
		! compgen -G "$x/usr/share/doc/edu-rng-tools/$f.rst*" >/dev/null ||
			{ echo "developer doc $f.rst shipped"; return 1; }
	done
}

# dynamically linked, PIE, full RELRO, stack protector, fortified calls
hardening() {
	local b f
	for b in edu-rng lab-rng; do
		f=$T/x-edu-rng-tools/usr/bin/$b
		readelf -lW "$f" | grep -q 'Requesting program interpreter' || { echo "$b: static"; return 1; }
		readelf -hW "$f" | grep -q 'Type:.*DYN' || { echo "$b: not PIE"; return 1; }
		readelf -lW "$f" | grep -q GNU_RELRO || { echo "$b: no RELRO"; return 1; }
		readelf -dW "$f" | grep -qE 'BIND_NOW|FLAGS_1.*NOW' || { echo "$b: no BIND_NOW"; return 1; }
		readelf -sW --dyn-syms "$f" | grep -q '__stack_chk_fail' || { echo "$b: no stack protector"; return 1; }
		readelf -sW --dyn-syms "$f" | grep -qE '__[a-z]+_chk\b' || { echo "$b: no fortified call"; return 1; }
	done
}

make_prev() {
	"$TOP/scripts/deb.sh" --version "$PREV" "$T/prev" >/dev/null
}

# ----- the scratch root

# Where the cached root of this recipe is.
root_dir() {
	echo "$CACHE/deb-root/$SUITE-$(hash_inputs "recipe $ROOT_RECIPE" "$SUITE" "$MIRROR" \
		"$SECURITY" "$ROOT_PKGS")"
}

# The bookworm minbase with dkms and linux-headers-amd64, and the .deb of
# the kernel's headers (the headers test reinstalls it offline), in $BASE.
base_root() {
	local tmp=$BASE.tmp k
	[ ! -d "$BASE" ] || return 0
	rm -rf "$tmp"
	mkdir -p "$CACHE/deb-root" || return 1
	mmdebstrap --quiet --variant=minbase --include="$ROOT_PKGS" "$SUITE" "$tmp" \
		"deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
		"deb $SECURITY $SUITE-security main" >"$LOG/mmdebstrap.log" 2>&1 ||
		{ tail -n 20 "$LOG/mmdebstrap.log"; return 1; }
	k=$(find "$tmp/usr/src" -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' | head -n1)
	[ -n "$k" ] || { echo "no linux-headers-*-amd64 in the root"; return 1; }
	# apt's lists (mmdebstrap drops them) and the headers' .deb stay in
	# the root: the tests then install offline
	cp /etc/resolv.conf "$tmp/etc/resolv.conf" || return 1
	{ chroot "$tmp" apt-get -qq update &&
		chroot "$tmp" apt-get -qq -y --reinstall --download-only install "$k"; } \
		>>"$LOG/mmdebstrap.log" 2>&1 || { tail -n 20 "$LOG/mmdebstrap.log"; return 1; }
	ls "$tmp/var/cache/apt/archives/$k"_*.deb >/dev/null || return 1
	: >"$tmp/etc/resolv.conf"
	mv "$tmp" "$BASE" || return 1
	# older recipes' roots
	find "$CACHE/deb-root" -mindepth 1 -maxdepth 1 -name "$SUITE-*" ! -path "$BASE" \
		-exec rm -rf {} +
}

# The kernel whose headers the root has: 6.1.0-57-amd64
root_kernel() {
	local k
	k=$(find "$BASE/usr/src" -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' | head -n1)
	echo "${k#linux-headers-}"
}

# The overlay root, set up as a booted system: /proc, /sys, /dev/pts, DNS
# (its /dev has the nodes mmdebstrap made),
# the running kernel's (empty) modules directory, the headers' kernel
# with its depmod index as if its image were installed; the packages in
# /tmp/debs.  The baseline for what purge must leave is taken here.
setup_root() {
	mkdir -p "$R" "$UP" "$T/work" || return 1
	mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$UP,workdir=$T/work" "$R" || return 1
	mount -t proc proc "$R/proc" &&
		mount -t sysfs sysfs "$R/sys" &&
		mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts" &&
		cp /etc/resolv.conf "$R/etc/resolv.conf" || return 1
	mkdir -p "$R/lib/modules/$(uname -r)" || return 1
	in_root depmod -a "$RK" || return 1
	mkdir -p "$R/tmp/debs" &&
		cp "$T"/prev/*.deb "$DEB"/*_"$VERSION"_*.deb "$R/tmp/debs/" || return 1
	snapshot >"$T/baseline"
}

in_root() {
	chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# apt-get in the root, its output in the log ($1: the step's name)
apt_root() {
	local name=$1 rc=0
	shift
	in_root apt-get -y --no-install-recommends "$@" >"$LOG/$name.log" 2>&1 || rc=$?
	[ $rc -eq 0 ] || { tail -n 30 "$LOG/$name.log"; return 1; }
}

# What the upper layer holds, less package-manager state, logs and caches,
# less what is only copied up (directories, files the same as below: the
# headers step reinstalls linux-headers-$RK, whose tree is left out
# whole, to be quick): the root's files the packages made, changed
# (checksum) or deleted (whiteouts).
snapshot() {
	local rk=${RK//./\\.}
	(cd "$UP" && find . -mindepth 1 \( -type c -printf 'deleted %p\n' \) -o \
		\( -type d -printf 'dir %p\n' \) -o \( -type l -printf 'link %p\n' \) -o \
		\( -type f -printf 'file %p\n' \)) |
		grep -vE ' \./(var/lib/(dpkg|apt)|var/cache|var/log|tmp|run|etc/resolv\.conf)(/|$)' |
		grep -vE " \./(usr/src/linux-headers-$rk|lib/modules/$rk/(build|source))(/|\$)" |
		sort | while read -r kind p; do
		case $kind in
		dir) [ -d "$BASE/$p" ] || echo "new dir $p" ;;
		file) cmp -s "$UP/$p" "$BASE/$p" || echo "file $p $(md5sum <"$UP/$p" | cut -c1-32)" ;;
		link) echo "link $p -> $(readlink "$UP/$p")" ;;
		*) echo "$kind $p" ;;
		esac
	done
}

# dkms status of edu-rng is exactly $1 (lines, may be empty)
dkms_is() {
	local st
	st=$(in_root dkms status -m edu-rng 2>&1)
	[ "$st" = "$1" ] || { echo "dkms status: '$st', want '$1'"; return 1; }
}

# the module DKMS installed for the root's kernel, built for it, indexed
module_in_root() {
	local ko v
	ko=$(cd "$R" && find "lib/modules/$RK/updates/dkms" -name 'edu-rng.ko*' 2>/dev/null | head -n1)
	[ -n "$ko" ] || { echo "no edu-rng.ko in /lib/modules/$RK/updates/dkms"; return 1; }
	v=$(in_root modinfo -F vermagic "/$ko" | cut -d' ' -f1)
	[ "$v" = "$RK" ] || { echo "/$ko: vermagic '$v'"; return 1; }
	grep -q "updates/dkms/edu-rng.ko" "$R/lib/modules/$RK/modules.dep" ||
		{ echo "edu-rng not in modules.dep"; return 1; }
}

# package $1 is installed, version $2
installed_version() {
	local st
	st=$(in_root dpkg-query -W -f "\${Version} \${db:Status-Abbrev}" "$1")
	[ "$st" = "$2 ii " ] || { echo "$1: '$st', want '$2 ii '"; return 1; }
}

install_prev() {
	apt_root install-prev install "/tmp/debs/edu-rng-dkms_${PREV}_all.deb" \
		"/tmp/debs/edu-rng-tools_${PREV}_amd64.deb" || return 1
	installed_version edu-rng-dkms "$PREV" &&
		installed_version edu-rng-tools "$PREV" &&
		dkms_is "edu-rng/$PREV, $RK, x86_64: installed" &&
		module_in_root || return 1
	[ "$(in_root edu-rng --version)" = "edu-rng $PREV" ]
}

upgrade() {
	apt_root upgrade install "/tmp/debs/edu-rng-dkms_${VERSION}_all.deb" \
		"/tmp/debs/edu-rng-tools_${VERSION}_amd64.deb" || return 1
	installed_version edu-rng-dkms "$VERSION" &&
		installed_version edu-rng-tools "$VERSION" &&
		dkms_is "edu-rng/$VERSION, $RK, x86_64: installed" || return 1
	if [ -e "$R/usr/src/edu-rng-$PREV" ] || [ -e "$R/var/lib/dkms/edu-rng/$PREV" ]; then
		echo "$PREV left in /usr/src or /var/lib/dkms"
		return 1
	fi
	module_in_root || return 1
	for f in $(module_sources); do
		cmp "$R/usr/src/edu-rng-$VERSION/$f" "$TOP/$f" || return 1
	done
	[ "$(in_root edu-rng --version)" = "edu-rng $VERSION" ] || { echo "edu-rng --version"; return 1; }
	# no device here: lab-rng says which node it could not open
	in_root lab-rng -n 1 2>&1 | grep -q '^/dev/edu-rng0: ' || { echo "lab-rng"; return 1; }
	cmp "$R/lib/udev/rules.d/60-edu-rng.rules" "$TOP/udev/60-edu-rng.rules"
}

# A kernel's headers arriving (here: reinstalled, with the module taken
# off that kernel first) get the module: the headers' postinst hook
# (dkms autoinstall) and AUTOINSTALL="yes" of dkms.conf.
new_headers() {
	in_root dkms unbuild -m edu-rng -v "$VERSION" -k "$RK" >"$LOG/unbuild.log" 2>&1 ||
		{ cat "$LOG/unbuild.log"; return 1; }
	dkms_is "edu-rng/$VERSION: added" || return 1
	[ -z "$(cd "$R" && find "lib/modules/$RK" -name 'edu-rng.ko*')" ] ||
		{ echo "module still there after dkms unbuild"; return 1; }
	apt_root new-headers install --reinstall "linux-headers-$RK" &&
		dkms_is "edu-rng/$VERSION, $RK, x86_64: installed" &&
		module_in_root
}

# not installed: unknown to dpkg, or only its configuration left (rc)
not_installed() {
	local p st
	for p in edu-rng-dkms edu-rng-tools; do
		st=$(in_root dpkg-query -W -f "\${db:Status-Abbrev}" "$p" 2>/dev/null) || st=
		case $st in
		'' | un* | pn* | rc*) ;;
		*) echo "$p: '$st'"; return 1 ;;
		esac
	done
}

remove() {
	local left
	apt_root remove remove edu-rng-dkms edu-rng-tools && not_installed && dkms_is "" || return 1
	left=$(cd "$R" && find lib/modules usr/src var/lib/dkms usr/bin lib/udev usr/share/doc \
		usr/share/man \( -name 'edu-rng*' -o -name 'lab-rng*' -o -name '60-edu-rng*' \) 2>/dev/null)
	[ -z "$left" ] || { echo "left after remove: $left"; return 1; }
}

# The packages have no conffile, so remove already left nothing for dpkg
# to keep (apt would not know them any more): dpkg --purge, which says
# so, then nothing may be left.
purge() {
	local left p st
	in_root dpkg --purge edu-rng-dkms edu-rng-tools >"$LOG/purge.log" 2>&1 ||
		{ cat "$LOG/purge.log"; return 1; }
	for p in edu-rng-dkms edu-rng-tools; do
		st=$(in_root dpkg-query -W -f "\${db:Status-Abbrev}" "$p" 2>/dev/null) || st=
		case $st in
		'' | un* | pn*) ;;
		*) echo "$p: '$st' after purge"; return 1 ;;
		esac
	done
	# dkms's signing key, made at the first build, is dkms's (kept for
	# every module it signs), not the package's
	left=$(diff "$T/baseline" <(snapshot) | grep '^[<>]' |
		grep -vE ' \./var/lib/dkms/mok\.(key|pub)( |$)|^> new dir \./var/lib/dkms$' || true)
	printf '%s\n' "$left" >"$LOG/leftovers.txt"
	[ -z "$left" ] || { echo "changed since before the install (< before, > now; all in $LOG/leftovers.txt):"; echo "$left"; return 1; }
}

echo "TAP version 13"
git -C "$TOP" status --porcelain >"$T/status.before" 2>/dev/null || true
step "make deb: edu-rng-dkms, edu-rng-tools, .changes of $VERSION" make_deb
step "make deb leaves the source tree as it was" tree_clean
step "lintian --pedantic on the .changes: no error, no warning" lintian_clean
lintian_summary
step "edu-rng-dkms: dkms.conf ($VERSION, AUTOINSTALL) and the module's sources, which build for $KVER" \
	dkms_contents
step "edu-rng-tools: edu-rng, lab-rng, man pages, udev rule in /lib/udev/rules.d, docs" tools_contents
step "edu-rng, lab-rng: dynamic, PIE, RELRO, BIND_NOW, stack protector, fortified" hardening
step "a previous version $PREV builds" make_prev
BASE=$(root_dir)
[ -d "$BASE" ] && echo "# scratch root: cached $BASE" || echo "# scratch root: making $BASE"
step "scratch root: bookworm minbase, dkms, linux-headers-amd64" base_root
# the root's steps need both versions' packages and the root
failed=$TAP_FAILED
if [ -d "$BASE" ] && ls "$T/prev/"*.deb "$DEB/"*_"$VERSION"_*.deb >/dev/null 2>&1; then
	RK=$(root_kernel)
	echo "# root's kernel: $RK (running: $(uname -r), no headers)"
	step "scratch root set up: overlay, /proc, /sys, /dev/pts, depmod index of $RK" setup_root
fi
if [ "$TAP_FAILED" -eq "$failed" ] && [ -n "${RK-}" ]; then
	step "install $PREV: DKMS builds and installs the module for $RK" install_prev
	step "upgrade to $VERSION: module rebuilt, $PREV gone from DKMS and /usr/src" upgrade
	step "linux-headers-$RK installed again: DKMS builds the module for it" new_headers
	step "remove: no module, no DKMS registration, no program, rule or doc" remove
	step "purge: nothing left behind, nothing of the root changed" purge
fi
tap_end
