/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/ndctl.h declares the libndctl and libdaxctl functions it opens with
 * dlopen() itself, and copies two structures; built only where the
 * libraries' headers are installed, this checks every declaration and
 * both layouts against them at compile time.
 */
#include <stddef.h>
#include <ndctl/libndctl.h>
#include <daxctl/libdaxctl.h>

#include "harness.h"
#include "ndctl.h"

#define X(ret, name, args)						\
	_Static_assert(__builtin_types_compatible_p(__typeof__(&name),	\
						    ret (*) args),	\
		       #name " differs from the installed header");
UDAX_NDCTL_FNS(X)
UDAX_DAXCTL_FNS(X)
UDAX_NDCTL_OPT_FNS(X)
#undef X

_Static_assert(sizeof(struct badblock) == sizeof(struct udax_nd_badblock) &&
	       offsetof(struct badblock, offset) ==
	       offsetof(struct udax_nd_badblock, offset) &&
	       offsetof(struct badblock, len) ==
	       offsetof(struct udax_nd_badblock, len),
	       "struct badblock");
_Static_assert(sizeof(struct ndctl_range) == sizeof(struct udax_nd_range) &&
	       offsetof(struct ndctl_range, address) ==
	       offsetof(struct udax_nd_range, address) &&
	       offsetof(struct ndctl_range, length) ==
	       offsetof(struct udax_nd_range, length),
	       "struct ndctl_range");

int main(void)
{
	printf("lib/ndctl.h matches the installed libndctl and libdaxctl headers\n");
	return 0;
}
