#!/bin/sh
# The sysfs that libndctl and libdaxctl read, as d/l/f lines on $RESULTS,
# for tests/unit/devdax-ndctl.c.  In the kernel lab:
#   tests/kernel/boot.sh --nvdimm --mode devdax --align 2M --size 64M \
#       --results OUT tests/unit/data/capture-sysfs.sh
# then put the header of sysfs-nvdimm-devdax.txt over OUT.
esc() { sed -e 's/\\/\\\\/g' -e 's/\t/\\t/g' | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }'; }
dump() {
	find "$1" \( -name power -o -name firmware_node -o -name module -o -name driver_override -o -name uevent \) -prune -o -print |
	while read -r p; do
		if [ -L "$p" ]; then
			printf 'l\t%s\t%s\n' "$p" "$(readlink "$p")"
		elif [ -d "$p" ]; then
			printf 'd\t%s\n' "$p"
		elif [ -r "$p" ]; then
			c=$(timeout 2 cat "$p" 2>/dev/null | esc)
			printf 'f\t%s\t%s\n' "$p" "$c"
		else
			printf 'f\t%s\t\n' "$p"
		fi
	done
}
bus=$(readlink -f /sys/bus/nd/devices/ndbus0)
for r in /sys/class/nd /sys/class/dax /sys/bus/nd /sys/bus/dax "${bus%/*}"; do
	[ -e "$r" ] && dump "$r"
done >>"$RESULTS"
for c in /sys/dev/char/*; do
	t=$(readlink "$c")
	case $t in *ndbus*|*/dax*) printf 'l\t%s\t%s\n' "$c" "$t" ;; esac
done >>"$RESULTS"
