#!/bin/bash
# A command killed at any point leaves every page poisoned, or holding what
# the command was writing (zeros for clear, the new data for a recovery
# write) -- never its old bytes with the poison gone -- and a state file
# that parses and that the next command can change.
#
# Each command runs once under strace to list its state-changing system
# calls; then once per call, from the same starting image, with strace
# killing it (SIGKILL) on entry to that call: every point between two of
# them.  UDAX_CRASH_SYSCALLS overrides the list of calls.
. "$(dirname "$0")/lib.sh"
type -P strace >/dev/null || { echo "SKIP: strace is not installed"; exit 77; }
strace -qq -o /dev/null true 2>/dev/null ||
	{ echo "SKIP: strace cannot trace here (ptrace refused)"; exit 77; }

CALLS=${UDAX_CRASH_SYSCALLS:-openat,open,creat,write,pwrite64,writev,fsync,fdatasync,msync,rename,renameat,renameat2,unlink,unlinkat,ftruncate,fcntl,close,mprotect,munmap,link,linkat}
I=$T/img
PAGES=16

# The starting image: random data; known poison on pages 3 4 10 11 14,
# latent on 6 8 9 12.
udax create "$I" --size 64K
head -c 65536 /dev/urandom >"$T/old"
udax write "$I" --offset 0 -i "$T/old" >/dev/null
for p in 3 4 10 11 14; do udax inject "$I" --offset $((p * 4096)) --length 4K; done
udax inject "$I" --offset $((6 * 4096 + 512)) --length 512 --latent
for p in 8 9 12; do udax inject "$I" --offset $((p * 4096)) --length 4K --latent; done
cp "$I" "$T/start"
cp "$I.poison" "$T/start.poison"
head -c 65536 /dev/urandom >"$T/new"	# what the writes write
head -c 4096 /dev/zero >"$T/zero"
tail -c +$((40 * 1024 + 1)) "$T/new" >"$T/new40"
tail -c +$((32 * 1024 + 1)) "$T/new" >"$T/new32"

restore() {
	rm -f "$I".poison.tmp*
	cp "$T/start" "$I"
	cp "$T/start.poison" "$I.poison"
}

# The state file, read strictly: "k P" / "m P" for each page P with known /
# media poison; exit 1 if it does not parse.
state_pages() {
	awk -v pages=$PAGES '
	function page(s, n,   p) {
		for (p = int(s / 8); p * 8 < s + n && p < pages; p++) print sec, p
	}
	NR == 1 { if ($0 != "udax-poison 1" && $0 != "udax-poison 2") exit 1; v = $2; next }
	NR == 2 && v == 2 { if ($1 != "gen" || $2 !~ /^[0-9]+$/ || NF != 2) exit 1; next }
	$0 == "known" && sec == "" { sec = "k"; next }
	$0 == "media" && sec == "k" { sec = "m"; next }
	{
		if (sec == "" || NF != 2 || $1 !~ /^[0-9]+$/ || $2 !~ /^[1-9][0-9]*$/) exit 1
		page($1, $2)
	}
	END { if (sec != "m") exit 1 }' "$I.poison"
}

# Pages of a file as lines of hex (one od for all of them).
pages_hex() { od -An -v -tx1 -w4096 -j "$2" -N $((PAGES * 4096)) "$1" | tr -d ' '; }
mapfile -t OLD < <(pages_hex "$T/old" 0)
mapfile -t NEW < <(pages_hex "$T/new" 0)
ZERO=$(pages_hex "$T/zero" 0)

