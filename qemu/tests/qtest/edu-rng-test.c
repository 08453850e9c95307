/*
 * QTest of the edu-rng PCI device: registers, ID and CAPS, seeded known
 * answers over MMIO and over DMA into guest memory, every invalid
 * request, MSI and INTx, reset, the worker thread that makes generator
 * transfers' bytes, and a migration with a generator transfer pending.
 * See docs/specs/edu-rng.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "libqos/malloc-pc.h"
#include "qobject/qdict.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_regs.h"

#define REG_RANDOM      0x00
#define REG_SEED        0x04
#define REG_ID          0x08
#define REG_CAPS        0x0c
#define REG_SEED_HI     0x10
#define REG_DMA_MAX     0x14
#define REG_CTRL        0x18
#define REG_XFER        0x1c
#define REG_STATUS      0x20
#define REG_IRQ_STATUS  0x24
#define REG_FAULT       0x30
#define REG_IRQ_RAISE   0x60
#define REG_IRQ_ACK     0x64
#define REG_DMA_SRC     0x80
#define REG_DMA_DST     0x88
#define REG_DMA_COUNT   0x90
#define REG_DMA_CMD     0x98

#define STATUS_BUSY     1u
#define STATUS_ERROR    2u
#define STATUS_SEEDED   4u
#define IRQ_DONE        0x100u
#define IRQ_ERROR       0x200u
#define CMD_START       1u
#define CMD_TO_RAM      2u
#define CMD_IRQ         4u
#define CMD_RNG         8u
#define RNG_CMD         (CMD_START | CMD_TO_RAM | CMD_IRQ | CMD_RNG)
#define BUF_ADDR        0x40000u
#define HPET_BASE       0xfed00000ull

/* The spec's known answers: the first four RANDOM reads after a seed */
static const struct {
    uint64_t seed;
    uint32_t words[4];
} kat[] = {
    { 0, { 0xade0b876, 0x903df1a0, 0xe56a5d40, 0x28bd8653 } },
    { 42, { 0x26e5761f, 0x6ae30a51, 0x5c8b5c62, 0xb4eb7f59 } },
    { UINT64_MAX, { 0x6beea23f, 0xeb4153da, 0xfc8a4224, 0x3836e52a } },
};

typedef struct EduRng {
    QTestState *qts;
    QGuestAllocator alloc;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar;
} EduRng;


/* A q35 machine with edu-rng at 00:04.0, @opts its properties */
static void er_attach(EduRng *e, QTestState *qts, bool map)
{
    e->qts = qts;
    pc_alloc_init(&e->alloc, qts, ALLOC_NO_FLAGS);
    e->bus = qpci_new_pc(qts, &e->alloc);
    e->dev = qpci_device_find(e->bus, QPCI_DEVFN(4, 0));
    g_assert(e->dev);
    if (map) {
        qpci_device_enable(e->dev);
        e->bar = qpci_iomap(e->dev, 0, NULL);
    } else {
        /* migrated in: BAR and command register are the source's */
        e->bar.addr = qpci_config_readl(e->dev, PCI_BASE_ADDRESS_0) & ~0xfull;
        e->bar.is_io = false;
    }
}

static void er_start(EduRng *e, const char *opts, const char *extra)
{
    er_attach(e, qtest_initf("-nodefaults -machine q35 -m 128 "
                             "-device edu-rng,addr=04.0%s%s %s",
                             *opts ? "," : "", opts, extra), true);
}

static void er_stop(EduRng *e)
{
    g_free(e->dev);
    qpci_free_pc(e->bus);
    alloc_destroy(&e->alloc);
    qtest_quit(e->qts);
}

static uint32_t rd(EduRng *e, uint64_t reg)
{
    return qpci_io_readl(e->dev, e->bar, reg);
}

static void wr(EduRng *e, uint64_t reg, uint32_t val)
{
    qpci_io_writel(e->dev, e->bar, reg, val);
}

static void seed(EduRng *e, uint64_t s)
{
    wr(e, REG_SEED_HI, s >> 32);
    wr(e, REG_SEED, (uint32_t)s);
}

