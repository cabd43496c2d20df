# Servers that run what they serve in processes of their own: php-fpm
# reloading (its master re-execs itself and finds its listeners named only
# in FPM_SOCKETS="ADDRESS=FD"), lighttpd running a CGI per request, redis
# saving in a fork child (BGSAVE, BGREWRITEAOF), xinetd starting a
# service per connection with the connection on its fds 0-2, and uWSGI
# reloading (its master re-execs itself with UWSGI_RELOADS=N and finds its
# listener among its fds, named nowhere) while it is asked.  Each runs in
# the foreground on a free loopback port, every path in the check's
# directory, and is stopped by pid.

checks_services() {
	check php-fpm-reload php-fpm8.2 php_fpm_reload
	check lighttpd-cgi lighttpd lighttpd_cgi
	# /usr/bin/redis-server is a link to redis-check-rdb, the one binary
	# that /proc/PID/exe names.
	check redis-bgsave redis-check-rdb redis_bgsave
	check xinetd-service xinetd,dash xinetd_service
	check uwsgi-reload uwsgi-core uwsgi_reload
}

# serving PID PORT: PID is alive and something listens on 127.0.0.1:PORT.
serving() {
	kill -0 "$1" 2>/dev/null && listening "$2"
}

# serve_on_free_port START: `START PORT` starts a server in the background
# that binds 127.0.0.1:PORT itself, and sets server_pid.  Another program
# may take the port between the choice and the bind, so a start that does
# not listen is retried on another port.  Sets port.
serve_on_free_port() {
	local try
	for try in 1 2 3 4 5; do
		port=$(free_port)
		"$1" "$port"
		wait_for 10 serving "$server_pid" "$port" && return 0
		kill -KILL "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	done
	return 1
}

# http_req PORT PATH [BODY]: the body served at PATH (POSTing BODY when
# given), retried for up to 10 s while nothing answers.
http_req() {
	"$PY" - "$@" <<-'PY'
	import sys, time, urllib.request
	port, path, body = (sys.argv[1:] + [None])[:3]
	deadline = time.monotonic() + 10
	while True:
	    try:
	        r = urllib.request.urlopen("http://127.0.0.1:%s%s" % (port, path),
	                                   None if body is None else body.encode(),
	                                   timeout=max(0.1, deadline - time.monotonic()))
	        sys.stdout.write(r.read().decode())
	        break
	    except OSError as e:
	        if time.monotonic() > deadline:
	            sys.exit("port %s: %s" % (port, e))
	        time.sleep(0.1)
	PY
}

# fcgi_get PORT SCRIPT: a FastCGI GET of the PHP file SCRIPT (its full
# path), the body of the answer; retried for up to 10 s while nothing
# answers.
fcgi_get() {
	"$PY" - "$1" "$2" <<-'PY'
	import socket, struct, sys, time
	port, script = int(sys.argv[1]), sys.argv[2].encode()
	def record(kind, content):
	    return struct.pack("!BBHHBx", 1, kind, 1, len(content), 0) + content
	def pair(k, v):
	    return bytes([len(k), len(v)]) + k + v
	params = (pair(b"SCRIPT_FILENAME", script) + pair(b"REQUEST_METHOD", b"GET")
	          + pair(b"SCRIPT_NAME", b"/" + script.rsplit(b"/", 1)[-1]))
	deadline = time.monotonic() + 10
	while True:
	    try:
	        s = socket.create_connection(("127.0.0.1", port), timeout=10)
	        break
	    except OSError as e:
	        if time.monotonic() > deadline:
	            sys.exit("port %d: %s" % (port, e))
	        time.sleep(0.1)
	# BEGIN_REQUEST (responder, close the connection after), PARAMS, STDIN.
	s.sendall(record(1, struct.pack("!HB5x", 1, 0)) + record(4, params)
	          + record(4, b"") + record(5, b""))
	data = b""
	while chunk := s.recv(65536):
	    data += chunk
	out = b""
	while len(data) >= 8:
	    _, kind, _, length, padding = struct.unpack("!BBHHBx", data[:8])
	    if kind == 6:
	        out += data[8:8 + length]
	    data = data[8 + length + padding:]
	sys.stdout.write(out.split(b"\r\n\r\n", 1)[-1].decode())
	PY
}

