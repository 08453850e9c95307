// SPDX-License-Identifier: GPL-2.0
/*
 * edu-rng: command-line tool for edu-rng devices (PCI 1234:cafe)
 *
 *   edu-rng [-d DEV] info | seed [--ioctl] N | read [-n BYTES] [-f FORMAT]
 *                  | bench [-n BYTES] [-b BLOCK]
 *
 * It uses only the driver's public interfaces: sysfs (the PCI device's
 * driver link, its seed and mode attributes, its misc child edu-rngN),
 * /dev/edu-rngN with the ioctls of <linux/edu-rng.h>, and the hwrng core's
 * sysfs files and /dev/hwrng.  Exit codes: usage() and edu-rng.1.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/edu-rng.h>

#ifndef EDU_RNG_VERSION
#define EDU_RNG_VERSION	"unknown"
#endif

/* The lab's programs hard-code these numbers: they must never change. */
_Static_assert(MY_RNG_IOCTL_RAND == 0x80047101, "RAND ioctl number");
_Static_assert(MY_RNG_IOCTL_SEED == 0x40047101, "SEED ioctl number");

enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,		/* runtime error */
	EXIT_USAGE = 2,		/* bad arguments */
	EXIT_NODEV = 3,		/* no (such) edu-rng device */
	EXIT_NODRIVER = 4,	/* module not loaded, or device not bound */
	EXIT_PERM = 5,		/* permission denied */
};

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define DRIVER_DIR	"/sys/bus/pci/drivers/edu-rng"
#define HWRNG_SYSFS	"/sys/class/misc/hw_random"
#define DRIVER		"edu-rng"
#define PCI_ID		"1234:cafe"
#define MAX_DEVS	64
#define CHUNK		(64 * 1024)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct edu_dev {
	char bdf[64];
	char driver[64];	/* "" when no driver is bound */
	char node[64];		/* "edu-rng0" when bound to edu-rng, else "" */
};

static const char *dev_spec;	/* -d DEV */

static void msg(const char *fmt, ...)
{
	va_list ap;

	fputs("edu-rng: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Bad arguments: say what and where to look, exit code 2. */
static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("edu-rng: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'edu-rng %s%s--help'.\n", cmd ? cmd : "",
		cmd ? " " : "");
	return EXIT_USAGE;
}

/* The exit code for a failed system call. */
static int errno_exit(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return EXIT_PERM;
	case ENODEV:
		return EXIT_NODRIVER;
	default:
		return EXIT_ERROR;
	}
}

static int sys_error(const char *what, const char *path, int err)
{
	msg("%s %s: %s%s", what, path, strerror(err),
	    err == EACCES || err == EPERM ? " (root only)" : "");
	return errno_exit(err);
}

/* First line of a sysfs file, without its newline; 0 or -errno. */
static int read_attr(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	/* the first line; rng_available ends in a blank */
	n = strcspn(buf, "\n");
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	return 0;
}

static bool is_edu(const char *bdf)
{
	char path[PATH_MAX], v[16], d[16];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/vendor", bdf);
	if (read_attr(path, v, sizeof(v)))
		return false;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/device", bdf);
	if (read_attr(path, d, sizeof(d)))
		return false;
	return !strcmp(v, "0x1234") && !strcmp(d, "0xcafe");
}

/* What sysfs says about PCI device @bdf: its driver, its /dev node. */
static void fill_dev(struct edu_dev *d, const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX], *base;
	struct dirent *e;
	ssize_t n;
	DIR *dir;

	memset(d, 0, sizeof(*d));
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
		if (strlen(base) < sizeof(d->driver))
			strcpy(d->driver, base);
	}
	if (strcmp(d->driver, DRIVER))
		return;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/misc", bdf);
	dir = opendir(path);
	if (!dir)
		return;
	while ((e = readdir(dir)))
		if (!strncmp(e->d_name, "edu-rng", 7) &&
		    strlen(e->d_name) < sizeof(d->node)) {
			strcpy(d->node, e->d_name);
			break;
		}
	closedir(dir);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every edu-rng PCI device, in PCI address order; count or -errno. */
