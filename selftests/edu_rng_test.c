// SPDX-License-Identifier: GPL-2.0
/*
 * edu-rng selftests, run as root in a guest with one edu-rng device.
 *
 * Seeded streams are checked against the device's generator compiled in
 * from qemu/hw/edu-rng-core.c.  A seeded device is withdrawn from the
 * hwrng core, so its stream is read through /dev/edu-rngN (and the lab's
 * ioctls) only, and must be exact: the seed's first byte first, then each
 * byte once and in order.  match_stream() still measures stale bytes and
 * gaps so that a failure says what went wrong.
 */

#define _GNU_SOURCE
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "edu-rng-core.h"
#include <linux/edu-rng.h>
#include <linux/userfaultfd.h>

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define HWRNG_SYSFS	"/sys/class/misc/hw_random"
#define MAX_GAPS	8
#define MAX_GAP		8192	/* bytes one gap may skip: two hwrng chunks */
#define MAX_START	8192	/* stream offset a seeded read may start at */
#define DRIVER_BUF_MAX	(256 << 10)	/* the driver's EDU_RNG_BUF_SIZE */
#define RING_BUFS	4		/* the driver's EDU_RNG_NR_BUFS */

static int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Write @s in one write(); 0 or -errno. */
static int write_file(const char *path, const char *s)
{
	ssize_t n;
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	if (n < 0)
		return -errno;
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* The sysfs dir of the first PCI device 1234:cafe, or NULL. */
static const char *edu_rng_dev(void)
{
	static char path[PATH_MAX];
	char p[PATH_MAX], v[32], d[32];
	struct dirent *e;
	DIR *dir = opendir(PCI_DEVICES);

	if (!dir)
		return NULL;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), PCI_DEVICES "/%s/vendor", e->d_name);
		if (read_file(p, v, sizeof(v)))
			continue;
		snprintf(p, sizeof(p), PCI_DEVICES "/%s/device", e->d_name);
		if (read_file(p, d, sizeof(d)))
			continue;
		if (!strcmp(v, "0x1234") && !strcmp(d, "0xcafe")) {
			snprintf(path, sizeof(path), PCI_DEVICES "/%s",
				 e->d_name);
			closedir(dir);
			return path;
		}
	}
	closedir(dir);
	return NULL;
}

static int dev_write(const char *attr, const char *s)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", edu_rng_dev(), attr);
	return write_file(p, s);
}

/* read() exactly @n bytes in one call, as /dev/hwrng promises */
static ssize_t hwrng_read(void *buf, size_t n)
{
	ssize_t r;
	int fd = open("/dev/hwrng", O_RDONLY);

	if (fd < 0)
		return -errno;
	r = read(fd, buf, n);
	if (r < 0)
		r = -errno;
	close(fd);
	return r;
}

static int seed(unsigned long long s)
{
	char str[32];

	snprintf(str, sizeof(str), "%llu", s);
	return dev_write("seed", str);
}

static const char *edu_rng_node(void);

/* Unbind the device from edu-rng, or bind it; 0 or -errno. */
static int driver_attach(bool bind)
{
	const char *bdf = strrchr(edu_rng_dev(), '/') + 1;

	return write_file(bind ? "/sys/bus/pci/drivers/edu-rng/bind" :
			  "/sys/bus/pci/drivers/edu-rng/unbind", bdf);
}

/* @n bytes of /dev/edu-rngN on a descriptor of its own; n or -errno */
static ssize_t direct_read(void *buf, size_t n)
{
	int fd = open(edu_rng_node(), O_RDONLY);
	size_t got = 0;
	ssize_t r = 0;

	if (fd < 0)
		return -errno;
	while (got < n && (r = read(fd, (uint8_t *)buf + got, n - got)) > 0)
		got += r;
	if (r < 0)
		r = -errno;
	close(fd);
	return got == n ? (ssize_t)n : r;
}

/* The seed's stream from its first byte, each once, nothing else. */
#define EXPECT_EXACT(m) do {						\
		EXPECT_EQ(NULL, (m).why) TH_LOG("%s", (m).why);		\
		EXPECT_EQ(0U, (m).stale);				\
		EXPECT_EQ(0U, (m).start);				\
		EXPECT_EQ(0U, (m).gaps);				\
	} while (0)

struct match {
	size_t stale;		/* bytes before the stream, from the core */
	size_t start;		/* stream offset of the first stream byte */
	unsigned int gaps;
	size_t skipped;
	const char *why;	/* NULL when it matched */
};

static const uint8_t *find(const uint8_t *hay, size_t hlen,
			   const uint8_t *needle, size_t nlen)
{
	for (size_t i = 0; i + nlen <= hlen; i++)
		if (!memcmp(hay + i, needle, nlen))
			return hay + i;
	return NULL;
}

/* Is @buf seed @s's stream, in order, with at most a few small gaps? */
static struct match match_stream(unsigned long long s, const uint8_t *buf,
				 size_t n)
{
	size_t elen = MAX_START + n + MAX_GAPS * MAX_GAP, i = 0, j, k;
	struct match m = { 0 };
	uint8_t *e = malloc(elen);
	const uint8_t *hit;
	EduRngGen g;

	if (!e) {
		m.why = "out of memory";
		return m;
	}
	edu_rng_gen_seed(&g, s);
	edu_rng_gen_fill(&g, e, elen);
	for (hit = NULL; !hit && m.stale < 64 && m.stale < n; m.stale++) {
		k = n - m.stale < 32 ? n - m.stale : 32;
		hit = find(e, MAX_START + k, buf + m.stale, k);
	}
	if (!hit) {
		m.why = "does not start within the seed's first 8 KiB";
		goto out;
	}
	i = --m.stale;
	j = m.start = hit - e;
	while (i < n) {
		while (i < n && buf[i] == e[j]) {
			i++;
			j++;
		}
		if (i == n)
			break;
		k = n - i < 16 ? n - i : 16;
		hit = find(e + j, MAX_GAP + k, buf + i, k);
		if (!hit || ++m.gaps > MAX_GAPS) {
			m.why = "bytes not from the seed's stream in order";
			goto out;
		}
		m.skipped += hit - (e + j);
		j = hit - e;
	}
out:
	free(e);
	return m;
}

FIXTURE(hwrng) {
	uint8_t *buf;
};

FIXTURE_SETUP(hwrng)
{
	self->buf = malloc(1 << 20);
	ASSERT_NE(NULL, self->buf);
	ASSERT_NE(NULL, edu_rng_dev()) TH_LOG("no PCI device 1234:cafe");
}

FIXTURE_TEARDOWN(hwrng)
{
	/* leave the device as the next test expects it: host entropy */
	dev_write("mode", "host");
	free(self->buf);
}

TEST_F(hwrng, device_bound_to_edu_rng)
{
	char p[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(p, sizeof(p), "%s/driver", edu_rng_dev());
	n = readlink(p, link, sizeof(link) - 1);
	ASSERT_LT(0, n) TH_LOG("device has no driver");
	link[n] = '\0';
	EXPECT_STREQ("edu-rng", strrchr(link, '/') + 1);
}

TEST_F(hwrng, current_rng_is_edu_rng)
{
	char cur[128], avail[512];

	ASSERT_EQ(0, read_file(HWRNG_SYSFS "/rng_current", cur, sizeof(cur)));
	ASSERT_EQ(0, read_file(HWRNG_SYSFS "/rng_available", avail,
			       sizeof(avail)));
	EXPECT_EQ(0, strncmp(cur, "edu-rng-", 8)) TH_LOG("rng_current: %s", cur);
	EXPECT_NE(NULL, strstr(avail, cur));
	EXPECT_NE(NULL, strstr(cur, strrchr(edu_rng_dev(), '/') + 1))
		TH_LOG("hwrng name %s does not name the device", cur);
}

TEST_F(hwrng, read_sizes_exact)
{
	static const size_t sizes[] = {
		1, 2, 3, 31, 63, 64, 65, 127, 4095, 4096, 4097, 16383, 16384,
		16385, 65536, 100000, 1 << 20,
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(self->buf, 0, sizes[i]);
		EXPECT_EQ((ssize_t)sizes[i], hwrng_read(self->buf, sizes[i]))
			TH_LOG("read of %zu bytes", sizes[i]);
	}
}

TEST_F(hwrng, seed_attr_write_only_root)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/seed", edu_rng_dev());
	ASSERT_EQ(0, stat(p, &st));
	EXPECT_EQ(0200U, st.st_mode & 0777);
	EXPECT_EQ(0U, st.st_uid);
}

TEST_F(hwrng, same_seed_same_stream)
{
	struct match m;
	uint8_t *again = malloc(65536);

	ASSERT_NE(NULL, again);
	ASSERT_EQ(0, seed(42));
	ASSERT_EQ(65536, direct_read(self->buf, 65536));
	m = match_stream(42, self->buf, 65536);
	EXPECT_EXACT(m);

	ASSERT_EQ(0, seed(42));
	ASSERT_EQ(65536, direct_read(again, 65536));
	m = match_stream(42, again, 65536);
	EXPECT_EXACT(m);
	free(again);
}

