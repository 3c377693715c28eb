#!/bin/bash
# tests/kernel/boot.sh: boot the cached Linux 6.1 (setup.sh) under QEMU with
# emulated persistent memory, run SCRIPT in it as root, exit with its status.
set -euo pipefail

usage() {
	cat >&2 <<'EOF'
usage: boot.sh [options] SCRIPT [FILES...]
  --nvdimm           QEMU -device nvdimm with an ACPI NFIT (default)
  --nfit             the kernel's nfit_test bus (inject-error, scrub, clear)
  --cxl              a CXL type-3 persistent memory device (QEMU q35, cxl=on)
                     behind one host bridge and root port, in a 1-way CXL
                     region (cxl create-region) whose NVDIMM region holds
                     the namespace
  --mode MODE        raw | fsdax | devdax (default raw, fsdax with --mount-dax)
  --align N          namespace alignment (ndctl --align), e.g. 4K or 2M
  --mount-dax        mkfs.ext4 the fsdax namespace, mount it -o dax on /mnt
  --size N           NVDIMM size, a multiple of 16M (default 64M; nfit: fixed;
                     cxl: 256M at least)
  --env NAME=VALUE   export NAME to SCRIPT (repeatable)
  --results FILE     save what the guest writes to $RESULTS into FILE
  --timeout S        give up after S seconds (default 240)
  --mce              machine checks on request: a line "@mce ADDR" that the
                     guest writes to $RESULTS makes the host inject, 2 s
                     later, an uncorrected data-load error (SRAR) at
                     physical ADDR into the guest's CPU, as a load of
                     poisoned memory raises it (an Intel CPU model, for
                     Linux's recovery rules).  A machine check that lands in
                     the kernel panics it: the guest is run again, 3 times
                     at most
  --monitor SOCKET   QEMU's monitor on a unix socket
  --cpu MODEL        QEMU -cpu (default max)
  --verbose          the whole kernel log (default: errors only)
  --keep             keep the work directory
SCRIPT runs as "sh SCRIPT" (busybox ash) in /opt, where FILES are, as root.
Exit: SCRIPT's status; 2 usage; 77 not set up (run setup.sh);
      124 timeout; 125 kernel panic or oops; 126 the guest died silently.
EOF
	exit 2
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${UDAX_KERNEL_CACHE:-$HOME/.cache/udax-kernel}
backend=nvdimm mode='' align='' mount_dax=0 size=64M timeout=240 verbose=0 keep=0
results='' envs=() monitor=none cpu=max mce=0
while [ $# -gt 0 ]; do
	case $1 in
	--nvdimm|--nfit|--cxl) backend=${1#--} ;;
	--mode) mode=${2:?}; shift ;;
	--align) align=${2:?}; shift ;;
	--mount-dax) mount_dax=1 ;;
	--size) size=${2:?}; shift ;;
	--env) [[ ${2:-} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || usage; envs+=("$2"); shift ;;
	--results) results=${2:?}; shift ;;
	--timeout) timeout=${2:?}; shift ;;
	--mce) mce=1 ;;
	--monitor) monitor=unix:${2:?},server,nowait; shift ;;
	--cpu) cpu=${2:?}; shift ;;
	--verbose) verbose=1 ;;
	--keep) keep=1 ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
	shift
done
[ $# -ge 1 ] && [ -f "$1" ] || usage
script=$1
shift
[ -n "$mode" ] || { mode=raw; [ $mount_dax = 0 ] || mode=fsdax; }
case $mode in raw|fsdax|devdax) ;; *) usage ;; esac
[ $mount_dax = 0 ] || [ $mode = fsdax ] || usage
[ $mce = 0 ] || cpu=max,vendor=GenuineIntel
mib() {
	case $1 in
	*[gG]) echo $((${1%[gG]} * 1024)) ;;
	*[mM]) echo "${1%[mM]}" ;;
	*) echo $(($1 >> 20)) ;;
	esac
}
size_mib=$(mib "$size")
[ $((size_mib % 16)) = 0 ] && [ "$size_mib" -gt 0 ] || usage

abi=$(cat "$CACHE/abi" 2>/dev/null || true)
[ -n "$abi" ] && [ -e "$CACHE/.ready-$abi" ] ||
	{ echo "boot.sh: $CACHE is not set up: run tests/kernel/setup.sh" >&2; exit 77; }
root=$CACHE/root-$abi
nt=$CACHE/src-$abi/tools/testing/nvdimm

