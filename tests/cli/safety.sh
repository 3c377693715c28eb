#!/bin/bash
# safety: the poison state cannot be destroyed by a rescue's OUT or
# MAPFILE (by name or through another name for the same file), a corrupt
# state is named in the error, and a user who may only read a device can
# still inspect, read and rescue it.
. "$(dirname "$0")/lib.sh"
I=$T/img
new_image "$I" 1M
udax inject "$I" --offset 64K --length 4K
cp "$I.poison" "$T/state.saved"

echo "== OUT or MAPFILE that is the poison state: refused, state intact"
expect_err 2 "is $I's poison state file" udax rescue "$I" "$I.poison" "$T/map"
expect_err 2 "is $I's poison state file" udax rescue "$I" "$T/out" "$I.poison"
ln "$I.poison" "$T/alias"
expect_err 2 "is $I's poison state file" udax rescue "$I" "$T/alias" "$T/map"
cmp "$I.poison" "$T/state.saved" || fail "the state file changed"
[ ! -e "$T/map" ] && [ ! -e "$T/out" ] || fail "files were created"
# OUT and MAPFILE the same file under two names
touch "$T/o1"
ln "$T/o1" "$T/o2"
expect_err 2 "must be three different files" udax rescue "$I" "$T/o1" "$T/o2"
[ "$(udax badblocks "$I")" = "128 8" ] || fail "known list lost"

echo "== a corrupt state is named"
printf 'garbage\n' >"$I.poison"
expect_err 1 "corrupt device: .*$I.poison" udax info "$I"
cp "$T/state.saved" "$I.poison"
rm "$I.poison"
expect_err 1 "corrupt device: .*$I.poison.*missing" udax badblocks "$I"
cp "$T/state.saved" "$I.poison"

echo "== read-only users"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "SKIP (part): needs root and setpriv to act as another user"
else
	chmod 755 "$T"
	chmod 644 "$I" "$I.poison"
	mkdir "$T/nobody"
	chown nobody "$T/nobody"
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$UDAX" "$@"; }
	as_nobody info "$I" >/dev/null || fail "nobody: info"
	[ "$(as_nobody badblocks "$I")" = "128 8" ] || fail "nobody: badblocks"
	as_nobody read "$I" --length 64K | cmp - <(head -c 65536 "$I.src") || fail "nobody: read"
	rc=0
	as_nobody rescue "$I" "$T/nobody/out" "$T/nobody/map" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 3 ] || fail "nobody: rescue exit $rc"
	cmp <(head -c 65536 "$T/nobody/out") <(head -c 65536 "$I.src") || fail "nobody: rescued data"
	rc=0
	as_nobody inject "$I" --offset 0 --length 512 2>"$T/e" || rc=$?
	[ "$rc" = 1 ] && grep -q 'Permission denied' "$T/e" || fail "nobody: inject: exit $rc $(cat "$T/e")"
	cmp "$I.poison" "$T/state.saved" || fail "nobody changed the state"
fi
echo "safety: ok"
