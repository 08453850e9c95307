# shellcheck shell=bash
# Shared settings for edu-rng scripts.  Source it; it defines:
#   TOP      the work tree
#   CACHE    where expensive outputs live, outside the work tree
#   KVER     guest kernel release (default: the installed linux-headers-*-amd64)
#   BUILD    build outputs inside the work tree (git-ignored)

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${EDU_RNG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edu-rng}
BUILD=${EDU_RNG_BUILD:-$TOP/build}

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# The newest installed linux-headers-<ver>-amd64, unless KVER is set.
default_kver() {
	local d best=
	for d in /usr/src/linux-headers-*-amd64; do
		[ -f "$d/Makefile" ] || continue
		best=${d#/usr/src/linux-headers-}
	done
	[ -n "$best" ] || die "no linux-headers-*-amd64 installed (run scripts/deps.sh)"
	echo "$best"
}

KVER=${KVER:-$(default_kver)}
export TOP CACHE BUILD KVER

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
