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

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/edu-rng.h>

int main(int argc, char **argv)
{
	const char *dev = "/dev/edu-rng0";
	unsigned int seed = 0, value;
	int seeded = 0, n = 10, fd, opt, i;

	while ((opt = getopt(argc, argv, "d:s:n:")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 's':
			seed = strtoul(optarg, NULL, 0);
			seeded = 1;
			break;
		case 'n':
			n = atoi(optarg);
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