TEST_F(hwrng, seed_formats)
{
	static const struct {
		const char *in;
		unsigned long long val;
	} ok[] = {
		{ "7", 7 }, { "7\n", 7 }, { "0x2a", 42 }, { "0X2A\n", 42 },
		{ "010", 10 }, { "18446744073709551615", ~0ULL },
		{ "0xffffffffffffffff", ~0ULL }, { "4294967296", 1ULL << 32 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct match m;

		ASSERT_EQ(0, dev_write("seed", ok[i].in)) TH_LOG("'%s'", ok[i].in);
		ASSERT_EQ(4096, direct_read(self->buf, 4096));
		m = match_stream(ok[i].val, self->buf, 4096);
		if (m.why || m.stale || m.start || m.gaps)
			TH_LOG("seed written as '%s'", ok[i].in);
		EXPECT_EXACT(m);
	}
}

TEST_F(hwrng, different_seeds_differ)
{
	struct match m;

	ASSERT_EQ(0, seed(1));
	ASSERT_EQ(4096, direct_read(self->buf, 4096));
	m = match_stream(2, self->buf, 4096);
	EXPECT_NE(NULL, m.why) TH_LOG("seed 1 gave seed 2's stream");
	m = match_stream(1, self->buf, 4096);
	EXPECT_EXACT(m);
}

TEST_F(hwrng, seed_discards_prefetched)
{
	struct match m;

	/* leave most of a DMA buffer of host-entropy bytes unread */
	ASSERT_EQ(100, hwrng_read(self->buf, 100));
	ASSERT_EQ(100, direct_read(self->buf, 100));
	ASSERT_EQ(0, seed(77));
	ASSERT_EQ(4096, direct_read(self->buf, 4096));
	m = match_stream(77, self->buf, 4096);
	EXPECT_EXACT(m);
}

TEST_F(hwrng, mode_follows_seed)
{
	char p[PATH_MAX], mode[32];

	snprintf(p, sizeof(p), "%s/mode", edu_rng_dev());
	ASSERT_EQ(0, seed(5));
	ASSERT_EQ(0, read_file(p, mode, sizeof(mode)));
	EXPECT_STREQ("seeded", mode);
	EXPECT_EQ(-EINVAL, dev_write("mode", "seeded"));
	EXPECT_EQ(-EINVAL, dev_write("mode", "bogus"));
	ASSERT_EQ(0, dev_write("mode", "host"));
	ASSERT_EQ(0, read_file(p, mode, sizeof(mode)));
	EXPECT_STREQ("host", mode);
	/* host mode: the stream is no longer seed 5's */
	ASSERT_EQ(4096, hwrng_read(self->buf, 4096));
	EXPECT_NE(NULL, match_stream(5, self->buf, 4096).why);
}

/* Is the hwrng named @name in rng_available?  (and current: @cur) */
static bool hwrng_listed(const char *name, bool *cur)
{
	char avail[512], c[128];

	if (read_file(HWRNG_SYSFS "/rng_available", avail, sizeof(avail)) ||
	    read_file(HWRNG_SYSFS "/rng_current", c, sizeof(c)))
		return false;
	*cur = !strcmp(c, name);
	return strstr(avail, name);
}

/*
 * A seeded stream is chosen by root: the hwrng core must get none of it,
 * whatever quality it would credit (6.2+ turns 0 into 1024, 6.1 applies
 * rng_core.default_quality) and whoever reads /dev/hwrng (rngd credits
 * what it reads by its own tests).  So a seeded device leaves the core,
 * and host mode brings it back, as the best rng again.
 */
TEST_F(hwrng, seeded_device_leaves_hwrng_core)
{
	char name[64], q[32];
	bool cur;
	ssize_t r;

	snprintf(name, sizeof(name), "edu-rng-%s", strrchr(edu_rng_dev(), '/') + 1);
	ASSERT_TRUE(hwrng_listed(name, &cur));
	ASSERT_TRUE(cur);
	ASSERT_EQ(0, seed(5));
	EXPECT_FALSE(hwrng_listed(name, &cur)) TH_LOG("seeded, still an hwrng");
	EXPECT_FALSE(cur);
	/* /dev/hwrng: another rng, or none; never the seed's stream */
	r = hwrng_read(self->buf, 4096);
	if (r > 0) {
		EXPECT_NE(NULL, match_stream(5, self->buf, r).why);
	} else {
		EXPECT_EQ(-ENODEV, r);
	}
	ASSERT_EQ(0, dev_write("mode", "host"));
	EXPECT_TRUE(hwrng_listed(name, &cur));
	EXPECT_TRUE(cur);
	ASSERT_EQ(0, read_file(HWRNG_SYSFS "/rng_quality", q, sizeof(q)));
	EXPECT_STREQ("1024", q);
	EXPECT_EQ(4096, hwrng_read(self->buf, 4096));
}

/*
 * ---- seed: bad writes, fixed and generated ----
 *
 * Every write's expected result comes from seed_oracle(), a reference
 * parser of the grammar in Documentation/ABI/testing/
 * sysfs-bus-pci-drivers-edu-rng, applied as sysfs applies a write: the
 * store method gets the first page of it, whatever the file offset.
 *
 * The corpus: the fixed cases below (in host mode, then seeded), then
 * CORPUS_TOTAL writes drawn by a splitmix64 generator from
 * CORPUS_SEED_DEFAULT (EDU_RNG_CORPUS_SEED=<n> in the environment picks
 * another; the TAP log names the one used), in the categories of
 * corpus_cats[]: random bytes (NUL, control and high bytes included),
 * strings of near-valid characters, valid inputs mutated (a byte inserted,
 * replaced or deleted, one to three times), values of 2^64 and more
 * (2^64 + k, up to 128 bits, hundreds of decimal or hex digits), signs,
 * blanks (leading, inner, trailing, CR, tab, a second newline), prefixes
 * and suffixes (0x alone, 0x0x, 0b, 0o, 0h, #, ULL...), writes of more
 * than a page, and inputs of all these written at a file offset.  A draw
 * the oracle accepts is not bad: it is drawn again.  Each write must fail
 * with the oracle's errno; meanwhile the device stays seeded with 42 and
 * /dev/edu-rngN goes on with 42's stream where it was.  Then 256 valid
 * writes, drawn alike (an eighth at an offset), and one of more than a
 * page whose first page is valid, must each give their value's stream:
 * the oracle is checked in both directions.
 */

#define SYSFS_PAGE		4096	/* sysfs gives a store at most a page */
#define CORPUS_SEED_DEFAULT	0x5eed2026c0de0001ULL
#define CORPUS_MAX		9000	/* longest generated write */
#define CORPUS_CHECK_EVERY	256	/* writes between two stream checks */
#define CORPUS_VALID		256
#define HW_CHUNK		4096	/* bytes the hwrng side takes at once */

static unsigned int xdigit_val(__u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : 16;
}

/*
 * What the driver must make of a write of @b[0..@len): the first page of
 * it, every byte of which counts:
 *
 *	seed = ( 1*DIGIT / "0" ( "x" / "X" ) 1*HEXDIG ) [ LF ]
 *
 * Decimal even with leading zeros (never octal), hex digits in either
 * case; no sign, blank, second prefix or NUL.  0 and *@val; -ERANGE when
 * the digits are worth more than 64 bits, whatever follows them (as
 * kstrtou64() has it); else -EINVAL.
 */
static int seed_oracle(const __u8 *b, size_t len, __u64 *val)
{
	unsigned __int128 v = 0, max = UINT64_MAX;
	unsigned int base = 10, d;
	size_t i = 0, first;
	bool over = false;

	if (len > SYSFS_PAGE)
		len = SYSFS_PAGE;
	if (memchr(b, '\0', len))
		return -EINVAL;
	if (len >= 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (first = i; i < len && (d = xdigit_val(b[i])) < base; i++) {
		v = v * base + d;
		if (v > max) {
			over = true;
			v = max + 1;
		}
	}
	if (i == first)
		return -EINVAL;
	if (over)
		return -ERANGE;
	if (i < len && b[i] == '\n')
		i++;
	if (i < len)
		return -EINVAL;
	*val = v;
	return 0;
}

/* splitmix64: the corpus generator, reproducible from its seed */
static __u64 rnd(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t rnd_below(__u64 *s, size_t n)
{
	return rnd(s) % n;
}

/* A value worth trying: an edge case, or random of random bit length. */
static __u64 rnd_value(__u64 *s)
{
	static const __u64 edge[] = {
		0, 1, 7, 9, 10, 42, 0xff, 0xffffffff, 1ULL << 32, INT64_MAX,
		1ULL << 63, UINT64_MAX - 1, UINT64_MAX,
	};
	unsigned int bits = rnd_below(s, 65);

	if (!rnd_below(s, 4))
		return edge[rnd_below(s, ARRAY_SIZE(edge))];
	return bits ? rnd(s) >> (64 - bits) : 0;
}

/* characters a seed might hold or nearly hold, NUL included */
static const char near_chars[] = "0123456789abcdefABCDEFxX+- \t\n\r\v\f.,_#gGoO\0";

static __u8 rnd_near(__u64 *s)
{
	return near_chars[rnd_below(s, sizeof(near_chars) - 1)];
}

/* A character for mutations: mostly a near one, else any byte. */
static __u8 rnd_char(__u64 *s)
{
	return rnd_below(s, 4) ? rnd_near(s) : (__u8)rnd(s);
}

/* @v in @base at @p, hex letters in @upper (0, 1; 2: mixed) case */
static size_t put_num(__u64 *s, __u8 *p, unsigned __int128 v,
		      unsigned int base, int upper)
{
	__u8 tmp[128];	/* 128 bits in base 2 */
	size_t n = 0, i;

	do {
		tmp[n++] = "0123456789abcdef"[(unsigned int)(v % base)];
		v /= base;
	} while (v);
	for (i = 0; i < n; i++) {
		p[i] = tmp[n - 1 - i];
		if (p[i] >= 'a' && (upper == 1 || (upper == 2 && rnd_below(s, 2))))
			p[i] -= 'a' - 'A';
	}
	return n;
}

static size_t put_zeros(__u64 *s, __u8 *p)
{
	size_t n = rnd_below(s, 4) ? 0 : 1 + rnd_below(s, rnd_below(s, 8) ? 3 : 40);

	memset(p, '0', n);
	return n;
}

/*
 * A write of @v (up to 128 bits): decimal, or hex after 0x or 0X in any
 * case, perhaps with leading zeros, perhaps with a newline.
 */
static size_t put_seed(__u64 *s, __u8 *b, unsigned __int128 v)
{
	unsigned int form = rnd_below(s, 5);
	size_t n = 0;

	if (form >= 2) {
		b[n++] = '0';
		b[n++] = rnd_below(s, 3) ? 'x' : 'X';
	}
	n += put_zeros(s, b + n);
	n += put_num(s, b + n, v, form >= 2 ? 16 : 10, form >= 2 ? form - 2 : 0);
	if (rnd_below(s, 2))
		b[n++] = '\n';
	return n;
}

static size_t insert(__u8 *b, size_t n, size_t at, const void *p, size_t len)
{
	memmove(b + at + len, b + at, n - at);
	memcpy(b + at, p, len);
	return n + len;
}

static size_t gen_random_bytes(__u64 *s, __u8 *b)
{
	size_t n = 1 + rnd_below(s, 64);

	for (size_t i = 0; i < n; i++)
		b[i] = rnd(s);
	return n;
}

static size_t gen_near_chars(__u64 *s, __u8 *b)
{
	size_t n = 1 + rnd_below(s, 32);

	for (size_t i = 0; i < n; i++)
		b[i] = rnd_near(s);
	return n;
}

static size_t gen_mutated(__u64 *s, __u8 *b)
{
	size_t n = put_seed(s, b, rnd_value(s)), at;
	__u8 c;

	for (int k = 1 + rnd_below(s, 3); k; k--) {
		at = rnd_below(s, n + 1);
		c = rnd_char(s);
		switch (rnd_below(s, 3)) {
		case 0:
			n = insert(b, n, at, &c, 1);
			break;
		case 1:
			if (at < n)
				b[at] = c;
			break;
		default:
			if (at < n && n > 1) {
				memmove(b + at, b + at + 1, n - at - 1);
				n--;
			}
		}
	}
	return n;
}

static size_t gen_overflow(__u64 *s, __u8 *b)
{
	unsigned __int128 two64 = (unsigned __int128)1 << 64, v;
	size_t n = 0, digits;
	unsigned int bits;

	switch (rnd_below(s, 4)) {
	case 0:		/* 2^64 + k, k small or any */
		v = two64 + (rnd_below(s, 2) ? rnd_below(s, 3) : rnd_value(s));
		return put_seed(s, b, v);
	case 1:		/* 65 to 128 bits */
		bits = 65 + rnd_below(s, 64);
		v = ((unsigned __int128)rnd(s) << 64 | rnd(s)) >> (128 - bits);
		v |= (unsigned __int128)1 << (bits - 1);
		return put_seed(s, b, v);
	case 2:		/* many decimal digits: 21 or more is over 2^64 */
		n = put_zeros(s, b);
		digits = 21 + rnd_below(s, rnd_below(s, 4) ? 20 : 1000);
		for (size_t i = 0; i < digits; i++)
			b[n++] = (i ? '0' : '1') + rnd_below(s, i ? 10 : 9);
		break;
	default:	/* 17 or more hex digits */
		b[n++] = '0';
		b[n++] = 'x';
		n += put_zeros(s, b + n);
		digits = 17 + rnd_below(s, rnd_below(s, 4) ? 16 : 1000);
		for (size_t i = 0; i < digits; i++)
			b[n++] = "123456789abcdefABCDEF0"[rnd_below(s, i ? 22 : 21)];
	}
	if (rnd_below(s, 2))
		b[n++] = '\n';
	/* ERANGE even with junk after the digits, as kstrtou64() */
	if (!rnd_below(s, 8))
		b[n++] = rnd_char(s);
	return n;
}

static size_t gen_signs(__u64 *s, __u8 *b)
{
	size_t n = put_seed(s, b, rnd_value(s)), at;

	for (int k = 1 + !rnd_below(s, 4); k; k--) {
		switch (rnd_below(s, 4)) {
		case 0:
		case 1:
			at = 0;
			break;
		case 2:		/* after 0x, or inside the number */
			at = n > 2 ? 2 : 1;
			break;
		default:
			at = rnd_below(s, n + 1);
		}
		n = insert(b, n, at, rnd_below(s, 2) ? "+" : "-", 1);
	}
	return n;
}

static size_t gen_blanks(__u64 *s, __u8 *b)
{
	size_t n = put_seed(s, b, rnd_value(s)), at;

	for (int k = 1 + rnd_below(s, 2); k; k--) {
		switch (rnd_below(s, 4)) {
		case 0:
			at = 0;
			break;
		case 1:
			at = n;
			break;
		case 2:		/* before the newline */
			at = b[n - 1] == '\n' ? n - 1 : n;
			break;
		default:
			at = rnd_below(s, n + 1);
		}
		n = insert(b, n, at, &" \t\n\r\v\f"[rnd_below(s, 6)], 1);
	}
	return n;
}

static size_t gen_prefixes(__u64 *s, __u8 *b)
{
	static const char *const pre[] = {
		"", "0x", "0X", "0x0x", "0X0x", "0x0X", "0xx", "0Xx", "x", "X",
		"0b", "0B", "0o", "0O", "0h", "0d", "0t", "#", "$", "\\x", "00x",
		"0 x", "x0", "0x_", "0x.", "&h", "0\\x", "0x0x0x", "0x-", "0x+",
	};
	static const char *const suf[] = {
		"", "h", "H", "b", "o", "u", "U", "L", "ULL", "e5", ".0", "_0",
		",000", "k", "K", "M", "x", "0x", "g",
	};
	const char *p = pre[rnd_below(s, ARRAY_SIZE(pre))];
	const char *q = suf[rnd_below(s, ARRAY_SIZE(suf))];
	size_t n = strlen(p);

	memcpy(b, p, n);
	switch (rnd_below(s, 4)) {
	case 0:		/* the prefix alone */
		break;
	case 1:		/* binary or octal digits */
		n += put_num(s, b + n, rnd_value(s), rnd_below(s, 2) ? 2 : 8, 0);
		break;
	default:
		n += put_num(s, b + n, rnd_value(s), rnd_below(s, 2) ? 10 : 16,
			     rnd_below(s, 3));
	}
	memcpy(b + n, q, strlen(q));
	n += strlen(q);
	if (rnd_below(s, 2))
		b[n++] = '\n';
	return n;
}

/* More than a page: what counts is the first page, which must be bad. */
static size_t gen_long(__u64 *s, __u8 *b)
{
	static const char blanks[] = { ' ', '\n', '\t' };
	size_t n = SYSFS_PAGE + 1 + rnd_below(s, CORPUS_MAX - SYSFS_PAGE), at;

	switch (rnd_below(s, 5)) {
	case 0:
		for (size_t i = 0; i < n; i++)
			b[i] = rnd(s);
		break;
	case 1:		/* a page of digits: ERANGE */
		for (size_t i = 0; i < n; i++)
			b[i] = '0' + (i ? rnd_below(s, 10) : 1 + rnd_below(s, 9));
		break;
	case 2:		/* zeros, one bad byte somewhere in the first page */
		memset(b, '0', n);
		b[rnd_below(s, SYSFS_PAGE)] = rnd_char(s);
		break;
	case 3:		/* a seed, then more in the first page */
		at = put_seed(s, b, rnd_value(s));
		memset(b + at, rnd_below(s, 2) ? '\n' : ' ', n - at);
		break;
	default:	/* blanks */
		memset(b, blanks[rnd_below(s, 3)], n);
	}
	return n;
}

typedef size_t (*corpus_gen)(__u64 *s, __u8 *b);

static const struct corpus_cat {
	const char *name;
	unsigned int count;
	corpus_gen gen;		/* NULL: any of the others, at an offset */
} corpus_cats[] = {
	{ "random-bytes", 400, gen_random_bytes },
	{ "near-chars", 600, gen_near_chars },
	{ "mutated", 800, gen_mutated },
	{ "overflow", 400, gen_overflow },
	{ "signs", 300, gen_signs },
	{ "blanks", 400, gen_blanks },
	{ "prefixes", 400, gen_prefixes },
	{ "long", 64, gen_long },
	{ "at-offset", 300, NULL },
};

#define CORPUS_TOTAL	3664U	/* the sum of the counts above */

/* @b as C-like text, the first 240 characters or so */
static const char *show(const __u8 *b, size_t len)
{
	static char out[320];
	size_t o = 0;

	for (size_t i = 0; i < len && o < 240; i++) {
		if (b[i] >= ' ' && b[i] < 0x7f && b[i] != '\\')
			out[o++] = b[i];
		else
			o += sprintf(out + o, "\\x%02x", b[i]);
	}
	snprintf(out + o, sizeof(out) - o, "%s (%zu bytes)",
		 o >= 240 ? "..." : "", len);
	return out;
}

/* 0 or -errno: one write(), at @off unless it is negative */
static ssize_t seed_write(int fd, const __u8 *b, size_t len, off_t off)
{
	ssize_t r = off < 0 ? write(fd, b, len) : pwrite(fd, b, len, off);

	return r < 0 ? -errno : r;
}

static void dev_read_attr(const char *attr, char *buf, size_t size)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", edu_rng_dev(), attr);
	if (read_file(p, buf, size))
		snprintf(buf, size, "(unreadable)");
}

/* The stream of /dev/edu-rngN, to be @e from offset @last on. */
struct stream_check {
	const __u8 *e;
	size_t elen, last, skipped;
	unsigned int gaps;
};

/*
 * The next @n bytes of the stream: exactly where we were, or after a gap
 * of at most one hwrng-side chunk (the hwrng kthread may take one).  A
 * repeat (the stream started again) or a foreign byte is not.
 */
static bool stream_goes_on(struct stream_check *c, const __u8 *buf,
			   size_t n)
{
	size_t span = c->elen - c->last;
	__u8 *hit;

	if (span > HW_CHUNK + n)
		span = HW_CHUNK + n;
	hit = memmem(c->e + c->last, span, buf, n);
	if (!hit)
		return false;
	if (hit != c->e + c->last) {
		c->gaps++;
		c->skipped += hit - (c->e + c->last);
	}
	c->last = hit - c->e + n;
	return true;
}

static const struct {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	int err;
} bad_seeds[] = {
	{ "\0", 1, EINVAL }, { "\n", 0, EINVAL }, { "abc", 0, EINVAL },
	{ "-1", 0, EINVAL }, { "+5", 0, EINVAL }, { " 5", 0, EINVAL },
	{ "5 ", 0, EINVAL }, { "1 2", 0, EINVAL }, { "0x", 0, EINVAL },
	{ "0x\n", 0, EINVAL }, { "0x1g", 0, EINVAL }, { "12abc", 0, EINVAL },
	{ "0x-1", 0, EINVAL }, { "1.5", 0, EINVAL }, { "5\n\n", 0, EINVAL },
	{ "18446744073709551616", 0, ERANGE },
	{ "99999999999999999999999", 0, ERANGE },
	{ "0x10000000000000000", 0, ERANGE },
	/* kstrtou64() in base 16 would skip a second 0x */
	{ "0x0x5", 0, EINVAL }, { "0X0x2a\n", 0, EINVAL },
	/* what follows a NUL is written too */
	{ "5\0junk", 6, EINVAL }, { "42\0", 3, EINVAL }, { "\0\n", 2, EINVAL },
	{ "0x+5", 0, EINVAL }, { "0b101", 0, EINVAL }, { "0o17", 0, EINVAL },
	{ "5\r\n", 0, EINVAL }, { "\n5", 0, EINVAL }, { "0x 5", 0, EINVAL },
	{ "99999999999999999999999x", 0, ERANGE },
};

/* The fixed cases, with the oracle's word on each; 0 or failures. */
static int bad_seeds_fixed(struct __test_metadata *_metadata, int sfd)
{
	int fails = 0;

	for (size_t i = 0; i < ARRAY_SIZE(bad_seeds); i++) {
		const __u8 *in = (const __u8 *)bad_seeds[i].in;
		size_t len = bad_seeds[i].len ?: strlen(bad_seeds[i].in);
		__u64 v;
		ssize_t r;

		EXPECT_EQ(-bad_seeds[i].err, seed_oracle(in, len, &v))
			TH_LOG("oracle on %s", show(in, len));
		r = seed_write(sfd, in, len, -1);
		EXPECT_EQ(-bad_seeds[i].err, r) TH_LOG("%s", show(in, len));
		fails += r != -bad_seeds[i].err;
	}
	/* a write of nothing never reaches the driver */
	EXPECT_EQ(0, seed_write(sfd, (const __u8 *)"", 0, -1));
	return fails;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static __u64 corpus_seed(void)
{
	const char *env = getenv("EDU_RNG_CORPUS_SEED");

	return env ? strtoull(env, NULL, 0) : CORPUS_SEED_DEFAULT;
}

TEST_F_TIMEOUT(hwrng, bad_seeds_rejected_and_change_nothing, 300)
{
	const size_t elen = 256 << 10;
	unsigned int total = 0, fails = 0, valid = 0, einval, erange, redrawn;
	struct stream_check c = { .elen = elen };
	__u64 s = corpus_seed(), v;
	char p[PATH_MAX], mode[32], q0[32], q[32];
	double t0 = now(), t1;
	__u8 *b = malloc(CORPUS_MAX + 64), *e = malloc(elen), *hit;
	int sfd, fd = -1;
	EduRngGen g;
	ssize_t r;
	off_t off;
	size_t n;

	ASSERT_NE(NULL, b);
	ASSERT_NE(NULL, e);
	TH_LOG("corpus seed %#llx (EDU_RNG_CORPUS_SEED=n for another)",
	       (unsigned long long)s);
	snprintf(p, sizeof(p), "%s/seed", edu_rng_dev());
	sfd = open(p, O_WRONLY);
	ASSERT_LE(0, sfd);

	/* host mode: it stays, with its quality */
	dev_read_attr("mode", mode, sizeof(mode));
	ASSERT_STREQ("host", mode);
	ASSERT_EQ(0, read_file(HWRNG_SYSFS "/rng_quality", q0, sizeof(q0)));
	EXPECT_EQ(0, bad_seeds_fixed(_metadata, sfd));
	dev_read_attr("mode", mode, sizeof(mode));
	EXPECT_STREQ("host", mode);
	ASSERT_EQ(0, read_file(HWRNG_SYSFS "/rng_quality", q, sizeof(q)));
	EXPECT_STREQ(q0, q);

	/* seeded with 42, then K = 4096 bytes read from /dev/edu-rngN */
	edu_rng_gen_seed(&g, 42);
	edu_rng_gen_fill(&g, e, elen);
	c.e = e;
	ASSERT_EQ(0, seed(42));
	fd = open(edu_rng_node(), O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(4096, read(fd, self->buf, 4096));
	hit = memmem(e, 8192, self->buf, 4096);
	ASSERT_EQ(e, hit) TH_LOG("seed 42: not its stream from its first byte");
	c.last = hit - e + 4096;
	EXPECT_EQ(0, bad_seeds_fixed(_metadata, sfd));

	for (size_t k = 0; k < ARRAY_SIZE(corpus_cats); k++) {
		const struct corpus_cat *cat = &corpus_cats[k];

		einval = 0;
		erange = 0;
		redrawn = 0;
		for (unsigned int i = 0; i < cat->count; i++) {
			int want, tries = 0;

			/* a bad one: the oracle says which */
			do {
				corpus_gen gen = cat->gen;

				ASSERT_GT(1000, tries++);
				if (!gen)
					gen = corpus_cats[rnd_below(&s, k)].gen;
				n = gen(&s, b);
				off = cat->gen ? -1 : (off_t)rnd_below(&s, 1 << 20) + 1;
				want = seed_oracle(b, n, &v);
				redrawn += !want;
			} while (!want);
			einval += want == -EINVAL;
			erange += want == -ERANGE;
			r = seed_write(sfd, b, n, off);
			if (r != want && fails++ < 20)
				TH_LOG("%s #%u: %s at %lld: %zd, not %d", cat->name,
				       i, show(b, n), (long long)off, r, want);
			/* now and then: still seeded, 42's stream goes on */
			if (++total % CORPUS_CHECK_EVERY)
				continue;
			ASSERT_EQ(64, read(fd, self->buf, 64));
			ASSERT_TRUE(stream_goes_on(&c, self->buf, 64))
				TH_LOG("stream of 42 broken by %s #%u or before",
				       cat->name, i);
			dev_read_attr("mode", mode, sizeof(mode));
			ASSERT_STREQ("seeded", mode);
		}
		TH_LOG("corpus %-12s %4u writes: %4u EINVAL, %3u ERANGE (%u valid draws redrawn)",
		       cat->name, cat->count, einval, erange, redrawn);
	}
	EXPECT_EQ(0U, fails);
	EXPECT_EQ(CORPUS_TOTAL, total);
	ASSERT_EQ(4096, read(fd, self->buf, 4096));
	EXPECT_TRUE(stream_goes_on(&c, self->buf, 4096))
		TH_LOG("stream of 42 broken by the corpus");
	dev_read_attr("mode", mode, sizeof(mode));
	EXPECT_STREQ("seeded", mode);
	t1 = now();
	TH_LOG("%u bad writes, %u failed, in %.1f s", total, fails, t1 - t0);
	TH_LOG("42's stream went on to byte %zu, %u gaps (%zu bytes)",
	       c.last, c.gaps, c.skipped);
	EXPECT_EQ(0U, c.gaps);

	/* the other way: valid writes give their value's stream */
	for (unsigned int i = 0; i <= CORPUS_VALID; i++) {
		__u64 want = rnd_value(&s);

		if (i < CORPUS_VALID) {
			n = put_seed(&s, b, want);
			off = rnd_below(&s, 8) ? -1 : (off_t)rnd_below(&s, 1 << 20) + 1;
		} else {
			/* sysfs takes the first page of a longer write */
			want = 7;
			n = SYSFS_PAGE + 100;
			memset(b, '0', n);
			b[SYSFS_PAGE - 1] = '7';
			b[SYSFS_PAGE] = 'z';
			off = -1;
		}
		ASSERT_EQ(0, seed_oracle(b, n, &v)) TH_LOG("%s", show(b, n));
		ASSERT_EQ(want, v) TH_LOG("oracle: %s", show(b, n));
		r = seed_write(sfd, b, n, off);
		ASSERT_EQ((ssize_t)(n < SYSFS_PAGE ? n : SYSFS_PAGE), r)
			TH_LOG("%s at %lld", show(b, n), (long long)off);
		ASSERT_EQ(64, read(fd, self->buf, 64));
		edu_rng_gen_seed(&g, want);
		edu_rng_gen_fill(&g, e, 64);
		EXPECT_EQ(0, memcmp(e, self->buf, 64))
			TH_LOG("%s: not the stream of %llu from its start",
			       show(b, n), (unsigned long long)want);
		valid++;
	}
	TH_LOG("%u valid writes took effect, in %.1f s", valid, now() - t1);
	close(fd);
	close(sfd);
	free(b);
	free(e);
}

/* Interrupts taken by the device, from /proc/interrupts; -1 if none. */
static long long irq_count(const char *name, bool *msi)
{
	char line[1024];
	long long total = -1;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!p || !strstr(line, name))
			continue;
		if (msi)
			*msi = strstr(line, "MSI");
		total = 0;
		for (char *end; ; p = end) {
			long long v = strtoll(p + 1, &end, 10);

			if (end == p + 1)
				break;
			total += v;
		}
	}
	fclose(f);
	return total;
}

/*
 * The harness says which interrupt mode to expect with edu.irq=msi|intx on
 * the kernel command line; transfers must complete by interrupt in both.
 */
TEST_F(hwrng, interrupt_mode)
{
	char cmdline[1024], name[64];
	const char *want, *bdf = strrchr(edu_rng_dev(), '/') + 1;
	long long before, after;
	bool msi = false;

	ASSERT_EQ(0, read_file("/proc/cmdline", cmdline, sizeof(cmdline)));
	want = strstr(cmdline, "edu.irq=");
	if (!want)
		SKIP(return, "no edu.irq= on the kernel command line");
	snprintf(name, sizeof(name), "edu-rng-%s", bdf);
	before = irq_count(name, &msi);
	EXPECT_EQ(!strncmp(want + 8, "msi", 3), msi);
	ASSERT_LE(0, before) TH_LOG("%s not in /proc/interrupts", name);
	ASSERT_EQ(1 << 20, hwrng_read(self->buf, 1 << 20));
	ASSERT_EQ(1 << 20, hwrng_read(self->buf, 1 << 20));
	after = irq_count(name, NULL);
	/*
	 * One per transfer: at most one per 16 KiB; and at least one per
	 * DRIVER_BUF_MAX (the device's default DMA_MAX is larger) of what
	 * the ring, full at most when we began, could not have held.
	 */
	TH_LOG("%lld interrupts for 2 MiB", after - before);
	EXPECT_GE(128, after - before);
	EXPECT_LE((2 << 20) / DRIVER_BUF_MAX - RING_BUFS, after - before);
}

/* With intel_iommu=on the device's DMA must go through a translating domain. */
TEST_F(hwrng, dma_through_iommu)
{
	char cmdline[1024], p[PATH_MAX], type[32];
	ssize_t n;

	ASSERT_EQ(0, read_file("/proc/cmdline", cmdline, sizeof(cmdline)));
	if (!strstr(cmdline, "intel_iommu=on"))
		SKIP(return, "no intel_iommu=on on the kernel command line");
	snprintf(p, sizeof(p), "%s/iommu_group/type", edu_rng_dev());
	ASSERT_EQ(0, read_file(p, type, sizeof(type)))
		TH_LOG("device has no IOMMU group");
	EXPECT_EQ(0, strncmp(type, "DMA", 3)) TH_LOG("domain type %s", type);
	/* and the data still arrives: a seeded read through the IOMMU */
	ASSERT_EQ(0, seed(3));
	n = direct_read(self->buf, 65536);
	ASSERT_EQ(65536, n);
	EXPECT_EXACT(match_stream(3, self->buf, 65536));
}

static int cmp64(const void *a, const void *b)
{
	return memcmp(a, b, 64);
}

TEST_F(hwrng, statistics_1mib)
{
	const size_t n = 1 << 20;
	unsigned long long ones = 0;
	double sigma = 0.5 * __builtin_sqrt(8.0 * n), dev;

	ASSERT_EQ((ssize_t)n, hwrng_read(self->buf, n));
	for (size_t i = 0; i < n; i++)
		ones += __builtin_popcount(self->buf[i]);
	dev = (double)ones - 4.0 * n;
	/* 6 sigma: a fair source fails once in 10^9 runs */
	EXPECT_GT(6 * sigma, dev < 0 ? -dev : dev)
		TH_LOG("%llu ones in %zu bits", ones, 8 * n);
	qsort(self->buf, n / 64, 64, cmp64);
	for (size_t i = 64; i < n; i += 64)
		ASSERT_NE(0, memcmp(self->buf + i - 64, self->buf + i, 64))
			TH_LOG("repeated 64-byte block");
}

/*
 * Each read returns data or EAGAIN, and data comes.  The teardown before
 * this test emptied the ring (mode = host), so the first reads may find
 * nothing until a transfer completes: that takes the device's thread in
 * QEMU, which on a loaded host may wait longer than a thousand reads take
 * (under a millisecond).  So the bound is time, 10 s, not a count.
 */
TEST_F(hwrng, nonblocking_read)
{
	int fd = open("/dev/hwrng", O_RDONLY | O_NONBLOCK);
	int got = 0, again = 0;
	double end = now() + 10;

	ASSERT_LE(0, fd);
	while (got < 100 && now() < end) {
		ssize_t r = read(fd, self->buf, 64);

		if (r > 0) {
			ASSERT_GE(64, r);
			got++;
		} else {
			ASSERT_EQ(-1, r);
			ASSERT_EQ(EAGAIN, errno);
			again++;
		}
	}
	close(fd);
	EXPECT_EQ(100, got) TH_LOG("%d reads with data, %d EAGAIN", got, again);
}


/* ---- /dev/edu-rngN: the direct path and the lab ioctls ---- */

static_assert(EDU_RNG_IOCTL_RAND == 0x80047101, "lab's RAND number");
static_assert(EDU_RNG_IOCTL_SEED == 0x40047101, "lab's SEED number");

/* The /dev node of the device edu_rng_dev() names. */
static const char *edu_rng_node(void)
{
	static char node[300];
	char p[PATH_MAX];
	struct dirent *e;
	DIR *dir;

	snprintf(p, sizeof(p), "%s/misc", edu_rng_dev());
	dir = opendir(p);
	if (!dir)
		return NULL;
	while ((e = readdir(dir)))
		if (!strncmp(e->d_name, "edu-rng", 7))
			snprintf(node, sizeof(node), "/dev/%s", e->d_name);
	closedir(dir);
	return node[0] ? node : NULL;
}

FIXTURE(direct) {
	uint8_t *buf;
	int fd;
};

FIXTURE_SETUP(direct)
{
	const char *node = edu_rng_node();

	ASSERT_NE(NULL, node) TH_LOG("no /dev/edu-rngN for the device");
	self->fd = open(node, O_RDONLY);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", node, strerror(errno));
	self->buf = malloc(4 << 20);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(direct)
{
	dev_write("mode", "host");
	close(self->fd);
	free(self->buf);
}

TEST_F(direct, node_readable_by_all)
{
	struct stat st;

	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0444U, st.st_mode & 0777);
}

TEST_F(direct, read_sizes_exact)
{
	static const size_t sizes[] = {
		1, 3, 64, 4095, 65535, 65536, 65537, 200000, 1 << 20, 3 << 20,
	};

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		ssize_t r = read(self->fd, self->buf, sizes[k]);

		EXPECT_EQ((ssize_t)sizes[k], r) TH_LOG("read of %zu bytes", sizes[k]);
	}
}

/* Odd read sizes, across buffer boundaries: the stream, in order. */
TEST_F(direct, seeded_stream_exact)
{
	const size_t n = 1 << 20;
	size_t got = 0, piece = 64;	/* a gap falls between reads, not in the first */
	struct match m;

	ASSERT_EQ(0, seed(12345));
	while (got < n) {
		size_t want = n - got < piece ? n - got : piece;

		ASSERT_EQ((ssize_t)want, read(self->fd, self->buf + got, want));
		got += want;
		piece = piece * 7 % 70001 + 1;
	}
	m = match_stream(12345, self->buf, n);
	EXPECT_EXACT(m);
}

/*
 * After every seed the first bytes read are the seed's first bytes,
 * through read() and through the lab's RAND alike, while a reader of
 * /dev/hwrng runs and the kernel's hwrng thread does what it does.
 */
TEST_F(direct, seed_first_bytes_are_stream_start)
{
	uint8_t e[64];
	uint32_t v;
	EduRngGen g;
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* until killed (or this test ends, however); ENODEV while no rng is left */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			hwrng_read(e, sizeof(e));
	}
	for (unsigned long long s = 1000; s < 1016; s++) {
		ASSERT_EQ(0, seed(s));
		edu_rng_gen_seed(&g, s);
		edu_rng_gen_fill(&g, e, sizeof(e));
		if (s % 2) {
			ASSERT_EQ(0, ioctl(self->fd, EDU_RNG_IOCTL_RAND, &v));
			EXPECT_EQ(0, memcmp(&v, e, 4)) TH_LOG("seed %llu: RAND", s);
		} else {
			ASSERT_EQ(64, read(self->fd, self->buf, 64));
			EXPECT_EQ(0, memcmp(self->buf, e, 64)) TH_LOG("seed %llu", s);
		}
		/* and back: host mode in between must not matter */
		if (s % 4 == 3)
			ASSERT_EQ(0, dev_write("mode", "host"));
	}
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
}

