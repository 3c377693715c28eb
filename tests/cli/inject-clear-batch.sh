#!/bin/bash
# inject and clear over many ranges: one transaction each (40,000 ranges:
# one rename of the state, the generation moves once), all or nothing, and
# they say what they did.  clear zeroes only the pages holding poison
# unless --all; --dry-run changes nothing.  A write syncs the image, and a
# rename of the state is followed by an fsync of its directory.  An image
# of 40,000 bad runs can be rescued.
. "$(dirname "$0")/lib.sh"
I=$T/img
have_strace=0
type -P strace >/dev/null && strace -qq -o /dev/null true 2>/dev/null && have_strace=1

gen() { od -An -t u8 -j 24 -N 8 "$I" | tr -d ' '; }	# the header's gen

# 40,000 ranges: one transaction.
udax create "$I" --size 320M
g0=$(gen)
t0=$(date +%s%N)
if [ $have_strace = 1 ]; then
	strace -f -qq -o "$T/tr" -e trace=rename,renameat,renameat2 \
		"$UDAX" inject "$I" --offset 0 --length 4K --count 40000 --stride 8K >"$T/out"
	[ "$(grep -c 'rename' "$T/tr")" = 1 ] || fail "renames: $(cat "$T/tr")"
else
	udax inject "$I" --offset 0 --length 4K --count 40000 --stride 8K >"$T/out"
fi
echo "inject of 40000 ranges: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
grep -q "40000 ranges" "$T/out" || fail "inject does not say how many ranges: $(cat "$T/out")"
[ "$(gen)" = $((g0 + 2)) ] || fail "40000 ranges took $(( ($(gen) - g0) / 2 )) commits"
[ "$(udax badblocks "$I" | wc -l)" = 40000 ] || fail "not 40000 known ranges"

# A rescue of the 40,000-run image: exit 3, the bad areas are the runs.
rc=0
udax rescue "$I" "$T/r.out" "$T/r.map" --json >"$T/r.json" 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "rescue of 40000 runs exited $rc"
jq -e '.finished and .bad_area_count == 40000 and .bad_bytes == 40000 * 4096' "$T/r.json" >/dev/null ||
	fail "rescue: $(jq -c 'del(.bad_areas)' "$T/r.json")"

# ... and cleared in one transaction (only the poisoned pages).
g0=$(gen)
udax clear "$I" --offset 0 --length 320M >"$T/out"
echo "cleared 40000 pages in 1 range (163840000 bytes zeroed)" | diff -u - "$T/out"
[ "$(gen)" = $((g0 + 2)) ] || fail "clear took $(( ($(gen) - g0) / 2 )) commits"
[ -z "$(udax badblocks "$I")" ] || fail "poison left after clear"
grep -qx media "$I.poison" && [ "$(sed -n '/^media$/,$p' "$I.poison" | wc -l)" = 1 ] ||
	fail "media poison left after clear"

# All or nothing: a failure while saving leaves nothing applied.
new_image "$I" 1M
quiet udax inject "$I" --offset 64K --length 4K
cp "$I.poison" "$T/state"
expect_err 2 "past the end of the device" udax inject "$I" --offset 0 --length 4K --count 300 --stride 4K
cmp "$I.poison" "$T/state" || fail "a refused inject changed the state"
if [ $have_strace = 1 ]; then
	expect_err 1 "nothing injected" strace -qq -o /dev/null -e trace=rename -e inject=rename:error=EIO \
		"$UDAX" inject "$I" --offset 128K --length 4K --count 100 --stride 8K
	cmp "$I.poison" "$T/state" || fail "a failed inject applied some ranges"
	expect_err 1 "nothing was cleared" strace -qq -o /dev/null -e trace=fsync -e inject=fsync:error=EIO \
		"$UDAX" clear "$I" --offset 0 --length 1M
	cmp "$I.poison" "$T/state" || fail "a failed clear changed the state"
fi

# clear: only the poisoned pages by default; --dry-run; --all.
new_image "$I" 1M
S=$I.src
quiet udax inject "$I" --offset 8K --length 512
quiet udax inject "$I" --offset 20K --length 4K
quiet udax inject "$I" --offset 28K --length 1 --latent
cp "$I" "$T/before"
cp "$I.poison" "$T/state"
quiet udax clear "$I" --offset 0 --length 40K --dry-run >"$T/out"
echo "would clear 3 pages in 1 range (12288 bytes would be zeroed)" | diff -u - "$T/out"
cmp "$I" "$T/before" || fail "--dry-run changed the data"
cmp "$I.poison" "$T/state" || fail "--dry-run changed the state"
quiet udax clear "$I" --offset 0 --length 40K >"$T/out"
echo "cleared 3 pages in 1 range (12288 bytes zeroed)" | diff -u - "$T/out"
for p in 0 1 3 4 6 8 9; do
	cmp <(page_of "$I.src" $p) <(udax read "$I" --offset $((p * 4096)) --length 4K) ||
		fail "clear zeroed clean page $p"
done
for p in 2 5 7; do
	cmp <(head -c 4096 /dev/zero) <(udax read "$I" --offset $((p * 4096)) --length 4K) ||
		fail "clear did not zero poisoned page $p"
done
[ -z "$(udax badblocks "$I")" ] || fail "poison left: $(udax badblocks "$I")"
quiet udax clear "$I" --offset 4K --length 8K --all >"$T/out"
echo "cleared 2 pages in 1 range (8192 bytes zeroed)" | diff -u - "$T/out"
cmp <(head -c 8192 /dev/zero) <(udax read "$I" --offset 4K --length 8K) || fail "--all did not zero"
quiet udax clear "$I" --offset 0 --length 4K --count 4 --stride 64K --all --dry-run >"$T/out"
echo "would clear 4 pages in 4 ranges (16384 bytes would be zeroed)" | diff -u - "$T/out"
quiet udax clear "$I" --offset 100K --length 4K >"$T/out"
echo "cleared 0 pages in 1 range (0 bytes zeroed)" | diff -u - "$T/out"
cmp <(page_of "$I.src" 25) <(udax read "$I" --offset 100K --length 4K) || fail "a clean page was zeroed"

# A write syncs what it wrote; a state rename is followed by an fsync of
# its directory.
if [ $have_strace = 1 ]; then
	head -c 8192 /dev/urandom >"$T/d"
	strace -f -qq -o "$T/tr" -e trace=msync,fdatasync,fsync "$UDAX" write "$I" --offset 0 -i "$T/d"
	grep -Eq 'msync\(.*MS_SYNC\) = 0|fdatasync' "$T/tr" || fail "write does not sync: $(cat "$T/tr")"
	strace -f -qq -o "$T/tr" -e trace=openat,rename,fsync "$UDAX" inject "$I" --offset 0 --length 4K
	awk '/rename\(.*\.poison"\) = 0/ { r = 1; next }
	     r && /O_DIRECTORY/ { split($0, a, "= "); fd = a[2]; next }
	     r && fd != "" && $0 ~ "fsync\\(" fd "\\) += 0" { ok = 1 }
	     END { exit !ok }' "$T/tr" || fail "no directory fsync after the rename: $(cat "$T/tr")"
fi
echo "inject-clear-batch: ok"
