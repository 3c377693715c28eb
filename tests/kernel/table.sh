#!/bin/bash
# tests/kernel/table.sh LOGDIR "SCENARIO BOOT"...: the result table of a
# run-all.sh run, from the answers it left in LOGDIR (SCENARIO.BOOT.guest,
# .emul, .meta; lib.sh describes the lines).  Exit 1 if any row FAILs.
set -uo pipefail
logs=$1
shift
require_real=${UDAX_KERNEL_REQUIRE_REAL:-0}
PENDING="not supported yet (udax_open: EOPNOTSUPP)"

exit_meaning() {
	case $1 in
	0) echo "ok" ;;
	3) echo "the scenario stopped (see its log)" ;;
	77) echo "not set up" ;;
	124) echo "timeout" ;;
	125) echo "guest kernel crash" ;;
	126) echo "guest died without a status" ;;
	*) echo "exit $1" ;;
	esac
}

# The table, one array per column; a group header is a row with only its
# first cell.
c1=() c2=() c3=() c4=() c5=()
failures=()
npass=0 nfail=0 npending=0
add() { c1+=("$1"); c2+=("$2"); c3+=("$3"); c4+=("$4"); c5+=("$5"); }

for g in "$@"; do
	name=${g% *} label=${g#* }
	base=$logs/$name.$label
	read -r grc erc opts <"$base.meta" || { grc='?' erc='?' opts='?'; }
	add "$name on $label ($opts)" "" "" "" ""
	ids=()
	unset text ans want owed mismatch
	declare -A text=() ans=() want=() owed=() mismatch=()
	# Guest answers first, so rows keep the scenario's order.
	for f in "$base.guest" "$base.emul"; do
		[ -f "$f" ] || continue
		while IFS='|' read -r kind id a b; do
			case $kind in
			row)
				[ -n "${text[$id]+x}" ] || { ids+=("$id"); text[$id]=$a; } ;;
			kernel|real|emul)
				ans[$kind.$id]+="${ans[$kind.$id]+; }$b"
				want[$kind.$id]+="${want[$kind.$id]+; }$a"
				# shellcheck disable=SC2053 # WANT is a pattern
				if [[ $b != $a ]]; then
					mismatch[$kind.$id]=1
				fi ;;
			expect)
				owed[$a.$id]=1 ;;
			esac
		done < <(tr -d '\r' <"$f")
	done
	for id in "${ids[@]}"; do
		cells=() bad=() pend=0
		for col in kernel real emul; do
			k=$col.$id
			if [ -n "${ans[$k]+x}" ]; then
				cell=${ans[$k]}
				if [ $col = real ] && [[ $cell == *"udax_open: EOPNOTSUPP"* ]]; then
					cell=$PENDING
					pend=1
				elif [ -n "${mismatch[$k]+x}" ]; then
					bad+=("$col")
					failures+=("$name on $label, $id, $col: want '${want[$k]}', got '${ans[$k]}'")
				fi
			elif [ -n "${owed[$k]+x}" ]; then
				cell="(no answer)"
				bad+=("$col")
				failures+=("$name on $label, $id, $col: no answer")
			else
				cell="-"
			fi
			cells+=("$cell")
		done
		if [ ${#bad[@]} -gt 0 ]; then
			verdict="FAIL (${bad[*]})"
		elif [ $pend = 1 ] && [ "$require_real" = 1 ]; then
			verdict="FAIL (real pending)"
			failures+=("$name on $label, $id, real: not supported yet (UDAX_KERNEL_REQUIRE_REAL=1)")
		elif [ $pend = 1 ]; then
			verdict="PASS (real pending)"
			npending=$((npending + 1))
		else
			verdict=PASS
		fi
		case $verdict in PASS*) npass=$((npass + 1)) ;; *) nfail=$((nfail + 1)) ;; esac
		add "  ${text[$id]}" "${cells[0]}" "${cells[1]}" "${cells[2]}" "$verdict"
	done
	if [ "$grc" != 0 ]; then
		add "  (the guest: $(exit_meaning "$grc"))" "exit $grc" "" "" "FAIL"
		failures+=("$name on $label: the guest run ended with exit $grc ($(exit_meaning "$grc")): $base.log")
		nfail=$((nfail + 1))
	fi
	if [ "$erc" != 0 ]; then
		add "  (the host run on the emulated device)" "" "" "exit $erc" "FAIL"
		failures+=("$name on $label: the host run ended with exit $erc: $base.emul.log")
		nfail=$((nfail + 1))
	fi
done

head=("scenario" "kernel's answer" "udax on the real device" "udax on the emulated device" "verdict")
w=()
for i in 0 1 2 3 4; do w[i]=${#head[i]}; done
for ((r = 0; r < ${#c1[@]}; r++)); do
	# Group headers span the row: they do not widen the first column.
	[ -z "${c2[r]}${c3[r]}${c4[r]}${c5[r]}" ] && continue
	for i in 0 1 2 3 4; do
		case $i in 0) v=${c1[r]} ;; 1) v=${c2[r]} ;; 2) v=${c3[r]} ;; 3) v=${c4[r]} ;; 4) v=${c5[r]} ;; esac
		[ ${#v} -le "${w[i]}" ] || w[i]=${#v}
	done
done
line() { printf '%-*s | %-*s | %-*s | %-*s | %s\n' "${w[0]}" "$1" "${w[1]}" "$2" "${w[2]}" "$3" "${w[3]}" "$4" "$5"; }
rule=$(printf '%*s' $((w[0] + w[1] + w[2] + w[3] + w[4] + 12)) '' | tr ' ' -)
echo
line "${head[@]}"
echo "$rule"
for ((r = 0; r < ${#c1[@]}; r++)); do
	if [ -z "${c2[r]}${c3[r]}${c4[r]}${c5[r]}" ]; then
		echo "${c1[r]}"
	else
		line "${c1[r]}" "${c2[r]}" "${c3[r]}" "${c4[r]}" "${c5[r]}"
	fi
done
echo "$rule"
echo "rows: $((npass + nfail)); PASS $npass (real device pending in $npending); FAIL $nfail"
if [ ${#failures[@]} -gt 0 ]; then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
	exit 1
fi
exit 0
