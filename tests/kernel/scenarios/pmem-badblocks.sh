#!/bin/sh
# Known poison on a raw /dev/pmemN: what the block layer does with it, and
# what udax does with the same list.  Sectors 9-15 are bad: page 1 except
# its first sector.
# boot: nvdimm --nvdimm --mode raw --timeout 600
# boot: nfit --nfit --mode raw --timeout 600
# shellcheck source=../lib.sh
. "${UDAX_KLIB:-/opt/lib.sh}"

BB=/sys/block/$PMEM_NAME/badblocks
device "$PMEM" 64M
fill 0 65536 0x11
poison 9 7
head -c 4096 /dev/zero >"$T/page"
head -c 512 /dev/zero >"$T/sector"
size() { echo $(($(cat "/sys/block/$PMEM_NAME/size") * 512)); }

row size "device size (sysfs size * 512; udax info)"
kernel 67108864 size
if on_real; then want="exit 0: pmem 67108864"; else want="exit 0: emulated 67108864"; fi
udax "$want" info "$DEV"

row list "known list after poisoning sectors 9-15"
kernel "9 7" cat "$BB"
udax "exit 0: 9 7" badblocks "$DEV"

row read-page "read page 1 (O_DIRECT 4 KiB; udax failfast)"
kernel EIO "$KPROBE" dread "$DEV" 4096 4096
udax "exit 1: 0 B" read "$DEV" --offset 4096 --length 4096

row good-sector "read sector 8: a good sector in the bad page"
kernel "ok 512" "$KPROBE" dread "$DEV" 4096 512
udax "exit 1: 0 B" read "$DEV" --offset 4096 --length 512

row bad-sector "read sector 9"
kernel EIO "$KPROBE" dread "$DEV" 4608 512
udax "exit 1: 0 B" read "$DEV" --offset 4608 --length 512

row sectors "sectors 0-23 one by one (O_DIRECT 512 B)"
kernel "+++++++++xxxxxxx++++++++" "$KPROBE" sectors "$DEV" 0 24

row span "read pages 0-3 (O_DIRECT 16 KiB; udax failfast)"
kernel EIO "$KPROBE" dread "$DEV" 0 16384
udax "exit 1: 0 B" read "$DEV" --offset 0 --length 16K

row buffered "read pages 0-3 (buffered 16 KiB; udax recovery)"
kernel "short 4096" "$KPROBE" read "$DEV" 0 16384
udax "exit 3: 4096 B" read "$DEV" --offset 0 --length 16K --mode recovery

row pages "pages 0-15 one by one (O_DIRECT 4 KiB; udax rescue)"
kernel "+x++++++++++++++" "$KPROBE" dpages "$DEV" 0 16
udax "exit 3: bad 0x00001000+0x00001000" rescue "$DEV" "$T/out" "$T/map"

# Writes change the list: the kernel writes first, the poison is put back,
# then udax writes.
row write-sector "write sector 9 (512 B), then the list"
if nfit; then
	kernel "ok 512" "$KPROBE" dwrite "$DEV" 4608 512
	kernel "10 6" cat "$BB"
else
	kernel EIO "$KPROBE" dwrite "$DEV" 4608 512
	kernel "9 7" cat "$BB"
fi
poison 9 7
udax "exit 1" write "$DEV" --offset 4608 --mode recovery -i "$T/sector"
udax "exit 0: 9 7" badblocks "$DEV"

row write-page "write page 1 (4 KiB; udax recovery), then the list"
if nfit; then
	kernel "ok 4096" "$KPROBE" dwrite "$DEV" 4096 4096
	kernel none cat "$BB"
else
	kernel EIO "$KPROBE" dwrite "$DEV" 4096 4096
	kernel "9 7" cat "$BB"
fi
poison 9 7
if on_real && nvdimm; then
	# QEMU's NVDIMM has no clear-error command: udax cannot clear either.
	udax "exit 1" write "$DEV" --offset 4096 --mode recovery -i "$T/page"
	udax "exit 0: 9 7" badblocks "$DEV"
else
	udax "exit 0" write "$DEV" --offset 4096 --mode recovery -i "$T/page"
	udax "exit 0: none" badblocks "$DEV"
fi

# What udax wrote, read back through the kernel (O_DIRECT) and by udax.
row readback "page 1 after udax's recovery write: the kernel's read; udax's"
head -c 4096 /dev/zero | tr '\0' '\207' >"$T/page87"
readback() {
	dd if="$PMEM" bs=4096 skip=1 count=1 iflag=direct 2>/dev/null | cmp -s - "$T/page87" &&
		echo same || echo differs
}
if on_real && nvdimm; then
	"$UDAX_BIN" write "$DEV" --offset 4096 --mode recovery -i "$T/page87" 2>/dev/null
	kernel EIO "$KPROBE" dread "$DEV" 4096 4096
	udax "exit 1: 0 B" read "$DEV" --offset 4096 --length 4096
else
	udax "exit 0" write "$DEV" --offset 4096 --mode recovery -i "$T/page87"
	kernel same readback
	udax "exit 0: 4096 B" read "$DEV" --offset 4096 --length 4096
fi

# Poison the kernel learns of after udax read its list (the tick never
# comes here): the pmem driver's EIO stops udax's read at that page, which
# becomes known at once.  Sector 44 = page 5.  Page 1 is still bad where
# nothing could clear it.
row stale "sector 44 poisoned after udax's open; udax recovery read of pages 4-7"
if on_real && nvdimm; then
	uprobe "read=4096 known=0x1200+0xe00,0x5800+0x200" ustale 16384 16384 44
else
	uprobe "read=4096 known=0x5800+0x200" ustale 16384 16384 44
fi

# The commands that change poison.  udax clear = zeroing the poisoned pages
# through recovery writes: the kernel clears where it can (nfit_test), else
# udax says it cannot.  inject and scrub are the bus's (ndctl).
poison 9 7
row clear "udax clear page 1, then the list"
if on_real && nvdimm; then
	udax "exit 1" clear "$DEV" --offset 4096 --length 4096
	udax "exit 0: 9 7*" badblocks "$DEV"
else
	udax "exit 0" clear "$DEV" --offset 4096 --length 4096
	udax "exit 0: 44 1" badblocks "$DEV"
fi
row inject-scrub "udax inject; udax scrub (real devices: ndctl's tools)"
if on_real; then
	udax "exit 1" inject "$DEV" --offset 8192 --length 512
	udax "exit 1*" scrub "$DEV"
else
	udax "exit 0" inject "$DEV" --offset 8192 --length 512
	udax "exit 0: 0 new bad sectors*" scrub "$DEV"
fi