static int list_devices(struct edu_dev *devs, int max)
{
	struct dirent **names;
	int n, i, count = 0;

	n = scandir(PCI_DEVICES, &names, NULL, by_name);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && count < max &&
		    is_edu(names[i]->d_name))
			fill_dev(&devs[count++], names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return count;
}

static bool driver_loaded(void)
{
	return access(DRIVER_DIR, F_OK) == 0;
}

static bool is_bound(const struct edu_dev *d)
{
	return !strcmp(d->driver, DRIVER);
}

/* Why @d cannot be used, for a device that is not bound to edu-rng. */
static int not_bound(const struct edu_dev *d)
{
	if (!driver_loaded())
		msg("%s: module edu_rng is not loaded (modprobe edu-rng)",
		    d->bdf);
	else if (!d->driver[0])
		msg("%s: not bound to the edu-rng driver (echo %s > %s/bind)",
		    d->bdf, d->bdf, DRIVER_DIR);
	else
		msg("%s: bound to driver %s, not edu-rng", d->bdf, d->driver);
	return EXIT_NODRIVER;
}

enum spec { SPEC_BAD, SPEC_BDF, SPEC_NODE };

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/*
 * -d DEV: a PCI address (0000:00:01.0, or 00:01.0 in domain 0) into @bdf,
 * or /dev/edu-rngN, edu-rngN or N into @node ("edu-rngN").
 */
static enum spec parse_spec(const char *s, char *bdf, size_t bsize,
			    char *node, size_t nsize)
{
	unsigned int dom = 0, bus, slot, fn;
	const char *p = s;
	int len = -1;

	if (!strncmp(p, "/dev/", 5))
		p += 5;
	if (!strncmp(p, "edu-rng", 7) && all_digits(p + 7))
		p += 7;
	else if (p != s)
		return SPEC_BAD;
	if (all_digits(p) && strlen(p) < 10) {
		snprintf(node, nsize, "edu-rng%u", (unsigned int)atoi(p));
		return SPEC_NODE;
	}
	if (strspn(s, "0123456789abcdefABCDEF:.") != strlen(s))
		return SPEC_BAD;
	if (sscanf(s, "%4x:%2x:%2x.%1u%n", &dom, &bus, &slot, &fn, &len) != 4 ||
	    len != (int)strlen(s) || strlen(s) != 12) {
		dom = 0;
		len = -1;
		if (sscanf(s, "%2x:%2x.%1u%n", &bus, &slot, &fn, &len) != 3 ||
		    len != (int)strlen(s) || strlen(s) != 7)
			return SPEC_BAD;
	}
	if (slot > 31 || fn > 7)
		return SPEC_BAD;
	snprintf(bdf, bsize, "%04x:%02x:%02x.%u", dom, bus, slot, fn);
	return SPEC_BDF;
}

/*
 * The device -d names, else the first one bound to edu-rng, else the first
 * one.  0 or an exit code, with a message.
 */
