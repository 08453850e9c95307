// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the edu-rng device core: known-answer vectors of the
 * generator and the register file, including every invalid DMA request.
 * Output is TAP.
 */

#include "qemu/osdep.h"
#include "edu-rng-core.h"

#define RAM_BASE 0x100000ull
#define RAM_SIZE (2u << 20)

static uint8_t ram[RAM_SIZE];
static unsigned int errors_logged, irq_updates, tests, failures;
static uint32_t irq_level;

/* dma_read() and dma_write() calls */
static unsigned int dma_calls;

static bool fake_dma_read(void *opaque, uint64_t addr, void *buf, uint32_t len)
{
	dma_calls++;
	if (addr < RAM_BASE || addr - RAM_BASE > RAM_SIZE ||
	    len > RAM_SIZE - (addr - RAM_BASE))
		return false;
	memcpy(buf, ram + (addr - RAM_BASE), len);
	return true;
}

/* dma_write() calls, and bytes of those that failed */
static unsigned int dma_writes;
static uint64_t dma_failed_bytes;

/*
 * As QEMU's address_space_write(): the part of the range in RAM is written
 * even when the rest fails, and the access goes on past the failure.
 */
static bool fake_dma_write(void *opaque, uint64_t addr, const void *buf,
			   uint32_t len)
{
	const uint8_t *p = buf;
	bool ok = true;

	dma_writes++;
	dma_calls++;
	for (uint32_t i = 0; i < len; i++) {
		uint64_t a = addr + i;

		if (a < RAM_BASE || a - RAM_BASE >= RAM_SIZE)
			ok = false;
		else
			ram[a - RAM_BASE] = p[i];
	}
	if (!ok)
		dma_failed_bytes += len;
	return ok;
}

static void fake_irq_update(void *opaque, uint32_t old, uint32_t new_status)
{
	irq_updates++;
	irq_level = new_status;
}

static void fake_entropy(void *opaque, void *buf, size_t len)
{
	static uint8_t x = 1;

	for (uint8_t *p = buf; len--; p++)
		*p = x++ * 151;
}

static void fake_error(void *opaque, const char *msg)
{
	errors_logged++;
	if (getenv("VERBOSE"))
		fprintf(stderr, "# guest error: %s\n", msg);
}

static uint64_t scheduled_ns;

static void fake_schedule(void *opaque, uint64_t ns)
{
	scheduled_ns = ns;
}

static const EduRngCoreOps ops = {
	.dma_read = fake_dma_read,
	.dma_write = fake_dma_write,
	.irq_update = fake_irq_update,
	.get_entropy = fake_entropy,
	.guest_error = fake_error,
	.schedule = fake_schedule,
};

static void check(bool ok, const char *what)
{
	tests++;
	if (!ok)
		failures++;
	printf("%sok %u - %s\n", ok ? "" : "not ", tests, what);
}

static void hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sscanf(s + 2 * i, "%2hhx", &out[i]);
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static uint32_t ld_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* RFC 8439 2.3.2: key 00..1f, nonce 000000090000004a00000000, counter 1 */
static void test_rfc8439_block(void)
{
	static const char *want =
		"10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
		"d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e";
	uint8_t key[32], out[64], exp[64];
	EduRngGen g;

	for (int i = 0; i < 32; i++)
		key[i] = i;
	edu_rng_gen_key(&g, key, 0);
	/* words 13-15 carry the RFC's nonce: 0x09000000, 0x4a000000, 0 */
	edu_rng_chacha20_block(g.key, 1 | 0x09000000ull << 32, 0x4a000000, out);
	hex(want, exp, 64);
	check(!memcmp(out, exp, 64), "ChaCha20 block matches RFC 8439 2.3.2");
}

/* Seed 0 is the all-zero key: RFC 8439 A.1 test vectors #1 and #2. */
static void test_seed0_kat(void)
{
	static const char *want =
		"76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
		"da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
		"9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
		"29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f";
	uint8_t out[128], exp[128];
	EduRngGen g;

	edu_rng_gen_seed(&g, 0);
	edu_rng_gen_fill(&g, out, sizeof(out));
	hex(want, exp, sizeof(exp));
	check(!memcmp(out, exp, sizeof(out)),
	      "seed 0 stream is RFC 8439 A.1 vectors #1 and #2");
}

/* The KAT vectors of Documentation/edu-rng-device.rst */
static void test_spec_kat(void)
{
	static const struct {
		uint64_t seed;
		uint32_t first[4];
	} kat[] = {
		{ 0, { 0xade0b876, 0x903df1a0, 0xe56a5d40, 0x28bd8653 } },
		{ 42, { 0x26e5761f, 0x6ae30a51, 0x5c8b5c62, 0xb4eb7f59 } },
		{ 0xffffffffffffffffull,
		  { 0x6beea23f, 0xeb4153da, 0xfc8a4224, 0x3836e52a } },
	};
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		EduRngGen g;
		uint32_t v[4];
		char what[80];

		edu_rng_gen_seed(&g, kat[i].seed);
		for (int j = 0; j < 4; j++)
			v[j] = edu_rng_gen_u32(&g);
		if (getenv("PRINT_KAT"))
			fprintf(stderr, "# seed %#llx: %#010x %#010x %#010x %#010x\n",
				(unsigned long long)kat[i].seed, v[0], v[1],
				v[2], v[3]);
		snprintf(what, sizeof(what), "KAT seed %#llx first 4 RANDOM reads",
			 (unsigned long long)kat[i].seed);
		check(!memcmp(v, kat[i].first, sizeof(v)), what);
	}
}

/* Odd-sized fills must give the same stream as one large fill. */
static void test_fill_seams(void)
{
	uint8_t a[1000], b[1000];
	EduRngGen g;
	size_t off = 0, n = 1;

	edu_rng_gen_seed(&g, 7);
	edu_rng_gen_fill(&g, a, sizeof(a));
	edu_rng_gen_seed(&g, 7);
	while (off < sizeof(b)) {
		if (n > sizeof(b) - off)
			n = sizeof(b) - off;
		edu_rng_gen_fill(&g, b + off, n);
		off += n;
		n = n * 3 % 71 + 1;
	}
	check(!memcmp(a, b, sizeof(a)), "stream has no seams across fill sizes");
}

/*
 * Long fills (the 16- and 8-block vector paths, and the tails) against
 * the block function, one block at a time: from blocks 0, 2^32 - 5 and
 * 2^32 - 16 (word 13 takes the carry inside one call) and 2^64 - 7 (the
 * counter wraps), starting 0, 17 and 63 bytes into a block.
 */
static void test_fill_vectors(void)
{
	static const uint64_t counters[] = { 0, (1ull << 32) - 5,
					     (1ull << 32) - 16, -7ull };
	static const size_t starts[] = { 0, 17, 63 };
	static const size_t lens[] = { 1024, 1025, 4096 + 33, 1536 + 511 };
	static uint8_t want[8192], got[8192];
	uint8_t skip[64];
	bool ok = true;
	EduRngGen g;

	for (size_t i = 0; i < ARRAY_SIZE(counters); i++) {
		edu_rng_gen_seed(&g, 0x5eed);
		for (size_t b = 0; b < sizeof(want) / 64; b++)
			edu_rng_chacha20_block(g.key, counters[i] + b, g.nonce,
					       want + 64 * b);
		for (size_t j = 0; j < ARRAY_SIZE(starts); j++) {
			for (size_t k = 0; k < ARRAY_SIZE(lens); k++) {
				edu_rng_gen_seed(&g, 0x5eed);
				g.counter = counters[i];
				edu_rng_gen_fill(&g, skip, starts[j]);
				edu_rng_gen_fill(&g, got, lens[k]);
				ok = ok && !memcmp(got, want + starts[j], lens[k]);
			}
		}
	}
	check(ok, "long fills equal the block function, across 2^32 and 2^64");
}