/* Does any 8-byte window of @a[0..an) stand in @b[0..bn)? */
static bool share_bytes(const uint8_t *a, size_t an, const uint8_t *b,
			size_t bn)
{
	for (size_t i = 0; i + 8 <= an; i += 8)
		if (memmem(b, bn, a + i, 8))
			return true;
	return false;
}

/*
 * The hwrng side reads its 4 KiB chunk in place, in a ring buffer.  When
 * the ring needs that buffer back, the chunk is kept aside: /dev/hwrng
 * goes on with it, and the device's new bytes in that buffer go to the
 * direct path only.  No byte reaches both.
 */
TEST_F(direct, hwrng_chunk_kept_when_ring_needs_it)
{
	const size_t n = 2 << 20, hw_n = 64 + 1024;
	uint8_t hw[64 + 1024];

	ASSERT_EQ(64, hwrng_read(hw, 64));
	/* round the whole ring, twice: its buffers are all refilled */
	ASSERT_EQ((ssize_t)n, read(self->fd, self->buf, n));
	ASSERT_EQ(1024, hwrng_read(hw + 64, 1024));
	EXPECT_FALSE(share_bytes(hw, hw_n, self->buf, n))
		TH_LOG("bytes of /dev/hwrng also read from /dev/edu-rngN");
}

