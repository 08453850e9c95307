// SPDX-License-Identifier: GPL-2.0
/*
 * edu-rng: hwrng driver for QEMU's edu-rng PCI device (1b36:0015)
 *
 * The device fills a ring of coherent DMA buffers from its generator, one
 * transfer at a time, and raises an interrupt when each is done; the
 * interrupt handler starts the next transfer while a free buffer remains.
 * Readers copy out of full buffers: the hwrng core through ->read(), in
 * place, and /dev/edu-rngN (edu-rng-cdev.c) directly in large pieces,
 * through edu_rng_get().  Nothing is transferred while the ring is full,
 * so an idle device costs nothing.  Seeding (sysfs seed) makes the stream
 * a deterministic function of the seed; buffers filled before are
 * discarded, so the bytes read next are that stream.
 *
 * This file is the driver proper: PCI probe and removal, the ring and its
 * interrupts, the hwrng side and the sysfs attributes.
 *
 * Device specification: docs/specs/edu-rng.rst in QEMU
 */

#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/hw_random.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/kref.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/pci.h>
#include <linux/random.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "edu-rng.h"
#include "edu-rng-compat.h"

/* 1b36:0015, from QEMU's own device IDs (its docs/specs/pci-ids.rst) */
#define EDU_RNG_PCI_DEVICE_ID	0x0015

#define EDU_RNG_REG_SEED	0x04
#define EDU_RNG_REG_ID		0x08
#define EDU_RNG_REG_CAPS	0x0c
#define EDU_RNG_REG_SEED_HI	0x10
#define EDU_RNG_REG_DMA_MAX	0x14
#define EDU_RNG_REG_CTRL	0x18
#define EDU_RNG_REG_XFER	0x1c
#define EDU_RNG_REG_STATUS	0x20
#define EDU_RNG_REG_IRQ_STATUS	0x24
#define EDU_RNG_REG_IRQ_ACK	0x64
#define EDU_RNG_REG_DMA_DST	0x88
#define EDU_RNG_REG_DMA_COUNT	0x90
#define EDU_RNG_REG_DMA_CMD	0x98

#define EDU_RNG_ID_DEVICE(id)	((id) >> 16)
#define EDU_RNG_ID_MAJOR(id)	(((id) >> 8) & 0xff)

#define EDU_RNG_CAP_DMA_RNG	BIT(0)
#define EDU_RNG_CAP_DMA64	BIT(1)
#define EDU_RNG_CAP_SEED64	BIT(2)
#define EDU_RNG_CAP_XFER	BIT(3)
#define EDU_RNG_CAP_ABORT	BIT(4)
#define EDU_RNG_CAPS_NEEDED	(EDU_RNG_CAP_DMA_RNG | EDU_RNG_CAP_SEED64 | \
				 EDU_RNG_CAP_XFER | EDU_RNG_CAP_ABORT)

#define EDU_RNG_CTRL_RESET	BIT(0)
#define EDU_RNG_CTRL_UNSEED	BIT(1)
#define EDU_RNG_CTRL_ABORT	BIT(2)

#define EDU_RNG_STATUS_BUSY	BIT(0)
#define EDU_RNG_STATUS_ERROR	BIT(1)

#define EDU_RNG_IRQ_DMA_DONE	BIT(8)
#define EDU_RNG_IRQ_DMA_ERROR	BIT(9)
#define EDU_RNG_IRQ_DMA		(EDU_RNG_IRQ_DMA_DONE | EDU_RNG_IRQ_DMA_ERROR)

#define EDU_RNG_DMA_START	BIT(0)
#define EDU_RNG_DMA_TO_RAM	BIT(1)
#define EDU_RNG_DMA_IRQ		BIT(2)
#define EDU_RNG_DMA_RNG		BIT(3)

#define EDU_RNG_DMA_TIMEOUT	msecs_to_jiffies(1000)
/*
 * Before a buffer goes to the device, the first 8 bytes of each 4 KiB of
 * it are set to a per-device random canary; a transfer reported done that
 * left one in place did not write the buffer, which would otherwise hand
 * out its old bytes again.
 */
#define EDU_RNG_CANARY_STRIDE	SZ_4K
/*
 * Interrupts in a row whose causes IRQ_ACK did not clear: past this many
 * the device is storming, and its interrupt is masked.  A working device
 * can show one (a transfer completing between the ack and the re-read),
 * never two in a row.
 */
#define EDU_RNG_IRQ_STORM	100
/* the size of the hwrng core's reads (its RNG_BUFFER_SIZE) */
#define EDU_RNG_HW_READ		max(SMP_CACHE_BYTES, 32)
/* host-entropy mode: the device's ChaCha20 is keyed from the host's RNG */
#define EDU_RNG_QUALITY		1024

void edu_rng_free(struct kref *ref)
{
	kfree(container_of(ref, struct edu_rng, ref));
}

/*
 * The canaries go in before the doorbell: iowrite32() orders these stores
 * before it.
 */
static void edu_rng_set_canaries(struct edu_rng *priv, struct edu_rng_buf *b)
{
	size_t off;

	for (off = 0; off < priv->buf_size; off += EDU_RNG_CANARY_STRIDE)
		WRITE_ONCE(*(u64 *)(b->data + off), priv->canary);
}

/* Did the device write all of @b?  A canary left means it did not. */
static bool edu_rng_written(struct edu_rng *priv, struct edu_rng_buf *b)
{
	size_t off;

	for (off = 0; off < priv->buf_size; off += EDU_RNG_CANARY_STRIDE)
		if (READ_ONCE(*(u64 *)(b->data + off)) == priv->canary)
			return false;
	return true;
}

/* Start filling bufs[fill] if the engine is idle and the buffer free. */
static void edu_rng_kick(struct edu_rng *priv)
{
	struct edu_rng_buf *b = &priv->bufs[priv->fill];
	void __iomem *base = priv->base;

	lockdep_assert_held(&priv->lock);
	/*
	 * After a failed transfer, wait until a reader has been told: each
	 * error reported stands for one gap in the stream, where it was.
	 */
	if (priv->dma_busy || priv->gone || priv->error || priv->irq_masked ||
	    b->state != EDU_RNG_BUF_FREE)
		return;
	edu_rng_set_canaries(priv, b);
	b->state = EDU_RNG_BUF_DMA;
	b->gen = priv->gen;
	priv->dma_busy = true;
	priv->dma_start = jiffies;
	iowrite32(lower_32_bits(b->dma), base + EDU_RNG_REG_DMA_DST);
	iowrite32(upper_32_bits(b->dma), base + EDU_RNG_REG_DMA_DST + 4);
	iowrite32(priv->buf_size, base + EDU_RNG_REG_DMA_COUNT);
	iowrite32(0, base + EDU_RNG_REG_DMA_COUNT + 4);
	iowrite32(EDU_RNG_DMA_START | EDU_RNG_DMA_TO_RAM | EDU_RNG_DMA_IRQ |
		  EDU_RNG_DMA_RNG, base + EDU_RNG_REG_DMA_CMD);
	/* already queued, and so at most one tick a second, while streaming */
	queue_delayed_work(system_percpu_wq, &priv->watchdog,
			   EDU_RNG_DMA_TIMEOUT);
}