/* Skipping n bytes then filling gives what filling past them gives. */
static void test_skip(void)
{
	static const size_t at[] = { 0, 3, 64, 100 };
	static const size_t skip[] = { 0, 1, 60, 61, 64, 65, 127, 4096, 4097,
				       1000003 };
	static uint8_t whole[1000003 + 100 + 256];
	uint8_t part[256];
	bool ok = true;
	EduRngGen g;

	edu_rng_gen_seed(&g, 9);
	edu_rng_gen_fill(&g, whole, sizeof(whole));
	for (size_t i = 0; i < ARRAY_SIZE(at); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(skip); j++) {
			edu_rng_gen_seed(&g, 9);
			edu_rng_gen_fill(&g, part, at[i]);
			edu_rng_gen_skip(&g, skip[j]);
			edu_rng_gen_fill(&g, part, sizeof(part));
			ok &= !memcmp(part, whole + at[i] + skip[j],
				      sizeof(part));
		}
	}
	check(ok, "skipping n bytes lands where filling n bytes does");
}

static void core_new(EduRngCore *c)
{
	edu_rng_core_init(c, &ops, NULL, 1u << 20);
	irq_level = 0;	/* a new device, its line down */
	errors_logged = 0;
}

/* The paths a generator transfer takes, for the tests that try each */
enum { PATHS = 4 };
static const char *const path[PATHS] = {
	"at once", "dma-latency-ns", "in the main loop", "gen-ahead",
};

/* Make @c take path @i (gen-ahead stages into a buffer of its own) */
static void take_path(EduRngCore *c, int i)
{
	static uint8_t ahead[1u << 20];

	c->can_delay = true;
	c->dma_latency_ns = i == 1 ? 1000 : 0;
	c->async_dma = i >= 2;
	c->ahead = i == 3 ? ahead : NULL;
}

static uint64_t rd(EduRngCore *c, uint64_t addr)
{
	return edu_rng_core_read(c, addr, 4);
}

static void wr(EduRngCore *c, uint64_t addr, uint64_t v)
{
	edu_rng_core_write(c, addr, v, 4);
}

static void seed(EduRngCore *c, uint64_t s)
{
	wr(c, EDU_RNG_REG_SEED_HI, s >> 32);
	wr(c, EDU_RNG_REG_SEED, (uint32_t)s);
}

static void test_registers(void)
{
	EduRngCore c;
	EduRngGen g;
	uint32_t a, b;

	core_new(&c);
	check(rd(&c, EDU_RNG_REG_ID) == EDU_RNG_ID, "ID register");
	check(rd(&c, EDU_RNG_REG_CAPS) & EDU_RNG_CAP_DMA_RNG, "CAPS has DMA_RNG");
	check(rd(&c, EDU_RNG_REG_DMA_MAX) == 1u << 20, "DMA_MAX is the property");
	check(!(rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_SEEDED),
	      "starts in host-entropy mode");

	wr(&c, EDU_RNG_REG_SEED, 42);
	edu_rng_gen_seed(&g, 42);
	check(rd(&c, EDU_RNG_REG_RANDOM) == edu_rng_gen_u32(&g) &&
	      rd(&c, EDU_RNG_REG_RANDOM) == edu_rng_gen_u32(&g),
	      "lab seed at 0x04 then reads at 0x00 give seed 42's stream");
	check(rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_SEEDED,
	      "STATUS.SEEDED after a seed");

	seed(&c, 0x123456789abcdefull);
	edu_rng_gen_seed(&g, 0x123456789abcdefull);
	check(rd(&c, EDU_RNG_REG_RANDOM) == edu_rng_gen_u32(&g) &&
	      rd(&c, EDU_RNG_REG_SEED_HI) == 0,
	      "64-bit seed through SEED_HI; SEED_HI clears after use");

	wr(&c, EDU_RNG_REG_CTRL, EDU_RNG_CTRL_UNSEED);
	a = rd(&c, EDU_RNG_REG_RANDOM);
	edu_rng_gen_seed(&g, 0x123456789abcdefull);
	edu_rng_gen_u32(&g);
	check(!(rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_SEEDED) &&
	      a != edu_rng_gen_u32(&g), "CTRL.UNSEED returns to host entropy");

	wr(&c, EDU_RNG_REG_IRQ_RAISE, 0x5);
	check(irq_level == 0x5 && rd(&c, EDU_RNG_REG_IRQ_STATUS) == 0x5,
	      "IRQ_RAISE sets causes and the line");
	wr(&c, EDU_RNG_REG_IRQ_ACK, 0x1);
	check(irq_level == 0x4, "IRQ_ACK clears one cause");

	seed(&c, 9);
	wr(&c, EDU_RNG_REG_DMA_SRC, 0x1234);
	wr(&c, EDU_RNG_REG_CTRL, EDU_RNG_CTRL_RESET);
	check(irq_level == 0 && rd(&c, EDU_RNG_REG_STATUS) == 0 &&
	      rd(&c, EDU_RNG_REG_DMA_SRC) == 0,
	      "CTRL.RESET clears registers, interrupt and seed");

	b = errors_logged;
	wr(&c, EDU_RNG_REG_CTRL, 0x80);
	check(errors_logged == b + 1, "CTRL reserved bits are a logged error");
}

static void dma(EduRngCore *c, uint64_t src, uint64_t dst, uint64_t count,
		uint64_t cmd)
{
	edu_rng_core_write(c, EDU_RNG_REG_DMA_SRC, src, 8);
	edu_rng_core_write(c, EDU_RNG_REG_DMA_DST, dst, 8);
	edu_rng_core_write(c, EDU_RNG_REG_DMA_COUNT, count, 8);
	edu_rng_core_write(c, EDU_RNG_REG_DMA_CMD, cmd, 8);
}

#define RNG_CMD (EDU_RNG_DMA_START | EDU_RNG_DMA_TO_RAM | EDU_RNG_DMA_IRQ | \
		 EDU_RNG_DMA_RNG)

static void test_dma_generator(void)
{
	static uint8_t want[70000];
	EduRngCore c;
	EduRngGen g;

	core_new(&c);
	seed(&c, 1);
	edu_rng_gen_seed(&g, 1);
	edu_rng_gen_fill(&g, want, sizeof(want));
	memset(ram, 0, sizeof(ram));
	dma(&c, 0, RAM_BASE + 3, 4097, RNG_CMD);
	check(!memcmp(ram + 3, want, 4097) && ram[2] == 0 && ram[3 + 4097] == 0,
	      "generator DMA writes exactly the stream, nothing outside");
	check(rd(&c, EDU_RNG_REG_XFER) == 4097, "XFER counts the bytes moved");
	check(rd(&c, EDU_RNG_REG_IRQ_STATUS) == EDU_RNG_IRQ_DMA_DONE &&
	      !(edu_rng_core_read(&c, EDU_RNG_REG_DMA_CMD, 8) &
		EDU_RNG_DMA_START),
	      "DMA_DONE raised and START cleared on completion");
	check(rd(&c, EDU_RNG_REG_RANDOM) == (uint32_t)(want[4097] |
		want[4098] << 8 | want[4099] << 16 | (uint32_t)want[4100] << 24),
	      "RANDOM continues the stream after DMA");
	dma(&c, 0, RAM_BASE + 0x10000, sizeof(want) - 4101, RNG_CMD);
	check(!memcmp(ram + 0x10000, want + 4101, sizeof(want) - 4101),
	      "large generator DMA continues the stream");
	dma(&c, 0, RAM_BASE, 1u << 20, RNG_CMD);
	check(rd(&c, EDU_RNG_REG_XFER) == 1u << 20 && !errors_logged,
	      "1 MiB generator DMA (DMA_MAX) succeeds");
}

