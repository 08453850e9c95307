// SPDX-License-Identifier: GPL-2.0
/*
 * Bench-only helpers for `make bench`; not for production use.
 *
 * null-hwrng: an hwrng whose read is a memset, so /dev/hwrng through it
 * measures the hwrng core itself, the ceiling for any hwrng driver.
 *
 * /dev/null-cdev: a char device whose read() copies out of a ring of
 * preallocated kernel buffers shaped like the driver's (4 x 256 KiB), with
 * the discipline the driver's direct reader (/dev/edu-rngN) follows: one
 * mutex round per piece (at most the rest of one buffer), the copy to user
 * space made under it with page faults disabled, and a short copy faulted
 * in with fault_in_writeable() after the mutex is dropped.  No device, no
 * spinlock, no interrupt: its MB/s is the ceiling of a correct char-device
 * read path in this guest, to which edu-rng-direct is compared.  The bytes
 * are zeros.
 *
 * /dev/edu-rng-mmio: the lab's original data path, one ioctl = one 32-bit
 * MMIO read of BAR0 offset 0x00 of the first edu-rng device.  It maps the
 * BAR beside the edu-rng driver, as the lab's module did, and takes bytes
 * of the same stream.
 */

#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/hw_random.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/pci.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/edu-rng.h>

#define EDU_RNG_REG_RANDOM	0x00
/* the driver's ring: EDU_RNG_NR_BUFS x EDU_RNG_BUF_SIZE */
#define NULL_CDEV_NR_BUFS	4
#define NULL_CDEV_BUF_SIZE	SZ_256K

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

/*
 * The ring's read position, under null_cdev_lock: every reader takes the
 * next piece, as readers of /dev/edu-rngN share one stream.
 */
static DEFINE_MUTEX(null_cdev_lock);
static u8 *null_cdev_bufs[NULL_CDEV_NR_BUFS];
static unsigned int null_cdev_head;
static size_t null_cdev_pos;

/*
 * One piece: up to @len bytes, no more than the rest of bufs[head], copied
 * under the mutex with page faults disabled.  Bytes copied, or -EFAULT
 * when none were (the first byte's page is not there).
 */
static ssize_t null_cdev_take(char __user *dst, size_t len)
{
	size_t n, left;

	if (mutex_lock_interruptible(&null_cdev_lock))
		return -ERESTARTSYS;
	n = min_t(size_t, len, NULL_CDEV_BUF_SIZE - null_cdev_pos);
	pagefault_disable();
	left = copy_to_user(dst, null_cdev_bufs[null_cdev_head] + null_cdev_pos,
			    n);
	pagefault_enable();
	n -= left;
	null_cdev_pos += n;
	if (null_cdev_pos == NULL_CDEV_BUF_SIZE) {
		null_cdev_head = (null_cdev_head + 1) % NULL_CDEV_NR_BUFS;
		null_cdev_pos = 0;
	}
	mutex_unlock(&null_cdev_lock);
	return n ? n : -EFAULT;
}

static ssize_t null_cdev_read(struct file *file, char __user *buf,
			      size_t len, loff_t *ppos)
{
	size_t done = 0, n;
	ssize_t ret;

	while (done < len) {
		if (done && signal_pending(current))
			break;
		ret = null_cdev_take(buf + done, len - done);
		if (ret > 0) {
			done += ret;
			cond_resched();
			continue;
		}
		if (ret != -EFAULT)
			return done ? done : ret;
		/* fault in what the next piece needs, without the mutex */
		n = min_t(size_t, len - done, NULL_CDEV_BUF_SIZE);
		if (fault_in_writeable(buf + done, n) == n)
			return done ? done : -EFAULT;
		if (fatal_signal_pending(current))
			return done ? done : -EINTR;
		cond_resched();
	}
	return done;
}

static const struct file_operations null_cdev_fops = {
	.owner = THIS_MODULE,
	.read = null_cdev_read,
	.llseek = noop_llseek,
};

static struct miscdevice null_cdev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "null-cdev",
	.fops = &null_cdev_fops,
	.mode = 0444,
};

static void null_cdev_free(void)
{
	int i;

	for (i = 0; i < NULL_CDEV_NR_BUFS; i++)
		free_pages((unsigned long)null_cdev_bufs[i],
			   get_order(NULL_CDEV_BUF_SIZE));
}

/* Buffers from the page allocator, as the driver's DMA buffers are. */
static int null_cdev_init(void)
{
	int i, ret;

	for (i = 0; i < NULL_CDEV_NR_BUFS; i++) {
		null_cdev_bufs[i] = (u8 *)__get_free_pages(GFP_KERNEL | __GFP_ZERO,
							   get_order(NULL_CDEV_BUF_SIZE));
		if (!null_cdev_bufs[i]) {
			null_cdev_free();
			return -ENOMEM;
		}
	}
	ret = misc_register(&null_cdev_misc);
	if (ret)
		null_cdev_free();
	return ret;
}

static void null_cdev_exit(void)
{
	misc_deregister(&null_cdev_misc);
	null_cdev_free();
}

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
	ret = null_cdev_init();
	if (ret)
		goto out_hwrng;
	ret = mmio_init();
	if (ret)
		goto out_cdev;
	return 0;

out_cdev:
	null_cdev_exit();
out_hwrng:
	hwrng_unregister(&null_hwrng);
	return ret;
}

static void __exit edu_rng_bench_exit(void)
{
	mmio_exit();
	null_cdev_exit();
	hwrng_unregister(&null_hwrng);
}

module_init(edu_rng_bench_init);
module_exit(edu_rng_bench_exit);
MODULE_DESCRIPTION("edu-rng bench helpers: null-hwrng, null-cdev and the lab's MMIO path");
MODULE_LICENSE("GPL");
