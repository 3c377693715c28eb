/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The baseline for the bad-block lookup: the table Linux keeps per block
 * device (block/badblocks.c before 6.7), rewritten from its description.
 * One page of 512 u64 entries sorted by offset, each packing
 *
 *   63     62 ............................ 9  8 ........ 0
 *   [ack]  [first sector, 54 bits          ]  [length - 1]
 *
 * so a range is at most 512 sectors and a table at most 512 ranges.  A
 * lookup is badblocks_check(): a seqlock read around a binary search for the
 * last entry starting before the end of the query, then a walk back over
 * the entries that end after its start.
 */
#ifndef UDAX_BENCH_LINUX_BADBLOCKS_H
#define UDAX_BENCH_LINUX_BADBLOCKS_H

#include <stdint.h>
#include <udax/udax.h>

#define LBB_MAX   512	/* entries: one 4 KiB page */
#define LBB_MAXLEN 512	/* sectors per entry */

struct lbb {
	unsigned int seq;	/* odd while a writer is inside */
	int count;
	uint64_t *page;
};

/* Fill @bb with @n sorted, disjoint ranges (sectors), all acknowledged.
 * 0, or -EINVAL when they do not fit the Linux format, -ENOMEM. */
int lbb_load(struct lbb *bb, const struct udax_range *r, size_t n);
void lbb_free(struct lbb *bb);

/*
 * badblocks_check(): 0 when [s, s + sectors) holds no bad sector; 1 when it
 * does and all of them are acknowledged, -1 otherwise.  *first_bad and
 * *bad_sectors describe the first overlapping entry.
 */
int lbb_check(const struct lbb *bb, uint64_t s, int sectors,
	      uint64_t *first_bad, int *bad_sectors);

#endif