/* dma-latency-ns: bytes drawn at the start, written at completion. */
static void test_dma_latency(void)
{
	static uint8_t want[8192];
	EduRngCore c;
	EduRngGen g;

	core_new(&c);
	c.dma_latency_ns = 50000;
	c.can_delay = true;
	seed(&c, 11);
	edu_rng_gen_seed(&g, 11);
	edu_rng_gen_fill(&g, want, sizeof(want));
	memset(ram, 0, 8192);
	scheduled_ns = 0;
	/* start mid-block, so the transfer's bytes are not block-aligned */
	check(rd(&c, EDU_RNG_REG_RANDOM) == ld_le32(want),
	      "RANDOM before a delayed DMA: the stream's first word");
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(scheduled_ns == 50000 &&
	      (rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_BUSY) &&
	      rd(&c, EDU_RNG_REG_IRQ_STATUS) == 0 && ram[0] == 0 && !ram[4095],
	      "delayed DMA: BUSY, no interrupt and no bytes before completion");
	edu_rng_core_write(&c, EDU_RNG_REG_DMA_CMD, RNG_CMD, 8);
	check(errors_logged == 1, "a command while BUSY is logged and ignored");
	/* the transfer took its place in the stream when it started */
	check(rd(&c, EDU_RNG_REG_RANDOM) == ld_le32(want + 4 + 4096),
	      "RANDOM while a delayed DMA runs: the word after its bytes");
	/* a seed meanwhile does not change the bytes already placed */
	seed(&c, 12);
	edu_rng_core_dma_complete(&c);
	check(!memcmp(ram, want + 4, 4096) &&
	      rd(&c, EDU_RNG_REG_XFER) == 4096 &&
	      rd(&c, EDU_RNG_REG_IRQ_STATUS) == EDU_RNG_IRQ_DMA_DONE &&
	      !(rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_BUSY),
	      "completion writes the bytes drawn at the start, raises DMA_DONE");
	edu_rng_core_dma_complete(&c);
	check(rd(&c, EDU_RNG_REG_IRQ_STATUS) == EDU_RNG_IRQ_DMA_DONE &&
	      errors_logged == 1, "a late second completion does nothing");
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	wr(&c, EDU_RNG_REG_CTRL, EDU_RNG_CTRL_RESET);
	memset(ram, 0, 4096);
	edu_rng_core_dma_complete(&c);
	check(!ram[0] && !ram[4095] && rd(&c, EDU_RNG_REG_STATUS) == 0 &&
	      edu_rng_core_state_valid(&c),
	      "reset cancels a delayed transfer");
}

