#!/bin/sh
# ext4 -o dax on a partition (pmem0p1, starting at sector 2048): FIEMAP is
# relative to the partition, the known list to the whole disk (partitions
# have no badblocks file), so the file's bad sectors are at
# start + FIEMAP / 512.
# boot: nvdimm --nvdimm --mount-dax
# shellcheck source=../lib.sh
. "${UDAX_KLIB:-/opt/lib.sh}"

START=2048
BB=/sys/block/$PMEM_NAME/badblocks
P=/sys/block/$PMEM_NAME/${PMEM_NAME}p1
# One MBR entry: type 0x83, LBA START, 100000 sectors.
le32() {
	for s in 0 8 16 24; do
		printf "\\$(printf %o $((($1 >> s) & 255)))"
	done
}
if on_real; then
	umount "$MNT" || die "umount $MNT"
	{
		head -c 446 /dev/zero
		printf '\000\000\002\000\203\000\000\000'
		le32 $START
		le32 100000
		head -c 48 /dev/zero
		printf '\125\252'
	} >"$T/mbr"
	dd if="$T/mbr" of="$PMEM" bs=512 count=1 conv=notrunc 2>/dev/null &&
		blockdev --rereadpt "$PMEM" || die "cannot partition $PMEM"
	mkfs.ext4 -q -F -b 4096 "${PMEM}p1" && mount -t ext4 -o dax "${PMEM}p1" "$MNT" ||
		die "cannot mount ${PMEM}p1 -o dax"
	: >"$MNT/f"
fi
device "$MNT/f" 64K
fill 0 65536 0x44
# File byte 0 in partition sectors (base) and disk sectors (disk); 0 on
# the host, where the image is the file.
base=0 disk=0
if on_real; then
	base=$(($("$KPROBE" fiemap "$DEV" 0) / 512))
	disk=$((START + base))
	note "file byte 0 is partition sector $base, disk sector $disk"
fi
mounted() { sed -n "s|^\\([^ ]*\\) $MNT ext4 .*\\(dax=[a-z]*\\).*|\\1 \\2|p" /proc/mounts; }
has_badblocks() { [ -e "$P/badblocks" ] && echo yes || echo no; }

row partition "mount; sysfs p1/start (sectors); p1/badblocks exists"
kernel "${PMEM:-}p1 dax=always" mounted
kernel $START cat "$P/start"
kernel no has_badblocks

# File page 5 at its disk sector; and a decoy: page 10's partition sector
# taken for a disk sector, which is some other data on the disk.
poison $((disk + 40)) 8
on_emul || poison $((base + 80)) 8
row list "poison disk sectors start+FIEMAP+40, FIEMAP+80: the lists"
kernel "$((base + 80)) 8, $((disk + 40)) 8" cat "$BB"
udax "exit 0: 40 8" badblocks "$DEV"

row read "read file page 5 (start counted); page 10 (start left out)"
kernel EIO "$KPROBE" read "$DEV" 20480 4096
kernel "ok 4096" "$KPROBE" read "$DEV" 40960 4096
udax "exit 1: 0 B" read "$DEV" --offset 20K --length 4K
udax "exit 0: 4096 B" read "$DEV" --offset 40K --length 4K
