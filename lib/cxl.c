/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CXL regions: the interleave arithmetic, the region layout in sysfs, and
 * the memory devices' poison lists.
 *
 * The arithmetic is the spec's (CXL 3.0 8.2.4.19.13, "Implementation Note:
 * Device Decode Logic"), with IW and IG the encoded ways and granularity
 * (udax__cxl_eiw(), udax__cxl_eig()) and HPAOffset = HPA - decoder base:
 *
 *   IW < 8 (1, 2, 4, 8, 16 ways):
 *     DPAOffset[51:IG+8] = HPAOffset[51:IG+IW+8]
 *     position           = HPAOffset[IG+IW+7:IG+8]
 *   IW >= 8 (3, 6, 12 ways):
 *     DPAOffset[51:IG+8] = HPAOffset[51:IG+IW] / 3
 *     position           = HPAOffset[IG+IW-1:IG+8]
 *                          + 2^(IW-8) * (HPAOffset[51:IG+IW] mod 3)
 *   always: DPAOffset[IG+7:0] = HPAOffset[IG+7:0]
 *
 * Both forms say the same thing: chunk c = HPAOffset / granularity lives on
 * the device at position c mod ways, as its chunk c / ways.  The position
 * rule for 3, 6 and 12 ways is the spec's modulo target selection; it is
 * what Linux orders a region's targets by (target K is position K), so the
 * sysfs target list is the position list.  Offsets are taken from the
 * region's base, which Linux aligns to ways x 256 MiB inside its window,
 * so offset and address bits agree.  Not covered: windows with XOR
 * interleave arithmetic (CFMWS), where the position is an XOR of address
 * bits; the kernel's own translation, when a poison event carries one, is
 * checked against ours and both are kept if they differ.
 *
 * Poison lists.  Linux 6.4+ reads a device's list when "1" is written to
 * /sys/bus/cxl/devices/memX/trigger_poison_list and reports each record as
 * a cxl_poison trace event (memdev, dpa, dpa_length; region and hpa when
 * the DPA is mapped).  We enable that event in a tracefs instance of our
 * own, so that nobody else's tracing is touched, trigger, read the
 * instance's buffer, and remove the instance.  cxl-cli's list
 * --media-errors reads the same events.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cxl.h"
#include "private.h"

#define ADDR_MASK ((1ULL << UDAX_CXL_ADDR_BITS) - 1)

int udax__cxl_eiw(unsigned int ways, unsigned int *eiw)
{
	switch (ways) {
	case 1: *eiw = 0; return 0;
	case 2: *eiw = 1; return 0;
	case 4: *eiw = 2; return 0;
	case 8: *eiw = 3; return 0;
	case 16: *eiw = 4; return 0;
	case 3: *eiw = 8; return 0;
	case 6: *eiw = 9; return 0;
	case 12: *eiw = 10; return 0;
	}
	return -EINVAL;
}

int udax__cxl_eig(unsigned int gran, unsigned int *eig)
{
	unsigned int g;

	for (g = 0; g <= 6; g++)
		if (gran == 256u << g) {
			*eig = g;
			return 0;
		}
	return -EINVAL;
}

static int il_decode(const struct udax_cxl_il *il, unsigned int *eiw,
		     unsigned int *eig)
{
	if (!il || udax__cxl_eiw(il->ways, eiw) || udax__cxl_eig(il->gran, eig))
		return -EINVAL;
	return 0;
}

/* Bits [hi:lo] of @v. */
static inline uint64_t bits(uint64_t v, unsigned int hi, unsigned int lo)
{
	return (v >> lo) & ((2ULL << (hi - lo)) - 1);
}

int udax__cxl_hpa_to_dpa(const struct udax_cxl_il *il, uint64_t hpa_off,
			 unsigned int *pos, uint64_t *dpa_off)
{
	unsigned int eiw, eig;
	uint64_t low, upper;

	if (il_decode(il, &eiw, &eig))
		return -EINVAL;
	if (hpa_off & ~ADDR_MASK)
		return -ERANGE;
	low = hpa_off & ((1ULL << (eig + 8)) - 1);
	if (eiw < 8) {
		upper = hpa_off >> (eig + eiw + 8);
		*pos = eiw ? (unsigned int)bits(hpa_off, eig + eiw + 7, eig + 8)
			   : 0;
	} else {
		uint64_t top = hpa_off >> (eig + eiw);

		upper = top / 3;
		*pos = (unsigned int)(top % 3) << (eiw - 8);
		if (eiw > 8)
			*pos += (unsigned int)bits(hpa_off, eig + eiw - 1, eig + 8);
	}
	*dpa_off = upper << (eig + 8) | low;
	return 0;
}