static bool busy(EduRngCore *c)
{
	return rd(c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_BUSY;
}

/* One DMA_DONE, acknowledged; false if none was raised. */
static bool took_done(EduRngCore *c)
{
	bool done = rd(c, EDU_RNG_REG_IRQ_STATUS) == EDU_RNG_IRQ_DMA_DONE;

	wr(c, EDU_RNG_REG_IRQ_ACK, EDU_RNG_IRQ_DMA_DONE);
	return done;
}

/*
 * Generation ahead: after a transfer the core makes the next one's bytes
 * in edu_rng_core_dma_complete(); a command that starts where they do
 * is copied from them, any other is generated at once, and either way the
 * guest gets exactly the stream.
 */
static void test_gen_ahead(void)
{
	static uint8_t ahead[1u << 20], want[32768], want6[4096];
	EduRngCore c;
	EduRngGen g;

	core_new(&c);
	c.async_dma = true;
	c.can_delay = true;
	c.ahead = ahead;
	seed(&c, 5);
	edu_rng_gen_seed(&g, 5);
	edu_rng_gen_fill(&g, want, sizeof(want));
	edu_rng_gen_seed(&g, 6);
	edu_rng_gen_fill(&g, want6, sizeof(want6));

	scheduled_ns = 1;
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(!busy(&c) && took_done(&c) && !memcmp(ram, want, 4096) &&
	      c.ahead_len == 0 && scheduled_ns == 0,
	      "ahead: with nothing made ahead a transfer is made at once");
	edu_rng_core_dma_complete(&c);
	check(c.ahead_len == 4096 && !busy(&c),
	      "ahead: the main loop then makes the next 4 KiB");

	scheduled_ns = 1;
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(!busy(&c) && took_done(&c) && !memcmp(ram, want + 4096, 4096) &&
	      rd(&c, EDU_RNG_REG_XFER) == 4096 && scheduled_ns == 0,
	      "ahead: the next transfer completes at once with the next bytes");
	edu_rng_core_dma_complete(&c);
	check(c.ahead_len == 4096 && !busy(&c),
	      "ahead: the main loop then makes the next bytes, nothing else");

	check(rd(&c, EDU_RNG_REG_RANDOM) == ld_le32(want + 8192),
	      "ahead: RANDOM takes the next word of the stream");
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(!busy(&c) && took_done(&c) && !memcmp(ram, want + 8196, 4096),
	      "ahead: after a RANDOM read a transfer gets the stream after it");

	edu_rng_core_dma_complete(&c);
	dma(&c, 0, RAM_BASE + RAM_SIZE - 2048, 4096, RNG_CMD);
	check(!busy(&c) && rd(&c, EDU_RNG_REG_XFER) == 0 && c.ahead_len == 0 &&
	      (rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_ERROR) &&
	      rd(&c, EDU_RNG_REG_IRQ_STATUS) == EDU_RNG_IRQ_DMA_ERROR,
	      "ahead: a bus error: XFER 0, DMA_ERROR");
	wr(&c, EDU_RNG_REG_STATUS, EDU_RNG_STATUS_ERROR);
	wr(&c, EDU_RNG_REG_IRQ_ACK, EDU_RNG_IRQ_DMA_ERROR);
	edu_rng_core_dma_complete(&c);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(!busy(&c) && took_done(&c) &&
	      !memcmp(ram, want + 8196 + 8192, 4096),
	      "ahead: ... and the stream goes on past the failed transfer");

	edu_rng_core_dma_complete(&c);
	seed(&c, 6);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(took_done(&c) && !memcmp(ram, want6, 4096),
	      "ahead: a seed makes the bytes made ahead stale");
	wr(&c, EDU_RNG_REG_CTRL, EDU_RNG_CTRL_RESET);
	check(c.ahead_len == 0 && c.ahead_want == 0 && edu_rng_core_state_valid(&c),
	      "ahead: reset drops the bytes made ahead");
}

/*
 * The stager of QEMU's worker thread, played by hand: stage() records the
 * request and scribbles over the buffer, as a worker busy with it would;
 * run_stager() makes the bytes and hands them over, and ends the transfer
 * that waits for them as the device's bottom half does.
 */
static EduRngGen stage_from;
static uint32_t stage_len;
static unsigned int stage_calls;
static uint8_t stage_buf[1u << 20];

static void fake_stage(void *opaque, const EduRngGen *from, uint32_t len)
{
	stage_calls++;
	stage_len = len;
	if (len)
		stage_from = *from;
	memset(stage_buf, 0xa5, sizeof(stage_buf));
}

static const EduRngCoreOps staged_ops = {
	.dma_read = fake_dma_read,
	.dma_write = fake_dma_write,
	.irq_update = fake_irq_update,
	.get_entropy = fake_entropy,
	.guest_error = fake_error,
	.schedule = fake_schedule,
	.stage = fake_stage,
};

static bool gen_same_place_for_test(const EduRngGen *a, const EduRngGen *b)
{
	return !memcmp(a->key, b->key, sizeof(a->key)) &&
	       a->nonce == b->nonce && a->counter == b->counter &&
	       a->used == b->used;
}

/* Make what was asked; true if that ended a transfer */
static bool run_stager(EduRngCore *c)
{
	EduRngGen g = stage_from;
	uint32_t len = stage_len;

	if (!len)
		return false;
	edu_rng_gen_fill(&g, stage_buf, len);
	stage_len = 0;
	if (!edu_rng_core_staged(c, &stage_from, len))
		return false;
	edu_rng_core_dma_complete(c);
	return true;
}

static void staged_new(EduRngCore *c, bool gen_ahead)
{
	edu_rng_core_init(c, &staged_ops, NULL, 1u << 20);
	irq_level = 0;
	errors_logged = 0;
	c->async_dma = true;
	c->can_delay = true;
	c->ahead = stage_buf;
	c->gen_ahead = gen_ahead;
	stage_len = 0;
}

/*
 * Generation by a stager (QEMU's worker thread): every transfer is made
 * by it and only copied by the core, the next one's bytes are asked for
 * after each, nothing stale or made from another key reaches the guest,
 * and the stream is exactly the seeded one.
 */
static void test_staged(void)
{
	static uint8_t want[65536], want8[8192];
	EduRngCore c, d;
	unsigned int calls;
	EduRngGen g;

	staged_new(&c, false);
	seed(&c, 7);
	edu_rng_gen_seed(&g, 7);
	edu_rng_gen_fill(&g, want, sizeof(want));
	edu_rng_gen_seed(&g, 8);
	edu_rng_gen_fill(&g, want8, sizeof(want8));
	check(stage_calls == 0 || stage_len == 0,
	      "staged: nothing asked while nobody reads");

	memset(ram, 0, 4096);
	calls = stage_calls;
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(busy(&c) && stage_calls == calls + 1 && stage_len == 4096 &&
	      scheduled_ns == 0 && ram[0] == 0 && ram[4095] == 0,
	      "staged: a command asks for its bytes and writes nothing");
	edu_rng_core_dma_complete(&c);
	check(busy(&c) && c.pend_due && ram[0] == 0 && ram[4095] == 0,
	      "staged: due before they are made: it waits, writes nothing");
	check(run_stager(&c) && !busy(&c) && took_done(&c) &&
	      !memcmp(ram, want, 4096) && rd(&c, EDU_RNG_REG_XFER) == 4096,
	      "staged: once made, it is copied: the seeded stream");
	check(stage_len == 4096 && gen_same_place_for_test(&stage_from, &c.gen),
	      "staged: the next transfer's bytes are asked for after it");
	check(!run_stager(&c) && c.ahead_len == 4096,
	      "staged: made ahead, they wait (nothing due)");
	calls = stage_calls;
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(busy(&c) && stage_calls == calls,
	      "staged: a command that finds them made asks for nothing");
	edu_rng_core_dma_complete(&c);
	check(!busy(&c) && took_done(&c) && !memcmp(ram, want + 4096, 4096),
	      "staged: ... and completes with them");

	/* a RANDOM read moves the stream: what was made is not its next */
	run_stager(&c);
	check(rd(&c, EDU_RNG_REG_RANDOM) == ld_le32(want + 8192),
	      "staged: RANDOM reads the stream, not what was made ahead");
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	edu_rng_core_dma_complete(&c);
	check(busy(&c) && stage_len == 4096,
	      "staged: after a RANDOM read the bytes made are asked for again");
	check(run_stager(&c) && took_done(&c) &&
	      !memcmp(ram, want + 8196, 4096),
	      "staged: ... and the transfer gets the stream after the read");

	/* a seed drops what was made from the old key */
	run_stager(&c);
	calls = stage_calls;
	seed(&c, 8);
	check(c.ahead_len == 0 && (!c.staging ||
				   gen_same_place_for_test(&stage_from, &c.gen)),
	      "staged: a seed drops the bytes made from the old key");
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	edu_rng_core_dma_complete(&c);
	check(run_stager(&c) && took_done(&c) && !memcmp(ram, want8, 4096),
	      "staged: ... and the next transfer has the new seed's stream");

	/* a seed while a transfer is pending: it keeps the old stream */
	seed(&c, 7);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	seed(&c, 8);
	check(c.staging && stage_len == 4096 &&
	      gen_same_place_for_test(&stage_from, &c.pend_gen),
	      "staged: a seed after a command asks again for its bytes");
	edu_rng_core_dma_complete(&c);
	check(run_stager(&c) && took_done(&c) && !memcmp(ram, want, 4096),
	      "staged: ... which are the old seed's");
	check(rd(&c, EDU_RNG_REG_RANDOM) == ld_le32(want8),
	      "staged: ... and the stream goes on from the new seed");

	/* an answer to a request replaced is refused */
	seed(&c, 7);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	g = stage_from;
	g.counter += 64;
	edu_rng_gen_fill(&g, stage_buf, 4096);
	check(!edu_rng_core_staged(&c, &g, 4096) && c.ahead_len == 0 &&
	      c.staging,
	      "staged: an answer to another request is refused");
	/* the stager stopped (VM stop, migration): asked again on resume */
	edu_rng_core_dma_complete(&c);
	edu_rng_core_unstage(&c);
	stage_len = 0;
	edu_rng_core_restage(&c);
	check(stage_len == 4096 && c.pend_due,
	      "staged: a stager stopped is asked again for what was due");
	check(run_stager(&c) && took_done(&c) && !memcmp(ram, want, 4096),
	      "staged: ... and the transfer completes with the right bytes");

	/* DMA_COUNT written while a transfer runs: not what is made ahead */
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	edu_rng_core_write(&c, EDU_RNG_REG_DMA_COUNT, 0xfffffff0ull, 8);
	edu_rng_core_dma_complete(&c);
	run_stager(&c);
	check(!busy(&c) && took_done(&c) && stage_len == 4096,
	      "staged: DMA_COUNT written while busy does not size the next request");
	run_stager(&c);

	/* NO_WRITE needs no bytes */
	c.fault_injection = true;
	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_NO_WRITE);
	edu_rng_core_unstage(&c);
	stage_len = 0;
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(stage_len == 0, "staged: under FAULT_NO_WRITE nothing is asked");
	edu_rng_core_dma_complete(&c);
	check(!busy(&c) && took_done(&c),
	      "staged: ... and the transfer waits for nothing");
	wr(&c, EDU_RNG_REG_FAULT, 0);

	/* migration: nothing made or asked for goes with the state */
	edu_rng_core_restage(&c);
	run_stager(&c);
	d = c;
	edu_rng_core_post_load(&d);
	check(d.ahead_len == 0 && d.ahead_want == 0 && !d.staging &&
	      edu_rng_core_state_valid(&d),
	      "staged: a loaded state has nothing made or asked for");

	wr(&c, EDU_RNG_REG_CTRL, EDU_RNG_CTRL_RESET);
	check(c.ahead_len == 0 && c.ahead_want == 0 && !c.staging &&
	      !c.pend_due && edu_rng_core_state_valid(&c),
	      "staged: reset drops what was made and asked for");

	/* gen-ahead: at once when made, else as above */
	staged_new(&c, true);
	seed(&c, 7);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(busy(&c) && stage_len == 4096,
	      "staged gen-ahead: with nothing made, the command waits");
	check(!run_stager(&c), "staged gen-ahead: not due yet");
	edu_rng_core_dma_complete(&c);
	check(!busy(&c) && took_done(&c) && !memcmp(ram, want, 4096),
	      "staged gen-ahead: then copied");
	run_stager(&c);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(!busy(&c) && took_done(&c) && !memcmp(ram, want + 4096, 4096) &&
	      stage_len == 4096,
	      "staged gen-ahead: made ahead: at once, and the next asked for");
}

