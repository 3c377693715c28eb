/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The devdax backend's translations, for its tests (tests/unit/devdax*.c). */
#ifndef UDAX_BACKENDS_DEVDAX_H
#define UDAX_BACKENDS_DEVDAX_H

#include <stddef.h>
#include <stdint.h>

struct udax_bb;
struct udax_range;
struct udax_ndctl;
struct udax_phys_range;
struct udax_cxl_region;
struct udax_cxl_poison;

/*
 * Bad physical bytes [phys, phys + len) as sectors of the device whose
 * physical ranges are @map: each piece inside a range, widened to whole
 * sectors, is set in @bb.  Bytes outside the device are not its business.
 * 0 or -ENOMEM.
 */
int udax__devdax_phys_bad(const struct udax_phys_range *map, size_t nmap,
			  uint64_t size, uint64_t phys, uint64_t len,
			  struct udax_bb *bb);

/*
 * Device-dax @dax's share of its NVDIMM region's known list, in device
 * sectors, all read anew: through libndctl/libdaxctl when @nd is given,
 * through sysfs otherwise.  *out is malloc'd (NULL when *n is 0).
 * 0, -ENOENT (not on an NVDIMM region), -EACCES (the resources a
 * translation needs are root's), -errno.
 */
int udax__devdax_region_known(struct udax_ndctl *nd, const char *dax,
			      struct udax_range **out, size_t *n);

/* Poison records of @r's memory devices as sectors of the device with
 * physical ranges @map, into @bb.  0 or -errno. */
int udax__devdax_cxl_bad(const struct udax_cxl_region *r,
			 const struct udax_cxl_poison *p, size_t np,
			 const struct udax_phys_range *map, size_t nmap,
			 uint64_t size, struct udax_bb *bb);

#endif /* UDAX_BACKENDS_DEVDAX_H */
