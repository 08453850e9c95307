/*
 * QEMU 7.2's sysemu/runstate.h under the name later QEMU gives it, for
 * edu-rng.c; ours only (see edu-rng-lab.c), put beside edu-rng.c in 7.2
 * trees by qemu/build-qemu.sh.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "sysemu/runstate.h"
