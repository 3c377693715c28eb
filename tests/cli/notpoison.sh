#!/bin/bash
# Failures that are not poison are never reported as poison: a file
# system's EIO or ENOSPC (injected with strace), a sparse image on a full
# file system (a 1 MiB tmpfs, as root in a private mount namespace), an
# image truncated while a command has it mapped.  The commands exit 1 with
# one error line that names the real cause and does not say "poison" or
# "partly covered"; read and rescue never exit 3 (data lost to poison);
# nothing becomes known poison.
. "$(dirname "$0")/lib.sh"
I=$T/img

# not_poison CMD...: exit 1, one error line without poison in it.
not_poison() {
	local rc=0
	"$@" >"$T/.out" 2>"$T/.err" || rc=$?
	[ "$rc" = 1 ] || { cat "$T/.err" >&2; fail "'$*' exited $rc, expected 1"; }
	[ "$(wc -l <"$T/.err")" = 1 ] || { cat "$T/.err" >&2; fail "'$*': stderr is not one line"; }
	if grep -Eiq 'poison|partly covered|lost' "$T/.err"; then
		fail "'$*' blames poison: $(cat "$T/.err")"
	fi
}

# state_same: the poison state is what it was (saved in $T/state).
state_same() { grep -v '^gen ' "$I.poison" | cmp -s - <(grep -v '^gen ' "$T/state") ||
	fail "$1: the poison state changed: $(cat "$I.poison")"; }

new_image "$I" 1M
quiet udax inject "$I" --offset 64K --length 4K
cp "$I.poison" "$T/state"
head -c 8192 /dev/urandom >"$T/d"

# A file system's EIO or ENOSPC while saving the state or the data.
if type -P strace >/dev/null && strace -qq -o /dev/null true 2>/dev/null; then
	fs_err() { # fs_err SYSCALL[:when=N] ERRNO CMD...
		local sc=$1 e=$2
		shift 2
		not_poison strace -qq -o /dev/null -e trace="${sc%%:*}" \
			-e inject="${sc%%:*}:error=$e${sc#"${sc%%:*}"}" "$@"
	}
	for e in EIO ENOSPC; do
		fs_err fsync $e "$UDAX" inject "$I" --offset 128K --length 4K
		case $e in EIO) why="Input/output error";; *) why="No space left on device";; esac
		grep -q "$why" "$T/.err" ||
			fail "inject: the cause is not named: $(cat "$T/.err")"
		state_same "inject, fsync $e"
		# (the first write is the state's: later ones are the message's)
		fs_err write:when=1 $e "$UDAX" inject "$I" --offset 128K --length 4K --count 8 --stride 8K
		state_same "inject, write $e"
		fs_err rename $e "$UDAX" inject "$I" --offset 128K --length 4K
		state_same "inject, rename $e"
		fs_err fsync $e "$UDAX" clear "$I" --offset 64K --length 4K
		state_same "clear, fsync $e"
		quiet udax inject "$I" --offset 192K --length 4K --latent
		cp "$I.poison" "$T/state"
		fs_err fsync $e "$UDAX" scrub "$I"
		state_same "scrub, fsync $e"
		quiet udax clear "$I" --offset 192K --length 4K >/dev/null
		cp "$I.poison" "$T/state"
		# the data of a recovery write (the page is poisoned, and stays
		# so: the message may say so, but must name the failure), and
		# the final sync of a write
		rc=0
		strace -qq -o /dev/null -e trace=msync -e inject=msync:error=$e \
			"$UDAX" write "$I" --offset 64K -i "$T/d" 2>"$T/.err" || rc=$?
		[ "$rc" = 1 ] && [ "$(wc -l <"$T/.err")" = 1 ] &&
			grep -q "$why" "$T/.err" && ! grep -q "partly covered" "$T/.err" ||
			fail "recovery write, msync $e: exit $rc: $(cat "$T/.err")"
		state_same "recovery write, msync $e"
		fs_err msync $e "$UDAX" write "$I" --offset 256K -i "$T/d"
	done
	udax badblocks "$I" | grep -qx '128 8' || fail "the poison at 64K is gone"
	[ "$(udax badblocks "$I" | wc -l)" = 1 ] || fail "something became known: $(udax badblocks "$I")"