static void dma(EduRng *e, uint64_t src, uint64_t dst, uint64_t count,
                uint64_t cmd)
{
    qpci_io_writeq(e->dev, e->bar, REG_DMA_SRC, src);
    qpci_io_writeq(e->dev, e->bar, REG_DMA_DST, dst);
    qpci_io_writeq(e->dev, e->bar, REG_DMA_COUNT, count);
    qpci_io_writeq(e->dev, e->bar, REG_DMA_CMD, cmd);
}

/*
 * Let a transfer end: @step_ns of virtual time a round (its latency),
 * and the main loop, which runs the completion's bottom half, between
 * qtest commands.  Bounded.
 */
static bool wait_idle(EduRng *e, int64_t step_ns)
{
    for (int i = 0; i < 2000; i++) {
        if (!(rd(e, REG_STATUS) & STATUS_BUSY)) {
            return true;
        }
        if (step_ns) {
            qtest_clock_step(e->qts, step_ns);
        }
        g_usleep(100);
    }
    return false;
}

/* Clear ERROR and the interrupt causes */
static void clear(EduRng *e)
{
    wr(e, REG_STATUS, STATUS_ERROR);
    wr(e, REG_IRQ_ACK, IRQ_DONE | IRQ_ERROR);
}

/* @n bytes of seed @s's stream, read through RANDOM */
static void stream(EduRng *e, uint64_t s, uint8_t *out, size_t n)
{
    g_assert(n % 4 == 0);
    seed(e, s);
    for (size_t i = 0; i < n; i += 4) {
        uint32_t w = rd(e, REG_RANDOM);

        memcpy(out + i, &w, 4);     /* little endian, as the stream */
    }
}

static void test_identity(void)
{
    EduRng e;

    er_start(&e, "", "");
    g_assert_cmphex(qpci_config_readw(e.dev, PCI_VENDOR_ID), ==,
                    PCI_VENDOR_ID_REDHAT);
    g_assert_cmphex(qpci_config_readw(e.dev, PCI_DEVICE_ID), ==,
                    PCI_DEVICE_ID_REDHAT_EDU_RNG);
    g_assert_cmphex(qpci_config_readb(e.dev, PCI_REVISION_ID), ==, 0x01);
    g_assert_cmphex(qpci_config_readw(e.dev, PCI_CLASS_DEVICE), ==, 0x00ff);
    g_assert_cmphex(qpci_config_readb(e.dev, PCI_INTERRUPT_PIN), ==, 1);
    g_assert_cmphex(rd(&e, REG_ID), ==, 0xcafe0100);
    g_assert_cmphex(rd(&e, REG_CAPS), ==, 0x1f);
    g_assert_cmpuint(rd(&e, REG_DMA_MAX), ==, 1u << 20);
    er_stop(&e);

    er_start(&e, "x-fault-injection=on,dma-max=4096", "");
    g_assert_cmphex(rd(&e, REG_CAPS), ==, 0x3f);
    g_assert_cmpuint(rd(&e, REG_DMA_MAX), ==, 4096);
    er_stop(&e);
}

