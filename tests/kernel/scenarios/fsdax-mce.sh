#!/bin/sh
# A machine check arriving while udax copies: a second process poisons
# page 25600 (100 MiB) of a 128 MiB file with MADV_HWPOISON just as udax
# starts a recovery read of the whole file.  Linux 6.1 sends a SIGBUS
# (BUS_MCEERR_AO) to the other processes that map the page when they asked
# for early kill (prctl PR_MCE_KILL_EARLY; udax-kprobe urace does); udax's
# comes in the middle of its guarded copy, which must stop at that page, as
# on the emulated device, and the page must become known.  QEMU's NVDIMM
# (nfit_test cannot map DAX).
# boot: nvdimm --nvdimm --mount-dax --size 256M
# shellcheck source=../lib.sh
. "${UDAX_KLIB:-/opt/lib.sh}"

if on_real; then
	: >"$MNT/f"
	grep -q " $MNT ext4 .*dax" /proc/mounts || die "$MNT is not ext4 -o dax"
fi
device "$MNT/f" 128M
fill 0 134217728 0x66

row mce "MADV_HWPOISON of file page 25600 by another process during udax's read of the file"
if on_real; then want=copy; else want=emulated; fi
uprobe "read=104857600 known=0x6400000+0x1000 via=$want" urace 0 134217728 104857600
kernel "ok 4096" "$KPROBE" read "$DEV" 104857600 4096