/*
 * The transfer into @b ended, the engine is idle, and none of its bytes go
 * out: it failed, or a seed came after it started.  A failed transfer of
 * the current stream is a gap there, which one reader is told of; one of
 * an older stream, failed or not, went with that stream: refill.
 */
static void edu_rng_drop(struct edu_rng *priv, struct edu_rng_buf *b)
{
	lockdep_assert_held(&priv->lock);
	b->state = EDU_RNG_BUF_FREE;
	if (b->gen == priv->gen)
		priv->error = -EIO;
	else
		edu_rng_kick(priv);
}

/* The transfer into bufs[fill] ended; @cause says how. */
static void edu_rng_dma_done(struct edu_rng *priv, u32 cause)
{
	struct edu_rng_buf *b = &priv->bufs[priv->fill];
	struct device *dev = &priv->pdev->dev;
	u32 xfer;

	lockdep_assert_held(&priv->lock);
	/* DMA_DONE while the device is still busy is not this transfer's */
	if (!priv->dma_busy || b->state != EDU_RNG_BUF_DMA ||
	    ioread32(priv->base + EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_BUSY) {
		priv->stats.spurious_irqs++;
		dev_warn_ratelimited(dev, "spurious DMA interrupt (%#x)\n", cause);
		return;
	}
	priv->dma_busy = false;
	xfer = ioread32(priv->base + EDU_RNG_REG_XFER);
	if (cause & EDU_RNG_IRQ_DMA_ERROR || xfer != priv->buf_size) {
		dev_err_ratelimited(dev, "DMA failed (cause %#x, %u of %zu bytes)\n",
				    cause, xfer, priv->buf_size);
		iowrite32(EDU_RNG_STATUS_ERROR, priv->base + EDU_RNG_REG_STATUS);
		priv->stats.errors++;
		edu_rng_drop(priv, b);
	} else if (!edu_rng_written(priv, b)) {
		dev_err_ratelimited(dev, "DMA reported done, buffer not written\n");
		priv->stats.unwritten++;
		edu_rng_drop(priv, b);
	} else if (b->gen != priv->gen) {
		/* filled before a seed: refill the same buffer */
		edu_rng_drop(priv, b);
	} else {
		priv->stats.transfers++;
		/* pairs with smp_load_acquire() in edu_rng_take() */
		smp_store_release(&b->state, EDU_RNG_BUF_FULL);
		priv->fill = (priv->fill + 1) % EDU_RNG_NR_BUFS;
		edu_rng_kick(priv);
	}
	wake_up(&priv->wait);
}

/*
 * Mask or unmask our interrupt: the MSI vector is ours alone; an INTx line
 * may be shared, so it is masked at the device (PCI_COMMAND_INTX_DISABLE),
 * not at the interrupt controller.  Both are safe in hard IRQ context
 * (pci_intx() is not: it may allocate for a managed device).  INTx is
 * unmasked only with no cause pending, right after an ack that worked or
 * a reset: false if one is pending all the same.
 */
static bool edu_rng_irq_mask(struct edu_rng *priv, bool mask)
{
	struct pci_dev *pdev = priv->pdev;

	if (pdev->msi_enabled) {
		if (mask)
			disable_irq_nosync(priv->irq);
		else
			enable_irq(priv->irq);
		return true;
	}
	if (mask)
		return pci_check_and_mask_intx(pdev);
	return pci_check_and_unmask_intx(pdev);
}

/*
 * IRQ_ACK left @cause set: a device that cannot clear its interrupt would
 * bring the handler back at once, forever.  Past EDU_RNG_IRQ_STORM in a
 * row, mask the interrupt and fail reads until the watchdog finds that an
 * ack works again.
 */
static bool edu_rng_irq_storm(struct edu_rng *priv, u32 cause)
{
	lockdep_assert_held(&priv->lock);
	if (++priv->irq_stuck < EDU_RNG_IRQ_STORM)
		return false;
	edu_rng_irq_mask(priv, true);
	WRITE_ONCE(priv->irq_masked, true);
	priv->stats.irq_storms++;
	dev_err(&priv->pdev->dev,
		"IRQ_ACK does not clear %#x: interrupt masked\n", cause);
	wake_up(&priv->wait);
	mod_delayed_work(system_percpu_wq, &priv->watchdog,
			 EDU_RNG_DMA_TIMEOUT);
	return true;
}

static irqreturn_t edu_rng_irq(int irq, void *data)
{
	struct edu_rng *priv = data;
	irqreturn_t ret = IRQ_HANDLED;
	u32 cause, left;

	/* masked at the device: a shared INTx line's other devices' */
	if (READ_ONCE(priv->irq_masked))
		return IRQ_NONE;
	/*
	 * Read and ack the causes under the lock: the watchdog reads and
	 * acks them too (a lost interrupt, edu_rng_timeout()), and an ack
	 * of one between the other's read and ack would make a completed
	 * transfer look hung, or take the next transfer's DMA_DONE.
	 */
	spin_lock(&priv->lock);
	cause = ioread32(priv->base + EDU_RNG_REG_IRQ_STATUS);
	/* all ones: the device is gone */
	if (!cause || cause == ~0U) {
		ret = IRQ_NONE;
		goto out;
	}
	iowrite32(cause, priv->base + EDU_RNG_REG_IRQ_ACK);
	left = ioread32(priv->base + EDU_RNG_REG_IRQ_STATUS);
	left = left == ~0U ? 0 : left & cause;
	/* unbound: edu_rng_stop() has reset the device, nothing is ours */
	if (priv->gone)
		goto out;
	if (!left)
		priv->irq_stuck = 0;
	else if (edu_rng_irq_storm(priv, left))
		goto out;
	if (cause & EDU_RNG_IRQ_DMA)
		edu_rng_dma_done(priv, cause);
out:
	spin_unlock(&priv->lock);
	return ret;
}

/*
 * Take the hwrng side's chunk out of the ring, before its buffer goes back
 * to the device: moved to hw_spare (@keep), where the hwrng side goes on
 * reading it, or dropped after a seed.  hw_seq moves before the buffer is
 * given to the device (iowrite32() orders the store before the doorbell),
 * so a copy that may have seen the device's new bytes is seen as stale by
 * the check that follows it.
 */
static void edu_rng_hw_revoke(struct edu_rng *priv, bool keep)
{
	lockdep_assert_held(&priv->lock);
	if (priv->hw_buf < 0) {
		if (keep)
			return;		/* in hw_spare already, or none */
	} else if (keep) {
		memcpy(priv->hw_spare, priv->hw_data, priv->hw_len);
	}
	priv->hw_buf = -1;
	priv->hw_moved = keep;
	WRITE_ONCE(priv->hw_seq, priv->hw_seq + 1);
	/* before the canaries edu_rng_kick() may write into the buffer */
	smp_wmb();
}

/* Forget every buffered byte; the next transfer starts the stream anew. */
static void edu_rng_discard(struct edu_rng *priv)
{
	int i;

	lockdep_assert_held(&priv->read_lock);
	lockdep_assert_held(&priv->lock);
	WRITE_ONCE(priv->gen, priv->gen + 1);
	edu_rng_hw_revoke(priv, false);
	for (i = 0; i < EDU_RNG_NR_BUFS; i++)
		if (priv->bufs[i].state == EDU_RNG_BUF_FULL)
			priv->bufs[i].state = EDU_RNG_BUF_FREE;
	/* a transfer in flight is at fill: reading resumes there */
	priv->head = priv->fill;
	priv->pos = 0;
	/* a failed transfer no reader was told of: its gap is gone too */
	priv->error = 0;
}

/* Stop whatever the device is doing; it comes back in host-entropy mode. */
static void edu_rng_reset_device(struct edu_rng *priv)
{
	int i;

	lockdep_assert_held(&priv->lock);
	iowrite32(EDU_RNG_CTRL_RESET, priv->base + EDU_RNG_REG_CTRL);
	priv->dma_busy = false;
	for (i = 0; i < EDU_RNG_NR_BUFS; i++)
		if (priv->bufs[i].state == EDU_RNG_BUF_DMA)
			priv->bufs[i].state = EDU_RNG_BUF_FREE;
}

/*
 * Nothing to read: report a failed transfer, once, to this reader; or start
 * one.  Not both: after an error the next read retries, so a failing
 * device costs one transfer per read, and the error is not left pending
 * for a later reader after the device recovers.  While the interrupt is
 * masked every reader is told.
 */
static int edu_rng_error_or_kick(struct edu_rng *priv)
{
	int ret = priv->error;

	lockdep_assert_held(&priv->lock);
	if (priv->gone)
		return -ENODEV;
	if (priv->irq_masked)
		return -EIO;
	priv->error = 0;
	if (ret)
		return ret;
	edu_rng_kick(priv);
	return -EAGAIN;
}

/*
 * A transfer outlived its timeout.  If the device finished it and only the
 * interrupt was lost, complete it now: nothing is lost.  Otherwise abort
 * it, which keeps the device's stream where it was, and fail the next
 * read.
 */
static void edu_rng_timeout(struct edu_rng *priv)
{
	u32 cause = ioread32(priv->base + EDU_RNG_REG_IRQ_STATUS);

	lockdep_assert_held(&priv->lock);
	if (cause != ~0U && cause & EDU_RNG_IRQ_DMA) {
		priv->stats.lost_irqs++;
		iowrite32(cause, priv->base + EDU_RNG_REG_IRQ_ACK);
		edu_rng_dma_done(priv, cause);
		return;
	}
	dev_err_ratelimited(&priv->pdev->dev, "DMA timed out, aborting it\n");
	iowrite32(EDU_RNG_CTRL_ABORT, priv->base + EDU_RNG_REG_CTRL);
	priv->dma_busy = false;
	priv->stats.timeouts++;
	edu_rng_drop(priv, &priv->bufs[priv->fill]);
	wake_up(&priv->wait);
}

/*
 * Masked after a storm: does an ack clear the causes now?  If so, unmask
 * at once, with nothing pending (a transfer started after this would
 * leave INTx pending, and masked for good); then a transfer that ended
 * while masked is completed here, as its interrupt was taken by the ack.
 */
static bool edu_rng_irq_unmask(struct edu_rng *priv)
{
	u32 cause = ioread32(priv->base + EDU_RNG_REG_IRQ_STATUS);

	lockdep_assert_held(&priv->lock);
	if (cause == ~0U)
		return false;
	iowrite32(cause, priv->base + EDU_RNG_REG_IRQ_ACK);
	if (ioread32(priv->base + EDU_RNG_REG_IRQ_STATUS) & cause ||
	    !edu_rng_irq_mask(priv, false))
		return false;
	WRITE_ONCE(priv->irq_masked, false);
	priv->irq_stuck = 0;
	dev_info(&priv->pdev->dev, "interrupt acknowledged again, unmasked\n");
	if (cause & EDU_RNG_IRQ_DMA && priv->dma_busy)
		edu_rng_dma_done(priv, cause);
	return true;
}

/*
 * Queued with each transfer, so that a transfer that never ends fails its
 * readers and pollers after EDU_RNG_DMA_TIMEOUT, whoever waits and however;
 * and every EDU_RNG_DMA_TIMEOUT while the interrupt is masked.
 */
static void edu_rng_watchdog(struct work_struct *work)
{
	struct edu_rng *priv = container_of(to_delayed_work(work),
					    struct edu_rng, watchdog);
	unsigned long due = 0;
	bool unmask = false;

	spin_lock_irq(&priv->lock);
	if (priv->gone)
		goto out;
	if (priv->irq_masked) {
		unmask = edu_rng_irq_unmask(priv);
		if (!unmask)
			due = EDU_RNG_DMA_TIMEOUT;
	}
	if (priv->dma_busy) {
		if (time_before(jiffies, priv->dma_start + EDU_RNG_DMA_TIMEOUT))
			due = priv->dma_start + EDU_RNG_DMA_TIMEOUT - jiffies;
		else
			edu_rng_timeout(priv);
	}
	if (unmask)
		edu_rng_kick(priv);
	if (due)
		mod_delayed_work(system_percpu_wq, &priv->watchdog, due);
out:
	spin_unlock_irq(&priv->lock);
	if (unmask)
		wake_up(&priv->wait);
}

/*
 * @n more bytes of bufs[head] are read; an emptied buffer goes back, with
 * the hwrng side's chunk in it moved aside first.
 */
static void edu_rng_consumed(struct edu_rng *priv, size_t n)
{
	lockdep_assert_held(&priv->read_lock);
	priv->pos += n;
	if (priv->pos < priv->buf_size)
		return;
	spin_lock_irq(&priv->lock);
	if (priv->hw_buf == priv->head)
		edu_rng_hw_revoke(priv, true);
	priv->bufs[priv->head].state = EDU_RNG_BUF_FREE;
	priv->head = (priv->head + 1) % EDU_RNG_NR_BUFS;
	priv->pos = 0;
	edu_rng_kick(priv);
	spin_unlock_irq(&priv->lock);
}

/*
 * Is bufs[head] full?  Only read_lock holders take a buffer out of FULL,
 * so a FULL buffer can be read without the spinlock; otherwise start a
 * transfer.  0, or -EAGAIN, -EIO (once after a failed transfer; while the
 * interrupt is masked), -ENODEV.
 */
static int edu_rng_head_ready(struct edu_rng *priv)
{
	struct edu_rng_buf *b = &priv->bufs[priv->head];
	int ret = 0;

	lockdep_assert_held(&priv->read_lock);
	/* pairs with smp_store_release() in edu_rng_dma_done() */
	if (smp_load_acquire(&b->state) == EDU_RNG_BUF_FULL && !priv->gone)
		return 0;
	spin_lock_irq(&priv->lock);
	if (priv->gone)
		ret = -ENODEV;
	else if (b->state != EDU_RNG_BUF_FULL)
		ret = edu_rng_error_or_kick(priv);
	spin_unlock_irq(&priv->lock);
	return ret;
}

/*
 * Copy up to @len bytes of bufs[head], no more than that one buffer holds,
 * to @dst: user memory when @user.  Called with read_lock held, so
 * bufs[head], once full, is ours: only a free buffer is ever given to the
 * device.
 *
 * The copy to user memory runs with page faults disabled: a fault that
 * sleeps (userfaultfd, a FUSE-backed mapping) would hold read_lock, and
 * with it every other reader, the hwrng core and seeding, for as long as
 * the fault's owner likes.  Copied bytes are consumed whatever happens
 * next; the architecture's copy leaves the bytes past what it reports
 * copied unmodified, so none of those reached the user.
 *
 * Returns the bytes copied; or -EFAULT when the first byte's page is not
 * there (the caller faults it in without the lock and comes back), and
 * the errors of edu_rng_head_ready().
 */
static ssize_t edu_rng_take(struct edu_rng *priv, void *dst, size_t len,
			    bool user)
{
	const u8 *src;
	size_t n, left = 0;
	int ret;

	ret = edu_rng_head_ready(priv);
	if (ret)
		return ret;
	src = priv->bufs[priv->head].data + priv->pos;
	n = min(len, priv->buf_size - priv->pos);
	if (!user) {
		memcpy(dst, src, n);
	} else {
		pagefault_disable();
		left = copy_to_user((void __user *)dst, src, n);
		pagefault_enable();
		n -= left;
	}
	if (!n)
		return -EFAULT;
	edu_rng_consumed(priv, n);
	return n;
}

/*
 * Nothing in the ring to wait for: an error to report, no transfer in
 * flight.  The last because a reader that takes an error starts no
 * transfer (edu_rng_error_or_kick()): a reader woken with it, who finds
 * the error already taken, must start one, or nothing would wake it.
 */
static bool edu_rng_wait_over(struct edu_rng *priv)
{
	lockdep_assert_held(&priv->lock);
	return priv->gone || priv->error || priv->irq_masked || !priv->dma_busy;
}

/* Worth another try: a full buffer at the head, or nothing to wait for. */
static bool edu_rng_ready(struct edu_rng *priv)
{
	bool ready;

	spin_lock_irq(&priv->lock);
	ready = edu_rng_wait_over(priv) ||
		priv->bufs[priv->head].state == EDU_RNG_BUF_FULL;
	spin_unlock_irq(&priv->lock);
	return ready;
}

/*
 * Sleep until a buffer may be ready, without read_lock so that a seed need
 * not wait for us.  A transfer that never ends is failed by the watchdog,
 * which wakes us.  0: try again, or -ERESTARTSYS.
 */
static int edu_rng_wait(struct edu_rng *priv)
{
	return wait_event_interruptible(priv->wait, edu_rng_ready(priv));
}

/*
 * read_lock, waited for however the caller waits: it is held for one
 * buffer's copy at most, so a non-blocking reader waits for it too rather
 * than fail with -EAGAIN because of another reader.
 */
static int edu_rng_lock(struct edu_rng *priv)
{
	return mutex_lock_interruptible(&priv->read_lock) ? -ERESTARTSYS : 0;
}

/*
 * Read @len bytes to @dst (user memory when @user), or fewer if a signal,
 * an error or !@wait stops us, one buffer's bytes at a time, with
 * read_lock taken for each.  Returns bytes read or a negative errno
 * (-EAGAIN: none ready, !@wait; -EFAULT: nothing copied, bad buffer).
 */
ssize_t edu_rng_get(struct edu_rng *priv, void *dst, size_t len, bool user,
		    bool wait)
{
	size_t done = 0;
	ssize_t ret;

	while (done < len) {
		if (done && signal_pending(current))
			break;
		ret = edu_rng_lock(priv);
		if (!ret) {
			ret = edu_rng_take(priv, dst + done, len - done, user);
			mutex_unlock(&priv->read_lock);
		}
		if (ret > 0) {
			done += ret;
			cond_resched();
			continue;
		}
		/* fault in what the next piece needs; go on if any of it came */
		if (ret == -EFAULT && user) {
			size_t n = min_t(size_t, len - done, EDU_RNG_BUF_SIZE);

			if (fault_in_writeable((char __user *)dst + done, n) != n) {
				/* a page taken away again at once: stay killable */
				if (fatal_signal_pending(current))
					return done ? done : -EINTR;
				cond_resched();
				continue;
			}
		}
		if (ret == -EAGAIN && wait)
			ret = edu_rng_wait(priv);
		if (ret)
			return done ? done : ret;
	}
	return done;
}

/*
 * poll() of /dev/edu-rngN: readable when a read would not wait, an error
 * when none ever will; otherwise a transfer is started.
 */
__poll_t edu_rng_poll_mask(struct edu_rng *priv)
{
	__poll_t mask = 0;

	spin_lock_irq(&priv->lock);
	if (priv->gone)
		mask = EPOLLERR | EPOLLHUP;
	else if (priv->irq_masked)
		mask = EPOLLIN | EPOLLRDNORM | EPOLLERR;
	else if (priv->error || priv->bufs[priv->head].state == EDU_RNG_BUF_FULL)
		mask = EPOLLIN | EPOLLRDNORM;
	else
		edu_rng_kick(priv);
	spin_unlock_irq(&priv->lock);
	return mask;
}

#ifdef EDU_RNG_LAB	/* for edu-rng-lab.c: the RAND ioctl */
/*
 * Copy the next @len bytes (at most one buffer's) to @dst without taking
 * them, read_lock held: 0, or -EAGAIN with *@short_head set to the head
 * if it is full but holds fewer than @len bytes, else to -1.
 */
static int edu_rng_peek(struct edu_rng *priv, void *dst, size_t len,
			int *short_head)
{
	struct edu_rng_buf *head = &priv->bufs[priv->head];
	struct edu_rng_buf *next =
		&priv->bufs[(priv->head + 1) % EDU_RNG_NR_BUFS];
	size_t n = priv->buf_size - priv->pos;

	lockdep_assert_held(&priv->read_lock);
	*short_head = -1;
	/* pairs with smp_store_release() in edu_rng_dma_done() */
	if (priv->gone || smp_load_acquire(&head->state) != EDU_RNG_BUF_FULL)
		return -EAGAIN;
	if (n >= len) {
		memcpy(dst, head->data + priv->pos, len);
		return 0;
	}
	*short_head = priv->head;
	/* see above */
	if (smp_load_acquire(&next->state) != EDU_RNG_BUF_FULL)
		return -EAGAIN;
	memcpy(dst, head->data + priv->pos, n);
	memcpy(dst + n, next->data, len - n);
	return 0;
}

/* Take @len of the bytes edu_rng_peek() copied, read_lock held. */
static void edu_rng_consume_peeked(struct edu_rng *priv, size_t len)
{
	size_t n = min(len, priv->buf_size - priv->pos);

	edu_rng_consumed(priv, n);
	if (len > n)
		edu_rng_consumed(priv, len - n);
}

/*
 * Worth another try for a reader that needs more than the last bytes of
 * bufs[@head]: the buffer after it full, or nothing to wait for.  (A head
 * another reader moved on is seen at the next wake: every transfer's end
 * wakes.)
 */
static bool edu_rng_next_ready(struct edu_rng *priv, unsigned int head)
{
	bool ready;

	spin_lock_irq(&priv->lock);
	ready = edu_rng_wait_over(priv) || priv->head != head ||
		priv->bufs[(head + 1) % EDU_RNG_NR_BUFS].state ==
		EDU_RNG_BUF_FULL;
	spin_unlock_irq(&priv->lock);
	return ready;
}

static int edu_rng_wait_next(struct edu_rng *priv, unsigned int head)
{
	return wait_event_interruptible(priv->wait,
					edu_rng_next_ready(priv, head));
}

/*
 * The next 32 bits of the stream to @uarg, for the RAND ioctl: all four
 * bytes or none, so that a non-blocking caller that cannot have them all
 * loses no part, and a bad @uarg takes nothing from the stream.
 *
 * The copy runs under read_lock with page faults disabled, as in
 * edu_rng_take(), and takes exactly the bytes that landed: a missing page
 * is faulted in (without writing to it) outside the lock, and the copy is
 * tried again.  Within one page a 4-byte copy lands whole or not at all.
 * One that straddles two pages could land in part (the architecture's
 * copy may go byte by byte), so both pages are faulted in first; if one
 * goes away after that, the bytes that landed are gone from the stream
 * (no other reader gets them) and the call fails with -EFAULT.
 */
static int edu_rng_fault_in_u32(u32 __user *uarg)
{
	return fault_in_safe_writeable((char __user *)uarg, sizeof(*uarg)) ?
	       -EFAULT : 0;
}

int edu_rng_get_u32(struct edu_rng *priv, u32 __user *uarg, bool wait)
{
	int ret, short_head;
	size_t left;
	u32 val;

	if (offset_in_page(uarg) > PAGE_SIZE - sizeof(val) &&
	    edu_rng_fault_in_u32(uarg))
		return -EFAULT;
	for (;;) {
		left = 0;
		ret = edu_rng_lock(priv);
		if (ret)
			return ret;
		ret = edu_rng_peek(priv, &val, sizeof(val), &short_head);
		if (!ret) {
			pagefault_disable();
			left = copy_to_user(uarg, &val, sizeof(val));
			pagefault_enable();
			edu_rng_consume_peeked(priv, sizeof(val) - left);
		} else {
			spin_lock_irq(&priv->lock);
			ret = edu_rng_error_or_kick(priv);
			spin_unlock_irq(&priv->lock);
		}
		mutex_unlock(&priv->read_lock);
		if (left == sizeof(val)) {
			if (edu_rng_fault_in_u32(uarg))
				return -EFAULT;
			/* a page taken away again at once: stay killable */
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
			continue;
		}
		if (left)
			return -EFAULT;
		if (ret != -EAGAIN || !wait)
			return ret;
		if (short_head < 0)
			ret = edu_rng_wait(priv);
		else
			ret = edu_rng_wait_next(priv, short_head);
		if (ret)
			return ret;
	}
}
#endif /* EDU_RNG_LAB */

/*
 * Give the hwrng side's chunk back, and take the next EDU_RNG_HW_CHUNK
 * bytes of the ring as its new one.  Called under the core's
 * reading_mutex.  0, or -EAGAIN (none ready, !@wait), -ERESTARTSYS, -EIO,
 * -ENODEV.
 */
static int edu_rng_hw_refill(struct edu_rng *priv, bool wait)
{
	struct edu_rng_buf *b;
	int ret;

	for (;;) {
		ret = edu_rng_lock(priv);
		if (ret)
			return ret;
		b = &priv->bufs[priv->head];
		spin_lock_irq(&priv->lock);
		priv->hw_buf = -1;
		priv->hw_moved = false;
		priv->hw_seq_lent = priv->hw_seq;
		priv->hw_pos = 0;
		priv->hw_len = 0;
		if (priv->gone)
			ret = -ENODEV;
		else if (b->state != EDU_RNG_BUF_FULL)
			ret = edu_rng_error_or_kick(priv);
		if (!ret) {
			/* full, and ours under read_lock */
			priv->hw_buf = priv->head;
			priv->hw_data = b->data + priv->pos;
			priv->hw_len = min_t(size_t, EDU_RNG_HW_CHUNK,
					     priv->buf_size - priv->pos);
		}
		spin_unlock_irq(&priv->lock);
		if (!ret)
			edu_rng_consumed(priv, priv->hw_len);
		mutex_unlock(&priv->read_lock);
		if (ret != -EAGAIN || !wait)
			return ret;
		ret = edu_rng_wait(priv);
		if (ret)
			return ret;
	}
}

/*
 * Copy @n bytes of the hwrng side's chunk to @dst.  False if the chunk was
 * taken back meanwhile: then the copy may hold newer bytes of the device,
 * and is not to be used.  @n is a constant where inlined, so that the
 * usual 64-byte copy needs no call.
 */
static __always_inline bool edu_rng_hw_copy(struct edu_rng *priv, void *dst,
					    size_t n)
{
	memcpy(dst, priv->hw_data + priv->hw_pos, n);
	/*
	 * What the device writes after a revoke is ordered after the hw_seq
	 * store by the doorbell's iowrite32(), what the CPU writes (the
	 * canaries) by the smp_wmb() in edu_rng_hw_revoke(): a copy that saw
	 * either sees the new hw_seq.
	 */
	smp_rmb();
	dma_rmb();
	if (READ_ONCE(priv->hw_seq) != priv->hw_seq_lent)
		return false;
	priv->hw_pos += n;
	return true;
}

/* The chunk left the ring: read on from hw_spare, or drop it after a seed. */
static void edu_rng_hw_follow(struct edu_rng *priv)
{
	spin_lock_irq(&priv->lock);
	if (priv->hw_moved) {
		priv->hw_data = priv->hw_spare;
		priv->hw_moved = false;
	} else {
		priv->hw_len = priv->hw_pos;
	}
	priv->hw_seq_lent = priv->hw_seq;
	spin_unlock_irq(&priv->lock);
}

/*
 * Fill @data from the hwrng side's chunk, taking the next one as needed:
 * all of @data when @wait allows (/dev/hwrng keeps the rest of a partial
 * read and hands it out later, ahead of newer bytes).
 */
static noinline int edu_rng_hwrng_read_slow(struct edu_rng *priv, void *data,
					    size_t max, bool wait)
{
	size_t n, done = 0;
	int ret;

	while (done < max) {
		if (READ_ONCE(priv->hw_seq) != priv->hw_seq_lent)
			edu_rng_hw_follow(priv);
		if (priv->hw_pos == priv->hw_len) {
			ret = edu_rng_hw_refill(priv, wait);
			if (ret)
				return done ? done : ret == -EAGAIN ? 0 : ret;
		}
		n = min(max - done, priv->hw_len - priv->hw_pos);
		if (edu_rng_hw_copy(priv, data + done, n))
			done += n;
	}
	return done;
}

/*
 * The hwrng core reads RNG_BUFFER_SIZE bytes at a time (6.1 also 32 for
 * add_early_randomness()), always under its reading_mutex, which
 * serializes these calls.  The usual case is served in place from the
 * hwrng side's chunk with no lock, no atomic operation and no call: a copy
 * of a constant size is inlined, and the refill is out of line so that
 * this path saves no registers.  Under TCG, where every call, copy and
 * memory access counts, that brings a 64-byte read to the cost of a
 * memset.
 */
static int edu_rng_hwrng_read(struct hwrng *rng, void *data, size_t max,
			      bool wait)
{
	struct edu_rng *priv = container_of(rng, struct edu_rng, hwrng);

	if (likely(max == EDU_RNG_HW_READ &&
		   priv->hw_len - priv->hw_pos >= EDU_RNG_HW_READ &&
		   edu_rng_hw_copy(priv, data, EDU_RNG_HW_READ)))
		return EDU_RNG_HW_READ;
	return edu_rng_hwrng_read_slow(priv, data, max, wait);
}

static void edu_rng_unregister(void *data)
{
	struct edu_rng *priv = data;

	mutex_lock(&priv->mode_lock);
	if (priv->registered)
		hwrng_unregister(&priv->hwrng);
	priv->registered = false;
	mutex_unlock(&priv->mode_lock);
}

static int edu_rng_register(struct edu_rng *priv)
{
	int ret;

	lockdep_assert_held(&priv->mode_lock);
	ret = hwrng_register(&priv->hwrng);
	if (ret)
		dev_err(&priv->pdev->dev, "cannot register hwrng: %d\n", ret);
	priv->registered = !ret;
	return ret;
}

/*
 * Seed the device (@seeded) or return it to host entropy.
 *
 * A seeded stream belongs to the readers of /dev/edu-rngN: the hwrng core
 * gets none of it.  Whatever quality an rng claims, the core may credit
 * what it reads (6.12 and 7.2 turn quality 0 into 1024, capped by
 * rng_core.default_quality; 6.1 into default_quality), rngd credits what
 * it reads from /dev/hwrng by its own tests, and the core's readers (its
 * thread; on 6.1 add_early_randomness() too) would take pieces of the
 * stream.  So a seeded device is withdrawn from the
 * core before the seed is written, and registered again after host
 * entropy is back.  hwrng_unregister() returns once no ->read() of ours
 * runs, which takes at most one transfer's timeout.
 */
int edu_rng_set_mode(struct edu_rng *priv, bool seeded, u64 seed)
{
	void __iomem *base = priv->base;
	int ret = 0;

	mutex_lock(&priv->mode_lock);
	if (seeded && priv->registered) {
		hwrng_unregister(&priv->hwrng);
		priv->registered = false;
	}

	mutex_lock(&priv->read_lock);
	spin_lock_irq(&priv->lock);
	/* an open /dev/edu-rngN outlives the binding */
	if (priv->gone) {
		ret = -ENODEV;
		goto out_unlock;
	}
	/*
	 * A transfer still in flight took its bytes before this write and is
	 * dropped by its generation when it completes.
	 */
	if (seeded) {
		iowrite32(upper_32_bits(seed), base + EDU_RNG_REG_SEED_HI);
		iowrite32(lower_32_bits(seed), base + EDU_RNG_REG_SEED);
	} else {
		iowrite32(EDU_RNG_CTRL_UNSEED, base + EDU_RNG_REG_CTRL);
	}
	edu_rng_discard(priv);
	edu_rng_kick(priv);
	priv->seeded = seeded;
out_unlock:
	spin_unlock_irq(&priv->lock);
	mutex_unlock(&priv->read_lock);

	if (!ret && !seeded && !priv->registered)
		ret = edu_rng_register(priv);
	mutex_unlock(&priv->mode_lock);
	return ret;
}

/*
 * The VM was restored from a snapshot or cloned: another copy of this
 * guest may hold the same buffered bytes.  In host-entropy mode they are
 * dropped (the device rekeys itself on load), so each copy reads its own;
 * a seeded stream stays exact, as it is the same in every copy anyway.
 */
static int edu_rng_vmfork(struct notifier_block *nb, unsigned long action,
			  void *data)
{
	struct edu_rng *priv = container_of(nb, struct edu_rng, vmfork_nb);

	mutex_lock(&priv->read_lock);
	spin_lock_irq(&priv->lock);
	if (!priv->gone && !priv->seeded) {
		edu_rng_discard(priv);
		priv->stats.vm_forks++;
		edu_rng_kick(priv);
	}
	spin_unlock_irq(&priv->lock);
	mutex_unlock(&priv->read_lock);
	return NOTIFY_DONE;
}

static void edu_rng_vmfork_unregister(void *data)
{
	struct edu_rng *priv = data;

	unregister_random_vmfork_notifier(&priv->vmfork_nb);
}

/*
 * Decimal, or hex after "0x"; no sign, no octal, no surrounding blanks.
 * Every byte written counts: none may be a NUL, after which the string
 * kstrtou64() sees would end.  kstrtou64() in base 16 skips a "0x" of its
 * own, so a second one is refused here.
 */
static int edu_rng_parse_seed(const char *buf, size_t count, u64 *seed)
{
	if (memchr(buf, '\0', count))
		return -EINVAL;
	if (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
		buf += 2;
		if (!isxdigit(buf[0]) || (buf[0] == '0' && tolower(buf[1]) == 'x'))
			return -EINVAL;
		return kstrtou64(buf, 16, seed);
	}
	return isdigit(buf[0]) ? kstrtou64(buf, 10, seed) : -EINVAL;
}

static ssize_t seed_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct edu_rng *priv = dev_get_drvdata(dev);
	u64 seed;
	int ret;

	ret = edu_rng_parse_seed(buf, count, &seed);
	if (ret)
		return ret;
	ret = edu_rng_set_mode(priv, true, seed);
	return ret ? ret : count;
}
static DEVICE_ATTR_WO(seed);