TEST_F(direct, zero_length_read)
{
	int nb = open(edu_rng_node(), O_RDONLY | O_NONBLOCK);

	ASSERT_LE(0, nb);
	EXPECT_EQ(0, read(self->fd, self->buf, 0));
	EXPECT_EQ(0, read(nb, self->buf, 0));
	close(nb);
}

/*
 * A read whose buffer faults part-way gets what was copied, and those
 * bytes are gone: the next reader gets the stream after them, not them
 * again.  A read that can copy nothing fails with EFAULT and takes
 * nothing.
 */
TEST_F(direct, partial_fault_consumes_copied)
{
	const size_t pg = sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *e = malloc(pg + 64);
	EduRngGen g;

	ASSERT_NE(MAP_FAILED, m);
	ASSERT_NE(NULL, e);
	ASSERT_EQ(0, munmap(m + pg, pg));
	ASSERT_EQ(0, seed(99));
	edu_rng_gen_seed(&g, 99);
	edu_rng_gen_fill(&g, e, pg + 64);
	EXPECT_EQ((ssize_t)pg, read(self->fd, m, 2 * pg));
	EXPECT_EQ(0, memcmp(m, e, pg));
	EXPECT_EQ(-1, read(self->fd, m + pg, 64));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(64, read(self->fd, self->buf, 64));
	EXPECT_EQ(0, memcmp(self->buf, e + pg, 64))
		TH_LOG("the next read did not go on after the copied bytes");
	munmap(m, pg);
	free(e);
}