# fpm_ready N: the master said N times that it is ready (once per start,
# once per reload).
fpm_ready() {
	[[ $(grep -c 'NOTICE: ready to handle connections' fpm.log 2>/dev/null) == "$1" ]]
}

# php-fpm 8.2 in the foreground (-F; -R lets it run its workers as root
# when the suite runs as root) with a static pool of two workers on
# 127.0.0.1:PORT.  clear_env=no: the workers' commands see $PROBE.
fpm_start() {
	cat >fpm.conf <<-EOF
	[global]
	pid = $PWD/fpm.pid
	error_log = $PWD/fpm.log
	daemonize = no
	[www]
	listen = 127.0.0.1:$1
	pm = static
	pm.max_children = 2
	clear_env = no
	EOF
	/usr/sbin/php-fpm8.2 -F -R -y "$PWD/fpm.conf" >>fpm.out 2>&1 </dev/null &
	server_pid=$!
}

# A graceful reload (SIGUSR2, what `systemctl reload php8.2-fpm` sends):
# the master execs itself again and finds its listener named only in
# FPM_SOCKETS; the new master's workers must serve on the same port.
php_fpm_reload() {
	cat >t.php <<-'PHP'
	<?php
	echo "served by PHP ", PHP_MAJOR_VERSION, "\n";
	echo shell_exec('"$PROBE" "$PROOF"; echo a command of the worker ran');
	PHP
	if ! serve_on_free_port fpm_start; then
		echo "php-fpm did not start"
		tail -n 5 fpm.log >&2
		return 1
	fi
	local master=$server_pid
	expect "php-fpm is ready" wait_for 10 fpm_ready 1
	maps_proof "$master"
	echo "before reload: $(fcgi_get "$port" "$PWD/t.php" | tr '\n' ' ')"
	kill -USR2 "$master"
	expect "php-fpm is ready again" wait_for 10 fpm_ready 2
	maps_proof_running "$master" php-fpm8.2
	echo "the master re-executed itself: $(grep -q 'NOTICE: reloading: execvp' fpm.log && echo yes || echo no)"
	echo "FPM_SOCKETS named its listener to the new master: $(grep -q "using inherited socket fd=[0-9]*, \"127.0.0.1:$port\"" fpm.log && echo yes || echo no)"
	echo "after reload: $(fcgi_get "$port" "$PWD/t.php" | tr '\n' ' ')"
	kill -QUIT "$master"
	wait "$master"
	echo "php-fpm exit after SIGQUIT: $?"
	grep -E '(ERROR|ALERT|WARNING):' fpm.log >&2
	return 0
}

# lighttpd in the foreground (-D) on 127.0.0.1:PORT, serving www/ with
# mod_cgi running the *.cgi files.
lighttpd_start() {
	cat >lighttpd.conf <<-EOF
	server.document-root = "$PWD/www"
	server.bind = "127.0.0.1"
	server.port = $1
	server.modules = ("mod_cgi")
	cgi.assign = (".cgi" => "")
	server.errorlog = "$PWD/error.log"
	EOF
	/usr/sbin/lighttpd -D -f "$PWD/lighttpd.conf" >>lighttpd.out 2>&1 </dev/null &
	server_pid=$!
}

