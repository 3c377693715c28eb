/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device-dax (/dev/daxX.Y): the whole device mapped at once, its known
 * poison the kernel's, translated to device offsets.
 *
 *   physical ── NVDIMM region ──────── badblocks: region-relative sectors
 *      │         (resource R)
 *      │           └ nd dax device ── device-dax daxX.Y
 *      │                               mapping0..N: start, end, page_offset
 *      └ CXL region (HPA base, ways, granularity) ── memory devices' poison
 *                                                    lists: DPA ranges
 *
 * A bad region sector s is physical R + 512 s; a physical address p inside
 * mapping i is device byte page_offset_i * 4096 + (p - start_i).  A CXL
 * poison record (memdev, DPA) is turned into host physical addresses
 * through the region's interleave (cxl.c), then the same way.  The NVDIMM
 * part is read through libndctl/libdaxctl when they are installed
 * (ndctl.c), through sysfs otherwise; the two agree (tests/unit/devdax*.c,
 * and in the kernel lab against ndctl list --media-errors).  The region's
 * list is re-read every refresh tick; a CXL device's poison list is read
 * at open and by udax_scrub(), since reading it asks every memory device.
 *
 * The mapping.  Device-dax maps only whole units of its alignment (align:
 * 4 KiB, 2 MiB or 1 GiB; the kernel aligns the address), MAP_SHARED.  It
 * is both the program's mapping and udax's own copies' (base == io_base):
 * a real device has no emulated poison to hide.  Consumed poison arrives as
 * SIGBUS / BUS_MCEERR_AR with si_addr_lsb the mapping's page size (21 on a
 * 2 MiB device); io.c narrows it to the 4 KiB page, see io_fault().  The
 * kernel does not record consumed device-dax poison anywhere: the generic
 * layer keeps it for the handle's life.
 *
 * Recovery writes.  Device-dax has no write system call, so poison is
 * cleared with the NVDIMM bus's clear-error command (ARS capabilities, then
 * clear error: ndctl_bus_cmd_new_ars_cap() and _clear_error(), root only),
 * which also takes the range out of the region's list; then the page is
 * written with persistent stores.  Where that cannot be done (no libndctl,
 * not root, a bus without the command, a CXL device, whose poison the
 * kernel clears only through debugfs) the write fails with -EOPNOTSUPP,
 * says why in the log, and writes nothing.
 *
 * Tests.  The backend opens a regular file named like a device-dax instance
 * when asked to directly (udax__open_backend(); the probe wants a character
 * device of the dax subsystem): with a fake sysfs tree under
 * UDAX_SYSFS_ROOT it stands in for the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "../cxl.h"
#include "../ndctl.h"
#include "../private.h"
#include "devdax.h"

#define DAX_DEVICES "/sys/bus/dax/devices"
#define ND_DEVICES "/sys/bus/nd/devices"

struct devdax {
	char name[NAME_MAX + 1];	/* "dax0.0" */
	char nd_dax[NAME_MAX + 1];	/* its nd dax device, "dax0.1" */
	char region[NAME_MAX + 1];	/* "region0"; "" if not NVDIMM */
	char bus[PATH_MAX];		/* the region's ndbus directory */
	uint64_t align;
	void *map_base;
	size_t map_len;

	struct udax_phys_range *map;	/* physical ranges, by offset */
	size_t nmap;
	int map_err;			/* why map is empty: -EACCES when
					 * the resources are root's */
	struct udax_ndctl *nd;		/* NULL: sysfs */

	bool cxl;			/* backed by a CXL region */
	struct udax_cxl_region cxlr;
	struct udax_range *cxl_bad;	/* device sectors, from the memory
					 * devices' poison lists */
	size_t ncxl_bad;
	pthread_mutex_t cxl_lock;	/* cxl_bad */
	struct udax_watch *watch;	/* the program's own consumed poison */
};

/* ---- translation ---------------------------------------------------------- */

int udax__devdax_phys_bad(const struct udax_phys_range *map, size_t nmap,
			  uint64_t size, uint64_t phys, uint64_t len,
			  struct udax_bb *bb)
{
	size_t i;

