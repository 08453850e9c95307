// SPDX-License-Identifier: GPL-2.0
/*
 * rng-bench: read a fixed number of bytes from a random source with N
 * reader processes and print one JSON object per measurement: wall time on
 * CLOCK_MONOTONIC, MB/s, interrupts (one line of /proc/interrupts and all
 * of them), busy CPU time from /proc/stat, the readers' own CPU time
 * (getrusage of the reaped readers) and the hwrng state read back right
 * before the clock starts.  Built static for the edu-rng guest.
 *
 *   rng-bench -p PATH[,PATH]... -b BLOCK -r READERS -n BYTES [-i]
 *             [-q IRQ-MATCH] [-s RNG] [-t SECS] [-D BYTES [-P PATH]]
 *             [-m KEY=VALUE]...
 *   rng-bench -T -p PATH -S SEED-FILE [-s RNG] [-c COUNT] [-m KEY=VALUE]...
 *   rng-bench -I SECONDS [-q IRQ-MATCH] [-m KEY=VALUE]...
 *
 *   -p PATH    source to read (/dev/hwrng, /dev/edu-rng0, /dev/zero, ...);
 *              a comma-separated list: reader i reads path i modulo their
 *              number (one reader per device)
 *   -b BLOCK   bytes per read() (ioctl mode: bytes filled per loop, by
 *              BLOCK / 4 ioctls)
 *   -r N       concurrent reader processes (fork); BYTES is split evenly
 *   -n BYTES   total bytes to read
 *   -i         ioctl mode: EDU_RNG_IOCTL_RAND, 4 bytes per call
 *   -q STR     interrupt lines whose name contains STR are "the device's"
 *   -s RNG     write RNG to rng_current first and insist on reading it back
 *   -m K=V     add "K": V to the JSON (V raw if a number, else a string)
 *   -T         time to first byte: write a seed to SEED-FILE, then (with
 *              -s) select RNG again, then time one 64-byte read of PATH
 *   -c COUNT   time-to-first-byte repetitions (default 5)
 *   -t SECS    give up on a measurement after SECS seconds (default 60):
 *              kill the readers and report "timeout"
 *   -D BYTES   drain: right before the clock starts (the readers open and
 *              waiting), read BYTES from each path (from -P PATH instead,
 *              when given), so that a ring its device filled while idle
 *              does not count as throughput
 *   -I SECS    idle cost: interrupts and busy CPU over SECS seconds of
 *              doing nothing (rngd, the hwrng thread and the driver run)
 *
 * MB are 10^6 bytes; "per MiB" figures are per 2^20 bytes.  Exit status 0
 * when every read succeeded, 1 otherwise (an "error" member says why).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/edu-rng.h>

#define HWRNG_SYSFS	"/sys/class/misc/hw_random/"
#define MAX_READERS	64
#define MAX_META	16
#define MAX_PATHS	16
#define DRAIN_BLOCK	(256 * 1024)
#define MIB		(1024.0 * 1024.0)

struct opts {
	const char *path;	/* as given: PATH[,PATH]... */
	char *paths[MAX_PATHS];
	int npaths;
	unsigned long long drain;
	const char *drain_path;
	size_t block;
	int readers;
	unsigned long long bytes;
	bool ioctl_mode;
	const char *irq_match;
	const char *select;
	bool ttfb;
	const char *seed_file;
	int count;
	double idle;
	unsigned int timeout;
	const char *meta[MAX_META];
	int nmeta;
};

struct snapshot {
	unsigned long long irq_dev;	/* lines matching irq_match */
	unsigned long long irq_all;	/* every line */
	unsigned long long busy;	/* /proc/stat ticks, all CPUs */
	double rusage_ms;		/* reaped children, user + system */
};

