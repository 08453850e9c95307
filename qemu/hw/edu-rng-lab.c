/*
 * edu-rng as this tree builds it; not part of the upstream series (make
 * patches, Documentation/upstream.rst).  It is edu-rng.c, the device as
 * upstream QEMU would have it (PCI 1b36:0015), with:
 *
 * - the lab's PCI ID 1234:cafe, which the edu-rng driver, its tools and
 *   tests, and the lab bind to;
 * - the earlier names of the test properties (dma-latency-ns, gen-ahead,
 *   fault-injection) beside their x- names, for the admin guide, the
 *   selftests and the benchmarks;
 * - what QEMU 7.2 to 10.0 need: NULL-terminated property lists (7.2),
 *   class_init data that is not const (before 10.1), the reset hook's
 *   older name (7.2), and system/runstate.h, which 7.2 calls
 *   sysemu/runstate.h (a header of ours beside edu-rng.c there).
 *
 * qemu/build-qemu.sh has meson build this file instead of edu-rng.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/pci.h"
#include "hw/qdev-properties.h"
#include "qom/object.h"

#define EDU_RNG_LAB_QEMU_AT_LEAST(maj, min) \
    (QEMU_VERSION_MAJOR > (maj) || \
     (QEMU_VERSION_MAJOR == (maj) && QEMU_VERSION_MINOR >= (min)))

/* The upstream series adds it to hw/pci/pci.h; our trees lack it. */
#ifndef PCI_DEVICE_ID_REDHAT_EDU_RNG
#define PCI_DEVICE_ID_REDHAT_EDU_RNG 0x0015
#endif

#if EDU_RNG_LAB_QEMU_AT_LEAST(10, 1)
typedef const void EduRngLabClassData;
#else
typedef void EduRngLabClassData;
#endif
#if !EDU_RNG_LAB_QEMU_AT_LEAST(9, 1)
#define device_class_set_legacy_reset(dc, fn) ((dc)->reset = (fn))
#endif

/*
 * edu-rng.c's class_init becomes edu_rng_upstream_class_init: a macro
 * with arguments renames its definition only, so its TypeInfo names
 * ours, edu_rng_class_init() below, which has the class_init signature
 * of the QEMU being built.
 */
static void (edu_rng_class_init)(ObjectClass *oc, EduRngLabClassData *data);
#define edu_rng_class_init(oc, data) edu_rng_upstream_class_init(oc, data)

/* Its property list goes through edu_rng_lab_set_props(), below. */
static void edu_rng_lab_set_props(DeviceClass *dc, const Property *props,
                                  size_t n);
#undef device_class_set_props
#define device_class_set_props(dc, props) \
    edu_rng_lab_set_props(dc, props, ARRAY_SIZE(props))

#include "edu-rng.c"

#undef edu_rng_class_init
#undef device_class_set_props

/* The same settings as x-dma-latency-ns, x-fault-injection, x-gen-ahead */
static const Property edu_rng_lab_old_names[] = {
    DEFINE_PROP_UINT64("dma-latency-ns", EduRngState, dma_latency_ns, 0),
    DEFINE_PROP_BOOL("fault-injection", EduRngState, fault_injection, false),
    DEFINE_PROP_BOOL("gen-ahead", EduRngState, gen_ahead, false),
};

static void edu_rng_lab_set_props(DeviceClass *dc, const Property *props,
                                  size_t n)
{
    size_t old = ARRAY_SIZE(edu_rng_lab_old_names);
    /* kept for the class's lifetime; + 1: the end of 7.2's lists */
    Property *all = g_new0(Property, n + old + 1);

    memcpy(all, props, n * sizeof(*props));
    memcpy(all + n, edu_rng_lab_old_names, sizeof(edu_rng_lab_old_names));
#if EDU_RNG_LAB_QEMU_AT_LEAST(10, 0)
    device_class_set_props_n(dc, all, n + old);
#else
    device_class_set_props(dc, all);
#endif
}

static void edu_rng_class_init(ObjectClass *oc, EduRngLabClassData *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(oc);

    edu_rng_upstream_class_init(oc, data);
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0xcafe;
    dc->desc = "edu-rng random number generator (lab 1234:cafe, EDU DMA)";
    object_class_property_set_description(oc, "dma-latency-ns",
        "alias of x-dma-latency-ns");
    object_class_property_set_description(oc, "fault-injection",
        "alias of x-fault-injection");
    object_class_property_set_description(oc, "gen-ahead",
        "alias of x-gen-ahead");
}
