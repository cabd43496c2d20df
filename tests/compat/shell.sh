# bash: process substitution, fds opened with exec and handed to children,
# pipelines, wait, and job control in an interactive shell on a terminal.
#
# The checks' own code runs in a bash under the shim (run.sh --one), so
# these functions are the bash under test; the programs they start are its
# children.  Children that are not shells (python3, fdlist) show what they
# really got: a shell passes fds on without looking at them.

checks_shell() {
	check bash-process-substitution bash bash_process_substitution
	check bash-exec-fd-to-child bash,python3.11 bash_exec_fd_to_child
	check bash-named-fd bash,python3.11 bash_named_fd
	check bash-pipelines bash bash_pipelines
	check bash-wait bash bash_wait
	check bash-job-control tmux,bash bash_job_control
	check bash-bg-read cat bash_bg_read
}

bash_process_substitution() {
	diff <(printf 'a\nb\nc\n') <(printf 'a\nB\nc\n') | grep '^[<>]'
	# A program that is not a shell opens /dev/fd/N itself.
	"$PY" -c 'import sys; print("python read:", open(sys.argv[1]).read().strip())' \
		<(echo from-substitution; "$PROBE" "$PROOF")
	printf '%s\n' one two three > >(tr a-z A-Z >upper.txt)
	wait $!
	cat upper.txt
	local n=0
	while read -r _; do n=$((n + 1)); done < <(seq 1 500)
	echo "read $n lines"
}

bash_exec_fd_to_child() {
	exec 3>out3.txt
	"$FDLIST" child
	"$PY" -c 'import os, subprocess, sys
os.write(3, b"written by python on fd 3\n")
subprocess.run(sys.argv[1:])' "$PROBE" "$PROOF"
	sh -c 'echo "written by sh on fd 3" >&3'
	exec 3>&-
	cat out3.txt
	exec 4<out3.txt
	"$PY" -c 'import os; print("python read fd 4:", os.read(4, 100).decode().splitlines()[0])'
	exec 4<&-
}

bash_named_fd() {
	local fd
	exec {fd}>named.txt
	"$FDLIST" child | sed "s/\b$fd\b/NAMED/"
	"$PY" -c 'import os, subprocess, sys
os.write(int(sys.argv[1]), b"child wrote to the named fd\n")
subprocess.run(sys.argv[2:])' "$fd" "$PROBE" "$PROOF"
	exec {fd}>&-
	cat named.txt
}

bash_pipelines() {
	seq 1 20000 | grep 7 | sort -rn | head -n 3
	seq 1 100000 | "$PY" -c 'import sys; print(sum(map(int, sys.stdin)))' | cat
	# head exits early: the writers die of SIGPIPE, and nothing waits on
	# an end that another process still holds.
	yes | head -n 2
	false | true | (exit 3)
	echo "pipestatus ${PIPESTATUS[*]}"
	seq 3 | while read -r x; do echo "line $x"; done | "$PROBE" "$PROOF"
}

bash_wait() {
	(sleep 0.3; exit 3) &
	local a=$!
	(exit 5) &
	local b=$!
	sleep 0.5 &
	wait "$a"
	echo "wait a: $?"
	wait "$b"
	echo "wait b: $?"
	wait
	echo "wait all: $?"
	(sleep 0.2; exit 7) &
	(sleep 5; exit 8) &
	local slow=$!
	wait -n
	echo "wait -n: $?"
	kill "$slow"
	wait "$slow"
	echo "killed job: $?"
	"$PROBE" "$PROOF"
}