static void on_alarm(int sig)
{
	/* nothing: the signal only interrupts waitpid() */
	(void)sig;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die_usage(void)
{
	fprintf(stderr,
		"usage: rng-bench -p PATH[,PATH]... -b BLOCK -r READERS -n BYTES [-i] [-q IRQ] [-s RNG] [-t SECS]\n"
		"                 [-D BYTES [-P PATH]] [-m K=V]...\n"
		"       rng-bench -T -p PATH -S SEED-FILE [-s RNG] [-c COUNT] [-m K=V]...\n"
		"       rng-bench -I SECONDS [-q IRQ] [-m K=V]...\n");
	exit(2);
}

/* Read a one-line file into @buf without its newline; "" if unreadable. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return 0;
}

/* Is a process named rngd running? */
static bool rngd_running(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300], comm[64];
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		read_line(path, comm, sizeof(comm));
		found = !strcmp(comm, "rngd");
	}
	closedir(d);
	return found;
}

static void take_snapshot(const struct opts *o, struct snapshot *s)
{
	unsigned long long v[10] = { 0 };
	struct rusage ru;
	char line[1024];
	int ncpu = 0, i;
	FILE *f;

	memset(s, 0, sizeof(*s));
	f = fopen("/proc/interrupts", "r");
	if (f) {
		/* the header names one column per CPU */
		if (fgets(line, sizeof(line), f))
			for (char *t = strtok(line, " \t\n"); t; t = strtok(NULL, " \t\n"))
				ncpu++;
		while (fgets(line, sizeof(line), f)) {
			char *p = strchr(line, ':'), *end;
			unsigned long long sum = 0;

			if (!p)
				continue;
			p++;
			for (i = 0; i < ncpu; i++) {
				unsigned long long c = strtoull(p, &end, 10);

				if (end == p)
					break;
				sum += c;
				p = end;
			}
			s->irq_all += sum;
			if (o->irq_match && strstr(p, o->irq_match))
				s->irq_dev += sum;
		}
		fclose(f);
	}
	f = fopen("/proc/stat", "r");
	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]) == 8)
			/* user nice system irq softirq steal: not idle, iowait */
			s->busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
		fclose(f);
	}
	getrusage(RUSAGE_CHILDREN, &ru);
	s->rusage_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Print a JSON string member. */
static void jstr(const char *key, const char *val)
{
	const char *c;

	printf("\"%s\": \"", key);
	for (c = val; *c; c++) {
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if ((unsigned char)*c < 0x20)
			printf("\\u%04x", *c);
		else
			putchar(*c);
	}
	printf("\", ");
}

static bool is_json_literal(const char *v)
{
	char *end;

	if (!strcmp(v, "true") || !strcmp(v, "false") || !strcmp(v, "null"))
		return true;
	if (!*v)
		return false;
	strtod(v, &end);
	return !*end;
}

static void print_meta(const struct opts *o)
{
	char key[64];
	int i;

	for (i = 0; i < o->nmeta; i++) {
		const char *eq = strchr(o->meta[i], '=');
		size_t n = eq - o->meta[i];

		if (n >= sizeof(key))
			n = sizeof(key) - 1;
		memcpy(key, o->meta[i], n);
		key[n] = '\0';
		if (is_json_literal(eq + 1))
			printf("\"%s\": %s, ", key, eq + 1);
		else
			jstr(key, eq + 1);
	}
}

/* The hwrng state that changes the figures, read back now. */
static void print_state(void)
{
	char cur[128], qual[32];

	read_line(HWRNG_SYSFS "rng_current", cur, sizeof(cur));
	read_line(HWRNG_SYSFS "rng_quality", qual, sizeof(qual));
	jstr("rng_current", cur);
	if (qual[0] && is_json_literal(qual))
		printf("\"rng_quality\": %s, ", qual);
	else
		jstr("rng_quality", qual);
	printf("\"rngd\": %s, ", rngd_running() ? "true" : "false");
}

static void print_error(const struct opts *o, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("{");
	print_meta(o);
	jstr("path", o->path);
	printf("\"read_size\": %zu, \"readers\": %d, ", o->block, o->readers);
	print_state();
	printf("\"error\": \"%s\"}\n", msg);
	fflush(stdout);
}