static ssize_t mode_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct edu_rng *priv = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", READ_ONCE(priv->seeded) ? "seeded" : "host");
}

static ssize_t mode_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct edu_rng *priv = dev_get_drvdata(dev);
	int ret;

	/* "seeded" is entered by writing a seed */
	if (!sysfs_streq(buf, "host"))
		return -EINVAL;
	ret = edu_rng_set_mode(priv, false, 0);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(mode);

static struct attribute *edu_rng_attrs[] = {
	&dev_attr_seed.attr,
	&dev_attr_mode.attr,
	NULL
};

static const struct attribute_group edu_rng_group = {
	.attrs = edu_rng_attrs,
};

/* stats/<counter>: one read-only u64 each, found by its offset */
struct edu_rng_stat_attr {
	struct device_attribute attr;
	size_t offset;
};

static ssize_t stat_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct edu_rng *priv = dev_get_drvdata(dev);
	size_t offset = container_of(attr, struct edu_rng_stat_attr, attr)->offset;
	u64 val;

	spin_lock_irq(&priv->lock);
	val = *(u64 *)((u8 *)&priv->stats + offset);
	spin_unlock_irq(&priv->lock);
	return sysfs_emit(buf, "%llu\n", val);
}

#define EDU_RNG_STAT_OFF(f)	offsetof(struct edu_rng_stats, f)