/* Injected faults, one by one, as the driver will meet them. */
static void test_faults(void)
{
	static uint8_t want[32768];
	EduRngCore c;
	EduRngGen g;
	uint32_t v;

	core_new(&c);
	check((uint32_t)rd(&c, EDU_RNG_REG_FAULT) == ~0u && errors_logged == 1,
	      "FAULT is not there without fault-injection");
	core_new(&c);
	c.fault_injection = true;
	c.can_delay = true;
	check(rd(&c, EDU_RNG_REG_CAPS) & EDU_RNG_CAP_FAULT, "CAPS.FAULT");
	seed(&c, 21);
	edu_rng_gen_seed(&g, 21);
	edu_rng_gen_fill(&g, want, sizeof(want));
	memset(ram, 0, 8192);

	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_DMA_ERROR);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(rd(&c, EDU_RNG_REG_IRQ_STATUS) == EDU_RNG_IRQ_DMA_ERROR &&
	      !ram[0] && !ram[4095], "FAULT_DMA_ERROR: error, nothing moved");
	wr(&c, EDU_RNG_REG_IRQ_ACK, ~0u);
	wr(&c, EDU_RNG_REG_STATUS, EDU_RNG_STATUS_ERROR);

	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_HANG);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check((rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_BUSY) &&
	      !rd(&c, EDU_RNG_REG_IRQ_STATUS) && !ram[0],
	      "FAULT_HANG: busy, no interrupt, no bytes");
	wr(&c, EDU_RNG_REG_FAULT, 0);
	wr(&c, EDU_RNG_REG_CTRL, EDU_RNG_CTRL_ABORT);
	check(!(rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_BUSY) &&
	      (rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_SEEDED),
	      "CTRL.ABORT ends it and keeps the seed");
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(!memcmp(ram, want, 4096),
	      "the stream goes on with no gap after an error and an abort");
	wr(&c, EDU_RNG_REG_IRQ_ACK, ~0u);

	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_LOST_IRQ);
	v = irq_updates;
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(irq_updates == v && irq_level == 0 &&
	      rd(&c, EDU_RNG_REG_IRQ_STATUS) == EDU_RNG_IRQ_DMA_DONE &&
	      !memcmp(ram, want + 4096, 4096),
	      "FAULT_LOST_IRQ: bytes and IRQ_STATUS, but no interrupt");
	wr(&c, EDU_RNG_REG_IRQ_ACK, ~0u);

	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_SHORT);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(rd(&c, EDU_RNG_REG_XFER) == 2048 &&
	      !memcmp(ram, want + 8192, 2048),
	      "FAULT_SHORT: half moved, XFER says so");
	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_BAD_XFER);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(rd(&c, EDU_RNG_REG_XFER) == 4096 + EDU_RNG_BUF_SIZE &&
	      !memcmp(ram, want + 10240, 4096),
	      "FAULT_BAD_XFER: all moved, XFER wrong");
	wr(&c, EDU_RNG_REG_IRQ_ACK, ~0u);

	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_SLOW);
	scheduled_ns = 0;
	dma(&c, 0, RAM_BASE, 64, RNG_CMD);
	check(scheduled_ns == EDU_RNG_FAULT_SLOW_NS &&
	      (rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_BUSY),
	      "FAULT_SLOW: a delayed transfer");
	edu_rng_core_dma_complete(&c);
	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_SPURIOUS);
	check(rd(&c, EDU_RNG_REG_FAULT) == 0 &&
	      (irq_level & EDU_RNG_IRQ_DMA_DONE),
	      "FAULT_SPURIOUS raises DMA_DONE once and is not kept");
	wr(&c, EDU_RNG_REG_IRQ_ACK, ~0u);
	wr(&c, EDU_RNG_REG_FAULT, 0x400);
	check(errors_logged == 1, "FAULT reserved bits are a logged error");

	v = irq_updates;
	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_GONE);
	wr(&c, EDU_RNG_REG_FAULT, 0);
	check(irq_updates == v,
	      "FAULT_GONE with no cause pending: no interrupt line change");

	/* a transfer in flight when the device goes, then a dead device */
	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_SLOW);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	wr(&c, EDU_RNG_REG_IRQ_RAISE, EDU_RNG_IRQ_DMA_ERROR);
	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_GONE);
	memset(ram, 0, 4096);
	edu_rng_core_dma_complete(&c);
	check((uint32_t)rd(&c, EDU_RNG_REG_ID) == ~0u &&
	      edu_rng_core_read(&c, EDU_RNG_REG_DMA_CMD, 8) == ~0ull &&
	      (uint32_t)rd(&c, EDU_RNG_REG_RANDOM) == ~0u && irq_level == 0 &&
	      !ram[0] && rd(&c, EDU_RNG_REG_FAULT) == EDU_RNG_FAULT_GONE,
	      "FAULT_GONE: all ones, line down, the transfer in flight dies");
	seed(&c, 99);
	wr(&c, EDU_RNG_REG_CTRL, EDU_RNG_CTRL_ABORT);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	edu_rng_core_dma_complete(&c);
	check(!ram[0] && !ram[4095] && errors_logged == 1,
	      "FAULT_GONE: writes are lost, nothing moves, nothing is logged");
	wr(&c, EDU_RNG_REG_FAULT, 0);
	check(irq_level == EDU_RNG_IRQ_DMA_ERROR &&
	      (rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_BUSY) &&
	      (rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_SEEDED) &&
	      edu_rng_core_state_valid(&c),
	      "back from FAULT_GONE: line up again, the dead transfer hung");
	wr(&c, EDU_RNG_REG_IRQ_ACK, ~0u);
	wr(&c, EDU_RNG_REG_CTRL, EDU_RNG_CTRL_ABORT);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(!(rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_BUSY) &&
	      !memcmp(ram, want + 14336 + 64 + 4096, 4096),
	      "after CTRL.ABORT the stream goes on past the dead transfer");
}

/*
 * A failing transfer stops at its first failing chunk, on every path: QEMU
 * tries each 4 bytes of a failing write, so a whole 1 MiB write to nowhere
 * is 262144 bus accesses under the BQL (4 million at 16 MiB).
 */
static void test_dma_fail_bounded(void)
{
	for (int i = 0; i < PATHS; i++) {
		EduRngCore c;
		char what[96];

		core_new(&c);
		take_path(&c, i);
		dma_writes = 0;
		dma_failed_bytes = 0;
		dma(&c, 0, 0x1000, 1u << 20, RNG_CMD);
		edu_rng_core_dma_complete(&c);
		snprintf(what, sizeof(what),
			 "failing 1 MiB transfer (%s) stops at its first 4 KiB",
			 path[i]);
		check(dma_writes == 1 && dma_failed_bytes <= 4096 &&
		      rd(&c, EDU_RNG_REG_IRQ_STATUS) == EDU_RNG_IRQ_DMA_ERROR &&
		      !busy(&c), what);
	}
}

/* A register window inside RAM's range: writes would succeed, but it is no RAM */
#define MMIO_BASE (RAM_BASE + 8192)
#define MMIO_SIZE 65536u

static bool fake_dma_is_ram(void *opaque, uint64_t addr, uint32_t len)
{
	return addr + len <= MMIO_BASE || addr >= MMIO_BASE + MMIO_SIZE;
}

/*
 * A generator transfer refuses a chunk whose destination is not RAM before
 * writing it (each 4 bytes of it would be a handler call under the BQL),
 * on every path; the chunks before it are written, the stream goes on past
 * the whole transfer.
 */
static void test_dma_not_ram(void)
{
	static uint8_t want[32768];
	static EduRngCoreOps ram_ops;
	EduRngGen g;

	ram_ops = ops;
	ram_ops.dma_is_ram = fake_dma_is_ram;
	edu_rng_gen_seed(&g, 42);
	edu_rng_gen_fill(&g, want, sizeof(want));
	for (int i = 0; i < PATHS; i++) {
		EduRngCore c;
		char what[128];
		uint32_t next;

		edu_rng_core_init(&c, &ram_ops, NULL, 1u << 20);
		take_path(&c, i);
		memset(ram, 0, 3 * 4096);
		seed(&c, 42);
		dma_writes = 0;
		errors_logged = 0;
		dma(&c, 0, RAM_BASE, 16384, RNG_CMD);
		edu_rng_core_dma_complete(&c);
		next = rd(&c, EDU_RNG_REG_RANDOM);
		snprintf(what, sizeof(what),
			 "generator DMA into no RAM (%s): refused at that chunk, "
			 "DMA_ERROR, stream past it", path[i]);
		check(dma_writes == 2 && rd(&c, EDU_RNG_REG_XFER) == 8192 &&
		      !memcmp(ram, want, 8192) && ram[8192] == 0 &&
		      rd(&c, EDU_RNG_REG_IRQ_STATUS) == EDU_RNG_IRQ_DMA_ERROR &&
		      (rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_ERROR) &&
		      errors_logged == 1 && !busy(&c) &&
		      next == (want[16384] | want[16385] << 8 |
			       want[16386] << 16 | (uint32_t)want[16387] << 24),
		      what);
	}
}