static void test_registers(void)
{
    EduRng e;

    er_start(&e, "", "");
    /* reset values */
    g_assert_cmphex(rd(&e, REG_SEED), ==, 0);
    g_assert_cmphex(rd(&e, REG_SEED_HI), ==, 0);
    g_assert_cmphex(rd(&e, REG_CTRL), ==, 0);
    g_assert_cmphex(rd(&e, REG_XFER), ==, 0);
    g_assert_cmphex(rd(&e, REG_STATUS), ==, 0);
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 0);
    g_assert_cmphex(qpci_io_readq(e.dev, e.bar, REG_DMA_CMD), ==, 0);
    /* SEED_HI is read-write; a seed clears it and sets SEEDED */
    wr(&e, REG_SEED_HI, 0x12345678);
    g_assert_cmphex(rd(&e, REG_SEED_HI), ==, 0x12345678);
    wr(&e, REG_SEED, 1);
    g_assert_cmphex(rd(&e, REG_SEED_HI), ==, 0);
    g_assert_cmphex(rd(&e, REG_STATUS), ==, STATUS_SEEDED);
    /* UNSEED: host entropy again */
    wr(&e, REG_CTRL, 2);
    g_assert_cmphex(rd(&e, REG_STATUS), ==, 0);
    /* IRQ_RAISE sets, IRQ_ACK clears */
    wr(&e, REG_IRQ_RAISE, IRQ_DONE | 0x1);
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, IRQ_DONE | 0x1);
    wr(&e, REG_IRQ_ACK, 0x1);
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, IRQ_DONE);
    wr(&e, REG_IRQ_ACK, IRQ_DONE);
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 0);
    /* the DMA registers are 64-bit; a 4-byte access reaches one half */
    qpci_io_writeq(e.dev, e.bar, REG_DMA_DST, 0x1122334455667788ull);
    g_assert_cmphex(rd(&e, REG_DMA_DST), ==, 0x55667788);
    g_assert_cmphex(rd(&e, REG_DMA_DST + 4), ==, 0x11223344);
    wr(&e, REG_DMA_DST + 4, 0xaabbccdd);
    g_assert_cmphex(qpci_io_readq(e.dev, e.bar, REG_DMA_DST), ==,
                    0xaabbccdd55667788ull);
    /* bad accesses read all ones and change nothing */
    g_assert_cmphex(qpci_io_readb(e.dev, e.bar, REG_ID), ==, 0xff);
    g_assert_cmphex(qpci_io_readw(e.dev, e.bar, REG_ID), ==, 0xffff);
    g_assert_cmphex(rd(&e, REG_ID + 2), ==, 0xffffffff);
    g_assert_cmphex(qpci_io_readq(e.dev, e.bar, REG_ID), ==, UINT64_MAX);
    g_assert_cmphex(rd(&e, 0x40), ==, 0xffffffff);
    g_assert_cmphex(rd(&e, REG_FAULT), ==, 0xffffffff);   /* not enabled */
    wr(&e, REG_ID, 0);
    wr(&e, REG_CAPS, 0);
    qpci_io_writew(e.dev, e.bar, REG_SEED_HI, 0x5555);
    g_assert_cmphex(rd(&e, REG_ID), ==, 0xcafe0100);
    g_assert_cmphex(rd(&e, REG_SEED_HI), ==, 0);
    /* CTRL with reserved bits: ignored (a RESET among them included) */
    wr(&e, REG_SEED_HI, 7);
    wr(&e, REG_CTRL, 0x9);
    g_assert_cmphex(rd(&e, REG_SEED_HI), ==, 7);
    er_stop(&e);
}

static void test_kat_mmio(void)
{
    EduRng e;

    er_start(&e, "", "");
    for (size_t i = 0; i < G_N_ELEMENTS(kat); i++) {
        seed(&e, kat[i].seed);
        for (int j = 0; j < 4; j++) {
            g_assert_cmphex(rd(&e, REG_RANDOM), ==, kat[i].words[j]);
        }
    }
    /* a driver that writes 0x04 only gets 32-bit seeds */
    wr(&e, REG_SEED, 42);
    g_assert_cmphex(rd(&e, REG_RANDOM), ==, kat[1].words[0]);
    er_stop(&e);
}

/* Seeded generator DMA into guest RAM: the stream RANDOM reads give */
static void test_kat_dma(void)
{
    static const char *const opts[] = {
        "", "x-gen-ahead=on", "x-dma-latency-ns=100000",
    };

    for (size_t k = 0; k < G_N_ELEMENTS(opts); k++) {
        g_autofree uint8_t *want = g_malloc(65536 + 16);
        g_autofree uint8_t *got = g_malloc(65536);
        uint64_t buf;
        uint32_t next;
        EduRng e;

        er_start(&e, opts[k], "");
        buf = guest_alloc(&e.alloc, 65536);
        stream(&e, 42, want, 65536 + 16);
        seed(&e, 42);
        dma(&e, 0, buf, 65536, RNG_CMD);
        g_assert(wait_idle(&e, 100000));
        g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, IRQ_DONE);
        g_assert_cmpuint(rd(&e, REG_XFER), ==, 65536);
        g_assert_cmphex(rd(&e, REG_STATUS), ==, STATUS_SEEDED);
        qtest_memread(e.qts, buf, got, 65536);
        g_assert(memcmp(got, want, 65536) == 0);
        next = rd(&e, REG_RANDOM);
        g_assert(memcmp(&next, want + 65536, 4) == 0);
        /* the first bytes are the known answers */
        g_assert(!memcmp(got, kat[1].words, 16) || HOST_BIG_ENDIAN);
        /* EDU's buffer: RAM -> buffer -> RAM */
        clear(&e);
        dma(&e, buf, BUF_ADDR + 16, 256, CMD_START | CMD_IRQ);
        g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, IRQ_DONE);
        clear(&e);
        dma(&e, BUF_ADDR + 16, buf + 4096, 256,
            CMD_START | CMD_TO_RAM | CMD_IRQ);
        g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, IRQ_DONE);
        g_assert_cmpuint(rd(&e, REG_XFER), ==, 256);
        qtest_memread(e.qts, buf + 4096, got, 256);
        g_assert(memcmp(got, want, 256) == 0);
        er_stop(&e);
    }
}

