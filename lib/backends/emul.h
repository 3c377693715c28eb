/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Between the emulated backend (emul.c) and its fault side (emul-fault.c). */
#ifndef UDAX_BACKENDS_EMUL_H
#define UDAX_BACKENDS_EMUL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct udax_bb;
struct emul_map;

/*
 * Watch [base, base + len), the mapping the program is given: a SIGSEGV on
 * a protected page there is emulated poison when @media has a bad sector
 * in it (then *@wake = 1), or a clean page of a coalesced run (reopened
 * with @prot).  0 or -ENOMEM.
 */
int udax__emul_map_register(void *base, size_t len, int prot,
			    const struct udax_bb *media, int *wake,
			    struct emul_map **out);
/* Stop watching; waits for handlers still looking at @m.  NULL is ignored. */
void udax__emul_map_unregister(struct emul_map *m);
/* Pages (from base) the program consumed since the last drain, at most
 * @max; the rest stay for the next call.  One load when there are none. */
size_t udax__emul_map_drain(struct emul_map *m, uint64_t *pages, size_t max);
/* mcsafe.c's SIGSEGV hook for the emulated device. */
bool udax__emul_fault_hook(int sig, void *si, void *uc);

#endif /* UDAX_BACKENDS_EMUL_H */
