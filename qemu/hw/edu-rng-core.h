/*
 * edu-rng device core: the generator and the register file.
 *
 * Nothing here depends on QEMU's device model: hw/misc/edu-rng.c wraps it
 * in a PCI device, and unit tests and fuzzers can drive it directly.  The
 * register map is documented in docs/specs/edu-rng.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_EDU_RNG_CORE_H
#define HW_MISC_EDU_RNG_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* BAR0 registers */
#define EDU_RNG_REG_RANDOM      0x00    /* R: next 32 bits of the stream */
#define EDU_RNG_REG_SEED        0x04    /* W: seed the stream */
#define EDU_RNG_REG_ID          0x08    /* R: EDU_RNG_ID */
#define EDU_RNG_REG_CAPS        0x0c    /* R: EDU_RNG_CAP_* */
#define EDU_RNG_REG_SEED_HI     0x10    /* RW: bits 63:32 of the next seed */
#define EDU_RNG_REG_DMA_MAX     0x14    /* R: largest generator transfer */
#define EDU_RNG_REG_CTRL        0x18    /* W: EDU_RNG_CTRL_* */
#define EDU_RNG_REG_XFER        0x1c    /* R: bytes moved by the last DMA */
#define EDU_RNG_REG_STATUS      0x20    /* RW: EDU_RNG_STATUS_* */
#define EDU_RNG_REG_IRQ_STATUS  0x24    /* R: pending interrupt causes */
#define EDU_RNG_REG_FAULT       0x30    /* RW: EDU_RNG_FAULT_*, if enabled */
#define EDU_RNG_REG_IRQ_RAISE   0x60    /* W: set interrupt causes */
#define EDU_RNG_REG_IRQ_ACK     0x64    /* W: clear interrupt causes */
#define EDU_RNG_REG_DMA_SRC     0x80    /* RW, 64 bits */
#define EDU_RNG_REG_DMA_DST     0x88    /* RW, 64 bits */
#define EDU_RNG_REG_DMA_COUNT   0x90    /* RW, 64 bits */
#define EDU_RNG_REG_DMA_CMD     0x98    /* RW, 64 bits */

#define EDU_RNG_BAR_SIZE        0x100000
#define EDU_RNG_ID              0xcafe0100u /* device 0xcafe, version 1.0 */

#define EDU_RNG_CAP_DMA_RNG     (1u << 0) /* generator -> RAM transfers */
#define EDU_RNG_CAP_DMA64       (1u << 1) /* 64-bit DMA addresses */
#define EDU_RNG_CAP_SEED64      (1u << 2) /* SEED_HI register */
#define EDU_RNG_CAP_XFER        (1u << 3) /* XFER register */
#define EDU_RNG_CAP_ABORT       (1u << 4) /* CTRL.ABORT */
#define EDU_RNG_CAP_FAULT       (1u << 5) /* FAULT register enabled */

/* Injected faults, applied to generator transfers while set */
#define EDU_RNG_FAULT_DMA_ERROR (1u << 0) /* fail: nothing moved */
#define EDU_RNG_FAULT_HANG      (1u << 1) /* never complete */
#define EDU_RNG_FAULT_LOST_IRQ  (1u << 2) /* complete, signal nothing */
#define EDU_RNG_FAULT_SHORT     (1u << 3) /* move half, say so in XFER */
#define EDU_RNG_FAULT_BAD_XFER  (1u << 4) /* move all, XFER says more */
#define EDU_RNG_FAULT_SLOW      (1u << 5) /* take 200 ms */
#define EDU_RNG_FAULT_SPURIOUS  (1u << 6) /* raise DMA_DONE now; not kept */
#define EDU_RNG_FAULT_GONE      (1u << 7) /* answer nothing, as if pulled */
#define EDU_RNG_FAULT_NO_WRITE  (1u << 8) /* complete, write nothing */
#define EDU_RNG_FAULT_IRQ_STUCK (1u << 9) /* IRQ_ACK clears nothing */
#define EDU_RNG_FAULT_MASK      0x3ffu
#define EDU_RNG_FAULT_SLOW_NS   200000000ull