/*
 * A request the device refuses: STATUS.ERROR, DMA_ERROR, XFER 0, nothing
 * in guest memory, and (a checked error) the stream where it was.
 */
static void refused(EduRng *e, uint64_t buf, uint64_t src, uint64_t dst,
                    uint64_t count, uint64_t cmd, bool stream_kept)
{
    uint8_t got[64], zero[64] = { 0 };

    clear(e);
    seed(e, 42);
    dma(e, src, dst, count, cmd);
    g_assert(wait_idle(e, 0));
    g_assert_cmphex(rd(e, REG_STATUS), ==, STATUS_ERROR | STATUS_SEEDED);
    g_assert_cmphex(rd(e, REG_IRQ_STATUS), ==, IRQ_ERROR);
    g_assert_cmpuint(rd(e, REG_XFER), ==, 0);
    g_assert_cmphex(qpci_io_readq(e->dev, e->bar, REG_DMA_CMD) & CMD_START,
                    ==, 0);
    qtest_memread(e->qts, buf, got, sizeof(got));
    g_assert(memcmp(got, zero, sizeof(got)) == 0);
    if (stream_kept) {
        g_assert_cmphex(rd(e, REG_RANDOM), ==, kat[1].words[0]);
    }
}

static void test_invalid(void)
{
    EduRng e;
    uint64_t buf;
    int64_t t0, us;

    er_start(&e, "dma-max=16777216", "");
    buf = guest_alloc(&e.alloc, 8192);
    /* reserved command bits */
    refused(&e, buf, 0, buf, 64, RNG_CMD | 0x10, true);
    refused(&e, buf, 0, buf, 64, RNG_CMD | (1ull << 63), true);
    /* the generator needs TO_RAM */
    refused(&e, buf, 0, buf, 64, CMD_START | CMD_IRQ | CMD_RNG, true);
    /* counts of 0 and above DMA_MAX */
    refused(&e, buf, 0, buf, 0, RNG_CMD, true);
    refused(&e, buf, 0, buf, (16u << 20) + 1, RNG_CMD, true);
    /* a destination range that wraps */
    refused(&e, buf, 0, 0xfffffffffffff000ull, 8192, RNG_CMD, true);
    /* EDU buffer: outside the window, count 0, RAM range wraps */
    refused(&e, buf, BUF_ADDR + 4000, buf, 200,
            CMD_START | CMD_TO_RAM | CMD_IRQ, true);
    refused(&e, buf, BUF_ADDR - 16, buf, 32,
            CMD_START | CMD_TO_RAM | CMD_IRQ, true);
    refused(&e, buf, BUF_ADDR, buf, 0, CMD_START | CMD_TO_RAM | CMD_IRQ,
            true);
    refused(&e, buf, BUF_ADDR, 0xfffffffffffffff8ull, 16,
            CMD_START | CMD_TO_RAM | CMD_IRQ, true);
    refused(&e, buf, buf, BUF_ADDR + 4090, 16, CMD_START | CMD_IRQ, true);
    /* destinations that are no RAM: nothing there, our own registers */
    refused(&e, buf, 0, 0x4000000000ull, 4096, RNG_CMD, false);
    refused(&e, buf, 0, e.bar.addr, 4096, RNG_CMD, false);
    g_assert_cmphex(rd(&e, REG_SEED_HI), ==, 0);
    /*
     * 16 MiB aimed at registers (the HPET's, which take writes; then
     * nothing): refused at its first chunk, at once, not written 4 bytes
     * at a time under the BQL.
     */
    t0 = g_get_monotonic_time();
    refused(&e, buf, 0, HPET_BASE, 16u << 20, RNG_CMD, false);
    us = g_get_monotonic_time() - t0;
    g_test_message("16 MiB generator DMA at the HPET refused in %" PRId64
                   " us", us);
    g_assert_cmpint(us, <, 2 * G_USEC_PER_SEC);
    er_stop(&e);

    /* a command written while BUSY is ignored; the first completes */
    er_start(&e, "x-dma-latency-ns=1000000", "");
    buf = guest_alloc(&e.alloc, 8192);
    seed(&e, 42);
    dma(&e, 0, buf, 4096, RNG_CMD);
    g_assert_cmphex(rd(&e, REG_STATUS) & STATUS_BUSY, ==, STATUS_BUSY);
    qpci_io_writeq(e.dev, e.bar, REG_DMA_DST, buf + 4096);
    qpci_io_writeq(e.dev, e.bar, REG_DMA_CMD, RNG_CMD);
    g_assert(wait_idle(&e, 200000));
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, IRQ_DONE);
    g_assert_cmphex(rd(&e, REG_STATUS), ==, STATUS_SEEDED);
    g_assert_cmphex(qtest_readl(e.qts, buf), ==, kat[1].words[0]);
    g_assert_cmphex(qtest_readl(e.qts, buf + 4096), ==, 0);
    er_stop(&e);

    /* FAULT with reserved bits: ignored */
    er_start(&e, "x-fault-injection=on", "");
    wr(&e, REG_FAULT, 1u << 10);
    g_assert_cmphex(rd(&e, REG_FAULT), ==, 0);
    wr(&e, REG_FAULT, 1);
    g_assert_cmphex(rd(&e, REG_FAULT), ==, 1);
    buf = guest_alloc(&e.alloc, 4096);
    refused(&e, buf, 0, buf, 64, RNG_CMD, true);
    er_stop(&e);
}

