# Apache httpd (Debian's apache2, the prefork MPM) as the daemon it makes
# of itself (`-k start`: fork and setsid(); the shim regroups its
# children), with piped loggers it starts and restarts itself: rotatelogs,
# and shells that run a child of their own (the error log and an access
# log), and mod_cgi.  A graceful restart (SIGUSR1) and a restart (SIGHUP,
# which apache2 also sends to its whole group with killpg()) replace the
# workers and the loggers; the output says which signals each logger got.
# Every path is in the check's directory: the config is a private file
# (`-f`, `-d`); as root the workers and the CGI run as www-data.

checks_apache() {
	check apache-restart apache2,rotatelogs,dash,cat apache_restart
}

APACHE_MODULES=/usr/lib/apache2/modules

# apache_config PORT: the config, every path in the current directory.
apache_config() {
	cat >httpd.conf <<-EOF
	ServerRoot "$PWD"
	LoadModule mpm_prefork_module $APACHE_MODULES/mod_mpm_prefork.so
	LoadModule authz_core_module $APACHE_MODULES/mod_authz_core.so
	LoadModule alias_module $APACHE_MODULES/mod_alias.so
	LoadModule cgi_module $APACHE_MODULES/mod_cgi.so
	$( ((EUID == 0)) && printf 'User www-data\nGroup www-data\n')
	Listen 127.0.0.1:$1
	ServerName localhost
	PidFile "$PWD/run/httpd.pid"
	Mutex "file:$PWD/run" default
	DefaultRuntimeDir "$PWD/run"
	StartServers 2
	MinSpareServers 1
	MaxSpareServers 4
	LogLevel info
	ErrorLog "||/bin/sh $PWD/logger.sh error"
	LogFormat "%r %>s" req
	CustomLog "|/usr/bin/rotatelogs -f $PWD/logs/rotated.%Y 86400" req
	CustomLog "||/bin/sh $PWD/logger.sh access" req
	ScriptAlias /cgi-bin/ "$PWD/cgi/"
	<Directory "$PWD/cgi">
	    Require all granted
	</Directory>
	EOF
}

