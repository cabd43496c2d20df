# Servers that hand their listening sockets or connections to processes
# they start: nginx reloading and upgrading its own binary (the new master
# finds its listeners named in NGINX="fd;fd;"), socat's fork+exec per
# connection, and perl's IPC::Open3, system, backticks and a pipe made
# inheritable with fcntl(F_SETFD, 0).

checks_servers() {
	check nginx-upgrade nginx nginx_upgrade
	check socat-fork-exec socat,dash socat_fork_exec
	check perl-open3 perl perl_open3
}

# gone PID: PID has exited (a zombie counts: a daemon's reaper is init,
# which may be slow or absent in a container).
gone() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[[ ${stat%% *} == Z ]]
}

# children PID: the pids of PID's children, one per line.
children() {
	local t
	for t in /proc/"$1"/task/*/children; do
		tr ' ' '\n' <"$t" 2>/dev/null
	done | grep .
}

# http_get PORT PATH: the body served at PATH, retried for up to 10 s.
http_get() {
	"$PY" - "$1" "$2" <<-'PY'
	import sys, time, urllib.request
	deadline = time.monotonic() + 10
	while True:
	    try:
	        print(urllib.request.urlopen("http://127.0.0.1:%s%s" % tuple(sys.argv[1:]),
	                                     timeout=max(0.1, deadline - time.monotonic()))
	              .read().decode().strip())
	        break
	    except OSError:
	        if time.monotonic() > deadline:
	            sys.exit("nothing serves on port " + sys.argv[1])
	        time.sleep(0.1)
	PY
}

# nginx_config PORT ROOT: a master with two workers serving ROOT on
# 127.0.0.1:PORT, every path it writes in the current directory.  /pid
# answers with the serving worker's pid.  nginx clears its environment
# for the new binary of an upgrade but for the variables named with
# `env`, so the shim's are named, as LD_PRELOAD would be in production.
nginx_config() {
	mkdir -p tmp
	cat >nginx.conf <<-EOF
	$( ((EUID == 0)) && echo "user root;")
	daemon on;
	master_process on;
	worker_processes 2;
	pid $PWD/nginx.pid;
	error_log $PWD/error.log notice;
	env LD_PRELOAD;
	env NOLEAK_MODE;
	env NOLEAK_LOG;
	env NOLEAK_CONFIG;
	env COMPAT_RUN;
	events { worker_connections 64; }
	http {
	    access_log off;
	    client_body_temp_path $PWD/tmp/body;
	    proxy_temp_path $PWD/tmp/proxy;
	    fastcgi_temp_path $PWD/tmp/fastcgi;
	    uwsgi_temp_path $PWD/tmp/uwsgi;
	    scgi_temp_path $PWD/tmp/scgi;
	    server {
	        listen 127.0.0.1:$1;
	        root $PWD/$2;
	        location = /pid { return 200 "\$pid\n"; }
	    }
	}
	EOF
}

# nginx_start: a daemonized master on a free loopback port (nginx binds
# before it forks, so a port taken between the choice and the bind makes
# the command fail, and the start is retried on another).  Sets
# nginx_master and nginx_port.
nginx_start() {
	local try
	for try in 1 2 3 4 5; do
		nginx_port=$(free_port)
		nginx_config "$nginx_port" www1
		# The full path: the upgrade execs the master's argv[0].
		if /usr/sbin/nginx -e "$PWD/error.log" -p "$PWD/" -c "$PWD/nginx.conf" >>nginx.out 2>&1 </dev/null; then
			wait_for 10 nginx_workers_up nginx.pid || break
			nginx_master=$(cat nginx.pid)
			return 0
		fi
	done
	return 1
}

# nginx_kill_left: kill every nginx process working in this directory.
# nginx writes its process title over its environment, so the harness
# cannot find a master a failed run left behind by its COMPAT_RUN.
nginx_kill_left() {
	local p
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/cwd") == "$PWD" && $(readlink "$p/exe") == */nginx ]] &&
			kill -KILL "${p#/proc/}" 2>/dev/null
	done
	return 0
}