/*
 * A transfer whose second 4 KiB chunk reaches RAM in part, then fails: the
 * guest may have seen those bytes, so the stream must go on past the whole
 * transfer, on every path, never hand them out again.
 */
static void test_dma_fail_no_repeat(void)
{
	static uint8_t want[32768];
	uint64_t edge = RAM_BASE + RAM_SIZE - 6144;
	EduRngGen g;

	edu_rng_gen_seed(&g, 13);
	edu_rng_gen_fill(&g, want, sizeof(want));
	for (int i = 0; i < PATHS; i++) {
		EduRngCore c;
		char what[96];
		bool ok;

		core_new(&c);
		take_path(&c, i);
		seed(&c, 13);
		/* the first transfer leaves gen-ahead's bytes ready */
		dma(&c, 0, RAM_BASE, 8192, RNG_CMD);
		edu_rng_core_dma_complete(&c);
		edu_rng_core_dma_complete(&c);
		wr(&c, EDU_RNG_REG_IRQ_ACK, ~0u);
		ok = !memcmp(ram, want, 8192);
		dma(&c, 0, edge, 8192, RNG_CMD);
		edu_rng_core_dma_complete(&c);
		ok = ok && rd(&c, EDU_RNG_REG_XFER) == 4096 &&
		     rd(&c, EDU_RNG_REG_IRQ_STATUS) == EDU_RNG_IRQ_DMA_ERROR &&
		     !memcmp(ram + RAM_SIZE - 6144, want + 8192, 6144);
		wr(&c, EDU_RNG_REG_IRQ_ACK, ~0u);
		edu_rng_core_dma_complete(&c);
		dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
		edu_rng_core_dma_complete(&c);
		ok = ok && took_done(&c) && !memcmp(ram, want + 16384, 4096);
		snprintf(what, sizeof(what),
			 "failed transfer (%s): XFER 4096, stream goes on past it",
			 path[i]);
		check(ok, what);
	}
}

/*
 * FAULT_NO_WRITE: a generator transfer completes as usual but writes
 * nothing; the stream goes on past its bytes.  On every path.
 */
static void test_fault_no_write(void)
{
	static uint8_t want[32768];
	EduRngGen g;

	edu_rng_gen_seed(&g, 17);
	edu_rng_gen_fill(&g, want, sizeof(want));
	for (int i = 0; i < PATHS; i++) {
		EduRngCore c;
		char what[96];
		bool ok;

		core_new(&c);
		c.fault_injection = true;
		take_path(&c, i);
		seed(&c, 17);
		dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
		edu_rng_core_dma_complete(&c);
		edu_rng_core_dma_complete(&c);
		ok = took_done(&c) && !memcmp(ram, want, 4096);
		wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_NO_WRITE);
		memset(ram, 0xa5, 8192);
		dma_calls = 0;
		dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
		edu_rng_core_dma_complete(&c);
		ok = ok && !dma_calls && ram[0] == 0xa5 && ram[4095] == 0xa5 &&
		     rd(&c, EDU_RNG_REG_XFER) == 4096 && irq_level &&
		     took_done(&c) && !busy(&c) &&
		     !(rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_ERROR);
		wr(&c, EDU_RNG_REG_FAULT, 0);
		edu_rng_core_dma_complete(&c);
		dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
		edu_rng_core_dma_complete(&c);
		ok = ok && took_done(&c) && !memcmp(ram, want + 8192, 4096);
		snprintf(what, sizeof(what),
			 "FAULT_NO_WRITE (%s): DMA_DONE, XFER, nothing written, bytes lost",
			 path[i]);
		check(ok, what);
	}
}

/*
 * FAULT_IRQ_STUCK: IRQ_ACK clears nothing and signals the pending causes
 * again, each time; clearing the fault makes acks work; a reset clears it.
 */
static void test_fault_irq_stuck(void)
{
	unsigned int n;
	EduRngCore c;

	core_new(&c);
	c.fault_injection = true;
	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_IRQ_STUCK);
	n = irq_updates;
	wr(&c, EDU_RNG_REG_IRQ_ACK, ~0u);
	check(irq_updates == n && irq_level == 0,
	      "FAULT_IRQ_STUCK: an ack with nothing pending signals nothing");
	dma(&c, 0, RAM_BASE, 64, RNG_CMD);
	check(irq_level == EDU_RNG_IRQ_DMA_DONE && irq_updates == n + 1,
	      "FAULT_IRQ_STUCK: the transfer raises DMA_DONE");
	for (int i = 0; i < 3; i++)
		wr(&c, EDU_RNG_REG_IRQ_ACK, EDU_RNG_IRQ_DMA_DONE);
	check(rd(&c, EDU_RNG_REG_IRQ_STATUS) == EDU_RNG_IRQ_DMA_DONE &&
	      irq_level == EDU_RNG_IRQ_DMA_DONE && irq_updates == n + 4,
	      "FAULT_IRQ_STUCK: each ack clears nothing, signals again");
	wr(&c, EDU_RNG_REG_FAULT, 0);
	wr(&c, EDU_RNG_REG_IRQ_ACK, EDU_RNG_IRQ_DMA_DONE);
	check(rd(&c, EDU_RNG_REG_IRQ_STATUS) == 0 && irq_level == 0,
	      "FAULT_IRQ_STUCK cleared: the next ack clears");
	wr(&c, EDU_RNG_REG_FAULT, EDU_RNG_FAULT_IRQ_STUCK);
	wr(&c, EDU_RNG_REG_IRQ_RAISE, EDU_RNG_IRQ_DMA_ERROR);
	wr(&c, EDU_RNG_REG_CTRL, EDU_RNG_CTRL_RESET);
	check(rd(&c, EDU_RNG_REG_FAULT) == 0 && irq_level == 0 &&
	      !rd(&c, EDU_RNG_REG_IRQ_STATUS),
	      "CTRL.RESET clears FAULT_IRQ_STUCK and the causes");
	wr(&c, EDU_RNG_REG_IRQ_RAISE, EDU_RNG_IRQ_DMA_DONE);
	wr(&c, EDU_RNG_REG_IRQ_ACK, EDU_RNG_IRQ_DMA_DONE);
	check(irq_level == 0, "after the reset acks clear again");
}

static void test_dma_buffer(void)
{
	EduRngCore c;

	core_new(&c);
	for (int i = 0; i < 4096; i++)
		ram[i] = i * 7;
	dma(&c, RAM_BASE, EDU_RNG_BUF_ADDR, 4096,
	    EDU_RNG_DMA_START | EDU_RNG_DMA_IRQ);
	dma(&c, EDU_RNG_BUF_ADDR + 16, RAM_BASE + 8192, 100,
	    EDU_RNG_DMA_START | EDU_RNG_DMA_TO_RAM);
	check(!memcmp(ram + 8192, ram + 16, 100) && !errors_logged,
	      "EDU buffer round trip RAM -> buffer -> RAM");
}

struct bad_dma {
	const char *what;
	uint64_t src, dst, count, cmd;
	uint32_t skip;		/* bytes a bus error takes from the stream */
	bool bus;		/* a bus error, not refused before any access */
};

