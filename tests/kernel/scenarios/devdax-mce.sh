#!/bin/sh
# Consumed poison on device-dax, delivered as a machine check delivers it.
# udax reads device bytes 2M-8K..4M-8K over and over while the host
# injects an uncorrected data-load error (SRAR) at the physical address of
# device byte 2M+8K into the guest's CPU (boot.sh --mce).  Linux 6.1's
# machine-check handler calls memory_failure(): the reading thread gets
# SIGBUS / BUS_MCEERR_AR, si_addr_lsb 21 with si_addr rounded down to 2 MiB
# on a 2 MiB device (12 and the page on 4 KiB), the unit is unmapped, and
# NFIT's machine-check notifier adds the page to the region's badblocks.
# An injected error leaves the medium good: touched again, the unit reads
# fine, so on the 2 MiB device udax cannot find the page and knows the whole
# unit for the handle's life (lib/io.c, huge_fault(); on real media the page
# faults again and only it is known: tests/unit/devdax.c).  The next
# process learns the page from the region's list.  QEMU's NVDIMM has no
# clear-error command: a recovery write cannot clear it.
# boot: nvdimm-2M-mce --nvdimm --mode devdax --align 2M --mce
# boot: nvdimm-4K-mce --nvdimm --mode devdax --align 4K --mce
# shellcheck source=../lib.sh
. "${UDAX_KLIB:-/opt/lib.sh}"

M=1048576
D=/sys/bus/dax/devices/$DAX_NAME
device "$DAX" 32M
fill $((2 * M - 8192)) $((2 * M)) 0x3c

media_errors() {
	ndctl list "$@" --media-errors |
		sed -n 's/.*"offset":\([0-9]*\).*/\1/p; s/.*"length":\([0-9]*\).*/\1/p' |
		paste -s -d ' '
}
mce_log() {
	dmesg | sed -n 's/.*mce: Uncorrected hardware memory error in \(user-access at [0-9a-f]*\).*/\1/p
		s/.*Memory failure: .*\(Sending SIGBUS to [^:]*\):.*/\1/p
		s/.*Memory failure: .*\(recovery action for dax page: [A-Za-z]*\).*/\1/p' | sort -u
}

row mce "machine check at 2M+8K while udax reads 2M-8K..4M-8K: the kernel's log; udax's read, known list"
if on_real; then
	phys=$(printf '%x' $(($(cat "$D/mapping0/start") + 2 * M + 8192)))
fi
case $UDAX_ALIGN in
2M) want="spinning, read=short 8192 known=0x200000+0x200000" ;;
4K) want="spinning, read=short 16384 known=0x202000+0x1000" ;;
*) die "align $UDAX_ALIGN: no expectations" ;;
esac
on_real || want="read=short 16384 known=0x202000+0x1000"
UDAX_MCE=${phys:+0x$phys} uprobe "$want" uspin $((2 * M + 8192)) $((2 * M - 8192)) $((2 * M))
kernel "Sending SIGBUS to udax-kprobe, recovery action for dax page: Recovered, user-access at ${phys:-*}" mce_log

row after "a new process: the region's list; ndctl's (namespace); udax's (libndctl, sysfs)"
kernel "8208 8" cat "/sys/bus/nd/devices/$REGION/badblocks"
kernel "4112 8" media_errors -n "$NS"
udax "exit 0: 4112 8" badblocks "$DEV"
export UDAX_NDCTL=0
udax "exit 0: 4112 8" badblocks "$DEV"
unset UDAX_NDCTL

row rescue "udax rescue of the device: the page skipped; around it the data (od of the copy at 2M+4K, 2M+12K)"
udax "exit 3: bad 0x00202000+0x00001000" rescue "$DEV" "$T/out" "$T/map"
byte_at() { od -An -tx1 -j "$1" -N 1 "$T/out" | tr -d ' '; }
around() { echo "$(byte_at $((2 * M + 4096))) $(byte_at $((2 * M + 12288)))"; }
kernel "3c 3c" around

# QEMU's NVDIMM: the bus lists no clear-error command.
row recover "udax write --mode recovery over the page (the bus's commands)"
kernel "cmd_call" cat /sys/bus/nd/devices/ndbus0/commands
if on_real; then want="exit 1"; else want="exit 0"; fi
head -c 4096 /dev/zero >"$T/zero"
udax "$want" write "$DEV" --offset $((2 * M + 8192)) -i "$T/zero" --mode recovery
