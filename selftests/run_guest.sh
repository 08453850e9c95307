#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run the edu-rng selftests inside the guest (qemu/run-vm --exec).  The
# programs sit beside this script; each prints its own TAP.  Exit status:
# 0 when all passed.
cd "$(dirname "$0")" || exit 1
rc=0
# edu_rng_test first: it assumes nobody read /dev/hwrng before it
for t in ./edu_rng_test ./rngd_test.sh ./cli_test.sh; do
	echo "# selftests: edu-rng: ${t#./}"
	"$t" || rc=1
done
# guest-debug only (scripts/check.sh adds it): kmemleak and co., last
if [ -e ./debug_kernel_test.sh ]; then
	echo "# selftests: edu-rng: debug_kernel_test.sh"
	./debug_kernel_test.sh || rc=1
fi
exit $rc