static void test_msi(void)
{
    EduRng e;
    uint8_t cap;
    uint16_t flags;
    uint64_t msg, buf;

    er_start(&e, "", "");
    cap = qpci_find_capability(e.dev, PCI_CAP_ID_MSI, 0);
    g_assert(cap);
    flags = qpci_config_readw(e.dev, cap + PCI_MSI_FLAGS);
    g_assert(flags & PCI_MSI_FLAGS_64BIT);
    /* the message is a memory write: aim it at guest RAM and look */
    msg = guest_alloc(&e.alloc, 4096);
    buf = guest_alloc(&e.alloc, 4096);
    qpci_config_writel(e.dev, cap + PCI_MSI_ADDRESS_LO, (uint32_t)msg);
    qpci_config_writel(e.dev, cap + PCI_MSI_ADDRESS_HI, msg >> 32);
    qpci_config_writew(e.dev, cap + PCI_MSI_DATA_64, 0x4242);
    qpci_config_writew(e.dev, cap + PCI_MSI_FLAGS,
                       flags | PCI_MSI_FLAGS_ENABLE);
    /* one message per newly raised cause */
    wr(&e, REG_IRQ_RAISE, IRQ_DONE);
    g_assert_cmphex(qtest_readl(e.qts, msg), ==, 0x4242);
    qtest_writel(e.qts, msg, 0);
    wr(&e, REG_IRQ_RAISE, IRQ_DONE);
    g_assert_cmphex(qtest_readl(e.qts, msg), ==, 0);
    wr(&e, REG_IRQ_ACK, IRQ_DONE);
    g_assert_cmphex(qtest_readl(e.qts, msg), ==, 0);
    /* a completed transfer, and a failed one, send one each */
    dma(&e, 0, buf, 4096, RNG_CMD);
    g_assert(wait_idle(&e, 0));
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, IRQ_DONE);
    g_assert_cmphex(qtest_readl(e.qts, msg), ==, 0x4242);
    qtest_writel(e.qts, msg, 0);
    wr(&e, REG_IRQ_ACK, IRQ_DONE);
    dma(&e, 0, buf, 0, RNG_CMD);
    g_assert_cmphex(qtest_readl(e.qts, msg), ==, 0x4242);
    /* without DMA_CMD.IRQ: no cause, no message */
    qtest_writel(e.qts, msg, 0);
    clear(&e);
    dma(&e, 0, buf, 4096, CMD_START | CMD_TO_RAM | CMD_RNG);
    g_assert(wait_idle(&e, 0));
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 0);
    g_assert_cmphex(qtest_readl(e.qts, msg), ==, 0);
    er_stop(&e);
}

