/* Stand-in for QEMU's osdep.h when edu-rng-core.c is built outside QEMU. */
#ifndef EDU_RNG_SHIM_OSDEP_H
#define EDU_RNG_SHIM_OSDEP_H
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* what QEMU's compiler.h and config-host.h say about the host */
#define HOST_BIG_ENDIAN (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#if defined(__x86_64__) && defined(__linux__)
#define HOST_X86_64 1
#define CONFIG_AVX2_OPT 1
#define CONFIG_AVX512F_OPT 1
#endif
#endif
