#!/bin/bash
# rescue resumes from maps it did not write: ddrescue's own conventions
# (decimal, octal and hex numbers, comments, 512-byte blocks, a map shorter
# than the device), and refuses maps that are not maps (exit 2).
. "$(dirname "$0")/lib.sh"
I=$T/img
prepare "$I" 1M "--offset 0x80000 --length 4K"

# A hand-written map in ddrescue's syntax: the first 0x1200 bytes are
# claimed finished (OUT holds them), the rest has every status and blocks
# that are not page-aligned; it ends at 0xC0000, before the device does.
head -c $((0x1200)) "$I.want" >"$T/out"
cat >"$T/map" <<'EOT'
# Mapfile. Created by GNU ddrescue version 1.27
# current_pos  current_status  current_pass
0x1200     *               1     # trimming
#      pos        size  status
0          0x1200  +
0x1200     010000  ?
021000     0x800   *
0x2A00     7680    /     # scraping left to do
0x4800     0x200   -
0x4A00     0xBB600 ?
EOT
ddrescuelog -t "$T/map" >/dev/null
rc=0
udax rescue "$I" "$T/out" "$T/map" --json >"$T/j" 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "exit $rc"
# The '-' block the map brought is not read again without --retries: its
# 512 bytes stay unread, in a page that is otherwise rescued.
jq -e '.bad_areas == [{"offset_bytes": 18432, "length_bytes": 512}, {"offset_bytes": 524288, "length_bytes": 4096}]' \
	"$T/j" >/dev/null || fail "$(jq -c .bad_areas "$T/j")"
udax rescue "$I" "$T/out" "$T/map" --json --retries 1 >"$T/j" 2>/dev/null || rc=$?
check_rescue "$I" "$T/out" "$T/map" "$T/j" 3
jq -e '.bad_areas == [{"offset_bytes": 524288, "length_bytes": 4096}]' "$T/j" >/dev/null

# Not maps: exit 2, OUT untouched
cp "$T/out" "$T/out.before"
bad() { # bad WHY TEXT
	printf "$2" >"$T/badmap"
	expect_err 2 "$1" udax rescue "$I" "$T/out" "$T/badmap"
	cmp "$T/out" "$T/out.before"
}
bad "no status line" '# only comments\n'
bad "line 2: blocks are not contiguous" '0 ?\n0x1000 0x1000 ?\n'
bad "line 3: blocks are not contiguous" '0 ?\n0 0x1000 ?\n0x2000 0x1000 ?\n'
bad "line 2: bad block status" '0 ?\n0 0x1000 x\n'
bad "line 1: bad current_status" '0 x 1\n'
bad "line 1: bad status line" '0 ? 0\n'
bad "line 2: number too large" '0 ?\n0 0x10000000000000000 ?\n'
bad "line 2: empty block" '0 ?\n0 0 ?\n'
bad "line 2: bad number" '0 ?\n0 09 ?\n'
bad "line 2: block line is not" '0 ?\n0 0x1000 ? extra\n'
bad "line 2: bad number" '0 ?\n0x1000#comment 0x1000 +\n'
bad "NUL byte" '0 ?\n0 0x1000\0 ?\n'
echo "rescue-map: ok"
