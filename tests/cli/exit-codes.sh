#!/bin/bash
# Every exit status: 0 success, 1 runtime error, 2 usage error, 3 partial.
. "$(dirname "$0")/lib.sh"
I=$T/img
new_image "$I" 4M

# 0
expect 0 udax info "$I"
expect 0 udax read "$I" --offset 0 --length 4K -o "$T/r"
cmp "$T/r" <(head -c 4096 "$I.src")

# 1: runtime errors
expect_err 1 "No such file" udax info "$T/nonexistent"
head -c 100 /dev/zero >"$T/small"
expect_err 1 "not a udax device" udax info "$T/small"
expect_err 1 "already exists" udax create "$I" --size 4M
quiet udax inject "$I" --offset 1M --length 4K
expect_err 1 "known poison at offset 1048576: refused" udax read "$I" --offset 0 --length 2M
[ ! -s "$T/.out" ] || fail "failfast read wrote data before refusing"
expect_err 1 "refused" udax write "$I" --offset 1M --length 4K --mode failfast -i /dev/zero
expect_err 1 "only partly covered" udax write "$I" --offset 1M --length 2K -i /dev/zero
expect_err 1 "No such file" udax write "$I" --offset 0 -i "$T/nonexistent"
expect_err 1 "No such file" udax rescue "$T/nonexistent" "$T/out" "$T/map"
[ ! -e "$T/out" ] && [ ! -e "$T/map" ] || fail "rescue created files for a missing device"
expect_err 1 "input ended after 4096 of 8192 bytes" \
	udax write "$I" --offset 3M --length 8K -i <(head -c 4096 /dev/zero)

# 2: usage errors (more in usage.sh)
expect_err 2 "missing command" udax
# no range: the whole device (here it holds known poison: failfast refuses)
expect_err 1 "known poison at offset 1048576: refused" udax read "$I"
expect_err 2 "past the end of the device" udax read "$I" --offset 64M

# 3: finished, but some data could not be read
expect_err 3 "poison at offset 1048576: wrote the 1048576 readable bytes" \
	udax read "$I" --offset 0 --length 2M --mode recovery
cmp "$T/.out" <(head -c 1M "$I.src")
expect_err 3 "could not be read" udax rescue "$I" "$T/out" "$T/map"
echo "exit-codes: ok"
