/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * edu-rng character device interface (/dev/edu-rngN)
 *
 * read() returns random bytes from the device's DMA buffers (poll() and
 * O_NONBLOCK work as usual).  The ioctls keep the numbers of the
 * virtualization lab this device comes from, so its programs work as they
 * are.
 */
#ifndef _UAPI_LINUX_EDU_RNG_H
#define _UAPI_LINUX_EDU_RNG_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Next 32 random bits of the device's stream (0x80047101). */
#define EDU_RNG_IOCTL_RAND	_IOR('q', 1, __u32)
/* Seed the device's stream with a 32-bit value; CAP_SYS_ADMIN (0x40047101). */
#define EDU_RNG_IOCTL_SEED	_IOW('q', 1, __u32)

/* The lab's names for the same requests */
#define MY_RNG_IOCTL_RAND	EDU_RNG_IOCTL_RAND
#define MY_RNG_IOCTL_SEED	EDU_RNG_IOCTL_SEED

#endif /* _UAPI_LINUX_EDU_RNG_H */