# A CGI per request, its stdin the request body (a pipe for POST,
# /dev/null for GET), its stdout the answer; lighttpd opens everything
# close-on-exec, so the CGI gets fds 0-2 only, with or without the shim.
# mod_cgi gives the CGI an environment of its own: the paths are written
# into the script.
lighttpd_cgi() {
	mkdir -p www
	cat >www/t.cgi <<-EOF
	#!/bin/sh
	printf 'Content-Type: text/plain\r\n\r\n'
	echo "method \$REQUEST_METHOD"
	if [ "\$REQUEST_METHOD" = POST ]; then read -r line; echo "body \$line"; fi
	"$FDLIST" cgi
	"$PROBE" "$PROOF"
	EOF
	chmod 755 www/t.cgi
	echo "static file" >www/index.txt
	if ! serve_on_free_port lighttpd_start; then
		echo "lighttpd did not start"
		tail -n 5 error.log >&2
		return 1
	fi
	maps_proof "$server_pid"
	echo "static: $(http_req "$port" /index.txt)"
	echo "GET: $(http_req "$port" /t.cgi | tr '\n' ' ')"
	echo "POST: $(http_req "$port" /t.cgi 'hello=world' | tr '\n' ' ')"
	echo "GET again: $(http_req "$port" '/t.cgi?x=1' | tr '\n' ' ')"
	kill -TERM "$server_pid"
	wait "$server_pid"
	echo "lighttpd exit after SIGTERM: $?"
}

# redis-server in the foreground on 127.0.0.1:PORT, no save points, its
# files here.
redis_start() {
	redis-server --bind 127.0.0.1 --port "$1" --dir "$PWD" --save '' \
		--appendonly no --daemonize no --logfile "$PWD/redis.log" >>redis.out 2>&1 </dev/null &
	server_pid=$!
}

# redis_done PORT FIELD: INFO persistence says FIELD:0 (the fork child
# doing the work has finished and been reaped).
redis_done() {
	redis-cli -p "$1" info persistence | grep -q "^$2:0"
}

# BGSAVE and BGREWRITEAOF fork a child that writes the data set and never
# execs; the server waits for it, renames what it wrote and reports.  Then
# SHUTDOWN.
redis_bgsave() {
	if ! serve_on_free_port redis_start; then
		echo "redis did not start"
		tail -n 5 redis.log >&2
		return 1
	fi
	maps_proof "$server_pid"
	local cli=(redis-cli -p "$port") i
	"${cli[@]}" set greeting hello
	for i in 1 2 3; do "${cli[@]}" rpush list "$i" >/dev/null; done
	"${cli[@]}" bgsave
	expect "the save ended" wait_for 10 redis_done "$port" rdb_bgsave_in_progress
	"${cli[@]}" info persistence | grep -E '^(rdb_last_bgsave_status|rdb_changes_since_last_save):' | tr -d '\r'
	"${cli[@]}" bgrewriteaof
	expect "the rewrite ended" wait_for 10 redis_done "$port" aof_rewrite_in_progress
	"${cli[@]}" info persistence | grep -E '^aof_last_bgrewrite_status:' | tr -d '\r'
	ls dump.rdb appendonlydir
	"${cli[@]}" lrange list 0 -1 | tr '\n' ' '
	echo
	"${cli[@]}" shutdown
	echo "redis-cli shutdown: $?"
	wait "$server_pid"
	echo "redis exit: $?"
}

# xinetd in the foreground (-dontfork) with one service on 127.0.0.1:PORT.
xinetd_start() {
	cat >xinetd.conf <<-EOF
	defaults
	{
	    log_type = FILE $PWD/xinetd.log
	}
	service compat-echo
	{
	    type = UNLISTED
	    socket_type = stream
	    protocol = tcp
	    wait = no
	    user = $(id -un)
	    server = $PWD/service.sh
	    bind = 127.0.0.1
	    port = $1
	}
	EOF
	/usr/sbin/xinetd -dontfork -f "$PWD/xinetd.conf" -pidfile "$PWD/xinetd.pid" \
		>>xinetd.out 2>&1 </dev/null &
	server_pid=$!
}