static void test_dma_invalid(void)
{
	static const struct bad_dma bad[] = {
		{ "count 0", 0, RAM_BASE, 0, RNG_CMD, 0, false },
		{ "count > DMA_MAX", 0, RAM_BASE, (1u << 20) + 1, RNG_CMD, 0, false },
		{ "count 2^63", 0, RAM_BASE, 1ull << 63, RNG_CMD, 0, false },
		{ "address wraps", 0, ~0ull - 10, 4096, RNG_CMD, 0, false },
		{ "unmapped address", 0, 0x1000, 4096, RNG_CMD, 4096, true },
		{ "generator to device", 0, RAM_BASE, 4096,
		  RNG_CMD & ~EDU_RNG_DMA_TO_RAM, 0, false },
		{ "reserved command bits", 0, RAM_BASE, 64, RNG_CMD | 0x100, 0, false },
		{ "buffer below window", 0x3ffff, RAM_BASE, 16,
		  EDU_RNG_DMA_START | EDU_RNG_DMA_TO_RAM | EDU_RNG_DMA_IRQ, 0, false },
		{ "buffer past window", 0x40ff0, RAM_BASE, 17,
		  EDU_RNG_DMA_START | EDU_RNG_DMA_TO_RAM | EDU_RNG_DMA_IRQ, 0, false },
		{ "buffer count huge", 0x40000, RAM_BASE, ~0ull,
		  EDU_RNG_DMA_START | EDU_RNG_DMA_TO_RAM | EDU_RNG_DMA_IRQ, 0, false },
		{ "buffer from bad RAM", 0x10, 0x40000, 16,
		  EDU_RNG_DMA_START | EDU_RNG_DMA_IRQ, 0, true },
		{ "buffer to RAM wraps", 0x40000, ~0ull - 10, 100,
		  EDU_RNG_DMA_START | EDU_RNG_DMA_TO_RAM | EDU_RNG_DMA_IRQ, 0,
		  false },
		{ "buffer from RAM wraps", ~0ull - 10, 0x40000, 100,
		  EDU_RNG_DMA_START | EDU_RNG_DMA_IRQ, 0, false },
		{ "buffer to RAM reaches 2^64", 0x40000, ~0ull - 99, 100,
		  EDU_RNG_DMA_START | EDU_RNG_DMA_TO_RAM | EDU_RNG_DMA_IRQ, 0,
		  false },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad_dma *b = &bad[i];
		EduRngCore c;
		EduRngGen g;
		uint32_t next;
		char what[96];
		bool ok;

		core_new(&c);
		seed(&c, 5);
		edu_rng_gen_seed(&g, 5);
		edu_rng_gen_skip(&g, b->skip);
		memset(ram, 0xa5, 8192);
		dma_calls = 0;
		dma(&c, b->src, b->dst, b->count, b->cmd);
		next = rd(&c, EDU_RNG_REG_RANDOM);
		ok = errors_logged == 1 && !dma_calls == !b->bus &&
		     (rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_ERROR) &&
		     rd(&c, EDU_RNG_REG_IRQ_STATUS) == EDU_RNG_IRQ_DMA_ERROR &&
		     ram[0] == 0xa5 && ram[8191] == 0xa5 &&
		     next == edu_rng_gen_u32(&g);
		wr(&c, EDU_RNG_REG_STATUS, EDU_RNG_STATUS_ERROR);
		ok = ok && !(rd(&c, EDU_RNG_REG_STATUS) & EDU_RNG_STATUS_ERROR);
		snprintf(what, sizeof(what),
			 "invalid DMA (%s): error status, logged, nothing moved",
			 b->what);
		check(ok, what);
	}
}

static void test_bad_access(void)
{
	static const struct {
		uint64_t addr;
		unsigned int size;
	} bad[] = {
		{ 0x00, 1 }, { 0x00, 2 }, { 0x02, 4 }, { 0x00, 8 },
		{ 0x84, 8 }, { 0x30, 4 }, { 0xfffff, 1 }, { 0x100000, 4 },
		{ 0x40000, 4 }, { ~0ull - 3, 4 },
	};
	EduRngCore c;
	EduRngGen g;
	unsigned int n = 0;

	core_new(&c);
	seed(&c, 3);
	edu_rng_gen_seed(&g, 3);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n += edu_rng_core_read(&c, bad[i].addr, bad[i].size) == ~0ull;
		edu_rng_core_write(&c, bad[i].addr, 0xffffffff, bad[i].size);
	}
	check(n == sizeof(bad) / sizeof(bad[0]) &&
	      errors_logged == 2 * n &&
	      rd(&c, EDU_RNG_REG_RANDOM) == edu_rng_gen_u32(&g) &&
	      rd(&c, EDU_RNG_REG_STATUS) == EDU_RNG_STATUS_SEEDED,
	      "bad sizes, misaligned and unknown offsets: all ones, logged, no effect");
	edu_rng_core_write(&c, EDU_RNG_REG_DMA_SRC + 4, 0x12345678, 4);
	edu_rng_core_write(&c, EDU_RNG_REG_DMA_SRC, 0x9abcdef0, 4);
	check(edu_rng_core_read(&c, EDU_RNG_REG_DMA_SRC, 8) == 0x123456789abcdef0ull &&
	      rd(&c, EDU_RNG_REG_DMA_SRC + 4) == 0x12345678,
	      "64-bit DMA registers by 32-bit halves");
}

static void test_state_valid(void)
{
	EduRngCore c;

	core_new(&c);
	check(edu_rng_core_state_valid(&c), "fresh state is valid");
	c.gen.used = 65;
	check(!edu_rng_core_state_valid(&c), "migrated state with used > 64 rejected");

	/* saved with fault-injection=on, loaded where it is off */
	core_new(&c);
	c.fault = EDU_RNG_FAULT_LOST_IRQ;
	check(!edu_rng_core_state_valid(&c),
	      "FAULT set without fault-injection rejected");
	c.fault_injection = true;
	check(edu_rng_core_state_valid(&c),
	      "FAULT set with fault-injection accepted");
	c.fault = 0;
	c.hung = true;
	c.status = EDU_RNG_STATUS_BUSY;
	c.dma_cmd = RNG_CMD;
	check(edu_rng_core_state_valid(&c),
	      "a hung command with fault-injection accepted");
	c.fault_injection = false;
	check(!edu_rng_core_state_valid(&c),
	      "a hung command without fault-injection rejected");
}

/*
 * Migration, as edu-rng.c does it: a fresh destination of the same
 * configuration gets the fields of vmstate_edu_rng, and those of its
 * pending-DMA subsection when a transfer is pending; post_load checks
 * and then re-keys.  Keep the field lists in step with edu-rng.c.
 */
static bool migrate(EduRngCore *d, const EduRngCore *s)
{
	core_new(d);
	d->dma_latency_ns = s->dma_latency_ns;
	d->async_dma = s->async_dma;
	d->can_delay = s->can_delay;
	d->fault_injection = s->fault_injection;
	d->ahead = s->ahead;	/* the destination's own buffer, in QEMU */
	d->gen = s->gen;
	d->seed_hi = s->seed_hi;
	d->status = s->status;
	d->irq_status = s->irq_status;
	d->xfer = s->xfer;
	d->dma_src = s->dma_src;
	d->dma_dst = s->dma_dst;
	d->dma_count = s->dma_count;
	d->dma_cmd = s->dma_cmd;
	memcpy(d->dma_buf, s->dma_buf, sizeof(d->dma_buf));
	d->fault = s->fault;
	d->hung = s->hung;
	if (s->pending) {
		d->pending = true;
		d->pend_gen = s->pend_gen;
		d->pend_seeded = s->pend_seeded;
		d->pend_dst = s->pend_dst;
		d->pend_count = s->pend_count;
	}
	if (!edu_rng_core_state_valid(d))
		return false;
	edu_rng_core_post_load(d);
	return true;
}