int udax__cxl_dpa_to_hpa(const struct udax_cxl_il *il, unsigned int pos,
			 uint64_t dpa_off, uint64_t *hpa_off)
{
	unsigned int eiw, eig;
	uint64_t low, upper, h;

	if (il_decode(il, &eiw, &eig) || pos >= il->ways)
		return -EINVAL;
	if (dpa_off & ~ADDR_MASK)
		return -ERANGE;
	low = dpa_off & ((1ULL << (eig + 8)) - 1);
	upper = dpa_off >> (eig + 8);
	if (eiw < 8) {
		h = upper << (eig + eiw + 8) | (uint64_t)pos << (eig + 8);
	} else {
		unsigned int lowpos = pos & ((1u << (eiw - 8)) - 1);

		h = (upper * 3 + (pos >> (eiw - 8))) << (eig + eiw) |
		    (uint64_t)lowpos << (eig + 8);
	}
	h |= low;
	if (h & ~ADDR_MASK)
		return -ERANGE;
	*hpa_off = h;
	return 0;
}

int udax__cxl_dpa_range_to_hpa(const struct udax_cxl_region *r,
			       unsigned int pos, uint64_t dpa, uint64_t len,
			       int (*fn)(void *arg, uint64_t hpa, uint64_t len),
			       void *arg)
{
	const struct udax_cxl_target *t;
	uint64_t off, end, run_start = 0, run_len = 0;
	int rc;

	if (pos >= r->il.ways || pos >= UDAX_CXL_MAX_WAYS)
		return -EINVAL;
	t = &r->t[pos];
	/* Only what the decoder maps. */
	if (dpa + len <= t->dpa_base || dpa >= t->dpa_base + t->dpa_size ||
	    !len)
		return 0;
	off = dpa > t->dpa_base ? dpa - t->dpa_base : 0;
	end = dpa + len - t->dpa_base;
	if (end > t->dpa_size)
		end = t->dpa_size;
	while (off < end) {
		uint64_t chunk_end = (off / r->il.gran + 1) * r->il.gran;
		uint64_t n = (chunk_end < end ? chunk_end : end) - off, h;

		rc = udax__cxl_dpa_to_hpa(&r->il, pos, off, &h);
		if (rc)
			return rc;
		h += r->hpa_base;
		if (run_len && run_start + run_len == h) {
			run_len += n;
		} else {
			if (run_len && (rc = fn(arg, run_start, run_len)))
				return rc;
			run_start = h;
			run_len = n;
		}
		off += n;
	}
	return run_len ? fn(arg, run_start, run_len) : 0;
}

/* ---- the region in sysfs ------------------------------------------------ */

#define CXL_DEVICES "/sys/bus/cxl/devices"

static int target_load(const char *decoder, struct udax_cxl_target *t)
{
	char path[PATH_MAX], *slash;
	int rc;

	if (strlen(decoder) >= sizeof(t->decoder))
		return -EINVAL;
	strcpy(t->decoder, decoder);
	rc = udax__sysfs_read_u64(&t->dpa_base, CXL_DEVICES "/%s/dpa_resource",
				  decoder);
	if (!rc)
		rc = udax__sysfs_read_u64(&t->dpa_size, CXL_DEVICES "/%s/dpa_size",
					  decoder);
	/* The decoder belongs to an endpoint port, whose uport is the
	 * memory device. */
	if (!rc)
		rc = udax__sysfs_realpath(path, sizeof(path), CXL_DEVICES "/%s",
					  decoder);
	if (rc)
		return rc;
	slash = strrchr(path, '/');
	if (!slash)
		return -EINVAL;
	*slash = 0;
	rc = udax__sysfs_realpath(path, sizeof(path), "%s/uport", path);
	if (rc)
		return rc;
	slash = strrchr(path, '/');
	if (!slash || strlen(slash + 1) >= sizeof(t->memdev))
		return -EINVAL;
	strcpy(t->memdev, slash + 1);
	return 0;
}

