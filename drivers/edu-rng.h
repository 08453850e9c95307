/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edu-rng: what the driver's parts share.  edu-rng-main.c is the hwrng
 * driver proper (the device, its DMA ring, interrupts, the hwrng core's
 * ->read(), sysfs); edu-rng-cdev.c is /dev/edu-rngN, which reads the ring
 * directly.
 */
#ifndef EDU_RNG_H
#define EDU_RNG_H

#include <linux/hw_random.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

/*
 * Four 256 KiB buffers: three full buffers to read while the device fills
 * the fourth, and one interrupt per 256 KiB.  Under TCG each transfer
 * costs the vCPU some 50 us beyond its bytes (the doorbell, waking QEMU's
 * main loop, the interrupt): 64 KiB buffers measured 0.87x the rate of a
 * hwrng that only fills its buffer, 256 KiB 0.95x, 1 MiB no better, for
 * 4 MiB of DMA memory.
 */
#define EDU_RNG_NR_BUFS		4
#define EDU_RNG_BUF_SIZE	SZ_256K
/*
 * The hwrng side takes 4 KiB at a time, which it reads in place: one lock
 * round per 64 of the core's 64-byte reads (a lock round per read measured
 * 0.59x that rate under TCG), and other readers of the stream lose at
 * most 4 KiB at a time to the core's readers (/dev/hwrng, its thread; on
 * 6.1 also add_early_randomness()).
 */
#define EDU_RNG_HW_CHUNK	SZ_4K

enum edu_rng_buf_state {
	EDU_RNG_BUF_FREE,	/* to be filled */
	EDU_RNG_BUF_DMA,	/* the device is filling it */
	EDU_RNG_BUF_FULL,	/* ready to read */
};

struct edu_rng_buf {
	u8 *data;
	dma_addr_t dma;
	enum edu_rng_buf_state state;
	u32 gen;		/* stream generation of its bytes */
};

/* What went wrong, for the user (sysfs stats/); under edu_rng.lock */
struct edu_rng_stats {
	u64 transfers;		/* completed, good */
	u64 errors;		/* reported failed, or a wrong byte count */
	u64 timeouts;		/* never completed: aborted */
	u64 lost_irqs;		/* completed without an interrupt */
	u64 spurious_irqs;	/* an interrupt for no transfer */
	u64 unwritten;		/* reported done, buffer not written */
	u64 irq_storms;		/* causes IRQ_ACK could not clear: masked */
	u64 vm_forks;		/* VM generation changes: buffers dropped */
};

struct edu_rng {
	struct pci_dev *pdev;
	void __iomem *base;
	struct kref ref;	/* probe's, and one per open file */
	struct hwrng hwrng;
	char name[32];
	struct miscdevice misc;
	char misc_name[sizeof("edu-rng2147483647")];	/* any id >= 0 */
	int id;
	/*
	 * Our interrupt, looked up once: pci_irq_vector() takes the MSI
	 * descriptors' mutex, which the handler and the spinlock forbid.
	 */
	int irq;

	/* serializes mode changes; protects registered and seeded */
	struct mutex mode_lock;
	bool registered;
	bool seeded;

	/*
	 * Serializes readers, and seeding against them.  Held for at most the
	 * copy of one buffer's bytes from kernel memory, never across a
	 * page fault on a user buffer: see edu_rng_take().
	 */
	struct mutex read_lock;
	unsigned int head;	/* buffer to read next */
	size_t pos;		/* read offset in bufs[head] */

	/*
	 * The hwrng side's chunk: up to EDU_RNG_HW_CHUNK bytes of a buffer,
	 * taken out of the ring under read_lock and then read in place with
	 * no lock of ours (the core calls ->read() under its reading_mutex,
	 * which serializes these fields' users).  Before the buffer goes
	 * back to the device, the chunk moves to hw_spare, or is dropped
	 * after a seed (edu_rng_hw_revoke()): hw_seq moves, and a copy made
	 * while it moved is thrown away.
	 */
	const u8 *hw_data;	/* hw_data[hw_pos..hw_len) is unread */
	size_t hw_pos;
	size_t hw_len;
	unsigned long hw_seq_lent;	/* hw_seq when hw_data was last set */
	unsigned long hw_seq;	/* under lock; read without it */
	int hw_buf;		/* buffer holding the chunk, or -1; under lock */
	bool hw_moved;		/* the chunk is in hw_spare now; under lock */
	u8 hw_spare[EDU_RNG_HW_CHUNK];

	/* protects the ring state below, shared with the interrupt handler */
	spinlock_t lock;
	struct edu_rng_buf bufs[EDU_RNG_NR_BUFS];
	size_t buf_size;
	unsigned int fill;	/* buffer the device fills next */
	bool dma_busy;
	unsigned long dma_start;	/* jiffies */
	u32 gen;		/* bumped by a seed: older bytes are stale */
	int error;		/* a failed transfer, reported to one reader */
	bool gone;		/* unbound: readers get -ENODEV */
	bool irq_masked;	/* storming: masked, readers get -EIO */
	unsigned int irq_stuck;	/* interrupts in a row IRQ_ACK left set */
	u64 canary;
	wait_queue_head_t wait;	/* readers waiting for a full buffer */
	struct edu_rng_stats stats;

	/* times transfers out, and retries a masked interrupt */
	struct delayed_work watchdog;
	struct notifier_block vmfork_nb;
};

/* edu-rng-main.c, for the other parts */
void edu_rng_free(struct kref *ref);
ssize_t edu_rng_get(struct edu_rng *priv, void *dst, size_t len, bool user,
		    bool wait);
__poll_t edu_rng_poll_mask(struct edu_rng *priv);
int edu_rng_set_mode(struct edu_rng *priv, bool seeded, u64 seed);

/* edu-rng-cdev.c */
int edu_rng_cdev_add(struct edu_rng *priv);

static inline struct edu_rng *edu_rng_from_file(struct file *file)
{
	struct miscdevice *misc = file->private_data;

	return container_of(misc, struct edu_rng, misc);
}

#ifdef EDU_RNG_LAB	/* the lab's interface: this tree's module only */
#include "edu-rng-lab.h"
#endif

#endif /* EDU_RNG_H */