# xinetd forks a process per connection, which execs the service with the
# connection on its fds 0-2 and nothing else (xinetd closes the rest
# itself), with or without the shim.
xinetd_service() {
	cat >service.sh <<-EOF
	#!/bin/sh
	read -r line
	echo "service got \$line"
	"$FDLIST" service
	"$PROBE" "$PROOF"
	EOF
	chmod 755 service.sh
	if ! serve_on_free_port xinetd_start; then
		echo "xinetd did not start"
		tail -n 5 xinetd.log >&2
		return 1
	fi
	maps_proof "$server_pid"
	ask "127.0.0.1:$port" $'one\n'
	ask "127.0.0.1:$port" $'two\n'
	kill -TERM "$server_pid"
	wait "$server_pid"
	echo "xinetd exit after SIGTERM: $?"
}

# uWSGI (Debian's uwsgi-core with the python3 plugin) in the foreground: a
# master and two workers serving a WSGI app over HTTP on 127.0.0.1:PORT.
uwsgi_start() {
	uwsgi --plugin python3 --http-socket "127.0.0.1:$1" --master \
		--processes 2 --wsgi-file "$PWD/app.py" --callable app \
		--die-on-term >>uwsgi.log 2>&1 </dev/null &
	server_pid=$!
}

# uwsgi_up N: the master has (re)started N times and its two workers with it.
uwsgi_up() {
	[[ $(grep -c 'spawned uWSGI master process' uwsgi.log) == "$1" &&
	   $(grep -c 'spawned uWSGI worker 2 ' uwsgi.log) == "$1" ]]
}

# Graceful reloads (SIGHUP) while a client asks without a pause: the master
# execs itself again with UWSGI_RELOADS=N and takes its listener back from
# its fds ("inherited"); no request may be refused.  Without the listener
# the new master binds again and the requests of every reload fail.
# uWSGI itself resets a request now and then as its workers stop for a
# reload: a worker that accepted a connection and has not yet taken it for
# a request exits at once (a reset 20 to 40 ms after the SIGHUP; here 4
# reloads in 360 without the shim, 6 in 360 with it).  So up to one reset
# per reload counts as none; the client's errors are in client.err with
# their times, the reloads' in reloads.
# A request waits up to 30 s: on a busy machine one queued while the new
# master starts Python again took longer than 5 s, also without the shim.
uwsgi_reload() {
	cat >app.py <<-'PY'
	def app(environ, start_response):
	    start_response("200 OK", [("Content-Type", "text/plain")])
	    return [b"served\n"]
	PY
	if ! serve_on_free_port uwsgi_start; then
		echo "uwsgi did not start"
		tail -n 5 uwsgi.log >&2
		return 1
	fi
	local master=$server_pid i
	expect "uwsgi is ready" wait_for 20 uwsgi_up 1
	maps_proof "$master"
	# Requests one after another until told to stop (at most 60 s).
	"$PY" - "$port" >client.out 2>client.err <<-'PY' &
	import os, sys, time, urllib.request
	ok = failed = reset = 0
	deadline = time.monotonic() + 60
	while not os.path.exists("stop") and time.monotonic() < deadline:
	    try:
	        urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1],
	                               timeout=30).read()
	        ok += 1
	    except OSError as e:
	        print("%.3f request failed:" % time.time(), e, file=sys.stderr)
	        if isinstance(getattr(e, "reason", e), ConnectionResetError):
	            reset += 1
	        else:
	            failed += 1
	print("requests served: %s, failed: %d, reset: %s" %
	      (ok > 0, failed, "at most 3" if reset <= 3 else reset))
	PY
	local client=$!
	for i in 1 2 3; do
		sleep 0.5
		date +"%s.%N reload $i" >>reloads
		kill -HUP "$master"
		expect "reload $i: uwsgi is ready again" wait_for 20 uwsgi_up $((i + 1))
		maps_proof_running "$master" uwsgi-core
	done
	sleep 0.5
	touch stop
	wait "$client"
	cat client.out
	echo "the new master inherited its listener: $(grep -c "uwsgi socket 0 inherited INET address 127.0.0.1:$port " uwsgi.log) times of 3"
	kill -TERM "$master"
	wait "$master"
	echo "uwsgi exit after SIGTERM: $?"
	return 0
}
