/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libndctl and libdaxctl through dlopen(): optional at build time (no
 * header is needed: the functions are declared in ndctl.h) and at run time
 * (without them the devdax backend reads sysfs itself and cannot clear
 * poison).  The libraries are opened once per process and never closed.
 *
 * libndctl contexts are not thread-safe: each device has its own, used
 * under its own mutex.  Their log lines go to udax's log at debug level,
 * never to stderr.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndctl.h"
#include "private.h"

/* From linux/ndctl.h (enum nd_bus_commands). */
#define ND_CMD_ARS_CAP 1
#define ND_CMD_CLEAR_ERROR 4

#define X(ret, name, args) ret (*name) args;
static struct {
	UDAX_NDCTL_FNS(X)
	UDAX_DAXCTL_FNS(X)
	UDAX_NDCTL_OPT_FNS(X)
} nd;
#undef X

static pthread_once_t nd_once = PTHREAD_ONCE_INIT;
static int nd_err;

static void nd_load(void)
{
	void *lnd = dlopen("libndctl.so.6", RTLD_NOW | RTLD_LOCAL);
	void *ldax = dlopen("libdaxctl.so.1", RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;

	if (!lnd || !ldax) {
		udax__dbg("libndctl/libdaxctl not loaded: %s", dlerror());
		nd_err = -EOPNOTSUPP;
		return;
	}
#define X(ret, name, args) \
	if (!(*(void **)&nd.name = dlsym(lnd, #name)) && !missing) \
		missing = #name;
	UDAX_NDCTL_FNS(X)
#undef X
#define X(ret, name, args) \
	if (!(*(void **)&nd.name = dlsym(ldax, #name)) && !missing) \
		missing = #name;
	UDAX_DAXCTL_FNS(X)
#undef X
#define X(ret, name, args) \
	if (!(*(void **)&nd.name = dlsym(lnd, #name))) \
		*(void **)&nd.name = dlsym(ldax, #name);
	UDAX_NDCTL_OPT_FNS(X)
#undef X
	if (missing) {
		udax__dbg("libndctl too old: no %s", missing);
		nd_err = -EOPNOTSUPP;
	}
}

struct udax_ndctl {
	struct ndctl_ctx *ctx;
	pthread_mutex_t lock;
};

static void vlog(const char *who, const char *format, va_list args)
{
	char buf[256];
	size_t n;

	vsnprintf(buf, sizeof(buf), format, args);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	udax__dbg("%s: %s", who, buf);
}

static void nd_log(struct ndctl_ctx *ctx, int priority, const char *file,
		   int line, const char *fn, const char *format, va_list args)
{
	vlog("libndctl", format, args);
}

static void dax_log(struct daxctl_ctx *ctx, int priority, const char *file,
		    int line, const char *fn, const char *format, va_list args)
{
	vlog("libdaxctl", format, args);
}

int udax__ndctl_new(struct udax_ndctl **out)
{
	const char *env = getenv("UDAX_NDCTL");
	struct udax_ndctl *n;
	int rc;

	if (env && !strcmp(env, "0"))
		return -EOPNOTSUPP;
	pthread_once(&nd_once, nd_load);
	if (nd_err)
		return nd_err;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	rc = nd.ndctl_new(&n->ctx);
	if (rc) {
		udax__dbg("ndctl_new: %s", strerror(rc < 0 ? -rc : rc));
		free(n);
		return -EOPNOTSUPP;
	}
	nd.ndctl_set_log_fn(n->ctx, nd_log);
	nd.daxctl_set_log_fn(nd.ndctl_get_daxctl_ctx(n->ctx), dax_log);
	if (pthread_mutex_init(&n->lock, NULL)) {
		nd.ndctl_unref(n->ctx);
		free(n);
		return -ENOMEM;
	}
	*out = n;
	return 0;
}

void udax__ndctl_free(struct udax_ndctl *n)
{
	if (!n)
		return;
	nd.ndctl_unref(n->ctx);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

static struct ndctl_region *region_find(struct udax_ndctl *n, const char *name)
{
	struct ndctl_region *r;
	struct ndctl_bus *b;

	for (b = nd.ndctl_bus_get_first(n->ctx); b; b = nd.ndctl_bus_get_next(b))
		for (r = nd.ndctl_region_get_first(b); r;
		     r = nd.ndctl_region_get_next(r))
			if (!strcmp(nd.ndctl_region_get_devname(r), name))
				return r;
	return NULL;
}

int udax__ndctl_region_bb(struct udax_ndctl *n, const char *region,
			  uint64_t *start, struct udax_range **bb, size_t *nr)
{
	struct udax_range *v = NULL;
	size_t nv = 0, cap = 0;
	struct ndctl_region *r;
	struct badblock *b;
	int rc = 0;

	pthread_mutex_lock(&n->lock);
	r = region_find(n, region);
	if (!r) {
		rc = -ENOENT;
		goto out;
	}
	for (b = nd.ndctl_region_get_first_badblock(r); b;
	     b = nd.ndctl_region_get_next_badblock(r)) {
		const struct udax_nd_badblock *e = (const void *)b;

		if (nv == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct udax_range *nvp = realloc(v, nc * sizeof(*v));

			if (!nvp) {
				rc = -ENOMEM;
				/* Finish the walk: it holds the file open. */
				while (nd.ndctl_region_get_next_badblock(r))
					;
				goto out;
			}
			v = nvp;
			cap = nc;
		}
		v[nv].off = e->offset;
		v[nv].len = e->len;
		nv++;
	}
	/* The start is root's (libndctl says ULLONG_MAX when it cannot read
	 * it): only needed when there is something to translate. */
	*start = nv ? nd.ndctl_region_get_resource(r) : 0;
	if (*start == UINT64_MAX)
		rc = -EACCES;
out:
	pthread_mutex_unlock(&n->lock);
	if (rc) {
		free(v);
		return rc;
	}
	*bb = v;
	*nr = nv;
	return 0;
}

static struct daxctl_dev *daxdev_find(struct ndctl_dax *d, const char *name)
{
	struct daxctl_region *dr = nd.ndctl_dax_get_daxctl_region(d);
	struct daxctl_dev *dev;

	if (!dr)
		return NULL;
	for (dev = nd.daxctl_dev_get_first(dr); dev;
	     dev = nd.daxctl_dev_get_next(dev))
		if (!strcmp(nd.daxctl_dev_get_devname(dev), name))
			return dev;
	return NULL;
}

static int mappings(struct daxctl_dev *dev, struct udax_phys_range **out,
		    size_t *nr)
{
	struct udax_phys_range *v = NULL;
	struct daxctl_mapping *m;
	size_t nv = 0;

	for (m = nd.daxctl_mapping_get_first(dev); m;
	     m = nd.daxctl_mapping_get_next(m)) {
		struct udax_phys_range *nvp = realloc(v, (nv + 1) * sizeof(*v));

		if (!nvp) {
			free(v);
			return -ENOMEM;
		}
		v = nvp;
		v[nv].start = nd.daxctl_mapping_get_start(m);
		v[nv].len = nd.daxctl_mapping_get_size(m);
		/* page_offset is in pages of the kernel's PAGE_SIZE */
		v[nv].off = nd.daxctl_mapping_get_offset(m) * UDAX_PAGE_SIZE;
		nv++;
	}
	*out = v;
	*nr = nv;
	return 0;
}

int udax__ndctl_dax_ranges(struct udax_ndctl *n, const char *region,
			   const char *nd_dax, const char *dax,
			   struct udax_phys_range **out, size_t *nr)
{
	struct ndctl_region *r;
	struct ndctl_dax *d;
	int rc = -ENOENT;

	*out = NULL;
	*nr = 0;
	pthread_mutex_lock(&n->lock);
	r = region_find(n, region);
	for (d = r ? nd.ndctl_dax_get_first(r) : NULL; d;
	     d = nd.ndctl_dax_get_next(d)) {
		struct daxctl_dev *dev;

		if (strcmp(nd.ndctl_dax_get_devname(d), nd_dax))
			continue;
		dev = daxdev_find(d, dax);
		if (dev && nd.daxctl_mapping_get_first) {
			rc = mappings(dev, out, nr);
			if (rc || *nr)
				break;
		}
		/* No mappings to read: the nd dax device's data area, as
		 * ndctl list --media-errors translates it. */
		*out = malloc(sizeof(**out));
		if (!*out) {
			rc = -ENOMEM;
			break;
		}
		(*out)->start = nd.ndctl_dax_get_resource(d);
		(*out)->len = nd.ndctl_dax_get_size(d);
		(*out)->off = 0;
		*nr = 1;
		rc = (*out)->start == UINT64_MAX || (*out)->len == UINT64_MAX
			? -ENXIO : 0;
		break;
	}
	pthread_mutex_unlock(&n->lock);
	if (rc) {
		free(*out);
		*out = NULL;
		*nr = 0;
	}
	return rc;
}

static int submit(struct ndctl_cmd *cmd)
{
	int rc = nd.ndctl_cmd_submit_xlat ? nd.ndctl_cmd_submit_xlat(cmd)
					  : nd.ndctl_cmd_submit(cmd);

	return rc < 0 ? rc : 0;
}

int udax__ndctl_clear(struct udax_ndctl *n, const char *region,
		      uint64_t phys, uint64_t len)
{
	struct ndctl_cmd *cap = NULL, *clr = NULL;
	struct udax_nd_range range;
	struct ndctl_region *r;
	struct ndctl_bus *bus;
	const char *prov;
	unsigned long long cleared;
	int rc;

	pthread_mutex_lock(&n->lock);
	r = region_find(n, region);
	if (!r) {
		udax__err("%s: libndctl does not list this region: poison cannot be cleared",
			  region);
		rc = -EOPNOTSUPP;
		goto out;
	}
	bus = nd.ndctl_region_get_bus(r);
	prov = nd.ndctl_bus_get_provider(bus);
	if (!nd.ndctl_bus_is_cmd_supported(bus, ND_CMD_ARS_CAP) ||
	    !nd.ndctl_bus_is_cmd_supported(bus, ND_CMD_CLEAR_ERROR)) {
		udax__err("%s: bus %s has no clear-error command: poison cannot be cleared",
			  region, prov);
		rc = -EOPNOTSUPP;
		goto out;
	}
	cap = nd.ndctl_bus_cmd_new_ars_cap(bus, phys, len);
	rc = cap ? submit(cap) : -ENOMEM;
	if (!rc && nd.ndctl_cmd_ars_cap_get_range(cap, (struct ndctl_range *)&range))
		rc = -ENXIO;
	if (!rc) {
		clr = nd.ndctl_bus_cmd_new_clear_error(range.address, range.length,
						       cap);
		rc = clr ? submit(clr) : -ENXIO;
	}
	if (rc == -EACCES || rc == -EPERM) {
		udax__err("%s: clear-error on bus %s: %s (root only)", region,
			  prov, strerror(-rc));
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (rc) {
		udax__err("%s: clear-error at %#llx+%#llx on bus %s: %s", region,
			  (unsigned long long)phys, (unsigned long long)len,
			  prov, strerror(-rc));
		rc = -EIO;
		goto out;
	}
	cleared = nd.ndctl_cmd_clear_error_get_cleared(clr);
	if (cleared != len || range.address != phys || range.length != len) {
		udax__err("%s: clear-error at %#llx+%#llx cleared %#llx at %#llx",
			  region, (unsigned long long)phys,
			  (unsigned long long)len, cleared, range.address);
		rc = -EIO;
	}
out:
	if (clr)
		nd.ndctl_cmd_unref(clr);
	if (cap)
		nd.ndctl_cmd_unref(cap);
	pthread_mutex_unlock(&n->lock);
	return rc;
}
