/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <udax/udax.h>

#include "util.h"

const char *cli_cmd;
bool cli_verbose;
bool cli_quiet;

static void vmsg(const char *what, const char *fmt, va_list ap)
{
	if (cli_quiet)
		return;
	if (cli_cmd)
		fprintf(stderr, "udax %s: ", cli_cmd);
	else
		fputs("udax: ", stderr);
	if (what)
		fprintf(stderr, "%s: ", what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_err(const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(what, fmt, ap);
	va_end(ap);
}

int cli_errno(const char *what, int err)
{
	/*
	 * No "(poison)" for -EIO: the callers that can meet poison handle
	 * its -EIO themselves; what reaches here is a file's I/O error
	 * (saving the poison state, syncing the image, OUT or the map).
	 */
	if (err == -ENXIO)
		cli_err(what, "device gone (%s)", strerror(ENXIO));
	else
		cli_err(what, "%s", strerror(err < 0 ? -err : err));
	return EXIT_FAIL;
}

int cli_usage_err(const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(what, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

void cli_info(const char *fmt, ...)
{
	va_list ap;

	if (!cli_verbose || cli_quiet)
		return;
	va_start(ap, fmt);
	vmsg(NULL, fmt, ap);
	va_end(ap);
}

static int digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int parse_size(const char *s, uint64_t *out)
{
	unsigned int base = 10, shift = 0;
	bool over = false;
	uint64_t v = 0;
	const char *p = s;
	int d;

	if (!s)
		return -EINVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	/* strtoull() would take spaces, signs and "0x" alone: not here. */
	if ((d = digit_value((unsigned char)*p)) < 0 || d >= (int)base)
		return -EINVAL;
	for (; (d = digit_value((unsigned char)*p)) >= 0 && d < (int)base; p++) {
		/* Too large, unless it is not a number at all: read on. */
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			over = true;
		v = v * base + (uint64_t)d;
	}
	switch (*p) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (shift) {
		p++;
		if (p[0] == 'i' && p[1] == 'B')
			p += 2;
	}
	if (*p)
		return -EINVAL;
	if (over || (shift && v > (UINT64_MAX >> shift)))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int parse_ddrescue_size(const char *s, uint64_t *out)
{
	static const char prefix[] = "kMGTPE";
	unsigned int base = 10;
	uint64_t v = 0, mul = 1;
	const char *p = s, *at;
	bool over = false;
	int d;

	if (!s)
		return -EINVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && p[1] >= '0' && p[1] <= '7') {
		base = 8;
		p++;
	}
	if ((d = digit_value((unsigned char)*p)) < 0 || d >= (int)base)
		return -EINVAL;
	for (; (d = digit_value((unsigned char)*p)) >= 0 && d < (int)base; p++) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			over = true;
		v = v * base + (uint64_t)d;
	}
	if (*p == 's') {			/* sectors */
		mul = UDAX_SECTOR_SIZE;
		p++;
	} else if (*p && (at = strchr(prefix, *p == 'K' ? 'k' : *p))) {
		bool bin = p[1] == 'i';
		int n = (int)(at - prefix) + 1;

		for (int i = 0; i < n; i++) {
			if (mul > UINT64_MAX / (bin ? 1024 : 1000))
				return -ERANGE;
			mul *= bin ? 1024 : 1000;
		}
		p += bin ? 2 : 1;
	}
	if (*p == 'B')
		p++;
	if (*p)
		return -EINVAL;
	if (over || v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (*s)
		return -EINVAL;
	*out = v;
	return 0;
}

const char *fmt_size(uint64_t bytes, char *buf)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	int i = -1;

	if (bytes < 1024) {
		snprintf(buf, 32, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	snprintf(buf, 32, "%.1f %s", v, unit[i]);
	return buf;
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t w = pwrite(fd, p, len, off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		off += w;
		len -= (size_t)w;
	}
	return 0;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = read(fd, (char *)buf + done, len - done);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!r)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* The library's last error line, for messages that need its detail. */
static char last_lib_err[512];

int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return -errno;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

int cli_open(const char *path, unsigned int flags, struct udax_dev **dev)
{
	int rc;

	last_lib_err[0] = 0;
	if (flags == CLI_OPEN_READ) {
		/* Read-write where allowed, so that poison a read finds
		 * stays known after this command; read-only otherwise. */
		rc = udax_open(path, 0, dev);
		if (rc == -EACCES || rc == -EPERM || rc == -EROFS) {
			cli_info("%s: read-write refused (%s): opened read-only; poison found now is reported but not recorded",
				 path, strerror(-rc));
			rc = udax_open(path, UDAX_OPEN_RDONLY, dev);
		}
	} else {
		rc = udax_open(path, flags, dev);
	}
	if (rc == -EOPNOTSUPP) {
		cli_err(path, "not a udax device (an emulated image, a DAX file, /dev/pmemN or /dev/daxX.Y)");
		return EXIT_FAIL;
	}
	if (rc == -EUCLEAN) {
		cli_err(path, "corrupt device: %s",
			last_lib_err[0] ? last_lib_err : "corrupt image or poison state");
		return EXIT_FAIL;
	}
	if (rc)
		return cli_errno(path, rc);
	return EXIT_OK;
}

int cli_check_range(struct udax_dev *dev, const char *path, uint64_t off,
		    uint64_t len)
{
	uint64_t size = udax_size(dev);

	if (off > size || len > size - off)
		return cli_usage_err(path,
			"range %llu+%llu is past the end of the device (%llu bytes)",
			(unsigned long long)off, (unsigned long long)len,
			(unsigned long long)size);
	return EXIT_OK;
}

long cli_ranges(struct udax_dev *dev,
		long (*get)(struct udax_dev *, struct udax_range *, size_t),
		struct udax_range **out)
{
	struct udax_range *r = NULL;
	long n = get(dev, NULL, 0);

	/* The list may grow between the calls: retry until it fits. */
	while (n >= 0) {
		struct udax_range *t = realloc(r, ((size_t)n + 1) * sizeof(*r));
		long m;

		if (!t) {
			free(r);
			return -ENOMEM;
		}
		r = t;
		m = get(dev, r, (size_t)n + 1);
		if (m >= 0 && m <= n + 1) {
			*out = r;
			return m;
		}
		n = m;
	}
	free(r);
	return n;
}

long cli_badblocks(struct udax_dev *dev, struct udax_range **out)
{
	return cli_ranges(dev, udax_badblocks, out);
}

size_t ranges_sub(const struct udax_range *a, size_t na,
		  const struct udax_range *b, size_t nb, struct udax_range *out)
{
	size_t i, j = 0, n = 0;

	/* A piece of @a starts at its start or at the end of a @b range that
	 * starts inside it: at most one per @a range plus one per @b range. */
	for (i = 0; i < na; i++) {
		uint64_t cur = a[i].off, end = a[i].off + a[i].len;
		size_t k;

		/* @a ascends: what ends before a[i] ends before a[i + 1] */
		while (j < nb && b[j].off + b[j].len <= cur)
			j++;
		for (k = j; k < nb && b[k].off < end; k++) {
			if (b[k].off > cur)
				out[n++] = (struct udax_range){ cur, b[k].off - cur };
			if (b[k].off + b[k].len > cur)
				cur = b[k].off + b[k].len;
			if (cur >= end)
				break;
		}
		if (cur < end)
			out[n++] = (struct udax_range){ cur, end - cur };
	}
	return n;
}

size_t ranges_and(const struct udax_range *a, size_t na,
		  const struct udax_range *b, size_t nb, struct udax_range *out)
{
	size_t i = 0, j = 0, n = 0;

	while (i < na && j < nb) {
		uint64_t ae = a[i].off + a[i].len, be = b[j].off + b[j].len;
		uint64_t s = a[i].off > b[j].off ? a[i].off : b[j].off;
		uint64_t e = ae < be ? ae : be;

		if (s < e)
			out[n++] = (struct udax_range){ s, e - s };
		if (ae < be)
			i++;
		else
			j++;
	}
	return n;
}

uint64_t ranges_bytes(const struct udax_range *r, size_t n)
{
	uint64_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += r[i].len;
	return t;
}

static void log_cb(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level <= UDAX_LOG_ERR)
		snprintf(last_lib_err, sizeof(last_lib_err), "%s", msg);
	if (cli_verbose && !cli_quiet)
		fprintf(stderr, "udax %s: libudax: %s%s\n", cli_cmd ? cli_cmd : "",
			level <= UDAX_LOG_ERR ? "error: " : "", msg);
}

void cli_log_init(void)
{
	udax_set_log(log_cb, NULL, cli_verbose ? UDAX_LOG_DEBUG : UDAX_LOG_ERR);
}

uint64_t cli_first_known_bad(struct udax_dev *dev, uint64_t off, uint64_t len)
{
	struct udax_range *bb = NULL;
	uint64_t at = UINT64_MAX;
	long n = cli_badblocks(dev, &bb);

	for (long i = 0; i < n; i++) {
		if (bb[i].off + bb[i].len <= off)
			continue;
		if (bb[i].off < off + len)
			at = bb[i].off > off ? bb[i].off : off;
		break;
	}
	free(bb);
	return at;
}