# An interactive bash in a tmux pane (a real pseudo-terminal): ^C stops the
# foreground job, ^Z suspends it, fg brings it back.  This needs bash's
# process groups and the terminal's foreground group to agree.
bash_job_control() {
	local sock=$PWD/tmux.sock
	tmux -S "$sock" -f /dev/null new-session -d -x 150 -y 40 \
		env PS1='$ ' bash --norc --noprofile -i || return 1
	pane_cmd "$sock" "$PROBE $PROOF; echo probed" '^probed$'
	pane_key "$sock" 'sleep 60' Enter
	wait_for 10 pane_runs "$sock" sleep
	pane_key "$sock" C-c
	pane_cmd "$sock" 'echo "after ^C: rc=$?"' 'after \^C: rc=[0-9]+$'
	pane_key "$sock" 'sleep 60' Enter
	wait_for 10 pane_runs "$sock" sleep
	pane_key "$sock" C-z
	pane_wait "$sock" 'Stopped +sleep 60'
	pane_cmd "$sock" 'jobs; echo "jobs listed"' 'jobs listed$'
	pane_key "$sock" fg Enter
	pane_wait "$sock" '^sleep 60$'
	wait_for 10 pane_runs "$sock" sleep
	pane_key "$sock" C-c
	pane_cmd "$sock" 'echo "after fg and ^C: rc=$?"' 'after fg and \^C: rc=[0-9]+$'
	pane_cmd "$sock" 'echo "jobs left: $(jobs | wc -l)"' 'jobs left: [0-9]+$'
	tmux -S "$sock" capture-pane -p -S - >pane.txt
	tmux -S "$sock" kill-server
	grep -E '^(after|jobs left|\[1\])' pane.txt | sed 's/  */ /g'
}

# cat reading the terminal of an interactive bash in tmux, suspended with
# ^Z and sent on with bg: its read is begun again in a background process
# group, and SIGTTIN stops it at once.  The read watchdog (audit's default,
# or read_warn) waits for the terminal in poll(), which no job control
# reaches: it must hand such a read back to the kernel.  Once per mode.
bash_bg_read() {
	local sock mode sh cat n=0
	for mode in audit "enforce NOLEAK_READ_WARN=5"; do
		echo "-- $mode"
		sock=$PWD/tmux.$((++n)).sock
		tmux -S "$sock" -f /dev/null new-session -d -x 150 -y 40 \
			env NOLEAK_MODE=$mode PS1='$ ' bash --norc --noprofile -i ||
			return 1
		pane_cmd "$sock" 'echo ready' '^ready$'
		pane_key "$sock" cat Enter
		wait_for 10 pane_runs "$sock" cat
		sh=$(tmux -S "$sock" display-message -p '#{pane_pid}')
		cat=$(pgrep -P "$sh" -x cat)
		maps_proof_running "$cat" cat
		pane_key "$sock" C-z
		pane_wait "$sock" 'Stopped +cat'
		pane_key "$sock" bg Enter
		# Stopped by SIGTTIN at once without the shim; 3 s is plenty.
		if wait_for 3 proc_stopped "$cat"; then
			echo "cat after bg: stopped"
		else
			echo "cat after bg: $(awk '{print $3}' "/proc/$cat/stat")"
		fi
		kill -KILL "$cat"
		tmux -S "$sock" kill-server
	done
}

# proc_stopped PID: whether PID is stopped (state T).
proc_stopped() {
	[[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == T ]]
}

pane_key() {
	local sock=$1
	shift
	tmux -S "$sock" send-keys "$@"
}

# pane_wait SOCK REGEX: wait up to 10 s for a pane line matching REGEX.
pane_wait() {
	wait_for 10 pane_has "$1" "$2" ||
		{ echo "pane never showed /$2/" >&2; tmux -S "$1" capture-pane -p >&2; }
}

# pane_runs SOCK NAME: whether NAME is the terminal's foreground process.
pane_runs() {
	[[ $(tmux -S "$1" display-message -p '#{pane_current_command}') == "$2" ]]
}

pane_has() {
	tmux -S "$1" capture-pane -p -S - | grep -Eq "$2"
}

# pane_cmd SOCK COMMAND REGEX: type COMMAND, wait for its output line.
pane_cmd() {
	pane_key "$1" "$2" Enter
	pane_wait "$1" "$3"
}
