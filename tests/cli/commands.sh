#!/bin/bash
# Every command's output: golden text, and --json checked with jq.
. "$(dirname "$0")/lib.sh"
I=$T/img

# create
quiet udax create "$I" --size 16M
[ -f "$I" ] && [ -f "$I.poison" ] || fail "create: no image or sidecar"

# info: golden text, then JSON
quiet udax info "$I" >"$T/info"
cat >"$T/want" <<EOT
device:         $I
backend:        emulated
size:           16777216 (16.0 MiB)
page size:      4096
badblocks:      0 sectors in 0 ranges (0 B)
alive:          yes
EOT
diff -u "$T/want" "$T/info"
udax info "$I" --json | jq -e '.backend == "emulated" and .size == 16777216 and
	.page_size == 4096 and .badblock_count == 0 and .alive == true' >/dev/null

# badblocks: empty
[ -z "$(udax badblocks "$I")" ] || fail "badblocks of a clean device"
udax badblocks --json "$I" | jq -e '.badblock_count == 0 and .badblocks == []' >/dev/null

# inject: known poison shows up in the sysfs form and in JSON
quiet udax inject "$I" --offset 1M --length 4K
quiet udax inject "$I" --offset 0x300000 --length 512
quiet udax inject-error "$I" --offset 8M --length 1 --latent
printf '2048 8\n6144 1\n' >"$T/want"
udax badblocks "$I" | diff -u "$T/want" -
# ndctl's keys in ndctl's units (sectors), bytes under *_bytes keys
udax badblocks --json "$I" | jq -e '.badblock_count == 9 and .badblock_ranges == 2 and
	.badblock_bytes == 4608 and .badblocks == [
	{"offset": 2048, "length": 8, "offset_bytes": 1048576, "length_bytes": 4096},
	{"offset": 6144, "length": 1, "offset_bytes": 3145728, "length_bytes": 512}]' >/dev/null
udax list "$I" --json | jq -e '.badblock_count == 9' >/dev/null
udax info "$I" --json | jq -e '.badblock_count == 9 and .badblock_ranges == 2 and
	.badblock_bytes == 4608' >/dev/null
# -u: offsets in hex, as ndctl list -u prints them
udax badblocks --json -u "$I" | jq -e '.badblocks[0].offset == "0x800" and
	.badblocks[0].offset_bytes == "0x100000" and .badblocks[0].length == 8' >/dev/null
udax info "$I" --json --human | jq -e '.size == "16.00 MiB (16.78 MB)"' >/dev/null

# scrub finds the latent sector, once
quiet udax scrub "$I" >"$T/scrub"
printf '1 new bad sector in 1 range\n  offset 8388608 length 512 (sector 16384 count 1)\n' |
	diff -u - "$T/scrub"
udax scrub "$I" --json | jq -e '.new_badblock_count == 0 and .new_badblocks == [] and
	.badblock_count == 10 and .badblock_ranges == 3 and .badblocks[2] ==
	{"offset": 16384, "length": 1, "offset_bytes": 8388608, "length_bytes": 512}' >/dev/null
quiet udax inject "$I" --offset 12M --length 8K --latent
udax ars "$I" --json | jq -e '.new_badblock_count == 16 and .new_badblocks ==
	[{"offset": 24576, "length": 16, "offset_bytes": 12582912, "length_bytes": 8192}]' >/dev/null

# inject --count --stride: a pattern
quiet udax inject "$I" --offset 10M --length 512 --count 4 --stride 64K
udax badblocks --json "$I" | jq -e '[.badblocks[] | select(.offset_bytes >= 10485760 and
	.offset_bytes < 11534336)] | length == 4' >/dev/null

# clear: whole pages, poison gone, zeros read back
quiet udax clear "$I" --offset 0x100800 --length 16 >"$T/clear"
echo "cleared 1 page in 1 range (4096 bytes zeroed)" | diff -u - "$T/clear"
udax read "$I" --offset 1M --length 4K | cmp - <(head -c 4096 /dev/zero)
quiet udax clear-errors "$I" --offset 10M --length 512 --count 4 --stride 64K >"$T/clear"
echo "cleared 4 pages in 4 ranges (16384 bytes zeroed)" | diff -u - "$T/clear"
printf '6144 1\n16384 1\n24576 16\n' >"$T/want"
udax badblocks "$I" | diff -u "$T/want" -

# version
quiet udax version >"$T/v"
grep -Eq '^udax [0-9]+\.[0-9]+\.[0-9]+ \(libudax [0-9]+\.[0-9]+\.[0-9]+\)$' "$T/v" || fail "version: $(cat "$T/v")"
udax --version | diff -u "$T/v" -

# --verbose routes libudax's log to stderr; without it stderr stays empty
expect 1 udax info "$T/nonexistent" 2>"$T/err"
[ "$(wc -l <"$T/err")" = 1 ] || fail "error without --verbose is not one line"
expect 1 udax --verbose info "$T/nonexistent" 2>"$T/err"
grep -q 'libudax' "$T/err" || fail "--verbose: no libudax log: $(cat "$T/err")"
echo "commands: ok"
