/*
 * edu-rng: a random number generator on PCI, grown from QEMU's edu device
 *
 * BAR0 has two plain registers (0x00 read = 32 random bits, 0x04 write =
 * seed) and edu's DMA engine at edu's offsets, extended so one command
 * fills guest memory from the generator.  All the guest-visible logic
 * lives in edu-rng-core.c; this file connects it to PCI, MSI/INTx, reset
 * and migration, and runs the generator of DMA transfers in a worker
 * thread, so that only their copy to guest memory holds the BQL.  See
 * docs/specs/edu-rng.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/guest-random.h"
#include "qemu/timer.h"
#include "qemu/thread.h"
#include "qemu/atomic.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "hw/pci/msi.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qom/object.h"
#include "system/runstate.h"
#include "trace.h"
#include "edu-rng-core.h"

#define TYPE_EDU_RNG "edu-rng"
OBJECT_DECLARE_SIMPLE_TYPE(EduRngState, EDU_RNG)

struct EduRngState {
    PCIDevice pdev;
    MemoryRegion mmio;
    QEMUTimer dma_timer;        /* delays dma_bh for dma-latency-ns */
    QEMUBH *dma_bh;             /* ends transfers, guarded */
    VMChangeStateEntry *vmstate_entry;
    /*
     * Virtual time left before a pending delayed transfer completes,
     * while the timer is not armed for it (VM stopped, or loaded).
     */
    uint64_t dma_left_ns;
    EduRngCore core;

    /*
     * The stager (EduRngCoreOps.stage): a worker thread that makes the
     * bytes of generator transfers into core.ahead without the BQL; the
     * BQL is held only to copy them to guest memory.  It is created on
     * the first request, and joined when the VM stops, at reset and at
     * unrealize.  work_lock guards the work_ fields; the worker reads
     * work_id without it between pieces, to drop a request replaced.
     */
    QemuThread worker;
    bool worker_up;             /* the thread exists (BQL) */
    QemuMutex work_lock;
    QemuCond work_cond;         /* a new request, or quit */
    QEMUBH *staged_bh;          /* hands what was made to the core */
    bool work_quit;
    uint32_t work_id;           /* the latest request */
    uint32_t work_taken;        /* the request the worker took last */
    uint32_t work_done;         /* the last request made in full */
    EduRngGen work_from;        /* the request: work_len bytes from here */
    uint32_t work_len;          /* 0: nothing asked (or handed over) */

    /* properties; the x- ones are for tests */
    uint32_t dma_max;
    uint64_t dma_latency_ns;
    bool msi;
    bool fault_injection;
    bool gen_ahead;
};

static bool edu_rng_dma_read(void *opaque, uint64_t addr, void *buf,
                             uint32_t len)
{
    EduRngState *s = opaque;

    return pci_dma_read(&s->pdev, addr, buf, len) == MEMTX_OK;
}

static bool edu_rng_dma_write(void *opaque, uint64_t addr, const void *buf,
                              uint32_t len)
{
    EduRngState *s = opaque;

    return pci_dma_write(&s->pdev, addr, buf, len) == MEMTX_OK;
}

/*
 * Would a write of [addr, addr + len) be a copy into RAM?  Translated as
 * the write would be, through the device's DMA address space (a vIOMMU
 * included: a fault there is no RAM either).  Anything else, registers
 * above all, would take one handler call per 4 or 8 bytes under the BQL;
 * the test is memory_access_is_direct()'s, whose signature differs
 * between QEMU versions.
 */
static bool edu_rng_dma_is_ram(void *opaque, uint64_t addr, uint32_t len)
{
    EduRngState *s = opaque;
    AddressSpace *as = pci_get_address_space(&s->pdev);
    MemoryRegion *mr;
    hwaddr xlat, plen;

    RCU_READ_LOCK_GUARD();
    while (len) {
        plen = len;
        mr = address_space_translate(as, addr, &xlat, &plen, true,
                                     MEMTXATTRS_UNSPECIFIED);
        if (!memory_region_is_ram(mr) || memory_region_is_ram_device(mr) ||
            mr->readonly || mr->rom_device || !plen) {
            trace_edu_rng_dma_not_ram(addr, len, memory_region_name(mr));
            return false;
        }
        plen = MIN(plen, len);
        addr += plen;
        len -= plen;
    }
    return true;
}