static int resolve(struct edu_dev *d, const char *cmd)
{
	struct edu_dev devs[MAX_DEVS];
	char bdf[64], node[64], path[PATH_MAX];
	int n, i;
	bool bound = false;

	n = list_devices(devs, MAX_DEVS);
	if (n < 0) {
		msg("cannot list %s: %s", PCI_DEVICES, strerror(-n));
		return EXIT_ERROR;
	}
	for (i = 0; i < n; i++)
		bound |= is_bound(&devs[i]);
	if (!dev_spec) {
		if (!n) {
			msg("no edu-rng device (PCI %s) found", PCI_ID);
			return EXIT_NODEV;
		}
		for (i = 0; i < n && !is_bound(&devs[i]); i++)
			;
		*d = devs[i < n ? i : 0];
		return 0;
	}

	switch (parse_spec(dev_spec, bdf, sizeof(bdf), node, sizeof(node))) {
	case SPEC_BDF:
		for (i = 0; i < n; i++)
			if (!strcmp(devs[i].bdf, bdf)) {
				*d = devs[i];
				return 0;
			}
		snprintf(path, sizeof(path), PCI_DEVICES "/%s", bdf);
		if (access(path, F_OK) == 0)
			msg("%s is not an edu-rng device (PCI %s)", bdf, PCI_ID);
		else
			msg("%s: no such PCI device", bdf);
		return EXIT_NODEV;
	case SPEC_NODE:
		for (i = 0; i < n; i++)
			if (!strcmp(devs[i].node, node)) {
				*d = devs[i];
				return 0;
			}
		if (!n) {
			msg("/dev/%s: no edu-rng device (PCI %s) found", node,
			    PCI_ID);
			return EXIT_NODEV;
		}
		if (!driver_loaded()) {
			msg("/dev/%s: module edu_rng is not loaded (modprobe edu-rng)",
			    node);
			return EXIT_NODRIVER;
		}
		if (!bound) {
			msg("/dev/%s: no edu-rng device is bound to the driver",
			    node);
			return EXIT_NODRIVER;
		}
		msg("/dev/%s: no such edu-rng device", node);
		return EXIT_NODEV;
	default:
		return usage_error(cmd, "bad device '%s': give a PCI address (0000:00:01.0), /dev/edu-rngN or an index N",
				   dev_spec);
	}
}

/* A device bound to edu-rng, opened: 0 with *fd set, or an exit code. */
static int open_node(struct edu_dev *d, const char *cmd, int *fd)
{
	char path[PATH_MAX];
	int ret = resolve(d, cmd);

	if (ret)
		return ret;
	if (!is_bound(d))
		return not_bound(d);
	if (!d->node[0]) {
		msg("%s: the edu-rng driver gives it no /dev/edu-rngN", d->bdf);
		return EXIT_NODRIVER;
	}
	snprintf(path, sizeof(path), "/dev/%s", d->node);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return sys_error("open", path, errno);
	return 0;
}

/*
 * Read @len bytes unless an error or end of file stops us: returns the
 * bytes read, with *@err the errno that stopped it early (0: end of file).
 */
static size_t read_full(int fd, void *buf, size_t len, int *err)
{
	size_t done = 0;
	ssize_t n;

	*err = 0;
	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = errno;
			break;
		}
		if (!n)
			break;
		done += n;
	}
	return done;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/* Decimal, or hex after 0x; no sign, no blanks, at most @max. */
static bool parse_u64(const char *s, unsigned long long max,
		      unsigned long long *val)
{
	const char *digits = s;
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		digits = s + 2;
		base = 16;
		/* strtoull() in base 16 would skip a second 0x of its own */
		if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'))
			return false;
	}
	if (!(base == 16 ? isxdigit((unsigned char)*digits) :
			   isdigit((unsigned char)*digits)))
		return false;
	errno = 0;
	*val = strtoull(digits, &end, base);
	return !errno && !*end && *val <= max;
}

/* A byte count: decimal with an optional K, M or G (1024-based) suffix. */
static bool parse_size(const char *s, unsigned long long max,
		       unsigned long long *val)
{
	unsigned long long mult = 1;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*val = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case 'K': case 'k':
		mult = 1ULL << 10;
		end++;
		break;
	case 'M': case 'm':
		mult = 1ULL << 20;
		end++;
		break;
	case 'G': case 'g':
		mult = 1ULL << 30;
		end++;
		break;
	}
	if (*end || *val > max / mult)
		return false;
	*val *= mult;
	return *val > 0;
}

/*
 * Usage error for getopt's @c ('?' or ':', or an option @cmd does not
 * take): name the option as the user wrote it.  A short one is optopt; a
 * cluster's argument (-xy) names another.  A long one is argv[optind - 1],
 * with optopt 0 when unknown, or its value when it was given an argument
 * it does not take (--help=1).
 */
