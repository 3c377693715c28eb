/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the bad-block list importer (cli/import.c): whatever it accepts
 * comes out as sysfs text that the library's own parser reads, or the
 * input was text to begin with; it never crashes on any bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = import_badblocks((const char *)data, size, &text, &len, &why);

	if (rc == -EINVAL && !why)
		abort();	/* every refusal says why */
	if (rc && (text || rc != -EINVAL))
		abort();
	if (!rc && text && strlen(text) > len)
		abort();
	free(text);
	return 0;
}
