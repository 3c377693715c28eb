# shellcheck shell=dash
# tests/kernel/lib.sh: sourced by every scenario, in two places:
#   in the guest (busybox ash, as root, on the kernel's device): the kernel's
#     answers and udax's answers on the real device;
#   on the host (sh, on an emulated image): udax's answers on the emulated
#     device.
# A scenario is written once: the same rows, the same udax commands.  What
# only the guest can do goes in "if on_real; then ... fi".
#
# Each answer is one line on $RESULTS, read by table.sh:
#   row|ID|TEXT             a row of the table (the current row from now on)
#   kernel|ID|WANT|GOT      the kernel's answer       (guest)
#   real|ID|WANT|GOT        udax on the real device   (guest)
#   emul|ID|WANT|GOT        udax on the emulated one  (host)
#   expect|ID|COLUMN|WANT   an answer the other side owes (so that a crash
#                           or a missing answer shows as one)
# WANT is a shell pattern, matched against GOT by table.sh.

set -u
: "${RESULTS:?}" "${UDAX_BACKEND:?}" "${UDAX_MODE:?}"
# Absolute paths: "udax" is also the name of a function below.
UDAX_BIN=${UDAX_BIN:-/opt/udax}
KPROBE=${KPROBE:-/opt/udax-kprobe}
DEV=
ROW=
T=$(mktemp -d "${TMPDIR:-/tmp}/udax-scenario.XXXXXX")
trap 'rm -rf "$T"' EXIT

on_real() { [ "${UDAX_GUEST:-0}" = 1 ]; }
on_emul() { ! on_real; }
nvdimm() { [ "$UDAX_BACKEND" = nvdimm ]; }
nfit() { [ "$UDAX_BACKEND" = nfit ]; }
cxl() { [ "$UDAX_BACKEND" = cxl ]; }

die() { echo "scenario: $*" >&2; exit 3; }
record() { printf '%s\n' "$*" >>"$RESULTS"; }
clean() { printf '%s' "$*" | tr '|\n' '/ '; }
# Lines of FILE as "a, b, c"; "none" when there are none.
lines() {
	if [ -s "$1" ]; then
		sed -e 's/[[:space:]]*$//' -e '/^$/d' "$1" | tr '|' '/' |
			awk 'NR > 1 { printf ", " } { printf "%s", $0 } END { if (!NR) printf "none" }'
	else
		printf none
	fi
}

# row ID TEXT: start a row, or go back to one (it keeps its first place).
row() {
	ROW=$1
	echo "== [$1] $2"
	record "row|$1|$(clean "$2")"
}

# device PATH SIZE: the device the following udax commands get as "$DEV":
# PATH in the guest, a fresh emulated image of SIZE on the host.
device() {
	if on_real; then
		[ -e "$1" ] || die "no device $1 (did the namespace come up?)"
		DEV=$1
	else
		DEV=$T/emulated.img
		rm -f "$DEV" "$DEV.poison"
		"$UDAX_BIN" create "$DEV" --size "$2" || die "udax create failed"
	fi
}

# kernel WANT CMD...: the kernel's answer for the current row is CMD's
# output (lines joined), or "exit N" when it printed nothing and failed.
kernel() {
	local want=$1 rc=0 got
	shift
	if on_emul; then
		record "expect|$ROW|kernel|$(clean "$want")"
		return 0
	fi
	"$@" >"$T/k.out" 2>&1 || rc=$?
	got=$(lines "$T/k.out")
	[ "$got" != none ] || [ $rc = 0 ] || got="exit $rc"
	echo "   kernel: $* -> $got"
	record "kernel|$ROW|$(clean "$want")|$(clean "$got")"
}

