# HAProxy in master-worker mode, as Debian's unit starts it (-Ws): the
# master re-execs itself and names its socketpair with the worker only in
# HAPROXY_PROCESSES="|type=w;fd=3;pid=...".  A reload through the master
# CLI re-execs it again and starts a new worker, which must serve.

checks_haproxy() {
	check haproxy-master-worker haproxy haproxy_master_worker
}

# haproxy_cli SOCKET COMMAND: one command on the master CLI, its answer.
haproxy_cli() {
	"$PY" - "$1" "$2" <<-'PY'
	import socket, sys
	s = socket.socket(socket.AF_UNIX)
	s.settimeout(10)
	s.connect(sys.argv[1])
	s.sendall(sys.argv[2].encode() + b"\n")
	s.shutdown(socket.SHUT_WR)
	sys.stdout.write(s.makefile().read())
	PY
}

# haproxy_get PORT: the body the worker serves, retried while it starts.
haproxy_get() {
	"$PY" - "$1" <<-'PY'
	import sys, time, urllib.request
	for attempt in range(100):
	    try:
	        print(urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1],
	                                     timeout=10).read().decode())
	        break
	    except OSError:
	        time.sleep(0.1)
	else:
	    sys.exit("nothing serves on port " + sys.argv[1])
	PY
}

# haproxy_workers SOCKET: the worker pids "show proc" lists.
haproxy_workers() {
	haproxy_cli "$1" "show proc" | awk '$2 == "worker" { print $1 }'
}

haproxy_config() {
	cat >haproxy.cfg <<-EOF
	global
	    log stderr format raw local0 notice
	defaults
	    mode http
	    timeout connect 5s
	    timeout client 10s
	    timeout server 10s
	frontend web
	    bind 127.0.0.1:$1
	    http-request return status 200 content-type text/plain string "served by haproxy"
	EOF
}

# haproxy_start: a master on a free loopback port (haproxy cannot bind
# port 0: another program may take the port between the choice and the
# bind, so a start that fails is retried on another port).  Sets
# haproxy_pid and haproxy_port.
haproxy_start() {
	local try
	for try in 1 2 3 4 5; do
		haproxy_port=$(free_port)
		haproxy_config "$haproxy_port"
		rm -f master.sock
		haproxy -Ws -f haproxy.cfg -S "$PWD/master.sock" >>haproxy.out 2>>haproxy.err </dev/null &
		haproxy_pid=$!
		if wait_for 10 haproxy_ready; then
			return 0
		fi
		kill -TERM "$haproxy_pid" 2>/dev/null
		wait "$haproxy_pid" 2>/dev/null
	done
	return 1
}

haproxy_ready() {
	kill -0 "$haproxy_pid" 2>/dev/null || return 2
	[[ -S master.sock && -n $(haproxy_workers "$PWD/master.sock" 2>/dev/null) ]]
}

# wait_new_worker OLD: a worker other than OLD is listed, and OLD is gone.
haproxy_new_worker() {
	local now
	now=$(haproxy_workers "$PWD/master.sock" 2>/dev/null) || return 1
	[[ -n $now && $now != *"$1"* ]]
}

haproxy_master_worker() {
	if ! haproxy_start; then
		echo "haproxy did not start"
		return 1
	fi
	maps_proof "$haproxy_pid"
	local before after
	before=$(haproxy_workers "$PWD/master.sock")
	maps_proof "$before"
	echo "before reload: $(haproxy_get "$haproxy_port")"
	expect "reload accepted" haproxy_cli "$PWD/master.sock" reload
	expect "a new worker replaced the old one" wait_for 20 haproxy_new_worker "$before"
	after=$(haproxy_workers "$PWD/master.sock")
	maps_proof "$after"
	maps_proof "$haproxy_pid"
	echo "after reload: $(haproxy_get "$haproxy_port")"
	echo "master kept its pid: $(kill -0 "$haproxy_pid" 2>/dev/null && echo yes || echo no)"
	echo "workers after reload: $(echo "$after" | wc -w)"
	kill -TERM "$haproxy_pid"
	wait "$haproxy_pid"
	echo "master exit after SIGTERM: $?"
}
