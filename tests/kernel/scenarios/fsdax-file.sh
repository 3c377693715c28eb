#!/bin/sh
# A 16-page file on ext4 -o dax over QEMU's NVDIMM: FIEMAP finds its
# sectors, the block device's list poisons file page 5, and the kernel's
# file paths (read, write, mmap) meet it; MADV_HWPOISON stands in for a
# machine check on page 9.  udax gets the same file.
# boot: nvdimm --nvdimm --mount-dax
# shellcheck source=../lib.sh
. "${UDAX_KLIB:-/opt/lib.sh}"

BB=/sys/block/$PMEM_NAME/badblocks
if on_real; then
	: >"$MNT/f"
	grep -q " $MNT ext4 .*dax" /proc/mounts || die "$MNT is not ext4 -o dax"
fi
device "$MNT/f" 64K
fill 0 65536 0x22
head -c 4096 /dev/zero >"$T/page"

# The file's first byte on the block device, in sectors (0 on the host).
base=0
if on_real; then
	phys=$("$KPROBE" fiemap "$DEV" 0)
	base=$((phys / 512))
	note "file byte 0 is at $PMEM byte $phys (sector $base)"
fi
contiguous() { echo $(($("$KPROBE" fiemap "$DEV" 61440) - $("$KPROBE" fiemap "$DEV" 0))); }
dax_flag() { cat "/sys/block/$PMEM_NAME/queue/dax"; }

row layout "queue/dax; FIEMAP: bytes from file byte 0 to 61440"
kernel 1 dax_flag
kernel 61440 contiguous

poison $((base + 40)) 8
row list "known list after poisoning file page 5: pmem (sectors); udax (file)"
kernel "$((base + 40)) 8" cat "$BB"
udax "exit 0: 40 8" badblocks "$DEV"

row read-page "read file page 5 (udax failfast)"
kernel EIO "$KPROBE" read "$DEV" 20480 4096
udax "exit 1: 0 B" read "$DEV" --offset 20K --length 4K

row read-before "read file pages 0-4"
kernel "ok 20480" "$KPROBE" read "$DEV" 0 20480
udax "exit 0: 20480 B" read "$DEV" --offset 0 --length 20K

row read-span "read file pages 0-5 (udax recovery)"
kernel EIO "$KPROBE" read "$DEV" 0 24576
udax "exit 3: 20480 B" read "$DEV" --offset 0 --length 24K --mode recovery

row pages "file pages 0-15 one by one (udax rescue)"
kernel "+++++x++++++++++" "$KPROBE" pages "$DEV" 0 16
udax "exit 3: bad 0x00005000+0x00001000" rescue "$DEV" "$T/out" "$T/map"

row load "mmap load: file page 0; file page 5"
kernel ok "$KPROBE" load "$DEV" 0
kernel "SIGBUS BUS_ADRERR lsb=0 at=0x5000" "$KPROBE" load "$DEV" 20480

# QEMU's NVDIMM cannot clear poison: writes over it fail in the kernel,
# and udax must refuse (EOPNOTSUPP) rather than pretend.
row write-page "write file page 5 (udax recovery), then the list"
kernel EFAULT "$KPROBE" write "$DEV" 20480 4096
kernel "$((base + 40)) 8" cat "$BB"
if on_real; then
	udax "exit 1" write "$DEV" --offset 20K --mode recovery -i "$T/page"
	udax "exit 0: 40 8" badblocks "$DEV"
else
	udax "exit 0" write "$DEV" --offset 20K --mode recovery -i "$T/page"
	udax "exit 0: none" badblocks "$DEV"
	poison 40 8
fi

row write-span "write file pages 4-5 (8 KiB)"
kernel "short 4096" "$KPROBE" write "$DEV" 16384 8192

# Consumed poison: the kernel reports it and forgets it.  udax, having
# consumed it through its own mapping (file page 10: page 9 is the
# kernel's), must know the page.
row hwpoison "MADV_HWPOISON file page 9 (udax: 10), load it"
kernel "SIGBUS BUS_MCEERR_AR lsb=12 at=0x9000 (in madvise)" "$KPROBE" hwpoison "$DEV" 36864
uprobe "pread=EIO known=0x5000+0x1000,0xa000+0x1000" upoison 40960

row after "after it: read file page 9, the pmem list"
kernel "ok 4096" "$KPROBE" read "$DEV" 36864 4096
kernel "$((base + 40)) 8" cat "$BB"