/* MSI is edge-triggered: send one message per newly raised cause. */
static void edu_rng_irq_update(void *opaque, uint32_t old, uint32_t new)
{
    EduRngState *s = opaque;

    trace_edu_rng_irq_update(old, new, msi_enabled(&s->pdev));
    if (msi_enabled(&s->pdev)) {
        if (new & ~old) {
            msi_notify(&s->pdev, 0);
        }
    } else {
        pci_set_irq(&s->pdev, new != 0);
    }
}

static void edu_rng_get_entropy(void *opaque, void *buf, size_t len)
{
    /* honours -seed, so a whole run can be made reproducible */
    qemu_guest_getrandom_nofail(buf, len);
}

static void edu_rng_guest_error(void *opaque, const char *msg)
{
    trace_edu_rng_guest_error(msg);
    qemu_log_mask(LOG_GUEST_ERROR, "edu-rng: %s\n", msg);
}

/*
 * A generator transfer completes in the main loop (dma_bh), not in the
 * vCPU's MMIO write, and its bytes are made by the worker without the
 * BQL: the bottom half only copies them to guest memory and raises the
 * interrupt.  After a transfer the worker makes the next one's bytes
 * while the guest copies, so the next command usually finds them made;
 * if not, the bottom half finds the transfer due and edu_rng_staged_bh()
 * runs it again once they are.  With gen-ahead, a command that finds its
 * bytes made completes at once, in the MMIO write.
 */
static void edu_rng_schedule(void *opaque, uint64_t ns)
{
    EduRngState *s = opaque;

    trace_edu_rng_schedule(ns);
    if (ns) {
        timer_mod(&s->dma_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + ns);
    } else {
        qemu_bh_schedule(s->dma_bh);
    }
}

static void edu_rng_dma_bh(void *opaque)
{
    EduRngState *s = opaque;

    /*
     * Nothing reaches guest memory or the interrupt controller while the
     * VM is stopped: RAM and the APIC may already be saved for migration,
     * and the transfer migrates instead.  Bottom halves still run then
     * (a drain in vm_stop(), the main loop while stopped);
     * edu_rng_vm_state_change() schedules us again when the VM runs.
     */
    if (!runstate_is_running()) {
        return;
    }
    trace_edu_rng_dma_complete(s->core.pending, s->core.pend_dst,
                               s->core.pend_count);
    edu_rng_core_dma_complete(&s->core);
    trace_edu_rng_dma_done(s->core.pending, s->core.xfer);
}

/*
 * The timer only schedules the bottom half: a transfer aimed at our own
 * BAR0 must meet the device's reentrancy guard, which QEMU engages around
 * guarded bottom halves (and MMIO), not around timers.  Run from the
 * timer, its DMA would write our registers in the middle of completing
 * (CTRL.RESET included).
 */
static void edu_rng_dma_timer(void *opaque)
{
    EduRngState *s = opaque;

    qemu_bh_schedule(s->dma_bh);
}

/* Bytes the worker makes between looks at whether it should go on */
#define EDU_RNG_STAGE_PIECE (64 * 1024)

/*
 * The worker: make each request's bytes into core.ahead, then have
 * edu_rng_staged_bh() hand them over.  Sleeps while nothing is asked: it
 * makes one transfer's bytes ahead at most, and none while nobody reads.
 */
