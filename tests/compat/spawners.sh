# Programs that start children of their own making and watch them: s6
# (s6-svscan, an s6-supervise per service, a logger joined to its service
# by a pipe, readiness through a notification fd), Erlang ports (a shell
# spawned by open_port, os:cmd), cron running the jobs of a private
# spool, and squid's url_rewrite helpers.  Every path is in the check's
# directory (a daemon that insists on system paths runs in a mount
# namespace of its own, one that listens in a network namespace of its
# own), and what each leaves running is counted and stopped by pid.

checks_spawners() {
	check s6-svscan s6-svscan,s6-supervise,dash,s6-log s6_svscan
	check erlang-ports beam.smp,erl_child_setup,dash erlang_ports
	check cron-jobs cron cron_jobs
	check squid-rewrite squid squid_rewrite
}

# run_left: how many processes of this run still run besides the check's
# own shell (loggers_left, without the names on stderr).
run_left() {
	loggers_left 2>/dev/null
}

# alive_count FILE: how many of the pids listed in FILE are running (not
# zombies).
alive_count() {
	local p n=0
	[[ -f $1 ]] || { echo 0; return; }
	for p in $(cat "$1"); do
		gone "$p" || n=$((n + 1))
	done
	echo "$n"
}

# kill_listed FILE: SIGKILL the pids listed in FILE that still run.
kill_listed() {
	local p
	[[ -f $1 ]] || return 0
	for p in $(cat "$1"); do
		gone "$p" || kill -KILL "$p" 2>/dev/null
	done
}

# s6: s6-svscan over a private scan directory with one service, "a", and
# its logger (s6-log, fed by the pipe s6-svscan keeps for the pair).  The
# run script lists its fds, starts a child (sleep) in the background (away
# from the log pipe, which would keep the logger up as long as it runs),
# tells s6-supervise it is ready on its notification fd (3) and waits.
# s6-svwait -U waits for that readiness; s6-svc -d sends TERM (and CONT)
# to the run script alone, so its child stays; -u starts it again; -k
# kills it and s6-supervise restarts it (-wR: until it is ready again);
# s6-svscanctl -t brings everything down and ends s6-svscan.  The output:
# the states s6-svstat reports, how many children each step left running,
# what the logger wrote (each run's fds), what each finish was told (the
# finish script writes to a file of its own: s6-log ends on the TERM of
# s6-svscanctl -t, maybe before the last finish) and that nothing else is
# left.
s6_svscan() {
	mkdir -p scan/a/log logdir
	cat >scan/a/run <<-EOF
	#!/bin/sh
	exec 2>&1
	n=\$(( \$(cat "$PWD/runs" 2>/dev/null || echo 0) + 1 ))
	echo \$n >"$PWD/runs"
	echo "run \$n: started"
	"$FDLIST" "run \$n:"
	"$PROBE" "$PROOF"
	sleep 300 >/dev/null 2>&1 3>&- &
	echo \$! >>"$PWD/children"
	echo ready >&3
	exec 3>&-
	wait
	EOF
	cat >scan/a/finish <<-EOF
	#!/bin/sh
	echo "finish: \$1 \$2" >>"$PWD/finishes"
	EOF
	echo 3 >scan/a/notification-fd
	cat >scan/a/log/run <<-EOF
	#!/bin/sh
	exec s6-log -b n3 "$PWD/logdir"
	EOF
	chmod 755 scan/a/run scan/a/finish scan/a/log/run
	s6-svscan "$PWD/scan" >svscan.out 2>&1 </dev/null &
	local pid=$! a=$PWD/scan/a p
	expect "s6-supervise runs" wait_for 10 s6-svok "$a"
	echo "s6-svwait -U: $(s6-svwait -U -t 10000 "$a"; echo $?)"
	echo "status: $(s6-svstat -o up,wantedup,ready "$a")"
	expect "the logger runs" wait_for 10 s6-svok "$a/log"
	expect "the service wrote to its log" wait_for 10 grep -q '^run 1: started' logdir/current
	maps_proof "$pid"
	for p in $(children "$pid"); do
		maps_proof "$p"
	done
	maps_proof "$(s6-svstat -o pid "$a/log")"
	echo "s6-svc -d: $(s6-svc -wd -T 10000 -d "$a"; echo $?)"
	echo "status: $(s6-svstat -o up,wantedup "$a")"
	expect "finish ran" wait_for 10 eval '[[ $(grep -c "^finish: " finishes) == 1 ]]'
	echo "children running: $(alive_count children)"
	echo "s6-svc -u: $(s6-svc -wU -T 10000 -u "$a"; echo $?)"
	echo "status: $(s6-svstat -o up,wantedup,ready "$a")"
	echo "s6-svc -k: $(s6-svc -wR -T 10000 -k "$a"; echo $?)"
	echo "status: $(s6-svstat -o up,wantedup,ready "$a")"
	expect "run 3 started" wait_for 10 grep -q '^run 3: started' logdir/current
	echo "children running: $(alive_count children)"
	s6-svscanctl -t "$PWD/scan"
	wait "$pid"
	echo "s6-svscan exit after s6-svscanctl -t: $?"
	expect "the supervisors and the logger ended" wait_for 10 eval '[[ $(run_left) == $(alive_count children) ]]'
	echo "children running: $(alive_count children)"
	kill_listed children
	expect "nothing else runs" wait_for 10 eval '[[ $(run_left) == 0 ]]'
	expect "finish ran three times" wait_for 10 eval '[[ $(grep -c "^finish: " finishes) == 3 ]]'
	echo "log:"
	sed 's/^/  /' logdir/current
	echo "finish:"
	sed 's/^/  /' finishes
	cat svscan.out >&2
	return 0
}

