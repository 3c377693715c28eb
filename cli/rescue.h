/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rescue engine behind `udax rescue` (see rescue.c). */
#ifndef UDAX_CLI_RESCUE_H
#define UDAX_CLI_RESCUE_H

#include <stdbool.h>
#include <stdint.h>

#include "mapfile.h"

struct udax_dev;

struct rescue_opts {
	struct udax_dev *dev;
	const char *dev_path, *out_path, *map_path;
	int out_fd;			/* OUT, open read-write, sized */
	bool reverse;
	unsigned int retries;
	uint64_t cluster;		/* bytes per read in the copying pass */
	double map_interval;		/* seconds between map saves */
	uint64_t max_rate;		/* bytes read per second; 0: no limit */
	const char *comments;		/* "# Mapfile. ..." header lines */
	bool progress;			/* progress line on stderr */
};

struct rescue_stats {
	uint64_t read_errors;		/* failed reads, this run */
	uint64_t rescued_run;		/* bytes rescued, this run */
	double seconds;			/* this run */
	bool interrupted;		/* SIGINT / SIGTERM */
};

/*
 * Run the passes over @map (loaded or fresh, covering the device), saving
 * it to opts->map_path as it goes and at the end.
 * Return: 0 (the map says what is left), or -errno of a fatal error (the
 * map was saved if it could be); -EINTR when interrupted.
 */
int rescue(const struct rescue_opts *opts, struct map *map,
	   struct rescue_stats *stats);

#endif /* UDAX_CLI_RESCUE_H */
