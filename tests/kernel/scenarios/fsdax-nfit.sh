#!/bin/sh
# A file on ext4 -o dax over nfit_test, whose pmem driver can clear poison
# on the block path but whose fs-dax recovery write fails (nfit_test's
# direct_access ignores the recovery mode: EIO).  What udax's recovery
# write of a poisoned file page does there, and what the kernel then reads.
# No load through a mapping: nfit_test's "pmem" is vmalloc() memory, and a
# DAX fault that would succeed ends in a kernel BUG (tests/kernel/README.md);
# udax maps the file but the commands below never touch the mapping (the
# write covers exactly the poisoned page, which goes to ->recovery_write).
# boot: nfit --nfit --mount-dax
# shellcheck source=../lib.sh
. "${UDAX_KLIB:-/opt/lib.sh}"

BB=/sys/block/$PMEM_NAME/badblocks
if on_real; then
	: >"$MNT/f"
	grep -q " $MNT ext4 .*dax" /proc/mounts || die "$MNT is not ext4 -o dax"
fi
device "$MNT/f" 64K
fill 0 65536 0x33
head -c 4096 /dev/zero | tr '\0' '\125' >"$T/page"
where() { echo $(($(on_real && "$KPROBE" fiemap "$DEV" "$1" || echo "$1") / 512)); }
base=$(where 0)
p5=$(where 20480)
poison "$p5" 8

row list "known list after poisoning file page 5: pmem (sectors); udax (file)"
kernel "$p5 8" cat "$BB"
udax "exit 0: 40 8" badblocks "$DEV"

row read-page "read file page 5 (udax failfast)"
kernel EIO "$KPROBE" read "$DEV" 20480 4096
udax "exit 1: 0 B" read "$DEV" --offset 20K --length 4K

row kernel-write "the kernel's recovery write of file page 5 (pwrite 4 KiB)"
kernel EIO "$KPROBE" write "$DEV" 20480 4096
kernel "$p5 8" cat "$BB"

row write-page "udax recovery write of file page 5: exit; the path (udax -v); the list"
rc=0
"$UDAX_BIN" -v write "$DEV" --offset 20K --mode recovery -i "$T/page" \
	>/dev/null 2>"$T/path" || rc=$?
if grep -q 'punched the block out' "$T/path"; then
	got="exit $rc, reallocated"
elif grep -q 'dax_recovery_write' "$T/path"; then
	got="exit $rc, kernel cleared"
else
	got="exit $rc, no kernel path"
fi
if on_real; then want="exit 0, reallocated"; else want="exit 0, no kernel path"; fi
answer udax "$want" "$got"
udax "exit 0: none" badblocks "$DEV"

row readback "file page 5 read back through the kernel (pread)"
readback() {
	dd if="$DEV" bs=4096 skip=5 count=1 2>/dev/null | cmp -s - "$T/page" &&
		echo same || echo differs
}
kernel same readback
kernel "ok 4096" "$KPROBE" read "$DEV" 20480 4096

# ext4 picks the new block: another one (the old sector stays on the pmem
# list, outside the file), or the same one, zeroed through the block
# layer, which clears it on nfit_test.  Either is right; the row says which.
row moved "file page 5's block after it"
moved() {
	if [ "$(where 20480)" != "$p5" ]; then
		grep -q "^$p5 " "$BB" && echo "ok: moved, old sector listed" ||
			echo "odd: moved, old sector cleared"
	else
		grep -q "^$p5 " "$BB" && echo "odd: same block, still listed" ||
			echo "ok: same block, cleared"
	fi
}
if on_real; then
	kernel "ok: *" moved
fi
