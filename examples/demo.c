/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guided tour of udax on a fresh emulated device: write data, poison a
 * page, watch failfast refuse it, read around it in recovery mode, and
 * clear it with a recovery write.  `make demo` runs this.
 *
 *   udax-demo DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udax/udax.h>

#define PAGES 16

static void step(const char *what)
{
	printf("\n== %s\n", what);
}

static void show_list(struct udax_dev *dev)
{
	char text[256];
	long n = udax_badblocks(dev, NULL, 0);

	udax_badblocks_export(dev, text, sizeof(text));
	printf("   known bad blocks: %ld range(s)%s\n", n, n ? ", sysfs form:" : "");
	if (n)
		printf("%s", text);
}

static int die(const char *what, long err)
{
	fprintf(stderr, "udax-demo: %s: %s\n", what, strerror((int)-err));
	return 1;
}

int main(int argc, char **argv)
{
	static char data[PAGES * UDAX_PAGE_SIZE], back[PAGES * UDAX_PAGE_SIZE];
	struct udax_dev *dev;
	char path[4096];
	void *kaddr;
	long n, i;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: udax-demo DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/demo.img", argv[1]);

	step("create a 64 KiB emulated pmem device (16 pages of 4 KiB)");
	rc = udax_create(path, sizeof(data));
	if (rc)
		return die(path, rc);
	rc = udax_open(path, 0, &dev);
	if (rc)
		return die(path, rc);
	printf("   %s: backend %s, %llu bytes\n", path, udax_backend(dev),
	       (unsigned long long)udax_size(dev));

	step("write a pattern over the whole device");
	for (i = 0; i < (long)sizeof(data); i++)
		data[i] = (char)('A' + i / UDAX_PAGE_SIZE);
	n = udax_pwrite(dev, data, sizeof(data), 0);
	printf("   udax_pwrite(64 KiB at 0) = %ld; page k holds letter 'A'+k\n", n);
	show_list(dev);

	step("inject poison into one sector of page 5 (sector 41, byte 20992)");
	rc = udax_inject(dev, 41 * UDAX_SECTOR_SIZE, UDAX_SECTOR_SIZE, 0);
	if (rc)
		return die("inject", rc);
	show_list(dev);

	step("failfast: direct_access over pages 0-7 refuses before touching memory");
	kaddr = NULL;
	n = udax_direct_access(dev, 0, 8, &kaddr, NULL);
	printf("   udax_direct_access(pgoff 0, 8 pages, failfast) = %ld (%s)\n", n,
	       n < 0 ? strerror((int)-n) : "ok");

	step("recovery: direct_access says how far it is safe to go");
	kaddr = (void *)UDAX_OP_RECOVERY;
	n = udax_direct_access(dev, 0, 8, &kaddr, NULL);
	printf("   udax_direct_access(pgoff 0, 8 pages, recovery) = %ld page(s); "
	       "kaddr mode = %lu (recovery)\n", n, udax_kaddr_mode(kaddr));
	printf("   (pages 0-4, plus page 5: its bad sector is not its first, and "
	       "Linux's recovery\n    stride counts such a page; the copy itself "
	       "stops where page 5 starts)\n");

	step("read the whole device as a DAX file system would");
	memset(back, 0, sizeof(back));
	n = udax_pread(dev, back, sizeof(back), 0);
	printf("   udax_pread(64 KiB at 0) = %ld: pages 0-4 read (%s), "
	       "poison starts at byte %ld (page %ld)\n", n,
	       memcmp(back, data, (size_t)n) ? "MISMATCH" : "data intact", n,
	       n / UDAX_PAGE_SIZE);
	n = udax_pread(dev, back, UDAX_PAGE_SIZE, 5 * UDAX_PAGE_SIZE);
	printf("   udax_pread(page 5) = %ld (%s): nothing of it is readable\n", n,
	       n < 0 ? strerror((int)-n) : "?");

	step("a write covering part of the poisoned page cannot recover it");
	n = udax_pwrite(dev, data, 100, 5 * UDAX_PAGE_SIZE + 10);
	printf("   udax_pwrite(100 bytes inside page 5) = %ld (%s)\n", n,
	       n < 0 ? strerror((int)-n) : "?");
	show_list(dev);

	step("a recovery write of the whole page clears the poison");
	n = udax_pwrite(dev, data + 5 * UDAX_PAGE_SIZE, UDAX_PAGE_SIZE,
			5 * UDAX_PAGE_SIZE);
	printf("   udax_pwrite(page 5, 4 KiB) = %ld\n", n);
	show_list(dev);
	n = udax_pread(dev, back, sizeof(back), 0);
	printf("   udax_pread(64 KiB at 0) = %ld: %s\n", n,
	       n == (long)sizeof(back) && !memcmp(back, data, sizeof(back))
		       ? "every page reads back as written" : "MISMATCH");

	step("latent poison: on the media but not yet known");
	udax_inject(dev, 9 * UDAX_PAGE_SIZE, UDAX_SECTOR_SIZE, UDAX_INJECT_LATENT);
	show_list(dev);
	kaddr = NULL;
	n = udax_direct_access(dev, 0, PAGES, &kaddr, NULL);
	printf("   failfast direct_access(16 pages) = %ld: it cannot see latent "
	       "poison\n", n);
	n = udax_pread(dev, back, sizeof(back), 0);
	printf("   udax_pread(64 KiB at 0) = %ld: the machine-check safe copy "
	       "stopped at page %ld, and the poison is now known:\n", n,
	       n / UDAX_PAGE_SIZE);
	show_list(dev);

	udax_close(dev);
	printf("\ndone: the image is %s (poison state beside it in %s.poison)\n",
	       path, path);
	return 0;
}
