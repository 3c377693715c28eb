#!/bin/busybox sh
# shellcheck shell=dash
# /init of the guest that boot.sh builds: load the nvdimm modules, make the
# namespace boot.sh asked for, run the test script as root, report its exit
# status on the result port, power off.  busybox ash, nothing else.
/bin/busybox --install -s
export PATH=/opt:/usr/local/bin:/bin:/sbin HOME=/root LC_ALL=C
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
. /udax/config
say() { echo "guest: $*"; }

# ttyS1 carries nothing but what the tests write there.  Holding it open
# until the end makes the last close wait for the UART to drain, so that
# nothing is lost to poweroff.
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3>/dev/ttyS1
RESULTS=/dev/ttyS1
report() { echo "$*" >&3; }

while read -r ko; do
	insmod "/udax/modules/$ko" || say "insmod $ko failed"
done </udax/modules.order

i=0
has_namespace() {
	for n in /sys/bus/nd/devices/namespace*; do
		[ -e "$n" ] && return 0
	done
	return 1
}
until has_namespace || [ $i = 100 ] || [ "$UDAX_BACKEND" = cxl ]; do
	sleep 0.1
	i=$((i + 1))
done

# "key":"value" or "key":number, first occurrence, from ndctl's JSON.
jget() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" | head -1; }
align=
[ -n "$UDAX_ALIGN" ] && align="--align=$UDAX_ALIGN"
if [ "$UDAX_BACKEND" = cxl ]; then
	# The memory device first, then a region of it, whose NVDIMM
	# region (on the CXL nvdimm bridge's bus) takes the namespace.
	BUS=
	i=0
	until [ -e /sys/bus/cxl/devices/mem0 ] || [ $i = 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	cxl create-region -d decoder0.0 -t pmem -m mem0 >/dev/null 2>&1 ||
		say "cxl create-region failed"
	r=$(ndctl list -R | jget dev)
	ns=$(ndctl create-namespace -r "$r" -m "$UDAX_MODE" $align 2>&1) ||
		say "create-namespace failed: $ns"
	BUS=$(ndctl list -B | jget provider)
elif [ "$UDAX_BACKEND" = nfit ]; then
	# nfit_test.0's DIMMs come with labels: start from empty ones.
	BUS=nfit_test.0
	ndctl disable-region -b $BUS all >/dev/null 2>&1
	ndctl zero-labels -b $BUS all >/dev/null 2>&1
	ndctl init-labels -f -b $BUS all >/dev/null 2>&1
	ndctl enable-region -b $BUS all >/dev/null 2>&1
	ns=$(ndctl create-namespace -b $BUS -t pmem -m "$UDAX_MODE" $align 2>&1) ||
		say "create-namespace failed: $ns"
else
	# QEMU's label-less NVDIMM shows up as one raw namespace0.0.
	BUS=ACPI.NFIT
	if [ "$UDAX_MODE" = raw ]; then
		ns=$(ndctl list -n namespace0.0 2>&1)
	else
		ns=$(ndctl create-namespace -f -e namespace0.0 -m "$UDAX_MODE" $align 2>&1) ||
			say "create-namespace failed: $ns"
	fi
fi
NS=$(echo "$ns" | jget dev)
PMEM_NAME=$(echo "$ns" | jget blockdev)
DAX_NAME=$(echo "$ns" | jget chardev)
REGION=
[ -n "$NS" ] && REGION=$(basename "$(readlink -f "/sys/bus/nd/devices/$NS/..")")
PMEM=
[ -n "$PMEM_NAME" ] && PMEM=/dev/$PMEM_NAME
DAX=
[ -n "$DAX_NAME" ] && DAX=/dev/$DAX_NAME
# nfit_test scrubs the bus at load; its findings land in badblocks when it
# ends, so wait for it before the test looks at any list.
[ "$UDAX_BACKEND" = nfit ] && timeout 60 ndctl wait-scrub $BUS >/dev/null 2>&1

MNT=
if [ "$UDAX_MOUNT_DAX" = 1 ]; then
	if [ -n "$PMEM" ] && mkfs.ext4 -q -F -b 4096 "$PMEM" &&
	   mount -t ext4 -o dax "$PMEM" /mnt; then
		MNT=/mnt
	else
		say "mkfs.ext4 / mount -o dax failed"
	fi
fi

UDAX_GUEST=1
export BUS NS REGION PMEM PMEM_NAME DAX DAX_NAME MNT RESULTS UDAX_GUEST
say "$(uname -r) backend=$UDAX_BACKEND mode=$UDAX_MODE align=${UDAX_ALIGN:-default}" \
    "bus=$BUS region=$REGION ns=$NS pmem=$PMEM dax=$DAX mnt=$MNT"
cd /opt || exit 1
sh /udax/test.sh </dev/null 3>&-
rc=$?
say "test script exited $rc"
[ -n "$MNT" ] && umount /mnt
report "@exit $rc"
exec 3>&-
sync
poweroff -f
