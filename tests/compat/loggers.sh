# Logging pipelines that keep a program at the other end of a pipe for as
# long as they run: rsyslog's omprog (a program fed each message on its
# stdin, answering on its stdout, its stderr captured; HUP forwarded to
# it, TERM sent to it before its stdin is closed) next to an omfile
# action, and runit (runsvdir starting runsv, runsv a service and its log
# service joined by a pipe that outlives the service's restarts; sv
# status, restart and stop, a finish script).  Each runs in the
# foreground, every path in the check's directory (private config,
# private sockets, no /dev/log, no /etc/service), and is stopped by pid.

checks_loggers() {
	check rsyslog-omprog rsyslogd,dash rsyslog_omprog
	check runit-sv runsvdir,runsv,dash,svlogd runit_sv
}

# loggers_left: how many processes of this run still run besides the
# check's own shell: all carry COMPAT_RUN=<the run's directory> in their
# environment.  Builtins only, so that nothing this function starts is
# counted; zombies are not counted (their reaper may be slow).
loggers_left() {
	local p n=0 stat env
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[[ $p == "$$" || $p == "$BASHPID" ]] && continue
		mapfile -d '' -t env 2>/dev/null <"/proc/$p/environ" || continue
		[[ " ${env[*]} " == *" COMPAT_RUN=$COMPAT_RUN "* ]] || continue
		read -r stat 2>/dev/null <"/proc/$p/stat" || continue
		stat=${stat##*) }
		[[ ${stat%% *} == Z ]] && continue
		echo "still running: $p $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")" >&2
		n=$((n + 1))
	done
	echo "$n"
}

# lines N FILE: FILE has at least N lines.
lines() {
	[[ -f $2 && $(wc -l <"$2") -ge $1 ]]
}

# rsyslogd -n with a private config: imuxsock on a socket here (the
# system socket off), messages tagged "compat" to an omprog action and an
# omfile action, rsyslogd's own messages to a file of their own.
rsyslog_config() {
	cat >rsyslog.conf <<-EOF
	global(workDirectory="$PWD/spool")
	module(load="imuxsock" SysSock.Use="off")
	module(load="omprog")
	input(type="imuxsock" Socket="$PWD/log.sock")
	template(name="line" type="string" string="%programname%:%msg%\n")
	if \$programname == "compat" then {
	    action(type="omprog" binary="$PWD/prog.sh" template="line"
	           confirmMessages="on" output="$PWD/prog.stderr"
	           signalOnClose="on" hup.signal="HUP")
	    action(type="omfile" file="$PWD/all.log" template="line")
	} else {
	    action(type="omfile" file="$PWD/rsyslogd.log")
	}
	EOF
}

# The omprog program: says OK once ready and once per message (the
# confirmMessages protocol on its stdout), writes each message and the
# signals it gets to events, and a line per message to its stderr (which
# omprog writes to prog.stderr).  A signal interrupts `read`, which then
# fails as at the end of the input: the loop goes on after a HUP.
rsyslog_program() {
	cat >prog.sh <<-EOF
	#!/bin/sh
	ev=$PWD/events
	"$FDLIST" program >>"\$ev"
	"$PROBE" "$PROOF"
	hup=
	trap 'echo "got HUP" >>"\$ev"; hup=1' HUP
	trap 'echo "got TERM" >>"\$ev"; exit 0' TERM
	echo OK
	echo "answered: OK (ready)" >>"\$ev"
	n=0
	while :; do
	    if read -r line; then
	        n=\$((n + 1))
	        echo "received: \$line" >>"\$ev"
	        echo "stderr of message \$n" >&2
	        echo OK
	        echo "answered: OK" >>"\$ev"
	    elif [ -n "\$hup" ]; then
	        hup=
	    else
	        echo "end of input" >>"\$ev"
	        exit 0
	    fi
	done
	EOF
	chmod 755 prog.sh
}

# rsyslog_send N TEXT: logger sends TEXT to the private socket; wait until
# the program has answered it and the file has it (the Nth line of each),
# so that the order of what follows is fixed.
rsyslog_send() {
	logger -u "$PWD/log.sock" -t compat "$2"
	echo "logger: $?"
	expect "message $1 answered by the program" wait_for 10 eval "[[ \$(grep -cs '^answered: OK\$' events) -ge $1 ]]"
	expect "message $1 reached the file" wait_for 10 lines "$1" all.log
}

