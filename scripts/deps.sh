#!/bin/sh
# Install the Debian packages udax builds and tests with, if missing.
# As root: apt-get installs them.  Otherwise: prints the exact command.
#   scripts/deps.sh [build|check|bench|all]
set -eu
what=${1:-check}
build="cmake ninja-build gcc pkg-config libjson-c-dev scdoc"
# libndctl-dev, libdaxctl-dev: only for tests (the devdax backend opens the
# libraries at run time, if at all; the tests check it against them).
check="$build jq gddrescue clang libclang-rt-14-dev valgrind strace libndctl-dev libdaxctl-dev"
bench="$build libpmem-dev libpmem2-dev gnuplot-nox jq"
case $what in
build) want=$build ;;
check) want=$check ;;
bench) want=$bench ;;
all)   want="$check $bench" ;;
*) echo "usage: $0 [build|check|bench|all]" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "udax: missing packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "udax: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet.
if ! apt-get install -y --no-install-recommends $missing; then
	apt-get update
	apt-get install -y --no-install-recommends $missing
fi
