/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rescue engine behind `udax rescue` (see rescue.c). */
#ifndef UDAX_CLI_RESCUE_H
#define UDAX_CLI_RESCUE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mapfile.h"

struct udax_dev;

enum rescue_progress { PROGRESS_NONE, PROGRESS_TTY, PROGRESS_JSON };

struct rescue_opts {
	struct udax_dev *dev;
	const char *dev_path, *out_path, *map_path;
	int out_fd;			/* OUT, open read-write, sized */
	bool reverse;
	bool no_trim, no_scrape;	/* ddrescue's -N, -n */
	unsigned int retries;
	uint64_t cluster;		/* bytes per read in the copying pass */
	double map_interval;		/* seconds between map saves */
	uint64_t max_rate;		/* bytes read per second; 0: no limit */
	uint64_t dom_lo, dom_hi;	/* the rescue domain in DEV: -i, -s */
	int64_t out_delta;		/* OUT position - DEV position: -o */
	const char *comments;		/* "# Mapfile. ..." header lines */
	enum rescue_progress progress;	/* on stderr */
	FILE *events, *rates;		/* --log-events, --log-rates; or NULL */
};

struct rescue_stats {
	uint64_t read_errors;		/* failed reads, this run */
	uint64_t rescued_run;		/* bytes rescued, this run */
	double seconds;			/* this run */
	int signo;			/* the signal that stopped it, or 0 */
};

/*
 * Run the passes over @map (loaded or fresh, covering the device), saving
 * it to opts->map_path as it goes and at the end.
 * Return: 0 (the map says what is left), or -errno of a fatal error (the
 * map was saved if it could be); -EINTR when a signal stopped it
 * (stats->signo says which: SIGINT, SIGTERM or SIGHUP).
 */
int rescue(const struct rescue_opts *opts, struct map *map,
	   struct rescue_stats *stats);

/* One line of the --log-events file: time, run time, position, rescued
 * bytes, what happened. */
void rescue_event(FILE *f, double elapsed, uint64_t ipos, uint64_t rescued,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif /* UDAX_CLI_RESCUE_H */