static struct edu_rng_stat_attr edu_rng_stats_attr[] = {
	{ __ATTR(transfers, 0444, stat_show, NULL),
	  EDU_RNG_STAT_OFF(transfers) },
	{ __ATTR(errors, 0444, stat_show, NULL), EDU_RNG_STAT_OFF(errors) },
	{ __ATTR(timeouts, 0444, stat_show, NULL), EDU_RNG_STAT_OFF(timeouts) },
	{ __ATTR(lost_irqs, 0444, stat_show, NULL),
	  EDU_RNG_STAT_OFF(lost_irqs) },
	{ __ATTR(spurious_irqs, 0444, stat_show, NULL),
	  EDU_RNG_STAT_OFF(spurious_irqs) },
	{ __ATTR(unwritten, 0444, stat_show, NULL),
	  EDU_RNG_STAT_OFF(unwritten) },
	{ __ATTR(irq_storms, 0444, stat_show, NULL),
	  EDU_RNG_STAT_OFF(irq_storms) },
	{ __ATTR(vm_forks, 0444, stat_show, NULL), EDU_RNG_STAT_OFF(vm_forks) },
};

static struct attribute *edu_rng_stat_attrs[] = {
	&edu_rng_stats_attr[0].attr.attr,
	&edu_rng_stats_attr[1].attr.attr,
	&edu_rng_stats_attr[2].attr.attr,
	&edu_rng_stats_attr[3].attr.attr,
	&edu_rng_stats_attr[4].attr.attr,
	&edu_rng_stats_attr[5].attr.attr,
	&edu_rng_stats_attr[6].attr.attr,
	&edu_rng_stats_attr[7].attr.attr,
	NULL
};

