#!/bin/bash
# The debug guest kernel (KASAN, lockdep, DEBUG_ATOMIC_SLEEP, DMA_API_DEBUG,
# kmemleak) from Debian's linux-source-6.1: guest/build-kernel.sh debug,
# which see.  Options: --print-path (its bzImage), --print-build-dir,
# --print-moddir, --print-release.
exec "$(dirname "$0")/build-kernel.sh" debug "$@"