/* Make @name current and check that it stayed so. */
static int select_rng(const struct opts *o, const char *name)
{
	char cur[128];
	int ret = write_file(HWRNG_SYSFS "rng_current", name);

	if (ret) {
		print_error(o, "cannot select %s: %s", name, strerror(-ret));
		return -1;
	}
	read_line(HWRNG_SYSFS "rng_current", cur, sizeof(cur));
	if (strcmp(cur, name)) {
		print_error(o, "rng_current is %s, not %s", cur, name);
		return -1;
	}
	return 0;
}

/* One reader: @share bytes from @fd in @o->block pieces.  0 or -errno. */
static int read_share(const struct opts *o, int fd, char *buf,
		      unsigned long long share)
{
	unsigned long long done = 0;
	size_t i;

	while (done < share) {
		size_t want = o->block;

		if (want > share - done)
			want = share - done;
		if (o->ioctl_mode) {
			for (i = 0; i + 4 <= want; i += 4)
				if (ioctl(fd, EDU_RNG_IOCTL_RAND, buf + i))
					return -errno;
			if (!i)
				return -EINVAL;
			done += i;
		} else {
			ssize_t n = read(fd, buf, want);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				return -ENODATA;
			done += n;
		}
	}
	return 0;
}

/*
 * Child: open the source, say so on @ready, wait for @go to close, read.
 * Exit status: 0, or the errno that stopped it.
 */
static void reader(const struct opts *o, int idx, unsigned long long share,
		   int ready, int go)
{
	char *buf = malloc(o->block);
	char c = 0;
	int fd = open(o->paths[idx % o->npaths], O_RDONLY);
	int err = fd < 0 ? errno : 0;

	if (!buf)
		err = ENOMEM;
	if (write(ready, &c, 1) != 1)
		_exit(EPIPE);
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	if (!err)
		err = -read_share(o, fd, buf, share);
	_exit(err & 0xff);
}

/* Read @o->drain bytes of @path.  0, or an errno. */
static int drain_one(const struct opts *o, const char *path)
{
	unsigned long long done = 0;
	static char buf[DRAIN_BLOCK];
	int fd = open(path, O_RDONLY), err = 0;
	ssize_t n;

	if (fd < 0)
		return errno;
	while (done < o->drain) {
		n = read(fd, buf, o->drain - done < sizeof(buf) ?
			 o->drain - done : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : ENODATA;
			break;
		}
		done += n;
	}
	close(fd);
	return err;
}

/* The drain of -D: 0, or an errno. */
static int drain(const struct opts *o)
{
	int i, err;

	if (!o->drain)
		return 0;
	if (o->drain_path)
		return drain_one(o, o->drain_path);
	for (i = 0; i < o->npaths; i++) {
		err = drain_one(o, o->paths[i]);
		if (err)
			return err;
	}
	return 0;
}

