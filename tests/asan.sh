#!/bin/sh
# Sanitizers (`make check-asan`).
#
# 1. The unit tests, built with AddressSanitizer and UndefinedBehavior-
#    Sanitizer from the same sources as the Makefile's unit-tests rule
#    (tests/unit/*.c, policy/*.c and every shim source but the interposers),
#    into build/asan/unit-tests, and run.
# 2. A variant of the library built with UBSan, every check fatal
#    (build/ubsan/libnoleak.so, same sources and version script as
#    build/libnoleak.so; it links libubsan), and a subset of the
#    integration tests run against it: fd creation, the exec sweep,
#    spawn/system/popen, process groups, sockets, the read watchdog,
#    signals and fault injection.  A preload cannot carry ASan (its runtime
#    must come first), so the library gets UBSan only.
#
# The integration tests find the library as top("build/libnoleak.so"),
# top() being NOLEAK_TOP: build/asan-top/ mirrors the source tree with
# symlinks, its build/ entry by entry, except build/libnoleak.so, which is
# the UBSan variant.
#
# Any sanitizer report fails the run: reports go to files
# (log_path=build/asan/reports/...), which must stay empty, and test output
# is searched for "runtime error" and "Sanitizer" too.
#
# SMOKE=1 (CI): a smaller integration subset, the whole in under 2 minutes.
set -u

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
B=$ROOT/build
A=$B/asan
U=$B/ubsan
T=$B/asan-top
REPORTS=$A/reports
CC=${CC:-gcc}
BASE="-std=gnu11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -Wall -Wextra -Werror -O2 -g -fno-omit-frame-pointer -iquote . -iquote shim"
UBSAN="-fsanitize=undefined -fno-sanitize-recover=undefined"

# Integration suites run against the UBSan library (Criterion --filter
# patterns): fd creation, exec sweep, spawn/system/popen, deliberate fds,
# the log, configuration, process groups, sockets, the watchdog, signals,
# fault injection.  About 30 s on two cores.
IT_SUITES="fd_cloexec_at_creation fd_exec_sweep fd_deliberate fd_spawn_paths \
fd_audit_log foundation_bad_config foundation_log_safety pgroup_kill_rules \
pgroup_wait_status pgroup_orphans sock_options sock_signals watch_sock \
watch_signals fault_emfile fault_signals fault_seccomp"
SMOKE_SUITES="fd_cloexec_at_creation fd_exec_sweep fd_spawn_paths \
foundation_log_safety pgroup_kill_rules sock_options watch_sock fault_emfile"
[ "${SMOKE:-0}" = 1 ] && IT_SUITES=$SMOKE_SUITES

failed=0
fail() {
	echo "FAIL $*"
	failed=$((failed + 1))
}
pass() {
	echo "PASS $*"
}
die() {
	echo "asan: $*" >&2
	exit 2
}

# Sanitizer reports found in the report directory $1 (printed); 0 if none.
reports_in() {
	n=0
	for f in "$1"/*; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		echo "--- $f"
		head -40 "$f"
	done
	return $n
}

# The failing tests and their assertions in Criterion's log $1, so that a
# failure in CI names itself without the log.
failed_tests() {
	grep -E '^\[(FAIL|----)\]' "$1" | grep -v PASS | head -40
}

rm -rf "$A" "$U" "$T"
mkdir -p "$A" "$U" "$REPORTS/unit" "$REPORTS/it" "$REPORTS/sanity" ||
	die "cannot create $A"

# --- 0. the detector itself: a known bug must leave a report ---

cat >"$A/sanity.c" <<'EOF'
#include <limits.h>
int main(void)
{
	volatile int big = INT_MAX;
	volatile int sum = big + 1;   /* signed overflow */
	return sum == 0;
}
EOF
$CC $BASE $UBSAN -Wno-error -o "$A/sanity" "$A/sanity.c" || die "cannot build the sanity check"
UBSAN_OPTIONS="halt_on_error=1:log_path=$REPORTS/sanity/ubsan" "$A/sanity" >/dev/null 2>&1
if reports_in "$REPORTS/sanity" >/dev/null; then
	fail "sanity: UBSan reports do not reach $REPORTS: the checks below prove nothing"
else
	pass "sanity: a known overflow is reported"
fi

# --- 1. unit tests with ASan and UBSan ---