/* The IOAPIC pin of our INTx (PIRQ A-H are IOAPIC pins 16-23 on q35) */
static int intx_pin(EduRng *e)
{
    int pin = -1;

    for (int i = 16; i < 24; i++) {
        if (qtest_get_irq(e->qts, i)) {
            g_assert_cmpint(pin, ==, -1);
            pin = i;
        }
    }
    return pin;
}

static void test_intx(void)
{
    EduRng e;
    uint64_t buf;
    int pin;

    er_start(&e, "msi=off", "");
    g_assert_cmpint(qpci_find_capability(e.dev, PCI_CAP_ID_MSI, 0), ==, 0);
    qtest_irq_intercept_in(e.qts, "ioapic");
    buf = guest_alloc(&e.alloc, 4096);
    g_assert_cmpint(intx_pin(&e), ==, -1);
    /* asserted while IRQ_STATUS is non-zero */
    wr(&e, REG_IRQ_RAISE, IRQ_DONE);
    pin = intx_pin(&e);
    g_assert_cmpint(pin, >=, 16);
    wr(&e, REG_IRQ_RAISE, IRQ_ERROR);
    g_assert_cmpint(intx_pin(&e), ==, pin);
    wr(&e, REG_IRQ_ACK, IRQ_DONE);
    g_assert_cmpint(intx_pin(&e), ==, pin);
    wr(&e, REG_IRQ_ACK, IRQ_ERROR);
    g_assert_cmpint(intx_pin(&e), ==, -1);
    dma(&e, 0, buf, 4096, RNG_CMD);
    g_assert(wait_idle(&e, 0));
    g_assert_cmpint(intx_pin(&e), ==, pin);
    wr(&e, REG_IRQ_ACK, IRQ_DONE);
    g_assert_cmpint(intx_pin(&e), ==, -1);
    /* INTx disabled in the command register: the line stays down */
    qpci_config_writew(e.dev, PCI_COMMAND,
                       qpci_config_readw(e.dev, PCI_COMMAND) |
                       PCI_COMMAND_INTX_DISABLE);
    wr(&e, REG_IRQ_RAISE, IRQ_DONE);
    g_assert_cmpint(intx_pin(&e), ==, -1);
    er_stop(&e);
}

/* Everything set that a reset must clear */
static void dirty(EduRng *e)
{
    seed(e, 42);
    wr(e, REG_IRQ_RAISE, IRQ_ERROR);
    dma(e, 0, 0x1000, 0, RNG_CMD);      /* fails: ERROR, XFER 0 */
    wr(e, REG_SEED_HI, 9);
}

static void check_reset(EduRng *e)
{
    g_assert_cmphex(rd(e, REG_STATUS), ==, 0);
    g_assert_cmphex(rd(e, REG_IRQ_STATUS), ==, 0);
    g_assert_cmphex(rd(e, REG_SEED_HI), ==, 0);
    g_assert_cmphex(rd(e, REG_XFER), ==, 0);
    g_assert_cmphex(qpci_io_readq(e->dev, e->bar, REG_DMA_DST), ==, 0);
    g_assert_cmphex(qpci_io_readq(e->dev, e->bar, REG_DMA_COUNT), ==, 0);
    g_assert_cmphex(qpci_io_readq(e->dev, e->bar, REG_DMA_CMD), ==, 0);
    /* host entropy: not seed 42's stream */
    g_assert_cmphex(rd(e, REG_RANDOM), !=, kat[1].words[0]);
}

static void test_reset(void)
{
    EduRng e;
    uint64_t buf;

    er_start(&e, "x-fault-injection=on,x-dma-latency-ns=1000000", "");
    buf = guest_alloc(&e.alloc, 4096);
    /* CTRL.RESET, a delayed transfer in flight dropped */
    wr(&e, REG_FAULT, 1u << 3);
    seed(&e, 42);
    dma(&e, 0, buf, 4096, RNG_CMD);
    dirty(&e);
    g_assert_cmphex(rd(&e, REG_STATUS) & STATUS_BUSY, ==, STATUS_BUSY);
    wr(&e, REG_CTRL, 1);
    check_reset(&e);
    g_assert_cmphex(rd(&e, REG_FAULT), ==, 0);
    qtest_clock_step(e.qts, 10000000);
    g_assert_cmphex(qtest_readl(e.qts, buf), ==, 0);
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 0);
    /* a system reset */
    dirty(&e);
    wr(&e, REG_FAULT, 1u << 1);
    qtest_qmp_assert_success(e.qts, "{'execute': 'system_reset'}");
    qtest_qmp_eventwait(e.qts, "RESET");
    qpci_device_enable(e.dev);
    e.bar = qpci_iomap(e.dev, 0, NULL);
    check_reset(&e);
    g_assert_cmphex(rd(&e, REG_FAULT), ==, 0);
    er_stop(&e);
}