static int bad_option(const char *cmd, char **argv, int c)
{
	const char *arg = argv[optind - 1];
	const char *eq = strchr(arg, '=');

	if (!strncmp(arg, "--", 2) && arg[2] && (!optopt || c == 'I' || eq)) {
		if (c == ':')
			return usage_error(cmd, "option '%s' needs an argument", arg);
		if (eq && optopt)
			return usage_error(cmd, "option '%.*s' takes no argument",
					   (int)(eq - arg), arg);
		return usage_error(cmd, "unknown option '%s'", arg);
	}
	if (c == ':')
		return usage_error(cmd, "option '-%c' needs an argument", optopt);
	return usage_error(cmd, "unknown option '-%c'", c == '?' ? optopt : c);
}

/* Options every command takes; a getopt result it handled, else 0. */
static const struct option common_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "ioctl", no_argument, NULL, 'I' },
	{ NULL, 0, NULL, 0 },
};

/*
 * getopt_long over a command's arguments with @shortopts (":d:h" always
 * added).  -d sets the device; -h prints @help.  Returns the option, 0
 * when the command is done (help printed: *ret = 0), or -1 at the end of
 * options; an error sets *ret to the usage exit code and returns 0.
 */
static int next_opt(int argc, char **argv, const char *cmd,
		    const char *shortopts, const char *help, int *ret)
{
	char opts[32];
	int c;

	snprintf(opts, sizeof(opts), ":d:h%s", shortopts);
	c = getopt_long(argc, argv, opts, common_opts, NULL);
	switch (c) {
	case 'd':
		dev_spec = optarg;
		return next_opt(argc, argv, cmd, shortopts, help, ret);
	case 'h':
		fputs(help, stdout);
		*ret = EXIT_OK;
		return 0;
	case 'I':
		if (!strcmp(cmd, "seed"))
			return c;
		/* fall through */
	case ':':
	case '?':
		*ret = bad_option(cmd, argv, c);
		return 0;
	}
	return c;
}

static const char info_help[] =
"Usage: edu-rng [-d DEV] info\n"
"Show each edu-rng device (or the one -d names): its PCI address, the\n"
"driver bound to it, its /dev node, its mode (host or seeded) and its hwrng\n"
"(current, available, or withdrawn while seeded); then the hwrng core's\n"
"rng_current, rng_available and rng_quality.\n"
"Exit status 3 when there is no edu-rng device, 4 when none is bound to\n"
"the edu-rng driver (or the module is not loaded).\n";

/*
 * @name's state in the hwrng core.  A seeded device is withdrawn from the
 * core (the driver unregisters it until host mode), so "not registered"
 * is what to expect then, and is told as such.
 */
static void hwrng_state(const char *name, bool seeded, char *buf, size_t size)
{
	char cur[256] = "", avail[1024] = "", *tok, *save;

	read_attr(HWRNG_SYSFS "/rng_current", cur, sizeof(cur));
	read_attr(HWRNG_SYSFS "/rng_available", avail, sizeof(avail));
	if (!strcmp(cur, name)) {
		snprintf(buf, size, "%s (current)", name);
		return;
	}
	for (tok = strtok_r(avail, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save))
		if (!strcmp(tok, name)) {
			snprintf(buf, size, "%s (available)", name);
			return;
		}
	snprintf(buf, size, "%s (%s)", name,
		 seeded ? "withdrawn while seeded" : "not registered");
}

/* Is bound device @d seeded?  @mode gets its mode attribute, or "?". */
static bool dev_seeded(const struct edu_dev *d, char *mode, size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/mode", d->bdf);
	if (read_attr(path, mode, size))
		snprintf(mode, size, "?");
	return !strcmp(mode, "seeded");
}

