// SPDX-License-Identifier: GPL-2.0
/*
 * edu-rng: hwrng driver for QEMU's edu-rng PCI device (1234:cafe)
 *
 * The device fills a coherent DMA buffer from its generator and raises an
 * interrupt when done; ->read() copies out of that buffer and starts the
 * next transfer when it runs dry.  Seeding through sysfs makes the stream a
 * deterministic function of the seed; the bytes read next are that stream.
 *
 * Device specification: Documentation/edu-rng-device.rst
 */

#include <linux/completion.h>
#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/hw_random.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/sysfs.h>

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
#define EDU_RNG_CAPS_NEEDED	(EDU_RNG_CAP_DMA_RNG | EDU_RNG_CAP_SEED64 | \
				 EDU_RNG_CAP_XFER)

#define EDU_RNG_CTRL_RESET	BIT(0)
#define EDU_RNG_CTRL_UNSEED	BIT(1)

#define EDU_RNG_STATUS_ERROR	BIT(1)

#define EDU_RNG_IRQ_DMA_DONE	BIT(8)
#define EDU_RNG_IRQ_DMA_ERROR	BIT(9)
#define EDU_RNG_IRQ_DMA		(EDU_RNG_IRQ_DMA_DONE | EDU_RNG_IRQ_DMA_ERROR)

#define EDU_RNG_DMA_START	BIT(0)
#define EDU_RNG_DMA_TO_RAM	BIT(1)
#define EDU_RNG_DMA_IRQ		BIT(2)
#define EDU_RNG_DMA_RNG		BIT(3)

/* One transfer per 16 KiB keeps the interrupt rate low. */
#define EDU_RNG_BUF_SIZE	SZ_16K
#define EDU_RNG_DMA_TIMEOUT	msecs_to_jiffies(1000)
/* host-entropy mode: the device's ChaCha20 is keyed from the host's RNG */
#define EDU_RNG_QUALITY		1024

struct edu_rng {
	struct pci_dev *pdev;
	void __iomem *base;
	struct hwrng hwrng;
	char name[32];

	/* serializes mode changes; protects registered and seeded */
	struct mutex mode_lock;
	bool registered;
	bool seeded;

	/* protects the buffer and the DMA engine */
	struct mutex lock;
	struct completion dma_done;
	u32 irq_cause;		/* DMA causes seen by the interrupt handler */
	bool dma_busy;
	u8 *buf;
	dma_addr_t buf_dma;
	size_t buf_size;
	size_t buf_pos;		/* buf[buf_pos..buf_len) is unread */
	size_t buf_len;
};

static irqreturn_t edu_rng_irq(int irq, void *data)
{
	struct edu_rng *priv = data;
	u32 cause = ioread32(priv->base + EDU_RNG_REG_IRQ_STATUS);

	/* all ones: the device is gone */
	if (!cause || cause == ~0U)
		return IRQ_NONE;
	iowrite32(cause, priv->base + EDU_RNG_REG_IRQ_ACK);
	if (cause & EDU_RNG_IRQ_DMA) {
		WRITE_ONCE(priv->irq_cause, cause);
		complete(&priv->dma_done);
	}
	return IRQ_HANDLED;
}

static void edu_rng_start_dma(struct edu_rng *priv)
{
	void __iomem *base = priv->base;

	reinit_completion(&priv->dma_done);
	WRITE_ONCE(priv->irq_cause, 0);
	priv->dma_busy = true;
	iowrite32(lower_32_bits(priv->buf_dma), base + EDU_RNG_REG_DMA_DST);
	iowrite32(upper_32_bits(priv->buf_dma), base + EDU_RNG_REG_DMA_DST + 4);
	iowrite32(priv->buf_size, base + EDU_RNG_REG_DMA_COUNT);
	iowrite32(0, base + EDU_RNG_REG_DMA_COUNT + 4);
	iowrite32(EDU_RNG_DMA_START | EDU_RNG_DMA_TO_RAM | EDU_RNG_DMA_IRQ |
		  EDU_RNG_DMA_RNG, base + EDU_RNG_REG_DMA_CMD);
}

