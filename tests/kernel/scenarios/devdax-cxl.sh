#!/bin/sh
# Device-dax on CXL: QEMU 7.2's type-3 persistent memory device in a 1-way
# CXL region (256 B granularity), its NVDIMM region, a devdax namespace.
# Linux 6.1 has no CXL poison list (trigger_poison_list is 6.4+; QEMU can
# fill one only from 8.1 on), so udax's known list is the NVDIMM region's,
# which nothing fills here: NFIT's machine-check notifier does not cover
# CXL memory.  A machine check while udax reads (boot.sh --mce) is not
# recovered by Linux 6.1 on this memory (memory_failure(): "recovery action
# for dax page: Failed", the same at 4 KiB alignment): the reading process
# is killed with SIGBUS / SI_KERNEL, which udax's handler does not take for
# a copy of its own.  So neither consumed nor known poison can be had on
# CXL here, and the refusal of a recovery write on CXL (-EOPNOTSUPP) is
# shown by tests/unit/devdax.c only.
# boot: cxl-2M --cxl --mode devdax --align 2M --mce
# shellcheck source=../lib.sh
. "${UDAX_KLIB:-/opt/lib.sh}"

M=1048576
C=/sys/bus/cxl/devices
D=/sys/bus/dax/devices/$DAX_NAME
device "$DAX" 64M
fill $((2 * M - 8192)) $((2 * M)) 0x5e

region() {
	echo "$(cat $C/region0/interleave_ways)x$(cat $C/region0/interleave_granularity)" \
	     "$(cat $C/region0/target0)" "dax-offset=$(($(cat "$D/mapping0/start") - $(cat $C/region0/resource)))"
}
poison_list() { [ -e $C/mem0/trigger_poison_list ] && echo yes || echo "no trigger_poison_list"; }

row layout "CXL region: ways x granularity, target, the device's offset in it; poison list; udax info"
kernel "1x256 decoder2.0 dax-offset=6291456" region
kernel "no trigger_poison_list" poison_list
if on_real; then want="exit 0: devdax $(cat "$D/size")"; else want="exit 0: emulated 67108864"; fi
udax "$want" info "$DEV"

row mce "machine check at 2M+8K while udax reads 2M-8K..4M-8K (then a recovery write): the kernel's log; udax"
if on_real; then
	phys=$(printf '%x' $(($(cat "$D/mapping0/start") + 2 * M + 8192)))
	want="spinning, SIGBUS SI_KERNEL (the kernel's kill)"
else
	want="read=short 16384 known=0x202000+0x1000, recover=ok"
fi
UDAX_MCE=${phys:+0x$phys} uprobe "$want" uspin $((2 * M + 8192)) $((2 * M - 8192)) $((2 * M)) recover
mce_log() {
	dmesg | sed -n 's/.*mce: Uncorrected hardware memory error in \(user-access at [0-9a-f]*\).*/\1/p
		s/.*Memory failure: .*\(Sending SIGBUS to [^:]*\):.*/\1/p
		s/.*Memory failure: .*\(recovery action for dax page: [A-Za-z]*\).*/\1/p' | sort -u
}
kernel "recovery action for dax page: Failed, user-access at ${phys:-*}" mce_log

row after "a new process: the NVDIMM region's list; udax's"
kernel none cat "/sys/bus/nd/devices/$REGION/badblocks"
udax "exit 0: none" badblocks "$DEV"