# check WHAT ALLOWED...: ALLOWED is one word per page, the outcomes page P
# may show: P (poisoned: known or media), O, N, Z.  WHAT names the point.
check() {
	local what=$1 p st raw stv cur verdicts=
	shift
	raw=$(state_pages) || fail "$what: the state file does not parse: $(cat "$I.poison")"
	stv=" $(echo "$raw" | tr '\n' ' ')"
	mapfile -t cur < <(pages_hex "$I" 4096)
	for ((p = 0; p < PAGES; p++)); do
		# Poisoned, else what the page holds: O (old bytes), N (new),
		# Z (zeros) or X (anything else).
		case "$stv" in
		*" $p "*) st=P;;
		*) if [ "${cur[p]}" = "${OLD[p]}" ]; then st=O
		   elif [ "${cur[p]}" = "${NEW[p]}" ]; then st=N
		   elif [ "${cur[p]}" = "$ZERO" ]; then st=Z
		   else st=X; fi;;
		esac
		verdicts="$verdicts $st"
		case "$1" in *"$st"*) ;; *)
			cat "$I.poison" >&2
			fail "$what: page $p is $st, allowed: $1 (P poisoned, O old data, N new data, Z zeros); state:$stv; pages:$verdicts";;
		esac
		# Media poison never goes away but where the command clears it.
		case "$START_MEDIA" in *" m $p "*)
			case "$stv" in *" m $p "*) ;; *)
				case "$1" in *Z*|*N*) ;; *)
					fail "$what: page $p lost its media poison; state:$stv";;
				esac;;
			esac;;
		esac
		shift
	done
	# The next command works on what is left, and sees all of it.
	udax inject "$I" --offset $((15 * 4096 + 4096 - 512)) --length 512 >/dev/null ||
		fail "$what: inject after the kill failed"
	udax badblocks "$I" >"$T/bb" || fail "$what: badblocks after the kill failed"
	grep -qx "127 1" "$T/bb" || fail "$what: the next inject was lost: $(cat "$T/bb")"
	while read -r s p; do
		[ "$s" = k ] || continue
		awk -v p="$p" '$1 < p * 8 + 8 && $1 + $2 > p * 8 { f = 1 } END { exit !f }' "$T/bb" ||
			fail "$what: page $p is known in the state file but not to udax badblocks"
	done <<<"$raw"
}

# crash NAME ALLOWED-PAGES -- CMD...: kill CMD at each of its calls.
_crash() { case " ${ONLY:-$1} " in *" $1 "*) crash "$@";; esac; }
crash() {
	local name=$1 allowed=$2 sc n points=0 rc
	shift 3
	restore
	strace -f -qq -o "$T/trace" -e trace="$CALLS" "$@" </dev/null >/dev/null 2>&1 ||
		fail "$name: the command fails without a kill"
	# shellcheck disable=SC2086
	check "$name, not killed" $allowed
	# The calls from the image's open on, as "NAME ORDINAL" (the
	# ordinal among calls of that name, counted from the start, as
	# strace's when= counts them), in the order they ran.
	awk -v img="\"$I\"" '
		{ if (!match($0, /^([0-9]+ +)?[a-z0-9_]+\(/)) next
		  sc = $0; sub(/^[0-9]+ +/, "", sc); sub(/\(.*/, "", sc); n[sc]++ }
		!on && sc == "openat" && index($0, img ",") { on = 1 }
		on { print sc, n[sc] }' "$T/trace" >"$T/calls"
	[ -s "$T/calls" ] || fail "$name: no calls traced after the image was opened"
	while read -r sc k; do
		restore
		rc=0
		# (strace tampers only with calls it traces.)
		strace -f -qq -o /dev/null -e trace="$sc" \
			-e inject="$sc:signal=KILL:when=$k" "$@" </dev/null >/dev/null 2>&1 || rc=$?
		[ "$rc" = 137 ] || fail "$name: exit $rc, not killed at $sc #$k"
		# shellcheck disable=SC2086
		check "$name killed at $sc #$k" $allowed
		points=$((points + 1))
	done <"$T/calls"
	echo "$name: killed at $points points: $(cut -d' ' -f1 "$T/calls" | sort | uniq -c | tr -s ' \n' ' ')"
}

restore
raw=$(state_pages) || fail "the starting state does not parse"
START_MEDIA=" $(echo "$raw" | grep '^m' | tr '\n' ' ')"

#                 page: 0  1   2   3  4  5  6  7  8  9  10 11 12 13 14 15
_crash inject     "O    PO  PO  P  P  O  P  O  P  P  P  P  P  O  P  PO" -- \
	"$UDAX" inject "$I" --offset 4K --length 8K
_crash inject-latent "O PO  PO  P  P  O  P  O  P  P  P  P  P  O  P  PO" -- \
	"$UDAX" inject "$I" --offset 4K --length 5K --latent
_crash clear      "O    O   O   PZ PZ OZ PZ O  P  P  P  P  P  O  P  PO" -- \
	"$UDAX" clear "$I" --offset 12K --length 16K
_crash scrub      "O    O   O   P  P  O  P  O  P  P  P  P  P  O  P  PO" -- \
	"$UDAX" scrub "$I"
_crash write-recovery "O O  O   P  P  O  P  O  P  P  PN PN PN O  P  PO" -- \
	"$UDAX" write "$I" --offset 40K --length 12K --mode recovery -i "$T/new40"
_crash write      "O    O   O   P  P  O  P  O  PN PN PN PN PN O  P  PO" -- \
	"$UDAX" write "$I" --offset 32K --length 20K -i "$T/new32"
_crash zero-write "O    O   O   PZ PZ O  P  O  P  P  P  P  P  O  P  PO" -- \
	"$UDAX" write "$I" --offset 12K --length 8K -i /dev/zero
echo "crash-points: ok"
