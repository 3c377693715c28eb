#!/bin/bash
# tests/kernel/run-all.sh [--no-setup] [SCENARIO...]: udax against Linux 6.1
# with emulated NVDIMMs (README.md).  Sets the host up, builds the guest's
# static binaries, runs every scenario (or the ones named) on each backend
# its "# boot:" lines ask for, and prints one table:
#   scenario | kernel's answer | udax on the real device |
#   udax on the emulated device | verdict
# Exit: 0 all PASS (or SKIPPED: the kernel cannot be had, said loudly);
# 1 any FAIL.
#
# Environment: UDAX_KERNEL_BUILD (build dir, default build-kernel),
# UDAX_KERNEL_CACHE (setup.sh), UDAX_KERNEL_REQUIRE_REAL=1 (a real-device
# answer that is still "not supported yet" is a FAIL, not pending).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${UDAX_KERNEL_BUILD:-$top/build-kernel}
t0=$SECONDS
setup=1
while [ $# -gt 0 ]; do
	case $1 in
	--no-setup) setup=0 ;;
	-h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "run-all.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done

elapsed() { local s=$((SECONDS - t0)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# ---- 1. host and kernel ----------------------------------------------------
if [ $setup = 1 ]; then
	setup_log=$(mktemp)
	"$here/setup.sh" 2>"$setup_log"
	rc=$?
	cat "$setup_log"
	why=$(sed -n 's/^kernel setup: CANNOT RUN: //p' "$setup_log" | tail -1)
	rm -f "$setup_log"
	if [ $rc = 77 ]; then
		echo
		echo "################################################################"
		echo "## check-kernel SKIPPED: ${why:-setup.sh exited 77}"
		echo "################################################################"
		exit 0
	fi
	[ $rc = 0 ] || { echo "check-kernel: FAIL: tests/kernel/setup.sh exited $rc" >&2; exit 1; }
fi

# ---- 2. the guest's static binaries ----------------------------------------
if [ ! -f "$build/build.ninja" ]; then
	cmake -S "$top" -B "$build" -G Ninja -DUDAX_STATIC=ON \
		-DUDAX_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ||
		{ echo "check-kernel: FAIL: cmake configure of $build" >&2; exit 1; }
fi
cmake --build "$build" --target udax-cli udax-kprobe >"$build/static-build.log" 2>&1 ||
	{ tail -30 "$build/static-build.log"; echo "check-kernel: FAIL: static build" >&2; exit 1; }
udax_bin=$build/cli/udax
kprobe=$build/tests/udax-kprobe

# ---- 3. scenarios ------------------------------------------------------------
logs=$build/kernel-logs
rm -rf "$logs"
mkdir -p "$logs"
if [ $# = 0 ]; then
	set -- "$here"/scenarios/*.sh
fi
scenarios=()
for s in "$@"; do
	[ -f "$s" ] || s=$here/scenarios/${s%.sh}.sh
	[ -f "$s" ] || { echo "run-all.sh: no scenario $s" >&2; exit 2; }
	scenarios+=("$s")
done

# emul_env BOOT-OPTIONS...: the variables a guest would have, for the host
# run: the backend and namespace the scenario asked for, no devices.
emul_env() {
	local backend=nvdimm mode='' align='' mount=0
	while [ $# -gt 0 ]; do
		case $1 in
		--nvdimm|--nfit|--cxl) backend=${1#--} ;;
		--mode) mode=$2; shift ;;
		--align) align=$2; shift ;;
		--mount-dax) mount=1 ;;
		--size|--timeout|--env) shift ;;
		esac
		shift
	done
	[ -n "$mode" ] || { mode=raw; [ $mount = 0 ] || mode=fsdax; }
	echo "UDAX_BACKEND=$backend UDAX_MODE=$mode UDAX_ALIGN=$align"
}

groups=()	# "scenario boot"
for s in "${scenarios[@]}"; do
	name=$(basename "$s" .sh)
	while read -r label opts; do
		g="$name $label"
		groups+=("$g")
		out=$logs/$name.$label
		echo "=== $name on $label: boot.sh $opts" | tee "$out.log"
		# shellcheck disable=SC2086
		"$here/boot.sh" $opts --results "$out.guest" \
			"$s" "$here/lib.sh" "$udax_bin" "$kprobe" \
			>>"$out.log" 2>&1
		grc=$?
		tail -1 "$out.log"
		# The same scenario on an emulated image, on the host.
		# shellcheck disable=SC2046
		env $(emul_env $opts) RESULTS="$out.emul" UDAX_KLIB="$here/lib.sh" \
			UDAX_BIN="$udax_bin" KPROBE="$kprobe" UDAX_GUEST=0 \
			BUS= NS= REGION= PMEM= PMEM_NAME= DAX= DAX_NAME= MNT= \
			sh "$s" >"$out.emul.log" 2>&1
		erc=$?
		echo "$grc $erc $opts" >"$out.meta"
	done < <(sed -n 's/^# boot: *//p' "$s")
done

# ---- 4. the table ----------------------------------------------------------
"$here/table.sh" "$logs" "${groups[@]}"
trc=$?
echo "check-kernel: $(uname -r) host, Linux $(cat "${UDAX_KERNEL_CACHE:-$HOME/.cache/udax-kernel}/abi") guests;" \
	"logs in ${logs#"$top"/}; total time $(elapsed)"
exit $trc
