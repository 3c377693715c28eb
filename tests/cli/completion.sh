#!/bin/bash
# completion: the bash completion script registers for udax and completes
# commands, each command's options, --mode values and file names, asking
# the udax under test.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/bin"
ln -s "$UDAX" "$T/bin/udax"
PATH=$T/bin:$PATH
# shellcheck disable=SC1091
. "$SRCDIR/completion/udax.bash"
complete -p udax | grep -q -- '-F _udax udax' || fail "complete -p: $(complete -p udax)"

# comp WORDS...: COMPREPLY for the last word, sorted, one line
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_udax
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

[ "$(comp udax res)" = rescue ] || fail "command: '$(comp udax res)'"
[ "$(comp udax sc)" = scrub ] || fail "command: '$(comp udax sc)'"
for c in create info badblocks inject clear scrub read write rescue help version; do
	case " $(comp udax '') " in *" $c "*) ;; *) fail "no command $c" ;; esac
done
[ "$(comp udax read --mo)" = --mode ] || fail "read option: '$(comp udax read --mo)'"
[ "$(comp udax read --mode r)" = recovery ] || fail "mode value"
# every option a command takes, no other
for c in create info badblocks inject clear scrub read write rescue; do
	want=$(udax "$c" -h | grep -o -- '--[a-z][a-z-]*' | sort -u | tr '\n' ' ' | sed 's/ $//')
	[ "$(comp udax "$c" --)" = "$want" ] || fail "$c options: '$(comp udax "$c" --)' want '$want'"
done
case " $(comp udax rescue --) " in *" --reverse "*) ;; *) fail "rescue --reverse" ;; esac
[ "$(comp udax inject --sta)" = --status ] || fail "inject --status: '$(comp udax inject --sta)'"
[ "$(comp udax inject-error "$T/x" --un)" = --uninject ] || fail "inject --uninject"
case " $(comp udax inject --) " in *" --json "*) ;; *) fail "inject --json" ;; esac
case " $(comp udax info --) " in *" --reverse "*) fail "info offers --reverse" ;; esac
touch "$T/pmem.img"
[ "$(comp udax info "$T/pmem.i")" = "$T/pmem.img" ] || fail "file: '$(comp udax info "$T/pmem.i")'"
[ "$(comp udax help resc)" = rescue ] || fail "help COMMAND"
echo "completion: ok"
