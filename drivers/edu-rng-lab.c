// SPDX-License-Identifier: GPL-2.0
/*
 * edu-rng: the lab's ioctls on /dev/edu-rngN (include/uapi/linux/edu-rng.h),
 * in this tree's module only: see edu-rng-lab.h.  RAND reads 32 bits of
 * the stream, all or nothing; SEED seeds it with a 32-bit value, as the
 * sysfs attribute seed does with 64 bits.
 */

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <uapi/linux/edu-rng.h>

#include "edu-rng.h"

long edu_rng_lab_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct edu_rng *priv = edu_rng_from_file(file);
	u32 __user *uarg = (u32 __user *)arg;
	u32 val;

	switch (cmd) {
	case EDU_RNG_IOCTL_RAND:
		return edu_rng_get_u32(priv, uarg,
				       !(file->f_flags & O_NONBLOCK));
	case EDU_RNG_IOCTL_SEED:
		/* the lab let anyone reseed a kernel entropy source */
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		if (get_user(val, uarg))
			return -EFAULT;
		return edu_rng_set_mode(priv, true, val);
	}
	return -ENOTTY;
}