w=$(mktemp -d "${TMPDIR:-/tmp}/udax-boot.XXXXXX")
cleanup() {
	if [ $keep = 1 ]; then echo "boot.sh: kept $w" >&2; else rm -rf "$w"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the initramfs ---------------------------------------------------------
r=$w/root
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,tmp,mnt,opt,root,udax/modules}
cp /bin/busybox "$r/bin/busybox"
[ ! -f /etc/mke2fs.conf ] || cp /etc/mke2fs.conf "$r/etc/"
# Host tools with the shared libraries they load, at the same paths.
for t in ndctl daxctl cxl mkfs.ext4 filefrag; do
	p=$(command -v "$t") || { echo "boot.sh: no $t on the host" >&2; exit 77; }
	cp -L "$p" "$r/usr/local/bin/"
	for lib in $(ldd "$p" | grep -o '/[^ ]*'); do
		[ -e "$r$lib" ] || { mkdir -p "$r${lib%/*}"; cp -L "$lib" "$r$lib"; }
		# and where the loader's own search finds it by name (ldd
		# names the dynamic loader by its /lib64 link): a static
		# udax dlopen()s libndctl through that search
		real=$(readlink -f "$lib")
		[ -e "$r$real" ] || { mkdir -p "$r${real%/*}"; cp -L "$lib" "$r$real"; }
	done
done

# Modules in load order.  -C /dev/null: the host's modprobe.d (ndctl ships
# an "install libnvdimm" rule) must not rewrite the guest's chain.
chain() {
	modprobe -C /dev/null -d "$root" -S "$abi" -a --show-depends "$@" |
		awk '$1 == "insmod" { print $2 }'
}
{
	if [ $backend = nfit ]; then
		# nfit_test's own builds of the nvdimm modules, in modinfo's
		# dependency order (their calls into the bus are wrapped).
		for m in test/nfit_test_iomap libnvdimm nd_btt nfit nd_pmem \
			 device_dax dax_pmem test/nfit_test; do
			echo "$nt/$m.ko"
		done
	elif [ $backend = cxl ]; then
		chain nd_pmem nd_btt device_dax dax_pmem cxl_acpi cxl_pci \
			cxl_mem cxl_pmem
	else
		chain nfit nd_pmem nd_btt device_dax dax_pmem
	fi
	[ $mount_dax = 0 ] || chain ext4
} | awk '!seen[$0]++' | while read -r ko; do
	cp "$ko" "$r/udax/modules/"
	basename "$ko" >>"$r/udax/modules.order"
done

cp "$here/guest-init.sh" "$r/init"
chmod +x "$r/init"
cp "$script" "$r/udax/test.sh"
for f in "$@"; do cp -L "$f" "$r/opt/"; done
{
	echo "UDAX_BACKEND=$backend UDAX_MODE=$mode UDAX_ALIGN=$align UDAX_MOUNT_DAX=$mount_dax"
	echo "export UDAX_BACKEND UDAX_MODE UDAX_ALIGN"
	for e in "${envs[@]+"${envs[@]}"}"; do printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"; done
} >"$r/udax/config"
(cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) >"$w/initrd"

# ---- QEMU ------------------------------------------------------------------
# oops=panic panic=-1 + -no-reboot: an oops ends the run at once instead of
# leaving a wedged guest to the timeout.
cmdline="console=ttyS0 rdinit=/init panic=-1 oops=panic"
[ $verbose = 1 ] || cmdline="$cmdline quiet"
q=(qemu-system-x86_64 -accel tcg -cpu "$cpu" -smp 1 -no-reboot -nodefaults
   -display none -monitor "$monitor" -serial stdio -serial "file:$w/results"
   -kernel "$root/boot/vmlinuz-$abi" -initrd "$w/initrd" -append "$cmdline")
if [ $backend = nvdimm ]; then
	# shellcheck disable=SC2054 # commas inside QEMU option values
	# QEMU takes the 128K label area off the end of the backend: add it
	# back so that the namespace is --size.
	q+=(-machine "pc,nvdimm=on" -m "1G,slots=2,maxmem=$((2048 + size_mib))M"
	    -object "memory-backend-file,id=nv0,share=on,mem-path=$w/pmem,size=$((size_mib * 1024 + 128))K"
	    -device nvdimm,id=nvdimm0,memdev=nv0,label-size=128K)
