#!/bin/bash
# rescue's map file is replaced through a temporary file that no planted
# symlink can redirect: a link at MAP.tmp (the name it used to write
# through, with O_TRUNC) is never followed, the file it points to is never
# written, the map ends up a regular file, and the rescue completes.  The
# same for the poison state's temporary names (IMG.poison.tmp*).
. "$(dirname "$0")/lib.sh"
I=$T/img
prepare "$I" 1M "--offset 0x80000 --length 4K" "--offset 0x90000 --length 512 --latent"
echo "precious" >"$T/victim"
ln -s "$T/victim" "$T/map.tmp"
ln -s "$T/victim" "$I.poison.tmp"
for n in 0 1 2 3 4 5 6 7; do ln -s "$T/victim" "$T/map.tmp.$n"; done

rc=0
udax rescue "$I" "$T/out" "$T/map" >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "rescue exited $rc"
[ "$(cat "$T/victim")" = precious ] || fail "the symlink's target was written: $(head -c 200 "$T/victim")"
[ -f "$T/map" ] && [ ! -L "$T/map" ] || fail "the map is not a regular file"
[ -f "$I.poison" ] && [ ! -L "$I.poison" ] || fail "the poison state is not a regular file"
ddrescuelog -t "$T/map" >/dev/null || fail "the map does not parse"
cmp "$T/out" "$I.want" || fail "rescue output differs"
# The latent page the rescue found is known and saved.
udax badblocks "$I" | grep -qx '1152 1' || fail "the consumed poison was not saved"

# Resuming with the map where it is: still regular, still not followed.
rc=0
udax rescue "$I" "$T/out" "$T/map" --retries 1 >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "second rescue exited $rc"
[ "$(cat "$T/victim")" = precious ] || fail "the symlink's target was written on resume"
[ -f "$T/map" ] && [ ! -L "$T/map" ] || fail "the map is not a regular file after resume"
[ -L "$T/map.tmp" ] || fail "the planted link was replaced"
echo "symlink-map: ok"