# Erlang/OTP 25 (an escript; the VM, beam.smp, starts ports through its
# forked helper erl_child_setup): open_port of a shell that starts a child
# in the background and waits for another; port_close closes the port's
# pipes and leaves the shell and its children running; a port's
# exit_status; os:cmd of a command that leaves a background job, which
# returns at once (os:cmd reads up to a marker after the command, not to
# the end of the pipe) and the job goes on; spawn_executable of a program
# that lists its fds; and the shell of a port killed by pid (os:cmd
# "kill"): its exit_status comes only once its children, which hold the
# port's pipe, are killed too.  The output: the data and statuses the
# ports gave, how many of each shell's processes run after each step, and
# that nothing is left.
erlang_ports() {
	cat >t.escript <<-'ERL'
	%% -*- erlang -*-
	-mode(compile).
	say(F, A) -> io:format(F ++ "~n", A).
	%% alive FILES: how many of the pids written in FILES run (not zombies).
	alive(Files) ->
	    Pids = lists:append([string:lexemes(S, " \n") || F <- Files,
	                         {ok, B} <- [file:read_file(F)], S <- [binary_to_list(B)]]),
	    length([P || P <- Pids,
	                 case file:read_file("/proc/" ++ P ++ "/stat") of
	                     {ok, St} -> [_, Rest] = string:split(St, ") ", trailing),
	                                 binary:first(Rest) =/= $Z;
	                     _ -> false
	                 end]).
	%% settle FILES WANT: alive(FILES), once it is WANT (for up to 10 s).
	settle(Files, Want) -> settle(Files, Want, 100).
	settle(Files, Want, N) ->
	    case alive(Files) of
	        Want -> Want;
	        A when N == 0 -> A;
	        _ -> timer:sleep(100), settle(Files, Want, N - 1)
	    end.
	wait_file(F, 0) -> filelib:is_file(F);
	wait_file(F, N) ->
	    case filelib:is_file(F) of true -> true; false -> timer:sleep(100), wait_file(F, N - 1) end.
	data(P) -> receive {P, {data, {eol, L}}} -> L after 10000 -> "no data" end.
	status(P, T) -> receive {P, {exit_status, S}} -> S after T -> none end.
	main([FdList, Probe, Proof]) ->
	    os:cmd(Probe ++ " " ++ Proof),
	    P1 = open_port({spawn, "/bin/sh -c 'echo $$ >shell1; \"" ++ FdList ++ "\" port; "
	                    "sleep 300 & echo $! >child1; sleep 301 & echo $! >>child1; echo started; wait'"},
	                   [{line, 1000}, exit_status, use_stdio, stderr_to_stdout]),
	    say("port: ~s", [data(P1)]),
	    say("port: ~s", [data(P1)]),
	    {os_pid, Os1} = erlang:port_info(P1, os_pid),
	    say("os_pid is the shell: ~p", [{ok, list_to_binary(integer_to_list(Os1) ++ "\n")} == file:read_file("shell1")]),
	    say("running: ~p", [alive(["shell1", "child1"])]),
	    port_close(P1),
	    timer:sleep(300),
	    say("after port_close, running: ~p", [alive(["shell1", "child1"])]),
	    P2 = open_port({spawn, "/bin/sh -c 'sleep 0.2; exit 3'"}, [exit_status]),
	    say("exit_status: ~p", [status(P2, 10000)]),
	    Self = self(),
	    spawn(fun() -> Self ! {cmd, os:cmd("echo hi; (while [ ! -f go ]; do sleep 0.1; done; echo late >late) & echo done")} end),
	    receive {cmd, R} -> say("os:cmd returned ~p", [R]) after 10000 -> say("os:cmd did not return", []) end,
	    ok = file:write_file("go", ""),
	    say("the background job went on: ~p", [wait_file("late", 100)]),
	    P3 = open_port({spawn_executable, FdList}, [{args, ["spawn_executable"]}, {line, 1000}, exit_status, use_stdio]),
	    say("~s", [data(P3)]),
	    say("exit_status: ~p", [status(P3, 10000)]),
	    P4 = open_port({spawn, "/bin/sh -c 'sleep 302 & echo $! >child4; sleep 303 & echo $! >>child4; echo started; wait'"},
	                   [{line, 1000}, exit_status]),
	    say("port: ~s", [data(P4)]),
	    {os_pid, Os4} = erlang:port_info(P4, os_pid),
	    os:cmd("kill " ++ integer_to_list(Os4)),
	    say("after the kill of the shell, exit_status: ~p", [status(P4, 1000)]),
	    say("running: ~p", [alive(["child4"])]),
	    os:cmd("kill $(cat child4)"),
	    say("after the kill of its children, exit_status: ~p", [status(P4, 10000)]),
	    say("running: ~p", [settle(["child4"], 0)]).
	ERL
	escript t.escript "$FDLIST" "$PROBE" "$PROOF" &
	local pid=$!
	maps_proof_running "$pid" beam.smp
	wait "$pid"
	echo "escript exit: $?"
	echo "the first shell's processes running: $(alive_count shell1) $(alive_count child1)"
	kill_listed shell1
	kill_listed child1
	expect "nothing else runs" wait_for 10 eval '[[ $(run_left) == 0 ]]'
	return 0
}