/*
 * A delayed transfer pending at the save migrates: nothing reaches guest
 * memory before the destination completes it, and with a seed it gets
 * exactly the bytes the source would have written.
 */
static void test_migrate_pending(void)
{
	static uint8_t want[16384];
	EduRngCore c, d;
	EduRngGen g;
	bool ok;

	edu_rng_gen_seed(&g, 23);
	edu_rng_gen_fill(&g, want, sizeof(want));
	core_new(&c);
	c.can_delay = true;
	c.dma_latency_ns = 1000000;
	seed(&c, 23);
	rd(&c, EDU_RNG_REG_RANDOM);
	memset(ram, 0, 8192);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	ok = migrate(&d, &c);
	check(ok && busy(&d) && !ram[0] && !ram[4095] && !irq_level,
	      "migrate: a pending transfer loads, nothing written yet");
	edu_rng_core_dma_complete(&d);
	check(ok && !memcmp(ram, want + 4, 4096) && took_done(&d) &&
	      rd(&d, EDU_RNG_REG_XFER) == 4096 && !busy(&d),
	      "migrate: the destination completes it with the seed's bytes");
	check(ok && rd(&d, EDU_RNG_REG_RANDOM) == ld_le32(want + 4100),
	      "migrate: and the seeded stream goes on exactly after it");

	/* seeded meanwhile: the transfer's bytes were host entropy */
	core_new(&c);
	c.can_delay = true;
	c.dma_latency_ns = 1000000;
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	seed(&c, 23);
	ok = migrate(&d, &c);
	check(ok && d.pending && !d.pend_seeded &&
	      memcmp(d.pend_gen.key, c.pend_gen.key, sizeof(c.pend_gen.key)) &&
	      rd(&d, EDU_RNG_REG_RANDOM) == ld_le32(want),
	      "migrate: a pending host-entropy transfer is re-keyed, the seed kept");

	/* unseeded meanwhile: the transfer's bytes were the seed's */
	core_new(&c);
	c.can_delay = true;
	c.async_dma = true;
	seed(&c, 23);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	wr(&c, EDU_RNG_REG_CTRL, EDU_RNG_CTRL_UNSEED);
	ok = migrate(&d, &c);
	memset(ram, 0, 4096);
	edu_rng_core_dma_complete(&d);
	check(ok && !memcmp(ram, want, 4096) && took_done(&d),
	      "migrate: a pending seeded transfer completes exactly after UNSEED");
}

/*
 * Host entropy: two destinations restored from one state, and the source
 * going on, produce three different streams, pending transfers included;
 * bytes made ahead on the source are never delivered by a destination.
 */
static void test_migrate_host_entropy(void)
{
	static uint8_t ahead[3][1u << 20], out[3][4096];
	EduRngCore c, d1, d2;
	uint32_t r[3];
	bool ok;

	core_new(&c);
	c.can_delay = true;
	c.dma_latency_ns = 1000;
	rd(&c, EDU_RNG_REG_RANDOM);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	ok = migrate(&d1, &c) && migrate(&d2, &c);
	edu_rng_core_dma_complete(&c);
	memcpy(out[0], ram, 4096);
	edu_rng_core_dma_complete(&d1);
	memcpy(out[1], ram, 4096);
	edu_rng_core_dma_complete(&d2);
	memcpy(out[2], ram, 4096);
	check(ok && memcmp(out[0], out[1], 4096) &&
	      memcmp(out[0], out[2], 4096) && memcmp(out[1], out[2], 4096),
	      "host entropy: a pending transfer differs on each destination");
	r[0] = rd(&c, EDU_RNG_REG_RANDOM);
	r[1] = rd(&d1, EDU_RNG_REG_RANDOM);
	r[2] = rd(&d2, EDU_RNG_REG_RANDOM);
	check(r[0] != r[1] && r[0] != r[2] && r[1] != r[2],
	      "host entropy: RANDOM differs on each destination and the source");

	/* gen-ahead: the source has the next transfer's bytes made */
	core_new(&c);
	c.can_delay = true;
	c.async_dma = true;
	c.ahead = ahead[0];
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	edu_rng_core_dma_complete(&c);
	ok = c.ahead_len == 4096 && migrate(&d1, &c) && d1.ahead_len == 0;
	d1.ahead = ahead[1];
	dma(&d1, 0, RAM_BASE, 4096, RNG_CMD);
	memcpy(out[1], ram, 4096);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(ok && memcmp(out[1], ram, 4096) && memcmp(out[1], ahead[0], 4096),
	      "host entropy: the source's bytes made ahead stay on the source");

	/* a seeded state with bytes made ahead continues exactly */
	core_new(&c);
	c.can_delay = true;
	c.async_dma = true;
	c.ahead = ahead[0];
	seed(&c, 29);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	edu_rng_core_dma_complete(&c);
	ok = migrate(&d1, &c);
	d1.ahead = ahead[1];
	dma(&d1, 0, RAM_BASE, 4096, RNG_CMD);
	memcpy(out[1], ram, 4096);
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(ok && !memcmp(out[1], ram, 4096),
	      "seeded: source and destination give the same next transfer");
}

/* States no device of this configuration can be in are refused. */
static void test_state_valid_pending(void)
{
	EduRngCore c, d;

	core_new(&c);
	c.can_delay = true;
	c.fault_injection = true;
	c.dma_latency_ns = 1000;
	dma(&c, 0, RAM_BASE, 4096, RNG_CMD);
	check(c.pending && edu_rng_core_state_valid(&c),
	      "a pending transfer is a valid state");
	d = c;
	d.pend_count = (1u << 20) + 1;
	check(!edu_rng_core_state_valid(&d),
	      "a pending transfer above DMA_MAX rejected");
	d = c;
	d.can_delay = false;
	check(!edu_rng_core_state_valid(&d),
	      "a pending transfer where none can be delayed rejected");
	d = c;
	d.hung = true;
	check(!edu_rng_core_state_valid(&d), "pending and hung rejected");
	d = c;
	d.status &= ~EDU_RNG_STATUS_BUSY;
	check(!edu_rng_core_state_valid(&d), "pending, not BUSY rejected");
	d = c;
	d.fault = EDU_RNG_FAULT_GONE;
	check(!edu_rng_core_state_valid(&d), "pending under FAULT_GONE rejected");
	d = c;
	d.pend_gen.used = 65;
	check(!edu_rng_core_state_valid(&d), "pending, used > 64 rejected");
	d = c;
	d.pend_dst = ~0ull - 100;
	check(!edu_rng_core_state_valid(&d), "pending range that wraps rejected");
	d = c;
	d.dma_cmd &= ~EDU_RNG_DMA_TO_RAM;
	check(!edu_rng_core_state_valid(&d),
	      "pending, command without TO_RAM rejected");
	d = c;
	d.pending = false;
	check(!edu_rng_core_state_valid(&d), "BUSY with nothing running rejected");
}

int main(void)
{
	printf("TAP version 13\n");
	test_rfc8439_block();
	test_seed0_kat();
	test_spec_kat();
	test_fill_seams();
	test_fill_vectors();
	test_skip();
	test_registers();
	test_dma_generator();
	test_dma_buffer();
	test_dma_fail_bounded();
	test_dma_fail_no_repeat();
	test_dma_not_ram();
	test_dma_latency();
	test_gen_ahead();
	test_staged();
	test_faults();
	test_fault_no_write();
	test_fault_irq_stuck();
	test_dma_invalid();
	test_bad_access();
	test_state_valid();
	test_state_valid_pending();
	test_migrate_pending();
	test_migrate_host_entropy();
	printf("1..%u\n", tests);
	printf("# %u passed, %u failed\n", tests - failures, failures);
	return failures ? 1 : 0;
}
