// SPDX-License-Identifier: GPL-2.0
/*
 * edu-rng: /dev/edu-rngN, one misc device per bound device, read directly
 * from the DMA ring (edu_rng_get(): large pieces, one buffer's bytes per
 * lock hold) rather than 64 bytes at a time through the hwrng core.  It
 * is the only reader of a seeded stream, which the hwrng core never sees.
 * An open file holds a reference to the device's state and outlives the
 * binding: reads then fail with -ENODEV.
 */

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>

#include "edu-rng.h"

static DEFINE_IDA(edu_rng_ida);

static int edu_rng_open(struct inode *inode, struct file *file)
{
	/* misc_open() holds misc_mtx: the device cannot go away here */
	kref_get(&edu_rng_from_file(file)->ref);
	return 0;
}

static int edu_rng_release(struct inode *inode, struct file *file)
{
	kref_put(&edu_rng_from_file(file)->ref, edu_rng_free);
	return 0;
}

static ssize_t edu_rng_read(struct file *file, char __user *buf, size_t len,
			    loff_t *ppos)
{
	struct edu_rng *priv = edu_rng_from_file(file);

	return edu_rng_get(priv, (void __force *)buf, len, true,
			   !(file->f_flags & O_NONBLOCK));
}

static __poll_t edu_rng_poll(struct file *file, poll_table *wait)
{
	struct edu_rng *priv = edu_rng_from_file(file);

	poll_wait(file, &priv->wait, wait);
	return edu_rng_poll_mask(priv);
}

static const struct file_operations edu_rng_fops = {
	.owner = THIS_MODULE,
	.open = edu_rng_open,
	.release = edu_rng_release,
	.read = edu_rng_read,
	.poll = edu_rng_poll,
#ifdef EDU_RNG_LAB
	.unlocked_ioctl = edu_rng_lab_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
#endif
	.llseek = noop_llseek,
};

static void edu_rng_misc_deregister(void *data)
{
	struct edu_rng *priv = data;

	misc_deregister(&priv->misc);
	/* the name is free for the next binding, even if files stay open */
	ida_free(&edu_rng_ida, priv->id);
}

/* /dev/edu-rngN for a device being bound, gone again when it is unbound */
int edu_rng_cdev_add(struct edu_rng *priv)
{
	struct device *dev = &priv->pdev->dev;
	int ret;

	ret = ida_alloc(&edu_rng_ida, GFP_KERNEL);
	if (ret < 0)
		return ret;
	priv->id = ret;
	snprintf(priv->misc_name, sizeof(priv->misc_name), "edu-rng%d",
		 priv->id);
	priv->misc.minor = MISC_DYNAMIC_MINOR;
	priv->misc.name = priv->misc_name;
	priv->misc.fops = &edu_rng_fops;
	priv->misc.parent = dev;
	priv->misc.mode = 0444;
	ret = misc_register(&priv->misc);
	if (ret) {
		ida_free(&edu_rng_ida, priv->id);
		return ret;
	}
	return devm_add_action_or_reset(dev, edu_rng_misc_deregister, priv);
}