# udax WANT COMMAND ARGS...: run the udax CLI; its answer for the current
# row (real device in the guest, emulated on the host) is "exit N" and what
# the command says, in short: badblocks' list, read's byte count, rescue's
# bad areas, scrub's first line, info's backend and size.  A device that
# udax cannot open yet is "udax_open: EOPNOTSUPP".
udax() {
	local want=$1 cmd=$2 rc=0 got
	shift
	"$UDAX_BIN" "$@" >"$T/u.out" 2>"$T/u.err" || rc=$?
	got="exit $rc"
	if grep -q 'not a udax device' "$T/u.err"; then
		got="udax_open: EOPNOTSUPP"
	else
		case $cmd in
		badblocks|list) got="$got: $(lines "$T/u.out")" ;;
		read) got="$got: $(wc -c <"$T/u.out" | tr -d ' ') B" ;;
		scrub) got="$got: $(head -1 "$T/u.out")" ;;
		info) got="$got: $(awk '$1 == "backend:" { b = $2 } $1 == "size:" { s = $2 }
				END { print b, s }' "$T/u.out")" ;;
		rescue) got="$got: $(map_bad "$4")" ;;
		esac
	fi
	echo "   udax $* -> $got"
	[ ! -s "$T/u.err" ] || sed 's/^/      stderr: /' "$T/u.err"
	answer udax "$want" "$got"
}

# uprobe WANT OP ARGS...: udax-kprobe OP "$DEV" ARGS, the libudax questions
# the CLI does not ask (kprobe.c: upoison).
uprobe() {
	local want=$1 op got
	shift
	op=$1
	shift
	"$KPROBE" "$op" "$DEV" "$@" >"$T/p.out" 2>&1
	got=$(lines "$T/p.out")
	echo "   udax-kprobe $op $DEV $* -> $got"
	answer udax "$want" "$got"
}

answer() {
	if on_real; then
		record "real|$ROW|$(clean "$2")|$(clean "$3")"
		record "expect|$ROW|emul|?"
	else
		record "emul|$ROW|$(clean "$2")|$(clean "$3")"
		[ "$EMUL_ONLY" = 1 ] || record "expect|$ROW|real|?"
	fi
}

# emul_only udax|uprobe ...: a question the real device of this boot cannot
# be asked (say why where it is used); the real column shows "-".
EMUL_ONLY=0
emul_only() {
	on_emul || return 0
	EMUL_ONLY=1
	"$@"
	EMUL_ONLY=0
}

# The bad areas of a ddrescue map file, "0xPOS+0xSIZE ...", or "none".
map_bad() {
	[ -f "$1" ] || { printf 'no map'; return; }
	awk '!/^#/ && ++n > 1 && $3 != "+" {
		printf "%s%s+%s", (k++ ? " " : "bad "), $1, $2
	} END { if (!k) printf "no bad areas" }' "$1"
}

# fill OFF LEN BYTE: data, written by the kernel's own path in the guest,
# with udax write on the host.
fill() {
	if on_real; then
		"$KPROBE" fill "$DEV" "$1" "$2" "$3" >/dev/null || die "fill $DEV failed"
	else
		head -c "$2" /dev/zero | tr '\0' "\\$(printf %o "$3")" >"$T/fill"
		"$UDAX_BIN" write "$DEV" --offset "$1" -i "$T/fill" || die "udax write failed"
	fi
}

# poison SECTOR COUNT [--latent]: put 512-byte sectors of the device on the
# known list (or only on the media): /sys/block/pmemN/badblocks on QEMU's
# NVDIMM, ndctl inject-error on nfit_test, udax inject on the host.
poison() {
	local latent=${3:-}
	if on_emul; then
		"$UDAX_BIN" inject "$DEV" --offset $(($1 * 512)) --length $(($2 * 512)) $latent ||
			die "udax inject failed"
	elif nfit; then
		[ -z "$latent" ] || latent=--no-notify
		ndctl inject-error --block="$1" --count="$2" $latent "$NS" >/dev/null ||
			die "ndctl inject-error failed"
	else
		[ -z "$latent" ] || die "QEMU's NVDIMM has no latent poison"
		[ -n "${PMEM_NAME:-}" ] || die "QEMU's NVDIMM: poison needs a block device"
		echo "$1 $2" >"/sys/block/$PMEM_NAME/badblocks" || die "badblocks write failed"
	fi
}

# note TEXT: a fact for the log (not a row).
note() { echo "   note: $*"; }