#define EDU_RNG_CTRL_RESET      (1u << 0) /* reset the whole device */
#define EDU_RNG_CTRL_UNSEED     (1u << 1) /* back to host entropy */
#define EDU_RNG_CTRL_ABORT      (1u << 2) /* end a running DMA command */
#define EDU_RNG_CTRL_MASK       (EDU_RNG_CTRL_RESET | EDU_RNG_CTRL_UNSEED | \
                                 EDU_RNG_CTRL_ABORT)

#define EDU_RNG_STATUS_BUSY     (1u << 0) /* a DMA command is running */
#define EDU_RNG_STATUS_ERROR    (1u << 1) /* a command failed; write 1 clears */
#define EDU_RNG_STATUS_SEEDED   (1u << 2) /* the stream comes from a seed */

#define EDU_RNG_IRQ_DMA_DONE    0x100u
#define EDU_RNG_IRQ_DMA_ERROR   0x200u

#define EDU_RNG_DMA_START       (1u << 0)
#define EDU_RNG_DMA_TO_RAM      (1u << 1) /* direction: device -> RAM */
#define EDU_RNG_DMA_IRQ         (1u << 2) /* interrupt on completion */
#define EDU_RNG_DMA_RNG         (1u << 3) /* source is the generator */
#define EDU_RNG_DMA_CMD_MASK    0xfu

/* EDU's DMA buffer, reachable by DMA only, as in QEMU's edu device */
#define EDU_RNG_BUF_ADDR        0x40000u
#define EDU_RNG_BUF_SIZE        4096u

#define EDU_RNG_DMA_MAX_MIN     4096u
#define EDU_RNG_DMA_MAX_MAX     (16u << 20)
#define EDU_RNG_DMA_MAX_DEFAULT (1u << 20)
#define EDU_RNG_DMA_LATENCY_MAX 1000000000ull /* 1 s */

/* ChaCha20 keystream (RFC 8439 block function, 64-bit block counter) */
typedef struct EduRngGen {
    uint32_t key[8];
    uint64_t nonce;
    uint64_t counter;           /* next block to generate */
    uint8_t block[64];          /* current block */
    uint32_t used;              /* bytes of block consumed, 64 = empty */
} EduRngGen;

void edu_rng_gen_seed(EduRngGen *g, uint64_t seed);
void edu_rng_gen_key(EduRngGen *g, const uint8_t key[32], uint64_t nonce);
void edu_rng_gen_fill(EduRngGen *g, void *buf, size_t len);
void edu_rng_gen_skip(EduRngGen *g, uint64_t len);
uint32_t edu_rng_gen_u32(EduRngGen *g);
void edu_rng_chacha20_block(const uint32_t key[8], uint64_t counter,
                            uint64_t nonce, uint8_t out[64]);

typedef struct EduRngCoreOps {
    /* DMA to and from guest memory; false on a bus error */
    bool (*dma_read)(void *opaque, uint64_t addr, void *buf, uint32_t len);
    bool (*dma_write)(void *opaque, uint64_t addr, const void *buf,
                      uint32_t len);
    /*
     * Is [addr, addr + len) writable RAM for the device (through its
     * IOMMU, if any)?  Checked before each chunk of a generator transfer;
     * NULL: everything is.
     */
    bool (*dma_is_ram)(void *opaque, uint64_t addr, uint32_t len);
    /*
     * IRQ_STATUS went from old to new.  An old of 0 with new causes that
     * were pending already signals them again (a new MSI message; INTx
     * stays asserted): FAULT_GONE's return, acks under FAULT_IRQ_STUCK.
     */
    void (*irq_update)(void *opaque, uint32_t old, uint32_t new_status);
    /* fill buf with host entropy */
    void (*get_entropy)(void *opaque, void *buf, size_t len);
    /* report something the guest did wrong */
    void (*guest_error)(void *opaque, const char *msg);
    /* call edu_rng_core_dma_complete() in ns nanoseconds */
    void (*schedule)(void *opaque, uint64_t ns);
    /*
     * Make the @len bytes of @from's stream into the core's ahead buffer
     * away from the caller (QEMU: a worker thread), then hand them over
     * with edu_rng_core_staged(), under the lock the core runs under.  A
     * new call replaces the request before; @len 0 withdraws it.  The
     * buffer may change until the bytes of the latest request are handed
     * over.  NULL: bytes ahead are made in edu_rng_core_dma_complete().
     */
    void (*stage)(void *opaque, const EduRngGen *from, uint32_t len);
} EduRngCoreOps;