else
	echo "skip: file-system errors (strace cannot run here)"
fi

# An image truncated while a command has it mapped: the command blocks on
# a FIFO after it has opened the device; the image is cut meanwhile.
mkfifo "$T/fifo"
cp "$I" "$T/img.full"
wait_open() { # wait_open PID: until PID has the image open
	for _ in $(seq 1000); do
		[ -n "$(find -L "/proc/$1/fd" -samefile "$I" 2>/dev/null)" ] && return
		sleep 0.01
	done
	fail "the command never opened the image"
}
for mode in failfast recovery; do
	cp "$T/img.full" "$I"
	"$UDAX" read "$I" --offset 128K --length 256K --mode $mode -o "$T/fifo" \
		>"$T/.out" 2>"$T/.err" & pid=$!
	wait_open $pid
	truncate -s 256K "$I"	# the header and 252 KiB of data are left
	cat "$T/fifo" >"$T/got"
	rc=0
	wait $pid || rc=$?
	[ "$rc" = 1 ] || fail "$mode read of a truncated image exited $rc: $(cat "$T/.err")"
	grep -Eiq 'poison|lost' "$T/.err" &&
		fail "$mode read of a truncated image blames poison: $(cat "$T/.err")"
	state_same "$mode read of a truncated image"
done

cp "$T/img.full" "$I"
"$UDAX" write "$I" --offset 0 --length 8K -i "$T/fifo" >"$T/.out" 2>"$T/.err" & pid=$!
exec 3>"$T/fifo"
wait_open $pid
truncate -s 4K "$I"
cat "$T/d" >&3
exec 3>&-
rc=0
wait $pid || rc=$?
[ "$rc" = 1 ] || fail "write to a truncated image exited $rc: $(cat "$T/.err")"
grep -Eiq 'poison|partly covered' "$T/.err" && fail "write to a truncated image blames poison: $(cat "$T/.err")"
state_same "write to a truncated image"

# A sparse image on a full file system.
if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
	mkdir "$T/mnt"
	head -c 16M /dev/urandom >"$T/16m"
	export UDAX T
	export -f udax fail not_poison state_same
	unshare -m --propagation private bash -c '
		set -eu
		mount -t tmpfs -o size=1M udax-test "$T/mnt"
		I=$T/mnt/img
		udax create "$I" --size 16M
		udax inject "$I" --offset 15M --length 4K
		cp "$I.poison" "$T/state"
		not_poison udax write "$I" --offset 0 -i "$T/16m"
		grep -q "No space left on device" "$T/.err" || fail "write: $(cat "$T/.err")"
		not_poison udax write "$I" --offset 8M --length 4K -i "$T/16m"
		grep -q "No space left on device" "$T/.err" || fail "write: $(cat "$T/.err")"
		not_poison udax read "$I" --offset 8M --length 4K -o /dev/null
		not_poison udax read "$I" --offset 8M --length 4K --mode recovery -o /dev/null
		not_poison udax rescue "$I" "$T/out" "$T/map"
		state_same "full file system"
		echo "full file system: ok"
	'
else
	echo "skip: full file system (needs root and unshare -m)"
fi
# A FIFO, or nothing, at IMG.poison: every command fails at once, naming it.
new_image "$I" 64K
mv "$I.poison" "$T/saved"
mkfifo "$I.poison"
for c in badblocks info scrub; do
	expect_err 1 "poison: not a regular file" timeout 20 "$UDAX" $c "$I"
done
expect_err 1 "poison: not a regular file" timeout 20 "$UDAX" read "$I" --offset 0 --length 4K
expect_err 1 "poison: not a regular file" timeout 20 "$UDAX" inject "$I" --offset 0 --length 4K
rm "$I.poison"
expect_err 1 "poison: missing" timeout 20 "$UDAX" badblocks "$I"
expect_err 1 "poison: missing" timeout 20 "$UDAX" read "$I" --offset 0 --length 4K
mv "$T/saved" "$I.poison"
echo "notpoison: ok"
