/*
 * edu-rng device core: the generator and the register file.
 *
 * Everything a guest can reach goes through edu_rng_core_read() and
 * edu_rng_core_write().  Nothing a guest writes may abort: a bad request
 * sets STATUS.ERROR, is reported through ops->guest_error and changes
 * nothing else.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "edu-rng-core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Bytes generated per dma_write() call of a generator transfer */
#define GEN_CHUNK 4096

static inline uint32_t rotl32(uint32_t v, int n)
{
    return (v << n) | (v >> (32 - n));
}

static inline uint32_t ld_le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void st_le32(uint8_t *p, uint32_t v)
{
#if !HOST_BIG_ENDIAN
    memcpy(p, &v, sizeof(v));
#else
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
#endif
}

#define QR(a, b, c, d) do {                      \
        a += b; d = rotl32(d ^ a, 16);           \
        c += d; b = rotl32(b ^ c, 12);           \
        a += b; d = rotl32(d ^ a, 8);            \
        c += d; b = rotl32(b ^ c, 7);            \
    } while (0)

/*
 * The RFC 8439 block function.  Words 12-13 hold a 64-bit block counter and
 * words 14-15 a 64-bit nonce, so with a zero nonce and fewer than 2^32
 * blocks the output equals RFC 8439's with a zero 96-bit nonce.
 */
void edu_rng_chacha20_block(const uint32_t key[8], uint64_t counter,
                            uint64_t nonce, uint8_t out[64])
{
    uint32_t in[16], x[16];
    int i;

    in[0] = 0x61707865;
    in[1] = 0x3320646e;
    in[2] = 0x79622d32;
    in[3] = 0x6b206574;
    memcpy(&in[4], key, 8 * sizeof(uint32_t));
    in[12] = counter;
    in[13] = counter >> 32;
    in[14] = nonce;
    in[15] = nonce >> 32;
    memcpy(x, in, sizeof(x));
    for (i = 0; i < 10; i++) {
        QR(x[0], x[4], x[8], x[12]);
        QR(x[1], x[5], x[9], x[13]);
        QR(x[2], x[6], x[10], x[14]);
        QR(x[3], x[7], x[11], x[15]);
        QR(x[0], x[5], x[10], x[15]);
        QR(x[1], x[6], x[11], x[12]);
        QR(x[2], x[7], x[8], x[13]);
        QR(x[3], x[4], x[9], x[14]);
    }
    for (i = 0; i < 16; i++) {
        st_le32(out + 4 * i, x[i] + in[i]);
    }
}

void edu_rng_gen_key(EduRngGen *g, const uint8_t key[32], uint64_t nonce)
{
    int i;

    for (i = 0; i < 8; i++) {
        g->key[i] = ld_le32(key + 4 * i);
    }
    g->nonce = nonce;
    g->counter = 0;
    g->used = sizeof(g->block);
}

/* The key is the seed in little-endian order followed by 24 zero bytes. */
void edu_rng_gen_seed(EduRngGen *g, uint64_t seed)
{
    uint8_t key[32] = { 0 };

    st_le32(key, seed);
    st_le32(key + 4, seed >> 32);
    edu_rng_gen_key(g, key, 0);
}

/*
 * Consecutive blocks at once, one per vector lane.  Eight blocks: the
 * compiler's generic vectors become two SSE2 registers a vector on x86-64
 * (NEON elsewhere), or one AVX2 register in the clone picked at load time
 * on CPUs that have it: two to four times the speed of one block at a
 * time.  Sixteen blocks in AVX-512 registers, where QEMU's build allows
 * AVX-512 code and the host has it, the rotations then single
 * instructions: about twice the speed of eight (1 GiB in 0.21-0.26 s
 * against 0.46 s on one core of the Xeon we measure on), which generator
 * transfers back to back are bound by.  Same output either way.
 */
#define ROTV(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define QRV(a, b, c, d) do {                     \
        a += b; d = ROTV(d ^ a, 16);             \
        c += d; b = ROTV(b ^ c, 12);             \
        a += b; d = ROTV(d ^ a, 8);              \
        c += d; b = ROTV(b ^ c, 7);              \
    } while (0)

