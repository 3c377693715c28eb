# udax-bench's chart, drawn from its JSON:
#   gnuplot -c bench/chart.gp RESULTS.json CHART.png
# `udax-bench --chart FILE.png` runs this on the run's JSON.  jq picks the
# figures out of the JSON (paths must not contain a single quote).
if (ARGC < 2) {
	print "usage: gnuplot -c chart.gp RESULTS.json CHART.png"
	exit status 2
}
json = ARG1

# jq's output for @prog over the JSON, trailing newline dropped
jq(prog) = system("jq -r '" . prog . "' '" . json . "'")

# fig(pair; size; mode; threads): that figure, or null.  r3: its ratio as
# "median min max", "- - -" when it has none.  a3 / b3: the same for the
# udax and baseline values.
lib = 'def fig($p; $s; $m; $t): first(.figures[] | select(.pair == $p and .size == $s and .mode == $m and .threads == $t)) // null; ' \
    . 'def s3($k): if . != null and .[$k] != null and .[$k].median != null then "\(.[$k].median) \(.[$k].min) \(.[$k].max)" else "- - -" end; ' \
    . 'def r3: s3("ratio"); ' \
    . 'def row($l; f): (["\"" + $l + "\""] + [f]) | join(" "); ' \
    . 'def sizes: ["64 B", "4 KiB", "64 KiB", "2 MiB", "64 MiB"][]; '

# Each row: a size, then median/min/max of each series.
set print $reads
print jq(lib . 'sizes as $s | row($s; ' \
	. '(fig("failfast copy_to_iter / memcpy"; $s; "hot"; 1) | r3), ' \
	. '(fig("failfast copy_to_iter / memcpy"; $s; "cold"; 1) | r3), ' \
	. '(fig("recovery copy_to_iter / memcpy"; $s; "hot"; 1) | r3), ' \
	. '(fig("recovery copy_to_iter / memcpy"; $s; "cold"; 1) | r3), ' \
	. '(fig("failfast copy_to_iter / memcpy"; $s; "cold"; 2) | r3), ' \
	. '(fig("udax_pread / memcpy"; $s; "cold"; 1) | r3))')
set print $writes
print jq(lib . 'sizes as $s | row($s; ' \
	. '(fig("persist copy_from_iter / pmem_memcpy_persist"; $s; "hot"; 1) | r3), ' \
	. '(fig("persist copy_from_iter / pmem_memcpy_persist"; $s; "cold"; 1) | r3), ' \
	. '(fig("persist copy_from_iter / pmem_memcpy_persist"; $s; "cold"; 2) | r3), ' \
	. '(fig("persist copy_from_iter / pmem2 memcpy_fn"; $s; "cold"; 1) | r3), ' \
	. '(fig("udax_pwrite / memcpy"; $s; "cold"; 1) | r3))')
# known ranges, udax ns, the goal (from "<= 10 ns"), the Linux table's ns
set print $lookup
print jq(lib . '(["512", "512 ranges"], ["64 Ki", "65536 ranges"], ["1 Mi", "1048576 ranges"]) ' \
	. 'as [$l, $s] | fig("bb_first_bad / linux badblocks_check"; $s; "rand"; 1) as $f | row($l; ' \
	. '($f | s3("udax")), ' \
	. '($f | if . != null and .goal != null then .goal | capture("(?<v>[0-9.]+)").v else "-" end), ' \
	. '($f | s3("baseline")))')
unset print

set terminal pngcairo noenhanced size 1400,1000 font 'sans,10'
set output ARG2
set datafile missing '-'
set multiplot layout 2,2 title sprintf('udax-bench %s: udax / baseline, median of %d interleaved pairs, bars = min..max, clipped (%s, %d CPUs; absolute figures are machine-dependent)', \
	jq('.udax_version'), int(jq('.config.pairs')), jq('.machine.cpu'), int(jq('.machine.cpus')))
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top left font 'sans,9' opaque
set yrange [0:2.6]