/* Stop whatever the device is doing; it comes back in host-entropy mode. */
static void edu_rng_reset_device(struct edu_rng *priv)
{
	iowrite32(EDU_RNG_CTRL_RESET, priv->base + EDU_RNG_REG_CTRL);
	priv->dma_busy = false;
	priv->buf_pos = 0;
	priv->buf_len = 0;
}

/*
 * Collect the transfer started by edu_rng_start_dma().  Returns 0 with the
 * buffer full, -EAGAIN if it is still running and @wait is false, -EIO if
 * the device failed it.
 */
static int edu_rng_finish_dma(struct edu_rng *priv, bool wait)
{
	struct device *dev = &priv->pdev->dev;
	long left;
	u32 cause, xfer;

	if (!wait) {
		if (!try_wait_for_completion(&priv->dma_done))
			return -EAGAIN;
	} else {
		left = wait_for_completion_killable_timeout(&priv->dma_done,
							    EDU_RNG_DMA_TIMEOUT);
		if (left == -ERESTARTSYS)
			return -EINTR;
		if (!left) {
			dev_err_ratelimited(dev, "DMA timed out, resetting\n");
			edu_rng_reset_device(priv);
			return -EIO;
		}
	}
	priv->dma_busy = false;
	cause = READ_ONCE(priv->irq_cause);
	xfer = ioread32(priv->base + EDU_RNG_REG_XFER);
	if (cause != EDU_RNG_IRQ_DMA_DONE || xfer != priv->buf_size) {
		dev_err_ratelimited(dev, "DMA failed (cause %#x, %u of %zu bytes)\n",
				    cause, xfer, priv->buf_size);
		iowrite32(EDU_RNG_STATUS_ERROR, priv->base + EDU_RNG_REG_STATUS);
		return -EIO;
	}
	priv->buf_pos = 0;
	priv->buf_len = priv->buf_size;
	return 0;
}

/*
 * Fill all of @data when @wait allows, so the hwrng core always gets whole
 * requests: it keeps the rest of a partial one and hands it out later.
 */
static int edu_rng_read(struct hwrng *rng, void *data, size_t max, bool wait)
{
	struct edu_rng *priv = container_of(rng, struct edu_rng, hwrng);
	size_t n, copied = 0;
	int ret = 0;

	if (wait)
		mutex_lock(&priv->lock);
	else if (!mutex_trylock(&priv->lock))
		return 0;

	while (copied < max) {
		if (priv->buf_pos == priv->buf_len) {
			if (!priv->dma_busy)
				edu_rng_start_dma(priv);
			ret = edu_rng_finish_dma(priv, wait);
			if (ret)
				break;
		}
		n = min(max - copied, priv->buf_len - priv->buf_pos);
		memcpy(data + copied, priv->buf + priv->buf_pos, n);
		priv->buf_pos += n;
		copied += n;
	}
	mutex_unlock(&priv->lock);
	if (copied)
		return copied;
	/* without @wait, "nothing yet" is 0 bytes, not an error */
	return ret == -EAGAIN ? 0 : ret;
}

/* Wait out a transfer a non-blocking reader left running. */
static void edu_rng_quiesce(struct edu_rng *priv)
{
	if (priv->dma_busy &&
	    !wait_for_completion_timeout(&priv->dma_done, EDU_RNG_DMA_TIMEOUT))
		edu_rng_reset_device(priv);
	priv->dma_busy = false;
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
	/* a seeded stream is deterministic: credit no entropy for it */
	priv->hwrng.quality = priv->seeded ? 0 : EDU_RNG_QUALITY;
	ret = hwrng_register(&priv->hwrng);
	if (ret)
		dev_err(&priv->pdev->dev, "cannot register hwrng: %d\n", ret);
	priv->registered = !ret;
	return ret;
}

/*
 * Seed the device (@seeded) or return it to host entropy.  The hwrng core
 * reads an rng's quality only when the rng becomes current, so a change of
 * mode re-registers the hwrng with the new quality.
 */
