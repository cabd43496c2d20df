#!/usr/bin/env bash
# log = journal against a real systemd-journald: a journald of the test's
# own, in a private mount namespace whose /run/systemd, /run/log and
# /var/log/journal are empty tmpfs mounts, so nothing reaches the host's
# journal (or its socket).  A program under the shim (audit) leaks a pipe
# through an exec; the entry must be found with
# `journalctl NOLEAK_EVENT=fd_leak -o json`, carry its fields, and
# `noleak-report --journal` must summarise it.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$TOP/build}
JOURNALD=/lib/systemd/systemd-journald

fail() { echo "journald: $*" >&2; exit 1; }
[ -x "$JOURNALD" ] || fail "$JOURNALD missing (package systemd)"
[ -e "$B/libnoleak.so" ] && [ -x "$B/noleak-report" ] || fail "build first"

if [ "${1:-}" != --inside ]; then
	out=$(unshare -m "$0" --inside 2>&1)
	rc=$?
	printf '%s\n' "$out"
	exit $rc
fi

mount --make-rprivate / || fail "no private mount namespace"
for d in /run/systemd /run/log /var/log/journal; do
	mkdir -p "$d" && mount -t tmpfs tmpfs "$d" || fail "cannot mount $d"
done
mkdir -p /run/systemd/journal
"$JOURNALD" >/dev/null 2>&1 &
jd=$!
trap 'kill $jd 2>/dev/null; wait $jd 2>/dev/null' EXIT
for _ in $(seq 100); do
	[ -S /run/systemd/journal/socket ] && break
	sleep 0.05
done
[ -S /run/systemd/journal/socket ] || fail "journald made no socket"

NOLEAK_MODE=audit NOLEAK_LOG=journal LD_PRELOAD="$B/libnoleak.so" \
	python3 -c 'import os; r, w = os.pipe2(0); os.execv("/bin/true", ["true"])' ||
	fail "the program failed"

json=""
for _ in $(seq 50); do
	json=$(journalctl --no-pager -o json NOLEAK_EVENT=fd_leak 2>/dev/null)
	[ -n "$json" ] && break
	sleep 0.1
done
[ -n "$json" ] || fail "journalctl NOLEAK_EVENT=fd_leak found nothing"
for want in '"SYSLOG_IDENTIFIER":"noleak"' '"NOLEAK_KIND":"pipe"' \
	'"NOLEAK_ACTION":"would_close"' '"NOLEAK_TARGET":"/bin/true"' \
	'"NOLEAK_CREATED_BY":"pipe2"' '"MESSAGE":"noleak: fd_leak in '; do
	case $json in
	*"$want"*) ;;
	*) fail "no $want in: $json" ;;
	esac
done
# Exit status 1: leaks found, as here.
report=$("$B/noleak-report" --journal 2>&1)
[ $? -eq 1 ] || fail "noleak-report --journal: $report"
case $report in
*"(fd_leak)"*"/bin/true  execv  pipe  pipe2"*) ;;
*) fail "noleak-report --journal shows no leak: $report" ;;
esac
echo "journald: the entry is in the journal with its fields; noleak-report --journal reads it"
