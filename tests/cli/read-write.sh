#!/bin/bash
# read and write in their modes, around known and latent poison.
. "$(dirname "$0")/lib.sh"
I=$T/img
new_image "$I" 4M
S=$I.src

# Unaligned reads and writes, stdout and -o, stdin and -i
udax read "$I" --offset 1000 --length 10000 | cmp - <(tail -c +1001 "$S" | head -c 10000)
quiet udax read "$I" --offset 0x1000 --length 1M -o "$T/r"
cmp "$T/r" <(tail -c +4097 "$S" | head -c 1M)
head -c 5000 /dev/urandom >"$T/w"
quiet udax write "$I" --offset 777 -i "$T/w"
udax read "$I" --offset 777 --length 5000 | cmp - "$T/w"
head -c 3000 /dev/urandom >"$T/w2"
quiet udax write "$I" --offset 2M --length 3000 <"$T/w2"
udax read "$I" --offset 2M --length 3000 | cmp - "$T/w2"
# --length shorter than the input writes --length bytes
quiet udax write "$I" --offset 3M --length 100 -i "$T/w"
udax read "$I" --offset 3M --length 100 | cmp - <(head -c 100 "$T/w")

# Known poison at 1M: failfast read refuses, recovery reads up to it
quiet udax inject "$I" --offset 1M --length 512
expect 1 udax read "$I" --offset 1M --length 4K -o "$T/r" 2>/dev/null
expect_err 3 "poison at offset 1048576" udax read "$I" --offset 1016K --length 16K --mode recovery
cmp "$T/.out" <(tail -c +$((1016 * 1024 + 1)) "$S" | head -c 8K)
expect_err 3 "wrote the 0 readable bytes" udax read "$I" --offset 1M --length 4K --mode recovery
# failfast write refuses and clears nothing; a partial-page write cannot recover
expect 1 udax write "$I" --offset 1M --length 4K --mode failfast -i /dev/zero 2>/dev/null
expect 1 udax write "$I" --offset 1M --length 512 -i /dev/zero 2>/dev/null
udax badblocks "$I" | grep -qx '2048 1' || fail "poison cleared by a refused write"
# default write over the whole page recovers it
head -c 4096 /dev/urandom >"$T/p"
quiet udax write "$I" --offset 1M -i "$T/p"
[ -z "$(udax badblocks "$I")" ] || fail "write did not clear the poison"
udax read "$I" --offset 1M --length 4K | cmp - "$T/p"

# --mode recovery write: whole pages over poison clear it
quiet udax inject "$I" --offset 2M --length 8K
quiet udax write "$I" --offset 2M --length 8K --mode recovery -i <(head -c 8K /dev/zero)
[ -z "$(udax badblocks "$I")" ] || fail "recovery write did not clear the poison"
# and an unaligned one over poison is refused
quiet udax inject "$I" --offset 2M --length 4K
expect_err 1 "only partly covered" udax write "$I" --offset 2M --length 100 --mode recovery -i /dev/zero

# Latent poison: failfast read finds it (exit 1), it becomes known
quiet udax inject "$I" --offset 3M --length 4K --latent
[ "$(udax badblocks --json "$I" | jq '.badblock_ranges')" = 1 ] || fail "latent poison is known"
expect_err 1 "it was latent; now known" udax read "$I" --offset 3M --length 8K
udax badblocks "$I" | grep -qx '6144 8' || fail "consumed latent poison did not become known"
# a failfast write over latent poison stops there and does not clear it
quiet udax inject "$I" --offset 4092K --length 4K --latent
expect 1 udax write "$I" --offset 4088K --length 8K --mode failfast -i /dev/zero 2>/dev/null
udax badblocks "$I" | grep -qx '8184 8' || fail "failfast write over latent poison"
echo "read-write: ok"
