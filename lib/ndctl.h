/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libndctl and libdaxctl, when installed (ndctl.c).  Nothing is linked:
 * the libraries are opened with dlopen() the first time a device asks, so
 * libudax needs only libc; without them (or with UDAX_NDCTL=0 in the
 * environment) every call answers -EOPNOTSUPP and the callers read sysfs
 * themselves.  Private to libudax.
 */
#ifndef UDAX_NDCTL_H
#define UDAX_NDCTL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct udax_range;

/*
 * The functions used, as X(return type, name, (parameters)), written
 * against libndctl.so.6 / libdaxctl.so.1 (ndctl v71+).  The opaque types
 * keep their libraries' names; struct badblock and struct ndctl_range have
 * their layout copied in ndctl.c, and tests/unit/ndctl-abi.c checks both
 * lists and both layouts against the installed headers when there are any.
 */
struct ndctl_ctx;
struct ndctl_bus;
struct ndctl_region;
struct ndctl_dax;
struct ndctl_cmd;
struct ndctl_range;
struct badblock;
struct daxctl_ctx;
struct daxctl_region;
struct daxctl_dev;
struct daxctl_mapping;

typedef void (*udax_ndctl_log_fn)(struct ndctl_ctx *ctx, int priority,
				  const char *file, int line, const char *fn,
				  const char *format, va_list args);
typedef void (*udax_daxctl_log_fn)(struct daxctl_ctx *ctx, int priority,
				   const char *file, int line, const char *fn,
				   const char *format, va_list args);

#define UDAX_NDCTL_FNS(X)						\
	X(int, ndctl_new, (struct ndctl_ctx **))			\
	X(struct ndctl_ctx *, ndctl_unref, (struct ndctl_ctx *))	\
	X(void, ndctl_set_log_fn, (struct ndctl_ctx *, udax_ndctl_log_fn)) \
	X(struct daxctl_ctx *, ndctl_get_daxctl_ctx, (struct ndctl_ctx *)) \
	X(struct ndctl_bus *, ndctl_bus_get_first, (struct ndctl_ctx *)) \
	X(struct ndctl_bus *, ndctl_bus_get_next, (struct ndctl_bus *))	\
	X(const char *, ndctl_bus_get_provider, (struct ndctl_bus *))	\
	X(int, ndctl_bus_is_cmd_supported, (struct ndctl_bus *, int))	\
	X(struct ndctl_region *, ndctl_region_get_first, (struct ndctl_bus *)) \
	X(struct ndctl_region *, ndctl_region_get_next, (struct ndctl_region *)) \
	X(const char *, ndctl_region_get_devname, (struct ndctl_region *)) \
	X(unsigned long long, ndctl_region_get_resource, (struct ndctl_region *)) \
	X(struct ndctl_bus *, ndctl_region_get_bus, (struct ndctl_region *)) \
	X(struct badblock *, ndctl_region_get_first_badblock, (struct ndctl_region *)) \
	X(struct badblock *, ndctl_region_get_next_badblock, (struct ndctl_region *)) \
	X(struct ndctl_dax *, ndctl_dax_get_first, (struct ndctl_region *)) \
	X(struct ndctl_dax *, ndctl_dax_get_next, (struct ndctl_dax *))	\
	X(const char *, ndctl_dax_get_devname, (struct ndctl_dax *))	\
	X(unsigned long long, ndctl_dax_get_resource, (struct ndctl_dax *)) \
	X(unsigned long long, ndctl_dax_get_size, (struct ndctl_dax *))	\
	X(struct daxctl_region *, ndctl_dax_get_daxctl_region, (struct ndctl_dax *)) \
	X(struct ndctl_cmd *, ndctl_bus_cmd_new_ars_cap,		\
	  (struct ndctl_bus *, unsigned long long, unsigned long long))	\
	X(int, ndctl_cmd_ars_cap_get_range, (struct ndctl_cmd *, struct ndctl_range *)) \
	X(struct ndctl_cmd *, ndctl_bus_cmd_new_clear_error,		\
	  (unsigned long long, unsigned long long, struct ndctl_cmd *))	\
	X(unsigned long long, ndctl_cmd_clear_error_get_cleared, (struct ndctl_cmd *)) \
	X(int, ndctl_cmd_submit, (struct ndctl_cmd *))			\
	X(void, ndctl_cmd_unref, (struct ndctl_cmd *))

#define UDAX_DAXCTL_FNS(X)						\
	X(void, daxctl_set_log_fn, (struct daxctl_ctx *, udax_daxctl_log_fn)) \
	X(struct daxctl_dev *, daxctl_dev_get_first, (struct daxctl_region *)) \
	X(struct daxctl_dev *, daxctl_dev_get_next, (struct daxctl_dev *)) \
	X(const char *, daxctl_dev_get_devname, (struct daxctl_dev *))

/* Newer, used when present. */
#define UDAX_NDCTL_OPT_FNS(X)						\
	X(int, ndctl_cmd_submit_xlat, (struct ndctl_cmd *))		\
	X(struct daxctl_mapping *, daxctl_mapping_get_first, (struct daxctl_dev *)) \
	X(struct daxctl_mapping *, daxctl_mapping_get_next, (struct daxctl_mapping *)) \
	X(unsigned long long, daxctl_mapping_get_start, (struct daxctl_mapping *)) \
	X(unsigned long long, daxctl_mapping_get_size, (struct daxctl_mapping *)) \
	X(unsigned long long, daxctl_mapping_get_offset, (struct daxctl_mapping *))

/* Our copies of the two structures libndctl lets callers see. */
struct udax_nd_badblock {
	unsigned long long offset;	/* sectors from the region's start */
	unsigned int len;		/* sectors */
};
struct udax_nd_range {
	unsigned long long address;
	unsigned long long length;
};

/* Bytes [start, start + len) of physical memory are the device's bytes
 * from @off on. */
struct udax_phys_range {
	uint64_t start, len, off;
};

struct udax_ndctl;

/* A context of our own (the libraries are loaded once per process).
 * 0; -EOPNOTSUPP: not installed, too old, or disabled; -ENOMEM. */
int udax__ndctl_new(struct udax_ndctl **out);
/* NULL is ignored. */
void udax__ndctl_free(struct udax_ndctl *nd);

/* nd region @region ("region0"): bad ranges (sectors from its start) and,
 * when there are any, its physical start.  *bb is malloc'd (NULL when *n
 * is 0).  0, -ENOENT (no such region), -EACCES (the start cannot be read:
 * root's), -ENOMEM. */
int udax__ndctl_region_bb(struct udax_ndctl *nd, const char *region,
			  uint64_t *start, struct udax_range **bb, size_t *n);
/* Device-dax @dax ("dax0.0"), child of the nd dax device @nd_dax in
 * @region: its physical ranges, from libdaxctl's mappings (the nd dax
 * device's resource and size where libdaxctl has none).  *r is malloc'd.
 * 0, -ENOENT, -ENOMEM. */
int udax__ndctl_dax_ranges(struct udax_ndctl *nd, const char *region,
			   const char *nd_dax, const char *dax,
			   struct udax_phys_range **r, size_t *n);
/*
 * Clear the poison in physical [phys, phys + len) with the clear-error
 * command of @region's bus (ARS capabilities first, as the platform wants
 * them).  Root only.  0; -EOPNOTSUPP with a log line saying why (the bus
 * has no such command, not permitted, libndctl does not list @region);
 * -EIO (not all of it was cleared, or the command failed).
 */
int udax__ndctl_clear(struct udax_ndctl *nd, const char *region,
		      uint64_t phys, uint64_t len);

#endif /* UDAX_NDCTL_H */