/*
 * A 1 GiB read into a 4 MiB buffer with nothing mapped after it: the
 * 4 MiB, a short count, and the next read goes on after them.
 */
TEST_F_TIMEOUT(direct, huge_read_short_count, 120)
{
	const size_t big = 1UL << 30, have = 4 << 20;
	uint8_t *m = mmap(NULL, big, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct match mt;
	uint8_t e[64];
	EduRngGen g;

	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, mprotect(m, have, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, seed(7777));
	EXPECT_EQ((ssize_t)have, read(self->fd, m, big));
	mt = match_stream(7777, m, have);
	EXPECT_EXACT(mt);
	/* the next 64 bytes: the stream right after */
	ASSERT_EQ(64, read(self->fd, self->buf, 64));
	edu_rng_gen_seed(&g, 7777);
	edu_rng_gen_skip(&g, have);
	edu_rng_gen_fill(&g, e, sizeof(e));
	EXPECT_EQ(0, memcmp(self->buf, e, sizeof(e)));
	munmap(m, big);
}

/* Thousands of open files, each read, then all failing cleanly unbound. */
TEST_F_TIMEOUT(direct, thousands_of_opens, 120)
{
	const int n = 4000;
	struct rlimit rl = { n + 64, n + 64 };
	int *fds = calloc(n, sizeof(*fds)), ok = 0, enodev = 0;
	/* found once: a lookup per open is a sysfs walk, slow on a debug kernel */
	const char *node = edu_rng_node();
	uint8_t b[16];

	ASSERT_NE(NULL, fds);
	ASSERT_NE(NULL, node);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	for (int i = 0; i < n; i++) {
		fds[i] = open(node, O_RDONLY);
		ASSERT_LE(0, fds[i]) TH_LOG("open #%d: %s", i, strerror(errno));
	}
	for (int i = 0; i < n; i++)
		ok += read(fds[i], b, sizeof(b)) == sizeof(b);
	EXPECT_EQ(n, ok);
	ASSERT_EQ(0, driver_attach(false));
	for (int i = 0; i < n; i++)
		enodev += read(fds[i], b, sizeof(b)) == -1 && errno == ENODEV;
	ASSERT_EQ(0, driver_attach(true));
	EXPECT_EQ(n, enodev);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	close(self->fd);
	self->fd = open(edu_rng_node(), O_RDONLY);
	ASSERT_LE(0, self->fd);
}

struct stalled_read {
	int fd;
	void *buf;
	size_t len;
	ssize_t ret;
	int err;
};

static void *stalled_reader(void *arg)
{
	struct stalled_read *r = arg;

	r->ret = read(r->fd, r->buf, r->len);
	r->err = errno;
	return NULL;
}

/*
 * Run @op in a child: 0 when it succeeded within @ms, -ETIMEDOUT (the
 * child is left in *@late, to reap), -EIO when it failed.
 */
static int run_within(int (*op)(void), int ms, pid_t *late)
{
	pid_t pid = fork();
	struct pollfd p = { .events = POLLIN };
	int status, ready;

	if (pid < 0)
		return -errno;
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(op() ? 1 : 0);
	}
	p.fd = syscall(SYS_pidfd_open, pid, 0);
	if (p.fd < 0)
		return -errno;
	ready = poll(&p, 1, ms);
	close(p.fd);
	if (ready != 1) {
		*late = pid;
		return -ETIMEDOUT;
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

static int op_hwrng(void)
{
	static uint8_t b[65536];

	return hwrng_read(b, sizeof(b)) == sizeof(b) ? 0 : -1;
}

/* after POLLIN a non-blocking read has data: no EAGAIN for a busy lock */
static int op_poll_nonblock(void)
{
	static uint8_t b[4096];
	struct pollfd p = { .events = POLLIN };

	p.fd = open(edu_rng_node(), O_RDONLY | O_NONBLOCK);
	if (p.fd < 0 || poll(&p, 1, 5000) != 1)
		return -1;
	return read(p.fd, b, sizeof(b)) > 0 ? 0 : -1;
}

static int op_seed(void)
{
	return seed(4242);
}

/* the stalled reader took nothing: the seed's stream from its start */
static int op_direct(void)
{
	static uint8_t b[65536], e[65536];
	EduRngGen g;

	edu_rng_gen_seed(&g, 4242);
	edu_rng_gen_fill(&g, e, sizeof(e));
	return direct_read(b, sizeof(b)) == sizeof(b) &&
	       !memcmp(b, e, sizeof(b)) ? 0 : -1;
}

static int op_host(void)
{
	return dev_write("mode", "host");
}

static int op_rebind(void)
{
	return driver_attach(false) || driver_attach(true) ? -1 : 0;
}

/*
 * A reader whose buffer faults slowly (a userfaultfd that holds the
 * fault) holds up nobody: /dev/hwrng, poll() and a non-blocking read,
 * seeding, another reader and unbinding all complete while the fault is
 * held.  Once it is resolved the stalled read ends (ENODEV: its device
 * was unbound meanwhile).
 */
TEST_F_TIMEOUT(direct, user_fault_stalls_nobody, 120)
{
	static const struct {
		const char *what;
		int (*op)(void);
	} ops[] = {
		{ "read /dev/hwrng", op_hwrng },
		{ "poll, then a non-blocking read", op_poll_nonblock },
		{ "seed", op_seed },
		{ "read the seed's stream", op_direct },
		{ "host mode", op_host },
		{ "unbind and bind", op_rebind },
	};
	const size_t pg = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_zeropage zero = { 0 };
	struct stalled_read r = { .fd = self->fd, .len = 2 * pg };
	struct uffd_msg msg;
	pid_t late[ARRAY_SIZE(ops)] = { 0 };
	pthread_t t;
	int uffd;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	r.buf = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r.buf);
	reg.range.start = (unsigned long)r.buf;
	reg.range.len = 2 * pg;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));
	ASSERT_EQ(0, pthread_create(&t, NULL, stalled_reader, &r));
	/* the reader's fault is held from here on */
	ASSERT_EQ((ssize_t)sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		int ret = run_within(ops[i].op, 10000, &late[i]);

		EXPECT_EQ(0, ret) TH_LOG("%s, while a reader's fault is held",
					 ops[i].what);
	}

	zero.range.start = (unsigned long)r.buf;
	zero.range.len = 2 * pg;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_ZEROPAGE, &zero));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(-1, r.ret);
	EXPECT_EQ(ENODEV, r.err);
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		if (late[i])
			waitpid(late[i], NULL, 0);
	close(uffd);
	munmap(r.buf, 2 * pg);
	/* the fixture's descriptor is the unbound device's */
	close(self->fd);
	self->fd = open(edu_rng_node(), O_RDONLY);
	ASSERT_LE(0, self->fd);
}

TEST_F(direct, lab_ioctls)
{
	uint32_t v[256], want[2], bad = 0;
	size_t ps = sysconf(_SC_PAGESIZE);
	struct match m;
	uint8_t *p;
	EduRngGen g;

	v[0] = 42;
	ASSERT_EQ(0, ioctl(self->fd, EDU_RNG_IOCTL_SEED, &v[0]));
	for (int i = 0; i < 256; i++)
		ASSERT_EQ(0, ioctl(self->fd, EDU_RNG_IOCTL_RAND, &v[i]));
	/* the x86 guest is little endian, as the device's RANDOM register */
	m = match_stream(42, (uint8_t *)v, sizeof(v));
	EXPECT_EXACT(m);
	edu_rng_gen_seed(&g, 42);
	edu_rng_gen_skip(&g, sizeof(v));
	edu_rng_gen_fill(&g, want, sizeof(want));
	/* a bad pointer takes nothing from the stream (it took 4 bytes) */
	EXPECT_EQ(-1, ioctl(self->fd, EDU_RNG_IOCTL_RAND, NULL));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, ioctl(self->fd, EDU_RNG_IOCTL_RAND, &v[0]));
	EXPECT_EQ(want[0], v[0]);
	/* half in a page that is not there: nothing written, nothing taken */
	p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + ps, ps, PROT_NONE));
	p[ps - 2] = ~want[1];
	p[ps - 1] = ~want[1] >> 8;
	EXPECT_EQ(-1, ioctl(self->fd, EDU_RNG_IOCTL_RAND, p + ps - 2));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ((uint8_t)~want[1], p[ps - 2]);
	EXPECT_EQ((uint8_t)(~want[1] >> 8), p[ps - 1]);
	munmap(p, 2 * ps);
	ASSERT_EQ(0, ioctl(self->fd, EDU_RNG_IOCTL_RAND, &v[1]));
	EXPECT_EQ(want[1], v[1]);
	EXPECT_EQ(-1, ioctl(self->fd, EDU_RNG_IOCTL_SEED, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOR('q', 2, uint32_t), &bad));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(direct, seed_needs_cap_sys_admin)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid) {
		uint32_t v = 1;
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		fd = open(edu_rng_node(), O_RDONLY);
		if (fd < 0)
			_exit(11);
		if (ioctl(fd, EDU_RNG_IOCTL_SEED, &v) != -1 || errno != EPERM)
			_exit(12);
		if (ioctl(fd, EDU_RNG_IOCTL_RAND, &v) || read(fd, &v, 4) != 4)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("status %#x: exit 10 setuid, 11 open, 12 SEED not EPERM, 13 RAND/read",
		       status);
}

TEST_F(direct, nonblocking_and_poll)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	int flags = fcntl(self->fd, F_GETFL);
	int got = 0;

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags | O_NONBLOCK));
	for (int i = 0; i < 200; i++) {
		ssize_t r = read(self->fd, self->buf, 100000);

		if (r < 0) {
			ASSERT_EQ(EAGAIN, errno);
			/* not ready: poll must say when */
			ASSERT_EQ(1, poll(&pfd, 1, 5000));
			ASSERT_TRUE(pfd.revents & POLLIN);
		} else {
			ASSERT_LT(0, r);
			got++;
		}
	}
	EXPECT_LT(0, got);
}

/*
 * An index of a seed's stream by 8-byte windows, to find where any piece
 * of at least 8 bytes comes from.
 */
struct stream_index {
	uint8_t *e;
	size_t elen;
	uint64_t (*idx)[2];
};