static int measure(const struct opts *o)
{
	int ready[2], go[2], i, j, status, err = 0;
	bool timed_out = false;
	unsigned long long share, total;
	pid_t pids[MAX_READERS];
	struct snapshot a, b;
	double t0, t1, secs, mib;
	char c, cur[128];

	if (o->select && select_rng(o, o->select))
		return 1;
	/* each reader reads whole blocks; the total follows */
	share = o->bytes / o->readers / o->block * o->block;
	if (!share)
		share = o->block;
	total = share * o->readers;
	if (o->ioctl_mode)
		total = share / 4 * 4 * o->readers;
	if (pipe(ready) || pipe(go)) {
		perror("pipe");
		return 1;
	}
	fflush(stdout);
	for (i = 0; i < o->readers; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("fork");
			return 1;
		}
		if (!pids[i]) {
			close(ready[0]);
			close(go[1]);
			reader(o, i, share, ready[1], go[0]);
		}
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < o->readers; i++)
		if (read(ready[0], &c, 1) != 1)
			err = EPIPE;
	/* state right before the clock starts, counters at the start */
	printf("{");
	print_meta(o);
	jstr("path", o->path);
	print_state();
	fflush(stdout);
	if (!err)
		err = drain(o);
	take_snapshot(o, &a);
	t0 = now();
	close(go[1]);
	alarm(o->timeout);
	for (i = 0; i < o->readers; i++) {
		while (waitpid(pids[i], &status, 0) < 0) {
			if (errno != EINTR) {
				err = errno;
				break;
			}
			/* the alarm: stop every reader, reap them below */
			timed_out = true;
			for (j = 0; j < o->readers; j++)
				kill(pids[j], SIGKILL);
		}
		if (!timed_out && !err && WIFEXITED(status) && WEXITSTATUS(status))
			err = WEXITSTATUS(status);
		else if (!timed_out && !err && !WIFEXITED(status))
			err = EINTR;
	}
	alarm(0);
	t1 = now();
	take_snapshot(o, &b);
	close(ready[0]);

	secs = t1 - t0;
	mib = total / MIB;
	printf("\"read_size\": %zu, \"readers\": %d, \"ioctl\": %s, ",
	       o->block, o->readers, o->ioctl_mode ? "true" : "false");
	printf("\"bytes\": %llu, \"seconds\": %.6f, \"mb_per_s\": %.3f, ",
	       total, secs, total / secs / 1e6);
	if (o->irq_match) {
		jstr("irq_line", o->irq_match);
		printf("\"irqs\": %llu, \"irqs_per_mib\": %.2f, ",
		       b.irq_dev - a.irq_dev, (b.irq_dev - a.irq_dev) / mib);
	} else {
		printf("\"irq_line\": null, \"irqs\": null, \"irqs_per_mib\": null, ");
	}
	printf("\"irqs_total\": %llu, \"irqs_total_per_mib\": %.2f, ",
	       b.irq_all - a.irq_all, (b.irq_all - a.irq_all) / mib);
	printf("\"cpu_busy_ms\": %.1f, \"cpu_ms_per_mib\": %.3f, ",
	       (b.busy - a.busy) * 1e3 / sysconf(_SC_CLK_TCK),
	       (b.busy - a.busy) * 1e3 / sysconf(_SC_CLK_TCK) / mib);
	printf("\"readers_cpu_ms\": %.3f, ", b.rusage_ms - a.rusage_ms);
	/* bytes per second of the readers' own CPU time (all of them) */
	if (b.rusage_ms > a.rusage_ms)
		printf("\"mb_per_cpu_s\": %.3f, ",
		       total / ((b.rusage_ms - a.rusage_ms) / 1e3) / 1e6);
	else
		printf("\"mb_per_cpu_s\": null, ");
	printf("\"drained\": %llu, ", o->drain);
	if (timed_out)
		printf("\"error\": \"timeout after %u s\", ", o->timeout);
	else if (err)
		printf("\"error\": \"%s\", ", strerror(err));
	/* the state again: it must not have changed while we measured */
	read_line(HWRNG_SYSFS "rng_current", cur, sizeof(cur));
	jstr("rng_current_after", cur);
	printf("\"rngd_after\": %s}\n", rngd_running() ? "true" : "false");
	fflush(stdout);
	return err || timed_out ? 1 : 0;
}

/* Time to first byte after a seed, @o->count times with seeds 1, 2, ... */
static int ttfb(const struct opts *o)
{
	double t0, t1, t2, t3;
	char seed[32], buf[64];
	int i, fd, ret, rc = 0;
	ssize_t n;

	for (i = 1; i <= o->count; i++) {
		fd = open(o->path, O_RDONLY);
		if (fd < 0) {
			print_error(o, "open: %s", strerror(errno));
			return 1;
		}
		snprintf(seed, sizeof(seed), "%d", i);
		t0 = now();
		ret = write_file(o->seed_file, seed);
		t1 = now();
		if (!ret && o->select)
			ret = write_file(HWRNG_SYSFS "rng_current", o->select);
		t2 = now();
		n = ret ? -1 : read(fd, buf, sizeof(buf));
		t3 = now();
		close(fd);
		printf("{");
		print_meta(o);
		jstr("path", o->path);
		print_state();
		printf("\"seed\": %d, \"seed_write_us\": %.1f, \"select_us\": %.1f, ",
		       i, (t1 - t0) * 1e6, (t2 - t1) * 1e6);
		printf("\"read_us\": %.1f, \"ttfb_us\": %.1f",
		       (t3 - t2) * 1e6, (t3 - t0) * 1e6);
		if (ret || n != (ssize_t)sizeof(buf)) {
			printf(", \"error\": \"%s\"", ret ? strerror(-ret) :
			       n < 0 ? strerror(errno) : "short read");
			rc = 1;
		}
		printf("}\n");
		fflush(stdout);
	}
	return rc;
}

