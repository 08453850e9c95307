#!/bin/bash
# Print the kernel release that KVER (or the argument) stands for: a
# release as it is, a series such as 6.12 as its newest release in apt's
# sources, nothing as Debian's default kernel (see scripts/common.sh).
# Usage: scripts/kver.sh [KVER]
set -eu
case ${1-} in
-h | --help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
?*) KVER=$1 ;;
esac
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
echo "$KVER"
