#!/bin/bash
# help: the man page (from the build tree), or the built-in usage when man
# is not there; --help and -h are help too.
. "$(dirname "$0")/lib.sh"
export MANPAGER=cat PAGER=cat MANWIDTH=80

if command -v man >/dev/null && [ -n "$BUILDDIR" ] && [ -f "$BUILDDIR/man/udax-read.1" ]; then
	quiet udax help read >"$T/h"
	grep -q 'udax-read' "$T/h" || fail "help read: $(head -5 "$T/h")"
	grep -q 'recovery' "$T/h" || fail "help read: no modes"
	quiet udax help >"$T/h"
	grep -q 'EXIT STATUS' "$T/h" || fail "help: no EXIT STATUS"
	quiet udax read --help >"$T/h2"
	grep -q 'udax-read' "$T/h2" || fail "read --help"
	for c in create info badblocks inject clear scrub read write rescue help version; do
		quiet udax help "$c" >"$T/h"
		grep -qi "udax-$c" "$T/h" || fail "no page for $c"
	done
else
	echo "man or the built pages are missing: checking the fallback only"
fi

# Without man: the built-in usage, on stdout, exit 0
PATH=/nonexistent "$UDAX" help rescue >"$T/h" 2>"$T/err"
[ ! -s "$T/err" ] || fail "fallback wrote to stderr"
grep -q '^usage: udax rescue DEV OUT MAPFILE' "$T/h" || fail "fallback: $(cat "$T/h")"
PATH=/nonexistent "$UDAX" --help >"$T/h" 2>"$T/err"
grep -q '^  rescue ' "$T/h" || fail "fallback udax: $(cat "$T/h")"
grep -q 'Exit status: 0 success, 1 runtime error, 2 usage error' "$T/h"
PATH=/nonexistent "$UDAX" inject -h >"$T/h"
grep -q '^usage: udax inject DEV --offset' "$T/h"

# Every option a command takes (its -h list) is in its manual page.
man=$SRCDIR/man
for c in create info badblocks inject clear scrub read write rescue help version; do
	for o in $(udax "$c" -h | sed -n 's/^  \(-[a-zA-Z], \)\{0,1\}\(--[a-z-]*\).*/\2/p'); do
		case $o in --help|--verbose) continue ;; esac
		grep -q -- "$o" "$man/udax-$c.1.scd" ||
			fail "man/udax-$c.1.scd does not document $o"
	done
done
echo "help: ok"