static void *edu_rng_worker(void *opaque)
{
    EduRngState *s = opaque;
    uint32_t id, len, done, n;
    EduRngGen g;

    qemu_mutex_lock(&s->work_lock);
    for (;;) {
        while (!s->work_quit &&
               (!s->work_len || s->work_taken == s->work_id)) {
            qemu_cond_wait(&s->work_cond, &s->work_lock);
        }
        if (s->work_quit) {
            break;
        }
        id = s->work_id;
        len = s->work_len;
        g = s->work_from;
        s->work_taken = id;
        qemu_mutex_unlock(&s->work_lock);

        for (done = 0; done < len && qatomic_read(&s->work_id) == id;
             done += n) {
            n = MIN(len - done, EDU_RNG_STAGE_PIECE);
            edu_rng_gen_fill(&g, s->core.ahead + done, n);
        }
        trace_edu_rng_worker_made(id, done, len);

        qemu_mutex_lock(&s->work_lock);
        if (done == len && s->work_id == id) {
            s->work_done = id;
            qemu_bh_schedule(s->staged_bh);
        }
    }
    qemu_mutex_unlock(&s->work_lock);
    return NULL;
}

/* EduRngCoreOps.stage: a new request for the worker (BQL) */
static void edu_rng_stage(void *opaque, const EduRngGen *from, uint32_t len)
{
    EduRngState *s = opaque;

    trace_edu_rng_stage(len);
    qemu_mutex_lock(&s->work_lock);
    qatomic_set(&s->work_id, s->work_id + 1);
    s->work_len = len;
    if (len) {
        s->work_from = *from;
    }
    qemu_cond_signal(&s->work_cond);
    qemu_mutex_unlock(&s->work_lock);
    if (len && !s->worker_up) {
        s->worker_up = true;
        qemu_thread_create(&s->worker, "edu-rng-gen", edu_rng_worker, s,
                           QEMU_THREAD_JOINABLE);
    }
}

/*
 * The worker made the latest request: hand the bytes to the core, and
 * end the transfer that waits for them.  The worker has let go of the
 * buffer, and the core only reads it until it asks for more.
 */
static void edu_rng_staged_bh(void *opaque)
{
    EduRngState *s = opaque;
    EduRngGen from = { 0 };
    uint32_t len = 0;
    bool due;

    qemu_mutex_lock(&s->work_lock);
    if (s->work_len && s->work_done == s->work_id) {
        from = s->work_from;
        len = s->work_len;
        s->work_len = 0;
    }
    qemu_mutex_unlock(&s->work_lock);
    if (!len) {
        return;
    }
    due = edu_rng_core_staged(&s->core, &from, len);
    trace_edu_rng_staged(len, due);
    if (due) {
        qemu_bh_schedule(s->dma_bh);
    }
}

/*
 * Stop the worker and join it: after this nothing but the BQL's holder
 * touches the device, and no bytes are being made.  Waits for one piece
 * at most.  What was asked and not handed over is dropped; the caller
 * asks again (edu_rng_core_restage()) if the device goes on.
 */
static void edu_rng_worker_stop(EduRngState *s)
{
    if (s->worker_up) {
        qemu_mutex_lock(&s->work_lock);
        s->work_quit = true;
        qatomic_set(&s->work_id, s->work_id + 1);
        qemu_cond_signal(&s->work_cond);
        qemu_mutex_unlock(&s->work_lock);
        qemu_thread_join(&s->worker);
        s->worker_up = false;
        s->work_quit = false;
        trace_edu_rng_worker_stop();
    }
    s->work_len = 0;
    s->work_taken = s->work_id;
    qemu_bh_cancel(s->staged_bh);
    edu_rng_core_unstage(&s->core);
}

static const EduRngCoreOps edu_rng_core_ops = {
    .dma_read = edu_rng_dma_read,
    .dma_write = edu_rng_dma_write,
    .dma_is_ram = edu_rng_dma_is_ram,
    .irq_update = edu_rng_irq_update,
    .get_entropy = edu_rng_get_entropy,
    .guest_error = edu_rng_guest_error,
    .schedule = edu_rng_schedule,
    .stage = edu_rng_stage,
};

static uint64_t edu_rng_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    EduRngState *s = opaque;
    uint64_t val = edu_rng_core_read(&s->core, addr, size);

    trace_edu_rng_mmio_read(addr, size, val);
    return val;
}

static void edu_rng_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                               unsigned size)
{
    EduRngState *s = opaque;

    trace_edu_rng_mmio_write(addr, size, val);
    edu_rng_core_write(&s->core, addr, val, size);
}

