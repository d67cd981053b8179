#!/bin/sh
# Run cmocka unit-test binaries and sum up their results.
#
#   sh tests/run-unit.sh BINARY...
#
# Each binary prints its own report as it runs (cmocka's standard output:
# stdout ends with "[==========] N test(s) run.", stderr has "[  PASSED  ] N
# test(s)." and the failures). The counts are read back from that report; a
# binary that dies before its summary (a signal, a sanitizer) is counted from
# its "[ RUN ]" and "[ OK ]" lines, the tests it never reached as failed.
# Then one line per binary and a total; the exit status is 1 if any binary
# failed, 2 on a usage error.

set -u

if [ $# -eq 0 ]; then
	echo "usage: sh tests/run-unit.sh BINARY..." >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-unit.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The counts below are parsed from cmocka's standard format.
CMOCKA_MESSAGE_OUTPUT=stdout
export CMOCKA_MESSAGE_OUTPUT

# The number in the last line of file $2 matching the sed pattern $1 (one
# \([0-9][0-9]*\) group), or nothing.
count() {
	sed -n "s/$1/\\1/p" "$2" | tail -n 1
}

# How many lines of the files match the fixed string $1.
lines() {
	pat=$1
	shift
	cat "$@" | grep -F -c -e "$pat"
}

suites=0
tests=0
failed=0
bad_suites=0
: > "$tmp/summary"

for bin in "$@"; do
	suites=$((suites + 1))
	if [ -d "$bin" ] || [ ! -x "$bin" ]; then
		echo "run-unit: $bin: not an executable file" >&2
		printf '  FAIL  %s: not an executable file\n' "$bin" \
		    >> "$tmp/summary"
		bad_suites=$((bad_suites + 1))
		continue
	fi

	# Show both streams as they come and keep a copy of each; the exit
	# status goes through a file, a pipeline would lose it.
	rm -f "$tmp/out" "$tmp/err" "$tmp/rc"
	{
		{
			"$bin" 3>&-
			echo $? > "$tmp/rc"
		} 2>&1 1>&3 | tee "$tmp/err" >&2
	} 3>&1 | tee "$tmp/out"
	rc=$(cat "$tmp/rc" 2>/dev/null)
	rc=${rc:-127}

	run=$(count '^\[==========] \([0-9][0-9]*\) test(s) run\.$' \
	    "$tmp/out")
	passed=$(count '^\[  PASSED  ] \([0-9][0-9]*\) test(s)\.$' \
	    "$tmp/err")
	skipped=$(count '^\[  SKIPPED ] \([0-9][0-9]*\) test(s).*$' \
	    "$tmp/err")
	skipped=${skipped:-0}
	note=""
	if [ -n "$run" ] && [ -n "$passed" ]; then
		nfail=$((run - passed - skipped))
		if [ "$nfail" -lt 0 ]; then
			nfail=0
		fi
	else
		# No summary: the binary died on the way.
		planned=$(count '^\[==========] Running \([0-9][0-9]*\) test(s)\.$' \
		    "$tmp/out")
		started=$(lines '[ RUN      ]' "$tmp/out" "$tmp/err")
		ok=$(lines '[       OK ]' "$tmp/out" "$tmp/err")
		run=${planned:-$started}
		if [ "$run" -lt "$started" ]; then
			run=$started
		fi
		nfail=$((run - ok))
		if [ "$rc" -gt 128 ]; then
			note="killed by signal $((rc - 128))"
		else
			note="exit status $rc"
		fi
		note="$note after $started of $run tests, no summary"
	fi
	if [ "$rc" -ne 0 ] && [ "$nfail" -eq 0 ] && [ -z "$note" ]; then
		# All tests passed, then something failed at exit (a leak
		# report, a sanitizer).
		note="exit status $rc"
	fi

	tests=$((tests + run))
	failed=$((failed + nfail))
	if [ "$rc" -eq 0 ] && [ "$nfail" -eq 0 ]; then
		result="  ok    $bin: $run tests"
		if [ "$skipped" -gt 0 ]; then
			result="$result, $skipped skipped"
		fi
	else
		bad_suites=$((bad_suites + 1))
		result="  FAIL  $bin: $run tests, $nfail failed"
		if [ -n "$note" ]; then
			result="$result ($note)"
		fi
	fi
	printf '%s\n' "$result" >> "$tmp/summary"
done

echo
cat "$tmp/summary"
total="unit: $suites suites, $tests tests, $failed failed"
if [ "$bad_suites" -gt 0 ]; then
	total="$total ($bad_suites of $suites suites failed)"
fi
echo "$total"
if [ "$bad_suites" -gt 0 ]; then
	exit 1
fi
exit 0
