#!/bin/sh
# run.sh: run the libFuzzer targets of tests/fuzz.
#
#   run.sh BUILD SECONDS TARGET...	fuzz each target for SECONDS (make fuzz)
#   run.sh -r BUILD TARGET...		replay the committed corpus only
#					(make check-fuzz)
#
# Fuzzing starts from the committed corpus (tests/fuzz/corpus/TARGET) and
# keeps what it learns in BUILD/corpus/TARGET, so the committed one stays
# small; findings go to BUILD/crashes/TARGET and are listed at the end.
# Logs are in BUILD/logs. Exit status 1 if anything failed.
set -u

dir=$(dirname "$0")
replay=0
if [ "${1:-}" = -r ]; then
	replay=1
	shift
fi
build=$1
shift
if [ $replay -eq 0 ]; then
	seconds=$1
	shift
fi
mkdir -p "$build/logs"
status=0

# The number of inputs run, from libFuzzer's final statistics.
executed() {
	sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -n 1
}

if [ $replay -eq 1 ]; then
	for t in "$@"; do
		log=$build/logs/$t.replay.log
		files=$(find "$dir/corpus/$t" -type f | sort)
		n=$(echo "$files" | grep -c .)
		# Each file run once, no mutation: a regression, not a search.
		# shellcheck disable=SC2086
		if "$build/$t" -runs=1 $files >"$log" 2>&1; then
			printf '  %-11s %d inputs replayed\n' "$t" "$n"
		else
			printf '  %-11s FAILED on its corpus, see %s:\n' "$t" \
			    "$log"
			tail -n 30 "$log" | sed 's/^/    /'
			status=1
		fi
	done
	exit $status
fi

stamp=$build/logs/.started
: >"$stamp"
for t in "$@"; do
	log=$build/logs/$t.log
	mkdir -p "$build/corpus/$t" "$build/crashes/$t"
	dict=
	[ -f "$dir/$t.dict" ] && dict=-dict=$dir/$t.dict
	printf '  %-11s fuzzing for %s s\n' "$t" "$seconds"
	# shellcheck disable=SC2086
	"$build/$t" -max_total_time="$seconds" -timeout=25 \
	    -print_final_stats=1 -artifact_prefix="$build/crashes/$t/" \
	    $dict "$build/corpus/$t" "$dir/corpus/$t" >"$log" 2>&1
	rc=$?
	printf '  %-11s %s inputs run, exit %d (%s)\n' "$t" \
	    "$(executed "$log")" $rc "$log"
	[ $rc -eq 0 ] || status=1
done

found=$(find "$build/crashes" -type f -newer "$stamp" | sort)
if [ -n "$found" ]; then
	echo "fuzz: new findings (replay one with BUILD/TARGET FILE):"
	echo "$found" | sed 's/^/  /'
	status=1
else
	echo "fuzz: no new findings"
fi
exit $status
