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
#endif
