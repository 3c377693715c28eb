#!/bin/bash
# tests/kernel/setup.sh: make this host able to boot Linux 6.1 with emulated
# persistent memory (see README.md).  Idempotent; a re-run takes a second.
#
#   1. host tools (QEMU, busybox-static, ndctl, ...), apt-get installed as root;
#   2. Debian's 6.1 kernel image, headers, kbuild and source .debs, downloaded
#      with apt-get download and unpacked into the cache (nothing installed);
#   3. nfit_test (tools/testing/nvdimm) built out of tree against them.
#
# Environment: UDAX_KERNEL_CACHE (default ~/.cache/udax-kernel),
#              UDAX_KERNEL_ABI (e.g. 6.1.0-57-amd64; default: the cached one,
#              else the one Debian's linux-image-amd64 points at).
# Exit: 0 ready; 77 the kernel or the tools cannot be had (callers skip and
# say why); 1 anything else (a real failure).
set -euo pipefail

CACHE=${UDAX_KERNEL_CACHE:-$HOME/.cache/udax-kernel}
T0=$SECONDS
say() { echo "kernel setup: $*" >&2; }
fail() { say "$*"; exit 1; }
skip() { say "CANNOT RUN: $*"; exit 77; }

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
	skip "not a Debian host (no apt-get/dpkg-deb)"
[ "$(uname -m)" = x86_64 ] || skip "needs an x86_64 host (uname -m: $(uname -m))"
export DEBIAN_FRONTEND=noninteractive

# ---- 1. host tools ---------------------------------------------------------
# busybox-static is the guest's userland; ndctl, daxctl, e2fsprogs are copied
# into the guest; kmod resolves module chains; gcc/make/libc6-dev build
# nfit_test and the static guest binaries (libjson-c-dev has libjson-c.a).
tools="qemu-system-x86 busybox-static kmod cpio gzip ndctl daxctl e2fsprogs
       gcc make libc6-dev libjson-c-dev xz-utils"
missing=
for p in $tools; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || fail "missing packages; as root: apt-get install -y --no-install-recommends$missing"
	say "apt-get install$missing"
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >&2 ||
		{ apt-get update -q >&2 &&
		  apt-get install -y -q --no-install-recommends $missing >&2; } ||
		skip "apt-get install$missing failed (no package mirror?)"
fi

# ---- 2. the kernel, into the cache -----------------------------------------
mkdir -p "$CACHE"
abi=${UDAX_KERNEL_ABI:-}
[ -n "$abi" ] || [ ! -s "$CACHE/abi" ] || abi=$(cat "$CACHE/abi")
if [ -n "$abi" ] && [ -e "$CACHE/.ready-$abi" ]; then
	say "ready: $abi in $CACHE"
	exit 0
fi

pick_abi() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(6\.1\.[0-9]*-[0-9]*-amd64\)$/\1/p' | head -1
}
version_of() {
	apt-cache show --no-all-versions "linux-image-$abi" 2>/dev/null |
		sed -n 's/^Version: //p' | head -1
}
# A fresh machine may have no package lists: update once, then ask again.
if [ -z "$abi" ]; then
	abi=$(pick_abi) || true
	[ -n "$abi" ] || { apt-get update -q >&2 || true; abi=$(pick_abi) || true; }
	[ -n "$abi" ] || skip "apt knows no Linux 6.1 kernel (linux-image-amd64); set UDAX_KERNEL_ABI or add a bookworm mirror"
fi
ver=$(version_of) || true
[ -n "$ver" ] || { apt-get update -q >&2 || true; ver=$(version_of) || true; }
[ -n "$ver" ] || skip "apt does not know linux-image-$abi (no mirror, or the version is gone)"
say "kernel $abi (Debian $ver)"

# The headers package needs its -common half and kbuild (scripts, objtool);
# the source package has tools/testing/nvdimm.  All at the same version.
pkgs="linux-image-$abi linux-headers-$abi linux-headers-${abi%-amd64}-common
      linux-kbuild-6.1 linux-source-6.1"
