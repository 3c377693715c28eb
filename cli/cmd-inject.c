/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax inject DEV --offset O --length L [--latent | --uninject]
 *                 [--count N --stride S]
 * udax inject DEV --status [--json [-u]]
 *
 * Poison the media over the sectors covering the range; known poison
 * unless --latent.  --count N --stride S repeat the range N times, S bytes
 * apart (a pattern of scattered bad pages in one command).  All the ranges
 * go in as one transaction (udax_inject_ranges()): every one of them or
 * none, and one rewrite of the poison state however many there are.
 *
 * --status lists the poison in two parts: KNOWN, the known list (what
 * readers refuse), and LATENT, media poison not on it (what a read or a
 * scrub would find).  --uninject heals latent poison only.  Known poison
 * is the one thing udax must never forget, and the only ways to make it
 * go are the ones that rewrite the data (clear, a recovery write): so the
 * known parts of the range are taken out of what is healed, and keep
 * their media poison too, which keeps --status's two lists the truth.
 * (ndctl inject-error --uninject heals the media under known poison as
 * well and leaves the kernel's entry: a known entry with nothing under
 * it.  udax_inject_ranges() with UDAX_INJECT_REMOVE does the same; this
 * command does not ask it to.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udax/udax.h>

#include "cli.h"
#include "json.h"
#include "util.h"

/* The pattern's ranges rounded out to sectors, ascending and merged (a
 * short --stride can make neighbours share a sector). */
static size_t pattern_sectors(const struct cli_args *a, uint64_t n,
			      struct udax_range *r)
{
	size_t m = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = a->offset + i * a->stride;
		uint64_t s = off / UDAX_SECTOR_SIZE * UDAX_SECTOR_SIZE;
		uint64_t e = (off + a->length + UDAX_SECTOR_SIZE - 1) /
			     UDAX_SECTOR_SIZE * UDAX_SECTOR_SIZE;

		if (m && r[m - 1].off + r[m - 1].len >= s)
			r[m - 1].len = e - r[m - 1].off;
		else
			r[m++] = (struct udax_range){ s, e - s };
	}
	return m;
}

static uint64_t sectors_of(const struct udax_range *r, size_t n)
{
	return ranges_bytes(r, n) / UDAX_SECTOR_SIZE;
}

/* "8 sectors in 1 range" */
static void print_count(const char *what, const struct udax_range *r,
			size_t n)
{
	uint64_t s = sectors_of(r, n);
	char buf[32];

	printf("%s: %llu sector%s in %zu range%s (%s)\n", what,
	       (unsigned long long)s, s == 1 ? "" : "s", n, n == 1 ? "" : "s",
	       fmt_size(ranges_bytes(r, n), buf));
}

/* An emulated device's poison, known and latent: *@media (all of it),
 * *@known, *@latent (media minus known), all malloc'd.  EXIT_OK or
 * EXIT_FAIL (said why). */
static int get_poison(struct udax_dev *dev, const char *path, const char *opt,
		      struct udax_range **media, size_t *nm,
		      struct udax_range **known, size_t *nk,
		      struct udax_range **latent, size_t *nl)
{
	long m, k;

	*media = *known = *latent = NULL;
	m = cli_ranges(dev, udax_media_poison, media);
	if (m == -EOPNOTSUPP) {
		cli_err(path, "%s: the media of this device (%s) are not visible to udax, only its known list (udax badblocks); use ndctl inject-error %s",
			opt, udax_backend(dev), opt);
		return EXIT_FAIL;
	}
	if (m < 0)
		return cli_errno(path, (int)m);
	k = cli_badblocks(dev, known);
	if (k < 0) {
		free(*media);
		*media = NULL;
		return cli_errno(path, (int)k);
	}
	*latent = malloc(((size_t)m + (size_t)k + 1) * sizeof(**latent));
	if (!*latent) {
		free(*media);
		free(*known);
		*media = *known = NULL;
		cli_err(path, "out of memory");
		return EXIT_FAIL;
	}
	*nm = (size_t)m;
	*nk = (size_t)k;
	*nl = ranges_sub(*media, *nm, *known, *nk, *latent);
	return EXIT_OK;
}

