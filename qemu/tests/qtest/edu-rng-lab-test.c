/*
 * The edu-rng qtest as this tree builds it; not part of the upstream
 * series (make patches, Documentation/upstream.rst): edu-rng-test.c
 * expecting the lab's PCI ID 1234:cafe, which our build gives the device
 * (qemu/hw/edu-rng-lab.c), instead of 1b36:0015.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/pci.h"

#undef PCI_VENDOR_ID_REDHAT
#define PCI_VENDOR_ID_REDHAT PCI_VENDOR_ID_QEMU
#undef PCI_DEVICE_ID_REDHAT_EDU_RNG
#define PCI_DEVICE_ID_REDHAT_EDU_RNG 0xcafe

#include "edu-rng-test.c"