/*
 * Threads of QEMU named @name (QEMU names them with -name
 * debug-threads=on); -1 where /proc cannot tell.
 */
static int threads_named(EduRng *e, const char *name)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/task",
                                           (int)qtest_pid(e->qts));
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *t;
    int n = 0;

    if (!d) {
        return -1;
    }
    while ((t = g_dir_read_name(d))) {
        g_autofree char *f = g_build_filename(dir, t, "comm", NULL);
        g_autofree char *comm = NULL;

        if (g_file_get_contents(f, &comm, NULL, NULL)) {
            n += !strcmp(g_strchomp(comm), name);
        }
    }
    g_dir_close(d);
    return n;
}

/*
 * The worker thread makes the bytes of generator transfers, the bottom
 * half copies them: seeded streams exact through it, across stop/cont,
 * RANDOM reads and seeds; no thread before the first transfer, none
 * while the VM is stopped or after a reset.
 */
static void test_worker(void)
{
    enum { N = 16384, ROUNDS = 4 };
    g_autofree uint8_t *want = g_malloc(ROUNDS * N + 4);
    g_autofree uint8_t *got = g_malloc(N);
    bool proc;
    uint64_t buf;
    uint32_t next;
    EduRng e;

    er_start(&e, "msi=off", "-name debug-threads=on");
    proc = threads_named(&e, "edu-rng-gen") >= 0;
    buf = guest_alloc(&e.alloc, N);
    stream(&e, 42, want, ROUNDS * N + 4);
    seed(&e, 42);
    g_assert(!proc || threads_named(&e, "edu-rng-gen") == 0);
    for (int i = 0; i < ROUNDS; i++) {
        if (i == 2) {
            /* stopped: joined; cont: the transfer completes, exact */
            qtest_qmp_assert_success(e.qts, "{'execute': 'stop'}");
            g_assert(!proc || threads_named(&e, "edu-rng-gen") == 0);
            qtest_qmp_assert_success(e.qts, "{'execute': 'cont'}");
        }
        g_assert(wait_idle(&e, 0));
        clear(&e);
        dma(&e, 0, buf, N, RNG_CMD);
        if (i == 1) {
            qtest_qmp_assert_success(e.qts, "{'execute': 'stop'}");
            g_assert_cmphex(rd(&e, REG_STATUS) & STATUS_ERROR, ==, 0);
            qtest_qmp_assert_success(e.qts, "{'execute': 'cont'}");
        }
        g_assert(wait_idle(&e, 0));
        g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, IRQ_DONE);
        g_assert_cmpuint(rd(&e, REG_XFER), ==, N);
        qtest_memread(e.qts, buf, got, N);
        g_assert(memcmp(got, want + i * N, N) == 0);
    }
    g_assert(!proc || threads_named(&e, "edu-rng-gen") == 1);
    next = rd(&e, REG_RANDOM);
    g_assert(memcmp(&next, want + ROUNDS * N, 4) == 0);
    /* a seed drops what the worker made ahead from the old stream */
    seed(&e, 42);
    clear(&e);
    dma(&e, 0, buf, N, RNG_CMD);
    g_assert(wait_idle(&e, 0));
    qtest_memread(e.qts, buf, got, N);
    g_assert(memcmp(got, want, N) == 0);
    qtest_qmp_assert_success(e.qts, "{'execute': 'system_reset'}");
    qtest_qmp_eventwait(e.qts, "RESET");
    g_assert(!proc || threads_named(&e, "edu-rng-gen") == 0);
    er_stop(&e);
}

static void wait_migrated(QTestState *qts)
{
    for (int i = 0; i < 1000; i++) {
        QDict *rsp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
        QDict *ret = qdict_get_qdict(rsp, "return");
        const char *st = ret ? qdict_get_try_str(ret, "status") : NULL;
        bool done = st && !strcmp(st, "completed");

        g_assert(!st || (strcmp(st, "failed") && strcmp(st, "cancelled")));
        qobject_unref(rsp);
        if (done) {
            return;
        }
        g_usleep(10000);
    }
    g_assert_not_reached();
}

