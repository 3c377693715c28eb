# bash completion for udax(1).  Commands and options come from udax itself
# (udax -h, udax CMD -h), so this file never goes stale.
_udax()
{
	local cur prev cmd= i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--verbose --help --version -h' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(udax -h 2>/dev/null |
				sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')" -- "$cur"))
		fi
		return
	fi

	case $prev in
	-m | --mode)
		COMPREPLY=($(compgen -W 'failfast recovery' -- "$cur"))
		return ;;
	--progress)
		COMPREPLY=($(compgen -W 'tty json' -- "$cur"))
		return ;;
	-o | --output | -i | --input | --import | --log-events | --log-rates)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--offset | --length | --size | -s | --count | -n | --stride | \
	--retries | -r | --map-interval | --cluster-size | --max-rate | -c)
		return ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(udax "$cmd" -h 2>/dev/null |
			grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur"))
		return
	fi
	if [[ $cmd == help ]]; then
		COMPREPLY=($(compgen -W "$(udax -h 2>/dev/null |
			sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')" -- "$cur"))
		return
	fi
	# DEV, OUT, MAPFILE: files, and the pmem and dax devices
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _udax udax
