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

# QEMU's NVDIMM cannot clear poison: the kernel's recovery write
# (dax_recovery_write) fails with EFAULT.  udax then does what PMDK does:
# punch the block out of the file, allocate it again, write the page.  The
# file's page is good again, the disk's bad sector stays on the disk's
# list, outside the file.  The emulated device clears its poison.
row write-page "write file page 5 (udax recovery), then the list"
kernel EFAULT "$KPROBE" write "$DEV" 20480 4096
kernel "$((base + 40)) 8" cat "$BB"
udax "exit 0" write "$DEV" --offset 20K --mode recovery -i "$T/page"
udax "exit 0: none" badblocks "$DEV"

# Which path ran, as libudax's log says (udax -v): page 5 poisoned again
# where the file now has it.
row write-path "udax recovery write of file page 5 again: the path (udax -v)"
poison $(($(on_real && "$KPROBE" fiemap "$DEV" 20480 || echo 20480) / 512)) 8
rc=0
"$UDAX_BIN" -v write "$DEV" --offset 20K --mode recovery -i "$T/page" \
	>/dev/null 2>"$T/path" || rc=$?
if grep -q 'punched the block out' "$T/path"; then
	got=reallocated
elif grep -q 'dax_recovery_write' "$T/path"; then
	got="kernel cleared"
else
	got="exit $rc, no kernel path"
fi
if on_real; then want=reallocated; else want="exit 0, no kernel path"; fi
answer udax "$want" "$got"
udax "exit 0: none" badblocks "$DEV"

# Page 5 bad again, where the file now has it, for what follows.
poison $(($(on_real && "$KPROBE" fiemap "$DEV" 20480 || echo 20480) / 512)) 8

row write-span "write file pages 4-5 (8 KiB)"
kernel "short 4096" "$KPROBE" write "$DEV" 16384 8192

# Consumed poison: the kernel reports it and forgets it.  On Linux 6.1 the
# SIGBUS of MADV_HWPOISON comes as madvise() returns, not at a later load,
# which then succeeds.
# udax's mapping of file page 10 gets it outside any copy of udax's: udax
# must know the page from then on (R11), and its read refuse it.
row hwpoison "MADV_HWPOISON file page 9 (udax: 10), load it"
kernel "SIGBUS BUS_MCEERR_AR lsb=12 at=0x9000 (in madvise)" "$KPROBE" hwpoison "$DEV" 36864
# The program has a SIGBUS handler of its own (without one, udax lets the
# default action take it, as the kernel would).
if on_real; then
	want="own handler: BUS_MCEERR_AR pread=EIO known=0x5000+0x1000,0xa000+0x1000"
else
	want="pread=EIO known=0x5000+0x1000,0xa000+0x1000"
fi
uprobe "$want" upoison 40960 self

row after "after it: read file page 9; is its sector on the pmem list"
listed() {
	s=$(($("$KPROBE" fiemap "$DEV" "$1") / 512))
	awk -v s="$s" '$1 <= s && s < $1 + $2 { f = 1 } END { print f ? "listed" : "not listed" }' "$BB"
}
kernel "ok 4096" "$KPROBE" read "$DEV" 36864 4096
kernel "not listed" listed 36864

# A new handle: the kernel never recorded page 10 (MADV_HWPOISON), and
# udax keeps what it found for the handle's life only.  The emulated device
# keeps consumed poison in its state file, for every handle: a deliberate
# difference (docs/real-devices.md).
row new-handle "udax badblocks in a new process after it"
if on_real; then
	udax "exit 0: 40 8" badblocks "$DEV"
else
	udax "exit 0: 40 8, 80 8" badblocks "$DEV"
fi

# Poison the kernel learns of after udax read its list (the tick never
# comes here): the kernel refuses to map the page (SIGBUS BUS_ADRERR) in
# udax's copy, udax reads the list again and finds the page there: poison,
# the copy stops at it.  File page 12, its third sector.
row stale "file page 12 poisoned after udax's open; udax recovery read of pages 11-13"
s12=$(($(on_real && "$KPROBE" fiemap "$DEV" 49152 || echo 49152) / 512 + 2))
if on_real; then
	UDAX_KPROBE_DISK=$PMEM_NAME uprobe "read=4096 known=0x5000+0x1000,0xc000+0x1000" \
		ustale 45056 12288 "$s12"
else
	uprobe "read=4096 known=0x5000+0x1000,0xa000+0x1000,0xc400+0x200" \
		ustale 45056 12288 "$s12"
fi
