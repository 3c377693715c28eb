/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CXL memory regions (cxl.c): host <-> device physical address translation
 * through a region's interleave, the region's layout as sysfs shows it, and
 * the memory devices' poison lists.  Private to libudax.
 *
 *   region (HPA base, size, ways W, granularity G)
 *     target0 = decoderA.B ── endpointA ── uport ── memX  (DPA base, size)
 *     target1 = ...                                         position 1
 *
 * An HPA offset in the region is cut into G-byte chunks; chunk c lives on
 * the device at position c mod W, as that device's chunk c / W.
 */
#ifndef UDAX_CXL_H
#define UDAX_CXL_H

#include <stddef.h>
#include <stdint.h>

#define UDAX_CXL_MAX_WAYS 16
#define UDAX_CXL_ADDR_BITS 52		/* HPA[51:0], DPA[51:0] in the spec */

/* One interleave: ways 1, 2, 3, 4, 6, 8, 12 or 16; granularity 256 B to
 * 16 KiB, a power of two. */
struct udax_cxl_il {
	unsigned int ways;
	unsigned int gran;
};

/* The spec's encodings (CXL 3.0 8.2.4.19.7, HDM Decoder n Control):
 * eiw 0..4 for 1..16 ways, 8..10 for 3, 6, 12; eig 0..6 for 256 B..16 KiB.
 * 0 or -EINVAL. */
int udax__cxl_eiw(unsigned int ways, unsigned int *eiw);
int udax__cxl_eig(unsigned int gran, unsigned int *eig);

/*
 * @hpa_off, an offset from the region's base, lives on the device at
 * position *pos, at *dpa_off from that device's decoder base.  0, -EINVAL
 * (bad interleave), -ERANGE (@hpa_off needs more than 52 bits).
 */
int udax__cxl_hpa_to_dpa(const struct udax_cxl_il *il, uint64_t hpa_off,
			 unsigned int *pos, uint64_t *dpa_off);
/* The inverse.  0, -EINVAL (bad interleave or @pos >= ways), -ERANGE. */
int udax__cxl_dpa_to_hpa(const struct udax_cxl_il *il, unsigned int pos,
			 uint64_t dpa_off, uint64_t *hpa_off);

struct udax_cxl_target {
	char decoder[32];		/* endpoint decoder, "decoder5.0" */
	char memdev[32];		/* "mem2" */
	uint64_t dpa_base, dpa_size;
};

struct udax_cxl_region {
	char name[32];			/* "region0" */
	uint64_t hpa_base, size;
	struct udax_cxl_il il;
	struct udax_cxl_target t[UDAX_CXL_MAX_WAYS];	/* by position */
};

/* The CXL region whose HPA range holds [phys, phys + len), read from
 * /sys/bus/cxl.  0, -ENOENT (none: not CXL memory), -errno. */
int udax__cxl_region_find(uint64_t phys, uint64_t len,
			  struct udax_cxl_region *out);
/* Region @name's layout.  0 or -errno (-EINVAL: inconsistent layout). */
int udax__cxl_region_load(const char *name, struct udax_cxl_region *out);

/*
 * Bytes [dpa, dpa + len) of the device at position @pos as host physical
 * ranges: @fn gets each piece (at most one per interleave chunk, adjacent
 * pieces merged) and may stop the walk by returning non-zero, which is
 * returned.  Bytes outside the device's decoder are skipped.
 */
int udax__cxl_dpa_range_to_hpa(const struct udax_cxl_region *r,
			       unsigned int pos, uint64_t dpa, uint64_t len,
			       int (*fn)(void *arg, uint64_t hpa, uint64_t len),
			       void *arg);

/* One record of a memory device's poison list. */
struct udax_cxl_poison {
	char memdev[32];
	uint64_t dpa, len;		/* bytes */
	uint64_t hpa;			/* the kernel's translation; UINT64_MAX
					 * when it gave none */
};

/*
 * The "List" records of cxl_poison trace events in @text (a tracefs trace
 * buffer; other lines are skipped).  *out is malloc'd.  0, -ENOMEM, or
 * -EINVAL for a cxl_poison line without memdev, dpa or dpa_length.
 */
int udax__cxl_poison_parse(const char *text, size_t len,
			   struct udax_cxl_poison **out, size_t *n);
/*
 * Ask every memory device of @r for its poison list (trigger_poison_list,
 * Linux 6.4+, root) and collect the cxl_poison events in a tracefs instance
 * of our own.  -EOPNOTSUPP when the kernel or the devices cannot list
 * poison (logged, saying which), else 0 or -errno.
 */
int udax__cxl_poison_read(const struct udax_cxl_region *r,
			  struct udax_cxl_poison **out, size_t *n);

#endif /* UDAX_CXL_H */