# in_cron_ns COMMAND...: COMMAND in a mount namespace of its own where
# cron's paths are this run's: /run (its pid file, and crond.reboot, whose
# absence makes it run the @reboot jobs at once), the spool, /etc/cron.d
# and an empty /etc/crontab (no run-parts of the host's cron.hourly).
# It execs: run it in the background, where $! is then COMMAND's pid.
in_cron_ns() {
	exec unshare -m --propagation private sh -c '
		mount --bind "$1/run" /run &&
		mount --bind "$1/crontabs" /var/spool/cron/crontabs &&
		mount --bind "$1/cron.d" /etc/cron.d &&
		mount --bind "$1/crontab" /etc/crontab &&
		shift && exec "$@"' sh "$PWD" "$@"
}

# cron (Debian's, -f) over a private spool in a mount namespace of its
# own, with @reboot jobs, which it runs as soon as it starts: in
# /etc/cron.d a shell script that lists its fds, says it ran and leaves a
# background child that waits for a file, and a pipeline with its exit
# status; in root's crontab a command substitution.  cron gives its jobs
# an environment of their own (the crontab's, without LD_PRELOAD: the jobs
# run without the shim, cron itself under it): every path is written into
# them, and the processes they leave are found by the pids they wrote.  The output: what the jobs wrote, that the background child went
# on after its job ended and ended when told, cron's exit on SIGTERM and
# that nothing is left.
cron_jobs() {
	mkdir -p run crontabs cron.d
	: >crontab
	cat >job.sh <<-EOF
	echo \$\$ >"$PWD/job.pid"
	"$FDLIST" job >"$PWD/job.txt"
	"$PROBE" "$PROOF"
	(while [ ! -f "$PWD/go" ]; do sleep 0.1; done; echo late >"$PWD/late") &
	echo \$! >"$PWD/bg.pid"
	echo ran >>"$PWD/job.txt"
	EOF
	cat >cron.d/compat <<-EOF
	MAILTO=""
	@reboot root /bin/sh $PWD/job.sh
	@reboot root echo abc | tr a X | cat >$PWD/pipe.txt; echo "\$?" >>$PWD/pipe.txt
	EOF
	cat >crontabs/root <<-EOF
	MAILTO=""
	@reboot echo "user \$(id -un)" >$PWD/user.txt
	EOF
	chmod 600 crontabs/root
	chmod 644 cron.d/compat
	in_cron_ns cron -f -L 15 >cron.out 2>&1 </dev/null &
	local pid=$!
	maps_proof_running "$pid" cron
	expect "the script job ran" wait_for 10 grep -qx ran job.txt
	expect "the pipeline ran" wait_for 10 eval '[[ $(wc -l <pipe.txt 2>/dev/null) == 2 ]]'
	expect "the crontab's job ran" wait_for 10 test -s user.txt
	cat job.txt pipe.txt user.txt
	expect "the job's shell ended" wait_for 10 eval '[[ $(alive_count job.pid) == 0 ]]'
	echo "the background child runs: $(alive_count bg.pid)"
	touch go
	expect "the background child ended" wait_for 10 eval '[[ $(alive_count bg.pid) == 0 ]]'
	echo "it wrote: $(cat late)"
	kill -TERM "$pid"
	wait "$pid"
	echo "cron exit after SIGTERM: $?"
	kill_listed bg.pid
	expect "nothing else runs" wait_for 10 eval '[[ $(run_left) == 0 ]]'
	cat cron.out >&2
	return 0
}

