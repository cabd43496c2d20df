#!/bin/sh
# make demo: each bundled incident three ways — without the shim, under
# `noleak --audit` (the log says what is wrong), and under enforce (fixed).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
b="$top/build"
logdir=$(mktemp -d /tmp/noleak-demo.XXXXXX)
trap 'rm -rf "$logdir"' EXIT

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
show_log() {
	if [ -x "$b/noleak-report" ]; then
		"$b/noleak-report" "$1" || true
	else
		sed 's/^/    /' "$1"
	fi
}

say "1. The pipe-EOF hang"
echo "An agent reads a command's output to EOF; the command leaves a background"
echo "job behind that inherited the pipe's write end."
say "   without the shim (the agent waits for the job):"
timeout 20 "$b/examples/pipe_eof_hang"
say "   noleak --audit (nothing changes; the log names the leaked fds):"
timeout 20 "$b/noleak" --audit --log "$logdir/audit.log" -- "$b/examples/pipe_eof_hang"
show_log "$logdir/audit.log"
say "   noleak (enforce: the pipe no longer reaches the shell):"
timeout 20 "$b/noleak" -- "$b/examples/pipe_eof_hang"