static void print_dev(const struct edu_dev *d)
{
	char mode[32] = "-", hwrng[128] = "-", name[96];
	bool seeded;

	if (is_bound(d)) {
		seeded = dev_seeded(d, mode, sizeof(mode));
		snprintf(name, sizeof(name), "edu-rng-%s", d->bdf);
		hwrng_state(name, seeded, hwrng, sizeof(hwrng));
	}
	printf("edu-rng %s\n", d->bdf);
	printf("  driver:        %s\n", d->driver[0] ? d->driver : "none");
	printf("  node:          %s%s\n", d->node[0] ? "/dev/" : "-", d->node);
	printf("  mode:          %s\n", mode);
	printf("  hwrng:         %s\n", hwrng);
}

static void print_hwrng(void)
{
	static const char *const attrs[] = {
		"rng_current", "rng_available", "rng_quality",
	};
	char path[PATH_MAX], val[1024];
	size_t i;

	printf("hwrng core\n");
	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		snprintf(path, sizeof(path), HWRNG_SYSFS "/%s", attrs[i]);
		if (read_attr(path, val, sizeof(val)))
			strcpy(val, "-");
		printf("  %-14s %s\n", attrs[i], val[0] ? val : "-");
	}
}

static int cmd_info(int argc, char **argv)
{
	struct edu_dev devs[MAX_DEVS], d;
	int ret = EXIT_OK, c, n, i;
	bool bound = false;

	while ((c = next_opt(argc, argv, "info", "", info_help, &ret)) > 0)
		;
	if (!c)
		return ret;
	if (optind < argc)
		return usage_error("info", "unexpected argument '%s'",
				   argv[optind]);
	if (dev_spec) {
		ret = resolve(&d, "info");
		if (ret)
			return ret;
		print_dev(&d);
		print_hwrng();
		return is_bound(&d) ? EXIT_OK : not_bound(&d);
	}
	n = list_devices(devs, MAX_DEVS);
	if (n < 0) {
		msg("cannot list %s: %s", PCI_DEVICES, strerror(-n));
		return EXIT_ERROR;
	}
	for (i = 0; i < n; i++) {
		print_dev(&devs[i]);
		bound |= is_bound(&devs[i]);
	}
	print_hwrng();
	fflush(stdout);
	if (!n) {
		msg("no edu-rng device (PCI %s) found", PCI_ID);
		return EXIT_NODEV;
	}
	if (!driver_loaded()) {
		msg("module edu_rng is not loaded (modprobe edu-rng)");
		return EXIT_NODRIVER;
	}
	if (!bound) {
		msg("no edu-rng device is bound to the edu-rng driver");
		return EXIT_NODRIVER;
	}
	return EXIT_OK;
}

static const char seed_help[] =
"Usage: edu-rng [-d DEV] seed [--ioctl] N\n"
"Seed the device: from then on it produces N's ChaCha20 stream, read\n"
"through /dev/edu-rngN only (mode 'seeded').  The device leaves the hwrng\n"
"core until host mode: /dev/hwrng, the kernel and rngd get none of its\n"
"bytes ('echo host' to its mode attribute returns to host entropy and\n"
"registers it again).  N is decimal, or hex after 0x, up to 64 bits.  The\n"
"seed goes through the device's sysfs attribute 'seed'.\n"
"\n"
"  --ioctl   use the lab's MY_RNG_IOCTL_SEED on /dev/edu-rngN instead;\n"
"            it takes 32-bit seeds only (N up to 0xffffffff)\n"
"\n"
"Both need root (CAP_SYS_ADMIN for the ioctl): exit status 5 otherwise.\n";

static int seed_sysfs(const struct edu_dev *d, unsigned long long seed)
{
	char path[PATH_MAX], buf[32];
	int fd, ret;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/seed", d->bdf);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sys_error("open", path, errno);
	snprintf(buf, sizeof(buf), "%llu", seed);
	ret = write_full(fd, buf, strlen(buf));
	close(fd);
	return ret ? sys_error("write", path, -ret) : EXIT_OK;
}

