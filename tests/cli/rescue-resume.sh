#!/bin/bash
# A rescue killed with SIGKILL at random points and run again with the same
# map ends with an OUT byte-identical to an uninterrupted run's, and the
# same map.  After every kill the map on disk is a valid ddrescue map that
# claims no data OUT does not hold.  SIGTERM stops a run cleanly: the map
# saved, then death by the signal, as ddrescue (exit 128 + 15).
# (Background runs call "$UDAX" itself, so that $! is udax, not a subshell.)
# Reproduce a failure with UDAX_TEST_SEED=<the seed printed>.
. "$(dirname "$0")/lib.sh"
seed=${UDAX_TEST_SEED:-$(( $(date +%s%N) % 32768 ))}
echo "seed $seed"
RANDOM=$seed
I=$T/img

# 64 MiB: a bad sector every 16.25 pages over the first half (a bad page in
# most clusters: long trimming), scattered known and latent pages after.
prepare "$I" 64M "--offset 4K --length 512 --count 500 --stride 66560" \
	"--offset 40M --length 4K --count 40 --stride 500K" \
	"--offset 33M --length 1 --count 30 --stride 1000003 --latent"
cp "$I" "$T/orig"
cp "$I.poison" "$T/orig.poison"
rc=0
udax rescue "$I" "$T/ref" "$T/refmap" >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "reference run exited $rc"
cmp "$T/ref" "$I.want"

# Every finished block of MAP holds the reference's bytes in OUT.
check_claims() {
	local map=$1 out=$2 pos size st
	while read -r pos size st; do
		[ "$st" = + ] || continue
		cmp -n $((size)) -i $((pos)):$((pos)) "$out" "$T/ref" >/dev/null ||
			fail "map claims $pos+$size but OUT does not hold it"
	done < <(map_blocks "$map")
}

trial() { # trial KILLS INTERVAL
	local kills=$1 interval=$2 k d pid rc
	cp "$T/orig" "$I"
	cp "$T/orig.poison" "$I.poison"
	rm -f "$T/out" "$T/map"
	for k in $(seq 1 "$kills"); do
		d=$((RANDOM % 1100))
		"$UDAX" rescue "$I" "$T/out" "$T/map" --max-rate 64M --map-interval "$interval" \
			>/dev/null 2>"$T/err.$k" &
		pid=$!
		sleep "$(printf '0.%03d' "$d")"
		kill -KILL "$pid" 2>/dev/null || true
		rc=0
		wait "$pid" || rc=$?
		if [ -e "$T/map" ]; then
			ddrescuelog -t "$T/map" >/dev/null || fail "ddrescuelog cannot read the map after a kill"
			check_claims "$T/map" "$T/out"
		fi
		[ "$rc" = 137 ] || [ "$rc" = 3 ] || fail "run $k exited $rc: $(cat "$T/err.$k")"
		printf '  kill %d at %d ms: exit %d, %s\n' "$k" "$d" "$rc" \
			"$( [ -e "$T/map" ] && ddrescuelog -t "$T/map" | grep -o 'rescued: *[0-9.]* [kMG]*B' || echo 'no map yet')"
	done
	rc=0
	udax rescue "$I" "$T/out" "$T/map" >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 3 ] || fail "resumed run exited $rc: $(cat "$T/err")"
	cmp "$T/out" "$T/ref" || fail "resumed OUT differs from the uninterrupted run's"
	diff -u <(map_blocks "$T/refmap") <(map_blocks "$T/map") || fail "resumed map differs"
}

for t in 1 2 3 4 5; do
	kills=$((1 + RANDOM % 3))
	echo "trial $t: $kills kills, map saved after every step"
	trial "$kills" 0
done
echo "trial 6: 2 kills, map saved every 0.3 s"
trial 2 0.3

echo "SIGTERM: the map is saved, exit 143, the next run finishes the job"
cp "$T/orig" "$I"
cp "$T/orig.poison" "$I.poison"
rm -f "$T/out" "$T/map"
"$UDAX" rescue "$I" "$T/out" "$T/map" --max-rate 64M 2>"$T/err" >/dev/null &
pid=$!
sleep 0.4
# meanwhile, a second rescue into the same OUT is refused
expect_err 1 "in use by another udax rescue" udax rescue "$I" "$T/out" "$T/map2"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 143 ] || fail "SIGTERM: exit $rc"
grep -Eq '^udax rescue: .*: interrupted by signal 15; run the same command again' "$T/err" || fail "$(cat "$T/err")"
grep -q '^# Interrupted' "$T/map" || fail "map not saved on SIGTERM"
check_claims "$T/map" "$T/out"
udax rescue "$I" "$T/out" "$T/map" >/dev/null 2>&1 || rc=$?
cmp "$T/out" "$T/ref"
echo "rescue-resume: ok"
