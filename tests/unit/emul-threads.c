/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Readers run while another thread injects and clears poison: a read never
 * crashes, never returns bytes of a poisoned page, and stops exactly at the
 * page being poisoned; pages nobody touches always read back intact.
 */
#include <pthread.h>

#include "harness.h"
#include "private.h"

#define PAGES 64
#define VICTIM 37

static struct udax_dev *dev;
static int stop;
static char expect[PAGES * UDAX_PAGE_SIZE];

static void *reader(void *arg)
{
	static __thread char buf[PAGES * UDAX_PAGE_SIZE];
	long reads = 0, short_reads = 0;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		ssize_t r = udax_pread(dev, buf, sizeof(buf), 0);
		size_t vic = (size_t)VICTIM * UDAX_PAGE_SIZE, i;
		void *k = NULL;
		long n;

		if (r != (ssize_t)sizeof(buf) && r != (ssize_t)vic)
			t_fail("pread returned %zd", r);
		short_reads += r != (ssize_t)sizeof(buf);
		if (memcmp(buf, expect, vic))
			t_fail("a page before the victim changed");
		if (r == (ssize_t)sizeof(buf)) {
			if (memcmp(buf + vic + UDAX_PAGE_SIZE,
				   expect + vic + UDAX_PAGE_SIZE,
				   sizeof(buf) - vic - UDAX_PAGE_SIZE))
				t_fail("a page after the victim changed");
			/* The victim reads as the pattern or as cleared (a
			 * clear may be under way: byte by byte). */
			for (i = vic; i < vic + UDAX_PAGE_SIZE; i++)
				if (buf[i] && buf[i] != expect[i])
					t_fail("victim byte %zu: %d", i - vic, buf[i]);
		}
		n = udax_direct_access(dev, 0, PAGES, &k, NULL);
		if (n != PAGES && n != -EIO)
			t_fail("direct_access returned %ld", n);
		reads++;
	}
	printf("reader: %ld reads, %ld stopped at poison\n", reads, short_reads);
	return NULL;
}

int main(void)
{
	char *dir = t_tmpdir(), img[300];
	pthread_t r[2];
	long rounds = 0;
	uint64_t seed = 42;
	size_t i;

	snprintf(img, sizeof(img), "%s/img", dir);
	t_ok(udax_create(img, PAGES * UDAX_PAGE_SIZE));
	t_ok(udax_open(img, 0, &dev));
	for (i = 0; i < sizeof(expect); i++)
		expect[i] = (char)(t_rand(&seed) | 1);
	t_eq(udax_pwrite(dev, expect, sizeof(expect), 0), sizeof(expect));

	for (i = 0; i < 2; i++)
		t_ok(pthread_create(&r[i], NULL, reader, NULL));
	for (rounds = 0; rounds < 400; rounds++) {
		unsigned int fl = rounds & 1 ? UDAX_INJECT_LATENT : 0;

		t_ok(udax_inject(dev, (uint64_t)VICTIM * UDAX_PAGE_SIZE + 512 * (rounds % 8),
				 512, fl));
		usleep(500);
		t_ok(udax_zero_page_range(dev, VICTIM, 1));
		usleep(200);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++)
		t_ok(pthread_join(r[i], NULL));
	t_eq(udax_badblocks(dev, NULL, 0), 0);
	printf("writer: %ld inject/clear rounds\n", rounds);
	udax_close(dev);
	t_tmpdir_rm(dir);
	return 0;
}
