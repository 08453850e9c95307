// SPDX-License-Identifier: GPL-2.0
/*
 * lab-rng: the virtualization lab's test program, as its students wrote it
 * against their own driver: seed the generator with MY_RNG_IOCTL_SEED,
 * then print random numbers from MY_RNG_IOCTL_RAND, one per line.  It is
 * kept here, built against include/uapi/linux/edu-rng.h, to show that such
 * programs work unchanged with /dev/edu-rngN.
 *
 * Usage: lab-rng [-d DEV] [-s SEED] [-n N]   (default /dev/edu-rng0, 10)
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/edu-rng.h>

/* @s as a number (decimal, 0x-hex or 0-octal) of at most @max, or -1. */
static long long number(const char *s, unsigned long max)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);
	return errno || *end || v > max ? -1 : (long long)v;
}

static int bad_arg(const char *prog, char opt, const char *arg, const char *want)
{
	fprintf(stderr, "%s: bad -%c '%s': want %s\n", prog, opt, arg, want);
	return 2;
}

int main(int argc, char **argv)
{
	long long v;
	const char *dev = "/dev/edu-rng0";
	unsigned int seed = 0, value;
	int seeded = 0, n = 10, fd, opt, i;

	while ((opt = getopt(argc, argv, "d:s:n:")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 's':
			v = number(optarg, 0xffffffffUL);
			if (v < 0)
				return bad_arg(argv[0], 's', optarg, "a 32-bit number");
			seed = v;
			seeded = 1;
			break;
		case 'n':
			v = number(optarg, 1UL << 30);
			if (v < 0)
				return bad_arg(argv[0], 'n', optarg,
					       "a count of at most 2^30");
			n = v;
			break;
		default:
			fprintf(stderr, "usage: %s [-d DEV] [-s SEED] [-n N]\n",
				argv[0]);
			return 2;
		}
	}

	fd = open(dev, O_RDONLY);
	if (fd < 0) {
		perror(dev);
		return 1;
	}
	if (seeded && ioctl(fd, MY_RNG_IOCTL_SEED, &seed) < 0) {
		perror("ioctl MY_RNG_IOCTL_SEED");
		close(fd);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (ioctl(fd, MY_RNG_IOCTL_RAND, &value) < 0) {
			perror("ioctl MY_RNG_IOCTL_RAND");
			close(fd);
			return 1;
		}
		printf("%u\n", value);
	}
	close(fd);
	return 0;
}