	for (i = 0; i < nmap; i++) {
		const struct udax_phys_range *m = &map[i];
		uint64_t a = phys > m->start ? phys : m->start;
		uint64_t b = phys + len < m->start + m->len ? phys + len
							     : m->start + m->len;
		uint64_t d0, d1;

		if (a >= b || m->off >= size)
			continue;
		d0 = m->off + (a - m->start);
		d1 = m->off + (b - m->start);
		if (d1 > size)
			d1 = size;
		if (d0 >= d1)
			continue;
		d0 /= UDAX_SECTOR_SIZE;
		d1 = (d1 + UDAX_SECTOR_SIZE - 1) / UDAX_SECTOR_SIZE;
		if (udax__bb_set(bb, d0, d1 - d0))
			return -ENOMEM;
	}
	return 0;
}

/* Region-relative bad sectors @bb of a region at physical @start. */
static int region_bad(const struct udax_range *bb, size_t n, uint64_t start,
		      const struct udax_phys_range *map, size_t nmap,
		      uint64_t size, struct udax_bb *out)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && !rc; i++)
		rc = udax__devdax_phys_bad(map, nmap, size,
					   start + bb[i].off * UDAX_SECTOR_SIZE,
					   bb[i].len * UDAX_SECTOR_SIZE, out);
	return rc;
}

struct cxl_walk {
	const struct udax_phys_range *map;
	size_t nmap;
	uint64_t size;
	struct udax_bb *bb;
};

static int cxl_piece(void *arg, uint64_t hpa, uint64_t len)
{
	struct cxl_walk *w = arg;

	return udax__devdax_phys_bad(w->map, w->nmap, w->size, hpa, len, w->bb);
}

int udax__devdax_cxl_bad(const struct udax_cxl_region *r,
			 const struct udax_cxl_poison *p, size_t np,
			 const struct udax_phys_range *map, size_t nmap,
			 uint64_t size, struct udax_bb *bb)
{
	struct cxl_walk w = { map, nmap, size, bb };
	size_t i;
	int rc = 0;

	for (i = 0; i < np && !rc; i++) {
		unsigned int pos;

		for (pos = 0; pos < r->il.ways; pos++) {
			const struct udax_cxl_target *t = &r->t[pos];
			uint64_t hoff;

			if (strcmp(t->memdev, p[i].memdev) ||
			    p[i].dpa < t->dpa_base ||
			    p[i].dpa - t->dpa_base >= t->dpa_size)
				continue;
			rc = udax__cxl_dpa_range_to_hpa(r, pos, p[i].dpa,
							p[i].len, cxl_piece, &w);
			if (rc || p[i].hpa == UINT64_MAX)
				break;
			/* The kernel translated too: keep its answer as well
			 * if it differs (an XOR window, say). */
			if (udax__cxl_dpa_to_hpa(&r->il, pos,
						 p[i].dpa - t->dpa_base, &hoff) ||
			    r->hpa_base + hoff != p[i].hpa) {
				uint64_t n = r->il.gran - p[i].dpa % r->il.gran;

				udax__err("%s: %s dpa %#llx: the kernel says hpa %#llx, the interleave says %#llx; both are kept",
					  r->name, p[i].memdev,
					  (unsigned long long)p[i].dpa,
					  (unsigned long long)p[i].hpa,
					  (unsigned long long)(r->hpa_base + hoff));
				rc = udax__devdax_phys_bad(map, nmap, size, p[i].hpa,
							   n < p[i].len ? n : p[i].len,
							   bb);
			}
			break;
		}
	}
	return rc;
}

