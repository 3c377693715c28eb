/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iovec iterator, as Linux's ITER_IOVEC. */
#include "private.h"

void udax_iter_init(struct udax_iter *it, const struct iovec *iov,
		    unsigned long nr_segs, size_t count)
{
	size_t total = 0;
	unsigned long i;

	if (!it)
		return;
	if (!iov)
		nr_segs = 0;	/* an empty iterator: the copies move nothing */
	for (i = 0; i < nr_segs && total < count; i++)
		total += iov[i].iov_len < count - total ? iov[i].iov_len
							: count - total;
	it->iov = iov;
	it->nr_segs = nr_segs;
	it->iov_offset = 0;
	it->count = total;
	/* Zero-length leading segments would make every copy loop skip them. */
	while (it->nr_segs && it->iov->iov_len == 0) {
		it->iov++;
		it->nr_segs--;
	}
}

void udax__iter_advance(struct udax_iter *it, size_t n)
{
	it->count -= n;
	n += it->iov_offset;
	while (it->nr_segs && n >= it->iov->iov_len) {
		n -= it->iov->iov_len;
		it->iov++;
		it->nr_segs--;
	}
	it->iov_offset = it->nr_segs ? n : 0;
}
