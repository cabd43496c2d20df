# Process trees with real process managers: supervisord stopping a program
# (its children call setpgrp() themselves), PostgreSQL's pg_ctl stop (the
# postmaster's backends call setsid() and never exec), and CPython's own
# multiprocessing tests (regrtest's workers are session leaders); and
# programs a parent made session leaders (Python's start_new_session,
# dumb-init, tini), stopped through their group.  Kills must reach exactly what
# they reach without the shim.

checks_pgroup() {
	check supervisord-stop python3.11 supervisord_stop false
	check supervisord-stopasgroup python3.11 supervisord_stop true
	check postgres-pg-ctl-stop postgres pg_ctl_stop
	check setsid-in-a-service dash setsid_status
	check killpg-new-session python3.11,dash killpg_new_session
	check timeout-around-the-launcher python3.11,dash timeout_launcher
	check dumb-init-stop dumb-init,dash dumb_init_stop
	check tini-stop tini,dash tini_stop
	# Each module takes minutes (more on a loaded machine): a module may
	# run 15 minutes in its worker, a whole side 40.  Too long for every
	# CI run: COMPAT_LONG=1 make compat runs it.
	if [[ -n ${COMPAT_LONG:-} ]]; then
		REGRTEST_TIMEOUT=900 REGRTEST_SIDE_TIMEOUT=2400 \
			check_regrtest python-multiprocessing-regrtest \
			test_multiprocessing_fork test_multiprocessing_forkserver \
			test_multiprocessing_spawn
	fi
}

# alive PIDFILE: whether the process named there runs (not a zombie).
alive() {
	local pid state
	pid=$(cat "$1" 2>/dev/null) || return 1
	state=$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
	[[ $state != Z && $state != X ]]
}

# supervisord_stop STOPASGROUP: supervisord as a daemon (it forks and
# calls setsid() itself: the shim regroups its children), with its config,
# log and control socket here.  Its
# program is a shell that backgrounds a grandchild and waits;
# `supervisorctl stop` sends SIGTERM to the shell (to its group with
# stopasgroup=true).  Prints whether the grandchild outlived the stop.
supervisord_stop() {
	local conf=$PWD/supervisord.conf
	cat >"$conf" <<-EOF
	[unix_http_server]
	file=$PWD/sv.sock
	[supervisord]
	nodaemon=false
	logfile=$PWD/supervisord.log
	pidfile=$PWD/supervisord.pid
	childlogdir=$PWD
	[rpcinterface:supervisor]
	supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
	[supervisorctl]
	serverurl=unix://$PWD/sv.sock
	[program:job]
	command=/bin/sh -c '"$PROBE" "$PROOF"; sleep 60 & echo \$! >$PWD/grandchild.pid; wait'
	startsecs=1
	stopwaitsecs=10
	stopasgroup=$1
	EOF
	supervisord -c "$conf" </dev/null >supervisord.out 2>&1
	expect "supervisord starts" wait_for 30 alive supervisord.pid
	expect "supervisord runs the program" wait_for 30 alive grandchild.pid
	wait_for 30 sh -c 'supervisorctl -c "$1" status job | grep -q RUNNING' - "$conf"
	supervisorctl -c "$conf" stop job
	sleep 0.5
	if alive grandchild.pid; then
		echo "grandchild after stop: alive"
	else
		echo "grandchild after stop: gone"
	fi
	kill -KILL "$(cat grandchild.pid)" 2>/dev/null
	supervisorctl -c "$conf" shutdown >/dev/null 2>&1 || kill "$(cat supervisord.pid)"
	expect "supervisord exits" wait_for 30 eval '! alive supervisord.pid'
}

