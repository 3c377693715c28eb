/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bad-block lists from sysfs, ndctl and cxl, as sysfs text (import.c). */
#ifndef UDAX_CLI_IMPORT_H
#define UDAX_CLI_IMPORT_H

#include <stddef.h>

/*
 * @n bytes of a bad-block list in any of the forms import.c names, as
 * sysfs text for udax_badblocks_import(): *@text is malloc'd (NULL when
 * there is nothing), *@len its length.
 * Return: 0, -EINVAL (*@why says what is wrong), -ENOMEM.
 */
int import_badblocks(const char *buf, size_t n, char **text, size_t *len,
		     const char **why);

#endif /* UDAX_CLI_IMPORT_H */