/* ndctl inject-error --status's list: {"block", "count"} in sectors. */
static struct json_object *json_blocks(const struct udax_range *r, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; arr && i < n; i++) {
		struct json_object *o = json_object_new_object();

		if (!o)
			break;
		json_add_hex(o, "block", r[i].off / UDAX_SECTOR_SIZE);
		json_add_hex(o, "count", r[i].len / UDAX_SECTOR_SIZE);
		json_object_array_add(arr, o);
	}
	return arr;
}

static int status_run(struct cli_args *a)
{
	const char *path = a->pos[0];
	struct udax_range *media, *known, *latent;
	size_t nm, nk, nl;
	struct udax_dev *dev;
	int rc;

	rc = cli_open(path, CLI_OPEN_READ, &dev);
	if (rc)
		return rc;
	rc = get_poison(dev, path, "--status", &media, &nm, &known, &nk,
			&latent, &nl);
	if (rc)
		goto out;
	if (a->json) {
		struct json_object *o = json_object_new_object();

		json_add_str(o, "dev", path);
		json_add(o, "badblocks", json_blocks(media, nm));
		json_add_badblocks(o, "known_", known, nk);
		json_add_badblocks(o, "latent_", latent, nl);
		rc = json_print(o);
	} else {
		print_count("known", known, nk);
		for (size_t i = 0; i < nk; i++)
			printf("  %llu %llu\n",
			       (unsigned long long)(known[i].off / UDAX_SECTOR_SIZE),
			       (unsigned long long)(known[i].len / UDAX_SECTOR_SIZE));
		print_count("latent", latent, nl);
		for (size_t i = 0; i < nl; i++)
			printf("  %llu %llu\n",
			       (unsigned long long)(latent[i].off / UDAX_SECTOR_SIZE),
			       (unsigned long long)(latent[i].len / UDAX_SECTOR_SIZE));
	}
	free(media);
	free(known);
	free(latent);
out:
	udax_close(dev);
	return rc;
}

/*
 * Heal the pattern minus the known list, in one transaction.  Another
 * process may add known poison between our look at the list and the
 * transaction: that poison's media are then healed, but its known entry
 * stays (UDAX_INJECT_REMOVE never edits the known list), so nothing known
 * is forgotten, and readers still refuse it.
 */
static int uninject(struct udax_dev *dev, const char *path,
		    const struct cli_args *a, uint64_t n)
{
	struct udax_range *media, *known, *latent, *req, *heal = NULL,
			  *kept = NULL, *healed = NULL;
	size_t nm, nk, nl, nr = 0, nh = 0, nkept, nhealed;
	int rc, err;

	rc = get_poison(dev, path, "--uninject", &media, &nm, &known, &nk,
			&latent, &nl);
	if (rc)
		return rc;
	req = malloc(n * sizeof(*req));
	if (req) {
		nr = pattern_sectors(a, n, req);
		heal = malloc((nr + nk) * sizeof(*heal));
		kept = malloc((nk + nr) * sizeof(*kept));
	}
	if (heal) {
		nh = ranges_sub(req, nr, known, nk, heal);
		healed = malloc((nl + nh + 1) * sizeof(*healed));
	}
	if (!req || !heal || !kept || !healed) {
		cli_err(path, "out of memory for %llu ranges: nothing uninjected",
			(unsigned long long)n);
		rc = EXIT_FAIL;
		goto out;
	}
	nkept = ranges_and(known, nk, req, nr, kept);
	nhealed = ranges_and(latent, nl, heal, nh, healed);

	err = nh ? udax_inject_ranges(dev, heal, nh, UDAX_INJECT_REMOVE) : 0;
	if (err == -EOPNOTSUPP) {
		cli_err(path, "--uninject: udax cannot heal the media of a %s device: use ndctl inject-error --uninject",
			udax_backend(dev));
		rc = EXIT_FAIL;
		goto out;
	}
	if (err) {
		/* Not cli_errno(): an -EIO here is the state file's. */
		cli_err(path, "%s: nothing uninjected", strerror(-err));
		rc = EXIT_FAIL;
		goto out;
	}
	print_count("uninjected latent poison", healed, nhealed);
	if (nkept) {
		uint64_t s = sectors_of(kept, nkept);

		fflush(stdout);
		cli_err(path, "--uninject: %llu sector%s of known poison in %zu range%s left as %s: known poison goes only with udax clear or a recovery write",
			(unsigned long long)s, s == 1 ? "" : "s", nkept,
			nkept == 1 ? "" : "s", s == 1 ? "it is" : "they are");
	}
out:
	free(req);
	free(heal);
	free(kept);
	free(healed);
	free(media);
	free(known);
	free(latent);
	return rc;
}