int udax__cxl_region_load(const char *name, struct udax_cxl_region *r)
{
	uint64_t ways, gran;
	unsigned int p, e;
	int rc;

	memset(r, 0, sizeof(*r));
	if (strlen(name) >= sizeof(r->name))
		return -EINVAL;
	strcpy(r->name, name);
	rc = udax__sysfs_read_u64(&r->hpa_base, CXL_DEVICES "/%s/resource", name);
	if (!rc)
		rc = udax__sysfs_read_u64(&r->size, CXL_DEVICES "/%s/size", name);
	if (!rc)
		rc = udax__sysfs_read_u64(&ways, CXL_DEVICES "/%s/interleave_ways",
					  name);
	if (!rc)
		rc = udax__sysfs_read_u64(&gran, CXL_DEVICES
					  "/%s/interleave_granularity", name);
	if (rc)
		return rc;
	if (ways > UDAX_CXL_MAX_WAYS || gran > UINT32_MAX)
		return -EINVAL;
	r->il.ways = (unsigned int)ways;
	r->il.gran = (unsigned int)gran;
	if (udax__cxl_eiw(r->il.ways, &e) || udax__cxl_eig(r->il.gran, &e)) {
		udax__err("%s: interleave %u x %u B is not one CXL defines",
			  name, r->il.ways, r->il.gran);
		return -EINVAL;
	}
	for (p = 0; p < r->il.ways; p++) {
		char dec[64];

		rc = udax__sysfs_read(dec, sizeof(dec), CXL_DEVICES "/%s/target%u",
				      name, p);
		if (!rc && !dec[0])
			rc = -EINVAL;	/* a region still being assembled */
		if (!rc)
			rc = target_load(dec, &r->t[p]);
		if (rc) {
			udax__err("%s: target %u: %s", name, p, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int udax__cxl_region_find(uint64_t phys, uint64_t len,
			  struct udax_cxl_region *out)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = -ENOENT;

	if (snprintf(path, sizeof(path), "%s" CXL_DEVICES,
		     udax__sysfs_root()) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		uint64_t base, size;
		unsigned int id;
		char tail;

		if (sscanf(de->d_name, "region%u%c", &id, &tail) != 1)
			continue;
		if (udax__sysfs_read_u64(&base, CXL_DEVICES "/%s/resource",
					 de->d_name) ||
		    udax__sysfs_read_u64(&size, CXL_DEVICES "/%s/size",
					 de->d_name))
			continue;
		if (phys < base || phys - base >= size || len > size - (phys - base))
			continue;
		rc = udax__cxl_region_load(de->d_name, out);
		break;
	}
	closedir(d);
	return rc;
}

/* ---- poison lists ------------------------------------------------------- */

/* The value of " key=" in @line (up to @end), or NULL. */
static const char *field(const char *line, const char *end, const char *key,
			 size_t *vlen)
{
	size_t kl = strlen(key);
	const char *p = line;

	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *tok = p, *tend = sp ? sp : end;

		if ((size_t)(tend - tok) > kl && !memcmp(tok, key, kl) &&
		    tok[kl] == '=') {
			*vlen = (size_t)(tend - tok) - kl - 1;
			return tok + kl + 1;
		}
		if (!sp)
			break;
		p = sp + 1;
	}
	return NULL;
}

static int field_u64(const char *line, const char *end, const char *key,
		     uint64_t *v)
{
	char buf[32], *e;
	size_t n;
	const char *s = field(line, end, key, &n);

	if (!s || !n || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	errno = 0;
	*v = strtoull(buf, &e, 0);
	return errno || *e ? -EINVAL : 0;
}

int udax__cxl_poison_parse(const char *text, size_t len,
			   struct udax_cxl_poison **out, size_t *n)
{
	static const char tag[] = "cxl_poison: ";
	const char *p = text, *end = text + len;
	struct udax_cxl_poison *v = NULL;
	size_t nv = 0, cap = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *at;
		struct udax_cxl_poison rec;
		const char *s;
		size_t sl;

		at = memmem(p, (size_t)(le - p), tag, sizeof(tag) - 1);
		p = nl ? nl + 1 : end;
		if (!at)
			continue;
		at += sizeof(tag) - 1;
		s = field(at, le, "trace_type", &sl);
		if (s && !(sl == 4 && !memcmp(s, "List", 4)))
			continue;	/* Inject or Clear, not the list */
		memset(&rec, 0, sizeof(rec));
		s = field(at, le, "memdev", &sl);
		if (!s || !sl || sl >= sizeof(rec.memdev) ||
		    field_u64(at, le, "dpa", &rec.dpa) ||
		    field_u64(at, le, "dpa_length", &rec.len)) {
			free(v);
			return -EINVAL;
		}
		memcpy(rec.memdev, s, sl);
		if (field_u64(at, le, "hpa", &rec.hpa) || rec.hpa == UINT64_MAX)
			rec.hpa = UINT64_MAX;
		if (nv == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct udax_cxl_poison *nvp = realloc(v, nc * sizeof(*v));

			if (!nvp) {
				free(v);
				return -ENOMEM;
			}
			v = nvp;
			cap = nc;
		}
		v[nv++] = rec;
	}
	*out = v;
	*n = nv;
	return 0;
}

static pthread_mutex_t poison_lock = PTHREAD_MUTEX_INITIALIZER;

/* tracefs, as seen under the sysfs root: "" or -ENOENT. */
static int tracefs_dir(char *out, size_t size)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (snprintf(out, size, "%s%s/instances", udax__sysfs_root(),
			     dirs[i]) >= (int)size)
			return -ENAMETOOLONG;
		if (!stat(out, &st) && S_ISDIR(st.st_mode)) {
			snprintf(out, size, "%s", dirs[i]);
			return 0;
		}
	}
	return -ENOENT;
}

