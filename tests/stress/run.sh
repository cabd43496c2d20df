#!/bin/bash
# Concurrency stress of libnoleak (`make stress`).
#
# 16 threads create, duplicate and close fds while others start a checker
# program by fork+exec, vfork+exec, posix_spawn, system(), popen(), the
# CPython and Java vfork sequences, and through a library constructor that
# runs before libnoleak's own initialisation (tests/stress/stress.c).  Each
# started program fails if it finds an fd it was not meant to get; at the
# end the stress program's fd count must be back at its baseline.
#
# Runs, each a check in the summary:
#   control   without the shim, briefly: the checker must catch the leaks
#             (else the run below proves nothing);
#   plain     under the shim for STRESS_SECONDS (default 60; 10 with
#             SMOKE=1): no failure, no crash, no deadlock (it must end
#             within its time plus a margin);
#   spawn-setfd, spawn-cloexec
#             the two posix_spawn races of a sweep decided in the parent
#             (tests/stress/spawn_race.c), STRESS_RACE_ROUNDS rounds each
#             (default 20000; 2000 with SMOKE=1): first without the shim
#             (no failure: the checks agree with glibc), then under it (no
#             failure either);
#   log-race  the log's fd number taken over by another thread (dup2, dup3,
#             close/close_range/closefrom and F_DUPFD) while events are
#             written, for STRESS_SECONDS, and (log-race-spin) taken at
#             the moment the shim places a fresh fd there
#             (tests/fixtures/foundation/found_log_race.c): no log line in
#             the program's file, no deadlock;
#   log-longjmp
#             a SIGALRM handler leaving with siglongjmp() wherever the
#             thread is, the shim's log write included, while another
#             thread closes the log's number over and over
#             (tests/fixtures/foundation/found_log_longjmp.c): no end
#             within STRESS_SECONDS plus the margin is a deadlock;
#   helgrind  under valgrind --tool=helgrind for STRESS_HELGRIND_SECONDS
#             (default 10): the same checks, and no race, lock-order or
#             pthread error involving libnoleak (helgrind.awk sorts them).
#             Helgrind runs on a build of the library at -O0, from the same
#             sources and version script, so that each report points at
#             the exact source line: that is how accesses through C11
#             atomics, which helgrind cannot see as atomic, are told apart.
#
# Prints PASS or FAIL per check and a summary; exits 1 on any failure.
set -u

cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
B=$ROOT/build
S=$B/stress
CC=${CC:-gcc}
CFLAGS="-std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g"

if [ "${SMOKE:-0}" = 1 ]; then
	SECONDS_PLAIN=${STRESS_SECONDS:-10}
else
	SECONDS_PLAIN=${STRESS_SECONDS:-60}
fi
SECONDS_HG=${STRESS_HELGRIND_SECONDS:-10}
if [ "${SMOKE:-0}" = 1 ]; then
	RACE_ROUNDS=${STRESS_RACE_ROUNDS:-2000}
else
	RACE_ROUNDS=${STRESS_RACE_ROUNDS:-20000}
fi
CONTROL_SECONDS=2
# Time allowed past the run's own duration before it counts as hung.
MARGIN=60

failed=0
summary=""

note() {
	# note PASS|FAIL NAME DETAIL
	printf '%s %-9s %s\n' "$1" "$2" "$3"
	summary="$summary$(printf '%s %-9s %s' "$1" "$2" "$3")
"
	[ "$1" = FAIL ] && failed=$((failed + 1))
	return 0
}

die() {
	echo "stress: $*" >&2
	exit 2
}

[ -f "$B/libnoleak.so" ] || die "$B/libnoleak.so missing (run make first)"
mkdir -p "$S" || die "cannot create $S"

# --- build ---

echo "stress: building in $S"
$CC $CFLAGS -o "$S/stress" tests/stress/stress.c -lpthread || die "cannot build stress"
$CC $CFLAGS -o "$S/checker" tests/stress/checker.c || die "cannot build checker"
$CC $CFLAGS -o "$S/spawn_race" tests/stress/spawn_race.c -lpthread ||
	die "cannot build spawn_race"
