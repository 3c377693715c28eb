#!/bin/bash
# inject --status lists the poison as KNOWN (the known list) and LATENT
# (media poison not on it); --uninject heals latent poison only, in one
# transaction, and never forgets known poison; their option errors; a
# device whose media udax cannot see (-EOPNOTSUPP, forced with a preload).
. "$(dirname "$0")/lib.sh"
I=$T/img
new_image "$I" 4M

# status DEV: the human form, for diff
status() { udax inject "$1" --status; }

echo "== a clean device"
status "$I" >"$T/s"
printf 'known: 0 sectors in 0 ranges (0 B)\nlatent: 0 sectors in 0 ranges (0 B)\n' |
	diff -u - "$T/s"
udax inject "$I" --status --json | jq -e '.dev == $dev and .badblocks == [] and
	.known_badblock_count == 0 and .known_badblocks == [] and
	.latent_badblock_count == 0 and .latent_badblocks == []' --arg dev "$I" >/dev/null ||
	fail "clean --status --json: $(udax inject "$I" --status --json)"

echo "== known, latent, latent beside known, known without media"
quiet udax inject "$I" --offset 1M --length 4K >/dev/null                  # known 2048 8
quiet udax inject "$I" --offset 0x300000 --length 512 >/dev/null           # known 6144 1
quiet udax inject "$I" --offset 1M --length 8K --latent >/dev/null         # media 2048 16
quiet udax inject-error "$I" --offset 2M --length 1 --latent >/dev/null    # latent 4096 1
echo "100 4" | quiet udax badblocks "$I" --import - >/dev/null             # known, no media
status "$I" >"$T/s"
cat >"$T/want" <<EOT
known: 13 sectors in 3 ranges (6.5 KiB)
  100 4
  2048 8
  6144 1
latent: 9 sectors in 2 ranges (4.5 KiB)
  2056 8
  4096 1
EOT
diff -u "$T/want" "$T/s"
# the known part is the known list, as udax badblocks prints it
diff -u <(udax badblocks "$I") <(sed -n '/^known/,/^latent/p' "$T/s" | grep '^  ' | sed 's/^  //')
# JSON: ndctl inject-error --status's list (all media poison, sectors as
# "block"/"count"), then the known and latent lists in the badblocks form
udax inject "$I" --status --json >"$T/j"
jq -e '.badblocks == [{"block": 2048, "count": 16}, {"block": 4096, "count": 1},
		{"block": 6144, "count": 1}] and
	.known_badblock_count == 13 and .known_badblock_ranges == 3 and
	.known_badblock_bytes == 6656 and .known_badblocks == [
	{"offset": 100, "length": 4, "offset_bytes": 51200, "length_bytes": 2048},
	{"offset": 2048, "length": 8, "offset_bytes": 1048576, "length_bytes": 4096},
	{"offset": 6144, "length": 1, "offset_bytes": 3145728, "length_bytes": 512}] and
	.latent_badblock_count == 9 and .latent_badblock_ranges == 2 and
	.latent_badblock_bytes == 4608 and .latent_badblocks == [
	{"offset": 2056, "length": 8, "offset_bytes": 1052672, "length_bytes": 4096},
	{"offset": 4096, "length": 1, "offset_bytes": 2097152, "length_bytes": 512}]' \
	"$T/j" >/dev/null || fail "--status --json: $(cat "$T/j")"
# the known list in --status is badblocks --json's, key for key
diff -u <(udax badblocks --json "$I" | jq -S '.badblocks') <(jq -S '.known_badblocks' "$T/j")
# -u: hex, as ndctl prints with -u
udax inject "$I" --status --json -u | jq -e '.badblocks[0] == {"block": "0x800", "count": "0x10"} and
	.latent_badblocks[0].offset == "0x808" and
	.latent_badblocks[0].offset_bytes == "0x101000"' >/dev/null ||
	fail "--status --json -u: $(udax inject "$I" --status --json -u)"
# --status only reads: the state file is not rewritten
cp "$I.poison" "$T/state"
quiet udax inject "$I" --status >/dev/null
quiet udax inject "$I" --status --json >/dev/null
cmp "$I.poison" "$T/state" || fail "--status changed the poison state"