mkdir -p "$CACHE/debs"
for p in $pkgs; do
	ls "$CACHE/debs/${p}_${ver}_"*.deb >/dev/null 2>&1 && continue
	say "apt-get download $p=$ver"
	# APT::Sandbox::User=root: _apt may not write into a private cache dir.
	(cd "$CACHE/debs" && apt-get download -q -o APT::Sandbox::User=root "$p=$ver" >&2) ||
		(apt-get update -q >&2 && cd "$CACHE/debs" &&
		 apt-get download -q -o APT::Sandbox::User=root "$p=$ver" >&2) ||
		skip "cannot download $p=$ver (no mirror, or the version is gone)"
done
deb() { echo "$CACHE/debs/${1}_${ver}_"*.deb; }

root=$CACHE/root-$abi
for p in "linux-image-$abi" "linux-headers-$abi" "linux-headers-${abi%-amd64}-common" linux-kbuild-6.1; do
	[ -e "$root/.unpacked-$p" ] && continue
	say "unpack $p"
	mkdir -p "$root"
	dpkg-deb -x "$(deb "$p")" "$root" || fail "dpkg-deb -x $p failed"
	touch "$root/.unpacked-$p"
done
[ -f "$root/boot/vmlinuz-$abi" ] || fail "no vmlinuz-$abi in linux-image-$abi"
kdir=$root/usr/src/linux-headers-$abi
# The headers' Makefile includes the -common half by its installed path
# (/usr/src/...); point it into the cache instead.
sed -i "s#^include /usr/src/#include $root/usr/src/#" "$kdir/Makefile"
[ -d "$kdir/scripts/" ] || fail "$kdir/scripts does not resolve (linux-kbuild-6.1 not unpacked?)"
[ -e "$root/lib/modules/$abi/modules.dep.bin" ] || depmod -b "$root" "$abi" ||
	fail "depmod failed"

# Only the directories nfit_test's Kbuild reaches into (../../../drivers).
src=$CACHE/src-$abi
if [ ! -e "$src/.unpacked" ]; then
	say "unpack linux-source-6.1 (drivers/{nvdimm,acpi/nfit,dax}, tools/testing/nvdimm)"
	rm -rf "$src"
	mkdir -p "$src"
	dpkg-deb --fsys-tarfile "$(deb linux-source-6.1)" |
		tar -xO ./usr/src/linux-source-6.1.tar.xz |
		tar -xJ -C "$src" --strip-components=1 \
			linux-source-6.1/tools/testing/nvdimm linux-source-6.1/drivers/nvdimm \
			linux-source-6.1/drivers/acpi/nfit linux-source-6.1/drivers/dax ||
		fail "cannot unpack linux-source-6.1"
	touch "$src/.unpacked"
fi

# ---- 3. nfit_test ----------------------------------------------------------
# Built in place: its Kbuild names the driver sources relative to itself, but
# takes include paths from $(srctree), which is the headers tree here.
nt=$src/tools/testing/nvdimm
if [ ! -e "$nt/.built" ]; then
	say "build nfit_test against $abi"
	sed -i "s#\$(srctree)/drivers/#$src/drivers/#g" "$nt/Kbuild" "$nt/test/Kbuild"
	make -C "$kdir" M="$nt" -j2 modules >"$CACHE/nfit_test-build.log" 2>&1 || {
		tail -20 "$CACHE/nfit_test-build.log" >&2
		fail "nfit_test build failed: $CACHE/nfit_test-build.log"
	}
	touch "$nt/.built"
fi
for m in test/nfit_test test/nfit_test_iomap libnvdimm nfit nd_pmem nd_btt device_dax dax_pmem; do
	[ -f "$nt/$m.ko" ] || fail "nfit_test build made no $m.ko"
done

echo "$abi" >"$CACHE/abi"
touch "$CACHE/.ready-$abi"
say "ready: $abi in $CACHE ($((SECONDS - T0)) s)"