/* What doing nothing for @o->idle seconds costs. */
static int idle(const struct opts *o)
{
	struct timespec ts = {
		.tv_sec = (time_t)o->idle,
		.tv_nsec = (long)((o->idle - (time_t)o->idle) * 1e9),
	};
	struct snapshot a, b;
	double t0, t1, busy;

	printf("{");
	print_meta(o);
	print_state();
	take_snapshot(o, &a);
	t0 = now();
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	t1 = now();
	take_snapshot(o, &b);
	busy = (b.busy - a.busy) * 1e3 / sysconf(_SC_CLK_TCK);
	printf("\"idle_seconds\": %.3f, ", t1 - t0);
	if (o->irq_match) {
		jstr("irq_line", o->irq_match);
		printf("\"irqs\": %llu, ", b.irq_dev - a.irq_dev);
	}
	printf("\"irqs_total\": %llu, \"cpu_busy_ms\": %.1f, ",
	       b.irq_all - a.irq_all, busy);
	printf("\"cpu_busy_pct\": %.2f, ", busy / 10 / (t1 - t0) /
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("\"rngd_after\": %s}\n", rngd_running() ? "true" : "false");
	fflush(stdout);
	return 0;
}

/* -p's list into @o->paths; -1 if it is empty or too long. */
static int split_paths(struct opts *o)
{
	char *list = strdup(o->path), *save = NULL, *p;

	if (!list)
		return -1;
	for (p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (o->npaths == MAX_PATHS)
			return -1;
		o->paths[o->npaths++] = p;
	}
	return o->npaths ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .block = 64, .readers = 1, .count = 5, .timeout = 60 };
	struct sigaction sa = { .sa_handler = on_alarm };
	int c;

	/* no SA_RESTART: the alarm interrupts waitpid() */
	sigaction(SIGALRM, &sa, NULL);

	while ((c = getopt(argc, argv, "p:b:r:n:iq:s:m:TS:c:I:t:D:P:")) != -1) {
		switch (c) {
		case 'p':
			o.path = optarg;
			break;
		case 'b':
			o.block = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			o.readers = atoi(optarg);
			break;
		case 'n':
			o.bytes = strtoull(optarg, NULL, 0);
			break;
		case 'i':
			o.ioctl_mode = true;
			break;
		case 'q':
			o.irq_match = optarg;
			break;
		case 's':
			o.select = optarg;
			break;
		case 'm':
			if (o.nmeta == MAX_META || !strchr(optarg, '='))
				die_usage();
			o.meta[o.nmeta++] = optarg;
			break;
		case 'T':
			o.ttfb = true;
			break;
		case 'S':
			o.seed_file = optarg;
			break;
		case 'c':
			o.count = atoi(optarg);
			break;
		case 't':
			o.timeout = atoi(optarg);
			break;
		case 'I':
			o.idle = strtod(optarg, NULL);
			break;
		case 'D':
			o.drain = strtoull(optarg, NULL, 0);
			break;
		case 'P':
			o.drain_path = optarg;
			break;
		default:
			die_usage();
		}
	}
	if (optind != argc)
		die_usage();
	if (o.idle > 0)
		return idle(&o);
	if (!o.path)
		die_usage();
	if (split_paths(&o))
		die_usage();
	if (o.ttfb)
		return o.seed_file && o.count > 0 ? ttfb(&o) : (die_usage(), 2);
	if (!o.bytes || !o.block || !o.timeout || (o.ioctl_mode && o.block < 4) ||
	    o.readers < 1 || o.readers > MAX_READERS)
		die_usage();
	return measure(&o);
}