static int inject_run(struct cli_args *a)
{
	const char *path = a->pos[0];
	uint64_t n = a->count ? a->count : 1;
	struct udax_range *r;
	struct udax_dev *dev;
	int rc, err;

	if (a->status)
		return status_run(a);
	rc = cli_open(path, 0, &dev);
	if (rc)
		return rc;
	rc = cli_check_range(dev, path, a->offset, (n - 1) * a->stride + a->length);
	if (rc)
		goto out;
	if (a->uninject) {
		rc = uninject(dev, path, a, n);
		goto out;
	}
	r = malloc(n * sizeof(*r));
	if (!r) {
		cli_err(path, "out of memory for %llu ranges: nothing injected",
			(unsigned long long)n);
		rc = EXIT_FAIL;
		goto out;
	}
	for (uint64_t i = 0; i < n; i++)
		r[i] = (struct udax_range){ a->offset + i * a->stride, a->length };
	err = udax_inject_ranges(dev, r, n, a->latent ? UDAX_INJECT_LATENT : 0);
	free(r);
	if (err == -EOPNOTSUPP) {
		cli_err(path, "udax cannot poison the media of a %s device: use ndctl inject-error (root, a platform with error injection); for kernel-known poison only, write \"SECTOR COUNT\" to the disk's /sys/block/pmemN/badblocks",
			udax_backend(dev));
		rc = EXIT_FAIL;
	} else if (err) {
		/* Not cli_errno(): an -EIO here is the state file's. */
		cli_err(path, "%s: nothing injected", strerror(-err));
		rc = EXIT_FAIL;
	} else {
		printf("injected %llu range%s (%s poison)\n", (unsigned long long)n,
		       n > 1 ? "s" : "", a->latent ? "latent" : "known");
	}
out:
	udax_close(dev);
	return rc;
}

/* --status only lists; --json is its output; --uninject undoes --latent. */
static int inject_check(struct cli_args *a)
{
	static const int not_with_status[] = {
		OPT_OFFSET, OPT_LENGTH, OPT_LATENT, OPT_UNINJECT, OPT_COUNT,
		OPT_STRIDE,
	};

	if (a->status) {
		for (size_t i = 0; i < sizeof(not_with_status) / sizeof(int); i++)
			if (a->seen & OPTF(not_with_status[i]))
				return cli_usage_err("--status", "not with --%s: --status only lists",
						     cli_opt_name(not_with_status[i]));
		return EXIT_OK;
	}
	if (a->seen & (OPTF(OPT_JSON) | OPTF(OPT_HUMAN)))
		return cli_usage_err(a->seen & OPTF(OPT_JSON) ? "--json" : "--human",
				     "only with --status");
	if (a->latent && a->uninject)
		return cli_usage_err("--uninject", "not with --latent");
	return cli_check_pattern(a);
}

static const char *const dev_pos[] = { "DEV" };

const struct cli_cmd cmd_inject = {
	.name = "inject",
	.alias = "inject-error",
	.synopsis = "DEV --offset OFFSET --length LENGTH [--latent | --uninject] [--count N --stride STRIDE] | DEV --status [--json [-u]]",
	.summary = "poison the media over the sectors covering a range, heal latent poison, or list the poison",
	.opts = OPTF(OPT_OFFSET) | OPTF(OPT_LENGTH) | OPTF(OPT_LATENT) |
		OPTF(OPT_COUNT) | OPTF(OPT_STRIDE) | OPTF(OPT_STATUS) |
		OPTF(OPT_UNINJECT) | OPTF(OPT_JSON) | OPTF(OPT_HUMAN),
	.required = OPTF(OPT_OFFSET) | OPTF(OPT_LENGTH),
	.required_unless = OPTF(OPT_STATUS),
	.pos_names = dev_pos,
	.min_pos = 1,
	.max_pos = 1,
	.check = inject_check,
	.run = inject_run,
};