# setsid_status: util-linux setsid(1) run by a service of its own making
# (fork, setsid(): the shim moves its children into groups of their own).
# setsid(1) forks only when it leads its group: the command's status and
# the wait for it must be its caller's, as without the shim.
setsid_status() {
	"$PY" -c '
import os, subprocess, sys
if os.fork():
    sys.exit(os.waitstatus_to_exitcode(os.wait()[1]))
os.setsid()
r = subprocess.run(["setsid", "sh", "-c", "\"$0\" \"$1\"; exit 3"] + sys.argv[1:])
print("status", r.returncode, flush=True)
subprocess.run(["setsid", "sh", "-c", "sleep 0.3; echo inner done"])
print("outer done", flush=True)' "$PROBE" "$PROOF"
}

# A program its parent made a session leader is stopped by a signal to its
# group, which must still hold its whole tree: Python's start_new_session
# with os.killpg() (the idiom for ending a shell=True command), and
# dumb-init, which forwards a signal to its child's group.  Prints the
# sleeps left.
sleeps_left() {
	local i
	for i in $(seq 50); do
		[[ -z $(pgrep -s "$1" -x sleep) ]] && break
		sleep 0.1
	done
	echo "sleeps left: $(pgrep -s "$1" -x sleep | wc -l)"
	pkill -KILL -s "$1" -x sleep
	return 0
}

# tagged_sleeps: the sleeps this run of the check started (COMPAT_RUN in
# their environment) that are still alive.
tagged_sleeps() {
	local p n=0
	for p in $(pgrep -x sleep); do
		grep -qzxF "COMPAT_RUN=$COMPAT_RUN" "/proc/$p/environ" 2>/dev/null &&
			n=$((n + 1))
	done
	echo $n
}

# timeout(1) around the noleak launcher (on the shim's side; the command
# alone without it): python starts a shell that backgrounds a sleep (the
# shell moves to a group of its own at that first child when its parent
# regroups); timeout's kill(0) of its own group when it expires must end
# the sleep too, as without the shim.
timeout_launcher() {
	local launcher=() i
	[[ -n ${LD_PRELOAD:-} ]] && launcher=("${LIB%/*}/noleak" ${NOLEAK_MODE:+--audit} --)
	timeout 2 "${launcher[@]}" "$PY" -c '
import subprocess, sys
subprocess.run(["sh", "-c", "\"$0\" \"$1\"; sleep 30 & wait"] + sys.argv[1:])' \
		"$PROBE" "$PROOF"
	echo "timeout exit $?"
	for i in $(seq 50); do
		[[ $(tagged_sleeps) == 0 ]] && break
		sleep 0.1
	done
	echo "sleeps left: $(tagged_sleeps)"
}

killpg_new_session() {
	"$PY" -c '
import os, signal, subprocess, sys, time
p = subprocess.Popen(["sh", "-c", "\"$0\" \"$1\"; sleep 30 | sleep 31"] + sys.argv[1:],
                     start_new_session=True)
print(p.pid, flush=True)
for _ in range(200):
    r = subprocess.run(["pgrep", "-c", "-x", "sleep", "-P", str(p.pid)],
                       capture_output=True, text=True)
    if r.stdout.strip() == "2":
        break
    time.sleep(0.05)
os.killpg(os.getpgid(p.pid), signal.SIGTERM)
print("exit", p.wait(), file=sys.stderr)' "$PROBE" "$PROOF" >sid 2>status
	cat status
	sleeps_left "$(cat sid)"
}

dumb_init_stop() {
	dumb-init sh -c '"$0" "$1"; sleep 30 & sleep 31 & wait' "$PROBE" "$PROOF" &
	local p=$! c i
	for i in $(seq 200); do
		c=$(pgrep -P "$p") && [[ $(pgrep -c -x sleep -P "$c") == 2 ]] && break
		sleep 0.05
	done
	kill -TERM "$p"
	wait "$p"
	echo "dumb-init exit $?"
	sleeps_left "$c"
}

