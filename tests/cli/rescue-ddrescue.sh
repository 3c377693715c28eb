#!/bin/bash
# rescue-ddrescue: GNU ddrescue's options and manners — -n, -N, -q, -i/-o/-s
# in ddrescue's units, --log-events, --log-rates, --progress json, the
# summary before the final error line in one file, a percentage.
. "$(dirname "$0")/lib.sh"
I=$T/img
new_image "$I" 4M
cp "$I.src" "$I.want"
# poisoned pages: 1 MiB + 8 KiB and 1 MiB + 40 KiB (known, one 64 KiB
# cluster: trimming stops at both, what lies between is left to
# scraping), 3 MiB (latent)
udax inject "$I" --offset 1056768 --length 4K
udax inject "$I" --offset 1089536 --length 4K
udax inject "$I" --offset 3M --length 512 --latent
for pg in 258 266 768; do
	dd if=/dev/zero of="$I.want" bs=4096 seek=$pg count=1 conv=notrunc status=none
done

echo "== -n: no scraping: the failed clusters stay '/'"
rc=0
udax rescue "$I" "$T/out" "$T/map" -n >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" = 3 ] || fail "-n: exit $rc"
grep -q '/$' <(map_blocks "$T/map") || fail "-n: no non-scraped block: $(map_blocks "$T/map")"
grep -q 'not tried further' "$T/o" || fail "-n: summary: $(cat "$T/o")"
# resuming without -n scrapes them: the same result as a full run
udax rescue "$I" "$T/out" "$T/map" --json >"$T/j" 2>/dev/null || true
check_rescue "$I" "$T/out" "$T/map" "$T/j" 3
rm -f "$T/out" "$T/map"

echo "== -d (--idirect): accepted, and the same result (udax reads directly anyway)"
udax rescue "$I" "$T/out" "$T/map" -d --json >"$T/j" 2>/dev/null || true
check_rescue "$I" "$T/out" "$T/map" "$T/j" 3
rm -f "$T/out" "$T/map"
rc=0
udax rescue "$I" "$T/out" "$T/map" --idirect -q >"$T/o" || rc=$?
[ "$rc" = 3 ] && [ ! -s "$T/o" ] || fail "--idirect -q: exit $rc, $(cat "$T/o")"
cmp "$T/out" "$I.want" || fail "--idirect: data differ"
rm -f "$T/out" "$T/map"

echo "== -N: no trimming: scraping takes the failed clusters whole"
rc=0
udax rescue "$I" "$T/out" "$T/map" -N --json >"$T/j" 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "-N: exit $rc"
check_rescue "$I" "$T/out" "$T/map" "$T/j" 3
rm -f "$T/out" "$T/map"

echo "== -q: nothing on stdout, only the error line"
rc=0
udax rescue "$I" "$T/out" "$T/map" -q >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" = 3 ] && [ ! -s "$T/o" ] || fail "-q: exit $rc, stdout: $(cat "$T/o")"
[ "$(wc -l <"$T/e")" = 1 ] || fail "-q: stderr: $(cat "$T/e")"
rm -f "$T/out" "$T/map"

echo "== -i/-s/-o: a domain in ddrescue's units, written elsewhere in OUT"
# -i 1Mi -s 8Ki: DEV [1 MiB, 1 MiB + 8 KiB) (clean) to OUT at 0x2000
udax rescue "$I" "$T/out" "$T/map" -i 1Mi -s 8Ki -o 0x2000 --json >"$T/j"
jq -e '.size == 8192 and .rescued_bytes == 8192 and .bad_bytes == 0 and
	.domain_offset_bytes == 1048576 and .pct_rescued == 100' "$T/j" >/dev/null ||
	fail "domain: $(cat "$T/j")"
[ "$(stat -c %s "$T/out")" = 16384 ] || fail "OUT size $(stat -c %s "$T/out")"
cmp <(dd if="$T/out" bs=4096 skip=2 count=2 status=none) \
	<(dd if="$I.src" bs=4096 skip=256 count=2 status=none) || fail "domain data"
# the map is in DEV's positions; the rest of it was never tried
map_blocks "$T/map" | grep -q '^0x00100000  0x00002000  +$' || fail "map: $(map_blocks "$T/map")"
map_blocks "$T/map" | grep -q '^0x00000000  0x00100000  ?$' || fail "map head: $(map_blocks "$T/map")"
ddrescuelog -t "$T/map" >/dev/null || fail "ddrescuelog cannot read the domain's map"
rm -f "$T/out" "$T/map"
# decimal multipliers: -s 10k is 10,000 bytes, 10Ki is 10,240
udax rescue "$I" "$T/out" "$T/map" -s 10k --json >"$T/j"
jq -e '.size == 10000' "$T/j" >/dev/null || fail "-s 10k: $(jq .size "$T/j")"
rm -f "$T/out" "$T/map"
expect_err 2 "--size: invalid size '10x'" udax rescue "$I" "$T/out" "$T/map" -s 10x
expect_err 2 "--input-position: .* is past the end" udax rescue "$I" "$T/out" "$T/map" -i 4Mi

echo "== --log-events, --log-rates, --progress json"
rc=0
udax rescue "$I" "$T/out" "$T/map" --log-events "$T/ev" --log-rates "$T/ra" \
	--progress json --max-rate 40M >/dev/null 2>"$T/e" || rc=$?
[ "$rc" = 3 ] || fail "logs: exit $rc"
grep -q '# Command line: .* --log-events' "$T/ev" || fail "events: no header"
for e in 'Starting' 'Copying non-tried blocks' 'Trimming failed blocks' \
	'Scraping failed blocks' 'read error: the page at 0x102000' 'Finished'; do
	grep -q -- "$e" "$T/ev" || fail "events: no '$e': $(cat "$T/ev")"
done
head -1 "$T/ra" | grep -q 'Current_rate' || fail "rates: no header"
[ "$(grep -vc '^#' "$T/ra")" -ge 1 ] || fail "rates: no lines"
# every progress line is JSON; the last says finished
grep -v '^udax rescue: ' "$T/e" >"$T/pj"
[ -s "$T/pj" ] || fail "no JSON progress"
jq -e -s 'all(.[]; has("pass") and has("ipos") and has("non_tried_bytes") and
	has("pct_rescued") and has("current_rate")) and (.[-1].finished == true)' \
	"$T/pj" >/dev/null || fail "progress json: $(tail -2 "$T/pj")"
rm -f "$T/out" "$T/map"

echo "== one file for stdout and stderr: the summary comes before the error"
rc=0
udax rescue "$I" "$T/out" "$T/map" >"$T/both" 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "exit $rc"
tail -1 "$T/both" | grep -q 'could not be read' || fail "order: $(cat "$T/both")"
head -1 "$T/both" | grep -Eq '^rescued 4182016 of 4194304 bytes \(99\.71%' ||
	fail "summary: $(head -1 "$T/both")"
echo "rescue-ddrescue: ok"