static const MemoryRegionOps edu_rng_mmio_ops = {
    .read = edu_rng_mmio_read,
    .write = edu_rng_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    /* the core checks sizes and alignment itself and logs bad accesses */
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
};

/*
 * Carry on with a pending transfer when the VM runs: on the source after
 * stop/cont or a failed migration, on the destination after load.  Each
 * transfer completes exactly once, in the machine that runs on.
 */
static void edu_rng_resume_dma(EduRngState *s)
{
    if (s->core.pending && s->dma_left_ns) {
        timer_mod(&s->dma_timer,
                  qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + s->dma_left_ns);
    } else if (s->core.pending) {
        qemu_bh_schedule(s->dma_bh);
    }
    s->dma_left_ns = 0;
    /* the worker was stopped with the VM: what the device needs next */
    edu_rng_core_restage(&s->core);
}

static void edu_rng_vm_state_change(void *opaque, bool running,
                                    RunState state)
{
    EduRngState *s = opaque;

    trace_edu_rng_vm_state_change(running, s->core.pending);
    if (running) {
        edu_rng_resume_dma(s);
        return;
    }
    /*
     * Keep the delay left, to re-arm (or migrate); none if the timer has
     * fired, whatever a pre_save while running may have left here.
     */
    s->dma_left_ns = 0;
    if (timer_pending(&s->dma_timer)) {
        int64_t left = timer_expire_time_ns(&s->dma_timer) -
                       qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

        s->dma_left_ns = MAX(left, 1);
        timer_del(&s->dma_timer);
    }
    qemu_bh_cancel(s->dma_bh);
    /* no thread runs while the VM is stopped (and saved) */
    edu_rng_worker_stop(s);
}

