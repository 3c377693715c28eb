#!/bin/sh
# Device-dax on QEMU's NVDIMM at 2 MiB and 4 KiB alignment: the sysfs
# layout udax's devdax backend reads, and MADV_HWPOISON (memory_failure()
# without a machine check) at device byte 2M + 8K.  The region's list is
# read-only here; the one way to put known poison on this device is a
# machine check (devdax-mce.sh), whose address NFIT adds to it.
# boot: nvdimm-2M --nvdimm --mode devdax --align 2M
# boot: nvdimm-4K --nvdimm --mode devdax --align 4K
# shellcheck source=../lib.sh
. "${UDAX_KLIB:-/opt/lib.sh}"

D=/sys/bus/dax/devices/$DAX_NAME
device "$DAX" 32M
OFF=$((2 * 1048576 + 8192))
case $UDAX_ALIGN in
2M) align=2097152 at=0x200000 lsb=21 ;;
4K) align=4096 at=0x202000 lsb=12 ;;
*) die "align $UDAX_ALIGN: no expectations" ;;
esac
fill $((2 * 1048576)) 65536 0x33

offset() { echo $(($(cat "$D/resource") - $(cat "/sys/bus/nd/devices/$REGION/resource"))); }
mappings() { ls -d "$D"/mapping* | wc -l; }
mapping0() {
	echo "$(cat "$D/mapping0/start")-$(cat "$D/mapping0/end")" \
	     "+$(cat "$D/mapping0/page_offset")"
}
region_write() { echo "8 8" 2>&1 >"/sys/bus/nd/devices/$REGION/badblocks" | sed 's/.*: //'; }

row layout "sysfs: align; resource - region's; mapping count"
kernel $align cat "$D/align"
kernel 2097152 offset
kernel 1 mappings

row mapping "mapping0: start-end +page_offset (= resource)"
kernel "$(cat "$D/resource" 2>/dev/null)-0x103ffffff +0x0" mapping0

row size "device size (sysfs size; udax info)"
kernel "[0-9]*" cat "$D/size"
if on_real; then want="exit 0: devdax $(cat "$D/size")"; else want="exit 0: emulated 33554432"; fi
udax "$want" info "$DEV"

row region-bb "write \"8 8\" to the region's badblocks"
kernel "Permission denied" region_write

# MADV_HWPOISON runs memory_failure() for the page: the caller gets its
# SIGBUS during the madvise() call (not at a later load), other processes
# that map the page get nothing (no early kill), and the page reads fine
# afterwards.  So udax's copies never meet this poison: in the udax row a
# child poisons udax's mapping and dies of it, and the parent's read goes
# through.  A load that consumes poison is what devdax-mce.sh injects.
row hwpoison "MADV_HWPOISON at 2M+8K, load it (udax: a child, 2M+12K, then udax_pread)"
kernel ok "$KPROBE" load "$DEV" $OFF
kernel "SIGBUS BUS_MCEERR_AR lsb=$lsb at=$at (in madvise)" "$KPROBE" hwpoison "$DEV" $OFF
if on_real; then
	want="child killed by SIGBUS pread=ok 4096 known=none"
else
	want="pread=EIO known=0x203000+0x1000"
fi
uprobe "$want" upoison $((OFF + 4096))

# The kernel does not remember consumed device-dax poison, so nor can udax
# in a new process; the emulated device keeps it (latent poison that
# became known, on the media).
row after "after it: a fresh mapping, the region list (udax: read, list)"
kernel ok "$KPROBE" load "$DEV" $OFF
kernel none cat "/sys/bus/nd/devices/$REGION/badblocks"
if on_real; then
	udax "exit 0: 4096 B" read "$DEV" --offset $((OFF + 4096)) --length 4K
	udax "exit 0: none" badblocks "$DEV"
else
	udax "exit 1: 0 B" read "$DEV" --offset $((OFF + 4096)) --length 4K
	udax "exit 0: 4120 8" badblocks "$DEV"
fi

# A program with a SIGBUS handler of its own poisons a page of udax's
# mapping itself: udax's handler sees the report first (watch.c) and the
# next udax call records it.  At 2 MiB the report names the unit (lsb 21)
# and no page of it faults when read again (MADV_HWPOISON breaks nothing),
# so the whole unit becomes known; at 4 KiB, the page.
row hwpoison-own "MADV_HWPOISON at 2M+16K by udax's caller itself (its own handler), then udax_pread"
if on_real && [ "$UDAX_ALIGN" = 2M ]; then
	want="own handler: BUS_MCEERR_AR pread=EIO known=0x200000+0x200000"
elif on_real; then
	want="own handler: BUS_MCEERR_AR pread=EIO known=0x204000+0x1000"
else
	want="pread=EIO known=0x203000+0x2000"
fi
uprobe "$want" upoison $((OFF + 8192)) self