# nginx_workers_up PIDFILE: the master in PIDFILE has its two workers.
nginx_workers_up() {
	local m
	m=$(cat "$1" 2>/dev/null) && [[ -n $m ]] || return 1
	[[ $(children "$m" | wc -l) == 2 ]]
}

# nginx_served_by MASTER: a /pid request was answered by a worker of MASTER.
nginx_served_by() {
	local w
	w=$(http_get "$nginx_port" /pid) || return 1
	children "$1" | grep -qxF "$w"
}

nginx_proof() {
	local p
	maps_proof "$1"
	for p in $(children "$1"); do
		maps_proof_running "$p" nginx
	done
}

# nginx_new_master OLD: the old master renamed its pid file, and a new
# master wrote its own (not the empty file of a write under way).
nginx_new_master() {
	local p
	p=$(cat nginx.pid 2>/dev/null)
	[[ -s nginx.pid.oldbin && $p == [1-9]*([0-9]) && $p != "$1" ]]
}

# nginx_new_workers MASTER OLD: MASTER's workers are two, none of OLD.
nginx_new_workers() {
	local now
	now=$(children "$1") || return 1
	[[ $(echo "$now" | wc -l) == 2 ]] && ! grep -qxF -f <(echo "$2") <<<"$now"
}

nginx_upgrade() {
	trap nginx_kill_left EXIT
	trap 'exit 143' TERM
	mkdir -p www1 www2
	echo "served from www1" >www1/index.html
	echo "served from www2" >www2/index.html
	if ! nginx_start; then
		echo "nginx did not start"
		tail -n 5 error.log >&2
		return 1
	fi
	nginx_proof "$nginx_master"
	echo "started: $(http_get "$nginx_port" /)"

	# Reload: the same master reads the new config and replaces its workers.
	local before
	before=$(children "$nginx_master")
	nginx_config "$nginx_port" www2
	kill -HUP "$nginx_master"
	expect "reload replaced the workers" wait_for 10 nginx_new_workers "$nginx_master" "$before"
	nginx_proof "$nginx_master"
	echo "after reload: $(http_get "$nginx_port" /)"

	# Binary upgrade: the master execs a new one, which inherits the
	# listeners; the old master's workers stop (WINCH), so only the new
	# ones can answer; then the old master quits.  The new master stays
	# the old one's child until then.
	local old=$nginx_master new=""
	kill -USR2 "$old"
	expect "new master started" wait_for 10 nginx_new_master "$old"
	new=$(cat nginx.pid)
	expect "new master has its workers" wait_for 10 nginx_workers_up nginx.pid
	echo "new master is the old one's child: $(children "$old" | grep -qxF "$new" && echo yes || echo no)"
	echo "new master took the listeners from NGINX: $(grep -q "using inherited sockets from \"[0-9;]*\"" error.log && echo yes || echo no)"
	nginx_proof "$new"
	kill -WINCH "$old"
	expect "old workers stopped" wait_for 10 eval '[[ $(children "$old") == "$new" ]]'
	expect "a worker of the new master served" nginx_served_by "$new"
	echo "after upgrade: $(http_get "$nginx_port" /)"
	kill -QUIT "$old"
	expect "old master exited" wait_for 10 gone "$old"
	echo "old pid file removed: $([[ -e nginx.pid.oldbin ]] && echo no || echo yes)"
	expect "a worker of the new master served" nginx_served_by "$new"
	echo "after the old master quit: $(http_get "$nginx_port" /)"

	kill -QUIT "$new"
	expect "new master exited" wait_for 10 gone "$new"
	grep -E '\[(alert|emerg|crit)\]' error.log >&2
	return 0
}

# socat_ready PID PORT: socat PID is alive and something listens on PORT.
socat_ready() {
	kill -0 "$1" 2>/dev/null || return 2
	[[ -n $(ss -Hltn "sport = :$2") ]]
}