# squid (Debian's 5.7) as the daemon it makes of itself, in a network and
# mount namespace of its own (loopback only, a private /run and
# /dev/shm), every path in the check's directory, memory cache only, with
# two url_rewrite helpers: shell scripts that say which fds they got,
# start a child of their own in the background and answer OK to each URL.
# A request through squid to a python HTTP server, -k reconfigure (squid
# ends its helpers by closing their stdin and starts new ones), another
# request, -k shutdown.  The worker (squid-1) and the helpers run as the
# proxy user: the run's directory is open to all.  The shim is in the
# master alone: it execs the worker with a real uid (proxy) other than its
# effective one (root), a secure exec (AT_SECURE) in which the loader
# ignores LD_PRELOAD, with or without the shim.  The output: squid's exit statuses, the
# answers, what the helpers said (sorted: two run at once), how many of
# their children each step left running, and that nothing else is left.
squid_rewrite() {
	chmod 777 .
	unshare -n -m --propagation private "$SELF" --one squid_in_ns
	echo "exit: $?"
	expect "nothing else runs" wait_for 10 eval '[[ $(run_left) == 0 ]]'
	return 0
}

squid_conf() {
	cat >squid.conf <<-EOF
	http_port 127.0.0.1:3128
	pid_filename $PWD/squid.pid
	cache_log $PWD/cache.log
	access_log none
	cache deny all
	cache_mem 8 MB
	coredump_dir $PWD
	pinger_enable off
	shutdown_lifetime 1 second
	url_rewrite_program $PWD/rw.sh
	url_rewrite_children 2 startup=2 idle=1
	http_access allow all
	EOF
}

# squid_get: the page, asked of the origin server through squid.
squid_get() {
	"$PY" - <<-'PY'
	import time, urllib.request
	o = urllib.request.build_opener(urllib.request.ProxyHandler({"http": "http://127.0.0.1:3128"}))
	deadline = time.monotonic() + 10
	while True:
	    try:
	        print("answer:", o.open("http://127.0.0.1:8080/page.txt", timeout=10).read().decode().strip())
	        break
	    except OSError as e:
	        if time.monotonic() > deadline:
	            print("no answer:", e)
	            break
	        time.sleep(0.2)
	PY
}

# count PATTERN FILE N: FILE has N lines matching PATTERN.
count_is() {
	[[ $(grep -c -- "$1" "$2" 2>/dev/null) == "$3" ]]
}

squid_in_ns() {
	ip link set lo up || return 1
	mkdir -p run www
	mount -t tmpfs tmpfs /dev/shm && mount --bind "$PWD/run" /run || return 1
	echo page >www/page.txt
	cat >rw.sh <<-EOF
	#!/bin/sh
	echo "helper: \$("$FDLIST" fds)" >>"$PWD/rw.log"
	sleep 300 >/dev/null 2>&1 &
	echo \$! >>"$PWD/children"
	while read -r url rest; do echo OK; done
	echo "helper: end of input" >>"$PWD/rw.log"
	EOF
	chmod 755 rw.sh
	# The helpers run as proxy: what they write is open to all.
	: >rw.log
	: >children
	chmod 666 rw.log children
	squid_conf
	"$PY" -m http.server -b 127.0.0.1 -d www 8080 >/dev/null 2>&1 &
	local web=$! master
	squid -f "$PWD/squid.conf" </dev/null
	echo "squid exit: $?"
	expect "squid listens" wait_for 20 listening 3128
	# The pid file names the master, which starts the worker (squid-1).
	master=$(cat squid.pid 2>/dev/null)
	maps_proof_running "$master" squid
	expect "the helpers started" wait_for 10 count_is '^helper: fds' rw.log 2
	squid_get
	echo "children running: $(alive_count children)"
	squid -f "$PWD/squid.conf" -k reconfigure
	echo "squid -k reconfigure: $?"
	expect "new helpers started" wait_for 20 count_is '^helper: fds' rw.log 4
	expect "the old ones ended" wait_for 20 count_is '^helper: end' rw.log 2
	squid_get
	echo "children running: $(alive_count children)"
	squid -f "$PWD/squid.conf" -k shutdown
	echo "squid -k shutdown: $?"
	expect "squid ended" wait_for 20 gone "$master"
	expect "the helpers ended" wait_for 10 count_is '^helper: end' rw.log 4
	echo "children running: $(alive_count children)"
	kill_listed children
	kill "$web"
	wait "$web"
	echo "helpers:"
	sort rw.log | uniq -c | sed 's/^ */  /'
	grep -E 'FATAL|ERROR' cache.log >&2
	return 0
}
