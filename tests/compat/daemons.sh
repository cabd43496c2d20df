# Daemons: a daemon without a terminal that runs script(1), programs
# that call setsid() themselves, systemd-style socket activation, a
# classic double-fork daemon, and sshd, whose pre-authentication child runs
# under a seccomp filter.  ssd_background_setsid (start-stop-daemon
# daemonizing programs that call setsid()) is written but not listed yet:
# see checks_daemons.

checks_daemons() {
	check daemon-setsid-script script daemon_setsid_script
	check program-calls-setsid python3.11 program_calls_setsid
	check socket-activation python3.11,systemd-socket-activate socket_activation
	check socket-activation-accept python3.11,systemd-socket-activate socket_activation_accept
	check double-fork-daemon python3.11 double_fork_daemon
	check sshd-login sshd sshd_login
	check ssd-background-setsid python3.11,dash ssd_background_setsid
}

# A daemon that made itself a session leader (fork, setsid(): the shim
# regroups its children) runs script(1), which makes a pseudo-terminal and
# runs a command on it, needing its own child to become a session leader
# with that terminal; and a program that makes a session of its own with
# setsid(), which a group leader cannot.
daemon_setsid_script() {
	# $PROBE and $PROOF are in the environment; script runs its command
	# with $SHELL -c.
	"$PY" -c '
import os, subprocess, sys
if os.fork():
    sys.exit(0)
os.setsid()
with open("script.out", "w") as out:
    rc = subprocess.call(["script", "-qec", "tty; test -t 0 && echo stdin is a terminal; \"$PROBE\" \"$PROOF\"; exit 4", "/dev/null"],
                         stdout=out, stderr=subprocess.STDOUT)
with open("script.status", "w") as f:
    print("script exit", rc, file=f)
with open("setsid.out", "w") as out:
    rc = subprocess.call([sys.executable, "-c", "import os; os.setsid(); print(\"own session:\", os.getsid(0) == os.getpid())"],
                         stdout=out, stderr=subprocess.STDOUT)
    print("setsid program exit", rc, file=out)' </dev/null >/dev/null 2>&1
	wait_for 20 grep -q "setsid program exit" setsid.out || echo "the daemon did not finish"
	cat script.status
	tr -d '\r' <script.out | sed 's|^/dev/pts/[0-9]*$|/dev/pts/N|'
	cat setsid.out
}

# A child that makes itself a session leader: setsid() fails with EPERM
# when the caller already leads a process group, so a parent (or a shim)
# that gives its child a group of its own breaks it.
program_calls_setsid() {
	local code='import os, sys
os.setsid()
print(sys.argv[1], "setsid ok, own session:", os.getsid(0) == os.getpid())'
	"$PY" -c "$code" "from bash"
	"$PY" - "$code" "$PROBE" "$PROOF" <<-'PY'
	import os, shlex, subprocess, sys
	code, probe, proof = sys.argv[1:]
	subprocess.run([sys.executable, "-c", code, "from subprocess"])
	subprocess.run([probe, proof])
	pid = os.fork()
	if pid == 0:
	    os.execv(sys.executable, [sys.executable, "-c", code, "from fork+exec"])
	os.waitpid(pid, 0)
	sys.stdout.flush()
	os.system(shlex.join([sys.executable, "-c", code, "from system()"]))
	p = os.popen(shlex.join([sys.executable, "-c", code, "from popen()"]))
	print(p.read().strip(), "/ pclose", p.close())
	PY
}

# free_port: a loopback TCP port nobody listens on right now.
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ask HOST:PORT|PATH TEXT: connect, send TEXT, print the reply.
ask() {
	"$PY" - "$1" "$2" <<-'PY'
	import socket, sys, time
	where, text = sys.argv[1:]
	for attempt in range(100):
	    try:
	        if ":" in where:
	            host, port = where.rsplit(":", 1)
	            s = socket.create_connection((host, int(port)), timeout=10)
	        else:
	            s = socket.socket(socket.AF_UNIX)
	            s.settimeout(10)
	            s.connect(where)
	        break
	    except OSError:
	        time.sleep(0.1)
	else:
	    sys.exit("cannot connect to " + where)
	s.sendall(text.encode())
	s.shutdown(socket.SHUT_WR)
	print(s.makefile().read().strip())
	PY
}