# socat_ask PORT TEXT: one client: send a line, print the reply (all of
# it: socat closes the connection when the command has exited).  The
# client does not shut its side down first: socat would then give the
# command only its -t half-second to finish.
socat_ask() {
	"$PY" - "$1" "$2" <<-'PY'
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
	s.sendall(sys.argv[2].encode() + b"\n")
	print(s.makefile().read().strip())
	PY
}

# socat forks a child per connection, which execs the command with the
# connection on its stdin and stdout.  The command's fds above 2 go to a
# file for inspection, not to the output: the shim withholds what socat
# leaks by design (its socketpair ends).  The command exits 0: socat
# handles a failed command's SIGCHLD at once, dropping its output still
# in transit, with or without the shim.
socat_fork_exec() {
	# A script, not sh -c: socat's address syntax reserves ; , : and quotes.
	cat >serve.sh <<-'SH'
	read line
	echo "got $line"
	"$PROBE" "$PROOF"
	"$FDLIST" "$line" >>fds.txt
	echo done
	SH
	local try pid port
	for try in 1 2 3 4 5; do
		port=$(free_port)
		socat -d -d "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr" "EXEC:sh serve.sh" \
			2>>socat.err </dev/null &
		pid=$!
		wait_for 10 socat_ready "$pid" "$port" && break
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=""
	done
	if [[ -z $pid ]]; then
		echo "socat did not listen"
		return 1
	fi
	maps_proof "$pid"
	echo "first client: $(socat_ask "$port" one | tr '\n' ' ')"
	echo "second client: $(socat_ask "$port" two | tr '\n' ' ')"
	echo "socat errors: $(grep -c '^[0-9/]* [0-9:]* socat\[[0-9]*\] E ' socat.err)"
	kill -TERM "$pid"
	wait "$pid"
	echo "socat exit after SIGTERM: $?"
}

# IPC::Open3 (stdin written, stdout and stderr read), system, backticks,
# and a pipe end made inheritable with fcntl(F_SETFD, 0) whose number the
# child gets in argv.
perl_open3() {
	cat >open3.pl <<-'PERL'
	use strict;
	use warnings;
	use Fcntl;
	use IPC::Open3;
	use Symbol 'gensym';
	$| = 1;
	my ($probe, $proof) = @ARGV;

	my $err = gensym;
	my $pid = open3(my $in, my $out, $err, 'sh', '-c',
	    'while read l; do echo "out $l"; echo "err $l" >&2; done; "$0" "$1"; exit 5',
	    $probe, $proof);
	print $in "a\nb\n";
	close $in;
	my @out = <$out>;
	my @err = <$err>;
	waitpid $pid, 0;
	chomp(@out, @err);
	print "open3 stdout: @out / stderr: @err / exit ", $? >> 8, "\n";

	system('sh', '-c', 'echo system list; exit 3');
	print "system list: exit ", $? >> 8, "\n";
	system('echo system string; exit 4');
	print "system string: exit ", $? >> 8, "\n";
	my $bt = `echo backticks; echo backticks err >&2; exit 6`;
	chomp $bt;
	print "backticks: $bt / exit ", $? >> 8, "\n";

	pipe(my $r, my $w) or die "pipe: $!";
	my $before = fcntl($r, F_GETFD, 0) & FD_CLOEXEC ? 1 : 0;
	fcntl($r, F_SETFD, 0) or die "F_SETFD: $!";
	my $child = fork // die "fork: $!";
	if ($child == 0) {
	    close $w;
	    exec $^X, '-e', 'system(@ARGV[1, 2]); open(my $fh, "<&=", $ARGV[0]) or die "fd $ARGV[0]: $!"; print "child read: ", <$fh>;',
	        fileno($r), $probe, $proof;
	    die "exec: $!";
	}
	close $r;
	print $w "through the pipe\n";
	close $w;
	waitpid $child, 0;
	print "pipe: cloexec before F_SETFD $before, child exit ", $? >> 8, "\n";
	PERL
	perl open3.pl "$PROBE" "$PROOF" 2>perl.err
	echo "perl exit $?"
}