elif [ $backend = cxl ]; then
	# QEMU 7.2's type-3 device is persistent memory ("memdev"), with a
	# label area; a 4 GiB fixed memory window over the host bridge.  CXL
	# decodes memory in units of 256 MiB.
	[ "$size_mib" -ge 256 ] || size_mib=256
	q+=(-machine "q35,cxl=on" -m "1G,slots=4,maxmem=8G"
	    -object "memory-backend-file,id=cxl-mem0,share=on,mem-path=$w/pmem,size=${size_mib}M"
	    -object "memory-backend-file,id=cxl-lsa0,share=on,mem-path=$w/lsa,size=1M"
	    -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
	    -device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=2
	    -device cxl-type3,bus=rp0,memdev=cxl-mem0,lsa=cxl-lsa0,id=cxl-pmem0
	    -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G)
else
	# nfit_test's DIMMs and regions are vmalloc()ed guest memory.
	q+=(-machine pc -m 3G)
fi

# --mce: the guest asks with "@mce ADDR" lines on its results UART; each
# new one becomes, 2 s later (the guest is reading by then), this monitor
# command.  Bank 9 status: VAL UC EN MISCV ADDRV S AR, MCACOD 0x134 (data
# load), i.e. software-recoverable action required; MCG status RIPV EIPV
# MCIP; misc: physical address, valid from bit 12 (one page).
drain=
if [ $mce = 1 ]; then
	mkfifo "$w/mon.in" "$w/mon.out"
	q+=(-chardev "pipe,id=mon0,path=$w/mon" -mon chardev=mon0,mode=readline)
	cat <>"$w/mon.out" >"$w/monitor.log" &
	drain=$!
fi
mce_watch() {
	local seen=0 n tag addr
	while sleep 0.2; do
		n=0
		while read -r tag addr; do
			[ "$tag" = @mce ] || continue
			n=$((n + 1))
			[ $n -gt $seen ] || continue
			seen=$n
			sleep 2
			echo "mce 0 9 0xbd80000000000134 0x7 $addr 0x8c" >"$w/mon.in"
			echo "boot.sh: machine check injected at $addr" >&2
		done < <(tr -d '\r' <"$w/results" 2>/dev/null)
	done
}

t0=$SECONDS
dax=
[ $mount_dax = 0 ] || dax=", ext4 -o dax"
for attempt in 1 2 3; do
	echo "boot.sh: Linux $abi, $backend, $mode${align:+ align $align}$dax" >&2
	: >"$w/results"
	# Another attempt starts from fresh media.
	[ "$attempt" = 1 ] || rm -f "$w/pmem" "$w/lsa"
	watcher=
	if [ $mce = 1 ]; then
		mce_watch &
		watcher=$!
	fi
	# The console is for people: strip the firmware's escapes and the CRs.
	set +e
	timeout -k 5 "$timeout" "${q[@]}" </dev/null 2>&1 |
		sed -u -e 's/\x1b[c]//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r$//' |
		tee "$w/console"
	qrc=${PIPESTATUS[0]}
	set -e
	if [ -n "$watcher" ]; then
		kill "$watcher" 2>/dev/null || :
		wait "$watcher" 2>/dev/null || :
	fi
	[ $mce = 1 ] && [ "$attempt" != 3 ] &&
		grep -q 'unrecoverable area of kernel' "$w/console" || break
	echo "boot.sh: the machine check landed in the kernel, which panicked: again" >&2
done
[ -z "$drain" ] || { kill "$drain" 2>/dev/null || :; wait "$drain" 2>/dev/null || :; }
tr -d '\r' <"$w/results" >"$w/results.txt" 2>/dev/null || : >"$w/results.txt"
[ -z "$results" ] || cp "$w/results.txt" "$results"
rc=$(sed -n 's/^@exit \([0-9]*\)$/\1/p' "$w/results.txt" | tail -1)
echo "boot.sh: guest ran $((SECONDS - t0)) s, script exit ${rc:-none}" >&2
[ -z "$rc" ] || exit "$rc"
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "boot.sh: TIMEOUT after $timeout s" >&2
	exit 124
fi
if grep -qE 'Kernel panic|kernel BUG|Oops|BUG:|general protection' "$w/console"; then
	echo "boot.sh: the guest kernel crashed (see the console above)" >&2
	exit 125
fi
echo "boot.sh: the guest stopped without an exit status (qemu exit $qrc)" >&2
exit 126
