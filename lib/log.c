/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging: libudax never prints; detail goes to the program's callback. */
#include <stdarg.h>
#include <stdio.h>

#include "private.h"

static struct {
	udax_log_fn fn;
	void *arg;
	int max_level;
} udax_log_cfg;
static pthread_mutex_t udax_log_lock = PTHREAD_MUTEX_INITIALIZER;

void udax_set_log(udax_log_fn fn, void *arg, int max_level)
{
	pthread_mutex_lock(&udax_log_lock);
	udax_log_cfg.fn = fn;
	udax_log_cfg.arg = arg;
	udax_log_cfg.max_level = max_level;
	pthread_mutex_unlock(&udax_log_lock);
}

void udax__log(int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	pthread_mutex_lock(&udax_log_lock);
	if (udax_log_cfg.fn && level <= udax_log_cfg.max_level) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		udax_log_cfg.fn(udax_log_cfg.arg, level, msg);
	}
	pthread_mutex_unlock(&udax_log_lock);
}

const char *udax_version(void)
{
	return UDAX_VERSION_STRING;
}