static int seed_ioctl(struct edu_dev *d, unsigned int seed)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = open_node(d, "seed", &fd);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/dev/%s", d->node);
	if (ioctl(fd, MY_RNG_IOCTL_SEED, &seed) < 0) {
		ret = errno;
		close(fd);
		msg("ioctl MY_RNG_IOCTL_SEED on %s: %s%s", path, strerror(ret),
		    ret == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		return errno_exit(ret);
	}
	close(fd);
	return EXIT_OK;
}

static int cmd_seed(int argc, char **argv)
{
	int ret = EXIT_OK, c;
	bool use_ioctl = false;
	unsigned long long seed;
	struct edu_dev d;

	while ((c = next_opt(argc, argv, "seed", "", seed_help, &ret)) > 0)
		use_ioctl = true;	/* --ioctl, the only other option */
	if (!c)
		return ret;
	if (optind >= argc)
		return usage_error("seed", "missing seed N");
	if (optind + 1 < argc)
		return usage_error("seed", "unexpected argument '%s'",
				   argv[optind + 1]);
	if (!parse_u64(argv[optind], use_ioctl ? UINT32_MAX : ULLONG_MAX,
		       &seed))
		return usage_error("seed", "bad seed '%s': want a decimal or 0x-hex number of at most %s",
				   argv[optind], use_ioctl ?
				   "32 bits (--ioctl)" : "64 bits");
	if (use_ioctl)
		return seed_ioctl(&d, seed);
	ret = resolve(&d, "seed");
	if (ret)
		return ret;
	if (!is_bound(&d))
		return not_bound(&d);
	return seed_sysfs(&d, seed);
}

static const char read_help[] =
"Usage: edu-rng [-d DEV] read [-n BYTES] [-f raw|hex|u32]\n"
"Read BYTES random bytes (default 16; K, M, G suffixes) from /dev/edu-rngN\n"
"and print them:\n"
"  hex   lowercase hex, 16 bytes a line (the default)\n"
"  u32   32-bit words in native byte order, decimal, one a line (what the\n"
"        lab's MY_RNG_IOCTL_RAND returns); BYTES must be a multiple of 4\n"
"  raw   the bytes themselves\n"
"A read that fails part-way prints what it read, then the error.\n";

enum fmt { FMT_HEX, FMT_U32, FMT_RAW };

/* Print @len bytes of @buf in @fmt; @col counts hex bytes on the line. */
static int output(const unsigned char *buf, size_t len, enum fmt fmt,
		  size_t *col)
{
	size_t i;
	uint32_t w;

	switch (fmt) {
	case FMT_RAW:
		return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
	case FMT_U32:
		for (i = 0; i + 4 <= len; i += 4) {
			memcpy(&w, buf + i, 4);
			printf("%u\n", w);
		}
		break;
	case FMT_HEX:
		for (i = 0; i < len; i++) {
			printf("%02x", buf[i]);
			if (++*col == 16) {
				putchar('\n');
				*col = 0;
			}
		}
		break;
	}
	return ferror(stdout) ? -1 : 0;
}

static int cmd_read(int argc, char **argv)
{
	unsigned long long left = 16, done = 0, n;
	int ret = EXIT_OK, c, fd, err;
	enum fmt fmt = FMT_HEX;
	static unsigned char buf[CHUNK];
	char path[PATH_MAX];
	struct edu_dev d;
	size_t col = 0;
	size_t got;

	while ((c = next_opt(argc, argv, "read", "n:f:", read_help, &ret)) > 0) {
		if (c == 'n' && !parse_size(optarg, 1ULL << 40, &left))
			return usage_error("read", "bad byte count '%s'", optarg);
		if (c != 'f')
			continue;
		if (!strcmp(optarg, "hex"))
			fmt = FMT_HEX;
		else if (!strcmp(optarg, "u32"))
			fmt = FMT_U32;
		else if (!strcmp(optarg, "raw"))
			fmt = FMT_RAW;
		else
			return usage_error("read", "bad format '%s': raw, hex or u32",
					   optarg);
	}
	if (!c)
		return ret;
	if (optind < argc)
		return usage_error("read", "unexpected argument '%s'",
				   argv[optind]);
	if (fmt == FMT_U32 && left % 4)
		return usage_error("read", "-f u32 needs a multiple of 4 bytes, not %llu",
				   left);

	ret = open_node(&d, "read", &fd);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/dev/%s", d.node);
	while (left) {
		n = left < CHUNK ? left : CHUNK;
		got = read_full(fd, buf, n, &err);
		/* what was read is gone from the device: write it out */
		if (got && output(buf, got, fmt, &col)) {
			msg("write standard output: %s", strerror(errno));
			ret = EXIT_ERROR;
			break;
		}
		done += got;
		left -= got;
		if (got == n)
			continue;
		if (err) {
			ret = sys_error("read", path, err);
		} else {
			msg("read %s: end of data after %llu of %llu bytes",
			    path, done, done + left);
			ret = EXIT_ERROR;
		}
		break;
	}
	close(fd);
	if (col)
		putchar('\n');
	if (fflush(stdout) && !ret) {
		msg("write standard output: %s", strerror(errno));
		ret = EXIT_ERROR;
	}
	return ret;
}

