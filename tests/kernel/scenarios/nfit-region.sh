#!/bin/sh
# The bus's own error tools on a device-dax namespace of nfit_test: the
# region's list (region-relative sectors) against ndctl list --media-errors
# and udax's device-relative list; latent poison and the address-range
# scrub; ndctl clear-errors.  No mapping: nfit_test's "pmem" is vmalloc()
# memory, and device-dax faults on it end in SIGBUS or an oops.
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

row clear "ndctl clear-errors (udax clear), then the lists"
kernel ok clear_errors
kernel none cat "$RBB"
# udax clear writes zeros through a mapping, which nfit_test's device-dax
# cannot give.
emul_only udax "exit 0" clear "$DEV" --offset 4096 --length 4096
emul_only udax "exit 0: none" badblocks "$DEV"

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