static int cmp_u64pos(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static int stream_index_init(struct stream_index *si, unsigned long long s,
			     size_t elen)
{
	EduRngGen g;

	si->elen = elen;
	si->e = malloc(elen);
	si->idx = malloc((elen - 7) * sizeof(*si->idx));
	if (!si->e || !si->idx)
		return -1;
	edu_rng_gen_seed(&g, s);
	edu_rng_gen_fill(&g, si->e, elen);
	for (size_t i = 0; i + 8 <= elen; i++) {
		memcpy(&si->idx[i][0], si->e + i, 8);
		si->idx[i][1] = i;
	}
	qsort(si->idx, elen - 7, sizeof(*si->idx), cmp_u64pos);
	return 0;
}

static void stream_index_free(struct stream_index *si)
{
	free(si->e);
	free(si->idx);
}

/* The stream offset of @p[0..len), or -1 if it is not a piece of it. */
static ssize_t stream_offset(const struct stream_index *si, const uint8_t *p,
			     size_t len)
{
	uint64_t key[2] = { 0, 0 }, (*hit)[2];
	size_t off;

	if (len < 8)
		return -1;
	memcpy(&key[0], p, 8);
	hit = bsearch(key, si->idx, si->elen - 7, sizeof(*si->idx), cmp_u64pos);
	if (!hit)
		return -1;
	off = (*hit)[1];
	if (off + len > si->elen || memcmp(p, si->e + off, len))
		return -1;
	return off;
}

/*
 * How @readers reads (@lens[r * 8192 + k] bytes each, into @buf + r * @per)
 * split into pieces of @si's stream; with @owner, each stream byte is
 * claimed by one reader. A read that waited for a transfer may hold
 * several pieces: others read while it slept. Splitting by byte matching
 * alone can run a piece on into the next one when that one's first bytes
 * equal the stream there by chance, so a piece also ends where any piece
 * of any reader was seen to start (@starts, from a first pass with no
 * @owner; it only marks starts, and gives up on a read it cannot split).
 * Two readers holding the same bytes still meet: one piece's start lies
 * inside, or at, the other's.
 */
static ssize_t match_pieces(struct __test_metadata *_metadata,
			    const struct stream_index *si, const uint8_t *buf,
			    const uint32_t *lens, int readers, size_t per,
			    uint8_t *starts, uint8_t *owner, size_t *pieces)
{
	ssize_t covered = 0;

	*pieces = 0;
	for (int r = 0; r < readers; r++) {
		const uint8_t *p = buf + (size_t)r * per;
		const uint32_t *l = lens + r * 8192;
		size_t last = 0;

		for (int k = 0; l[k] && p < buf + (size_t)(r + 1) * per; k++) {
			for (size_t i = 0; i < l[k];) {
				ssize_t off = stream_offset(si, p + i, 8);
				size_t run = 0;

				if (l[k] - i < 8 && !memcmp(p + i, si->e + last, l[k] - i))
					off = last;
				if (!owner && (off < 0 || (size_t)off < last))
					break;
				if (off < 0) {
					TH_LOG("reader %d read %d: not the stream", r, k);
					return -1;
				}
				/* each reader's bytes come in stream order */
				if ((size_t)off < last) {
					TH_LOG("reader %d read %d: byte %zd after %zu",
					       r, k, off, last);
					return -1;
				}
				if (!owner)
					starts[off] = 1;
				while (i + run < l[k] && off + run < si->elen &&
				       p[i + run] == si->e[off + run] &&
				       !(run && owner && starts[off + run])) {
					if (owner && owner[off + run]) {
						TH_LOG("byte %zu read twice (readers %d and %d)",
						       off + run, owner[off + run] - 1, r);
						return -1;
					}
					if (owner)
						owner[off + run] = r + 1;
					run++;
				}
				last = off + run;
				covered += run;
				i += run;
				(*pieces)++;
			}
			p += l[k];
		}
	}
	return covered;
}

/*
 * The matcher itself, on made-up reads: reader 0's first read ends with 5
 * bytes from elsewhere whose first byte equals the stream where its first
 * piece ends; reader 1 read the bytes in between. No byte was read twice.
 * Then reader 1 also reads 10 bytes reader 0 has: that must be found.
 */
TEST(piece_matcher_chance_and_double)
{
	const size_t per = 64 << 10;
	uint8_t *buf = calloc(2, per);
	uint32_t *lens = calloc(2 * 8192, sizeof(*lens));
	struct stream_index si;
	uint8_t *starts, *owner;
	size_t x = 300, pieces;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, lens);
	ASSERT_EQ(0, stream_index_init(&si, 7, per));
	starts = calloc(si.elen, 1);
	owner = calloc(si.elen, 1);
	ASSERT_NE(NULL, starts);
	ASSERT_NE(NULL, owner);
	while (si.e[x] != si.e[100] || si.e[x + 1] == si.e[101])
		x++;
	ASSERT_GT(per - 200, x);
	memcpy(buf, si.e, 100);
	memcpy(buf + 100, si.e + x, 100);
	lens[0] = 105;
	lens[1] = 95;
	memcpy(buf + per, si.e + 100, x - 100);
	lens[8192] = x - 100;
	match_pieces(_metadata, &si, buf, lens, 2, per, starts, NULL, &pieces);
	EXPECT_EQ((ssize_t)x + 100,
		  match_pieces(_metadata, &si, buf, lens, 2, per, starts, owner,
			       &pieces));

	memcpy(buf + per + x - 100, si.e + x + 50, 10);
	lens[8193] = 10;
	memset(starts, 0, si.elen);
	memset(owner, 0, si.elen);
	match_pieces(_metadata, &si, buf, lens, 2, per, starts, NULL, &pieces);
	EXPECT_EQ(-1, match_pieces(_metadata, &si, buf, lens, 2, per, starts,
				   owner, &pieces));
	free(owner);
	free(starts);
	stream_index_free(&si);
	free(lens);
	free(buf);
}

/* Readers in parallel: every byte once, each read a piece of the stream. */
TEST_F(direct, parallel_readers_exact)
{
	const int readers = 4, per = 256 << 10;
	uint8_t *shared = mmap(NULL, readers * per, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint32_t *lens = mmap(NULL, readers * 8192 * 4, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct stream_index si;
	uint8_t *owner, *starts;
	size_t pieces;

	ASSERT_NE(MAP_FAILED, shared);
	ASSERT_NE(MAP_FAILED, lens);
	ASSERT_EQ(0, stream_index_init(&si, 2024, readers * per + (64 << 10)));
	owner = calloc(si.elen, 1);
	starts = calloc(si.elen, 1);
	ASSERT_NE(NULL, owner);
	ASSERT_NE(NULL, starts);
	ASSERT_EQ(0, seed(2024));
	for (int r = 0; r < readers; r++) {
		if (!fork()) {
			uint8_t *out = shared + (size_t)r * per;
			uint32_t *l = lens + r * 8192, size = 16 + r * 997;
			int fd = open(edu_rng_node(), O_RDONLY), got = 0, k = 0;

			prctl(PR_SET_PDEATHSIG, SIGKILL);

			while (fd >= 0 && got < per) {
				int want = per - got < (int)size ? per - got : (int)size;
				int n = read(fd, out + got, want);

				if (n <= 0)
					_exit(1);
				l[k++] = n;
				got += n;
				size = size * 5 % 40000 + 16;
			}
			_exit(fd < 0);
		}
	}
	for (int r = 0; r < readers; r++) {
		int status;

		wait(&status);
		ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("a reader ended with status %#x", status);
	}
	match_pieces(_metadata, &si, shared, lens, readers, per, starts, NULL,
		     &pieces);
	EXPECT_EQ((ssize_t)readers * per,
		  match_pieces(_metadata, &si, shared, lens, readers, per,
			       starts, owner, &pieces));
	TH_LOG("%zu pieces, %zu bytes, each once and in order", pieces,
	       (size_t)readers * per);
	free(starts);
	free(owner);
	stream_index_free(&si);
}

/* ---- injected faults (QEMU -device edu-rng,fault-injection=on) ---- */

#define REG_FAULT		0x30
#define REG_CAPS		0x0c
#define CAP_FAULT		(1u << 5)
#define FAULT_DMA_ERROR		(1u << 0)
#define FAULT_HANG		(1u << 1)
#define FAULT_LOST_IRQ		(1u << 2)
#define FAULT_SHORT		(1u << 3)
#define FAULT_BAD_XFER		(1u << 4)
#define FAULT_SLOW		(1u << 5)
#define FAULT_SPURIOUS		(1u << 6)
#define FAULT_GONE		(1u << 7)
#define FAULT_NO_WRITE		(1u << 8)
#define FAULT_IRQ_STUCK		(1u << 9)
#define REG_ID			0x08
#define PIECE			4096
#define REG_DMA_MAX		0x14
#define REG_STATUS		0x20
#define STATUS_BUSY		0x1u

FIXTURE(fault) {
	volatile uint32_t *bar;
	size_t bs;		/* the driver's buffer size */
	int fd;
	uint8_t *e;		/* the seed's stream */
	size_t elen, last, gaps, eio, got;
};

FIXTURE_SETUP(fault)
{
	char p[PATH_MAX];
	EduRngGen g;
	int bfd;

	/* the harness boots with edu.fault=1 when it enables the faults */
	self->bar = MAP_FAILED;
	ASSERT_EQ(0, read_file("/proc/cmdline", p, sizeof(p)));
	if (!strstr(p, "edu.fault=1"))
		SKIP(return, "no edu.fault=1 on the kernel command line");
	snprintf(p, sizeof(p), "%s/resource0", edu_rng_dev());
	bfd = open(p, O_RDWR | O_SYNC);
	ASSERT_LE(0, bfd);
	self->bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
	close(bfd);
	ASSERT_NE(MAP_FAILED, self->bar) TH_LOG("mmap BAR0 (iomem=relaxed?)");
	ASSERT_TRUE(!!(self->bar[REG_CAPS / 4] & CAP_FAULT))
		TH_LOG("device without fault-injection=on");
	/* the driver's buffer size: DMA_MAX, within 4 KiB to its maximum */
	self->bs = self->bar[REG_DMA_MAX / 4];
	self->bs = self->bs < 4096 ? 4096 :
		   self->bs > DRIVER_BUF_MAX ? DRIVER_BUF_MAX : self->bs;
	self->fd = open(edu_rng_node(), O_RDONLY);
	ASSERT_LE(0, self->fd);
	self->elen = 8 << 20;
	self->e = malloc(self->elen);
	ASSERT_NE(NULL, self->e);
	edu_rng_gen_seed(&g, 31337);
	edu_rng_gen_fill(&g, self->e, self->elen);
	ASSERT_EQ(0, seed(31337));
}

/* The 6.1 harness runs a test whose setup skipped: skip its body too. */
#define FAULT_LANE_ONLY() do {			\
		if (_metadata->skip)		\
			return;			\
	} while (0)

FIXTURE_TEARDOWN(fault)
{
	if (self->bar != MAP_FAILED && self->bar[REG_CAPS / 4] & CAP_FAULT) {
		self->bar[REG_FAULT / 4] = 0;
		close(self->fd);
		free(self->e);
		dev_write("mode", "host");
	}
}

static unsigned long long dev_stat(const char *name)
{
	char p[PATH_MAX], v[32];

	snprintf(p, sizeof(p), "%s/stats/%s", edu_rng_dev(), name);
	return read_file(p, v, sizeof(v)) ? ~0ULL : strtoull(v, NULL, 10);
}

/*
 * Read @n bytes in pieces, checking each is the seed's stream, after what
 * came before; count skipped stream bytes and EIOs: stop at the @max_eio-th,
 * fail at any with @max_eio 0.
 */
static int read_checked(struct __test_metadata *_metadata,
			FIXTURE_DATA(fault) *self, size_t n, size_t max_eio)
{
	uint8_t buf[PIECE], *hit;
	size_t eio = 0;

	for (size_t done = 0; done < n;) {
		ssize_t r = read(self->fd, buf, sizeof(buf)), off;

		if (r < 0) {
			if (errno != EIO || ++eio > max_eio)
				return -errno;
			if (eio == max_eio)
				break;
			continue;
		}
		/*
		 * The stream from where we were: skipped bytes allowed, for
		 * whole buffers the driver dropped.  A piece under 16 bytes
		 * would match somewhere ahead by chance: it must go on where
		 * we were (the tail of a read an error cut short).
		 */
		if (r < 16)
			hit = self->last + r <= self->elen &&
			      !memcmp(self->e + self->last, buf, r) ?
			      self->e + self->last : NULL;
		else
			hit = memmem(self->e + self->last, self->elen - self->last,
				     buf, r);
		if (!hit)
			return -EBADMSG;	/* foreign, repeated or reordered */
		off = hit - self->e;
		self->gaps += off - self->last;
		self->last = off + r;
		self->got += r;
		done += r;
	}
	self->eio += eio;
	return 0;
}

/* Transfers the driver saw fail, whichever way */
static unsigned long long failed_transfers(void)
{
	return dev_stat("errors") + dev_stat("timeouts") + dev_stat("unwritten");
}

/*
 * Before, during and after @fault: the stream, with gaps only where the
 * driver saw a transfer fail.
 */
static void fault_run(struct __test_metadata *_metadata,
		      FIXTURE_DATA(fault) *self, uint32_t fault, size_t max_eio,
		      size_t gap_per_error)
{
	unsigned long long errors = failed_transfers();

	ASSERT_EQ(0, read_checked(_metadata, self, 256 << 10, 0));
	self->bar[REG_FAULT / 4] = fault;
	ASSERT_EQ(0, read_checked(_metadata, self, 2 << 20, max_eio));
	self->bar[REG_FAULT / 4] = 0;
	ASSERT_EQ(0, read_checked(_metadata, self, 256 << 10, 0));
	errors = failed_transfers() - errors;
	TH_LOG("fault %#x: %zu bytes read, %zu EIO, %llu errors, %zu bytes skipped",
	       fault, self->got, self->eio, errors, self->gaps);
	EXPECT_LE(self->eio, errors);
	EXPECT_GE(errors * gap_per_error + 16384, self->gaps);
}

TEST_F_TIMEOUT(fault, dma_error, 120)
{
	unsigned long long errors = dev_stat("errors");

	FAULT_LANE_ONLY();
	fault_run(_metadata, self, FAULT_DMA_ERROR, 3, 0);
	EXPECT_EQ(3U, self->eio);
	EXPECT_LE(errors + 3, dev_stat("errors"));
}

TEST_F_TIMEOUT(fault, transfer_never_completes, 120)
{
	unsigned long long timeouts = dev_stat("timeouts");

	FAULT_LANE_ONLY();
	fault_run(_metadata, self, FAULT_HANG, 2, 0);
	EXPECT_EQ(2U, self->eio);
	EXPECT_LE(timeouts + 2, dev_stat("timeouts"));
}

TEST_F_TIMEOUT(fault, lost_interrupt_recovered, 120)
{
	unsigned long long lost = dev_stat("lost_irqs");

	FAULT_LANE_ONLY();
	self->bar[REG_FAULT / 4] = FAULT_LOST_IRQ;
	/* past what the ring holds: a reader waits for a transfer */
	ASSERT_EQ(0, read_checked(_metadata, self,
				  RING_BUFS * self->bs + (64 << 10), 0));
	self->bar[REG_FAULT / 4] = 0;
	EXPECT_EQ(0U, self->eio);
	EXPECT_GE(16384U, self->gaps);
	EXPECT_LT(lost, dev_stat("lost_irqs"));
}

TEST_F_TIMEOUT(fault, short_transfer, 120)
{
	FAULT_LANE_ONLY();
	fault_run(_metadata, self, FAULT_SHORT, 3, self->bs / 2);
	EXPECT_EQ(3U, self->eio);
}

TEST_F_TIMEOUT(fault, wrong_byte_count, 120)
{
	FAULT_LANE_ONLY();
	fault_run(_metadata, self, FAULT_BAD_XFER, 3, self->bs);
	EXPECT_EQ(3U, self->eio);
}

TEST_F_TIMEOUT(fault, slow_transfers, 120)
{
	FAULT_LANE_ONLY();
	self->bar[REG_FAULT / 4] = FAULT_SLOW;
	ASSERT_EQ(0, read_checked(_metadata, self, 512 << 10, 0));
	self->bar[REG_FAULT / 4] = 0;
	EXPECT_EQ(0U, self->eio);
	EXPECT_GE(16384U, self->gaps);
}

TEST_F_TIMEOUT(fault, spurious_interrupts, 120)
{
	unsigned long long spurious = dev_stat("spurious_irqs");

	FAULT_LANE_ONLY();
	for (int i = 0; i < 16; i++) {
		self->bar[REG_FAULT / 4] = FAULT_SPURIOUS;
		ASSERT_EQ(0, read_checked(_metadata, self, 32 << 10, 0));
	}
	EXPECT_EQ(0U, self->eio);
	EXPECT_GE(16384U, self->gaps);
	EXPECT_LT(spurious, dev_stat("spurious_irqs"));
}

/*
 * The device stops answering, as if pulled from its slot (FAULT_GONE: BAR0
 * reads all ones, writes are lost, nothing moves, no interrupt), the way
 * hardware goes on a surprise removal, which QEMU's device_del cannot do.
 * Readers get the bytes already fetched, then EIO at each DMA timeout:
 * never a hang, never bytes that are not the stream.  Once the device
 * answers again the driver recovers by itself; unbinding a dead device
 * ends cleanly, and binding one fails with ENODEV.
 */
TEST_F_TIMEOUT(fault, device_vanishes, 120)
{
	unsigned long long timeouts = dev_stat("timeouts");
	size_t before;

	FAULT_LANE_ONLY();
	ASSERT_EQ(0, read_checked(_metadata, self, 256 << 10, 0));
	self->bar[REG_FAULT / 4] = FAULT_GONE;
	ASSERT_EQ(0xffffffffU, self->bar[REG_ID / 4]);
	before = self->got;
	/* at most what the ring held: read_checked() stops at the 2nd EIO */
	ASSERT_EQ(0, read_checked(_metadata, self, 2 << 20, 2));
	EXPECT_EQ(2U, self->eio);
	EXPECT_GE(RING_BUFS * self->bs, self->got - before);
	EXPECT_LE(timeouts + 2, dev_stat("timeouts"));
	TH_LOG("gone: %zu bytes from the ring, then %zu EIO",
	       self->got - before, self->eio);

	/* back: one more timeout may abort the transfer that died */
	self->bar[REG_FAULT / 4] = 0;
	self->eio = 0;
	ASSERT_EQ(0, read_checked(_metadata, self, 64 << 10, 1));
	ASSERT_EQ(0, read_checked(_metadata, self, 512 << 10, 0));
	EXPECT_GE((dev_stat("timeouts") - timeouts) * self->bs + 16384,
		  self->gaps);

	/* unbind a dead device, fail to bind it, then bind it back alive */
	self->bar[REG_FAULT / 4] = FAULT_GONE;
	ASSERT_EQ(0, driver_attach(false));
	EXPECT_EQ(-ENODEV, driver_attach(true));
	self->bar[REG_FAULT / 4] = 0;
	ASSERT_EQ(0, driver_attach(true));
	close(self->fd);
	self->fd = open(edu_rng_node(), O_RDONLY);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, seed(31337));
	self->last = 0;
	self->gaps = 0;
	ASSERT_EQ(0, read_checked(_metadata, self, 256 << 10, 0));
	EXPECT_GE(16384U, self->gaps) TH_LOG("rebound: stream from the seed");
}