set title 'Reads: copy_to_iter and pread / memcpy (higher is better)'
set ylabel 'ratio'
plot $reads using 2:3:4:xtic(1) title 'failfast hot', \
	'' using 5:6:7 title 'failfast cold', \
	'' using 8:9:10 title 'recovery hot', \
	'' using 11:12:13 title 'recovery cold', \
	'' using 14:15:16 title 'failfast cold, 2 threads', \
	'' using 17:18:19 title 'pread cold', \
	0.95 with lines dt 2 lw 2 lc rgb 'red' title 'goal 0.95 (>= 64 KiB; 4 KiB hot)', \
	0.90 with lines dt 3 lw 2 lc rgb 'dark-red' title 'goal 0.90 (recovery 4 KiB cold, 2 MiB)'

set title 'Persistent writes: copy_from_iter / libpmem (higher is better)'
plot $writes using 2:3:4:xtic(1) title 'vs pmem_memcpy_persist hot', \
	'' using 5:6:7 title 'vs pmem_memcpy_persist cold', \
	'' using 8:9:10 title 'vs pmem_memcpy_persist cold, 2 threads', \
	'' using 11:12:13 title 'vs pmem2 memcpy_fn cold', \
	'' using 14:15:16 title 'pwrite / memcpy cold', \
	1.0 with lines dt 2 lw 2 lc rgb 'red' title 'goal 1.00', \
	1.1 with lines dt 4 lw 2 lc rgb 'dark-orange' title 'goal 1.10 (64 B cold)', \
	1.3 with lines dt 3 lw 2 lc rgb 'dark-red' title 'goal 1.30 (2 MiB, 64 MiB cold)'

set title 'Bad-block lookup, random single sector (ns, lower is better)'
set yrange [0:*]
set ylabel 'ns per lookup'
set xlabel 'known ranges'
plot $lookup using 2:3:4:xtic(1) title 'udax (udax__bb_first_bad)', \
	'' using 5:5:5 title 'goal', \
	'' using 6:7:8 title 'Linux 512-slot array (badblocks_check)'

# Panel 4: the other goals as text, one label each: "pair, size: value
# goal result".  The value is what the goal is about: the overhead per
# operation, else the ratio, else the udax value with its unit, printed as
# the table prints it.  First the per-operation overhead goals of the
# charted copies (1 thread), then every figure of the sections not charted.
unset xlabel
unset ylabel
unset border
unset tics
unset grid
set title 'Other goals'
fmtabs(v, u) = v >= 100 ? sprintf('%.0f %s', v, u) : \
	    v >= 10 ? sprintf('%.1f %s', v, u) : sprintf('%.2f %s', v, u)
load '< jq -r ''[.figures[] | select((.section != "parts" and .threads == 1 and (.goal // "" | test("ns/op"))) ' \
	. 'or .section == "da" or .section == "readers" or .section == "memory" or .section == "parts" and .goal != null ' \
	. 'or .section == "poison" or .section == "workload")][:18] | to_entries[] | .key as $i | .value ' \
	. '| "set label \($i + 1) sprintf(\"%s, %s: %s  %s %s\", \(.pair | @json), ' \
	. '\(.size + (if .section == "read" or .section == "rw" then " \(.mode)" elif .section == "workload" then " \(.threads)T" else "" end) | @json), " ' \
	. '+ (if (.goal // "" | test("ns/op")) then "sprintf(\"%+.1f ns/op\", \(.overhead_ns_per_op.median))" ' \
	. 'elif .ratio != null and .ratio.median != null then "sprintf(\"%.2f%s\", \(.ratio.median), \(if .ratio_kind == "slowdown" then "x slower" else "" end | @json))" ' \
	. 'elif .udax.median != null then "fmtabs(\(.udax.median), \(.unit | @json))" else "\"-\"" end) ' \
	. '+ ", \(.goal // "" | @json), \(.result // "" | @json)) at graph 0.02, graph \(0.95 - 0.052 * $i) font \"sans,9\""'' ''' . json . "'"
plot [0:1][0:1] NaN notitle
unset multiplot
