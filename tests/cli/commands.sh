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
badblock count: 0 (0 B)
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
udax badblocks --json "$I" | jq -e '.badblock_count == 2 and
	.badblocks == [{"offset": 1048576, "length": 4096}, {"offset": 3145728, "length": 512}]' >/dev/null
udax list "$I" --json | jq -e '.badblock_count == 2' >/dev/null
udax info "$I" --json | jq -e '.badblock_count == 2 and .badblock_bytes == 4608' >/dev/null

# scrub finds the latent sector, once
quiet udax scrub "$I" >"$T/scrub"
printf '1 new bad sector in 1 range\n  offset 8388608 length 512 (sector 16384 count 1)\n' |
	diff -u - "$T/scrub"
udax scrub "$I" --json | jq -e '.new_sectors == 0 and .new_badblocks == [] and
	.badblock_count == 3 and .badblocks[2] == {"offset": 8388608, "length": 512}' >/dev/null
quiet udax inject "$I" --offset 12M --length 8K --latent
udax ars "$I" --json | jq -e '.new_sectors == 16 and
	.new_badblocks == [{"offset": 12582912, "length": 8192}]' >/dev/null

# inject --count --stride: a pattern
quiet udax inject "$I" --offset 10M --length 512 --count 4 --stride 64K
udax badblocks --json "$I" | jq -e '[.badblocks[] | select(.offset >= 10485760 and
	.offset < 11534336)] | length == 4' >/dev/null

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