static void edu_rng_realize(PCIDevice *pdev, Error **errp)
{
    EduRngState *s = EDU_RNG(pdev);

    if (s->dma_max < EDU_RNG_DMA_MAX_MIN || s->dma_max > EDU_RNG_DMA_MAX_MAX) {
        error_setg(errp, "edu-rng: dma-max must be between %u and %u",
                   EDU_RNG_DMA_MAX_MIN, EDU_RNG_DMA_MAX_MAX);
        return;
    }
    if (s->dma_latency_ns > EDU_RNG_DMA_LATENCY_MAX) {
        error_setg(errp, "edu-rng: dma-latency-ns must be at most %llu",
                   (unsigned long long)EDU_RNG_DMA_LATENCY_MAX);
        return;
    }
    pci_config_set_interrupt_pin(pdev->config, 1);
    if (s->msi && msi_init(pdev, 0, 1, true, false, errp)) {
        return;
    }
    edu_rng_core_init(&s->core, &edu_rng_core_ops, s, s->dma_max);
    s->core.dma_latency_ns = s->dma_latency_ns;
    s->core.fault_injection = s->fault_injection;
    s->core.async_dma = true;
    s->core.can_delay = true;
    s->core.gen_ahead = s->gen_ahead;
    /* the worker's; only the pages of the transfers made are touched */
    s->core.ahead = g_malloc(s->dma_max);
    qemu_mutex_init(&s->work_lock);
    qemu_cond_init(&s->work_cond);
    s->staged_bh = aio_bh_new_guarded(qemu_get_aio_context(),
                                      edu_rng_staged_bh, s,
                                      &DEVICE(s)->mem_reentrancy_guard);
    timer_init_ns(&s->dma_timer, QEMU_CLOCK_VIRTUAL, edu_rng_dma_timer, s);
    s->dma_bh = aio_bh_new_guarded(qemu_get_aio_context(), edu_rng_dma_bh, s,
                                   &DEVICE(s)->mem_reentrancy_guard);
    s->vmstate_entry = qemu_add_vm_change_state_handler(
        edu_rng_vm_state_change, s);
    memory_region_init_io(&s->mmio, OBJECT(s), &edu_rng_mmio_ops, s,
                          "edu-rng-mmio", EDU_RNG_BAR_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
}

static void edu_rng_exit(PCIDevice *pdev)
{
    EduRngState *s = EDU_RNG(pdev);

    qemu_del_vm_change_state_handler(s->vmstate_entry);
    edu_rng_worker_stop(s);
    qemu_bh_delete(s->staged_bh);
    qemu_cond_destroy(&s->work_cond);
    qemu_mutex_destroy(&s->work_lock);
    timer_del(&s->dma_timer);
    qemu_bh_delete(s->dma_bh);
    g_free(s->core.ahead);
    msi_uninit(pdev);
}

static void edu_rng_reset(DeviceState *dev)
{
    EduRngState *s = EDU_RNG(dev);

    trace_edu_rng_reset();
    timer_del(&s->dma_timer);
    qemu_bh_cancel(s->dma_bh);
    s->dma_left_ns = 0;
    edu_rng_worker_stop(s);
    edu_rng_core_reset(&s->core);
}

/*
 * Migration.  Nothing is completed here: by the time pre_save runs, RAM
 * and the interrupt controller may be saved already, so bytes written
 * or an MSI sent now would be lost on the destination or stale there.
 * A pending transfer migrates instead (vmstate_edu_rng_pending) and
 * completes on the destination once it runs.  See "Reset and migration"
 * in docs/specs/edu-rng.rst for the stream format's rules.  The worker
 * is stopped (edu_rng_vm_state_change() did, unless saved while
 * running): what it made is not migrated.
 */
static int edu_rng_pre_save(void *opaque)
{
    EduRngState *s = opaque;

    edu_rng_worker_stop(s);
    /* saved while running: the timer still holds the delay left */
    if (timer_pending(&s->dma_timer)) {
        int64_t left = timer_expire_time_ns(&s->dma_timer) -
                       qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

        s->dma_left_ns = MAX(left, 1);
    } else if (runstate_is_running() && s->core.pending) {
        qemu_bh_schedule(s->dma_bh);    /* due: it may wait for bytes */
    }
    if (runstate_is_running()) {
        edu_rng_core_restage(&s->core);
    }
    return 0;
}

/* What was running belongs to the state that the load replaces. */
static int edu_rng_pre_load(void *opaque)
{
    EduRngState *s = opaque;

    timer_del(&s->dma_timer);
    qemu_bh_cancel(s->dma_bh);
    edu_rng_worker_stop(s);
    s->core.pending = false;
    s->dma_left_ns = 0;
    return 0;
}

static int edu_rng_post_load(void *opaque, int version_id)
{
    EduRngState *s = opaque;

    if (!edu_rng_core_state_valid(&s->core) ||
        s->dma_left_ns > EDU_RNG_DMA_LATENCY_MAX) {
        trace_edu_rng_post_load_invalid();
        return -EINVAL;
    }
    edu_rng_core_post_load(&s->core);
    if (!s->core.pending) {
        s->dma_left_ns = 0;
    }
    /* else edu_rng_vm_state_change() resumes it when the VM starts */
    if (runstate_is_running()) {
        edu_rng_resume_dma(s);
    }
    return 0;
}

static bool edu_rng_pending_needed(void *opaque)
{
    EduRngState *s = opaque;

    return s->core.pending;
}

/*
 * A delayed generator transfer that has not completed: where it goes,
 * how much, and the stream it is made from, which in a seeded stream
 * comes before gen.  A subsection, sent only while a transfer is
 * pending: a state without one is the version 1 state of older builds,
 * and one with one is refused by them, which cannot complete it.
 */
static const VMStateDescription vmstate_edu_rng_pending = {
    .name = TYPE_EDU_RNG "/pending-dma",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = edu_rng_pending_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(core.pending, EduRngState),
        VMSTATE_UINT32_ARRAY(core.pend_gen.key, EduRngState, 8),
        VMSTATE_UINT64(core.pend_gen.nonce, EduRngState),
        VMSTATE_UINT64(core.pend_gen.counter, EduRngState),
        VMSTATE_UINT8_ARRAY(core.pend_gen.block, EduRngState, 64),
        VMSTATE_UINT32(core.pend_gen.used, EduRngState),
        VMSTATE_BOOL(core.pend_seeded, EduRngState),
        VMSTATE_UINT64(core.pend_dst, EduRngState),
        VMSTATE_UINT32(core.pend_count, EduRngState),
        VMSTATE_UINT64(dma_left_ns, EduRngState),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription *edu_rng_subsections[] = {
    &vmstate_edu_rng_pending,
    NULL
};

/*
 * Version 1 fields stay as they are, for loading by and from older
 * builds; new state goes into subsections with a .needed test.
 */
static const VMStateDescription vmstate_edu_rng = {
    .name = TYPE_EDU_RNG,
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = edu_rng_pre_save,
    .pre_load = edu_rng_pre_load,
    .post_load = edu_rng_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(pdev, EduRngState),
        VMSTATE_UINT32_ARRAY(core.gen.key, EduRngState, 8),
        VMSTATE_UINT64(core.gen.nonce, EduRngState),
        VMSTATE_UINT64(core.gen.counter, EduRngState),
        VMSTATE_UINT8_ARRAY(core.gen.block, EduRngState, 64),
        VMSTATE_UINT32(core.gen.used, EduRngState),
        VMSTATE_UINT32(core.seed_hi, EduRngState),
        VMSTATE_UINT32(core.status, EduRngState),
        VMSTATE_UINT32(core.irq_status, EduRngState),
        VMSTATE_UINT32(core.xfer, EduRngState),
        VMSTATE_UINT64(core.dma_src, EduRngState),
        VMSTATE_UINT64(core.dma_dst, EduRngState),
        VMSTATE_UINT64(core.dma_count, EduRngState),
        VMSTATE_UINT64(core.dma_cmd, EduRngState),
        VMSTATE_UINT8_ARRAY(core.dma_buf, EduRngState, EDU_RNG_BUF_SIZE),
        VMSTATE_UINT32(core.fault, EduRngState),
        VMSTATE_BOOL(core.hung, EduRngState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = edu_rng_subsections,
};

/* The x- properties are for tests. */
static const Property edu_rng_properties[] = {
    DEFINE_PROP_UINT32("dma-max", EduRngState, dma_max,
                       EDU_RNG_DMA_MAX_DEFAULT),
    DEFINE_PROP_BOOL("msi", EduRngState, msi, true),
    DEFINE_PROP_UINT64("x-dma-latency-ns", EduRngState, dma_latency_ns, 0),
    DEFINE_PROP_BOOL("x-fault-injection", EduRngState, fault_injection,
                     false),
    DEFINE_PROP_BOOL("x-gen-ahead", EduRngState, gen_ahead, false),
};

static void edu_rng_class_init(ObjectClass *oc, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(oc);

    k->realize = edu_rng_realize;
    k->exit = edu_rng_exit;
    k->vendor_id = PCI_VENDOR_ID_REDHAT;
    k->device_id = PCI_DEVICE_ID_REDHAT_EDU_RNG;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "edu-rng random number generator";
    device_class_set_legacy_reset(dc, edu_rng_reset);
    dc->vmsd = &vmstate_edu_rng;
    device_class_set_props(dc, edu_rng_properties);
    object_class_property_set_description(oc, "dma-max",
        "largest generator DMA transfer in bytes (4096..16777216)");
    object_class_property_set_description(oc, "x-dma-latency-ns",
        "simulated latency of a generator DMA transfer (0..1000000000)");
    object_class_property_set_description(oc, "x-fault-injection",
        "expose the FAULT register, for tests (off)");
    object_class_property_set_description(oc, "x-gen-ahead",
        "complete transfers at once when their bytes are made ahead (off)");
    object_class_property_set_description(oc, "msi",
        "offer MSI (on) or INTx only (off)");
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo edu_rng_info = {
    .name = TYPE_EDU_RNG,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(EduRngState),
    .class_init = edu_rng_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void edu_rng_register_types(void)
{
    type_register_static(&edu_rng_info);
}

type_init(edu_rng_register_types)
