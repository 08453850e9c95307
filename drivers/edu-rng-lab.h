/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edu-rng's lab interface, in this tree's module only (built with
 * EDU_RNG_LAB; never upstream, Documentation/upstream.rst): the PCI ID
 * and the ioctls of the virtualization lab the device comes from, kept
 * so that its programs work as they are.  Upstream would take neither:
 * 1234:cafe is not an ID QEMU gives out (its devices take 1b36:xxxx),
 * and the ioctls' number, 'q' 1, is serio's SPIOCSTYPE's.
 */
#ifndef EDU_RNG_LAB_H
#define EDU_RNG_LAB_H

#include <linux/fs.h>
#include <linux/mod_devicetable.h>
#include <linux/pci.h>
#include <linux/types.h>

/* the lab's device, beside 1b36:0015 in the driver's ID table */
#define EDU_RNG_LAB_PCI_IDS	{ PCI_DEVICE(0x1234, 0xcafe) }

struct edu_rng;

/* edu-rng-lab.c: /dev/edu-rngN's ioctls */
long edu_rng_lab_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* edu-rng-main.c: the next 32 bits of the stream to @uarg, for RAND */
int edu_rng_get_u32(struct edu_rng *priv, u32 __user *uarg, bool wait);

#endif /* EDU_RNG_LAB_H */