echo "== --uninject: latent only"
udax badblocks "$I" >"$T/known.before"
udax inject "$I" --uninject --offset 1M --length 8K >"$T/out" 2>"$T/err" ||
	fail "uninject: $(cat "$T/err")"
echo "uninjected latent poison: 8 sectors in 1 range (4.0 KiB)" | diff -u - "$T/out"
# the known page in the range: left, and said so on stderr in one line
[ "$(wc -l <"$T/err")" = 1 ] || fail "uninject: stderr: $(cat "$T/err")"
grep -Eq "^udax inject: $I: --uninject: 8 sectors of known poison in 1 range left as they are: .*udax clear" "$T/err" ||
	fail "uninject: no word on the known poison: $(cat "$T/err")"
udax badblocks "$I" | diff -u "$T/known.before" - || fail "uninject changed the known list"
udax inject "$I" --status --json >"$T/j"
jq -e '.latent_badblocks == [{"offset": 4096, "length": 1, "offset_bytes": 2097152, "length_bytes": 512}] and
	.badblocks == [{"block": 2048, "count": 8}, {"block": 4096, "count": 1},
		{"block": 6144, "count": 1}]' "$T/j" >/dev/null ||
	fail "after uninject: $(cat "$T/j")"
# the healed page reads; the known one is still refused; scrub finds nothing
udax read "$I" --offset $((1048576 + 4096)) --length 4K | cmp - <(dd if="$I.src" bs=4096 skip=257 count=1 status=none)
expect_err 1 "known poison at offset 1048576" udax read "$I" --offset 1M --length 4K
udax scrub "$I" --json | jq -e '.new_badblocks == [{"offset": 4096, "length": 1,
	"offset_bytes": 2097152, "length_bytes": 512}]' >/dev/null || fail "scrub after uninject"
# now known: uninject leaves it; nothing latent left in the range
udax inject "$I" --uninject --offset 2M --length 4K >"$T/out" 2>"$T/err"
echo "uninjected latent poison: 0 sectors in 0 ranges (0 B)" | diff -u - "$T/out"
grep -q "1 sector of known poison in 1 range left as it is" "$T/err" || fail "uninject known: $(cat "$T/err")"
udax badblocks "$I" | grep -qx "4096 1" || fail "uninject forgot known poison"

echo "== --uninject --count --stride, a sub-sector range, a clean range"
P="--offset $((3145728 + 4096)) --length 512 --count 8 --stride 8K"
# shellcheck disable=SC2086
quiet udax inject "$I" $P --latent >/dev/null
quiet udax inject "$I" --offset $((3145728 + 65536 + 100)) --length 1 --latent >/dev/null
[ "$(udax inject "$I" --status --json | jq '.latent_badblock_ranges')" = 9 ] || fail "pattern not latent"
cp "$I.poison" "$T/state"
# shellcheck disable=SC2086
quiet udax inject "$I" --uninject $P >"$T/out"
echo "uninjected latent poison: 8 sectors in 8 ranges (4.0 KiB)" | diff -u - "$T/out"
# a byte range heals its whole sector, as inject poisons it
quiet udax inject "$I" --uninject --offset $((3145728 + 65536 + 511)) --length 1 >"$T/out"
echo "uninjected latent poison: 1 sector in 1 range (512 B)" | diff -u - "$T/out"
udax inject "$I" --status --json | jq -e '.latent_badblocks == []' >/dev/null || fail "latent left"
udax inject "$I" --uninject --offset 0 --length 4M >"$T/out" 2>"$T/err"
echo "uninjected latent poison: 0 sectors in 0 ranges (0 B)" | diff -u - "$T/out"
grep -q -- "--uninject: 14 sectors of known poison in 4 ranges left as they are" "$T/err" ||
	fail "whole-device uninject: $(cat "$T/err")"
udax badblocks "$I" | diff -u <(printf '100 4\n2048 8\n4096 1\n6144 1\n') - ||
	fail "the known list changed"

echo "== --uninject is one transaction"
if command -v strace >/dev/null; then
	quiet udax inject "$I" --offset 128K --length 4K --count 16 --stride 8K --latent >/dev/null
	cp "$I.poison" "$T/state"
	expect_err 1 "nothing uninjected" strace -qq -o /dev/null -e trace=rename -e inject=rename:error=EIO \
		"$UDAX" inject "$I" --uninject --offset 128K --length 4K --count 16 --stride 8K
	cmp "$I.poison" "$T/state" || fail "a failed uninject healed some ranges"
	[ "$(udax inject "$I" --status --json | jq '.latent_badblock_ranges')" = 16 ] ||
		fail "a failed uninject changed the latent poison"
