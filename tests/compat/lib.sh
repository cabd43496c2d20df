# The compatibility suite's harness, sourced by run.sh.
#
# check NAME EXES FUNC [ARGS...]
#     Runs FUNC ARGS twice, in a fresh directory each time: once without
#     the shim, once under it in enforce mode (LD_PRELOAD set, NOLEAK_MODE
#     unset, a log in NOLEAK_LOG).  The check passes when
#       - the run without the shim exits 0 (a check that cannot pass
#         without the shim proves nothing by agreeing with it),
#       - both runs exit with the same status and print the same stdout
#         (FUNC prints only the output that matters, nothing that varies
#         from run to run such as pids or times),
#       - the shim was really there: every program named in EXES (a comma
#         list of executable basenames) left a line "NAME 1" in the proof
#         file of the run under the shim, and nothing left a "1" in the
#         run without it.  The lines come from $PROBE (see probe.c), which
#         FUNC runs inside the program it tests, or from `maps_proof PID`.
#     On failure it shows a short diff, the stderr tails and the log.
#     With COMPAT_MODE=audit the run under the shim is in audit mode, and
#     FUNC is told it runs without the shim (COMPAT_SHIM=0): audit must
#     change nothing, so every check expects exactly what it expects
#     without the shim (the proof still shows the shim was loaded).
#
# Inside FUNC: $PROBE (run it as `$PROBE $PROOF`), $PROOF, $FDLIST,
# $STRESS, $PY (Debian's python3), $TOP, $COMPAT_SHIM (1 under the shim, 0
# without; for the few checks whose expectations differ), and the current
# directory is the run's own scratch directory.

COMPAT_TIMEOUT=${COMPAT_TIMEOUT:-120}

passed=0
failed=0
failed_names=""

say() { printf '%s\n' "$*"; }

# maps_proof PID: the proof line for a process that is running now.
maps_proof() {
	local exe
	exe=$(readlink "/proc/$1/exe") || return 0
	if grep -q /libnoleak.so "/proc/$1/maps" 2>/dev/null; then
		echo "${exe##*/} 1" >>"$PROOF"
	else
		echo "${exe##*/} 0" >>"$PROOF"
	fi
}

# maps_proof_running PID EXE: maps_proof PID, once PID has exec'd EXE and
# the dynamic loader has mapped libc (after the preloads).
maps_proof_running() {
	wait_for 10 is_running "$1" "$2" && maps_proof "$1"
}

is_running() {
	[[ $(readlink "/proc/$1/exe") == */"$2" ]] && grep -q 'libc\.so' "/proc/$1/maps"
}

# kill_strays: whatever a run left behind (a daemon, a tmux server) carries
# COMPAT_RUN=<its directory> in its environment; kill it.
kill_strays() {
	local tag=$1 p
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[[ $p == "$$" || $p == "$BASHPID" ]] && continue
		if grep -qzxF "COMPAT_RUN=$tag" "/proc/$p/environ" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null && echo "killed stray pid $p ($(cat /proc/$p/comm 2>/dev/null))" >>"$tag/strays"
		fi
	done
}

# run_side off|on DIR FUNC [ARGS...]: one run of a check; prints its exit status.
run_side() {
	local side=$1 dir=$2
	shift 2
	mkdir -p "$dir/cwd"
	local env=(COMPAT_RUN="$dir" PROOF="$dir/proof" COMPAT_SHIM=0)
	if [[ $side == on && ${COMPAT_MODE:-enforce} == audit ]]; then
		env=(COMPAT_RUN="$dir" PROOF="$dir/proof" COMPAT_SHIM=0
		     LD_PRELOAD="$LIB" NOLEAK_MODE=audit
		     NOLEAK_LOG="$dir/noleak.log")
	elif [[ $side == on ]]; then
		env=(COMPAT_RUN="$dir" PROOF="$dir/proof" COMPAT_SHIM=1
		     LD_PRELOAD="$LIB" NOLEAK_LOG="$dir/noleak.log")
	fi
	(cd "$dir/cwd" &&
	 exec timeout -k 5 "$COMPAT_TIMEOUT" env "${env[@]}" "$SELF" --one "$@") \
		>"$dir/out" 2>"$dir/err" </dev/null
	echo $?
	kill_strays "$dir"
}

