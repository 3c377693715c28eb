#!/bin/bash
# badblocks --import FILE|-: sysfs text, ndctl list --media-errors JSON
# (sectors; "0x" strings with -u) and cxl list --media-errors JSON of a
# region (bytes), told apart by their first character; the list grows by
# exactly what the file says; anything malformed or ambiguous changes
# nothing and says why.
. "$(dirname "$0")/lib.sh"
I=$T/img
quiet udax create "$I" --size 16M
st() { sha256sum <"$I.poison"; }

# sysfs text, from a file and from stdin
printf '8 8\n100 2\n' >"$T/sysfs"
quiet udax badblocks "$I" --import "$T/sysfs" >/dev/null
printf '8 8\n100 2\n' | diff -u - <(udax badblocks "$I")
printf '300 1\n' | quiet udax badblocks "$I" --import - >/dev/null
printf '8 8\n100 2\n300 1\n' | diff -u - <(udax badblocks "$I")

# ndctl: sectors, decimal numbers and -u's hex strings, extra keys ignored
quiet udax clear "$I" --all --offset 0 --length 16M >/dev/null
cat >"$T/ndctl" <<'J'
[{"dev":"namespace0.0","mode":"fsdax","badblock_count":9,
  "badblocks":[{"offset":2048,"length":8,"dimms":["nmem0"]},{"offset":"0x1800","length":1}]}]
J
quiet udax badblocks "$I" --import "$T/ndctl" >/dev/null
printf '2048 8\n6144 1\n' | diff -u - <(udax badblocks "$I")
# a single object (ndctl list -n NS without the array) too
echo '{"dev":"namespace0.0","badblocks":[{"offset":"0x10","length":"0x2"}]}' |
	quiet udax badblocks "$I" --import - >/dev/null
udax badblocks --json "$I" | jq -e '.badblocks[0] == {"offset": 16, "length": 2,
	"offset_bytes": 8192, "length_bytes": 1024} and .badblock_count == 11' >/dev/null ||
	fail "ndctl object import"
# ndctl leaves "badblocks" out when there are none: nothing to add
echo '[{"dev":"namespace0.0","mode":"fsdax"}]' | quiet udax badblocks "$I" --import - >/dev/null
[ "$(udax badblocks "$I" | wc -l)" = 3 ] || fail "an empty ndctl listing changed the list"

# cxl: a region's list in bytes, rounded out to whole sectors
quiet udax clear "$I" --all --offset 0 --length 16M >/dev/null
echo '{"region":"region5","media_errors":[{"offset":"0x10000","length":64,"source":"Injected"},
	{"offset":1048577,"length":600}]}' >"$T/cxl"
quiet udax badblocks "$I" --import "$T/cxl" >/dev/null
printf '128 1\n2048 2\n' | diff -u - <(udax badblocks "$I")

# refused (a usage error, exit 2), nothing changed: a memdev's list (device physical addresses),
# several devices, malformed JSON, bad text, a range past the end, no file
before=$(st)
echo '{"memdev":"mem0","media_errors":[{"offset":"0x10000","length":64}]}' >"$T/memdev"
expect_err 2 'memdev|device physical' udax badblocks "$I" --import "$T/memdev"
echo '[{"badblocks":[{"offset":1,"length":1}]},{"badblocks":[]}]' >"$T/two"
expect_err 2 'one device|several' udax badblocks "$I" --import "$T/two"
echo '[{"dev":"namespace0.0","badblocks":[{"offset":8,' >"$T/trunc"
expect_err 2 'JSON|json' udax badblocks "$I" --import "$T/trunc"
echo '[{"badblocks":[{"offset":8}]}]' >"$T/nolen"
expect_err 2 'length' udax badblocks "$I" --import "$T/nolen"
printf '8 8\nnot a line\n' >"$T/badtext"
expect_err 2 '.' udax badblocks "$I" --import "$T/badtext"
printf '8 8\n40000 8\n' >"$T/past"
expect_err 2 '.' udax badblocks "$I" --import "$T/past"
expect_err 1 "$T/none" udax badblocks "$I" --import "$T/none"
[ "$(st)" = "$before" ] || fail "a refused import changed the state"
printf '128 1\n2048 2\n' | diff -u - <(udax badblocks "$I")
echo "import: ok"
