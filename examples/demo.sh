#!/bin/sh
# make demo: the five bundled incidents, each run three ways: without the
# shim (the incident happens, bounded by a timeout), under `noleak --audit`
# (nothing changes; the log says what is wrong) and under `noleak` (enforce:
# fixed).  Ends with a summary; exits 1 when enforce did not fix one.
#
# Every process the demo starts carries DEMO_TAG=<unique> in its
# environment, so that whatever outlives a step (a stray sleep, a hung
# server) is found and killed, by the demo and at its exit.  Only 127.0.0.1
# is used, on ports the kernel picks.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
b="$top/build"
ex="$b/examples"
for f in "$b/noleak" "$b/libnoleak.so" "$ex/pipe_eof_hang" "$ex/killed_shell" \
	 "$ex/thread_race" "$ex/vanished_peer" "$ex/dead_stdin"; do
	[ -e "$f" ] || { echo "demo: $f is missing (run: make demo)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/noleak-demo.XXXXXX)
# DEMO_RUN_ID names the run (the tests set it to tell their run apart).
tag="noleak-demo-${DEMO_RUN_ID:-$$}"
summary=""
unfixed=0

# The demo shows the built-in defaults and what its own options change:
# neither the caller's NOLEAK_* variables or LD_PRELOAD nor
# /etc/noleak.conf apply.
for v in $(env | sed -n 's/^\(NOLEAK_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done
unset LD_PRELOAD
: >"$work/noleak.conf"
export NOLEAK_CONFIG="$work/noleak.conf"

# --- helpers --------------------------------------------------------------

if [ -t 1 ]; then bold=$(printf '\033[1m') plain=$(printf '\033[0m'); else bold='' plain=''; fi
title() { printf '\n%s=== %s ===%s\n' "$bold" "$*" "$plain"; }
step()  { printf '\n%s--- %s%s\n' "$bold" "$*" "$plain"; }
cmd()   { printf '    $ %s\n' "$*"; }
said()  { sed 's/^/    | /' "$1"; }
point() { printf '  => %s\n' "$*"; }

# Runs a command with the demo's tag, stdin from /dev/null.
tagged() { DEMO_TAG=$tag "$@" </dev/null; }

tagged_pids() {
	grep -lzx -F "DEMO_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
}

# Kills everything the demo started that is still alive.
stop_all() {
	pids=$(tagged_pids)
	# shellcheck disable=SC2086 # one pid per word
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	wait 2>/dev/null
	return 0
}
trap 'stop_all; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# Waits up to $3 seconds for a line matching $2 in file $1.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $(($3 * 20)) ] && return 1
		sleep 0.05
	done
}

port_in() { sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | head -n 1; }
has_event() { grep -q "\"event\":\"$2\"" "$1" 2>/dev/null; }

show_log() {
	n=$(grep -c . "$1" 2>/dev/null)
	step "what the audit log says: ${n:-0} event line(s)"
	if [ -x "$b/noleak-report" ]; then
		"$b/noleak-report" "$1" 2>&1 | head -n 40 | sed 's/^/    /'
	else
		sh "$top/examples/show_log.sh" "$1"
	fi
}

# The verdict of one incident for the summary: NUMBER NAME WITHOUT ENFORCE.
verdict() {
	summary="$summary$(printf '  %s. %-20s without the shim: %-13s under enforce: %s' "$1" "$2" "$3" "$4")
"
	[ "$4" = fixed ] || unfixed=$((unfixed + 1))
}

# Seconds from "after X s" in a file, as a whole number of tenths.
tenths() {
	sed -n 's/.*after \([0-9]*\)\.\([0-9]\) s.*/\1\2/p' "$1" | head -n 1
}

# A step's outcome for the summary, and why: named after the words the
# summary prints, so that each incident says only what it saw.
fails()        { without="fails"; point "$1"; }
did_not_fail() { without="did not fail"; point "$1"; }
fixed()        { enforce="fixed"; point "$1"; }
not_fixed()    { enforce="NOT fixed"; for why; do point "$why"; done; }

# Runs one step's command (the rest of the arguments) with the demo's tag,
# for at most $1 seconds, its output into file $2, and shows that output.
run_shown() {
	bound=$1 shown=$2
	shift 2
	tagged timeout "$bound" "$@" >"$shown" 2>&1
	said "$shown"
}

# What log $1 says of the blocked read: $2 when the read watchdog
# reported it.
point_read_blocked() {
	if has_event "$1" read_blocked; then
		point "read_blocked: $2"
	else
		point "no read_blocked event: the read watchdog did not report the blocked read"
	fi
}

# Starts a server (the rest of the arguments) in the background, writing
# to the transcript $out, and waits until it says $1; sets $port.  When it
# never does, shows what it said, stops everything and returns 1.
start_server() {
	ready=$1
	shift
	: >"$out"
	tagged "$@" >>"$out" 2>&1 &
	wait_for "$out" "$ready" 5 || { said "$out"; stop_all; return 1; }
	port=$(port_in "$out")
}

# Ends a server run: lets the server write its last lines, shows the
# transcript, stops everything and returns $1 (0: the client was answered).
end_server_run() {
	sleep 0.1
	said "$out"
	stop_all
	return "$1"
}

# --- 1. the pipe-EOF hang ---------------------------------------------------

incident_1() {
	title "1. The pipe-EOF hang"
	echo "An agent runs a shell command and reads its output until end-of-file."
	echo "The command starts a background job (a 3-second sleep).  The agent's pipe"
	echo "has no close-on-exec, so the job inherits its write end, and the agent"
	echo "sees end-of-file only when the job exits."

	step "without the shim"
	cmd "pipe_eof_hang"
	run_shown 10 "$work/1.out" "$ex/pipe_eof_hang"
	t=$(tenths "$work/1.out")
	if [ "${t:-999}" -ge 25 ]; then
		fails "the agent waited for a job that had nothing to say: the incident"
	else
		did_not_fail "the agent got end-of-file at once: the incident did not happen"
	fi
	stop_all

	step "noleak --audit (changes nothing, only logs)"
	cmd "noleak --audit --read-warn 1 --log audit.log -- pipe_eof_hang"
	run_shown 10 "$work/1a.out" "$b/noleak" --audit --read-warn 1 \
		--log "$work/1.log" -- "$ex/pipe_eof_hang"
	stop_all
	t=$(tenths "$work/1a.out")
	[ "${t:-0}" -ge 25 ] && point "audit changed nothing: the agent still waited for the job"
	show_log "$work/1.log"
	has_event "$work/1.log" fd_leak &&
		point "fd_leak: the exec of /bin/sh would not get the pipe's fds (action=would_close)"
	point_read_blocked "$work/1.log" \
		"while the agent waited, the watchdog named who holds the write end"

	step "noleak (enforce)"
	cmd "noleak -- pipe_eof_hang"
	run_shown 10 "$work/1e.out" "$b/noleak" -- "$ex/pipe_eof_hang"
	t=$(tenths "$work/1e.out")
	if [ "${t:-999}" -lt 10 ]; then
		fixed "end-of-file as soon as the command finished: the job never got the pipe"
	else
		not_fixed "the agent still waited for the job"
	fi
	stop_all
	verdict 1 "pipe-EOF hang" "$without" "$enforce"
}

# --- 2. the killed shell ----------------------------------------------------

# After the agent exited: who is left, and can the port be bound again?
# Sets $left (the number of survivors) and $rebound (yes or no).
killed_shell_aftermath() {
	sleep 0.3
	survivors=$(tagged_pids)
	left=0
	for pid in $survivors; do
		left=$((left + 1))
		holds=0
		for fd in /proc/"$pid"/fd/*; do
			case $(readlink "$fd" 2>/dev/null) in
			socket:*) holds=$((holds + 1)) ;;
			esac
		done
		printf '    survivor: pid %s, %s, holding %s socket(s)\n' "$pid" \
			"$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed 's/ $//')" "$holds"
	done
	[ "$left" -eq 0 ] && echo "    no process of the job is left"
	cmd "killed_shell rebind $1"
	if "$ex/killed_shell" rebind "$1" >"$work/2r.out" 2>&1; then
		rebound=yes
	else
		rebound=no
	fi
	said "$work/2r.out"
	stop_all
}

incident_2() {
	title "2. The killed shell that leaves its grandchild behind"
	echo "An agent listens on a port, becomes a daemon (setsid), runs"
	echo "sh -c 'sleep 30 & sleep 30', and kills the shell when it takes too long."
	echo "Then it exits, as for a restart.  Are the sleeps gone, and is the port free?"

	step "without the shim"
	cmd "killed_shell"
	run_shown 10 "$work/2.out" "$ex/killed_shell"
	killed_shell_aftermath "$(port_in "$work/2.out")"
	if [ "$left" -gt 0 ] || [ "$rebound" = no ]; then
		fails "the sleeps outlived the shell and keep the port: the agent cannot restart"
	else
		did_not_fail "the job died with its shell: the incident did not happen"
	fi

	step "noleak --audit (changes nothing, only logs)"
	cmd "noleak --audit --log audit.log -- killed_shell"
	run_shown 10 "$work/2a.out" "$b/noleak" --audit --log "$work/2.log" \
		-- "$ex/killed_shell"
	killed_shell_aftermath "$(port_in "$work/2a.out")"
	[ "$left" -gt 0 ] && point "audit changed nothing: the sleeps survive"
	show_log "$work/2.log"
	has_event "$work/2.log" fd_leak &&
		point "fd_leak: the listening socket would not reach the shell (action=would_close)"
	has_event "$work/2.log" pgroup &&
		point "pgroup: the shell would get a process group of its own (action=would_regroup)"

	step "noleak (enforce)"
	cmd "noleak -- killed_shell"
	run_shown 10 "$work/2e.out" "$b/noleak" -- "$ex/killed_shell"
	killed_shell_aftermath "$(port_in "$work/2e.out")"
	if [ "$left" -eq 0 ] && [ "$rebound" = yes ]; then
		fixed "killing the shell killed its process group, and the port is free"
	else
		not_fixed
		[ "$left" -gt 0 ] && point "part of the job outlived the shell"
		[ "$rebound" = no ] && point "the port is still held"
	fi
	verdict 2 "killed shell" "$without" "$enforce"
}

# --- 3. the thread race -----------------------------------------------------

leaky_helpers() { sed -n 's/^server: \([0-9]*\) of .*/\1/p' "$1" | head -n 1; }

incident_3() {
	title "3. The thread race"
	echo "A server sets close-on-exec on every pipe right after pipe(), but one"
	echo "thread makes pipes while another forks and execs 300 helpers; each"
	echo "helper counts the pipes it was handed."

	step "without the shim"
	cmd "thread_race 300"
	run_shown 120 "$work/3.out" "$ex/thread_race" 300
	n=$(leaky_helpers "$work/3.out")
	if [ "${n:-0}" -gt 0 ]; then
		fails "forks that landed between pipe() and fcntl() handed the pipe on: the incident"
	else
		did_not_fail "no fork landed in the window this time: the race was not hit"
	fi
	stop_all

	step "noleak --audit (changes nothing, only logs)"
	cmd "noleak --audit --log audit.log -- thread_race 300"
	run_shown 120 "$work/3a.out" "$b/noleak" --audit --log "$work/3.log" \
		-- "$ex/thread_race" 300
	stop_all
	n=$(leaky_helpers "$work/3a.out")
	[ "${n:-0}" -gt 0 ] && point "audit changed nothing: helpers still got pipes"
	show_log "$work/3.log" 2
	has_event "$work/3.log" fd_leak &&
		point "fd_leak: pipes an exec would not pass on under enforce, and where they were made (offset)"
	has_event "$work/3.log" fork_inherit &&
		point "fork_inherit: fork children of the two-thread server that hold its pipes"

	step "noleak (enforce)"
	cmd "noleak -- thread_race 300"
	run_shown 120 "$work/3e.out" "$b/noleak" -- "$ex/thread_race" 300
	n=$(leaky_helpers "$work/3e.out")
	if [ "${n:-1}" -eq 0 ]; then
		fixed "pipe() became pipe2(O_CLOEXEC): there is no window left to land in"
	else
		not_fixed "helpers still got pipes"
	fi
	stop_all
	verdict 3 "thread race" "$without" "$enforce"
}

# --- 4. the vanished peer ---------------------------------------------------

# Starts the server (the command in "$@"), a client that sends half a
# request and goes silent, then a whole request that waits $wait seconds.
# All three write, in order, to one transcript.  Returns 0 when the second
# client was served.
vanished_peer_run() {
	out="$work/4$run.out"
	start_server "listening on" "$@" || return 1
	tagged "$ex/vanished_peer" silent "$port" >>"$out" 2>&1 &
	wait_for "$out" "now silent" 5
	tagged "$ex/vanished_peer" client "$port" "$wait" >>"$out" 2>&1
	end_server_run $?
}

incident_4() {
	title "4. The vanished peer"
	echo "A server handles one client at a time and never sets a timeout.  One"
	echo "client sends half a request and goes silent without closing (a dead"
	echo "VM).  Does the next client ever get an answer?"

	step "without the shim"
	cmd "vanished_peer server   (plus: silent client, next client waiting 4 s)"
	run="" wait=4
	if vanished_peer_run "$ex/vanished_peer" server; then
		did_not_fail "the next client was served: the incident did not happen"
	else
		fails "the server waits on the silent client forever; nobody else is served"
	fi

	step "noleak --audit (changes nothing, only logs)"
	cmd "noleak --audit --sock-timeout 2 --read-warn 1 --log audit.log -- vanished_peer server"
	run="a" wait=3
	vanished_peer_run "$b/noleak" --audit --sock-timeout 2 --read-warn 1 \
		--log "$work/4.log" -- "$ex/vanished_peer" server ||
		point "audit changed nothing: the next client was not served"
	show_log "$work/4.log"
	has_event "$work/4.log" sock_policy &&
		point "sock_policy: the timeout and keepalive enforce would give each connection"
	point_read_blocked "$work/4.log" \
		"the server is stuck reading a socket; tcp.* says where it leads"

	step "noleak (enforce) with a 2-second socket timeout (NOLEAK_SOCK_TIMEOUT=2)"
	cmd "noleak --sock-timeout 2 -- vanished_peer server"
	run="e" wait=5
	if vanished_peer_run "$b/noleak" --sock-timeout 2 -- "$ex/vanished_peer" server; then
		fixed "the read on the silent client failed after 2 s; the server went on serving"
	else
		not_fixed "the next client was still not served"
	fi
	verdict 4 "vanished peer" "$without" "$enforce"
}

# --- 5. the dead terminal ---------------------------------------------------

# Starts the server (the command in "$@") with stdin on a terminal nobody
# is at, then asks it for something, waiting $wait seconds.  Returns 0 when
# it answered.
dead_stdin_run() {
	out="$work/5$run.out"
	start_server "reading console" "$ex/dead_stdin" terminal "$@" || return 1
	tagged "$ex/dead_stdin" ask "$port" "$wait" >>"$out" 2>&1
	end_server_run $?
}

incident_5() {
	title "5. The dead terminal"
	echo "A server reads console commands from stdin until end-of-file, then"
	echo "serves.  It was started with 'setsid server &' from a terminal session:"
	echo "stdin is a terminal that is not its own any more, and nobody is at it."

	step "without the shim"
	cmd "dead_stdin terminal dead_stdin serve   (then a client waits 2 s)"
	run="" wait=2
	if dead_stdin_run "$ex/dead_stdin" serve; then
		did_not_fail "the server answered: the incident did not happen"
	else
		fails "the server waits at a console nobody will ever type on; it never serves"
	fi

	step "noleak --audit (changes nothing, only logs)"
	cmd "dead_stdin terminal noleak --audit --set stdin=detach --read-warn 1 --log audit.log -- dead_stdin serve"
	run="a" wait=2
	dead_stdin_run "$b/noleak" --audit --set stdin=detach --read-warn 1 \
		--log "$work/5.log" -- "$ex/dead_stdin" serve ||
		point "audit changed nothing: the server never answered"
	show_log "$work/5.log"
	has_event "$work/5.log" stdin_detached &&
		point "stdin_detached: enforce would make stdin /dev/null (action=would_detach)"
	point_read_blocked "$work/5.log" "the server is stuck reading its terminal"

	step "noleak (enforce) with stdin=detach (NOLEAK_STDIN=detach)"
	cmd "dead_stdin terminal noleak --set stdin=detach -- dead_stdin serve"
	run="e" wait=3
	if dead_stdin_run "$b/noleak" --set stdin=detach -- "$ex/dead_stdin" serve; then
		fixed "stdin became /dev/null: the console read end-of-file and the server serves"
	else
		not_fixed "the server still waits at its console"
	fi
	verdict 5 "dead terminal" "$without" "$enforce"
}

# --- the show ---------------------------------------------------------------

echo "libnoleak demo: five incidents, each without the shim, under audit and"
echo "under enforce.  Program output is shown after '|'."
incident_1
incident_2
incident_3
incident_4
incident_5

title "Summary"
printf '%s' "$summary"
[ "$unfixed" -eq 0 ] || exit 1
exit 0
