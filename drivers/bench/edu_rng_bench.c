// SPDX-License-Identifier: GPL-2.0
/*
 * Bench-only helpers for `make bench`; not for production use.
 *
 * null-hwrng: an hwrng whose read is a memset, so /dev/hwrng through it
 * measures the hwrng core itself, the ceiling for any hwrng driver.
 *
 * /dev/edu-rng-mmio: the lab's original data path, one ioctl = one 32-bit
 * MMIO read of BAR0 offset 0x00 of the first edu-rng device.  It maps the
 * BAR beside the edu-rng driver, as the lab's module did, and takes bytes
 * of the same stream.
 */

#include <linux/fs.h>
#include <linux/hw_random.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/edu-rng.h>

#define EDU_RNG_REG_RANDOM	0x00

static int null_hwrng_read(struct hwrng *rng, void *data, size_t max,
			   bool wait)
{
	memset(data, 0, max);
	return max;
}

static struct hwrng null_hwrng = {
	.name = "null-hwrng",
	.read = null_hwrng_read,
	/* quality 0: never chosen as current unless selected */
};

static struct pci_dev *mmio_pdev;
static void __iomem *mmio_base;

static long mmio_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (cmd != EDU_RNG_IOCTL_RAND)
		return -ENOTTY;
	return put_user(ioread32(mmio_base + EDU_RNG_REG_RANDOM),
			(u32 __user *)arg);
}

static const struct file_operations mmio_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = mmio_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice mmio_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "edu-rng-mmio",
	.fops = &mmio_fops,
	.mode = 0444,
};

static int mmio_init(void)
{
	int ret;

	mmio_pdev = pci_get_device(0x1234, 0xcafe, NULL);
	if (!mmio_pdev)
		return 0;
	mmio_base = pci_iomap(mmio_pdev, 0, 4096);
	if (!mmio_base) {
		pci_dev_put(mmio_pdev);
		mmio_pdev = NULL;
		return -ENOMEM;
	}
	ret = misc_register(&mmio_misc);
	if (ret) {
		pci_iounmap(mmio_pdev, mmio_base);
		pci_dev_put(mmio_pdev);
		mmio_pdev = NULL;
	}
	return ret;
}

static void mmio_exit(void)
{
	if (!mmio_pdev)
		return;
	misc_deregister(&mmio_misc);
	pci_iounmap(mmio_pdev, mmio_base);
	pci_dev_put(mmio_pdev);
}

static int __init edu_rng_bench_init(void)
{
	int ret = hwrng_register(&null_hwrng);

	if (ret)
		return ret;
	ret = mmio_init();
	if (ret)
		hwrng_unregister(&null_hwrng);
	return ret;
}

static void __exit edu_rng_bench_exit(void)
{
	mmio_exit();
	hwrng_unregister(&null_hwrng);
}

module_init(edu_rng_bench_init);
module_exit(edu_rng_bench_exit);
MODULE_DESCRIPTION("edu-rng bench helpers: null-hwrng and the lab's MMIO path");
MODULE_LICENSE("GPL");