# The shell logger NAME: a child (cat) writes what apache2 sends to
# logs/NAME.log; the shell writes each signal it gets to logs/signals
# ("NAME: SIG"), TERM ending it.  It makes logs/ready.PID once its traps
# are set, and logs/ended.PID when it has written its last line.  cat
# ignores HUP, USR1 and TERM: only the shell's traps report them, and cat
# writes all that was sent until the last writer closes the pipe.  (Under
# the shim, apache2's SIGTERM to a shell logger reaches the shell's group:
# kill_escalate=shell.  A cat that did not ignore it could end before it
# had read the lines apache2 wrote just before, and the shell could see it
# end before its own TERM.)
#
# At the end of its input the shell waits on while apache2, which
# started it, is still its parent, so an apache2 that means to end it
# always finds it running.  apache2 replaces the error logger on a
# restart (graceful or not) by dup2()ing the new logger's pipe onto its
# stderr, which closes the old pipe's last writer, and then, when
# destroying the old logger's pool (APR's free_proc_chain), sends SIGTERM
# only to a logger that has not exited yet (a waitpid(WNOHANG) first).
# Between the two the old logger's cat sees the end of its input and
# exits, and a busy machine that holds apache2 back there lets the shell
# end before the SIGTERM, without the shim too: the old error logger then
# ended at the end of its input in one run and by TERM in the other.  A
# logger that apache2 no longer parents (the first reading's, whose
# process detached and exited, maybe even before the shell ran) still
# ends at the end of its input.
apache_logger() {
	cat >logger.sh <<-'SH'
	name=$1
	log=${0%/*}/logs
	trap '' HUP USR1 TERM
	{ read -r parent <"/proc/$PPID/comm"; } 2>/dev/null || parent=
	# An asynchronous command's stdin is /dev/null unless redirected.
	exec 3<&0
	cat <&3 >>"$log/$name.log" 3<&- &
	exec 3<&-
	c=$!
	trap 'echo "$name: HUP" >>"$log/signals"' HUP
	trap 'echo "$name: USR1" >>"$log/signals"' USR1
	trap 'echo "$name: TERM" >>"$log/signals"; : >"$log/ended.$$"; exit' TERM
	echo "$name: started" >>"$log/signals"
	: >"$log/ready.$$"
	while kill -0 $c 2>/dev/null; do wait $c; done
	while [ "$parent" = apache2 ] && read -r s <"/proc/$$/stat" &&
	      s=${s##*") "} && s=${s#* } && [ "${s%% *}" = "$PPID" ]; do
		sleep 0.1 &
		wait $!
	done
	echo "$name: end of input" >>"$log/signals"
	: >"$log/ended.$$"
	SH
}

# apache_start: apache2 -k start on a free loopback port (apache2 binds
# before it detaches: a port taken meanwhile makes the command fail, and
# the start is retried on another).  Sets apache_port and apache_master.
apache_start() {
	local try
	for try in 1 2 3 4 5; do
		apache_port=$(free_port)
		apache_config "$apache_port"
		if apache2 -d "$PWD" -f "$PWD/httpd.conf" -k start >>apache.out 2>&1 </dev/null; then
			wait_for 10 test -s run/httpd.pid || break
			apache_master=$(cat run/httpd.pid)
			return 0
		fi
	done
	return 1
}

# apache_kill_left: whatever a failed run left, found by its command line.
apache_kill_left() {
	local p
	for p in /proc/[0-9]*; do
		[[ ${p#/proc/} != "$$" && $(tr '\0' ' ' 2>/dev/null <"$p/cmdline") == *"$PWD/"* ]] &&
			kill -KILL "${p#/proc/}" 2>/dev/null
	done
	return 0
}

# apache_loggers [shells]: the pids of the master's loggers (rotatelogs
# and the shells) and of the shells' children, one per line; or of the
# shells only.
apache_loggers() {
	local p
	for p in $(children "$apache_master"); do
		case ${1:-},$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") in
		,*rotatelogs*) echo "$p" ;;
		,*logger.sh*) echo "$p"; children "$p" ;;
		shells,*logger.sh*) echo "$p" ;;
		esac
	done
}

# apache_settled OLD OLDSHELLS: the master's loggers are new and all there
# (the shells, each with its traps set, their cats and rotatelogs), none
# of the processes OLD runs any more, and each of the shells OLDSHELLS has
# written its last line.  At start-up, the loggers of
# apache2's first reading of its config (before it detaches) are not its
# children and do not count.
apache_settled() {
	local p
	[[ $(apache_loggers | wc -l) == 5 ]] || return 1
	for p in $(apache_loggers shells); do
		[[ -e logs/ready.$p ]] || return 1
	done
	for p in $1; do
		gone "$p" || return 1
	done
	apache_ended "${2:-}"
}

# apache_first_gone: no shell logger of apache2's first reading of its
# config (before it detaches; they are not the master's children) runs
# any more, so each has written its last line.  They end by a signal or at
# the end of their input within moments of the second reading, but on a
# busy machine after the master's new loggers are ready.
apache_first_gone() {
	local p shells=" $(apache_loggers shells | tr '\n' ' ') "
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		if [[ $shells != *" $p "* &&
		      $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") == *"$PWD/logger.sh"* ]] &&
		   ! gone "$p"; then
			return 1
		fi
	done
	return 0
}

# apache_ended SHELLS: each shell logger of SHELLS has written its last line.
apache_ended() {
	local p
	for p in $1; do
		[[ -e logs/ended.$p ]] || return 1
	done
}

# apache_signals: the logger events since the last call, sorted (the old
# loggers' and the new ones' lines interleave as they run).
apache_seen=0
apache_signals() {
	local n
	n=$(wc -l <logs/signals)
	sed -n "$((apache_seen + 1)),${n}p" logs/signals | sort -u | sed 's/^/  logger /'
	apache_seen=$n
}

# apache_ask PATH: the status and body of one request, on one line.
apache_ask() {
	"$PY" - "$apache_port" "$1" <<-'PY'
	import sys, time, urllib.error, urllib.request
	deadline = time.monotonic() + 10
	while True:
	    try:
	        r = urllib.request.urlopen("http://127.0.0.1:%s%s" % tuple(sys.argv[1:]), timeout=10)
	        print(r.status, r.read().decode().strip().replace("\n", " | "))
	        break
	    except urllib.error.HTTPError as e:
	        print(e.code)
	        break
	    except OSError:
	        if time.monotonic() > deadline:
	            sys.exit("nothing serves on port " + sys.argv[1])
	        time.sleep(0.1)
	PY
}

apache_proof() {
	local p
	maps_proof "$apache_master"
	for p in $(children "$apache_master") $(apache_loggers); do
		maps_proof "$p"
	done
}

# apache_left: how many processes of the run still run: apache2 and its
# loggers (their command lines name this directory) and every process
# seen as one of them or as a child of a shell logger.
apache_left() {
	local p n=0
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[[ $p == "$$" || $p == "$BASHPID" ]] && continue
		if [[ " $apache_all " == *" $p "* ||
		      $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") == *"$PWD/"* ]]; then
			gone "$p" || n=$((n + 1))
		fi
	done
	echo "$n"
}

apache_restart() {
	trap apache_kill_left EXIT
	trap 'exit 143' TERM
	mkdir -p cgi logs run
	apache_logger
	cat >cgi/t.cgi <<-EOF
	#!/bin/sh
	printf 'Content-Type: text/plain\r\n\r\n'
	echo "cgi \$REQUEST_METHOD \$QUERY_STRING"
	echo "cgi stderr \$QUERY_STRING" >&2
	EOF
	chmod 755 cgi/t.cgi
	echo "static" >index.txt
	if ! apache_start; then
		echo "apache2 did not start"
		cat apache.out >&2
		return 1
	fi
	expect "loggers started" wait_for 10 apache_settled ""
	expect "the first reading's loggers ended" wait_for 10 apache_first_gone
	apache_proof
	# The loggers of the first reading end at once, by a signal or at the
	# end of their input, in any order: not shown.
	apache_seen=$(wc -l <logs/signals)
	local old shells
	apache_all="$apache_master $(children "$apache_master") $(apache_loggers)"
	echo "request: $(apache_ask '/cgi-bin/t.cgi?first')"
	echo "missing: $(apache_ask /nothing)"

	local phase
	for phase in graceful restart; do
		old=$(apache_loggers)
		shells=$(apache_loggers shells)
		apache2 -d "$PWD" -f "$PWD/httpd.conf" -k "$phase" >>apache.out 2>&1 </dev/null
		echo "-k $phase: $?"
		expect "$phase: new loggers, the old ones gone" wait_for 10 apache_settled "$old" "$shells"
		apache_proof
		echo "same master: $([[ $(cat run/httpd.pid) == "$apache_master" ]] && echo yes || echo no)"
		apache_signals
		apache_all="$apache_all $(children "$apache_master") $(apache_loggers)"
		echo "request: $(apache_ask "/cgi-bin/t.cgi?after-$phase")"
	done

	# graceful-stop, by pid.
	shells=$(apache_loggers shells)
	kill -WINCH "$apache_master"
	expect "apache2 exited" wait_for 10 gone "$apache_master"
	expect "the loggers ended" wait_for 10 eval '[[ $(apache_left) == 0 ]]'
	expect "the shell loggers wrote their last line" wait_for 10 apache_ended "$shells"
	apache_signals
	echo "left running: $(apache_left)"
	echo "access log (shell):"
	sed 's/^/  /' logs/access.log
	echo "access log (rotatelogs):"
	cat logs/rotated.* | sed 's/^/  /'
	echo "the CGI's stderr in the error log: $(grep -c 'AH01215: stderr from .*: cgi stderr ' logs/error.log)"
	echo "error log: $(grep -oE 'AH00(163|170|171|173)' logs/error.log | tr '\n' ' ')"
	grep -E ':(emerg|alert|crit|error)\]' logs/error.log | grep -v AH01215 >&2
	return 0
}