rsyslog_omprog() {
	mkdir -p spool
	rsyslog_config
	rsyslog_program
	rsyslogd -n -f "$PWD/rsyslog.conf" -i "$PWD/rsyslogd.pid" >rsyslogd.out 2>&1 </dev/null &
	local pid=$!
	expect "rsyslogd listens" wait_for 10 test -S log.sock
	maps_proof_running "$pid" rsyslogd
	rsyslog_send 1 "first message"
	expect "the program started" wait_for 10 grep -qs '^program ' events
	rsyslog_send 2 "second message"
	# HUP: omfile reopens its file, omprog forwards the signal.
	kill -HUP "$pid"
	expect "the program got the HUP" wait_for 10 grep -q '^got HUP' events
	rsyslog_send 3 "after the HUP"
	expect "the program's stderr captured" wait_for 10 lines 3 prog.stderr
	kill -TERM "$pid"
	wait "$pid"
	echo "rsyslogd exit after SIGTERM: $?"
	expect "the program got TERM" grep -q '^got TERM' events
	echo "left running: $(loggers_left)"
	echo "the program's events:"
	grep -v '^end of input' events | sed 's/^/  /'
	echo "its stderr, through omprog:"
	sed 's/^/  /' prog.stderr
	echo "omfile:"
	sed 's/^/  /' all.log
	grep -isE 'error|warning' rsyslogd.log rsyslogd.out >&2
	return 0
}

# sv_status SERVICE: `sv status`, pids and times left out.
sv_status() {
	sv "$@" | sed -E 's/\(pid [0-9]+\)/(pid N)/g; s/ [0-9]+s/ Ns/g'
	echo "sv $1: ${PIPESTATUS[0]}"
}

# sv_up SERVICE: the service and its log service run.
sv_up() {
	[[ $(sv status "$1" 2>/dev/null) == "run: $1: "*"; run: log: "* ]]
}

# log_pid SERVICE: the pid of the log service.
log_pid() {
	sv status "$1" | sed -nE 's/.*; run: log: \(pid ([0-9]+)\).*/\1/p'
}

# runit: runsvdir -P (each runsv a session leader) over a private service
# directory with one service, "a": its run script says it started, lists
# its fds and waits for a child; its TERM trap ends the child and exits 3;
# its finish script reports the exit.  Its log service, svlogd, writes all
# of it (service and finish) to log/current, through the one pipe runsv
# keeps for it across restarts.  Then sv restart, sv stop, and a SIGHUP
# to runsvdir, which sends TERM to its runsv's and exits 111; each runsv
# ends its log service by closing the pipe.
runit_sv() {
	mkdir -p sv/a/log logdir
	cat >sv/a/run <<-EOF
	#!/bin/sh
	n=\$(( \$(cat "$PWD/runs" 2>/dev/null || echo 0) + 1 ))
	echo \$n >"$PWD/runs"
	echo "run \$n: started"
	"$FDLIST" "run \$n:"
	"$PROBE" "$PROOF"
	trap 'kill \$child; wait \$child; echo "run \$n: TERM"; exit 3' TERM
	sleep 300 &
	child=\$!
	wait \$child
	echo "run \$n: the child ended"
	EOF
	cat >sv/a/finish <<-EOF
	#!/bin/sh
	echo "finish: \$1 \$2"
	EOF
	cat >sv/a/log/run <<-EOF
	#!/bin/sh
	exec svlogd "$PWD/logdir"
	EOF
	chmod 755 sv/a/run sv/a/finish sv/a/log/run
	runsvdir -P "$PWD/sv" >runsvdir.out 2>&1 </dev/null &
	local pid=$! a=./sv/a p logger
	expect "the service and its log run" wait_for 10 sv_up "$a"
	expect "the service wrote to its log" wait_for 10 grep -q '^run 1: started' logdir/current
	maps_proof "$pid"
	for p in $(children "$pid"); do
		maps_proof "$p"
	done
	logger=$(log_pid "$a")
	maps_proof "$logger"
	sv_status status "$a"
	sv_status restart "$a"
	expect "the service ran again" wait_for 10 grep -q '^run 2: started' logdir/current
	echo "the same log service: $([[ $(log_pid "$a") == "$logger" ]] && echo yes || echo no)"
	sv_status stop "$a"
	expect "finish ran" wait_for 10 eval '[[ $(grep -c "^finish: " logdir/current) == 2 ]]'
	sv_status status "$a"
	sv_status start "$a"
	expect "the service ran once more" wait_for 10 grep -q '^run 3: started' logdir/current
	# runsvdir sends TERM to its runsv's; each stops its service (which
	# runs its finish script), then ends its log service.
	kill -HUP "$pid"
	wait "$pid"
	echo "runsvdir exit after SIGHUP: $?"
	expect "the runsv's and the log service ended" wait_for 10 eval '[[ $(loggers_left 2>/dev/null) == 0 ]]'
	echo "left running: $(loggers_left)"
	echo "log/current:"
	sed 's/^/  /' logdir/current
	cat runsvdir.out >&2
	return 0
}