/* /dev/hwrng under a failing device: an error, never a hang or old bytes. */
TEST_F_TIMEOUT(fault, hwrng_reports_errors, 120)
{
	uint8_t buf[4096];
	int fd = open("/dev/hwrng", O_RDONLY), eio = 0;

	FAULT_LANE_ONLY();
	ASSERT_LE(0, fd);
	/* a seeded device is no hwrng */
	ASSERT_EQ(0, dev_write("mode", "host"));
	self->bar[REG_FAULT / 4] = FAULT_DMA_ERROR;
	for (int i = 0; i < 2048 && !eio; i++)
		if (read(fd, buf, sizeof(buf)) < 0)
			eio = errno == EIO;
	self->bar[REG_FAULT / 4] = 0;
	close(fd);
	EXPECT_TRUE(eio);
}

/*
 * Read what the device delivers, through @nb (O_NONBLOCK) while it has
 * some, until a blocking read of @fd waits for a hung transfer, which the
 * driver times out and aborts: EIO.  Then no transfer is in flight.  0 or
 * -errno.
 */
static int drain_to_timeout(int fd, int nb, __u8 *buf, size_t size)
{
	for (int i = 0; i < 64; i++) {
		while (read(nb, buf, size) > 0)
			;
		if (errno != EAGAIN)
			return -errno;
		if (read(fd, buf, 1) < 0)
			return errno == EIO ? 0 : -errno;
	}
	return -EBUSY;		/* data kept coming: not hung */
}

/* Wait until stats/@name reaches @want: 0, or -ETIMEDOUT after 10 s. */
static int wait_stat(const char *name, unsigned long long want)
{
	double end = now() + 10;

	while (dev_stat(name) < want) {
		if (now() > end)
			return -ETIMEDOUT;
		sched_yield();
	}
	return 0;
}

/*
 * From an idle device (a hung transfer timed out and aborted), seed 31337
 * and let the ring fill, RING_BUFS transfers and then none in flight; hang
 * every transfer from then on, and read all but @k bytes of the ring into
 * @buf (RING_BUFS buffers).  *@o: the stream offset of the first byte
 * read (0: the ring holds the seed's first bytes).
 */
static void ring_all_but(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fault) *self, int nb, __u8 *buf,
			 size_t k, size_t *o)
{
	size_t ring = RING_BUFS * self->bs, n;
	unsigned long long t;
	__u8 *hit;

	/* idle: nothing in flight */
	self->bar[REG_FAULT / 4] = FAULT_HANG;
	ASSERT_EQ(0, drain_to_timeout(self->fd, nb, buf, ring));
	self->bar[REG_FAULT / 4] = 0;

	/* seeded, the ring fills, and the device stops */
	t = dev_stat("transfers");
	ASSERT_EQ(0, dev_write("seed", "31337"));
	ASSERT_EQ(0, wait_stat("transfers", t + RING_BUFS));
	ASSERT_EQ(0U, self->bar[REG_STATUS / 4] & STATUS_BUSY)
		TH_LOG("a transfer in flight with the ring full");
	ASSERT_EQ(t + RING_BUFS, dev_stat("transfers"));

	/* all but k bytes, and no transfer can land */
	self->bar[REG_FAULT / 4] = FAULT_HANG;
	ASSERT_EQ(4096, read(self->fd, buf, 4096));
	hit = memmem(self->e, ring, buf, 4096);
	ASSERT_NE(NULL, hit) TH_LOG("not the seed's stream");
	n = ring - k - (hit - self->e) - 4096;
	ASSERT_EQ((ssize_t)n, read(self->fd, buf, n));
	ASSERT_EQ(0, memcmp(buf, hit + 4096, n))
		TH_LOG("k = %zu: the ring did not hold the stream's first %zu bytes",
		       k, ring);
	*o = hit - self->e;
}

/*
 * The lab's RAND on an O_NONBLOCK descriptor is all or nothing: with k = 1
 * to 3 bytes buffered it fails with EAGAIN and takes none of them (it used
 * to take them and throw them away), with k = 4 it returns those 4.  To
 * have exactly k bytes buffered and no transfer that could still land:
 * from an idle device (a hung transfer timed out and aborted), seed and
 * let the ring fill, RING_BUFS transfers and then none in flight; hang
 * every transfer from then on, and read all but k bytes.  Then lift the
 * fault: the next bytes read must be the stream from where RAND left it.
 * (Seeded, the device is no hwrng: the kernel takes none of its bytes.)
 */
TEST_F_TIMEOUT(fault, nonblocking_rand_all_or_nothing, 120)
{
	size_t ring, o, got, want;
	unsigned long long timeouts;
	int nb = -1, eio, ret;
	__u8 *buf, *hit;
	__u32 val;
	ssize_t r;

	FAULT_LANE_ONLY();
	ring = RING_BUFS * self->bs;
	buf = malloc(ring);
	ASSERT_NE(NULL, buf);
	nb = open(edu_rng_node(), O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, nb);
	for (size_t k = 1; k <= 4; k++) {
		ring_all_but(_metadata, self, nb, buf, k, &o);

		ret = ioctl(nb, EDU_RNG_IOCTL_RAND, &val);
		if (k < 4) {
			EXPECT_EQ(-1, ret) TH_LOG("RAND with %zu bytes ready", k);
			EXPECT_EQ(EAGAIN, errno);
		} else {
			EXPECT_EQ(0, ret)
				TH_LOG("RAND, 4 bytes ready: %s", strerror(errno));
			EXPECT_EQ(0, memcmp(&val, self->e + ring - 4, 4));
		}

		/* the hung transfer times out; the stream goes on */
		timeouts = dev_stat("timeouts");
		self->bar[REG_FAULT / 4] = 0;
		for (got = 0, eio = 0; got < 8192; got += r) {
			r = read(self->fd, buf + got, 8192 - got);
			if (r < 0) {
				ASSERT_EQ(EIO, errno);
				ASSERT_GE(1, ++eio);
				r = 0;
			}
		}
		want = k < 4 ? ring - k : ring;
		hit = memmem(self->e + ring - k - 4096, 2 * 4096, buf, 64);
		EXPECT_EQ(0, memcmp(buf, self->e + want, 8192))
			TH_LOG("k = %zu: next bytes from stream offset %zd, not %zu",
			       k, hit ? hit - self->e : (ssize_t)-1, want);
		EXPECT_LT(timeouts, dev_stat("timeouts"));
		TH_LOG("k = %zu: RAND %s; the stream went on at %zd (ring of %zu from %zu)",
		       k, ret ? "EAGAIN" : "4 bytes", hit ? hit - self->e : (ssize_t)-1,
		       ring, o);
	}
	close(nb);
	free(buf);
}

