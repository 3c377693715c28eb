#!/bin/bash
# Every usage error exits 2, says so in one line on stderr, and touches
# nothing: the image and its poison state are byte-identical afterwards and
# rescue creates no OUT and no map.
. "$(dirname "$0")/lib.sh"
I=$T/img
new_image "$I" 1M
quiet udax inject "$I" --offset 64K --length 4K
quiet udax inject "$I" --offset 128K --length 4K --latent
mkdir "$T/dir"
printf 'garbage\n' >"$T/badmap"
printf '0 +\n0 0x200000 ?\n' >"$T/bigmap"
printf '0 +\n0 0x1000 +\n0x1000 0xFF000 ?\n' >"$T/claims"
sha256sum "$I" "$I.poison" >"$T/sums"

n=0
u() {
	expect_err 2 "$@"
	sha256sum --quiet -c "$T/sums" || fail "'$*' changed the image"
	[ ! -e "$T/out" ] && [ ! -e "$T/map" ] || fail "'$*' created a file"
	n=$((n + 1))
}

# global
u "missing command" udax
u "missing command" udax -v
u "unknown command" udax bogus "$I"
u "--bogus: unknown option" udax --bogus info "$I"
# create
u "IMG: missing argument" udax create --size 4M
u "--size: required" udax create "$T/new"
u "--size: must be a positive multiple" udax create "$T/new" --size 0
u "--size: must be a positive multiple" udax create "$T/new" --size 4097
u "--size: invalid size 'abc'" udax create "$T/new" --size abc
u "--size: invalid size '1Q'" udax create "$T/new" --size 1Q
u "--size: invalid size '-4K'" udax create "$T/new" --size -4K
u "--size: invalid size ' 4K'" udax create "$T/new" --size ' 4K'
u "--size: invalid size '0x'" udax create "$T/new" --size 0x
u "--size: invalid size '4KB'" udax create "$T/new" --size 4KB
u "--size: '99999999999999999999' is too large" udax create "$T/new" --size 99999999999999999999
u "--size: '16777216T' is too large" udax create "$T/new" --size 16777216T
u "--size: missing argument" udax create "$T/new" --size
u "-s: missing argument" udax create "$T/new" -s
u "--size: given twice" udax create "$T/new" --size 4K --size 8K
u "unexpected argument" udax create "$T/new" "$T/new2" --size 4K
[ ! -e "$T/new" ] || fail "create made an image on a usage error"
# info, badblocks, scrub
u "DEV: missing argument" udax info
u "unexpected argument" udax info "$I" extra
u "--bogus: unknown option" udax info "$I" --bogus
u "-x: unknown option" udax info "$I" -x
u "--offset: unknown option" udax info "$I" --offset 0
u "--json: given twice" udax badblocks "$I" --json --json
u "DEV: empty argument" udax badblocks ''
u "unexpected argument" udax scrub "$I" "$I"
# inject, clear
u "--length: required" udax inject "$I" --offset 0
u "--offset: required" udax inject "$I" --length 4K
u "--length: must not be 0" udax inject "$I" --offset 0 --length 0
u "--offset: invalid size" udax inject "$I" --offset 1.5M --length 4K
u "--count and --stride go together" udax inject "$I" --offset 0 --length 4K --count 4
u "--stride: must be at least --length" udax inject "$I" --offset 0 --length 8K --count 2 --stride 4K
u "--count: invalid count '0'" udax inject "$I" --offset 0 --length 4K --count 0 --stride 4K
u "past the end of the device" udax inject "$I" --offset 1020K --length 8K
u "past the end of the device" udax inject "$I" --offset 0 --length 4K --count 300 --stride 4K
u "--latent: unknown option" udax clear "$I" --offset 0 --length 4K --latent
u "--length: must not be 0" udax clear "$I" --offset 0 --length 0
u "past the end of the device" udax clear "$I" --offset 1M --length 1
u "overflows" udax clear "$I" --offset 0xFFFFFFFFFFFFF000 --length 8K
# read, write
u "--mode: 'bogus' is not failfast or recovery" udax read "$I" --offset 0 --length 4K --mode bogus
u "--length: must not be 0" udax read "$I" --offset 0 --length 0
u "past the end of the device" udax read "$I" --offset 1M -o "$T/out"
u "past the end of the device" udax read "$I" --offset 1M --length 1 -o "$T/out"
u "-o: missing argument" udax read "$I" --offset 0 --length 4K -o
u "--output: invalid file name" udax read "$I" --offset 0 --length 4K --output=
u "--offset: required" udax write "$I" -i /dev/zero
u "--mode: '' is not failfast" udax write "$I" --offset 0 --mode '' -i /dev/zero
u "past the end of the device" udax write "$I" --offset 1M -i /dev/zero
u "past the end of the device" udax write "$I" --offset 0 --length 2M -i /dev/zero
head -c 2M /dev/zero >"$T/big"
u "past the end of the device" udax write "$I" --offset 0 -i "$T/big"
# rescue
u "MAPFILE: missing argument" udax rescue "$I" "$T/out"
u "--retries: invalid count '-1'" udax rescue "$I" "$T/out" "$T/map" --retries -1
u "--retries: '10000000' is too large" udax rescue "$I" "$T/out" "$T/map" --retries 10000000
u "--cluster-size: must be a multiple of 8 sectors" udax rescue "$I" "$T/out" "$T/map" --cluster-size 1001
u "--max-rate: must be at least" udax rescue "$I" "$T/out" "$T/map" --max-rate 0
u "--map-interval: invalid number" udax rescue "$I" "$T/out" "$T/map" --map-interval -1
u "--map-interval: invalid number" udax rescue "$I" "$T/out" "$T/map" --map-interval nan
u "--reverse: given twice" udax rescue "$I" "$T/out" "$T/map" -R --reverse
u "three different files" udax rescue "$I" "$T/out" "$T/out"
u "three different files" udax rescue "$I" "$T/out" "$I"
u "not a regular file" udax rescue "$I" "$T/dir" "$T/map"
u "line 1: .*not a ddrescue map file" udax rescue "$I" "$T/out" "$T/badmap"
u "is for a device of 2097152 bytes" udax rescue "$I" "$T/out" "$T/bigmap"
u "claims 4096 bytes rescued, but .* does not exist" udax rescue "$I" "$T/out" "$T/claims"
# help, version
u "unknown command" udax help bogus
u "unexpected argument" udax version extra
u "unexpected argument" udax help read write
echo "usage: ok ($n usage errors)"
