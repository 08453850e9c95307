# shellcheck shell=bash
# Shared settings for edu-rng scripts.  Source it; it defines:
#   TOP      the work tree
#   CACHE    where expensive outputs live, outside the work tree
#   KVER     kernel release the module is built for and the guest boots: a
#            release (6.1.0-56-amd64) or a series (6.12 -> its newest
#            release); default: Debian's, the one linux-headers-amd64 names
#   BUILD    build outputs inside the work tree (git-ignored)

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${EDU_RNG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edu-rng}
BUILD=${EDU_RNG_BUILD:-$TOP/build}

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# Release of the kernel whose headers an installed meta-package pulls in:
# linux-headers-amd64 -> 6.1.0-56-amd64.
meta_kver() {
	dpkg-query -W -f '${db:Status-Status} ${Depends}\n' "$1" 2>/dev/null |
		sed -n 's/^installed linux-headers-\([^ ,]*\).*/\1/p'
}

# Debian's default kernel: the one linux-headers-amd64 depends on (installed
# first when missing), else the newest installed linux-headers-*-amd64.
default_kver() {
	local rel
	rel=$(meta_kver linux-headers-amd64)
	if [ -z "$rel" ]; then
		rel=$(find /usr/src -maxdepth 1 -name 'linux-headers-*-amd64' |
			sed 's|.*/linux-headers-||' | sort -V | tail -n1)
	fi
	if [ -z "$rel" ]; then
		"$TOP/scripts/deps.sh" linux-headers-amd64 >&2
		rel=$(meta_kver linux-headers-amd64)
	fi
	[ -n "$rel" ] || die "no linux-headers-*-amd64 installed (run scripts/deps.sh)"
	echo "$rel"
}

# Run a command as root: directly, or through sudo.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

# Make sure apt has bookworm-backports (a deb822 file of ours when no
# source names it), then refresh the lists.
add_backports() {
	local list=/etc/apt/sources.list.d/edu-rng-backports.sources suite
	suite=$(. /etc/os-release && echo "$VERSION_CODENAME")-backports
	grep -rqsE -- "^[^#]*\b$suite\b" /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
	echo "${0##*/}: adding $suite ($list)" >&2
	as_root tee "$list" >/dev/null <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	as_root apt-get update -qq >&2
}

# The newest amd64 release of kernel series $1 (6.12) that apt can fetch:
# the one its meta-package linux-image-$1-amd64 depends on (bookworm-security
# carries linux-6.12 so), else the newest linux-image-$1.*-amd64 with a
# candidate (bookworm-backports).
apt_series_kver() {
	local s=$1 rel n
	rel=$(apt-cache show --no-all-versions "linux-image-$s-amd64" 2>/dev/null |
		sed -n 's/^Depends: linux-image-\([^ ,]*-amd64\)[ ,].*/\1/p' | head -n1)
	if [ -z "$rel" ]; then
		for n in $(apt-cache pkgnames "linux-image-$s." |
			grep -E "^linux-image-${s//./\\.}\.[0-9]+[^-]*-amd64\$" | sort -rV); do
			if apt-cache policy "$n" | grep -q 'Candidate: [0-9]'; then
				rel=${n#linux-image-}
				break
			fi
		done
	fi
	echo "$rel"
}

# KVER as a full release: a series (6.12) becomes its newest release; when
# apt's lists have none, they are refreshed, then bookworm-backports is
# added, and failing that the newest release of it in the cache is used.
resolve_kver() {
	local v=$1 rel
	case $v in
	'') default_kver; return ;;
	*[!0-9.]* | *.*.*) echo "$v"; return ;;
	*.*) ;;
	*) die "KVER=$v: want a release (6.1.0-56-amd64) or a series (6.12)" ;;
	esac
	rel=$(apt_series_kver "$v")
	if [ -z "$rel" ]; then
		as_root apt-get update -qq >&2 || true
		rel=$(apt_series_kver "$v")
	fi
	if [ -z "$rel" ]; then
		add_backports
		rel=$(apt_series_kver "$v")
	fi
	if [ -z "$rel" ]; then
		rel=$(find "$CACHE/kernel" -maxdepth 1 -name "$v.*-amd64" 2>/dev/null |
			sed 's|.*/||' | sort -V | tail -n1)
	fi
	[ -n "$rel" ] || die "no linux-image-$v.*-amd64 in apt's sources"
	echo "$rel"
}

