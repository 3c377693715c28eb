/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A poison state of millions of known ranges and a million media runs
 * opens and works: reads around the poison, direct_access, plain loads, a
 * transaction (inject), a clear, a scrub, reopen; the process's mappings
 * stay bounded.  make check: 1 M known ranges and 100 k media runs;
 * UDAX_TEST_STRESS=1 (make stress): 10 M and 1 M.  UDAX_TEST_KNOWN sets
 * the number of known ranges.  Times are printed, never asserted.
 *
 * Layout: known range i is sector 2i (one sector in two: nothing merges);
 * every tenth of them is media poison too, each in its own page; then a
 * clean MiB of data.
 */
#include <time.h>

#include "emul-util.h"

#define CLEAN 256	/* clean pages after the bad zone */

static char *dir;
static char img[300];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "<a> <b>\n" for every range, formatted by hand: 11 M lines of fprintf
 * would dominate the test. */
static char *put_u64(char *p, uint64_t v)
{
	char t[24];
	int n = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*p++ = t[--n];
	return p;
}

static void write_state(uint64_t nk)
{
	uint64_t nm = nk / 10;
	size_t cap = (size_t)(nk + nm) * 24 + 64;
	char *text = malloc(cap), *p = text, path[320];
	int fd;

	t_assert(text);
	p += sprintf(p, "udax-poison 1\nknown\n");
	for (uint64_t i = 0; i < nk; i++) {
		p = put_u64(p, 2 * i);
		memcpy(p, " 1\n", 3);
		p += 3;
	}
	p += sprintf(p, "media\n");
	for (uint64_t j = 0; j < nm; j++) {
		p = put_u64(p, 20 * j);
		memcpy(p, " 1\n", 3);
		p += 3;
	}
	snprintf(path, sizeof(path), "%s.poison", img);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	t_assert(fd >= 0);
	for (char *q = text; q < p;) {
		ssize_t w = write(fd, q, (size_t)(p - q));

		t_assert(w > 0);
		q += w;
	}
	close(fd);
	printf("state: %llu known, %llu media ranges, %.0f MiB of text\n",
	       (unsigned long long)nk, (unsigned long long)nm,
	       (double)(p - text) / (1 << 20));
	free(text);
}

static char *addr_of(struct udax_dev *dev, uint64_t pg)
{
	void *k = (void *)UDAX_OP_RECOVERY;

	t_assert(udax_direct_access(dev, pg, 1, &k, NULL) >= 1);
	return udax_kaddr_untag(k);
}

