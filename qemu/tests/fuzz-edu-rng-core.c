// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: random MMIO reads and writes, DMA requests, delayed
 * completions, resets and loads against the edu-rng device core, under
 * ASan and UBSan.  Besides "no crash, no sanitizer report" it checks invariants a
 * guest relies on.  Each input is a list of 12-byte operations.
 */

#include "qemu/osdep.h"
#include "edu-rng-core.h"

#define RAM_BASE 0x10000ull
#define RAM_SIZE (64u << 10)
#define DMA_MAX (64u << 10)

static uint8_t ram[RAM_SIZE];
static uint8_t ahead[DMA_MAX], check_buf[DMA_MAX];
static uint32_t irq_level;
static int scheduled;
static const EduRngCore *cur;

static bool in_ram(uint64_t addr, uint32_t len)
{
	return addr >= RAM_BASE && addr - RAM_BASE <= RAM_SIZE &&
	       len <= RAM_SIZE - (addr - RAM_BASE);
}

static bool f_read(void *o, uint64_t addr, void *buf, uint32_t len)
{
	if (!in_ram(addr, len))
		return false;
	memcpy(buf, ram + (addr - RAM_BASE), len);
	return true;
}

static bool f_write(void *o, uint64_t addr, const void *buf, uint32_t len)
{
	const uint8_t *p = buf;

	/* under FAULT_NO_WRITE only EDU buffer transfers write */
	if ((cur->fault & EDU_RNG_FAULT_NO_WRITE) &&
	    (p < cur->dma_buf || p >= cur->dma_buf + sizeof(cur->dma_buf)))
		abort();
	if (!in_ram(addr, len))
		return false;
	memcpy(ram + (addr - RAM_BASE), buf, len);
	return true;
}

static void f_irq(void *o, uint32_t old, uint32_t new_status)
{
	if (old == new_status)
		abort();	/* only changes are reported */
	irq_level = new_status;
}

static void f_entropy(void *o, void *buf, size_t len)
{
	memset(buf, 0x5a, len);
}

static void f_error(void *o, const char *msg)
{
	if (!msg[0])
		abort();
}

static void f_schedule(void *o, uint64_t ns)
{
	scheduled++;
}

static const EduRngCoreOps ops = {
	.dma_read = f_read,
	.dma_write = f_write,
	.irq_update = f_irq,
	.get_entropy = f_entropy,
	.guest_error = f_error,
	.schedule = f_schedule,
};

/*
 * A stager (QEMU's worker thread): the request is kept, and the buffer
 * scribbled over as a worker busy with it would; f_run_stager() makes
 * it and hands it over.
 */
static EduRngGen stage_from;
static uint32_t stage_len;

static void f_stage(void *o, const EduRngGen *from, uint32_t len)
{
	if (len > DMA_MAX)
		abort();
	stage_len = len;
	if (len)
		stage_from = *from;
	memset(ahead, 0xa5, sizeof(ahead));
}

static void f_run_stager(EduRngCore *c)
{
	EduRngGen g = stage_from;
	uint32_t len = stage_len;

	if (!len)
		return;
	edu_rng_gen_fill(&g, ahead, len);
	stage_len = 0;
	if (edu_rng_core_staged(c, &stage_from, len))
		edu_rng_core_dma_complete(c);
}

static const EduRngCoreOps staged_ops = {
	.dma_read = f_read,
	.dma_write = f_write,
	.irq_update = f_irq,
	.get_entropy = f_entropy,
	.guest_error = f_error,
	.schedule = f_schedule,
	.stage = f_stage,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	EduRngCore c;

	irq_level = 0;
	scheduled = 0;
	cur = &c;
	stage_len = 0;
	edu_rng_core_init(&c, size && data[0] & 8 ? &staged_ops : &ops, NULL,
			  DMA_MAX);
	if (size && data[0] & 1) {
		c.dma_latency_ns = 1000;
		c.can_delay = true;
	}
	if (size && data[0] & 2) {
		c.fault_injection = true;
		c.can_delay = true;
	}
	if (size && data[0] & 4) {
		c.async_dma = true;
		c.can_delay = true;
		c.ahead = ahead;
	}
	if (size && data[0] & 8) {
		c.can_delay = true;
		c.ahead = ahead;
		c.gen_ahead = data[0] & 16;
	}
	for (size_t i = 1; i + 12 <= size; i += 12) {
		const uint8_t *op = data + i;
		/* offsets mostly near the registers, sometimes anywhere */
		uint64_t addr = op[1] & 0x80 ? (uint64_t)op[2] << 12 | op[3] :
			       (op[2] & 0xff);
		unsigned int sizes[] = { 1, 2, 4, 8 };
		unsigned int sz = sizes[op[1] & 3];
		uint64_t val;
		uint32_t irq_before = c.irq_status;
		bool stuck = c.fault & EDU_RNG_FAULT_IRQ_STUCK;

		memcpy(&val, op + 4, 8);
		/* keep DMA addresses near the fake RAM often enough */
		if ((op[1] & 0x70) == 0x10)
			val = RAM_BASE + (val % (RAM_SIZE + 64));
		/*
		 * and small values often enough: FAULT, CTRL and IRQ bits,
		 * which a random 32-bit value almost never has alone
		 */
		if ((op[1] & 0x70) == 0x20)
			val &= EDU_RNG_FAULT_MASK | EDU_RNG_IRQ_DMA_ERROR;
		switch (op[0] % 5) {
		case 0:
			edu_rng_core_read(&c, addr, sz);
			break;
		case 1:
		case 2:
			edu_rng_core_write(&c, addr, val, sz);
			break;
		case 3:
			edu_rng_core_dma_complete(&c);
			break;
		case 4:
			if (op[1] == 0xff)
				edu_rng_core_reset(&c);
			/* saved and loaded back, as migration does */
			if (op[1] == 0xfe)
				edu_rng_core_post_load(&c);
			/* the stager's answer; it stopped, and goes on */
			if (op[1] < 0x80)
				f_run_stager(&c);
			if (op[1] == 0xfd) {
				edu_rng_core_unstage(&c);
				stage_len = 0;
				edu_rng_core_restage(&c);
			}
			break;
		}
		/* what migration relies on: any state loads back */
		if (!edu_rng_core_state_valid(&c))
			abort();
		/*
		 * What a guest relies on.  The line follows IRQ_STATUS, but
		 * for causes FAULT_LOST_IRQ set without signalling them.
		 */
		if (irq_level & ~c.irq_status ||
		    (!c.fault_injection && irq_level != c.irq_status))
			abort();
		if ((c.pending || c.hung) != !!(c.status & EDU_RNG_STATUS_BUSY))
			abort();
		if (c.xfer > DMA_MAX + EDU_RNG_BUF_SIZE || c.gen.used > 64)
			abort();
		/* under FAULT_IRQ_STUCK an ack clears nothing */
		if (stuck && op[0] % 5 != 0 && op[0] % 5 < 3 &&
		    addr == EDU_RNG_REG_IRQ_ACK && c.irq_status != irq_before)
			abort();
	}
	/* and once flushed too */
	edu_rng_core_dma_complete(&c);
	if (!edu_rng_core_state_valid(&c))
		abort();
	/* bytes made ahead are the stream from where they say they start */
	if (c.ahead_len) {
		EduRngGen g = c.ahead_gen;

		if (c.ahead_len > DMA_MAX)
			abort();
		edu_rng_gen_fill(&g, check_buf, c.ahead_len);
		if (memcmp(check_buf, ahead, c.ahead_len))
			abort();
	}
	return 0;
}