$CC $CFLAGS -o "$S/log_race" tests/fixtures/foundation/found_log_race.c -lpthread ||
	die "cannot build log_race"
$CC $CFLAGS -o "$S/log_longjmp" tests/fixtures/foundation/found_log_longjmp.c \
	-lpthread -lrt || die "cannot build log_longjmp"
$CC $CFLAGS -fPIC -shared -o "$S/found_early.so" tests/fixtures/foundation/found_early.so.c ||
	die "cannot build found_early.so"
# --no-as-needed: the program uses nothing from the library, the
# dependency (and so its constructor, before libnoleak's) is the point.
$CC $CFLAGS -o "$S/early_main" tests/fixtures/foundation/found_early_main.c \
	-Wl,--no-as-needed "$S/found_early.so" -Wl,-rpath,"$S" ||
	die "cannot build early_main"
$CC -std=gnu11 -D_GNU_SOURCE -DNL_HELGRIND -fPIC -fvisibility=hidden -Wall -Wextra -Werror \
	-O0 -g -iquote . -iquote shim -shared -o "$S/libnoleak-O0.so" \
	shim/*.c shim/*/*.c policy/*.c \
	-Wl,--version-script=build/libnoleak.map -ldl ||
	die "cannot build the -O0 library for helgrind"

# Only stdio reaches the runs: an fd this script inherited would show up as
# a leak in every checker (the shim passes fds inherited at start-up on).
close_inherited() {
	for fd in $(ls /proc/$$/fd 2>/dev/null); do
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	return 0
}

# run_stress NAME SECONDS OUT ERR PREFIX...: the stress program under the
# given command prefix, killed after SECONDS + MARGIN.  Sets rc.
run_stress() {
	name=$1 secs=$2 out=$3 err=$4
	shift 4
	timeout -s KILL $((secs + MARGIN)) "$@" "$S/stress" "$secs" "$S/checker" \
		"$S/early_main" >"$out" 2>"$err"
	rc=$?
}

# Whether a finished run passed; FAIL lines say why.
judge() {
	name=$1 secs=$2 out=$3 err=$4
	case $rc in
	0) note PASS "$name" "$(grep -c 'failures=0' "$out") ways, no leak, fds back at baseline ($secs s)" ;;
	137) note FAIL "$name" "no end after $((secs + MARGIN)) s: deadlock (see $err)" ;;
	1) note FAIL "$name" "$(grep -v 'failures=0' "$out" | tr '\n' ' ')(see $err)" ;;
	*) note FAIL "$name" "exit status $rc: crash? (see $err)" ;;
	esac
}

close_inherited

# --- control: without the shim the checker must see leaks ---

echo "stress: control run without the shim, $CONTROL_SECONDS s"
run_stress control $CONTROL_SECONDS "$S/control.out" "$S/control.err" env LD_PRELOAD=
if [ $rc = 1 ] && grep -q 'leaked fd' "$S/control.err"; then
	note PASS control "without the shim the checker caught leaks: $(grep -c 'leaked fd' "$S/control.err") reported"
else
	note FAIL control "without the shim the checker caught no leak (status $rc): the stress proves nothing"
fi

# --- plain ---

echo "stress: under the shim, $SECONDS_PLAIN s"
run_stress plain "$SECONDS_PLAIN" "$S/plain.out" "$S/plain.err" env LD_PRELOAD="$B/libnoleak.so"
sed 's/^/  /' "$S/plain.out"
judge plain "$SECONDS_PLAIN" "$S/plain.out" "$S/plain.err"

# --- the posix_spawn races ---

for mode in setfd cloexec; do
	echo "stress: posix_spawn race $mode, $RACE_ROUNDS rounds, without and with the shim"
	out=$(TMPDIR="$S" env LD_PRELOAD= "$S/spawn_race" $mode "$RACE_ROUNDS" 2>&1)
	rc_off=$?
	# With a log: the sweep walks every fd, as a logging deployment does.
	out_on=$(TMPDIR="$S" env LD_PRELOAD="$B/libnoleak.so" NOLEAK_MODE=enforce \
		NOLEAK_LOG="$S/spawn-$mode.log" \
		timeout -s KILL $((MARGIN * 10)) "$S/spawn_race" $mode "$RACE_ROUNDS" 2>&1)
	rc_on=$?
	if [ $rc_off != 0 ]; then
		note FAIL "spawn-$mode" "without the shim: $out (status $rc_off): the check proves nothing"
	elif [ $rc_on != 0 ]; then
		note FAIL "spawn-$mode" "under the shim: $out_on (status $rc_on)"
	else
		note PASS "spawn-$mode" "as without the shim: $out_on"
	fi
done

# --- the log's number taken over while the shim writes through it ---

# Both ways of the fixture: rounds of takeovers of the number found, and
# the spin at the numbers where the shim places a fresh fd.
for mode in rounds spin; do
	echo "stress: log fd race ($mode), $SECONDS_PLAIN s"
	rm -f "$S/race.log" "$S/race.own"
	out=$(env LD_PRELOAD="$B/libnoleak.so" NOLEAK_MODE=audit NOLEAK_LOG="$S/race.log" \
		timeout -s KILL $((SECONDS_PLAIN + MARGIN)) \
		"$S/log_race" "$SECONDS_PLAIN" "$S/race.log" "$S/race.own" \
		$([ $mode = spin ] && echo spin) 2>&1)
	rc=$?
	lines=$(grep -c '"sock_policy"' "$S/race.log" 2>/dev/null)
	case $rc in
	0) if [ "${lines:-0}" -gt 1 ]; then
		note PASS "log-race-$mode" "$out, $lines log lines, none in the program's file"
	   else
		note FAIL "log-race-$mode" "the log stopped: $out, ${lines:-0} lines"
	   fi ;;
	137) note FAIL "log-race-$mode" "no end after $((SECONDS_PLAIN + MARGIN)) s: deadlock" ;;
	*) note FAIL "log-race-$mode" "$out (status $rc): a log line in the program's file (see $S/race.own)" ;;
	esac
done

# --- a handler leaving the log's write with siglongjmp ---

echo "stress: handlers leaving with siglongjmp while the log is closed, $SECONDS_PLAIN s"
out=$(env LD_PRELOAD="$B/libnoleak.so" NOLEAK_MODE=audit NOLEAK_LOG="$S/longjmp.log" \
	timeout -s KILL $((SECONDS_PLAIN + MARGIN)) "$S/log_longjmp" "$SECONDS_PLAIN" 2>&1)
case $? in
0) note PASS log-longjmp "$out, no hold left behind" ;;
137) note FAIL log-longjmp "no end after $((SECONDS_PLAIN + MARGIN)) s: a close waits for a hold left behind" ;;
*) note FAIL log-longjmp "$out" ;;
esac

# --- helgrind ---

if ! command -v valgrind >/dev/null 2>&1; then
	note FAIL helgrind "valgrind is not installed (apt-get install valgrind)"
else
	echo "stress: under helgrind, $SECONDS_HG s"
	# Helgrind makes everything slower: more margin.
	MARGIN=$((MARGIN * 3))
	run_stress helgrind "$SECONDS_HG" "$S/helgrind.out" "$S/helgrind.log" \
		env LD_PRELOAD="$S/libnoleak-O0.so" valgrind --tool=helgrind \
		--trace-children=no --fullpath-after= --error-limit=no
	sed 's/^/  /' "$S/helgrind.out"
	judge helgrind "$SECONDS_HG" "$S/helgrind.out" "$S/helgrind.log"
	awk -v root="$ROOT" -f tests/stress/helgrind.awk "$S/helgrind.log" \
		>"$S/helgrind.summary"
	sed '$d; s/^/  /' "$S/helgrind.summary"
	n=$(sed -n 's/^libnoleak_errors=//p' "$S/helgrind.summary")
	if [ "${n:-x}" = 0 ]; then
		note PASS helgrind-libnoleak "no race, lock-order or pthread error involving libnoleak"
	else
		note FAIL helgrind-libnoleak "${n:-?} errors involving libnoleak (see $S/helgrind.log)"
	fi
fi

echo
echo "stress summary:"
printf '%s' "$summary"
if [ $failed -gt 0 ]; then
	echo "stress: FAIL ($failed failed)"
	exit 1
fi
echo "stress: PASS"
exit 0