/*
 * A blocking RAND with 2 bytes in the ring and the next transfer hung
 * sleeps until the watchdog fails that transfer (EIO), and the 2 bytes
 * stay for the next reader.  It used to spin: the head buffer being full
 * woke it at once, for the whole transfer timeout.
 */
TEST_F_TIMEOUT(fault, blocking_rand_sleeps, 120)
{
	size_t ring = RING_BUFS * self->bs, o;
	unsigned long long timeouts;
	struct timespec c0, c1;
	double t0, wall, cpu;
	int nb, ret, tries;
	__u8 *buf;
	__u32 val;

	FAULT_LANE_ONLY();
	buf = malloc(ring);
	ASSERT_NE(NULL, buf);
	nb = open(edu_rng_node(), O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, nb);
	/* again if the hung transfer timed out before RAND began to wait */
	for (tries = 0; tries < 3; tries++) {
		ring_all_but(_metadata, self, nb, buf, 2, &o);
		timeouts = dev_stat("timeouts");
		t0 = now();
		ASSERT_EQ(0, clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0));
		ret = ioctl(self->fd, EDU_RNG_IOCTL_RAND, &val);
		ASSERT_EQ(0, clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1));
		wall = now() - t0;
		cpu = c1.tv_sec - c0.tv_sec + (c1.tv_nsec - c0.tv_nsec) / 1e9;
		TH_LOG("RAND: %s after %.3f s, of which %.3f s on the CPU",
		       ret ? strerror(errno) : "4 bytes", wall, cpu);
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(EIO, errno);
		if (dev_stat("timeouts") == timeouts + 1)
			break;
	}
	ASSERT_LT(tries, 3) TH_LOG("the transfer timed out before RAND, 3 times");
	EXPECT_LT(cpu, wall / 2) TH_LOG("RAND spun while it waited");

	self->bar[REG_FAULT / 4] = 0;
	ASSERT_EQ(2, read(self->fd, buf, 2));
	EXPECT_EQ(0, memcmp(buf, self->e + ring - 2, 2));
	close(nb);
	free(buf);
}

/*
 * A failed transfer no reader was told of goes with the stream it broke:
 * after a seed the first read gives the new stream.  It used to fail with
 * EIO, and the device started nothing until a reader had been told.
 */
static void seed_after_failure(struct __test_metadata *_metadata,
			       FIXTURE_DATA(fault) *self, bool in_flight)
{
	size_t n = self->bs > 65536 ? self->bs : 65536;
	unsigned long long errors, timeouts, t;
	uint8_t *buf = malloc(n);
	struct match m;
	ssize_t r;

	ASSERT_NE(NULL, buf);
	/* the ring full; one buffer read, and its refill fails or hangs */
	t = dev_stat("transfers");
	ASSERT_EQ(0, seed(31337));
	ASSERT_EQ(0, wait_stat("transfers", t + RING_BUFS));
	errors = dev_stat("errors");
	timeouts = dev_stat("timeouts");
	self->bar[REG_FAULT / 4] = in_flight ? FAULT_HANG : FAULT_DMA_ERROR;
	ASSERT_EQ((ssize_t)self->bs, read(self->fd, buf, self->bs));
	if (!in_flight)
		ASSERT_EQ(0, wait_stat("errors", errors + 1));
	self->bar[REG_FAULT / 4] = 0;

	/* in flight: the old stream's transfer times out after the seed */
	ASSERT_EQ(0, seed(42));
	r = read(self->fd, buf, 65536);
	ASSERT_EQ(65536, r) TH_LOG("read after the seed: %s", strerror(errno));
	m = match_stream(42, buf, r);
	EXPECT_EXACT(m);
	if (in_flight)
		EXPECT_EQ(timeouts + 1, dev_stat("timeouts"));
	free(buf);
}

TEST_F_TIMEOUT(fault, seed_forgets_untold_error, 120)
{
	FAULT_LANE_ONLY();
	seed_after_failure(_metadata, self, false);
}

TEST_F_TIMEOUT(fault, seed_forgets_hung_transfer, 120)
{
	FAULT_LANE_ONLY();
	seed_after_failure(_metadata, self, true);
}

/*
 * A transfer that never completes fails a poll()ing reader too, within
 * the transfer timeout: POLLIN, then EIO.  No blocking reader comes to
 * time it out.
 */
TEST_F_TIMEOUT(fault, poll_sees_hung_transfer, 120)
{
	struct pollfd p = { .events = POLLIN };
	uint8_t *buf = malloc(DRIVER_BUF_MAX);
	ssize_t r = 0;
	double t0 = 0;

	FAULT_LANE_ONLY();
	ASSERT_NE(NULL, buf);
	p.fd = open(edu_rng_node(), O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, p.fd);
	self->bar[REG_FAULT / 4] = FAULT_HANG;
	/*
	 * Empty the ring: a transfer started before the fault still lands,
	 * the next one hangs.
	 */
	for (int i = 0; i < 2 * RING_BUFS; i++) {
		while (read(p.fd, buf, DRIVER_BUF_MAX) > 0)
			;
		ASSERT_EQ(EAGAIN, errno);
		t0 = now();
		ASSERT_EQ(1, poll(&p, 1, 10000))
			TH_LOG("poll slept on a hung transfer");
		r = read(p.fd, buf, 64);
		if (r < 0)
			break;
	}
	TH_LOG("poll woke after %.2f s: revents %#x", now() - t0, p.revents);
	/* the transfer timeout is 1 s; the rest is slack for a loaded host */
	EXPECT_GT(5.0, now() - t0);
	EXPECT_TRUE(p.revents & (POLLIN | POLLERR));
	EXPECT_EQ(-1, r);
	EXPECT_EQ(EIO, errno);
	self->bar[REG_FAULT / 4] = 0;
	close(p.fd);
	free(buf);
}

static void on_usr1(int sig)
{
}

/* A thread's state letter and syscall number, from /proc */
static bool thread_waits_in_read(pid_t tid)
{
	char p[64], buf[512], *st;
	long nr = -1;

	snprintf(p, sizeof(p), "/proc/self/task/%d/stat", tid);
	if (read_file(p, buf, sizeof(buf)))
		return false;
	st = strrchr(buf, ')');
	if (!st || st[2] != 'S')
		return false;
	snprintf(p, sizeof(p), "/proc/self/task/%d/syscall", tid);
	if (read_file(p, buf, sizeof(buf)))
		return false;
	nr = strtol(buf, NULL, 10);
	return nr == SYS_read;
}

struct waiting_read {
	int fd;
	pid_t tid;
	ssize_t ret;
	int err;
};

static void *waiting_reader(void *arg)
{
	struct waiting_read *w = arg;
	uint8_t b[64];

	w->tid = gettid();
	/* a transfer started before the fault may still bring data */
	while ((w->ret = read(w->fd, b, sizeof(b))) > 0)
		;
	w->err = errno;
	return NULL;
}

/*
 * A signal whose handler asks for restart does not end a waiting read
 * with EINTR: the wait restarts, and the hung transfer's timeout ends it
 * (EIO).
 */
TEST_F_TIMEOUT(fault, signal_restarts_wait, 120)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	struct waiting_read w = { .fd = self->fd };
	uint8_t *buf = malloc(DRIVER_BUF_MAX);
	double end;
	pthread_t t;
	int nb;

	FAULT_LANE_ONLY();
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	nb = open(edu_rng_node(), O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, nb);
	self->bar[REG_FAULT / 4] = FAULT_HANG;
	while (read(nb, buf, DRIVER_BUF_MAX) > 0)
		;
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, pthread_create(&t, NULL, waiting_reader, &w));
	for (end = now() + 10; !w.tid || !thread_waits_in_read(w.tid);)
		ASSERT_GT(end, now()) TH_LOG("the reader never waited");
	end = now();
	ASSERT_EQ(0, pthread_kill(t, SIGUSR1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	/* within the 1 s transfer timeout, with slack for a loaded host */
	EXPECT_GT(5.0, now() - end);
	EXPECT_EQ(-1, w.ret);
	EXPECT_EQ(EIO, w.err) TH_LOG("read ended with %s", strerror(w.err));
	self->bar[REG_FAULT / 4] = 0;
	close(nb);
	free(buf);
}

/*
 * A device that says DONE, with the right byte count, but wrote nothing:
 * the buffer's old bytes, already read once, must not go out again.  The
 * driver's canaries catch it: EIO, counted in stats/unwritten.
 */
TEST_F_TIMEOUT(fault, done_without_write, 120)
{
	unsigned long long unwritten = dev_stat("unwritten");

	FAULT_LANE_ONLY();
	fault_run(_metadata, self, FAULT_NO_WRITE, 3, self->bs);
	EXPECT_EQ(3U, self->eio);
	EXPECT_LE(unwritten + 3, dev_stat("unwritten"));
}

/*
 * An interrupt cause IRQ_ACK cannot clear (and a device that signals
 * again at each ack) must not livelock the guest: the driver masks the
 * interrupt, says so once, fails reads with EIO, and unmasks it once an
 * ack works again; then the stream goes on.
 */
TEST_F_TIMEOUT(fault, interrupt_storm_masked, 120)
{
	unsigned long long storms = dev_stat("irq_storms"), timeouts;
	uint8_t b[64];
	double end;
	ssize_t r;

	FAULT_LANE_ONLY();
	ASSERT_EQ(0, read_checked(_metadata, self, 256 << 10, 0));
	self->bar[REG_FAULT / 4] = FAULT_IRQ_STUCK;
	/* what the ring holds, then EIO */
	ASSERT_EQ(0, read_checked(_metadata, self, 8 << 20, 1));
	EXPECT_EQ(1U, self->eio);
	EXPECT_EQ(storms + 1, dev_stat("irq_storms"));
	EXPECT_EQ(-1, read(self->fd, b, sizeof(b)));
	EXPECT_EQ(EIO, errno);
	/* a transfer that ended while masked is completed, not timed out */
	timeouts = dev_stat("timeouts");
	self->bar[REG_FAULT / 4] = 0;
	for (end = now() + 10; (r = read(self->fd, b, sizeof(b))) < 0;) {
		ASSERT_EQ(EIO, errno);
		ASSERT_GT(end, now()) TH_LOG("still failing after the fault");
	}
	EXPECT_NE(NULL, memmem(self->e + self->last, self->elen - self->last,
			       b, r));
	EXPECT_EQ(storms + 1, dev_stat("irq_storms"));
	self->eio = 0;
	ASSERT_EQ(0, read_checked(_metadata, self, 512 << 10, 0));
	EXPECT_EQ(timeouts, dev_stat("timeouts"));
}

/*
 * Unbinding while the interrupt is masked leaves it as it was found: bound
 * again, the device's transfers complete by interrupt (none found late by
 * the watchdog), and the seed's stream reads back.
 */
TEST_F_TIMEOUT(fault, unbind_while_masked, 120)
{
	unsigned long long storms = dev_stat("irq_storms"), lost;

	FAULT_LANE_ONLY();
	self->bar[REG_FAULT / 4] = FAULT_IRQ_STUCK;
	ASSERT_EQ(0, read_checked(_metadata, self, 8 << 20, 1));
	ASSERT_EQ(storms + 1, dev_stat("irq_storms"));
	/* the driver's reset on unbind clears FAULT */
	ASSERT_EQ(0, driver_attach(false));
	ASSERT_EQ(0U, self->bar[REG_FAULT / 4]);
	ASSERT_EQ(0, driver_attach(true));
	close(self->fd);
	self->fd = open(edu_rng_node(), O_RDONLY);
	ASSERT_LE(0, self->fd);
	lost = dev_stat("lost_irqs");
	ASSERT_EQ(0, seed(31337));
	self->last = 0;
	self->gaps = 0;
	self->eio = 0;
	ASSERT_EQ(0, read_checked(_metadata, self, 2 << 20, 0));
	EXPECT_EQ(0U, self->gaps);
	EXPECT_EQ(lost, dev_stat("lost_irqs"))
		TH_LOG("interrupts did not come back after the rebind");
}

TEST_HARNESS_MAIN