int main(void)
{
	const char *stress = getenv("UDAX_TEST_STRESS"), *env = getenv("UDAX_TEST_KNOWN");
	uint64_t nk = stress && *stress && strcmp(stress, "0") ? 10000000 : 1000000;
	uint64_t bad_pages, pages, clean0, media_pg;
	unsigned char *buf;
	struct udax_dev *dev;
	long base, in;
	double t;
	void *k;
	int fd;

	if (env && *env)
		nk = strtoull(env, NULL, 0) / 40 * 40;
	if (nk < 40)
		nk = 40;
	if (t_under_valgrind())
		t_skip("valgrind aborts on the SIGBUS emulated poison queues");
	bad_pages = nk / 4;
	clean0 = bad_pages;
	pages = bad_pages + CLEAN;
	dir = e_tmpdir();
	snprintf(img, sizeof(img), "%s/img", dir);
	e_image(img, pages, 0);
	buf = malloc(CLEAN * PG);
	t_assert(buf);
	/* The clean zone's data. */
	fd = open(img, O_RDWR | O_CLOEXEC);
	t_assert(fd >= 0);
	for (uint64_t i = 0; i < CLEAN; i++)
		e_fill(buf + i * PG, 5, clean0 + i);
	t_eq(pwrite(fd, buf, CLEAN * PG, (off_t)((clean0 + 1) * PG)), CLEAN * PG);
	close(fd);

	t = now();
	write_state(nk);
	printf("state written in %.2f s\n", now() - t);

	base = e_maps(0, 0, NULL);
	t = now();
	t_ok(udax_open(img, 0, &dev));
	printf("open: %.2f s\n", now() - t);
	e_maps((uintptr_t)addr_of(dev, 0), (uintptr_t)addr_of(dev, 0) + pages * PG, &in);
	printf("mappings: %ld in the device, %ld more in the process\n", in,
	       e_maps(0, 0, NULL) - base);
	t_assert(in <= 2 * 16384 + 1);
	t_eq(udax_badblocks(dev, NULL, 0), (long)nk);
	t_eq(udax_media_poison(dev, NULL, 0), (long)(nk / 10));

	/* Around the poison. */
	k = NULL;
	t_eq(udax_direct_access(dev, 0, 16, &k, NULL), -EIO);
	k = (void *)UDAX_OP_RECOVERY;
	t_eq(udax_direct_access(dev, 0, 16, &k, NULL), 1);
	k = NULL;
	t_eq(udax_direct_access(dev, clean0, CLEAN, &k, NULL), CLEAN);
	t_eq(udax_pread(dev, buf, CLEAN * PG, clean0 * PG), CLEAN * PG);
	for (uint64_t i = 0; i < CLEAN; i++)
		t_assert(e_is_page(buf + i * PG, 5, clean0 + i));
	t_eq(udax_pread(dev, buf, 2 * PG, (clean0 - 1) * PG), -EIO);
	t_eq(udax_read(dev, buf, PG, (bad_pages / 2) * PG, UDAX_OP_RECOVERY), -EIO);
	t_eq(udax_pwrite(dev, buf, 10, clean0 * PG + 5), 10);
	{
		unsigned char v = 0;
		siginfo_t si;

		/* A media page faults; a clean one reads. */
		media_pg = (20 * (nk / 10 / 2)) / 8;
		t_eq(e_touch((unsigned char *)addr_of(dev, media_pg) + 9, false, &v, &si), SIGBUS);
		t_eq(si.si_code, BUS_MCEERR_AR);
		t_eq(e_touch((unsigned char *)addr_of(dev, clean0 + 3) + 9, false, &v, NULL), 0);
		t_eq(v, e_byte(5, clean0 + 3, 9));
	}

	/* A transaction rewrites the whole state. */
	t = now();
	t_ok(udax_inject(dev, (clean0 + 7) * PG, PG, 0));
	printf("inject (one transaction): %.2f s\n", now() - t);
	t_eq(udax_badblocks(dev, NULL, 0), (long)nk + 1);
	t_eq(udax_pread(dev, buf, PG, (clean0 + 7) * PG), -EIO);

	/* Clear a media page: its four known sectors go. */
	{
		struct udax_range r = { media_pg * PG, PG };

		t = now();
		t_eq(udax_clear(dev, &r, 1, 0), PG);
		printf("clear: %.2f s\n", now() - t);
	}
	t_eq(udax_badblocks(dev, NULL, 0), (long)nk + 1 - 4);
	t_eq(udax_pread(dev, buf, PG, media_pg * PG), PG);
	for (int i = 0; i < PG; i++)
		t_eq(buf[i], 0);
	t = now();
	t_eq(udax_scrub(dev), 0);	/* every media sector was known */
	printf("scrub: %.2f s\n", now() - t);
	udax_close(dev);

	t = now();
	t_ok(udax_open(img, UDAX_OPEN_RDONLY, &dev));
	printf("reopen: %.2f s\n", now() - t);
	t_eq(udax_badblocks(dev, NULL, 0), (long)nk + 1 - 4);
	t_eq(udax_media_poison(dev, NULL, 0), (long)(nk / 10));	/* one cleared, one injected */
	udax_close(dev);
	/* (allocators map memory of their own meanwhile: ASan's, many) */
	t_assert(e_maps(0, 0, NULL) <= base + 1024);
	free(buf);
	t_tmpdir_rm(dir);
	printf("ok %llu known ranges, %llu media runs\n", (unsigned long long)nk,
	       (unsigned long long)(nk / 10));
	return 0;
}