static const char bench_help[] =
"Usage: edu-rng [-d DEV] bench [-n BYTES] [-b BLOCK]\n"
"Read BYTES (default 4M) from /dev/edu-rngN, then from /dev/hwrng (served by\n"
"the current hwrng, which the line names; see 'edu-rng info'), in BLOCK-byte\n"
"reads (default 64K), and print each one's throughput in MB/s (10^6 bytes a\n"
"second, timed with CLOCK_MONOTONIC).  While the device is seeded it is no\n"
"hwrng: /dev/hwrng is another rng, or none (ENODEV: exit status 1).\n"
"/dev/hwrng is root only: exit status 5 otherwise.\n";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Time reading @total bytes of @fd in @block-byte reads; print the rate.
 * 0 or -errno of a failed read (the caller reports it), or an exit code.
 */
static int bench_one(int fd, const char *label, const char *path,
		     unsigned long long total, size_t block, unsigned char *buf)
{
	unsigned long long left = total;
	double t0, secs;
	ssize_t got;

	t0 = now();
	while (left) {
		size_t n = left < block ? left : block;

		got = read(fd, buf, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (!got) {
			msg("read %s: end of data", path);
			return EXIT_ERROR;
		}
		left -= got;
	}
	secs = now() - t0;
	printf("%-40s %llu bytes in %zu-byte reads: %.3f s, %.2f MB/s\n",
	       label, total, block, secs, secs > 0 ? total / secs / 1e6 : 0.0);
	fflush(stdout);
	return EXIT_OK;
}

static int cmd_bench(int argc, char **argv)
{
	unsigned long long total = 4ULL << 20, block = CHUNK;
	char path[PATH_MAX], label[512], cur[256] = "", mode[32], name[96];
	int ret = EXIT_OK, c, fd;
	unsigned char *buf;
	struct edu_dev d;
	bool seeded;

	while ((c = next_opt(argc, argv, "bench", "n:b:", bench_help, &ret)) > 0) {
		if (c == 'n' && !parse_size(optarg, 1ULL << 40, &total))
			return usage_error("bench", "bad byte count '%s'", optarg);
		if (c == 'b' && !parse_size(optarg, 64ULL << 20, &block))
			return usage_error("bench", "bad block size '%s' (1 to 64M)",
					   optarg);
	}
	if (!c)
		return ret;
	if (optind < argc)
		return usage_error("bench", "unexpected argument '%s'",
				   argv[optind]);

	buf = malloc(block);
	if (!buf) {
		msg("cannot allocate %llu bytes: %s", block, strerror(errno));
		return EXIT_ERROR;
	}
	ret = open_node(&d, "bench", &fd);
	if (ret)
		goto out;
	snprintf(path, sizeof(path), "/dev/%s", d.node);
	ret = bench_one(fd, path, path, total, block, buf);
	close(fd);
	if (ret < 0)
		ret = sys_error("read", path, -ret);
	if (ret)
		goto out;

	/*
	 * The line names the rng that served /dev/hwrng: a seeded device is
	 * no hwrng, so then it is another one, or none.
	 */
	seeded = dev_seeded(&d, mode, sizeof(mode));
	snprintf(name, sizeof(name), "edu-rng-%s", d.bdf);
	read_attr(HWRNG_SYSFS "/rng_current", cur, sizeof(cur));
	if (!cur[0])
		strcpy(cur, "none");
	snprintf(label, sizeof(label), "/dev/hwrng (%s%s%s%s)", cur,
		 seeded && strcmp(cur, name) ? "; " : "",
		 seeded && strcmp(cur, name) ? name : "",
		 seeded && strcmp(cur, name) ? " withdrawn while seeded" : "");
	fd = open("/dev/hwrng", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = sys_error("open", "/dev/hwrng", errno);
		goto out;
	}
	ret = bench_one(fd, label, "/dev/hwrng", total, block, buf);
	close(fd);
	/* no current hwrng: a runtime fact, not this device gone (status 4) */
	if (ret == -ENODEV && seeded) {
		msg("read /dev/hwrng: %s: no hwrng is current (%s is withdrawn while seeded; 'echo host' to its mode attribute registers it again)",
		    strerror(ENODEV), name);
		ret = EXIT_ERROR;
	} else if (ret == -ENODEV) {
		msg("read /dev/hwrng: %s: no hwrng is current",
		    strerror(ENODEV));
		ret = EXIT_ERROR;
	} else if (ret < 0) {
		ret = sys_error("read", "/dev/hwrng", -ret);
	}
out:
	free(buf);
	return ret;
}

static const char usage_text[] =
"Usage: edu-rng [-d DEV] COMMAND [ARG]...\n"
"Inspect, seed, read and benchmark edu-rng random number generators.\n"
"\n"
"Commands:\n"
"  info                              devices, driver, node, mode; hwrng core\n"
"  seed [--ioctl] N                  seed the device (decimal or 0x-hex)\n"
"  read [-n BYTES] [-f raw|hex|u32]  read from /dev/edu-rngN (16 bytes, hex)\n"
"  bench [-n BYTES] [-b BLOCK]       MB/s of /dev/edu-rngN and /dev/hwrng\n"
"  help [COMMAND]                    this text, or a command's\n"
"\n"
"Options:\n"
"  -d DEV         the device: a PCI address (0000:00:01.0), /dev/edu-rngN or\n"
"                 N; default the first device bound to edu-rng\n"
"  -h, --help     this text; 'edu-rng COMMAND --help' for a command's\n"
"      --version  the version\n"
"\n"
"Exit status:\n"
"  0  success\n"
"  1  runtime error\n"
"  2  usage error (bad arguments)\n"
"  3  no edu-rng device (PCI 1234:cafe), or not the one -d names\n"
"  4  module edu_rng not loaded, or the device not bound to it\n"
"  5  permission denied\n";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "info", cmd_info, info_help },
	{ "seed", cmd_seed, seed_help },
	{ "read", cmd_read, read_help },
	{ "bench", cmd_bench, bench_help },
};

static int cmd_help(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return usage_error(NULL, "unexpected argument '%s'", argv[2]);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name)) {
			fputs(cmds[i].help, stdout);
			return EXIT_OK;
		}
	return usage_error(NULL, "no command '%s'", argv[1]);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	size_t i;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev_spec = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 'V':
			printf("edu-rng " EDU_RNG_VERSION "\n");
			return EXIT_OK;
		default:
			return bad_option(NULL, argv, c);
		}
	}
	if (optind >= argc)
		return usage_error(NULL, "missing command");
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "help"))
		return cmd_help(argc, argv);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[0], cmds[i].name)) {
			optind = 0;	/* glibc: start over */
			return cmds[i].fn(argc, argv);
		}
	return usage_error(NULL, "unknown command '%s'", argv[0]);
}