typedef struct EduRngCore {
    const EduRngCoreOps *ops;
    void *opaque;
    /* configuration, not guest state */
    uint32_t dma_max;
    uint64_t dma_latency_ns;    /* simulated latency of generator DMA */
    bool async_dma;             /* complete generator DMA later, even at 0 */
    bool can_delay;             /* ops->schedule can end transfers later */
    uint8_t *ahead;             /* dma_max bytes generated ahead, or NULL */
    /*
     * With ops->stage, ahead is the stager's buffer: every generator
     * transfer is made there and copied from it when it completes, and
     * gen_ahead completes one whose bytes are made at once, in the
     * register write.  Without ops->stage, ahead alone means that.
     */
    bool gen_ahead;
    bool fault_injection;       /* the FAULT register is there */

    /*
     * A delayed generator transfer: placed in the stream, not yet
     * written.  Migrated (and completed on the destination), never
     * completed while the VM is stopped.
     */
    bool pending;
    EduRngGen pend_gen;         /* the stream at the transfer's start */
    bool pend_seeded;           /* pend_gen is a seeded stream */

    /*
     * The next ahead_len bytes of the stream from ahead_gen on, made
     * outside the guest's register writes: a transfer that starts where
     * they do is copied from them at once.
     */
    EduRngGen ahead_gen;
    uint32_t ahead_len;
    uint32_t ahead_want;        /* bytes of the last generator transfer */
    /* ops->stage was asked for stage_len bytes from stage_gen on */
    bool staging;
    EduRngGen stage_gen;
    uint32_t stage_len;
    bool pend_due;              /* pending: due, waits for its bytes */
    uint64_t pend_dst;
    uint32_t pend_count;

    EduRngGen gen;
    uint32_t seed_hi;
    uint32_t status;
    uint32_t irq_status;
    uint32_t xfer;
    uint64_t dma_src;
    uint64_t dma_dst;
    uint64_t dma_count;
    uint64_t dma_cmd;
    uint8_t dma_buf[EDU_RNG_BUF_SIZE];
    uint32_t fault;
    bool hung;                  /* a command under FAULT_HANG */
} EduRngCore;

void edu_rng_core_init(EduRngCore *c, const EduRngCoreOps *ops, void *opaque,
                       uint32_t dma_max);
void edu_rng_core_reset(EduRngCore *c);
/*
 * End a delayed generator transfer, and generate ahead (see
 * EduRngCoreOps.schedule).  It writes guest memory and raises
 * interrupts: the device calls it only while the VM runs.
 */
void edu_rng_core_dma_complete(EduRngCore *c);
uint64_t edu_rng_core_read(EduRngCore *c, uint64_t addr, unsigned size);
void edu_rng_core_write(EduRngCore *c, uint64_t addr, uint64_t val,
                        unsigned size);
/*
 * Check state restored by migration, into a device of this one's
 * configuration; false if it is inconsistent
 */
bool edu_rng_core_state_valid(const EduRngCore *c);
/*
 * After a valid state was restored: re-key host-entropy streams, drop
 * bytes made ahead.  A pending transfer is then to be completed through
 * edu_rng_core_dma_complete() once the VM runs.
 */
void edu_rng_core_post_load(EduRngCore *c);
/*
 * ops->stage made what it was asked (@from, @len: the request's): true if
 * a transfer due waits for them, to be ended by edu_rng_core_dma_complete().
 * A stale answer changes nothing.
 */
bool edu_rng_core_staged(EduRngCore *c, const EduRngGen *from, uint32_t len);
/*
 * The stager dropped its request unanswered (QEMU: the VM stopped, the
 * worker was joined).  edu_rng_core_restage() asks again.
 */
void edu_rng_core_unstage(EduRngCore *c);
/* Ask ops->stage for the bytes the next completion or transfer needs */
void edu_rng_core_restage(EduRngCore *c);

#endif
