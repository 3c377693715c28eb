#!/bin/bash
# install: `cmake --install` into a temporary prefix gives a udax that runs
# without LD_LIBRARY_PATH and shows its own manual pages, a libudax.pc that
# still works after the tree is moved, and a CMake package (udax::udax);
# an external program builds and runs through both.
. "$(dirname "$0")/lib.sh"
[ -n "$BUILDDIR" ] || { echo "SKIP: no build directory given"; exit 77; }
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config missing"; exit 77; }
CC=${UDAX_TEST_CC:-cc}
SAN=${UDAX_TEST_SANITIZE:-}	# the build's -fsanitize=, which its library needs
command -v "$CC" >/dev/null || { echo "SKIP: no C compiler"; exit 77; }

P=$T/prefix
cmake --install "$BUILDDIR" --prefix "$P" >"$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; fail "cmake --install"; }

# The program: its library through RPATH, its man pages beside it.
env -u LD_LIBRARY_PATH "$P/bin/udax" version | grep -q '^udax .* (libudax ' ||
	fail "installed udax does not run"
if command -v man >/dev/null && [ -f "$BUILDDIR/man/udax-read.1" ]; then
	MANPAGER=cat PAGER=cat MANPATH=/nonexistent "$P/bin/udax" help read >"$T/h" 2>&1
	grep -q 'udax-read' "$T/h" || fail "installed udax help: $(head -3 "$T/h")"
	# the installed page, not the build tree's nor MANPATH's
	if command -v strace >/dev/null; then
		MANPAGER=cat MANPATH=/nonexistent strace -f -s 4096 -e trace=execve \
			-o "$T/tr" "$P/bin/udax" help read >/dev/null 2>&1 || true
		grep -q "\"-l\", \"$P/bin/../share/man/man1/udax-read.1\"" "$T/tr" ||
			fail "installed udax did not open its own page: $(grep -- '-l' "$T/tr" | head -1)"
	fi
fi

cat >"$T/ext.c" <<'C'
#include <stdio.h>
#include <udax/udax.h>

int main(int argc, char **argv)
{
	struct udax_dev *dev;
	char buf[4096];
	int rc;

	if (argc < 2)
		return 2;
	rc = udax_create(argv[1], 65536);
	if (!rc)
		rc = udax_open(argv[1], 0, &dev);
	if (rc)
		return 1;
	rc = udax_inject(dev, 4096, 512, 0) ||
	     udax_read(dev, buf, 4096, 4096, UDAX_OP_FAILFAST) != -EIO_EXPECTED;
	printf("libudax %s: %s\n", udax_version(), udax_backend(dev));
	udax_close(dev);
	return rc;
}
C
sed -i 's/-EIO_EXPECTED/-5/' "$T/ext.c"

# 1. pkg-config, from a moved copy of the prefix (the .pc is relocatable).
mv "$P" "$T/moved"
P=$T/moved
PKG_CONFIG_PATH=$(dirname "$(find "$P" -name libudax.pc)") export PKG_CONFIG_PATH
cflags=$(pkg-config --cflags libudax)
libs=$(pkg-config --libs libudax)
case "$cflags" in *"$P"*) ;; *) fail "pkg-config --cflags: '$cflags' is not under $P" ;; esac
"$CC" $SAN -o "$T/ext-pc" "$T/ext.c" $cflags $libs || fail "build through pkg-config"
LD_LIBRARY_PATH=$(pkg-config --variable=libdir libudax) "$T/ext-pc" "$T/a.img" |
	grep -q "^libudax .*: emulated$" || fail "ext-pc"

# 2. find_package(udax) -> udax::udax
mkdir -p "$T/cm"
cat >"$T/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(ext C)
find_package(udax 0.2 REQUIRED)
add_executable(ext ../ext.c)
target_link_libraries(ext PRIVATE udax::udax)
CM
cmake -S "$T/cm" -B "$T/cm/build" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_COMPILER="$CC" \
	-DCMAKE_C_FLAGS="$SAN" -DCMAKE_EXE_LINKER_FLAGS="$SAN" >"$T/cm.log" 2>&1 ||
	{ cat "$T/cm.log"; fail "find_package(udax)"; }
cmake --build "$T/cm/build" >>"$T/cm.log" 2>&1 || { cat "$T/cm.log"; fail "build with udax::udax"; }
"$T/cm/build/ext" "$T/b.img" | grep -q "^libudax .*: emulated$" || fail "ext-cmake"
echo "install: ok"
