# coreutils, findutils and util-linux: timeout, nohup, xargs -P, find -exec,
# env -i, flock on an fd, and the exec-in-place wrappers (env, nice, nohup,
# setsid, stdbuf) handing on an fd that their parent passed on purpose.

checks_coreutils() {
	check timeout timeout,probe coreutils_timeout
	check timeout-grandchild timeout coreutils_timeout_grandchild
	check nohup probe coreutils_nohup
	check xargs-parallel xargs coreutils_xargs
	check find-exec find coreutils_find_exec
	check env-i probe coreutils_env_i
	check flock-fd flock coreutils_flock_fd
	check wrappers-pass-fds python3.11,probe coreutils_wrappers_pass_fds
}

coreutils_timeout() {
	timeout 5 "$PROBE" "$PROOF"
	echo "fast command: $?"
	timeout 0.5 sleep 10
	echo "slow command: $?"
	timeout -s INT 0.5 sleep 10
	echo "slow command, SIGINT: $?"
	timeout -k 0.5 0.3 sh -c 'trap "" TERM; sleep 10'
	echo "ignores TERM, killed: $?"
	timeout 5 sh -c 'exit 9'
	echo "exit status passed on: $?"
}

# timeout(1) signals its whole process group, so a command's own children
# go too; the reader of the output sees EOF at once.
coreutils_timeout_grandchild() {
	local t0=$SECONDS
	timeout 1 sh -c 'sleep 30 & echo $! >grandchild.pid; "$0" "$1"; wait' "$PROBE" "$PROOF" | cat
	echo "timeout: ${PIPESTATUS[0]}"
	local pid
	pid=$(cat grandchild.pid)
	if wait_for 5 eval "! kill -0 $pid 2>/dev/null"; then
		echo "grandchild gone"
	else
		echo "grandchild $pid still running"
		kill "$pid"
	fi
	(( SECONDS - t0 < 10 )) && echo "pipe closed in time"
}

coreutils_nohup() {
	nohup sh -c 'kill -HUP $$; echo "survived SIGHUP"' >nohup.txt 2>nohup.err
	echo "nohup: $?"
	cat nohup.txt
	nohup "$PROBE" "$PROOF" >/dev/null 2>&1
	# Without a terminal on stdout, nohup leaves stdout alone and says so
	# on stderr only when it redirects.
	nohup "$FDLIST" nohup-child 2>&1
}

coreutils_xargs() {
	seq 1 40 | xargs -P 4 -n 5 sh -c 'echo $(($1 + $2 + $3 + $4 + $5))' _ | sort -n | tr '\n' ' '
	echo
	seq 1 8 | xargs -P 3 -I{} "$FDLIST" "job{}" | sort
	seq 1 4 | xargs -P 2 -n 1 sh -c 'exit $(($1 == 3 ? 255 : 0))' _ 2>/dev/null
	echo "xargs when a command exits 255: $?"
	echo x | xargs "$PROBE" "$PROOF" >/dev/null 2>&1
	echo "$PROOF" | xargs "$PROBE"
}

coreutils_find_exec() {
	mkdir -p tree/a/b tree/c
	local i
	for i in 1 2 3; do seq "$i" >"tree/a/f$i.txt"; done
	seq 10 >tree/a/b/g.txt
	seq 7 >tree/c/h.log
	find tree -name '*.txt' -exec wc -l {} + | sort
	find tree -name '*.txt' -exec sh -c 'echo "$(basename "$1"): $(head -n 1 "$1")"' _ {} \; | sort
	find tree -name '*.log' -execdir "$FDLIST" {} \;
	find tree -name h.log -exec "$PROBE" "$PROOF" \;
	find tree -name g.txt -exec false {} \; -o -print | sort
}

coreutils_env_i() {
	env -i "$FDLIST" env-i-child
	env -i PATH=/usr/bin:/bin FOO=bar "$PY" -c \
		'import os; print(sorted(k for k in os.environ if k != "LC_CTYPE"))'
	env "$PROBE" "$PROOF"
	env -i "$PROBE" "$PROOF"
	env -u HOME sh -c 'echo "HOME=${HOME-unset}"'
}

# flock(1) locks an fd the shell opened; the lock belongs to that open file,
# so it holds after flock exits, until the shell unlocks it.
coreutils_flock_fd() {
	exec 9>lockfile
	flock -n 9 && echo "locked fd 9"
	flock -n lockfile true
	echo "another open of the file, while locked: $?"
	flock -u 9
	flock -n lockfile "$PROBE" "$PROOF"
	echo "after unlock: $?"
	(
		flock -s 9 || exit 1
		flock -n -x lockfile true
		echo "exclusive while shared held: $?"
		flock -n -s lockfile true
		echo "shared while shared held: $?"
	) 9<lockfile
	exec 9>&-
}

# A python3 parent passes one pipe end with pass_fds to a wrapper that
# execs the real program in place; the program must still hold it and be
# able to write to it.
coreutils_wrappers_pass_fds() {
	"$PY" - "$FDLIST" "$PROBE" "$PROOF" <<-'PY'
	import os, subprocess, sys
	fdlist, probe, proof = sys.argv[1:]
	wrappers = [["env"], ["env", "-i"], ["nice", "-n", "1"], ["nohup"],
	            ["setsid"], ["setsid", "-w"], ["stdbuf", "-oL"]]
	for w in wrappers:
	    r, wr = os.pipe()
	    name = " ".join(w)
	    listing = subprocess.run(w + [fdlist, name], pass_fds=(wr,),
	                             capture_output=True, text=True)
	    print(listing.stdout.strip().replace(str(wr), "PASSED"),
	          "exit", listing.returncode)
	    subprocess.run(w + ["sh", "-c", f'echo "via {name}" >&{wr}'],
	                   pass_fds=(wr,), stderr=subprocess.DEVNULL)
	    os.close(wr)
	    print(" ", os.read(r, 100).decode().strip() or "nothing came through")
	    os.close(r)
	subprocess.run(["env", probe, proof], check=True)
	PY
}
