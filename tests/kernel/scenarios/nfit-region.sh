#!/bin/sh
# The bus's own error tools on a device-dax namespace of nfit_test: the
# region's list (region-relative sectors) against ndctl list --media-errors
# and udax's device-relative list (through libndctl and through sysfs);
# latent poison and the address-range scrub; ndctl clear-errors and udax's
# clear through the bus's clear-error command.  No data: nfit_test's "pmem"
# is vmalloc() memory, and device-dax faults on it end in SIGBUS (2 MiB) or
# an oops (4 KiB); udax maps the device but the rows never load from it.
# boot: nfit-devdax --nfit --mode devdax
# shellcheck source=../lib.sh
. "${UDAX_KLIB:-/opt/lib.sh}"

RBB=/sys/bus/nd/devices/$REGION/badblocks
device "$DAX" 62M
# Namespace (or region, with -R) media errors as "offset length" pairs.
media_errors() {
	ndctl list "$@" --media-errors |
		sed -n 's/.*"offset":\([0-9]*\).*/\1/p; s/.*"length":\([0-9]*\).*/\1/p' |
		paste -s -d ' '
}
offset() {
	echo $(($(cat "/sys/bus/dax/devices/$DAX_NAME/resource") -
		$(cat "/sys/bus/nd/devices/$REGION/resource")))
}
scrub() { ndctl start-scrub "$BUS" >/dev/null && ndctl wait-scrub "$BUS" >/dev/null && echo ok; }
clear_errors() { ndctl clear-errors "$NS" >/dev/null 2>&1 && echo ok; }

row offset "data offset: dax resource - region resource (bytes)"
kernel 2097152 offset

poison 8 8
row list "lists after inject-error --block=8 --count=8: region; udax"
kernel "4104 8" cat "$RBB"
udax "exit 0: 8 8" badblocks "$DEV"

row media "ndctl list --media-errors: namespace; region"
kernel "8 8" media_errors -n "$NS"
kernel "4104 8" media_errors -R -r "$REGION"

poison 100 3
row two "a second error, --block=100 --count=3: region; ndctl (namespace); udax (libndctl, sysfs)"
kernel "4104 8, 4196 3" cat "$RBB"
kernel "8 8 100 3" media_errors -n "$NS"
udax "exit 0: 8 8, 100 3" badblocks "$DEV"
export UDAX_NDCTL=0
udax "exit 0: 8 8, 100 3" badblocks "$DEV"
unset UDAX_NDCTL

row clear "ndctl clear-errors (udax clear), then the lists"
kernel ok clear_errors
kernel none cat "$RBB"
emul_only udax "exit 0" clear "$DEV" --offset 0 --length 64K
emul_only udax "exit 0: none" badblocks "$DEV"

# udax's own recovery: the bus's clear-error command takes the page out of
# the region's list; the data are then written through the mapping, which
# nfit_test's device-dax cannot give (its "pmem" is vmalloc() memory): that
# write faults, and udax clear fails with EIO after the clear.
poison 8 8
row uclear "udax clear of the page at 4K (the bus's clear-error command), then the lists"
kernel "4104 8" cat "$RBB"
if on_real; then want="exit 1"; else want="exit 0"; fi
udax "$want" clear "$DEV" --offset 4096 --length 4096
kernel none cat "$RBB"
udax "exit 0: none" badblocks "$DEV"

poison 40 1 --latent
row latent "latent poison at sector 40 (--no-notify): region; udax"
kernel none cat "$RBB"
udax "exit 0: none" badblocks "$DEV"

# The kernel scrubs first; then the error is cleared and planted again, so
# that udax's scrub finds it new.
row scrub "address-range scrub, then the lists: region, namespace; udax"
kernel ok scrub
kernel "4136 1" cat "$RBB"
kernel "40 1" media_errors -n "$NS"
if on_real; then
	clear_errors >/dev/null
	poison 40 1 --latent
fi
udax "exit 0: 1 new bad sector in 1 range" scrub "$DEV"
udax "exit 0: 40 1" badblocks "$DEV"