static const struct attribute_group edu_rng_stat_group = {
	.name = "stats",
	.attrs = edu_rng_stat_attrs,
};

static const struct attribute_group *edu_rng_groups[] = {
	&edu_rng_group,
	&edu_rng_stat_group,
	NULL
};

static void edu_rng_put(void *data)
{
	struct edu_rng *priv = data;

	kref_put(&priv->ref, edu_rng_free);
}

/*
 * Unbinding: wake and fail readers, and stop the device before its
 * buffers are freed: the reset read back, so that it has reached the
 * device, and bus mastering off, so that nothing the device still had in
 * hand reaches memory that is no longer ours.
 */
static void edu_rng_stop(void *data)
{
	struct edu_rng *priv = data;

	mutex_lock(&priv->read_lock);
	spin_lock_irq(&priv->lock);
	priv->gone = true;
	edu_rng_reset_device(priv);
	ioread32(priv->base + EDU_RNG_REG_STATUS);
	spin_unlock_irq(&priv->lock);
	mutex_unlock(&priv->read_lock);
	pci_clear_master(priv->pdev);
	/*
	 * A handler that took the lock before gone was set may have masked
	 * the interrupt or queued the watchdog: wait for it, then for the
	 * watchdog, which queues itself again only while !gone.
	 */
	synchronize_irq(priv->irq);
	cancel_delayed_work_sync(&priv->watchdog);
	/* the reset cleared the causes: free_irq() wants the line as found */
	if (priv->irq_masked) {
		WRITE_ONCE(priv->irq_masked, false);
		priv->irq_stuck = 0;
		edu_rng_irq_mask(priv, false);
	}
	wake_up_all(&priv->wait);
}