static int trigger_all(const struct udax_cxl_region *r)
{
	unsigned int p, q;
	int rc;

	for (p = 0; p < r->il.ways; p++) {
		for (q = 0; q < p; q++)
			if (!strcmp(r->t[q].memdev, r->t[p].memdev))
				break;
		if (q < p)
			continue;
		rc = udax__sysfs_write("1", CXL_DEVICES "/%s/trigger_poison_list",
				       r->t[p].memdev);
		if (rc) {
			udax__err("%s: reading its poison list: %s%s",
				  r->t[p].memdev, strerror(-rc),
				  rc == -EACCES || rc == -EPERM ? " (root only)" : "");
			return rc;
		}
	}
	return 0;
}

int udax__cxl_poison_read(const struct udax_cxl_region *r,
			  struct udax_cxl_poison **out, size_t *n)
{
	char tfs[PATH_MAX], inst[PATH_MAX], full[PATH_MAX];
	const char *root = udax__sysfs_root();
	char *text = NULL;
	size_t tl = 0;
	unsigned int p;
	int rc;

	*out = NULL;
	*n = 0;
	for (p = 0; p < r->il.ways; p++) {
		char probe[PATH_MAX];
		struct stat st;

		snprintf(probe, sizeof(probe), "%s" CXL_DEVICES "/%s/trigger_poison_list",
			 root, r->t[p].memdev);
		if (stat(probe, &st)) {
			udax__err("%s: %s has no poison list to read (trigger_poison_list: Linux 6.4+, and a device that lists poison)",
				  r->name, r->t[p].memdev);
			return -EOPNOTSUPP;
		}
	}
	if (tracefs_dir(tfs, sizeof(tfs))) {
		udax__err("%s: no tracefs: cannot collect the poison list", r->name);
		return -EOPNOTSUPP;
	}
	if (snprintf(inst, sizeof(inst), "%s/instances/udax-%ld", tfs,
		     (long)getpid()) >= (int)sizeof(inst) ||
	    snprintf(full, sizeof(full), "%s%s", root, inst) >= (int)sizeof(full))
		return -ENAMETOOLONG;

	pthread_mutex_lock(&poison_lock);
	/* A leftover of a dead process with our pid goes first; one that
	 * cannot be removed is used as it is. */
	if (mkdir(full, 0700) && errno == EEXIST && !rmdir(full))
		mkdir(full, 0700);
	rc = udax__sysfs_write("1", "%s/events/cxl/cxl_poison/enable", inst);
	if (rc) {
		udax__err("%s: cannot enable the cxl_poison trace event: %s",
			  r->name, strerror(-rc));
		rc = rc == -ENOENT ? -EOPNOTSUPP : rc;
		goto out;
	}
	rc = trigger_all(r);
	if (!rc)
		rc = udax__sysfs_read_alloc(&text, &tl, "%s/trace", inst);
	if (!rc)
		rc = udax__cxl_poison_parse(text, tl, out, n);
	udax__sysfs_write("0", "%s/events/cxl/cxl_poison/enable", inst);
out:
	rmdir(full);
	pthread_mutex_unlock(&poison_lock);
	free(text);
	return rc;
}
