/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edu-rng: the current kernel API on the older kernels the driver supports.
 * The driver is written against 7.2's; what 6.1 or 6.12 lack is defined
 * here, in terms of what they have, and nowhere else.  A macro is tested
 * for itself, anything else by the version that brought it (Debian's 6.12
 * has the workqueue names and the typed allocators too).  Nothing here
 * adds work: each is the old kernel's own call under the new name.
 */
#ifndef EDU_RNG_COMPAT_H
#define EDU_RNG_COMPAT_H

#include <linux/err.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/workqueue.h>

/* 6.8 renamed PCI_IRQ_LEGACY */
#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX		PCI_IRQ_LEGACY
#endif

/* pcim_iomap_region() (6.11) deprecates pcim_iomap_regions() and the table */
#if KERNEL_VERSION(6, 11, 0) > LINUX_VERSION_CODE
static inline void __iomem *pcim_iomap_region(struct pci_dev *pdev, int bar,
					      const char *name)
{
	int ret = pcim_iomap_regions(pdev, BIT(bar), name);

	return ret ? IOMEM_ERR_PTR(ret) : pcim_iomap_table(pdev)[bar];
}
#endif

/* system_percpu_wq is system_wq's new name; the old one is to go */
#if KERNEL_VERSION(6, 12, 0) > LINUX_VERSION_CODE
#define system_percpu_wq	system_wq
#endif

/* the typed allocators: kzalloc_obj(*p) allocates sizeof(*p), GFP_KERNEL */
#ifndef kzalloc_obj
#define kzalloc_obj(obj)	kzalloc(sizeof(obj), GFP_KERNEL)
#endif

#endif /* EDU_RNG_COMPAT_H */