# tini as a container's init would run (a session leader; -s: it is not
# pid 1, so it registers as the subreaper), its child a shell in a group of
# its own (tini's setpgid) that backgrounds a sleep and ends with status 7
# on SIGTERM.  tini forwards a SIGTERM to the child alone, or with -g to
# the child's group, which holds the sleep too; it exits with the child's
# status, 128+N when a signal N killed it.  Prints whether the sleep
# outlived the stop.
tini_run() {
	setsid tini -s "$@" >tini.out 2>&1 </dev/null &
	tini_pid=$!
}

tini_stop() {
	local g label child sleeper
	for g in "" -g; do
		label="tini${g:+ $g}"
		rm -f child.pid sleep.pid
		tini_run $g -- sh -c '"$0" "$1"; trap "echo child got TERM; exit 7" TERM
sleep 30 & echo $! >sleep.pid; echo $$ >child.pid; wait' "$PROBE" "$PROOF"
		wait_for 10 test -s child.pid || echo "$label: no child"
		child=$(cat child.pid)
		sleeper=$(cat sleep.pid)
		echo "$label: the child leads its group: $([[ $(ps -o pgid= -p "$child") -eq $child ]] && echo yes || echo no)"
		kill -TERM "$tini_pid"
		wait "$tini_pid"
		echo "$label: exit $? after SIGTERM; the child said: $(cat tini.out)"
		wait_for 1 gone "$sleeper"
		echo "$label: the sleep after the stop: $(gone "$sleeper" && echo gone || echo alive)"
		kill -KILL "$sleeper" 2>/dev/null
	done
	tini_run -- sleep 30
	wait_for 10 eval '[[ -n $(children "$tini_pid") ]]'
	kill -TERM "$tini_pid"
	wait "$tini_pid"
	echo "tini: exit $? when SIGTERM killed the child"
	tini_run -- sh -c 'exit 5'
	wait "$tini_pid"
	echo "tini: exit $? when the child exits 5"
}

# A throw-away cluster in a directory of its own, run by the postgres user
# (or nobody), listening on a unix socket there only.  pg_ctl start makes
# the postmaster a session leader; its backends and helpers are fork
# children that call setsid() themselves (and so regroup what they start),
# and pg_ctl stop has it signal them.  Nothing of that may be escalated to a group.
pg_ctl_stop() {
	local bin user=postgres d rc=0
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[[ -x $bin/initdb ]] || { echo "PostgreSQL is not installed"; return 1; }
	id "$user" >/dev/null 2>&1 || user=nobody
	d=$(mktemp -d /tmp/noleak-pg.XXXXXX) || return 1
	chown "$user" "$d"
	[[ -e $PROOF ]] || : >"$PROOF"
	chmod 0666 "$PROOF"
	# The postgres side logs into its own directory.
	local as=(runuser -u "$user" --)
	[[ $COMPAT_SHIM == 1 ]] && as+=(env "NOLEAK_LOG=$d/noleak.log")
	expect "initdb" logged "$d/initdb.out" "${as[@]}" "$bin/initdb" -D "$d/data" \
		-A trust -U postgres --no-sync
	expect "pg_ctl start" logged "$d/start.out" "${as[@]}" "$bin/pg_ctl" -D "$d/data" \
		-l "$d/server.log" -w -t 60 \
		-o "-k $d -c listen_addresses='' -c fsync=off" start
	"${as[@]}" "$PROBE" "$PROOF"
	maps_proof "$(head -n 1 "$d/data/postmaster.pid" 2>/dev/null)"
	"${as[@]}" "$bin/psql" -h "$d" -U postgres -d postgres -Atc 'select 6 * 7'
	expect "pg_ctl stop" logged "$d/stop.out" "${as[@]}" "$bin/pg_ctl" -D "$d/data" \
		-w -t 60 -m fast stop
	echo "kill_escalated events: $(cat "$d/noleak.log" 2>/dev/null | grep -c '"kill_escalated"')"
	# Kept for a look when it failed, next to the check's own files.
	cp "$d"/*.out "$d"/*.log . 2>/dev/null
	rm -rf "$d"
	return $rc
}