static int edu_rng_check_device(struct edu_rng *priv)
{
	struct device *dev = &priv->pdev->dev;
	u32 id = ioread32(priv->base + EDU_RNG_REG_ID);
	u32 caps = ioread32(priv->base + EDU_RNG_REG_CAPS);
	u32 dma_max = ioread32(priv->base + EDU_RNG_REG_DMA_MAX);

	if (EDU_RNG_ID_DEVICE(id) != 0xcafe || EDU_RNG_ID_MAJOR(id) != 1) {
		dev_err(dev, "unsupported device ID %#x\n", id);
		return -ENODEV;
	}
	if ((caps & EDU_RNG_CAPS_NEEDED) != EDU_RNG_CAPS_NEEDED) {
		dev_err(dev, "device lacks capabilities (%#x)\n", caps);
		return -ENODEV;
	}
	/* the device's limit bounds our transfer size */
	priv->buf_size = ALIGN_DOWN(clamp_t(u32, dma_max, SZ_4K, EDU_RNG_BUF_SIZE),
				    EDU_RNG_CANARY_STRIDE);
	return dma_set_mask_and_coherent(dev, caps & EDU_RNG_CAP_DMA64 ?
					 DMA_BIT_MASK(64) : DMA_BIT_MASK(32));
}

static int edu_rng_alloc_buffers(struct edu_rng *priv)
{
	struct edu_rng_buf *b;

	for (b = priv->bufs; b < priv->bufs + EDU_RNG_NR_BUFS; b++) {
		b->data = dmam_alloc_coherent(&priv->pdev->dev, priv->buf_size,
					      &b->dma, GFP_KERNEL);
		if (!b->data)
			return -ENOMEM;
	}
	return 0;
}