# The activated service: LISTEN_FDS listeners from fd 3 on (or, with
# --accept, the connection itself on fd 3).  It answers one client and says
# what it got, then exits.
write_service() {
	cat >service.py <<-'PY'
	import os, socket, subprocess, sys
	probe, proof, accept_mode = sys.argv[1:]
	n = int(os.environ.get("LISTEN_FDS", "0"))
	pid_ok = os.environ.get("LISTEN_PID") == str(os.getpid())
	subprocess.run([probe, proof])
	s = socket.socket(fileno=3)
	conn = s if accept_mode == "yes" else s.accept()[0]
	question = conn.makefile().readline().strip()
	conn.sendall(f"answer to {question}: LISTEN_FDS={n} LISTEN_PID ok={pid_ok} "
	             f"fd3 is {s.type.name}\n".encode())
	conn.close()
	PY
}

# systemd-socket-activate hands the service only the variables it is told
# to, as systemd does (Environment=); the shim's are among them.
ACTIVATE_ENV="-E LD_PRELOAD -E NOLEAK_MODE -E NOLEAK_LOG -E NOLEAK_CONFIG -E COMPAT_RUN -E PATH"

socket_activation() {
	write_service
	local port
	port=$(free_port)
	systemd-socket-activate -l "127.0.0.1:$port" $ACTIVATE_ENV "$PY" service.py "$PROBE" "$PROOF" no \
		>activate.out 2>activate.err &
	local launcher=$!
	maps_proof_running "$launcher" systemd-socket-activate
	ask "127.0.0.1:$port" "first"
	wait "$launcher"
	echo "activated service exit: $?"
}

socket_activation_accept() {
	write_service
	systemd-socket-activate --accept -l "$PWD/svc.sock" $ACTIVATE_ENV "$PY" service.py "$PROBE" "$PROOF" yes \
		>activate.out 2>activate.err &
	local launcher=$!
	maps_proof_running "$launcher" systemd-socket-activate
	ask "$PWD/svc.sock" "one"
	ask "$PWD/svc.sock" "two"
	kill "$launcher"
	wait "$launcher" 2>/dev/null
	return 0
}

# The textbook daemon: fork, setsid, fork again, chdir /, stdio to
# /dev/null, a pid file.  The command that starts it returns at once and
# its caller's $(...) sees EOF; the daemon serves on loopback, then exits.
double_fork_daemon() {
	cat >daemon.py <<-'PY'
	import os, socket, sys
	port_file, pid_file = sys.argv[1:]
	srv = socket.socket()
	srv.bind(("127.0.0.1", 0))
	srv.listen()
	if os.fork():
	    os._exit(0)
	os.setsid()
	if os.fork():
	    os._exit(0)
	os.chdir("/")
	null = os.open("/dev/null", os.O_RDWR)
	for fd in (0, 1, 2):
	    os.dup2(null, fd)
	with open(pid_file + ".tmp", "w") as f:
	    f.write(str(os.getpid()))
	os.rename(pid_file + ".tmp", pid_file)
	with open(port_file, "w") as f:
	    f.write(str(srv.getsockname()[1]))
	srv.settimeout(30)
	conn, _ = srv.accept()
	q = conn.makefile().readline().strip()
	conn.sendall(f"daemon got {q}; session leader={os.getsid(0) == os.getpid()} "
	             f"group leader={os.getpgrp() == os.getpid()}\n".encode())
	conn.close()
	PY
	local t0=$SECONDS started
	started=$("$PY" daemon.py "$PWD/port" "$PWD/pid"; echo "launcher exit $?")
	echo "$started"
	(( SECONDS - t0 < 5 )) && echo "returned at once"
	wait_for 10 test -s pid || { echo "no pid file"; return 1; }
	wait_for 10 test -s port || { echo "no port file"; return 1; }
	local pid
	pid=$(cat pid)
	maps_proof "$pid"
	ask "127.0.0.1:$(cat port)" "hello"
	wait_for 10 eval "! kill -0 $pid 2>/dev/null" && echo "daemon exited"
}