static int edu_rng_set_mode(struct edu_rng *priv, bool seeded, u64 seed)
{
	void __iomem *base = priv->base;
	bool reregister;
	int ret = 0;

	mutex_lock(&priv->mode_lock);
	reregister = priv->registered && priv->seeded != seeded;
	if (reregister) {
		hwrng_unregister(&priv->hwrng);
		priv->registered = false;
	}

	mutex_lock(&priv->lock);
	edu_rng_quiesce(priv);
	if (seeded) {
		iowrite32(upper_32_bits(seed), base + EDU_RNG_REG_SEED_HI);
		iowrite32(lower_32_bits(seed), base + EDU_RNG_REG_SEED);
	} else {
		iowrite32(EDU_RNG_CTRL_UNSEED, base + EDU_RNG_REG_CTRL);
	}
	/* bytes fetched before belong to the old stream */
	priv->buf_pos = 0;
	priv->buf_len = 0;
	priv->seeded = seeded;
	mutex_unlock(&priv->lock);

	if (reregister)
		ret = edu_rng_register(priv);
	mutex_unlock(&priv->mode_lock);
	return ret;
}

/* Decimal, or hex after "0x"; no sign, no octal, no surrounding blanks. */
static int edu_rng_parse_seed(const char *buf, u64 *seed)
{
	if (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X'))
		return isxdigit(buf[2]) ? kstrtou64(buf + 2, 16, seed) : -EINVAL;
	return isdigit(buf[0]) ? kstrtou64(buf, 10, seed) : -EINVAL;
}

static ssize_t seed_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct edu_rng *priv = dev_get_drvdata(dev);
	u64 seed;
	int ret;

	ret = edu_rng_parse_seed(buf, &seed);
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
ATTRIBUTE_GROUPS(edu_rng);

static void edu_rng_stop(void *data)
{
	struct edu_rng *priv = data;

	/* no DMA into the buffer and no interrupt once they are freed */
	edu_rng_reset_device(priv);
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
	priv->buf_size = clamp_t(u32, dma_max, SMP_CACHE_BYTES, EDU_RNG_BUF_SIZE);
	return dma_set_mask_and_coherent(dev, caps & EDU_RNG_CAP_DMA64 ?
					 DMA_BIT_MASK(64) : DMA_BIT_MASK(32));
}

static int edu_rng_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct edu_rng *priv;
	int ret;

	priv = devm_kzalloc(dev, sizeof(*priv), GFP_KERNEL);
	if (!priv)
		return -ENOMEM;
	priv->pdev = pdev;
	mutex_init(&priv->mode_lock);
	mutex_init(&priv->lock);
	init_completion(&priv->dma_done);
	pci_set_drvdata(pdev, priv);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret)
		return ret;
	priv->base = pcim_iomap_table(pdev)[0];

	ret = edu_rng_check_device(priv);
	if (ret)
		return ret;
	/* a previous driver may have left the device seeded or busy */
	edu_rng_reset_device(priv);
	pci_set_master(pdev);
	priv->buf = dmam_alloc_coherent(dev, priv->buf_size, &priv->buf_dma,
					GFP_KERNEL);
	if (!priv->buf)
		return -ENOMEM;

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI | PCI_IRQ_LEGACY);
	if (ret < 0)
		return ret;
	snprintf(priv->name, sizeof(priv->name), "edu-rng-%s", pci_name(pdev));
	ret = devm_request_irq(dev, pci_irq_vector(pdev, 0), edu_rng_irq,
			       IRQF_SHARED, priv->name, priv);
	if (ret)
		return ret;
	ret = devm_add_action_or_reset(dev, edu_rng_stop, priv);
	if (ret)
		return ret;

	priv->hwrng.name = priv->name;
	priv->hwrng.read = edu_rng_read;
	mutex_lock(&priv->mode_lock);
	ret = edu_rng_register(priv);
	mutex_unlock(&priv->mode_lock);
	if (ret)
		return ret;
	ret = devm_add_action_or_reset(dev, edu_rng_unregister, priv);
	if (ret)
		return ret;

	dev_info(dev, "%s: %s interrupts, %zu-byte DMA buffer\n", priv->name,
		 pdev->msi_enabled ? "MSI" : "INTx", priv->buf_size);
	return 0;
}

static const struct pci_device_id edu_rng_ids[] = {
	{ PCI_DEVICE(0x1234, 0xcafe) },
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
