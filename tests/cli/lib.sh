# Sourced by every CLI test: udax_cli_test.sh UDAX SRCDIR [BUILDDIR]
# Images live on /dev/shm when it is there (the emulated device fsyncs its
# poison state on every change); everything is removed on exit.
set -eu
UDAX=$1
SRCDIR=$2
BUILDDIR=${3:-}
export LC_ALL=C

udax() { "$UDAX" "$@"; }
# LeakSanitizer cannot work under ptrace: a udax built with ASan and traced
# would report that instead of its leaks.  (Test for strace with type -P.)
strace() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" command strace "$@"; }

base=${TMPDIR:-/tmp}
if [ -d /dev/shm ] && [ -w /dev/shm ]; then base=/dev/shm; fi
T=$(mktemp -d "$base/udax-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect CODE CMD...: CMD exits with CODE.
expect() {
	local want=$1 rc=0
	shift
	"$@" || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want"
}

# expect_err CODE PATTERN CMD...: CMD exits with CODE, prints nothing on
# stdout, and exactly one line on stderr, "udax <cmd>: <what>: <reason>",
# matching the extended regex PATTERN.
expect_err() {
	local want=$1 pat=$2 rc=0
	shift 2
	"$@" >"$T/.out" 2>"$T/.err" || rc=$?
	[ "$rc" = "$want" ] || { cat "$T/.err" >&2; fail "'$*' exited $rc, expected $want"; }
	[ "$(wc -l <"$T/.err")" = 1 ] || { cat "$T/.err" >&2; fail "'$*': stderr is not one line"; }
	grep -Eq '^udax( [a-z]+)?: [^:]+: .+$' "$T/.err" || fail "'$*': bad error format: $(cat "$T/.err")"
	grep -Eq -- "$pat" "$T/.err" || fail "'$*': stderr '$(cat "$T/.err")' does not match '$pat'"
}

# quiet CMD...: CMD succeeds and prints nothing on stderr.
quiet() {
	"$@" 2>"$T/.err" || { cat "$T/.err" >&2; fail "'$*' failed"; }
	[ ! -s "$T/.err" ] || fail "'$*' wrote to stderr: $(cat "$T/.err")"
}

# A fresh image of SIZE filled with random data, also kept in IMG.src.
new_image() {
	local img=$1 size=$2
	rm -f "$img" "$img.poison"
	udax create "$img" --size "$size"
	head -c "$(($(numfmt --from=iec "$size")))" /dev/urandom >"$img.src"
	udax write "$img" --offset 0 -i "$img.src"
}

# The map's blocks without comments and status line: "pos size status".
map_blocks() { grep -v '^#' "$1" | tail -n +2; }

# A page's bytes of FILE.
page_of() { dd if="$1" bs=4096 skip="$2" count=1 status=none; }

# prepare IMG SIZE PATTERN...: a fresh image of random data with poison;
# a PATTERN is udax inject's options in one word list ("--offset 1M
# --length 4K [--count N --stride S] [--latent]").  The pages each pattern
# poisons are zeroed first (udax clear --all, same options), so IMG.want is what
# a rescue must produce: the data, with zeros where the poison is.
prepare() {
	local img=$1 size=$2 p
	shift 2
	new_image "$img" "$size"
	for p in "$@"; do
		# shellcheck disable=SC2086
		udax clear "$img" ${p/--latent/} --all >/dev/null
	done
	udax read "$img" --offset 0 --length "$size" -o "$img.want"
	for p in "$@"; do
		# shellcheck disable=SC2086
		udax inject "$img" $p
	done
}

# The known list rounded out to whole pages and merged, as JSON ranges:
# what a rescue's bad areas must be once the poison is known.
bad_pages() {
	udax badblocks --json "$1" | jq -c '[.badblocks[] |
		{s: ((.offset_bytes / 4096 | floor) * 4096),
		 e: (((.offset_bytes + .length_bytes + 4095) / 4096 | floor) * 4096)}] |
		reduce .[] as $r ([]; if length > 0 and .[-1].e >= $r.s
			then .[-1].e = ([.[-1].e, $r.e] | max) else . + [$r] end) |
		map({offset_bytes: .s, length_bytes: (.e - .s)})'
}

# check_rescue IMG OUT MAP JSON RC: a finished rescue: exit RC, OUT is
# IMG.want, the bad areas are the poisoned pages, ddrescuelog agrees.
check_rescue() {
	local img=$1 out=$2 map=$3 json=$4 rc=$5 bad
	cmp "$out" "$img.want" || fail "rescue output differs from the data"
	bad=$(bad_pages "$img")
	jq -e --argjson bad "$bad" '.finished and .bad_areas == $bad and
		.bad_area_count == ($bad | length) and
		.bad_bytes == ([$bad[].length_bytes] | add // 0) and
		.rescued_bytes + .bad_bytes == .size and .non_tried_bytes == 0 and
		.non_trimmed_bytes == 0 and .non_scraped_bytes == 0' "$json" >/dev/null ||
		fail "rescue summary: $(jq -c 'del(.bad_areas)' "$json") bad pages: $bad"
	# ddrescuelog reads the map: -D is 0 iff nothing is bad, -t agrees
	local d=0
	ddrescuelog -D "$map" || d=$?
	[ "$d" = "$([ "$rc" = 0 ] && echo 0 || echo 1)" ] || fail "ddrescuelog -D says $d"
	ddrescuelog -t "$map" >"$T/.t" || fail "ddrescuelog -t failed"
	grep -Eq 'non-tried: +0 B' "$T/.t" || fail "ddrescuelog -t: $(cat "$T/.t")"
	# the bad sectors ddrescuelog lists are the bad areas' sectors
	ddrescuelog -l- "$map" >"$T/.l"
	[ "$(wc -l <"$T/.l")" = "$(jq '.bad_bytes / 512' "$json")" ] ||
		fail "ddrescuelog -l- lists $(wc -l <"$T/.l") bad sectors"
}