# start-stop-daemon --background --make-pidfile daemonizes the program (it
# forks, the child calls setsid() and forks again, the grandchild writes
# the pid file and execs), then --stop signals the pid in the file.  The
# program runs in a session it does not lead, in a group it does not lead:
# its own setsid() succeeds, as a daemon's first call often is; and
# util-linux setsid(1) calls setsid() in place (it forks only when it
# leads its group), so the pid file names the program it runs, which
# --stop must end.
ssd_background_setsid() {
	cat >daemon.py <<-'PY'
	import os, subprocess, sys, time
	probe, proof, out = sys.argv[1:]
	leader = os.getpgrp() == os.getpid()
	try:
	    os.setsid()
	    result = "succeeded"
	except OSError as e:
	    result = "failed: " + e.strerror
	subprocess.run([probe, proof])
	with open(out + ".tmp", "w") as f:
	    print(f"daemon: led its group at start: {leader}; setsid() {result}", file=f)
	os.rename(out + ".tmp", out)
	time.sleep(60)
	PY
	local ssd=(start-stop-daemon --background --make-pidfile --chdir "$PWD")
	"${ssd[@]}" --start --pidfile "$PWD/daemon.pid" --exec "$PY" -- \
		"$PWD/daemon.py" "$PROBE" "$PROOF" "$PWD/daemon.txt"
	echo "start: $?"
	wait_for 10 test -s daemon.txt || echo "the daemon did not write"
	cat daemon.txt
	local pid
	pid=$(cat daemon.pid)
	start-stop-daemon --stop --pidfile "$PWD/daemon.pid" --retry 5 >/dev/null
	echo "stop: $?"
	echo "daemon after the stop: $(gone "$pid" && echo gone || echo alive)"

	"${ssd[@]}" --start --pidfile "$PWD/sleep.pid" --exec /usr/bin/setsid -- \
		sh -c 'echo $$ >sleeper.pid; "$0" "$1"; exec sleep 60' "$PROBE" "$PROOF"
	echo "start setsid(1): $?"
	wait_for 10 test -s sleeper.pid || echo "setsid(1) did not run its command"
	local sleeper
	sleeper=$(cat sleeper.pid)
	echo "the pid file names setsid(1)'s command: $([[ $(cat sleep.pid) == "$sleeper" ]] && echo yes || echo no)"
	start-stop-daemon --stop --pidfile "$PWD/sleep.pid" --retry 5 >/dev/null
	echo "stop: $?"
	wait_for 1 gone "$sleeper"
	echo "setsid(1)'s command after the stop: $(gone "$sleeper" && echo gone || echo alive)"
	kill -KILL "$pid" "$sleeper" 2>/dev/null
	return 0
}

# listening PORT: whether a socket listens on 127.0.0.1:PORT.
listening() {
	grep -qi " 0100007F:$(printf %04X "$1") 00000000:0000 0A " /proc/net/tcp
}

# sshd -D on loopback with a throwaway host key, client key and config in
# the run's directory; an ssh client logs in as root with the key and runs
# commands: one with an exit status, one fed on stdin.  sshd's
# pre-authentication child reads the client under a seccomp filter that
# kills the process for any call it does not allow; the read watchdog
# (audit's default, or read_warn) must make none there.  Once per mode:
# audit, enforce, enforce with read_warn.  Needs root (privilege
# separation).
sshd_login() {
	local mode port sp ssh
	mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f hostkey || return 1
	ssh-keygen -q -t ed25519 -N '' -f clientkey || return 1
	cp clientkey.pub authorized_keys
	chmod 600 authorized_keys
	for mode in audit enforce "enforce NOLEAK_READ_WARN=30"; do
		port=$(free_port)
		cat >sshd_config <<-EOF
		Port $port
		ListenAddress 127.0.0.1
		HostKey $PWD/hostkey
		PidFile none
		AuthorizedKeysFile $PWD/authorized_keys
		PermitRootLogin prohibit-password
		StrictModes no
		UsePAM no
		LogLevel ERROR
		EOF
		echo "-- $mode"
		env NOLEAK_MODE=$mode /usr/sbin/sshd -D -e -f "$PWD/sshd_config" 2>>sshd.err &
		sp=$!
		wait_for 10 listening "$port" || echo "sshd does not listen"
		maps_proof "$sp"
		ssh=(env NOLEAK_MODE=$mode ssh -F none -i "$PWD/clientkey" -p "$port"
		     -o IdentitiesOnly=yes -o StrictHostKeyChecking=no
		     -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
		     -o BatchMode=yes root@127.0.0.1)
		"${ssh[@]}" 'echo hello from $(id -un); exit 7' </dev/null
		echo "ssh exit $?"
		echo fed | "${ssh[@]}" 'read line; echo "got $line"'
		echo "ssh exit $?"
		kill "$sp"
		wait "$sp"
		echo "sshd exit $?"
	done
}