# The same sources as the Makefile's unit-tests (TOOL_UNIT_OBJ: the pure
# parts of the tools that have unit tests).
UNIT_SRC="$(ls tests/unit/*.c policy/*.c shim/*.c shim/*/*.c | grep -v '^shim/interpose/') tools/noleak/ldpreload.c"
echo "asan: building $A/unit-tests"
# shellcheck disable=SC2086
$CC $BASE -fsanitize=address $UBSAN -o "$A/unit-tests" $UNIT_SRC \
	-lcriterion -ldl -lpthread || die "cannot build the unit tests"
# Criterion's own runner leaks one 48-byte block now and then (allocated
# inside libcriterion, never by the code under test): suppressed by name.
printf 'leak:libcriterion.so\n' >"$A/lsan.supp"
ASAN_OPTIONS="detect_leaks=1:log_path=$REPORTS/unit/asan" \
LSAN_OPTIONS="suppressions=$A/lsan.supp:print_suppressions=0" \
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$REPORTS/unit/ubsan" \
	"$A/unit-tests" --jobs 2 >"$A/unit.log" 2>&1
rc=$?
tail -1 "$A/unit.log"
if [ $rc -ne 0 ]; then
	failed_tests "$A/unit.log"
	fail "unit tests under ASan+UBSan: status $rc (see $A/unit.log)"
elif ! reports_in "$REPORTS/unit" || grep -qE 'runtime error|Sanitizer' "$A/unit.log"; then
	fail "unit tests under ASan+UBSan: sanitizer report (see $REPORTS/unit, $A/unit.log)"
else
	pass "unit tests under ASan+UBSan"
fi

# --- 2. integration tests against the UBSan library ---

echo "asan: building $U/libnoleak.so"
# shellcheck disable=SC2086
$CC $BASE $UBSAN -shared -o "$U/libnoleak.so" shim/*.c shim/*/*.c policy/*.c \
	-Wl,--version-script=build/libnoleak.map -ldl || die "cannot build the UBSan library"

echo "asan: building the integration tests and fixtures"
fixtures=""
for f in tests/fixtures/*.c tests/fixtures/*/*.c; do
	[ -f "$f" ] || continue
	n=${f##*/}
	fixtures="$fixtures build/fixtures/${n%.c}"
done
# shellcheck disable=SC2086
make -s build/it-tests $fixtures || die "cannot build the integration tests"

# The mirror tree: the source tree's entries, then build/ entry by entry,
# with the UBSan library in place of the real one.
mkdir -p "$T/build"
for e in "$ROOT"/* "$ROOT"/.[!.]*; do
	[ -e "$e" ] || continue
	[ "${e##*/}" = build ] && continue
	ln -s "$e" "$T/${e##*/}"
done
for e in "$B"/*; do
	case ${e##*/} in
	asan-top | libnoleak.so) continue ;;
	esac
	ln -s "$e" "$T/build/${e##*/}"
done
ln -s "$U/libnoleak.so" "$T/build/libnoleak.so"

# The tree really hands out the UBSan library.
if LD_PRELOAD="$T/build/libnoleak.so" cat /proc/self/maps | grep -q libubsan; then
	pass "build/asan-top/build/libnoleak.so is the UBSan library"
else
	fail "build/asan-top/build/libnoleak.so does not load libubsan"
fi

filter="@($(echo $IT_SUITES | tr ' ' '|'))/*"
echo "asan: integration suites: $IT_SUITES"
start=$(date +%s)
NOLEAK_TOP=$T \
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$REPORTS/it/ubsan" \
	"$B/it-tests" --filter "$filter" --jobs 2 >"$A/it.log" 2>&1
rc=$?
tail -1 "$A/it.log"
echo "asan: integration subset took $(($(date +%s) - start)) s"
if [ $rc -ne 0 ]; then
	failed_tests "$A/it.log"
	fail "integration tests against the UBSan library: status $rc (see $A/it.log)"
elif ! reports_in "$REPORTS/it" || grep -qE 'runtime error|Sanitizer' "$A/it.log"; then
	fail "integration tests against the UBSan library: sanitizer report (see $REPORTS/it, $A/it.log)"
else
	pass "integration tests against the UBSan library"
fi

if [ $failed -gt 0 ]; then
	echo "check-asan: FAIL ($failed failed)"
	exit 1
fi
echo "check-asan: PASS"
exit 0