/* ---- sysfs ------------------------------------------------------------------ */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Copy a sysfs name; -ENAMETOOLONG rather than a truncated one. */
static int set_name(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

/* Does sysfs directory @dir belong to bus (or class) @sub? */
static bool in_subsystem(const char *dir, const char *sub)
{
	char real[PATH_MAX];

	return !udax__sysfs_realpath(real, sizeof(real), "%s/subsystem", dir) &&
	       !strcmp(base_name(real), sub);
}

/* The NVDIMM region above device @dax, and the nd dax device between. */
static void find_region(struct devdax *p)
{
	char path[PATH_MAX], *s, *child = NULL;

	if (udax__sysfs_realpath(path, sizeof(path), DAX_DEVICES "/%s", p->name))
		return;
	while ((s = strrchr(path, '/')) && s != path) {
		unsigned int id;
		char tail;

		if (sscanf(s + 1, "region%u%c", &id, &tail) == 1 &&
		    in_subsystem(path, "nd")) {
			*s = 0;
			if (set_name(p->region, sizeof(p->region), s + 1) ||
			    set_name(p->bus, sizeof(p->bus), path))
				p->region[0] = 0;
			else if (child && !strncmp(child, "dax", 3) &&
				 set_name(p->nd_dax, sizeof(p->nd_dax), child))
				p->nd_dax[0] = 0;
			return;
		}
		child = s + 1;
		*s = 0;
	}
}

/* The device's physical ranges from its mapping* directories (Linux
 * 5.10+), else from its resource and size. */
static int sysfs_ranges(const char *dax, uint64_t size,
			struct udax_phys_range **out, size_t *nr)
{
	struct udax_phys_range *v = NULL;
	size_t n = 0;
	int rc = 0;

	for (;; n++) {
		uint64_t start, end, pgoff;
		struct udax_phys_range *g;

		rc = udax__sysfs_read_u64(&start, DAX_DEVICES "/%s/mapping%zu/start",
					  dax, n);
		if (rc == -ENOENT) {
			rc = 0;
			break;
		}
		if (!rc)
			rc = udax__sysfs_read_u64(&end, DAX_DEVICES "/%s/mapping%zu/end",
						  dax, n);
		if (!rc)
			rc = udax__sysfs_read_u64(&pgoff, DAX_DEVICES
						  "/%s/mapping%zu/page_offset", dax, n);
		if (!rc && end < start)
			rc = -EINVAL;
		if (rc)
			break;
		g = realloc(v, (n + 1) * sizeof(*v));
		if (!g) {
			rc = -ENOMEM;
			break;
		}
		v = g;
		v[n].start = start;
		v[n].len = end - start + 1;
		v[n].off = pgoff * UDAX_PAGE_SIZE;
	}
	if (!rc && !n) {
		uint64_t start;

		rc = udax__sysfs_read_u64(&start, DAX_DEVICES "/%s/resource", dax);
		if (!rc && !(v = malloc(sizeof(*v))))
			rc = -ENOMEM;
		if (!rc) {
			v->start = start;
			v->len = size;
			v->off = 0;
			n = 1;
		}
	}
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*nr = n;
	return 0;
}

static int sysfs_region_bb(const char *region, uint64_t *start,
			   struct udax_range **bb, size_t *n)
{
	uint64_t size;
	char *text;
	size_t len;
	int rc;

	rc = udax__sysfs_read_u64(&size, ND_DEVICES "/%s/size", region);
	if (!rc)
		rc = udax__sysfs_read_alloc(&text, &len, ND_DEVICES "/%s/badblocks",
					    region);
	if (rc)
		return rc;
	rc = udax__bb_parse(text, len, size / UDAX_SECTOR_SIZE, bb, n);
	free(text);
	/* The start is root's: only needed when there is something to
	 * translate. */
	if (!rc && *n) {
		rc = udax__sysfs_read_u64(start, ND_DEVICES "/%s/resource", region);
		if (rc) {
			free(*bb);
			*bb = NULL;
			*n = 0;
		}
	}
	return rc;
}

static int region_bb(const struct devdax *p, uint64_t *start,
		     struct udax_range **bb, size_t *n)
{
	int rc;

	*bb = NULL;
	*n = 0;
	if (!p->nd)
		return sysfs_region_bb(p->region, start, bb, n);
	rc = udax__ndctl_region_bb(p->nd, p->region, start, bb, n);
	/* A region libndctl does not list (it keeps its own view of sysfs):
	 * sysfs, as without it. */
	if (rc == -ENOENT)
		rc = sysfs_region_bb(p->region, start, bb, n);
	return rc;
}

static int read_ranges(struct devdax *p, uint64_t size)
{
	int rc;

	rc = -ENOENT;
	if (p->nd && p->region[0] && p->nd_dax[0])
		rc = udax__ndctl_dax_ranges(p->nd, p->region, p->nd_dax, p->name,
					    &p->map, &p->nmap);
	if (rc == -ENOENT)
		rc = sysfs_ranges(p->name, size, &p->map, &p->nmap);
	p->map_err = rc;
	return rc;
}

/* The region's list, translated, into @bb. */
static int region_known(const struct devdax *p, uint64_t size,
			struct udax_bb *bb)
{
	struct udax_range *r;
	uint64_t start = 0;
	size_t n;
	int rc;

	rc = region_bb(p, &start, &r, &n);
	if (rc == -EACCES || (!rc && n && p->map_err == -EACCES)) {
		udax__err("%s: %s has bad blocks; translating them needs the resources, which only root may read",
			  p->name, p->region);
		rc = -EACCES;
	} else if (!rc && n && p->map_err) {
		rc = p->map_err;
	}
	if (!rc)
		rc = region_bad(r, n, start, p->map, p->nmap, size, bb);
	free(r);
	return rc;
}

int udax__devdax_region_known(struct udax_ndctl *nd, const char *dax,
			      struct udax_range **out, size_t *n)
{
	struct devdax *p = calloc(1, sizeof(*p));
	struct udax_bb *bb = NULL;
	uint64_t size;
	int rc;

	*out = NULL;
	*n = 0;
	if (!p)
		return -ENOMEM;
	p->nd = nd;
	rc = set_name(p->name, sizeof(p->name), dax);
	if (!rc)
		rc = udax__sysfs_read_u64(&size, DAX_DEVICES "/%s/size", dax);
	if (rc)
		goto out;
	find_region(p);
	if (!p->region[0]) {
		rc = -ENOENT;
		goto out;
	}
	read_ranges(p, size);
	rc = udax__bb_new(&bb);
	if (!rc)
		rc = region_known(p, size, bb);
	if (!rc)
		rc = udax__bb_copy(bb, out, n);
out:
	udax__bb_free(bb);
	free(p->map);
	free(p);
	return rc;
}

/* ---- CXL ---------------------------------------------------------------- */

/* Read the memory devices' poison lists into p->cxl_bad.  A device whose
 * list cannot be had is logged and skipped: the kernel's own device-dax
 * does not know that poison either. */
static int cxl_reload(struct devdax *p, uint64_t size)
{
	struct udax_cxl_poison *rec = NULL;
	struct udax_range *r = NULL;
	struct udax_bb *bb;
	size_t nrec = 0, n = 0;
	int rc;

	rc = udax__cxl_poison_read(&p->cxlr, &rec, &nrec);
	if (rc) {
		udax__err("%s: on CXL %s, whose poison list cannot be read (%s): udax knows only the poison it meets",
			  p->name, p->cxlr.name, strerror(-rc));
		return rc;
	}
	rc = udax__bb_new(&bb);
	if (!rc)
		rc = udax__devdax_cxl_bad(&p->cxlr, rec, nrec, p->map, p->nmap,
					  size, bb);
	if (!rc)
		rc = udax__bb_copy(bb, &r, &n);
	udax__bb_free(bb);
	free(rec);
	if (rc)
		return rc;
	pthread_mutex_lock(&p->cxl_lock);
	free(p->cxl_bad);
	p->cxl_bad = r;
	p->ncxl_bad = n;
	pthread_mutex_unlock(&p->cxl_lock);
	return 0;
}

static void cxl_probe(struct devdax *p, uint64_t size)
{
	if (!p->nmap) {
		udax__dbg("%s: physical ranges unknown (%s): not looking for a CXL region",
			  p->name, strerror(-p->map_err));
		return;
	}
	if (udax__cxl_region_find(p->map[0].start, p->map[0].len, &p->cxlr))
		return;
	p->cxl = true;
	udax__dbg("%s: on CXL %s (%u x %u B)", p->name, p->cxlr.name,
		  p->cxlr.il.ways, p->cxlr.il.gran);
	cxl_reload(p, size);
}

/* ---- ops ------------------------------------------------------------------ */

static int devdax_load_known(struct udax_dev *dev)
{
	struct devdax *p = dev->priv;
	uint64_t gen = __atomic_load_n(dev->known_src, __ATOMIC_ACQUIRE);
	struct udax_range *r = NULL;
	struct udax_bb *bb;
	size_t n = 0;
	int rc;

	/* pages the program consumed poison in, through its own loads */
	udax__watch_record(dev, p->watch);
	rc = udax__bb_new(&bb);
	if (rc)
		return rc;
	if (p->region[0])
		rc = region_known(p, dev->size, bb);
	if (!rc && p->cxl) {
		size_t i;

		pthread_mutex_lock(&p->cxl_lock);
		for (i = 0; i < p->ncxl_bad && !rc; i++)
			rc = udax__bb_set(bb, p->cxl_bad[i].off, p->cxl_bad[i].len);
		pthread_mutex_unlock(&p->cxl_lock);
	}
	if (!rc)
		rc = udax__bb_copy(bb, &r, &n);
	udax__bb_free(bb);
	if (!rc)
		rc = udax__known_publish(dev, r, n, gen);
	free(r);
	if (!rc)
		__atomic_store_n(&dev->known_gen, gen, __ATOMIC_RELEASE);
	return rc;
}

static void *devdax_direct_access(struct udax_dev *dev, uint64_t pgoff,
				  uint64_t *pfn)
{
	struct devdax *p = dev->priv;

	if (pfn) {
		uint64_t off = pgoff * UDAX_PAGE_SIZE;
		size_t i;

		*pfn = pgoff;
		for (i = 0; i < p->nmap; i++)
			if (off >= p->map[i].off && off - p->map[i].off < p->map[i].len) {
				*pfn = (p->map[i].start + off - p->map[i].off) /
				       UDAX_PAGE_SIZE;
				break;
			}
	}
	return dev->base + pgoff * UDAX_PAGE_SIZE;
}

static int devdax_zero_page_range(struct udax_dev *dev, uint64_t pgoff,
				  uint64_t n)
{
	return udax__zero_pages(dev, pgoff, n);
}

/* Why this device cannot clear poison, or NULL when it can try. */
static const char *no_clear(const struct devdax *p)
{
	if (p->cxl)
		return "a CXL device: the kernel clears CXL poison only through debugfs";
	if (!p->region[0])
		return "not on an NVDIMM region";
	if (!p->nd)
		return "libndctl is not installed (or UDAX_NDCTL=0)";
	if (!p->nmap)
		return p->map_err == -EACCES ? "the device's physical address is root's"
					     : "the device's physical address is unknown";
	return NULL;
}

static ssize_t devdax_recovery_write(struct udax_dev *dev, uint64_t off,
				     const void *src, size_t len)
{
	struct devdax *p = dev->priv;
	const char *why = no_clear(p);
	struct udax_fault f;
	uint64_t done = 0;
	size_t c;
	int rc;

	if (why) {
		udax__err("%s: cannot clear poison at %#llx: %s", p->name,
			  (unsigned long long)off, why);
		return -EOPNOTSUPP;
	}
	/* Clear every piece first; write only once all of it is clear. */
	while (done < len) {
		uint64_t at = off + done, n = 0, phys = 0;
		size_t i;

		for (i = 0; i < p->nmap; i++)
			if (at >= p->map[i].off && at - p->map[i].off < p->map[i].len) {
				phys = p->map[i].start + (at - p->map[i].off);
				n = p->map[i].len - (at - p->map[i].off);
				break;
			}
		if (!n) {
			udax__err("%s: offset %#llx is in no mapping range", p->name,
				  (unsigned long long)at);
			return -EIO;
		}
		if (n > len - done)
			n = len - done;
		rc = udax__ndctl_clear(p->nd, p->region, phys, n);
		if (rc)
			return rc;
		done += n;
	}
	/* The clear left the bytes undefined: write them now. */
	c = udax__mc_copy(dev->io_base + off, src, len, true, &f);
	if (c < len) {
		udax__err("%s: writing %#llx after clearing it faulted", p->name,
			  (unsigned long long)(off + c));
		return -EIO;
	}
	/* The generic layer forgets what udax found there; the region's list
	 * has changed too: reload it at the next call. */
	__atomic_store_n(&dev->known_gen,
			 ~__atomic_load_n(dev->known_src, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	return (ssize_t)len;
}

/* The nfit bus's own scrub (the attribute ndctl start-scrub writes): what
 * it finds goes into the region's list. */
static int nfit_scrub(struct devdax *p)
{
	struct timespec ts = { 0, 50 * 1000000L };
	char buf[32];
	int rc, tries;

	rc = udax__sysfs_write("1", "%s/nfit/scrub", p->bus);
	if (rc == -EBUSY)
		rc = 0;		/* one is running: its end is ours */
	if (rc == -ENOENT)
		return -EOPNOTSUPP;
	if (rc)
		return rc;
	/* "<count>+" while it runs; at most 10 minutes. */
	for (tries = 0; tries < 12000; tries++) {
		rc = udax__sysfs_read(buf, sizeof(buf), "%s/nfit/scrub", p->bus);
		if (rc)
			return rc;
		if (!strchr(buf, '+'))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

static int64_t devdax_scrub(struct udax_dev *dev)
{
	struct devdax *p = dev->priv;
	struct udax_range *old = NULL, *now = NULL;
	size_t nold = 0, nnow = 0, i;
	struct udax_bb *ob = NULL;
	int64_t fresh = 0;
	int rc = -EOPNOTSUPP, r2;

	if (p->region[0]) {
		rc = nfit_scrub(p);
		if (rc == -EOPNOTSUPP)
			udax__err("%s: %s's bus has no address-range scrub", p->name,
				  p->region);
	}
	if (p->cxl) {
		r2 = cxl_reload(p, dev->size);
		if (rc == -EOPNOTSUPP || !r2)
			rc = r2;
	}
	if (rc)
		return rc;
	rc = udax__bb_copy(dev->bb, &old, &nold);
	if (!rc)
		rc = udax__bb_new(&ob);
	for (i = 0; i < nold && !rc; i++)
		rc = udax__bb_set(ob, old[i].off, old[i].len);
	if (!rc) {
		pthread_mutex_lock(&dev->refresh_lock);
		rc = devdax_load_known(dev);
		pthread_mutex_unlock(&dev->refresh_lock);
	}
	if (!rc)
		rc = udax__bb_copy(dev->bb, &now, &nnow);
	for (i = 0; i < nnow && !rc; i++)
		fresh += (int64_t)(now[i].len -
				   udax__bb_count_in(ob, now[i].off, now[i].len));
	udax__bb_free(ob);
	free(old);
	free(now);
	return rc ? rc : fresh * UDAX_SECTOR_SIZE;
}

static void devdax_close(struct udax_dev *dev)
{
	struct devdax *p = dev->priv;

	udax__watch_del(p->watch);
	munmap(p->map_base, p->map_len);
	udax__ndctl_free(p->nd);
	pthread_mutex_destroy(&p->cxl_lock);
	free(p->cxl_bad);
	free(p->map);
	free(p);
}

static const struct udax_poison_ops devdax_poison_ops = {
	.scrub = devdax_scrub,
};

static const struct udax_ops devdax_ops = {
	.name = "devdax",
	.direct_access = devdax_direct_access,
	.zero_page_range = devdax_zero_page_range,
	.recovery_write = devdax_recovery_write,
	.load_known = devdax_load_known,
	.close = devdax_close,
	.poison = &devdax_poison_ops,
};

/* ---- probe and open -------------------------------------------------------- */

static int devdax_probe(int fd, const struct stat *st, const char *path)
{
	char real[PATH_MAX];

	if (!S_ISCHR(st->st_mode))
		return 0;
	if (udax__sysfs_realpath(real, sizeof(real), "/sys/dev/char/%u:%u/subsystem",
				 major(st->st_rdev), minor(st->st_rdev)))
		return 0;
	return !strcmp(base_name(real), "dax");
}

/*
 * Map @len bytes of @fd at an address aligned to @align.  Device-dax's own
 * get_unmapped_area aligns already; this makes sure of it (and lets a
 * regular file stand in for the device in tests), so that the huge pages a
 * fault names (si_addr rounded down to the alignment) are the device's.
 */
static int map_aligned(int fd, size_t len, uint64_t align, int prot,
		       void **out)
{
	size_t slack = align > UDAX_PAGE_SIZE && align <= (1ULL << 30)
		       ? (size_t)align : 0;
	char *r, *a;

	r = mmap(NULL, len + slack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return -errno;
	a = (char *)(((uintptr_t)r + slack - 1) & ~(uintptr_t)(slack ? slack - 1 : 0));
	if (!slack)
		a = r;
	if (mmap(a, len, prot, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
		int rc = -errno;

		munmap(r, len + slack);
		return rc;
	}
	if (a > r)
		munmap(r, (size_t)(a - r));
	if (r + slack > a)
		munmap(a + len, (size_t)(r + slack - a));
	*out = a;
	return 0;
}

static int devdax_open(struct udax_dev *dev, int fd, const char *path)
{
	int prot = PROT_READ | (dev->flags & UDAX_OPEN_RDONLY ? 0 : PROT_WRITE);
	struct devdax *p;
	struct stat st;
	uint64_t size;
	int rc;

	if (fstat(fd, &st))
		return -errno;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (S_ISCHR(st.st_mode)) {
		char real[PATH_MAX];

		rc = udax__sysfs_realpath(real, sizeof(real), "/sys/dev/char/%u:%u",
					  major(st.st_rdev), minor(st.st_rdev));
		if (!rc)
			rc = set_name(p->name, sizeof(p->name), base_name(real));
	} else {
		rc = set_name(p->name, sizeof(p->name), base_name(path));
	}
	if (!rc)
		rc = udax__sysfs_read_u64(&size, DAX_DEVICES "/%s/size", p->name);
	if (!rc && (!size || size % UDAX_PAGE_SIZE || size > SIZE_MAX))
		rc = -EINVAL;
	if (rc) {
		udax__err("%s: size of %s: %s", path, p->name, strerror(-rc));
		goto err_free;
	}
	if (udax__sysfs_read_u64(&p->align, DAX_DEVICES "/%s/align", p->name))
		p->align = 0;	/* before Linux 5.10: the region's */
	p->map_len = (size_t)size;
	rc = map_aligned(fd, p->map_len, p->align, prot, &p->map_base);
	if (rc) {
		udax__err("%s: mmap of %llu bytes: %s", path,
			  (unsigned long long)size, strerror(-rc));
		goto err_free;
	}
	if (pthread_mutex_init(&p->cxl_lock, NULL)) {
		rc = -ENOMEM;
		goto err_unmap;
	}
	if (udax__ndctl_new(&p->nd))
		p->nd = NULL;
	find_region(p);
	read_ranges(p, size);
	cxl_probe(p, size);
	udax__dbg("%s: %s, %llu bytes, align %llu, region %s, %s", path, p->name,
		  (unsigned long long)size, (unsigned long long)p->align,
		  p->region[0] ? p->region : "none",
		  p->nd ? "libndctl" : "sysfs");

	dev->ops = &devdax_ops;
	dev->size = size;
	dev->base = p->map_base;
	dev->io_base = p->map_base;
	dev->known_src = udax__sysfs_tick();
	dev->priv = p;
	/* Without a watch, only poison udax's copies run into is kept. */
	if (udax__watch_add(dev->base, size, &dev->wake, &p->watch))
		p->watch = NULL;
	close(fd);
	return 0;

err_unmap:
	munmap(p->map_base, p->map_len);
err_free:
	free(p);
	return rc;
}

const struct udax_backend udax__devdax_backend = {
	.name = "devdax",
	.probe = devdax_probe,
	.open = devdax_open,
};
