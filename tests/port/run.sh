#!/usr/bin/env bash
# The portable smoke suite of one target's build (make TARGET=... port-check):
# tests/port/smoke.c without the shim, with it preloaded, and started by the
# target's own launcher; for i386 also the -D_TIME_BITS=64 build.  Foreign
# programs run under qemu-user (QEMU_LD_PREFIX: the target's libc from
# Debian's cross packages); the launcher's run needs a binfmt_misc entry
# for the architecture, and is skipped without one.
#   usage: tests/port/run.sh BUILD_DIR TARGET
set -uo pipefail
B=$1 T=$2
fail=0
. "$(dirname "$0")/target.sh"

run() {  # NAME EXPECT_SHIM ENV... -- COMMAND...
	local name=$1; shift
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
	echo "== $T: $name"
	# Without make's MAKEFLAGS: its --jobserver-auth=R,W names fds the
	# shim would keep for the children (the smoke program's own pipes).
	if env -u MAKEFLAGS -u MFLAGS "${envs[@]}" NOLEAK_SOCK_TIMEOUT=1 \
		NOLEAK_MODE=enforce "$@"; then :; else
		echo "FAILED: $T $name"; fail=1; fi
}

progs=("$B/port-smoke")
[ -x "$B/port-smoke-time64" ] && progs+=("$B/port-smoke-time64")
# Each program three times: its cases, exec-locks (record locks across an
# exec with no child: it runs under qemu-i386 too), and seccomp-read (a
# read under a killing seccomp filter, with the read watchdog on).
for p in "${progs[@]}"; do for arg in "" exec-locks seccomp-read; do
	n=$(basename "$p")${arg:+ $arg}
	warn=()
	[ "$arg" = seccomp-read ] && warn=(NOLEAK_READ_WARN=30)
	run "$n without the shim" -- "${RUN[@]}" "$p" $arg
	run "$n with LD_PRELOAD" "LD_PRELOAD=$PWD/$B/libnoleak.so" "${warn[@]}" -- "${RUN[@]}" "$p" $arg
	if [ -z "$binfmt" ] && [ ${#RUN[@]} -eq 0 ]; then
		run "$n by the launcher" -- "$B/noleak" -- "$p" $arg
	elif [ -n "$binfmt" ] && [ -e "$binfmt" ]; then
		run "$n by the launcher" -- "$B/noleak" -- "$p" $arg
	else
		echo "== $T: $n by the launcher: skipped (no binfmt_misc entry for qemu)"
	fi
done; done
# Large files on a 32-bit target: the -D_FILE_OFFSET_BITS=64 build's opens
# (open64, mkstemp64) reach the kernel with O_LARGEFILE, as glibc's do, or
# a file past 2 GiB fails with EOVERFLOW.  qemu-user shows the flags
# (QEMU_STRACE); its 64-bit host kernel would force the flag, so only the
# trace can tell.
if [ -x "$B/port-smoke-time64" ] && [ "${RUN[0]:-}" = qemu-i386-static ]; then
	echo "== $T: O_LARGEFILE on the *64 opens, with the shim"
	opens=$(env -u MAKEFLAGS QEMU_STRACE=1 NOLEAK_MODE=enforce \
		LD_PRELOAD="$PWD/$B/libnoleak.so" "${RUN[@]}" \
		"$B/port-smoke-time64" exec-locks 2>&1 >/dev/null |
		grep 'openat(AT_FDCWD,"/tmp/noleak-port-lock')
	if [ -z "$opens" ] || echo "$opens" | grep -qv O_LARGEFILE; then
		echo "FAILED: $T O_LARGEFILE missing:"; echo "$opens"; fail=1
	fi
fi
# The launcher (and the report tool, where built) run at all on the target.
"${RUN[@]}" "$B/noleak" --help >/dev/null || { echo "FAILED: $T noleak --help"; fail=1; }
if [ -x "$B/noleak-report" ]; then
	echo '' | "${RUN[@]}" "$B/noleak-report" >/dev/null 2>&1
	[ $? -le 1 ] || { echo "FAILED: $T noleak-report"; fail=1; }
fi
[ $fail = 0 ] && echo "== $T: port smoke suite passed"
exit $fail
