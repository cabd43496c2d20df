#!/bin/bash
# `make compat`: real programs nobody here wrote, each run without the shim
# and under it in enforce mode, with the results compared.
#
#   COMPAT_ONLY=GLOB   run only the checks whose name matches (e.g. 'bash-*')
#   COMPAT_TIMEOUT=S   limit for one run of one check (default 120)
#   COMPAT_MODE=audit  the run under the shim in audit mode, expecting
#                      exactly the results without it (lib.sh)
#
# Each family of programs has its own script here (python.sh, make.sh, ...)
# defining a function checks_<family> made of `check` lines (see lib.sh).
# Missing programs are installed first by deps.sh; a program still missing
# makes its check fail, never skip.  Only loopback is used.
#
# The last line is "N passed, N failed"; the exit status is 1 when any
# check failed.
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
COMPAT=$TOP/tests/compat
SELF=$COMPAT/run.sh
B=$TOP/build
LIB=$B/libnoleak.so
H=$B/compat               # the helper programs, built below
WORK=$H/work              # one directory per check, kept for inspection
PROBE=$H/probe
FDLIST=$H/fdlist
STRESS=$H/stress
PY=/usr/bin/python3       # Debian's, whose test suite the python checks run
FAMILIES="python make shell coreutils daemons apt tools haproxy servers apache services runtimes loggers stress pgroup spawners"

export TOP B LIB H PROBE FDLIST STRESS PY

. "$COMPAT/lib.sh"
for f in $FAMILIES; do
	. "$COMPAT/$f.sh"
done

# run.sh --one FUNC ARGS: one run of one check, in the environment check()
# made for it.
if [[ ${1:-} == --one ]]; then
	shift
	"$@"
	rc=$?
	((rc == 0 && step_failed)) && rc=1
	exit $rc
fi

# Debian's programs, whatever the caller's PATH puts first (pyenv, ...).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8 TZ=UTC
# Built-in defaults only: neither the caller's NOLEAK_* variables nor
# /etc/noleak.conf apply.
for v in $(env | sed -n 's/^\(NOLEAK_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done
unset LD_PRELOAD
export NOLEAK_CONFIG=$H/empty.conf
# The make that runs this suite must not hand its jobserver to the checks.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

# Only fds 0-2 cross into the checks, whatever the caller left open.
for fd in $(ls /proc/$$/fd); do
	((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
done

build_helpers() {
	mkdir -p "$H" || return 1
	: >"$H/empty.conf"
	chmod 0644 "$H/empty.conf"
	local src name
	for src in "$COMPAT"/*.c; do
		name=${src##*/}
		name=${name%.c}
		gcc -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 \
			-o "$H/$name" "$src" -lpthread || return 1
	done
}

[[ -f $LIB ]] || { echo "compat: $LIB is missing (run: make compat)" >&2; exit 2; }
# What deps.sh could not install makes its checks fail; they are not skipped.
"$COMPAT/deps.sh" || echo "compat: could not install what the suite needs; checks will fail" >&2
build_helpers || { echo "compat: cannot build the helpers" >&2; exit 2; }
rm -rf "$WORK"
mkdir -p "$WORK"

start=$SECONDS
for f in $FAMILIES; do
	"checks_$f"
done

say ""
say "compat: $((SECONDS - start))s; failed:${failed_names:- none}"
echo "$passed passed, $failed failed"
((failed == 0))
