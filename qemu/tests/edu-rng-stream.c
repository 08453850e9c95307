// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Print the edu-rng stream of a seed: edu-rng-stream SEED BYTES
 * Lets tests compare the device's generator with other ChaCha20
 * implementations (openssl enc -chacha20).
 */

#include "qemu/osdep.h"
#include "edu-rng-core.h"

int main(int argc, char **argv)
{
	unsigned long long seed, left;
	uint8_t buf[65536];
	EduRngGen g;
	char *end;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SEED BYTES\n", argv[0]);
		return 2;
	}
	seed = strtoull(argv[1], &end, 0);
	if (*end) {
		fprintf(stderr, "%s: bad seed '%s'\n", argv[0], argv[1]);
		return 2;
	}
	left = strtoull(argv[2], &end, 0);
	if (*end) {
		fprintf(stderr, "%s: bad length '%s'\n", argv[0], argv[2]);
		return 2;
	}
	edu_rng_gen_seed(&g, seed);
	while (left) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);

		edu_rng_gen_fill(&g, buf, n);
		if (fwrite(buf, 1, n, stdout) != n)
			return 1;
		left -= n;
	}
	return 0;
}