else
	echo "SKIP (part): no strace"
fi

echo "== usage errors: exit 2, nothing touched"
cp "$I.poison" "$T/state"
u() {
	expect_err 2 "$@"
	[ ! -s "$T/.out" ] || fail "'$*' printed on stdout"
	cmp "$I.poison" "$T/state" || fail "'$*' changed the poison state"
}
u "^udax inject: --status: not with --offset" udax inject "$I" --status --offset 0
u "^udax inject: --status: not with --length" udax inject "$I" --status --length 4K
u "^udax inject: --status: not with --latent" udax inject "$I" --status --latent
u "^udax inject: --status: not with --uninject" udax inject "$I" --status --uninject
u "^udax inject: --status: not with --count" udax inject "$I" -t --count 2 --stride 4K
u "^udax inject: --status: given twice" udax inject "$I" --status -t
u "^udax inject: --uninject: not with --latent" udax inject "$I" --uninject --latent --offset 0 --length 4K
u "^udax inject: --offset: required" udax inject "$I" --uninject --length 4K
u "^udax inject: --length: required" udax inject "$I" -d --offset 0
u "^udax inject: --length: must not be 0" udax inject "$I" --uninject --offset 0 --length 0
u "^udax inject: --count: --count and --stride go together" udax inject "$I" --uninject --offset 0 --length 4K --count 2
u "^udax inject: --json: only with --status" udax inject "$I" --offset 0 --length 4K --json
u "^udax inject: --human: only with --status" udax inject "$I" --uninject --offset 0 --length 4K -u
u "^udax inject: --offset: required" udax inject "$I" --json
u "past the end of the device" udax inject "$I" --uninject --offset 4M --length 4K
u "^udax inject: --bogus: unknown option" udax inject "$I" --status --bogus
u "^udax inject: DEV: missing argument" udax inject --status
u "unexpected argument" udax inject "$I" "$I" --status

echo "== read-only users"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "SKIP (part): needs root and setpriv to act as another user"
else
	chmod 755 "$T"
	chmod 644 "$I" "$I.poison"
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$UDAX" "$@"; }
	diff -u <(udax inject "$I" --status) <(as_nobody inject "$I" --status) ||
		fail "nobody: --status"
	rc=0
	as_nobody inject "$I" --uninject --offset 0 --length 4K 2>"$T/e" >/dev/null || rc=$?
	[ "$rc" = 1 ] && grep -q 'Permission denied' "$T/e" || fail "nobody: uninject: exit $rc $(cat "$T/e")"
	cmp "$I.poison" "$T/state" || fail "nobody changed the state"
fi

echo "== a device whose media udax cannot see"
CC=${UDAX_TEST_CC:-cc}
if ! command -v "$CC" >/dev/null; then
	echo "SKIP (part): no C compiler for the preload"
else
	# udax_media_poison() as a real device's backend answers it
	cat >"$T/nomedia.c" <<'C'
#include <errno.h>
#include <stddef.h>
struct udax_dev;
struct udax_range;
long udax_media_poison(struct udax_dev *dev, struct udax_range *out, size_t max)
{
	(void)dev; (void)out; (void)max;
	return -EOPNOTSUPP;
}
C
	"$CC" -shared -fPIC -o "$T/nomedia.so" "$T/nomedia.c"
	# a gcc ASan build wants its runtime first; clang's is in the binary
	nomedia() {
		LD_PRELOAD=$T/nomedia.so \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$UDAX" "$@"
	}
	expect_err 1 "^udax inject: $I: --status: the media of this device \\(emulated\\) are not visible" nomedia inject "$I" --status
	expect_err 1 "^udax inject: $I: --status: .*use ndctl inject-error --status" nomedia inject "$I" --status --json
	[ ! -s "$T/.out" ] || fail "--status without media printed JSON"
	expect_err 1 "^udax inject: $I: --uninject: .*use ndctl inject-error --uninject" \
		nomedia inject "$I" --uninject --offset 128K --length 4K
	cmp "$I.poison" "$T/state" || fail "uninject without media changed the state"
fi
echo "inject-status: ok"