# The kernel series of a release: 6.12.117+deb12-amd64 -> 6.12.
kver_series() {
	echo "$1" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/'
}

KVER=$(resolve_kver "${KVER-}")
export TOP CACHE BUILD KVER

# Set and export KDIR, the kernel build directory for $KVER: the installed
# headers, else Debian's headers packages unpacked into the cache.
use_headers() {
	if [ -f "/lib/modules/$KVER/build/Makefile" ]; then
		KDIR=/lib/modules/$KVER/build
	elif [ -f "/usr/src/linux-headers-$KVER/Makefile" ]; then
		KDIR=/usr/src/linux-headers-$KVER
	else
		KDIR=$("$TOP/scripts/fetch-headers.sh") || die "no headers for $KVER"
	fi
	export KDIR
}

# sha256 of the named files' contents and names, plus any extra words.
hash_inputs() {
	local f
	for f in "$@"; do
		if [ -f "$f" ]; then
			printf '%s\n' "${f#"$TOP"/}"
			sha256sum <"$f"
		else
			printf 'word:%s\n' "$f"
		fi
	done | sha256sum | cut -c1-16
}

# Render manual page $1 (troff, or troff gzip'd) to plain text in $2, 78
# columns, for the guest's man (guest/man), which has no troff.
render_man() {
	mkdir -p "$(dirname "$2")"
	zcat -f "$1" | groff -t -man -Tascii -P-cbou -rLL=78n -rLT=78n | cat -s >"$2"
	[ -s "$2" ] || die "could not render $1 (groff)"
}

# The module's sources, relative to $TOP: what a build outside drivers/
# (scripts/module.sh DIR, DKMS) needs.
module_sources() {
	(cd "$TOP" && printf '%s\n' drivers/Kbuild drivers/Makefile drivers/*.[ch] &&
		find include -name '*.h' 2>/dev/null) | grep -v '\.mod\.c$' | sort
}

# Copy the module's sources into $1, each only when it differs.
copy_sources() {
	local f
	while read -r f; do
		[ -f "$TOP/$f" ] || continue
		mkdir -p "$1/$(dirname "$f")"
		cmp -s "$TOP/$f" "$1/$f" || cp "$TOP/$f" "$1/$f"
	done < <(module_sources)
}

# Our own apt, for what bookworm lacks: newer QEMU sources (sid, trixie;
# qemu/build-qemu.sh), meson (bookworm-backports) and linux-source-7.2
# (sid; guest/build-kernel.sh).  Its sources list, lists and archives live
# under $CACHE/apt; the host's apt sources are never touched.  One list for
# all its users, so that none rewrites the others' lists.
CAPT_SOURCES="deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security trixie-security main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main"

# capt CMD ARG...: apt-get/apt-cache CMD with our apt's sources, lists and
# archives.
capt() {
	local a=$CACHE/apt cmd=$1
	shift
	"$cmd" -o Dir::Etc::sourcelist="$a/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" \
		-o APT::Sandbox::User=root "$@"
}

# Refresh our lists when older than a day (or missing, or the sources
# changed); when that fails, go on with what is there.  One refresh at a
# time: parallel runs (other work trees) share the lists.
capt_update() {
	local a=$CACHE/apt
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
	(
		flock 8
		if [ "$(cat "$a/sources.list" 2>/dev/null)" != "$CAPT_SOURCES" ]; then
			printf '%s\n' "$CAPT_SOURCES" >"$a/sources.list"
			rm -f "$a/stamp"
		fi
		[ -z "$(find "$a/stamp" -mmin -1440 2>/dev/null)" ] || exit 0
		echo "${0##*/}: refreshing the lists of our apt ($a: sid, trixie, bookworm-backports)" >&2
		if capt apt-get -qq update >&2; then
			touch "$a/stamp"
			rm -f "$a/unavailable"
		else
			echo "${0##*/}: apt-get update failed; using the lists there are" >&2
		fi
	) 8>"$a/.lock"
}