/* @lanes blocks from @counter on into @out, in vectors of type @vec */
#define DEFINE_CHACHA20_BLOCKS(name, vec, lanes, attr)                     \
static attr void name(const uint32_t key[8], uint64_t counter,             \
                      uint64_t nonce, uint8_t *out)                        \
{                                                                          \
    static const uint32_t sigma[4] = {                                     \
        0x61707865, 0x3320646e, 0x79622d32, 0x6b206574                     \
    };                                                                     \
    const vec zero = { 0 };                                                \
    vec in[16], x[16];                                                     \
    int i, j;                                                              \
                                                                           \
    for (i = 0; i < 4; i++) {                                              \
        in[i] = zero + sigma[i];                                           \
    }                                                                      \
    for (i = 0; i < 8; i++) {                                              \
        in[4 + i] = zero + key[i];                                         \
    }                                                                      \
    for (j = 0; j < (lanes); j++) {                                        \
        in[12][j] = counter + j;                                           \
        in[13][j] = (counter + j) >> 32;                                   \
    }                                                                      \
    in[14] = zero + (uint32_t)nonce;                                       \
    in[15] = zero + (uint32_t)(nonce >> 32);                               \
    memcpy(x, in, sizeof(x));                                              \
    for (i = 0; i < 10; i++) {                                             \
        QRV(x[0], x[4], x[8], x[12]);                                      \
        QRV(x[1], x[5], x[9], x[13]);                                      \
        QRV(x[2], x[6], x[10], x[14]);                                     \
        QRV(x[3], x[7], x[11], x[15]);                                     \
        QRV(x[0], x[5], x[10], x[15]);                                     \
        QRV(x[1], x[6], x[11], x[12]);                                     \
        QRV(x[2], x[7], x[8], x[13]);                                      \
        QRV(x[3], x[4], x[9], x[14]);                                      \
    }                                                                      \
    for (i = 0; i < 16; i++) {                                             \
        x[i] += in[i];                                                     \
        for (j = 0; j < (lanes); j++) {                                    \
            st_le32(out + 64 * j + 4 * i, x[i][j]);                        \
        }                                                                  \
    }                                                                      \
}

#define LANES 8
typedef uint32_t vec8 __attribute__((vector_size(4 * LANES)));

#ifdef CONFIG_AVX2_OPT
#define MULTI_TARGET __attribute__((target_clones("avx2", "default")))
#else
#define MULTI_TARGET
#endif

DEFINE_CHACHA20_BLOCKS(chacha20_blocks, vec8, LANES, MULTI_TARGET)

/*
 * 7.2 has CONFIG_AVX512F_OPT (--enable-avx512f), newer QEMU
 * CONFIG_AVX512BW_OPT: both say the compiler takes AVX-512 code
 */
#if defined(HOST_X86_64) && \
    (defined(CONFIG_AVX512F_OPT) || defined(CONFIG_AVX512BW_OPT))
#define GEN_WIDE
#define LANES_WIDE 16
typedef uint32_t vec16 __attribute__((vector_size(4 * LANES_WIDE)));

DEFINE_CHACHA20_BLOCKS(chacha20_blocks_wide, vec16, LANES_WIDE,
                       __attribute__((target("avx512f"))))

#endif

void edu_rng_gen_fill(EduRngGen *g, void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t n;

    /* finish the current block first, so the stream has no seams */
    while (len && g->used < sizeof(g->block)) {
        *p++ = g->block[g->used++];
        len--;
    }
#ifdef GEN_WIDE
    /* libgcc's (and clang's) check also asks whether the OS saves zmm */
    while (len >= LANES_WIDE * sizeof(g->block) &&
           __builtin_cpu_supports("avx512f")) {
        chacha20_blocks_wide(g->key, g->counter, g->nonce, p);
        g->counter += LANES_WIDE;
        p += LANES_WIDE * sizeof(g->block);
        len -= LANES_WIDE * sizeof(g->block);
    }
#endif
    while (len >= LANES * sizeof(g->block)) {
        chacha20_blocks(g->key, g->counter, g->nonce, p);
        g->counter += LANES;
        p += LANES * sizeof(g->block);
        len -= LANES * sizeof(g->block);
    }
    while (len >= sizeof(g->block)) {
        edu_rng_chacha20_block(g->key, g->counter++, g->nonce, p);
        p += sizeof(g->block);
        len -= sizeof(g->block);
    }
    if (len) {
        edu_rng_chacha20_block(g->key, g->counter++, g->nonce, g->block);
        n = len;
        memcpy(p, g->block, n);
        g->used = n;
    }
}

/*
 * Advance the stream by @len bytes without producing them: ChaCha20 is a
 * counter mode, so this costs at most one block whatever @len is.
 */
void edu_rng_gen_skip(EduRngGen *g, uint64_t len)
{
    uint64_t n = sizeof(g->block) - g->used;

    if (len <= n) {
        g->used += len;
        return;
    }
    len -= n;
    g->counter += len / sizeof(g->block);
    g->used = sizeof(g->block);
    if (len % sizeof(g->block)) {
        edu_rng_chacha20_block(g->key, g->counter++, g->nonce, g->block);
        g->used = len % sizeof(g->block);
    }
}

