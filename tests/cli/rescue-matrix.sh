#!/bin/bash
# rescue on emulated images: no poison, one bad page, 1,000 scattered bad
# pages (forward and --reverse), first and last page, latent poison found
# during the rescue, --retries, reruns that must not touch finished data.
. "$(dirname "$0")/lib.sh"
I=$T/img

run() { # run RC ARGS...: rescue with --json into $T/j, exit status RC
	local want=$1 rc=0
	shift
	udax rescue "$@" --json >"$T/j" 2>"$T/err" || rc=$?
	[ "$rc" = "$want" ] || { cat "$T/err" >&2; fail "rescue $* exited $rc, expected $want"; }
	if [ "$rc" = 0 ]; then
		[ ! -s "$T/err" ] || fail "rescue wrote to stderr: $(cat "$T/err")"
	else
		grep -Eq '^udax rescue: .*: [0-9]+ bytes could not be read' "$T/err" ||
			fail "rescue stderr: $(cat "$T/err")"
	fi
}

echo "== no poison"
prepare "$I" 16M
run 0 "$I" "$T/out" "$T/map"
check_rescue "$I" "$T/out" "$T/map" "$T/j" 0
cmp "$T/out" "$I.src"
[ "$(map_blocks "$T/map")" = "0x00000000  0x01000000  +" ] || fail "map: $(map_blocks "$T/map")"
grep -q '^0x00000000     +               1$' "$T/map" || fail "status line"
rm -f "$T/out" "$T/map"

echo "== one bad page"
prepare "$I" 16M "--offset 5M --length 4K"
run 3 "$I" "$T/out" "$T/map"
check_rescue "$I" "$T/out" "$T/map" "$T/j" 3
jq -e '.bad_areas == [{"offset_bytes": 5242880, "length_bytes": 4096}]' "$T/j" >/dev/null
[ "$(ddrescuelog -b4096 -l- "$T/map")" = 1280 ] || fail "ddrescuelog -b4096 -l-"
printf '%s\n' "0x00000000  0x00500000  +" "0x00500000  0x00001000  -" \
	"0x00501000  0x00AFF000  +" | diff -u - <(map_blocks "$T/map")

echo "== rerun of a finished map: nothing is read again, nothing overwritten"
printf 'GOOD' | dd of="$T/out" bs=1 seek=4096 conv=notrunc status=none
printf 'BAD!' | dd of="$T/out" bs=1 seek=$((5 * 1048576)) conv=notrunc status=none
cp "$T/out" "$T/out.before"
run 3 "$I" "$T/out" "$T/map"
cmp "$T/out" "$T/out.before" || fail "a rerun overwrote finished or bad areas"
jq -e '.rescued_this_run_bytes == 0 and .read_errors == 0' "$T/j" >/dev/null

echo "== --retries: a bad page that became readable is rescued on a rerun"
run 3 "$I" "$T/out" "$T/map" --retries 2
jq -e '.read_errors == 2 and .bad_bytes == 4096' "$T/j" >/dev/null || fail "retries: $(cat "$T/j")"
quiet udax clear "$I" --offset 5M --length 4K >/dev/null
run 0 "$I" "$T/out" "$T/map" --retries 1
jq -e '.bad_bytes == 0 and .rescued_this_run_bytes == 4096' "$T/j" >/dev/null
ddrescuelog -D "$T/map" || fail "ddrescuelog -D after a successful retry"
rm -f "$T/out" "$T/map" "$T/out.before"

echo "== first and last page"
prepare "$I" 16M "--offset 0 --length 512" "--offset 0xFFF000 --length 4K --latent"
run 3 "$I" "$T/out" "$T/map"
check_rescue "$I" "$T/out" "$T/map" "$T/j" 3
jq -e '.bad_areas == [{"offset_bytes": 0, "length_bytes": 4096}, {"offset_bytes": 16773120, "length_bytes": 4096}]' \
	"$T/j" >/dev/null
rm -f "$T/out" "$T/map"

echo "== latent poison found during the rescue becomes known and counts as bad"
prepare "$I" 16M "--offset 3M --length 12K --latent" "--offset 7M --length 512 --latent" \
	"--offset 9M --length 4K --count 8 --stride 12K --latent"
[ "$(udax badblocks --json "$I" | jq .badblock_ranges)" = 0 ] || fail "latent poison is known"
run 3 "$I" "$T/out" "$T/map"
[ "$(udax badblocks --json "$I" | jq .badblock_ranges)" = 10 ] || fail "consumed poison is not known"
check_rescue "$I" "$T/out" "$T/map" "$T/j" 3
jq -e '.bad_bytes == 4096 * (3 + 1 + 8)' "$T/j" >/dev/null
rm -f "$T/out" "$T/map"

echo "== 1,000 scattered bad pages, 64 MiB, forward and --reverse"
# One sector every 16.25 pages: a bad page in most 64K clusters, at varying
# places, plus latent ones every 1,000,003 bytes.
prepare "$I" 64M "--offset 4K --length 512 --count 1000 --stride 66560" \
	"--offset 12345 --length 1 --count 60 --stride 1000003 --latent"
cp "$I" "$T/img2"
cp "$I.poison" "$T/img2.poison"
cp "$I.want" "$T/img2.want"
run 3 "$I" "$T/out" "$T/map"
check_rescue "$I" "$T/out" "$T/map" "$T/j" 3
jq -e '.bad_area_count >= 1000' "$T/j" >/dev/null || fail "$(jq .bad_area_count "$T/j") bad areas"
run 3 "$T/img2" "$T/out2" "$T/map2" --reverse
grep -q '^# Finished' "$T/map2"
check_rescue "$T/img2" "$T/out2" "$T/map2" "$T/j" 3
cmp "$T/out" "$T/out2"
diff -u <(map_blocks "$T/map") <(map_blocks "$T/map2")

echo "== OUT longer than the device is not truncated"
head -c 1M /dev/urandom >>"$T/out2"
cp "$T/out2" "$T/out2.before"
rm "$T/map2"
run 3 "$T/img2" "$T/out2" "$T/map2" --cluster-size 2048
cmp "$T/out2" "$T/out2.before"

echo "== progress on a terminal only"
prepare "$I" 4M
rm -f "$T/out" "$T/map"
script -qec "'$UDAX' rescue '$I' '$T/out' '$T/map'" /dev/null >"$T/tty" </dev/null
# ddrescue's block: positions, what is left per status, the pass
for k in 'ipos:' 'opos:' 'non-tried:' 'non-trimmed:' 'non-scraped:' 'bad-sector:' \
	'pct rescued: +100.00%' 'current rate:' 'Finished'; do
	grep -Eq -- "$k" "$T/tty" || fail "progress block has no '$k': $(cat -v "$T/tty")"
done
grep -q 'rescued 4194304 of 4194304 bytes (100.00%' "$T/tty" || fail "summary: $(cat -v "$T/tty")"
rm -f "$T/out" "$T/map"
quiet udax rescue "$I" "$T/out" "$T/map" >/dev/null
echo "rescue-matrix: ok"