static void wait_loaded(QTestState *qts)
{
    for (int i = 0; i < 1000; i++) {
        QDict *rsp = qtest_qmp(qts, "{'execute': 'query-status'}");
        const char *st = qdict_get_str(qdict_get_qdict(rsp, "return"),
                                       "status");
        bool done = strcmp(st, "inmigrate") != 0;

        qobject_unref(rsp);
        if (done) {
            return;
        }
        g_usleep(10000);
    }
    g_assert_not_reached();
}

/*
 * A seeded transfer pending when the VM stops, saved to a file: the
 * source writes nothing; a second QEMU loads it and completes it with
 * the seed's bytes after the delay left, and the stream goes on.
 */
static void test_migrate_pending(void)
{
    const char *opts = "x-dma-latency-ns=1000000,msi=off";
    g_autofree char *dir = g_dir_make_tmp("edu-rng-test-XXXXXX", NULL);
    g_autofree char *state = g_build_filename(dir, "state", NULL);
    g_autofree char *incoming = NULL;
    g_autofree char *outgoing = g_strdup_printf("exec:cat > %s", state);
    uint8_t want[4100], got[4096];
    uint64_t buf;
    uint32_t next;
    QTestState *qts;
    EduRng e;

    g_assert(dir);
    er_start(&e, opts, "");
    buf = guest_alloc(&e.alloc, 4096);
    stream(&e, 42, want, sizeof(want));
    seed(&e, 42);
    dma(&e, 0, buf, 4096, RNG_CMD);
    qtest_clock_step(e.qts, 500000);
    g_assert_cmphex(rd(&e, REG_STATUS) & STATUS_BUSY, ==, STATUS_BUSY);
    qtest_qmp_assert_success(e.qts, "{'execute': 'stop'}");
    qtest_qmp_assert_success(e.qts, "{'execute': 'migrate', 'arguments':"
                             " {'uri': %s}}", outgoing);
    wait_migrated(e.qts);
    qtest_clock_step(e.qts, 2000000);
    g_assert_cmphex(qtest_readl(e.qts, buf), ==, 0);
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, 0);
    er_stop(&e);

    incoming = g_strdup_printf("-incoming 'exec:cat %s'", state);
    qts = qtest_initf("-nodefaults -machine q35 -m 128 "
                      "-device edu-rng,addr=04.0,%s %s", opts, incoming);
    wait_loaded(qts);
    er_attach(&e, qts, false);
    g_assert_cmphex(rd(&e, REG_STATUS), ==, STATUS_BUSY | STATUS_SEEDED);
    g_assert_cmphex(qtest_readl(e.qts, buf), ==, 0);
    qtest_qmp_assert_success(e.qts, "{'execute': 'cont'}");
    qtest_clock_step(e.qts, 400000);
    g_assert_cmphex(qtest_readl(e.qts, buf), ==, 0);    /* 0.5 ms left */
    g_assert(wait_idle(&e, 100000));
    g_assert_cmphex(rd(&e, REG_IRQ_STATUS), ==, IRQ_DONE);
    g_assert_cmpuint(rd(&e, REG_XFER), ==, 4096);
    qtest_memread(e.qts, buf, got, sizeof(got));
    g_assert(memcmp(got, want, sizeof(got)) == 0);
    next = rd(&e, REG_RANDOM);
    g_assert(memcmp(&next, want + 4096, 4) == 0);
    er_stop(&e);
    unlink(state);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/edu-rng/identity", test_identity);
    qtest_add_func("/edu-rng/registers", test_registers);
    qtest_add_func("/edu-rng/kat-mmio", test_kat_mmio);
    qtest_add_func("/edu-rng/kat-dma", test_kat_dma);
    qtest_add_func("/edu-rng/invalid", test_invalid);
    qtest_add_func("/edu-rng/msi", test_msi);
    qtest_add_func("/edu-rng/intx", test_intx);
    qtest_add_func("/edu-rng/reset", test_reset);
    qtest_add_func("/edu-rng/worker", test_worker);
    qtest_add_func("/edu-rng/migrate-pending", test_migrate_pending);
    return g_test_run();
}