uint32_t edu_rng_gen_u32(EduRngGen *g)
{
    uint8_t b[4];

    edu_rng_gen_fill(g, b, sizeof(b));
    return ld_le32(b);
}

static void core_error(EduRngCore *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void core_error(EduRngCore *c, const char *fmt, ...)
{
    char msg[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->ops->guest_error(c->opaque, msg);
}

static void core_set_irq(EduRngCore *c, uint32_t irq_status)
{
    uint32_t old = c->irq_status;

    c->irq_status = irq_status;
    if (old != irq_status) {
        c->ops->irq_update(c->opaque, old, irq_status);
    }
}

/* Key @g from host entropy */
static void gen_host_key(EduRngCore *c, EduRngGen *g)
{
    uint8_t key[40];
    uint64_t nonce;

    c->ops->get_entropy(c->opaque, key, sizeof(key));
    nonce = ld_le32(key + 32) | (uint64_t)ld_le32(key + 36) << 32;
    edu_rng_gen_key(g, key, nonce);
    memset(key, 0, sizeof(key));
}

static void stage_drop(EduRngCore *c);

/* Are generator transfers made by ops->stage, and copied under our lock? */
static bool staged_mode(const EduRngCore *c)
{
    return c->ahead && c->ops->stage && c->can_delay;
}

static void core_host_key(EduRngCore *c)
{
    gen_host_key(c, &c->gen);
    c->status &= ~EDU_RNG_STATUS_SEEDED;
    stage_drop(c);
}

void edu_rng_core_reset(EduRngCore *c)
{
    c->pending = false;
    c->pend_due = false;
    c->ahead_len = 0;
    c->ahead_want = 0;
    c->hung = false;
    c->fault = 0;
    c->seed_hi = 0;
    c->status = 0;
    c->xfer = 0;
    c->dma_src = 0;
    c->dma_dst = 0;
    c->dma_count = 0;
    c->dma_cmd = 0;
    memset(c->dma_buf, 0, sizeof(c->dma_buf));
    core_host_key(c);
    core_set_irq(c, 0);
}

void edu_rng_core_init(EduRngCore *c, const EduRngCoreOps *ops, void *opaque,
                       uint32_t dma_max)
{
    memset(c, 0, sizeof(*c));
    c->ops = ops;
    c->opaque = opaque;
    c->dma_max = dma_max;
    edu_rng_core_reset(c);
}

/* Can the generator command in the DMA registers run? */
static bool generator_request_ok(EduRngCore *c)
{
    uint64_t dst = c->dma_dst, count = c->dma_count;

    if (!(c->dma_cmd & EDU_RNG_DMA_TO_RAM)) {
        core_error(c, "generator DMA needs direction device->RAM");
        return false;
    }
    if (count == 0 || count > c->dma_max) {
        core_error(c, "generator DMA count %" PRIu64 " not in 1..%u",
                   count, c->dma_max);
        return false;
    }
    if (dst + count < dst) {
        core_error(c, "generator DMA 0x%" PRIx64 "+%" PRIu64 " wraps",
                   dst, count);
        return false;
    }
    return true;
}

/* Bytes a generator command moves: all, or half under FAULT_SHORT */
static uint32_t generator_count(EduRngCore *c)
{
    return c->fault & EDU_RNG_FAULT_SHORT ? c->dma_count / 2 : c->dma_count;
}

/*
 * Write @count bytes of @g's stream, or with @made the bytes made ahead
 * from @g on, to guest memory at @dst, GEN_CHUNK bytes at a time, and stop
 * at the first chunk that fails.  QEMU goes on past a bus error, one
 * access of at most 8 bytes after another, so a single failing write of
 * 16 MiB would keep QEMU busy with millions of accesses under its global
 * lock; a failing chunk costs at most 1024.  A chunk whose destination is
 * not RAM (ops->dma_is_ram: MMIO, ROM, a flash, nothing) fails before it
 * is written: device registers that take every write would otherwise cost
 * some 1000 handler calls per chunk, 4 million for 16 MiB.
 *
 * Whatever happens, @g ends past all @count bytes: a chunk that fails may
 * still have reached guest memory in part (RAM before a hole, an IOMMU
 * mapping that ends), and a byte the guest may have seen must never be
 * handed out again.  Returns the bytes of the chunks written in full.
 */
static uint32_t write_stream(EduRngCore *c, EduRngGen *g, const uint8_t *made,
                             uint64_t dst, uint32_t count)
{
    uint8_t chunk[GEN_CHUNK];
    const uint8_t *p = chunk;
    uint32_t done = 0, n;

    if (c->fault & EDU_RNG_FAULT_NO_WRITE) {
        /* done as far as the guest can tell; the bytes are lost */
        edu_rng_gen_skip(g, count);
        return count;
    }
    while (done < count) {
        n = count - done < GEN_CHUNK ? count - done : GEN_CHUNK;
        if (made) {
            p = made + done;
        } else {
            edu_rng_gen_fill(g, chunk, n);
        }
        if (c->ops->dma_is_ram && !c->ops->dma_is_ram(c->opaque, dst + done,
                                                      n)) {
            core_error(c, "generator DMA to 0x%" PRIx64 ": not RAM",
                       dst + done);
            if (!made) {
                edu_rng_gen_skip(g, count - done - n);
            }
            break;
        }
        if (!c->ops->dma_write(c->opaque, dst + done, p, n)) {
            core_error(c, "DMA write to 0x%" PRIx64 " failed", dst + done);
            if (!made) {
                edu_rng_gen_skip(g, count - done - n);
            }
            break;
        }
        done += n;
    }
    if (made) {
        edu_rng_gen_skip(g, count);
    }
    return done;
}

/* Generator -> guest RAM at dma_dst, now */
static bool dma_from_generator(EduRngCore *c)
{
    uint32_t count = generator_count(c);

    c->xfer = write_stream(c, &c->gen, NULL, c->dma_dst, count);
    return c->xfer == count;
}

/*
 * A delayed transfer takes its place in the stream when the command
 * starts: the generator skips over its bytes, and a copy of the generator
 * as it was produces them when the transfer completes.  So RANDOM reads
 * and seeds that come in between see the stream the guest expects, and
 * the work of generating is done in edu_rng_core_dma_complete(), which the
 * device runs outside the vCPU's register write.
 */
static void dma_from_generator_later(EduRngCore *c, uint64_t ns)
{
    c->pend_dst = c->dma_dst;
    c->pend_count = generator_count(c);
    c->pend_gen = c->gen;
    c->pend_seeded = c->status & EDU_RNG_STATUS_SEEDED;
    edu_rng_gen_skip(&c->gen, c->pend_count);
    c->pending = true;
    c->pend_due = false;
    if (staged_mode(c)) {
        /*
         * The size of the transfers to make ahead, checked now: DMA_COUNT
         * can be written while the transfer runs.
         */
        c->ahead_want = c->dma_count;
    }
    /* made meanwhile, by the stager: ready by the time it is due */
    edu_rng_core_restage(c);
    c->ops->schedule(c->opaque, ns);
}

static bool gen_same_place(const EduRngGen *a, const EduRngGen *b)
{
    return !memcmp(a->key, b->key, sizeof(a->key)) && a->nonce == b->nonce &&
           a->counter == b->counter && a->used == b->used;
}

/* Do transfers complete at once from bytes made ahead? */
static bool gen_ahead_mode(const EduRngCore *c)
{
    return c->ahead && (!c->ops->stage || c->gen_ahead);
}

/* Are the bytes generated ahead the @count from @g on? */
static bool ahead_from(const EduRngCore *c, const EduRngGen *g,
                       uint32_t count)
{
    return c->ahead && c->ahead_len >= count &&
           gen_same_place(&c->ahead_gen, g);
}

/* Are the bytes generated ahead the next @count of the stream? */
static bool ahead_ready(EduRngCore *c, uint32_t count)
{
    return ahead_from(c, &c->gen, count);
}

/* Ask ops->stage for the @len bytes from @g on, unless made or asked for */
static void stage_request(EduRngCore *c, const EduRngGen *g, uint32_t len)
{
    /* never more than the buffer holds, whatever the caller was told */
    if (!len || len > c->dma_max || ahead_from(c, g, len) ||
        (c->staging && c->stage_len >= len &&
         gen_same_place(&c->stage_gen, g))) {
        return;
    }
    c->ahead_len = 0;           /* the stager writes the buffer from now */
    c->staging = true;
    c->stage_gen = *g;
    c->stage_len = len;
    c->ops->stage(c->opaque, g, len);
}

/*
 * A new key: drop the bytes made ahead and those being made.  A pending
 * transfer took its place in the stream before the key changed, so its
 * bytes are asked for again.
 */
static void stage_drop(EduRngCore *c)
{
    c->ahead_len = 0;
    if (c->staging) {
        c->staging = false;
        c->ops->stage(c->opaque, NULL, 0);
    }
    edu_rng_core_restage(c);
}

/* Does the pending transfer need bytes from the stager? */
static bool pend_needs_stage(const EduRngCore *c)
{
    return staged_mode(c) && c->pend_count &&
           !(c->fault & EDU_RNG_FAULT_NO_WRITE);
}

void edu_rng_core_restage(EduRngCore *c)
{
    if (!staged_mode(c)) {
        return;
    }
    if (c->pending) {
        if (pend_needs_stage(c)) {
            stage_request(c, &c->pend_gen, c->pend_count);
        }
    } else if (c->ahead_want) {
        stage_request(c, &c->gen, c->ahead_want);
    }
}

bool edu_rng_core_staged(EduRngCore *c, const EduRngGen *from, uint32_t len)
{
    if (!c->staging || len != c->stage_len ||
        !gen_same_place(from, &c->stage_gen)) {
        return false;
    }
    c->staging = false;
    c->ahead_gen = *from;
    c->ahead_len = len;
    return c->pending && c->pend_due;
}

void edu_rng_core_unstage(EduRngCore *c)
{
    c->staging = false;
}

/*
 * Make the next ahead_want bytes of the stream, unless they are there.
 * Runs in edu_rng_core_dma_complete(), outside the guest's register
 * writes; with ops->stage, the stager makes them.
 */
static void generate_ahead(EduRngCore *c)
{
    EduRngGen g;

    if (staged_mode(c)) {
        edu_rng_core_restage(c);
        return;
    }
    if (!c->ahead || !c->ahead_want || ahead_ready(c, c->ahead_want)) {
        return;
    }
    c->ahead_gen = c->gen;
    g = c->gen;
    edu_rng_gen_fill(&g, c->ahead, c->ahead_want);
    c->ahead_len = c->ahead_want;
}

/* Generator -> guest RAM at dma_dst from the bytes made ahead */
static bool dma_from_ahead(EduRngCore *c)
{
    uint32_t count = generator_count(c);

    c->xfer = write_stream(c, &c->gen, c->ahead, c->dma_dst, count);
    c->ahead_len = 0;
    return c->xfer == count;
}

static bool in_buffer(uint64_t addr, uint64_t count)
{
    return addr >= EDU_RNG_BUF_ADDR &&
           addr - EDU_RNG_BUF_ADDR <= EDU_RNG_BUF_SIZE &&
           count <= EDU_RNG_BUF_SIZE - (addr - EDU_RNG_BUF_ADDR);
}

/* EDU's transfers between guest RAM and the 4 KiB buffer */
static bool dma_with_buffer(EduRngCore *c)
{
    bool to_ram = c->dma_cmd & EDU_RNG_DMA_TO_RAM;
    uint64_t dev = to_ram ? c->dma_src : c->dma_dst;
    uint64_t ram = to_ram ? c->dma_dst : c->dma_src;
    uint64_t count = c->dma_count;
    uint8_t *buf;
    bool ok;

    if (count == 0 || !in_buffer(dev, count)) {
        core_error(c, "buffer DMA 0x%" PRIx64 "+%" PRIu64
                   " outside 0x%x..0x%x", dev, count, EDU_RNG_BUF_ADDR,
                   EDU_RNG_BUF_ADDR + EDU_RNG_BUF_SIZE);
        return false;
    }
    /* as for generator transfers: the RAM range must not wrap */
    if (ram + count < ram) {
        core_error(c, "buffer DMA RAM range 0x%" PRIx64 "+%" PRIu64 " wraps",
                   ram, count);
        return false;
    }
    buf = c->dma_buf + (dev - EDU_RNG_BUF_ADDR);
    if (to_ram) {
        ok = c->ops->dma_write(c->opaque, ram, buf, count);
    } else {
        ok = c->ops->dma_read(c->opaque, ram, buf, count);
    }
    if (!ok) {
        core_error(c, "DMA %s 0x%" PRIx64 " failed",
                   to_ram ? "write to" : "read from", ram);
        return false;
    }
    c->xfer = count;
    return true;
}

/* A command ended: tell the guest (or, under FAULT_LOST_IRQ, forget to). */
static void dma_finish(EduRngCore *c, bool ok)
{
    uint32_t cause = ok ? EDU_RNG_IRQ_DMA_DONE : EDU_RNG_IRQ_DMA_ERROR;

    c->status &= ~EDU_RNG_STATUS_BUSY;
    c->dma_cmd &= ~(uint64_t)EDU_RNG_DMA_START;
    if (!ok) {
        c->status |= EDU_RNG_STATUS_ERROR;
    }
    if (ok && (c->dma_cmd & EDU_RNG_DMA_RNG) &&
        (c->fault & EDU_RNG_FAULT_BAD_XFER)) {
        c->xfer += EDU_RNG_BUF_SIZE;
    }
    if (!(c->dma_cmd & EDU_RNG_DMA_IRQ)) {
        return;
    }
    if ((c->dma_cmd & EDU_RNG_DMA_RNG) &&
        (c->fault & EDU_RNG_FAULT_LOST_IRQ)) {
        c->irq_status |= cause;
    } else {
        core_set_irq(c, c->irq_status | cause);
    }
}

static void dma_run(EduRngCore *c)
{
    c->xfer = 0;
    c->status |= EDU_RNG_STATUS_BUSY;
    if (c->dma_cmd & ~(uint64_t)EDU_RNG_DMA_CMD_MASK) {
        core_error(c, "DMA command 0x%" PRIx64 " has reserved bits",
                   c->dma_cmd);
        dma_finish(c, false);
    } else if (!(c->dma_cmd & EDU_RNG_DMA_RNG)) {
        dma_finish(c, dma_with_buffer(c));
    } else if (!generator_request_ok(c)) {
        dma_finish(c, false);
    } else if (c->fault & EDU_RNG_FAULT_DMA_ERROR) {
        dma_finish(c, false);
    } else if (c->fault & EDU_RNG_FAULT_HANG) {
        c->hung = true;         /* BUSY until CTRL.ABORT or a reset */
    } else if ((c->fault & EDU_RNG_FAULT_SLOW) && c->can_delay) {
        dma_from_generator_later(c, EDU_RNG_FAULT_SLOW_NS);
    } else if (c->dma_latency_ns && c->can_delay) {
        dma_from_generator_later(c, c->dma_latency_ns);
    } else if (gen_ahead_mode(c) && ahead_ready(c, generator_count(c))) {
        dma_finish(c, dma_from_ahead(c));
        c->ahead_want = c->dma_count;
        if (staged_mode(c)) {
            edu_rng_core_restage(c);
        } else {
            c->ops->schedule(c->opaque, 0);
        }
    } else if (gen_ahead_mode(c) && !staged_mode(c)) {
        /*
         * Make them now: waiting for the main loop would tie the guest
         * to how soon the host runs it.
         */
        dma_finish(c, dma_from_generator(c));
        c->ahead_want = c->dma_count;
        c->ops->schedule(c->opaque, 0);
    } else if (staged_mode(c) || (c->async_dma && c->can_delay)) {
        /* with a stager, made away from our lock: the copy only under it */
        dma_from_generator_later(c, 0);
    } else {
        dma_finish(c, dma_from_generator(c));
    }
}

void edu_rng_core_dma_complete(EduRngCore *c)
{
    const uint8_t *made = NULL;
    bool ok;

    if (!c->pending) {
        generate_ahead(c);
        return;
    }
    if (pend_needs_stage(c)) {
        if (!ahead_from(c, &c->pend_gen, c->pend_count)) {
            /* due; edu_rng_core_staged() says when its bytes are made */
            stage_request(c, &c->pend_gen, c->pend_count);
            c->pend_due = true;
            return;
        }
        made = c->ahead;
    }
    c->pending = false;
    c->pend_due = false;
    /* its bytes' place in the stream was taken at the start */
    c->xfer = write_stream(c, &c->pend_gen, made, c->pend_dst,
                           c->pend_count);
    if (made) {
        c->ahead_len = 0;
    }
    ok = c->xfer == c->pend_count;
    dma_finish(c, ok);
    generate_ahead(c);
}

static uint64_t *dma_reg(EduRngCore *c, uint64_t addr)
{
    switch (addr & ~7ull) {
    case EDU_RNG_REG_DMA_SRC:
        return &c->dma_src;
    case EDU_RNG_REG_DMA_DST:
        return &c->dma_dst;
    case EDU_RNG_REG_DMA_COUNT:
        return &c->dma_count;
    case EDU_RNG_REG_DMA_CMD:
        return &c->dma_cmd;
    }
    return NULL;
}

static bool access_ok(EduRngCore *c, uint64_t addr, unsigned size,
                      const char *what)
{
    bool dma = dma_reg(c, addr) != NULL;

    if ((size == 4 || (size == 8 && dma)) && !(addr & (size - 1))) {
        return true;
    }
    core_error(c, "bad %u-byte %s at 0x%" PRIx64, size, what, addr);
    return false;
}

/*
 * Under FAULT_GONE the device behaves as if pulled from its slot: reads
 * get all ones, writes are lost, nothing moves and no interrupt is
 * signalled.  Only the FAULT register still answers, so a test can bring
 * the device back.
 */
static bool gone(EduRngCore *c, uint64_t addr)
{
    return (c->fault & EDU_RNG_FAULT_GONE) && addr != EDU_RNG_REG_FAULT;
}

uint64_t edu_rng_core_read(EduRngCore *c, uint64_t addr, unsigned size)
{
    uint64_t *reg;

    if (!access_ok(c, addr, size, "read")) {
        return ~0ull;
    }
    if (gone(c, addr)) {
        return size == 8 ? ~0ull : 0xffffffffu;
    }
    reg = dma_reg(c, addr);
    if (reg) {
        /* a 4-byte access reads one half of the 64-bit register */
        return size == 8 ? *reg : (uint32_t)(*reg >> (addr & 4) * 8);
    }
    switch (addr) {
    case EDU_RNG_REG_RANDOM:
        return edu_rng_gen_u32(&c->gen);
    case EDU_RNG_REG_SEED:
        return 0;
    case EDU_RNG_REG_ID:
        return EDU_RNG_ID;
    case EDU_RNG_REG_CAPS:
        return EDU_RNG_CAP_DMA_RNG | EDU_RNG_CAP_DMA64 |
               EDU_RNG_CAP_SEED64 | EDU_RNG_CAP_XFER | EDU_RNG_CAP_ABORT |
               (c->fault_injection ? EDU_RNG_CAP_FAULT : 0);
    case EDU_RNG_REG_SEED_HI:
        return c->seed_hi;
    case EDU_RNG_REG_DMA_MAX:
        return c->dma_max;
    case EDU_RNG_REG_CTRL:
        return 0;
    case EDU_RNG_REG_XFER:
        return c->xfer;
    case EDU_RNG_REG_STATUS:
        return c->status;
    case EDU_RNG_REG_IRQ_STATUS:
        return c->irq_status;
    case EDU_RNG_REG_FAULT:
        if (c->fault_injection) {
            return c->fault;
        }
        break;
    }
    core_error(c, "read of unknown register 0x%" PRIx64, addr);
    return ~0ull;
}

static void write_dma_reg(EduRngCore *c, uint64_t *reg, uint64_t addr,
                          uint64_t val, unsigned size)
{
    unsigned shift = (addr & 4) * 8;

    if (reg == &c->dma_cmd && (c->status & EDU_RNG_STATUS_BUSY)) {
        core_error(c, "DMA command written while busy, ignored");
        return;
    }
    if (size == 8) {
        *reg = val;
    } else {
        *reg = (*reg & ~(0xffffffffull << shift)) | (val << shift);
    }
    if (reg == &c->dma_cmd && (c->dma_cmd & EDU_RNG_DMA_START)) {
        dma_run(c);
    }
}

static void write_ctrl(EduRngCore *c, uint32_t val)
{
    if (val & ~EDU_RNG_CTRL_MASK) {
        core_error(c, "CTRL 0x%x has reserved bits", val);
        return;
    }
    if (val & EDU_RNG_CTRL_RESET) {
        edu_rng_core_reset(c);
        return;
    }
    if (val & EDU_RNG_CTRL_ABORT) {
        /* a delayed transfer's drawn bytes are lost; a hung one drew none */
        c->pending = false;
        c->pend_due = false;
        c->hung = false;
        c->status &= ~EDU_RNG_STATUS_BUSY;
        c->dma_cmd &= ~(uint64_t)EDU_RNG_DMA_START;
    }
    if (val & EDU_RNG_CTRL_UNSEED) {
        core_host_key(c);
    }
}

static void write_fault(EduRngCore *c, uint32_t val)
{
    bool was_gone = c->fault & EDU_RNG_FAULT_GONE;

    if (val & ~EDU_RNG_FAULT_MASK) {
        core_error(c, "FAULT 0x%x has reserved bits", val);
        return;
    }
    if ((val & EDU_RNG_FAULT_GONE) && !was_gone) {
        /* a delayed transfer dies with the device: BUSY, as if hung */
        if (c->pending) {
            c->pending = false;
            c->pend_due = false;
            c->hung = true;
        }
        /* the interrupt line falls with the device */
        if (c->irq_status) {
            c->ops->irq_update(c->opaque, c->irq_status, 0);
        }
    } else if (!(val & EDU_RNG_FAULT_GONE) && was_gone && c->irq_status) {
        c->ops->irq_update(c->opaque, 0, c->irq_status);
    }
    c->fault = val & ~EDU_RNG_FAULT_SPURIOUS;
    if ((val & EDU_RNG_FAULT_SPURIOUS) && !(val & EDU_RNG_FAULT_GONE)) {
        core_set_irq(c, c->irq_status | EDU_RNG_IRQ_DMA_DONE);
    }
}

void edu_rng_core_write(EduRngCore *c, uint64_t addr, uint64_t val,
                        unsigned size)
{
    uint64_t *reg;

    if (!access_ok(c, addr, size, "write") || gone(c, addr)) {
        return;
    }
    reg = dma_reg(c, addr);
    if (reg) {
        write_dma_reg(c, reg, addr, val, size);
        return;
    }
    switch (addr) {
    case EDU_RNG_REG_SEED:
        edu_rng_gen_seed(&c->gen, (uint64_t)c->seed_hi << 32 | (uint32_t)val);
        c->seed_hi = 0;
        c->status |= EDU_RNG_STATUS_SEEDED;
        stage_drop(c);
        return;
    case EDU_RNG_REG_SEED_HI:
        c->seed_hi = val;
        return;
    case EDU_RNG_REG_CTRL:
        write_ctrl(c, val);
        return;
    case EDU_RNG_REG_FAULT:
        if (c->fault_injection) {
            write_fault(c, val);
            return;
        }
        break;
    case EDU_RNG_REG_STATUS:
        c->status &= ~(val & EDU_RNG_STATUS_ERROR);
        return;
    case EDU_RNG_REG_IRQ_RAISE:
        core_set_irq(c, c->irq_status | (uint32_t)val);
        return;
    case EDU_RNG_REG_IRQ_ACK:
        if (c->fault & EDU_RNG_FAULT_IRQ_STUCK) {
            /*
             * A cause that will not clear: each ack signals the pending
             * causes again, so a driver that acks in its handler gets an
             * interrupt storm with MSI as with INTx (whose line simply
             * stays up).
             */
            if (c->irq_status) {
                c->ops->irq_update(c->opaque, 0, c->irq_status);
            }
            return;
        }
        core_set_irq(c, c->irq_status & ~(uint32_t)val);
        return;
    }
    core_error(c, "write of 0x%" PRIx64 " to %s register 0x%" PRIx64, val,
               addr < EDU_RNG_BAR_SIZE ? "read-only or unknown" : "no",
               addr);
}

/* Is the delayed transfer one this device could have started? */
static bool pending_valid(const EduRngCore *c)
{
    return c->can_delay && !c->hung && !(c->fault & EDU_RNG_FAULT_GONE) &&
           (c->status & EDU_RNG_STATUS_BUSY) &&
           (c->dma_cmd & EDU_RNG_DMA_START) &&
           (c->dma_cmd & EDU_RNG_DMA_RNG) &&
           (c->dma_cmd & EDU_RNG_DMA_TO_RAM) &&
           c->pend_count <= c->dma_max &&
           /* no wrap; FAULT_SHORT can halve a 1-byte count to 0 */
           (!c->pend_count || c->pend_dst + c->pend_count > c->pend_dst) &&
           c->pend_gen.used <= sizeof(c->pend_gen.block);
}

bool edu_rng_core_state_valid(const EduRngCore *c)
{
    if (c->gen.used > sizeof(c->gen.block) ||
        (c->fault & ~EDU_RNG_FAULT_MASK)) {
        return false;
    }
    /*
     * Faults come from the FAULT register, which only a device with
     * fault-injection=on has: a destination without it could neither
     * show them nor clear them, and a hung command (FAULT_HANG, or a
     * transfer that died under FAULT_GONE) would stay BUSY for good.
     */
    if (!c->fault_injection && (c->fault || c->hung)) {
        return false;
    }
    /* a delayed transfer migrates, and completes on the destination */
    if (c->pending) {
        return pending_valid(c) &&
               !(c->status & ~(EDU_RNG_STATUS_BUSY | EDU_RNG_STATUS_ERROR |
                               EDU_RNG_STATUS_SEEDED));
    }
    /* else only a hung command (an injected fault) is saved while busy */
    if (c->hung) {
        return (c->status & EDU_RNG_STATUS_BUSY) &&
               (c->dma_cmd & EDU_RNG_DMA_START);
    }
    return !(c->status & ~(EDU_RNG_STATUS_ERROR | EDU_RNG_STATUS_SEEDED)) &&
           !(c->dma_cmd & EDU_RNG_DMA_START);
}

/*
 * Restored state may run on more than one machine: a snapshot loaded
 * twice, or a VM cloned from one migration stream.  A seeded stream is
 * the guest's to repeat and continues exactly.  A host-entropy one must
 * not: every destination re-keys from its own entropy, so no two
 * produce the same bytes, and none produces what the source went on to
 * produce (after a failed migration, or a snapshot taken while running).
 * That covers a delayed transfer still pending: its bytes are generated
 * when it completes, from pend_gen, so re-keying pend_gen is enough;
 * it keeps its place before gen's bytes in the guest's eyes.  Bytes
 * made ahead are not migrated at all: they are the source's.
 */
void edu_rng_core_post_load(EduRngCore *c)
{
    c->ahead_len = 0;
    c->ahead_want = 0;
    c->staging = false;         /* the device stopped its stager */
    c->pend_due = false;
    if (!(c->status & EDU_RNG_STATUS_SEEDED)) {
        gen_host_key(c, &c->gen);
    }
    if (c->pending && !c->pend_seeded) {
        gen_host_key(c, &c->pend_gen);
    }
}