# proof_problem SIDE DIR EXES: why the proof file of a run is wrong, or nothing.
proof_problem() {
	local side=$1 proof=$2/proof exes=$3 exe
	[[ -s $proof ]] || { echo "$side: the probe never ran (no $proof)"; return; }
	if [[ $side == off ]]; then
		grep -q ' 1$' "$proof" && echo "off: the shim was loaded in: $(grep ' 1$' "$proof" | sort -u | tr '\n' ' ')"
		return
	fi
	local IFS=,
	for exe in $exes; do
		grep -qxF "$exe 1" "$proof" ||
			echo "on: no proof that $exe ran with the shim (proof: $(sort -u "$proof" | tr '\n' ' '))"
	done
}

show_failure() {
	local name=$1 why=$2 d=$3
	say "FAIL  $name: $why"
	if ! cmp -s "$d/off/out" "$d/on/out"; then
		say "      stdout, without shim (-) and with it (+):"
		diff -u "$d/off/out" "$d/on/out" | sed -n '3,30s/^/        /p'
	fi
	local side
	for side in off on; do
		if [[ -s $d/$side/err ]]; then
			say "      stderr ($side), last lines:"
			tail -n 8 "$d/$side/err" | cut -c1-200 | sed 's/^/        /'
		fi
	done
	if [[ -s $d/on/noleak.log ]]; then
		say "      shim log, last events:"
		tail -n 4 "$d/on/noleak.log" | cut -c1-300 | sed 's/^/        /'
	fi
	say "      (everything is in $d)"
}

record() {
	local name=$1 why=$2 dir=$3 secs=$4
	if [[ -z $why ]]; then
		passed=$((passed + 1))
		say "ok    $name (${secs}s)"
	else
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		show_failure "$name" "$why" "$dir"
	fi
}

# wanted NAME: whether COMPAT_ONLY (a glob) selects this check.
wanted() {
	[[ -z ${COMPAT_ONLY:-} || $1 == $COMPAT_ONLY ]]
}

check() {
	local name=$1 exes=$2
	shift 2
	wanted "$name" || return 0
	local d=$WORK/$name start=$SECONDS
	rm -rf "$d"
	mkdir -p "$d"
	local rc_off rc_on why=""
	rc_off=$(run_side off "$d/off" "$@")
	rc_on=$(run_side on "$d/on" "$@")
	if [[ $rc_off != 0 ]]; then
		why="fails without the shim too (exit $rc_off): the check is broken"
	elif [[ $rc_on != "$rc_off" ]]; then
		why="exit status $rc_on under the shim, $rc_off without"
		[[ $rc_on == 124 || $rc_on == 137 ]] && why="$why (timed out after ${COMPAT_TIMEOUT}s)"
	elif ! cmp -s "$d/off/out" "$d/on/out"; then
		why="the output differs"
	fi
	if [[ -z $why ]]; then
		why=$(proof_problem off "$d/off" "$exes"; proof_problem on "$d/on" "$exes")
	fi
	record "$name" "$why" "$d" $((SECONDS - start))
}

# expect WHAT COMMAND...: run COMMAND; print WHAT when it succeeds, and
# "WHAT: FAILED (exit N)" otherwise, which also makes the run exit 1.  For
# checks made of several steps: the output says which step broke.
step_failed=0
expect() {
	local what=$1 rc=0
	shift
	"$@" || rc=$?
	if [[ $rc == 0 ]]; then
		echo "$what"
	else
		echo "$what: FAILED (exit $rc)"
		step_failed=1
	fi
	return 0
}

# logged FILE COMMAND...: run COMMAND with stdout and stderr into FILE.
logged() {
	local file=$1
	shift
	"$@" >"$file" 2>&1
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local limit=$(($1 * 10)) i=0
	shift
	until "$@"; do
		((++i > limit)) && return 1
		sleep 0.1
	done
}