static int edu_rng_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct edu_rng *priv;
	int ret;

	/* not devm: open files of /dev/edu-rngN may outlive the binding */
	priv = kzalloc_obj(*priv);
	if (!priv)
		return -ENOMEM;
	kref_init(&priv->ref);
	ret = devm_add_action_or_reset(dev, edu_rng_put, priv);
	if (ret)
		return ret;
	priv->pdev = pdev;
	mutex_init(&priv->mode_lock);
	mutex_init(&priv->read_lock);
	spin_lock_init(&priv->lock);
	init_waitqueue_head(&priv->wait);
	INIT_DELAYED_WORK(&priv->watchdog, edu_rng_watchdog);
	priv->canary = get_random_u64();
	priv->hw_buf = -1;
	pci_set_drvdata(pdev, priv);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	priv->base = pcim_iomap_region(pdev, 0, KBUILD_MODNAME);
	if (IS_ERR(priv->base))
		return PTR_ERR(priv->base);

	ret = edu_rng_check_device(priv);
	if (ret)
		return ret;
	/* a previous driver may have left the device seeded or busy */
	iowrite32(EDU_RNG_CTRL_RESET, priv->base + EDU_RNG_REG_CTRL);
	pci_set_master(pdev);
	ret = edu_rng_alloc_buffers(priv);
	if (ret)
		return ret;

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI | PCI_IRQ_INTX);
	if (ret < 0)
		return ret;
	snprintf(priv->name, sizeof(priv->name), "edu-rng-%s", pci_name(pdev));
	priv->irq = pci_irq_vector(pdev, 0);
	ret = devm_request_irq(dev, priv->irq, edu_rng_irq, IRQF_SHARED,
			       priv->name, priv);
	if (ret)
		return ret;
	ret = devm_add_action_or_reset(dev, edu_rng_stop, priv);
	if (ret)
		return ret;

	priv->hwrng.name = priv->name;
	priv->hwrng.read = edu_rng_hwrng_read;
	/* kept across a seed: an admin's rng_quality survives it */
	priv->hwrng.quality = EDU_RNG_QUALITY;
	mutex_lock(&priv->mode_lock);
	ret = edu_rng_register(priv);
	mutex_unlock(&priv->mode_lock);
	if (ret)
		return ret;
	ret = devm_add_action_or_reset(dev, edu_rng_unregister, priv);
	if (ret)
		return ret;
	priv->vmfork_nb.notifier_call = edu_rng_vmfork;
	ret = register_random_vmfork_notifier(&priv->vmfork_nb);
	if (ret)
		return ret;
	ret = devm_add_action_or_reset(dev, edu_rng_vmfork_unregister, priv);
	if (ret)
		return ret;
	ret = edu_rng_cdev_add(priv);
	if (ret)
		return ret;

	dev_info(dev, "%s, /dev/%s: %s interrupts, %d x %zu-byte DMA buffers\n",
		 priv->name, priv->misc_name,
		 pdev->msi_enabled ? "MSI" : "INTx", EDU_RNG_NR_BUFS,
		 priv->buf_size);
	return 0;
}

static const struct pci_device_id edu_rng_ids[] = {
	{ PCI_VDEVICE(REDHAT, EDU_RNG_PCI_DEVICE_ID) },
#ifdef EDU_RNG_LAB
	EDU_RNG_LAB_PCI_IDS,
#endif
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_rng_ids);

static struct pci_driver edu_rng_driver = {
	.name = "edu-rng",
	.id_table = edu_rng_ids,
	.probe = edu_rng_probe,
	.dev_groups = edu_rng_groups,
};
module_pci_driver(edu_rng_driver);

MODULE_DESCRIPTION("hwrng driver for the edu-rng PCI device");
MODULE_LICENSE("GPL");
