#!/bin/bash
# `make bench`: what libnoleak costs, measured in one run beside no shim, an
# empty preload and the alternatives (strace, valgrind).
#
# A benchmark, not a test: whatever the numbers, it exits 0; it exits
# non-zero only when it cannot run at all.  Each figure is printed with its
# goal and says MET or MISSED; the same data goes to build/bench.json.
#
#   BENCH_QUICK=1   a short run (about four minutes) instead of about 15
#   BENCH_FIGURES   the figures to run (default: all, see FIGURES)
#   BENCH_LIB       the library to measure (default: build/libnoleak.so),
#                   e.g. an older build to compare with
#   BENCH_WORKLOADS the real workloads to run (default: configure make git python)
#   CC              compiler for the harnesses (default gcc)
#
# How it measures: the variants of a figure (no shim, empty preload, shim in
# each mode) are run alternately, round after round, in forward then reverse
# order, so a drift of the machine hits all of them alike.  Rounds go on
# until every median is stable, bounded by a round count and a time cap.
# Each sample is one process; the table shows the median, min-max and the
# ratio to the row's baseline (the median of the per-round ratios).
#
# Adding a figure: write fig_<name> (register variants with `variant`, run
# them with `alternate`, describe the table rows with `row`) and append
# <name> to FIGURES.  Nothing else changes.
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
B=$TOP/build
OUT=$B/bench
LIB=${BENCH_LIB:-$B/libnoleak.so}
EMPTY=$B/empty.so
# The shim built never to initialise (make bench builds it): every call
# passes straight through; the
# floor of start-up.  Only beside the default library.
LOADONLY=$B/libnoleak-load.so
[[ -z ${BENCH_LIB:-} && -f $LOADONLY ]] || LOADONLY=
REPORT_TOOL=$B/noleak-report
JSON=$B/bench.json
CC=${CC:-gcc}
QUICK=${BENCH_QUICK:-0}
[[ $QUICK == 0 || -z $QUICK ]] && QUICK=0 || QUICK=1

FIGURES=${BENCH_FIGURES:-machine startup instructions spawn fdexec micro dd workloads shell report}

SAMPLES=$OUT/samples.tsv   # group, figure, variant, value
ROWS=$OUT/rows.tsv         # one line per table row, see row()
NOTES=$OUT/notes.txt       # lines printed under the table
ERRLOG=$OUT/errors.log     # stderr of the harnesses
TOL=0.01                   # a median is stable when a round moves it < 1 %

declare -A CMD FAILED SCALE
declare -A VARS

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }
note() { echo "$*" >>"$NOTES"; }
# q ARGS: the arguments quoted for eval, so paths may hold any character.
q() { printf '%q ' "$@"; }
# thousands N: 1048576 -> 1,048,576
thousands() {
	local n=$1 out=""
	while ((${#n} > 3)); do
		out=",${n: -3}$out"
		n=${n:0:${#n}-3}
	done
	echo "$n$out"
}

# --- building ---------------------------------------------------------------

build_harnesses() {
	mkdir -p "$OUT" || die "cannot create $OUT"
	local src
	for src in "$TOP"/tests/bench/*.c; do
		local name=${src##*/}
		name=${name%.c}
		[[ $name == empty ]] && continue   # the preload, built by make
		"$CC" -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -O2 \
			-o "$OUT/$name" "$src" || die "cannot compile $src"
	done
}

# --- measuring --------------------------------------------------------------

# variant GROUP VAR CMD...: register how one variant of a group is run.  CMD
# prints one sample per run: a line "<value> ..." (recorded under GROUP) or
# lines "<figure> <value>" (one group measuring several figures at once).
variant() {
	local g=$1 v=$2
	shift 2
	CMD[$g/$v]=$(q "$@")
	VARS[$g]="${VARS[$g]:-} $v"
}

record() {  # GROUP FIGURE VAR VALUE
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$SAMPLES"
}

# measure GROUP VAR: one run of the variant, its sample(s) recorded.
measure() {
	local g=$1 v=$2 out
	if ! out=$(eval "${CMD[$g/$v]}" 2>>"$ERRLOG"); then
		FAILED[$g/$v]=1
		say "$g/$v could not run (see $ERRLOG)"
		note "$g/$v could not run: see $ERRLOG"
		return 1
	fi
	awk -v g="$g" -v v="$v" -v k="${SCALE[$g/$v]:-1}" '
		NF == 0 { next }
		$1 ~ /^[0-9.]+$/ { printf "%s\t%s\t%s\t%.4f\n", g, g, v, $1 * k; next }
		$2 ~ /^[0-9.]+$/ { printf "%s\t%s\t%s\t%.4f\n", g, $1, v, $2 * k }
	' <<<"$out" >>"$SAMPLES"
}

# stable GROUP: whether the last round moved no median of the group by more
# than TOL.
stable() {
	awk -F '\t' -v g="$1" -v tol="$TOL" '
		function median(key, upto,   i, j, n, t, a) {
			n = 0
			for (i = 1; i <= upto; i++) a[++n] = val[key, i]
			for (i = 2; i <= n; i++) {
				t = a[i]
				for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
				a[j + 1] = t
			}
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		$1 == g { k = $2 SUBSEP $3; val[k, ++cnt[k]] = $4 }
		END {
			for (k in cnt) {
				if (cnt[k] < 3) exit 1
				now = median(k, cnt[k]); before = median(k, cnt[k] - 1)
				if (now <= 0 || (now - before) / now > tol || (before - now) / now > tol)
					exit 1
			}
			exit 0
		}' "$SAMPLES"
}

# alternate GROUP MIN_ROUNDS MAX_ROUNDS CAP_SECONDS: run every variant of
# the group once per round, forward on even rounds and backward on odd ones,
# until the medians are stable (at least MIN rounds, at most MAX, and no new
# round once CAP seconds have gone).
alternate() {
	local g=$1 min=$2 max=$3 cap=$4 r=0 start=$SECONDS v
	local -a vars order
	read -ra vars <<<"${VARS[$g]}"
	while ((r < max)); do
		order=()
		for v in "${vars[@]}"; do
			if ((r % 2)); then order=("$v" "${order[@]}"); else order+=("$v"); fi
		done
		for v in "${order[@]}"; do
			[[ -n ${FAILED[$g/$v]:-} ]] || measure "$g" "$v"
		done
		r=$((r + 1))
		((r >= min)) || continue
		((SECONDS - start >= cap)) && break
		stable "$g" && break
	done
	say "$g: $r rounds, $((SECONDS - start)) s"
}

# row FIGURE LABEL VAR TEXT UNIT BASE GOAL ARG REF GOALTEXT [STATUS]
#   FIGURE   the figure's samples (a group, or a figure a group measured)
#   LABEL    the figure column (printed once per figure)
#   VAR      the variant; TEXT its description in the table
#   BASE     the variant the ratio is taken against
#   GOAL     "" (none), ratio_le (ratio <= ARG), value_le (median <= ARG),
#            added_le (median - BASE <= ARG * (REF - BASE)), added_of (the
#            share (median - BASE) / (REF - BASE) shown, no verdict: a floor)
#   STATUS   set instead of measuring ("not built yet")
row() {
	local IFS=$'\t'
	local -a fields=("$@")
	while ((${#fields[@]} < 11)); do fields+=(""); done
	echo "${fields[*]}" >>"$ROWS"
}

# --- figures ----------------------------------------------------------------

# What this machine charges for a system call and a page fault
# (faultcost.c): the units the shim's remaining cost is counted in.  A
# page fault costs an order of magnitude more than a call on a virtual
# machine, which is why start-up and fork children avoid them.
fig_machine() {
	variant machine run "$OUT/faultcost"
	if ((QUICK)); then alternate machine 3 3 10; else alternate machine 5 7 20; fi
	local f="what this machine charges"
	row syscall "$f" run "system call (getppid)" us - "" "" "" ""
	row fault_file "$f" run "page fault, file page in memory" us - "" "" "" ""
	row fault_anon "$f" run "page fault, new anonymous page" us - "" "" "" ""
	row fault_cow "$f" run "page fault, fork child's first write" us - "" "" "" ""
	row populate_page "$f" run "MADV_POPULATE_READ, per page" us - "" "" "" ""
	note "what this machine charges: us each (faultcost.c); the shim's remaining start-up and spawn cost is counted in these (README: Benchmarks)."
}

# Start-up and exit of /bin/true: the driver is never preloaded; only the
# child gets LD_PRELOAD (through BENCH_CHILD_), so this is what every
# process of a host pays to load the shim.
fig_startup() {
	local n=$((QUICK ? 200 : 400)) s=$OUT/spawn
	local audit=(BENCH_CHILD_NOLEAK_MODE=audit "BENCH_CHILD_NOLEAK_LOG=$TMP/startup-audit.log")
	variant startup none "$s" posix_spawn $n
	variant startup empty env BENCH_CHILD_LD_PRELOAD="$EMPTY" "$s" posix_spawn $n
	[[ -n $LOADONLY ]] &&
		variant startup load env BENCH_CHILD_LD_PRELOAD="$LOADONLY" "$s" posix_spawn $n
	variant startup off env BENCH_CHILD_LD_PRELOAD="$LIB" BENCH_CHILD_NOLEAK_MODE=off "$s" posix_spawn $n
	variant startup enforce env BENCH_CHILD_LD_PRELOAD="$LIB" BENCH_CHILD_NOLEAK_MODE=enforce "$s" posix_spawn $n
	variant startup audit env BENCH_CHILD_LD_PRELOAD="$LIB" "${audit[@]}" "$s" posix_spawn $n
	if ((QUICK)); then alternate startup 5 5 12; else alternate startup 5 20 45; fi
	local f="start+exit /bin/true" u=us g="<= 1.03x empty"
	row startup "$f" none "no preload" $u empty "" "" "" ""
	row startup "$f" empty "empty preload" $u none "" "" "" ""
	[[ -n $LOADONLY ]] &&
		row startup "$f" load "shim loaded, never in force" $u empty "" "" "" ""
	row startup "$f" off "shim, NOLEAK_MODE=off" $u empty "" "" "" ""
	row startup "$f" enforce "shim, enforce" $u empty ratio_le 1.03 "" "$g"
	row startup "$f" audit "shim, audit (log to file)" $u empty "" "" "" ""
	[[ -n $LOADONLY ]] &&
		note "start+exit /bin/true: \"never in force\" is the shim built never to initialise (build/libnoleak-load.so: its constructor does nothing, every interposed call passes straight through): loading the library, the floor no change to start-up removes."
	note "start+exit /bin/true: us per spawn, $n posix_spawns of /bin/true per sample (at least 2,000 per variant in a full run); the driver is not preloaded, /bin/true is."
}

# User-space instructions, counted by valgrind's callgrind: the same count
# in every run whatever the machine is doing, so it shows a change in the
# shim's own work at start-up that the timed figures above cannot resolve
# (a few thousand instructions are a microsecond or two).  The kernel's part
# (mapping the library, page faults) is not in it.  The fd limit is 64 so
# that the fds valgrind keeps at the top of the table for itself do not
# lengthen the shim's look at the inherited fds.  Two programs per sample:
# /bin/true, and a shell that forks once, whose first fork (or handler)
# looks up every real symbol (shim/base/real.h).
instructions() {  # PRELOAD MODE: prints "instr_true N" and "instr_sh N"
	local pre=$1 mode=$2 prog
	for prog in true sh; do
		local cmd=(/bin/true)
		[[ $prog == sh ]] && cmd=(/bin/sh -c '/bin/true; exit 0')
		local n
		n=$(ulimit -n 64 && env ${pre:+LD_PRELOAD="$pre"} NOLEAK_MODE="$mode" \
			NOLEAK_LOG="$TMP/instructions.log" valgrind --tool=callgrind \
			--callgrind-out-file=/dev/null "${cmd[@]}" 2>&1 >/dev/null |
			awk '/refs:/ { gsub(",", "", $NF); print $NF }')
		[[ -n $n ]] || return 1
		echo "instr_$prog $((n / 1000))"
	done
}

fig_instructions() {
	if ! command -v valgrind >/dev/null; then
		note "instructions: skipped, valgrind is not installed"
		return 0
	fi
	variant instr empty instructions "$EMPTY" enforce
	[[ -n $LOADONLY ]] && variant instr load instructions "$LOADONLY" enforce
	variant instr enforce instructions "$LIB" enforce
	variant instr audit instructions "$LIB" audit
	alternate instr 1 1 60
	local f
	for f in true sh; do
		local label="instructions, /bin/true"
		[[ $f == sh ]] && label="instructions, sh forking once"
		row instr_$f "$label" empty "empty preload" "k instr" - "" "" "" ""
		[[ -n $LOADONLY ]] &&
			row instr_$f "$label" load "shim loaded, never in force" "k instr" empty "" "" "" ""
		row instr_$f "$label" enforce "shim, enforce" "k instr" empty "" "" "" ""
		row instr_$f "$label" audit "shim, audit (log to file)" "k instr" empty "" "" "" ""
	done
	note "instructions: thousands of user-space instructions of one process (callgrind, fd limit 64), the same in every run; no goal: what the timed start-up and spawn figures are made of, the loader's work on the library (\"never in force\" minus empty) apart from the shim's own."
}

# The ways a program starts another: the driver and its children are both
# preloaded, as under `noleak CMD`.  One group per method.
fig_spawn() {
	local n=$((QUICK ? 100 : 200)) s=$OUT/spawn m
	local audit=(NOLEAK_MODE=audit "NOLEAK_LOG=$TMP/spawn-audit.log")
	for m in forkexec vfork posix_spawn system popen; do
		variant "$m" none "$s" $m $n
		variant "$m" empty env LD_PRELOAD="$EMPTY" "$s" $m $n
		[[ -n $LOADONLY ]] && variant "$m" load env LD_PRELOAD="$LOADONLY" "$s" $m $n
		variant "$m" enforce env LD_PRELOAD="$LIB" NOLEAK_MODE=enforce "$s" $m $n
		variant "$m" audit env LD_PRELOAD="$LIB" "${audit[@]}" "$s" $m $n
		if ((QUICK)); then alternate "$m" 5 5 3; else alternate "$m" 7 20 14; fi
	done
	local f g="<= 1.03x empty"
	for m in forkexec:"fork+execve" vfork:"vfork+execve" posix_spawn:posix_spawn \
		system:'system("true")' popen:'popen("true")'; do
		f=${m#*:}
		m=${m%%:*}
		row "$m" "$f" none "no preload" us empty "" "" "" ""
		row "$m" "$f" empty "empty preload" us none "" "" "" ""
		[[ -n $LOADONLY ]] &&
			row "$m" "$f" load "shim loaded, never in force" us empty "" "" "" ""
		row "$m" "$f" enforce "shim, enforce" us empty ratio_le 1.03 "" "$g"
		[[ -n $LOADONLY ]] &&
			row "$m" "$f" enforce "shim, enforce" us load "" "" "" ""
		row "$m" "$f" audit "shim, audit (log to file)" us empty "" "" "" ""
	done
	note "fork+execve ... popen: us per spawn of /bin/true (system/popen: sh -c true), $n per sample; driver and child preloaded alike."
	[[ -n $LOADONLY ]] &&
		note "fork+execve ... popen: \"never in force\" loads that library in the driver and every child (the floor of any spawn: loading it and entering its interposers); the second enforce ratio is to that floor, what the shim's work at start-up, fork and exec adds."
}

# exec with 1,000 open fds, RLIMIT_NOFILE at 1,024 and at the largest hard
# limit allowed.  The shim's sweep must not care about the limit; the naive
# close-everything loop of legacy daemons does.
fig_fdexec() {
	local n=$((QUICK ? 60 : 200)) x=$OUT/fdexec max
	max=$("$x" plain max 1 2>>"$ERRLOG" | awk '{ print $2 }')
	[[ -n $max ]] || max="max"
	local preload=(env LD_PRELOAD="$LIB" NOLEAK_MODE=enforce)
	variant fdexec none_1024 "$x" plain 1024 $n
	variant fdexec none_max "$x" plain max $n
	variant fdexec enforce_1024 "${preload[@]}" "$x" plain 1024 $n
	variant fdexec enforce_max "${preload[@]}" "$x" plain max $n
	variant fdexec naive_1024 "$x" naive 1024 $n
	variant fdexec naive_max "$x" naive max $n
	# Audit logs each fd it would close: far slower, so fewer execs.
	variant fdexec audit_1024 env LD_PRELOAD="$LIB" NOLEAK_MODE=audit \
		NOLEAK_LOG="$TMP/fdexec-audit.log" "$x" plain 1024 $((n / 10))
	if ((QUICK)); then alternate fdexec 5 5 5; else alternate fdexec 5 11 25; fi
	local f="exec, 1,000 fds" M
	M=$(thousands "$max")
	row fdexec "$f" none_1024 "no shim, rlimit 1,024" us none_1024 "" "" "" ""
	row fdexec "$f" naive_1024 "naive close loop, rlimit 1,024" us none_1024 "" "" "" ""
	row fdexec "$f" enforce_1024 "shim, rlimit 1,024" us none_1024 "" "" "" ""
	row fdexec "$f" audit_1024 "shim, audit (log to file), rlimit 1,024" us none_1024 "" "" "" ""
	row fdexec "$f" none_max "no shim, rlimit $M" us none_1024 "" "" "" ""
	row fdexec "$f" naive_max "naive close loop, rlimit $M" us none_max "" "" "" ""
	row fdexec "$f" enforce_max "shim, rlimit $M" us enforce_1024 ratio_le 1.10 "" \
		"independent of rlimit (<= 1.10x)"
	row fdexec "$f" enforce_max "shim, rlimit $M: added vs naive" us none_max added_le 0.01 naive_max \
		">= 100x less added than naive"
	note "exec, 1,000 fds: us per fork+execve of /bin/true with 1,000 inheritable fds open, $n per sample; /bin/true itself is not preloaded."
	note "exec, 1,000 fds: the largest RLIMIT_NOFILE allowed here is $M (fs.nr_open is $(cat /proc/sys/fs/nr_open 2>/dev/null || echo '?'))."
	note "exec, 1,000 fds: \"added\" is the median minus no shim at the same limit; its ratio is noisy when the shim adds little."
}

# Per-call costs.  One short harness process per figure and variant, so the
# variants of a figure run within a fraction of a second of each other and
# a burst of other work on the machine hits them alike.
fig_micro() {
	local ms=$((QUICK ? 40 : 100)) m=$OUT/micro fig g
	for fig in read_1 read_64k recv_unix recv_tcp open_close pipe_close \
		socket_tcp_close socket_unix_close tcp_connect_accept; do
		g=micro_$fig
		variant $g none "$m" $ms $fig
		variant $g enforce env LD_PRELOAD="$LIB" NOLEAK_MODE=enforce "$m" $ms $fig
		# The read watchdog only concerns reads.
		[[ $fig == read_* || $fig == recv_* ]] &&
			variant $g audit_rw env LD_PRELOAD="$LIB" NOLEAK_MODE=audit NOLEAK_READ_WARN=30 \
				NOLEAK_LOG="$TMP/micro-audit.log" "$m" $ms $fig
		# The floor of the policy: no shim, its system calls made by hand.
		[[ $fig == *_close || $fig == tcp_connect_accept || $fig == read_1 || $fig == recv_tcp ]] &&
			variant $g policy env MICRO_POLICY_CALLS=1 "$m" $ms $fig
		if ((QUICK)); then alternate $g 5 5 2; else alternate $g 7 11 5; fi
	done
	local label
	for fig in read_1:"read 1 B, pipe" read_64k:"read 64 KiB, pipe" \
		recv_unix:"recv 1 B, unix sock" recv_tcp:"recv 1 B, tcp 127.0.0.1"; do
		label=${fig#*:}
		fig=${fig%%:*}
		row "$fig" "$label" none "no shim" ns none "" "" "" ""
		row "$fig" "$label" enforce "shim, enforce" ns none ratio_le 1.02 "" "<= 1.02x none"
		row "$fig" "$label" audit_rw "shim, audit+read_warn=30" ns none ratio_le 1.10 "" "<= 1.10x none"
		if [[ $fig == read_1 ]]; then
			row "$fig" "$label" policy "no shim, read as the watchdog tries it" ns none "" "" "" ""
			row "$fig" "$label" audit_rw "shim, audit+read_warn=30" ns policy "" "" "" ""
		elif [[ $fig == recv_tcp ]]; then
			row "$fig" "$label" policy "no shim, the shim's socket options by hand" ns none "" "" "" ""
			row "$fig" "$label" enforce "shim, enforce" ns policy "" "" "" ""
		fi
	done
	for fig in open_close:"open+close /dev/null" pipe_close:"pipe+close" \
		socket_tcp_close:"socket+close, tcp" socket_unix_close:"socket+close, unix"; do
		label=${fig#*:}
		fig=${fig%%:*}
		row "$fig" "$label" none "no shim" ns none "" "" "" ""
		row "$fig" "$label" policy "no shim, policy's calls by hand" ns none "" "" "" ""
		row "$fig" "$label" enforce "shim, enforce" ns none ratio_le 1.05 "" "<= 1.05x none"
		row "$fig" "$label" enforce "shim, enforce" ns policy "" "" "" ""
	done
	fig=tcp_connect_accept label="connect+accept+close, tcp"
	row $fig "$label" none "no shim" ns none "" "" "" ""
	row $fig "$label" policy "no shim, policy's calls by hand" ns none "" "" "" ""
	row $fig "$label" enforce "shim, enforce" ns none ratio_le 1.10 "" "<= 1.10x none"
	row $fig "$label" enforce "shim, enforce" ns policy "" "" "" ""
	note "read ... socket+close: ns per call (pipe+close: per pipe() and two close()), ~$ms ms of calls per sample."
	note "connect+accept+close: ns per connection on 127.0.0.1 (socket, connect, accept, two closes)."
	note "policy's calls by hand: the same harness without the shim making the system calls the policy adds (micro.c, MICRO_POLICY_CALLS; for read 1 B, the preadv2(RWF_NOWAIT) the read watchdog tries first; for recv on TCP, the pair read from given the shim's timeouts and keepalive): its ratio to no shim is the floor of the goal; the shim's ratio to it is what the shim adds beyond its policy."
}

# A whole process reading one byte at a time under audit (the read
# watchdog on, read_warn's default): dd bs=1 from a character device, as
# the user sees it, against the empty preload.
fig_dd() {
	local n=$((QUICK ? 50000 : 200000)) s=$OUT/spawn
	local dd=(dd if=/dev/zero of=/dev/null bs=1 count=$n status=none)
	variant dd empty env LD_PRELOAD="$EMPTY" "$s" run "${dd[@]}"
	variant dd enforce env LD_PRELOAD="$LIB" NOLEAK_MODE=enforce "$s" run "${dd[@]}"
	variant dd audit env LD_PRELOAD="$LIB" NOLEAK_MODE=audit NOLEAK_READ_WARN=30 \
		NOLEAK_LOG="$TMP/dd-audit.log" "$s" run "${dd[@]}"
	local v
	for v in empty enforce audit; do SCALE[dd/$v]=0.001; done
	if ((QUICK)); then alternate dd 5 5 10; else alternate dd 7 15 40; fi
	local f="dd bs=1, whole process"
	row dd "$f" empty "empty preload" ms empty "" "" "" ""
	row dd "$f" enforce "shim, enforce" ms empty ratio_le 1.02 "" "<= 1.02x empty"
	row dd "$f" audit "shim, audit+read_warn=30" ms empty ratio_le 1.10 "" "<= 1.10x empty"
	note "dd bs=1: ms per run of dd copying $n bytes from /dev/zero one byte at a time."
}

# Real workloads, whole, as a user of the host sees them: every process of
# the workload preloaded (enforce), against the empty preload.
fig_workloads() {
	local s=$OUT/spawn w=$TOP/tests/bench/workloads.sh name rows=""
	if ! command -v autoconf >/dev/null && [[ $(id -u) == 0 ]] &&
		command -v apt-get >/dev/null; then
		say "installing Debian's autoconf for the configure workload"
		apt-get install -y -q autoconf >>"$ERRLOG" 2>&1 ||
			{ apt-get update -q >>"$ERRLOG" 2>&1 && apt-get install -y -q autoconf >>"$ERRLOG" 2>&1; }
	fi
	for name in ${BENCH_WORKLOADS:-configure make git python}; do
		if ! "$w" setup $name "$TMP/wl-$name" >>"$ERRLOG" 2>&1; then
			note "$name workload: cannot be set up here (see $ERRLOG); its rows are empty."
			continue
		fi
		variant "wl_$name" none "$s" run "$w" run $name "$TMP/wl-$name"
		variant "wl_$name" empty env LD_PRELOAD="$EMPTY" "$s" run "$w" run $name "$TMP/wl-$name"
		[[ -n $LOADONLY ]] &&
			variant "wl_$name" load env LD_PRELOAD="$LOADONLY" "$s" run "$w" run $name "$TMP/wl-$name"
		variant "wl_$name" enforce env LD_PRELOAD="$LIB" NOLEAK_MODE=enforce \
			"$s" run "$w" run $name "$TMP/wl-$name"
		SCALE[wl_$name/none]=0.001 SCALE[wl_$name/empty]=0.001 SCALE[wl_$name/enforce]=0.001
		SCALE[wl_$name/load]=0.001
		if ((QUICK)); then alternate "wl_$name" 3 3 30; else alternate "wl_$name" 5 9 240; fi
	done
	local f g="<= 1.02x empty"
	for name in configure:"autoconf ./configure" make:"make -j2 (this library)" \
		git:"git status+log -p+diff x10" python:"python subprocess.run x100"; do
		f=${name#*:}
		name=${name%%:*}
		row "wl_$name" "$f" none "no preload" ms empty "" "" "" ""
		row "wl_$name" "$f" empty "empty preload" ms none "" "" "" ""
		[[ -n $LOADONLY ]] &&
			row "wl_$name" "$f" load "shim loaded, never in force" ms empty "" "" "" ""
		row "wl_$name" "$f" enforce "shim, enforce" ms empty ratio_le 1.02 "" "$g"
		[[ -n $LOADONLY ]] &&
			row "wl_$name" "$f" enforce "shim, enforce" ms load "" "" "" ""
	done
	note "workloads: ms per whole run, every process of the workload preloaded (tests/bench/workloads.sh)."
	[[ -n $LOADONLY ]] &&
		note "workloads: \"never in force\" is every process loading the shim built never to initialise: the floor of each workload; the second enforce ratio is to it."
}

# A fork-heavy shell workload under the shim in audit mode, beside the
# tracers one would otherwise reach for.
fig_shell() {
	local n=$((QUICK ? 100 : 300)) vn=$((QUICK ? 3 : 10)) s=$OUT/spawn
	local loop='i=0; while [ $i -lt $1 ]; do /bin/true; cat /dev/null | cat; i=$((i+1)); done'
	local calls=execve,clone,clone3,fork,vfork,pipe,pipe2,dup2,close,openat
	variant shell none "$s" run sh -c "$loop" sh $n
	[[ -n $LOADONLY ]] && variant shell load env LD_PRELOAD="$LOADONLY" "$s" run sh -c "$loop" sh $n
	variant shell audit env LD_PRELOAD="$LIB" NOLEAK_MODE=audit NOLEAK_LOG="$TMP/shell-audit.log" \
		"$s" run sh -c "$loop" sh $n
	if command -v strace >/dev/null; then
		variant shell strace "$s" run strace -f -o /dev/null -e trace=$calls sh -c "$loop" sh $n
	else
		note "sh workload: strace is not installed; its row is empty."
	fi
	# Reported per 300 iterations whatever was run: µs -> ms, scaled.
	local v
	for v in none load audit strace; do SCALE[shell/$v]=$(awk -v n=$n 'BEGIN { print 300 / n / 1000 }'); done
	if ((QUICK)); then alternate shell 3 3 12; else alternate shell 3 7 45; fi
	if command -v valgrind >/dev/null; then
		variant valgrind valgrind valgrind_sample "$loop" $vn
		if ((QUICK)); then alternate valgrind 1 1 1; else alternate valgrind 2 2 1; fi
		# Its samples join the shell figure's.
		awk -F '\t' -v OFS='\t' '$1 == "valgrind" { $2 = "shell" } { print }' \
			"$SAMPLES" >"$SAMPLES.tmp" && mv "$SAMPLES.tmp" "$SAMPLES"
	else
		note "sh workload: valgrind is not installed; its row is empty."
	fi
	local f="sh workload x300"
	row shell "$f" none "no shim" ms none "" "" "" ""
	[[ -n $LOADONLY ]] &&
		row shell "$f" load "shim loaded, never in force" ms none added_of "" strace
	row shell "$f" audit "shim, audit (log to file)" ms none added_le 0.05 strace \
		"added <= 1/20 of strace's"
	row shell "$f" strace "strace -f (10 calls traced)" ms none "" "" "" ""
	row shell "$f" valgrind "valgrind --track-fds (scaled from $vn)" ms none "" "" "" ""
	note "sh workload: ms per 300 iterations of '/bin/true; cat /dev/null | cat' in sh ($n run per sample)."
	note "sh workload: valgrind ran 0 and $vn iterations: its start-up, plus the per-iteration cost times 300."
	[[ -n $LOADONLY ]] &&
		note "sh workload: \"never in force\" loads the shim built never to initialise in every process: the share of strace's added time every preloaded process pays before the shim does anything."
}

# valgrind_sample LOOP N: valgrind is too slow for 300 iterations.  Time its
# fixed cost (0 iterations) and N iterations, and print the ms that 300
# would take.
valgrind_sample() {
	local loop=$1 n=$2 t0 tn
	local vg=(valgrind -q --log-file=/dev/null --track-fds=yes --trace-children=yes)
	t0=$("$OUT/spawn" run "${vg[@]}" sh -c "$loop" sh 0) || return 1
	tn=$("$OUT/spawn" run "${vg[@]}" sh -c "$loop" sh "$n") || return 1
	awk -v a="${t0%% *}" -v b="${tn%% *}" -v n="$n" \
		'BEGIN { printf "%.4f\n", (a + (b - a) * 300 / n) / 1000 }'
}

# report_run KEY LOG MB ROUNDS: noleak-report read LOG (MB megabytes)
# ROUNDS times; each time scaled to 1 GB is a sample of KEY, and for
# report_s the peak RSS one of report_mb.
report_run() {
	local key=$1 log=$2 mb=$3 rounds=$4 i out
	shift 4   # the rest: options of noleak-report
	for ((i = 0; i < rounds; i++)); do
		# Exit 1 means "the log shows leaks": it may, by construction.
		out=$("$OUT/spawn" run sh -c 'log=$1 tool=$2; shift 2; "$tool" "$@" "$log" >/dev/null; [ $? -le 1 ]' \
			sh "$log" "$REPORT_TOOL" "$@" 2>>"$ERRLOG")
		[[ -n $out ]] || break
		record report "$key" report "$(awk -v mb="$mb" '{ print $1 / 1e6 * 1024 / mb }' <<<"$out")"
		if [[ $key == report_s ]]; then
			record report report_mb report "$(awk '{ print $2 / 1024 }' <<<"$out")"
		fi
	done
}

# noleak-report on a generated 1 GB log: time and peak memory; and on
# 1 GB of the shortest lines, where a line's fixed cost is all there is:
# 2-byte lines ("x", malformed) and events of one key ({"event":"nomem"}).
fig_report() {
	local f="noleak-report 1 GB"
	local fs="noleak-report 1 GB, 2-byte lines" fn="noleak-report 1 GB, one-key events"
	local ft="noleak-report 1 GB, --top 10000 of 400,000 blocked reads" i
	if [[ ! -x $REPORT_TOOL ]]; then
		row report_s "$f" report "time" s - value_le 10 "" "<= 10 s" "not built yet"
		row report_mb "$f" report "peak RSS" MB - value_le 100 "" "<= 100 MB" "not built yet"
		row report_short_s "$fs" report "time" s - value_le 10 "" "<= 10 s" "not built yet"
		row report_nomem_s "$fn" report "time" s - value_le 10 "" "<= 10 s" "not built yet"
		row report_top_s "$ft" report "time" s - value_le 10 "" "<= 10 s" "not built yet"
		return
	fi
	local size=$((QUICK ? 100 : 1024)) log=$TMP/report.log
	local rounds=$((QUICK ? 1 : 3))
	if make_event_log "$log" $size; then
		report_run report_s "$log" $size $rounds
	fi
	yes x 2>/dev/null | head -c $((size * 1024 * 1024)) >"$log"
	report_run report_short_s "$log" $size $rounds
	yes '{"event":"nomem"}' 2>/dev/null | head -c $((size * 1024 * 1024)) >"$log"
	report_run report_nomem_s "$log" $size $rounds
	# --top keeps the longest blocked reads of 400,000 distinct ones, each
	# line one of them (the list of the kept ones was scanned per line)
	awk 'BEGIN { for (i = 0; i < 400000; i++) printf "{\"ts\":\"2026-11-01T00:00:%02d.%06dZ\",\"event\":\"read_blocked\",\"pid\":%d,\"ppid\":1,\"exe\":\"/usr/bin/x\",\"mode\":\"audit\",\"host\":\"h\",\"fd\":3,\"call\":\"read\",\"waited\":%d,\"kind\":\"pipe\",\"object\":\"pipe:[1]\",\"end\":\"read\"}\n", i % 60, i, 1000 + i, i }' >"$log.chunk"
	for ((i = 0; i < 16; i++)); do cat "$log.chunk" || break; done 2>/dev/null |
		head -c $((size * 1024 * 1024)) >"$log"
	rm -f "$log.chunk"
	report_run report_top_s "$log" $size $rounds --top 10000
	row report_s "$f" report "time" s - value_le 10 "" "<= 10 s"
	row report_mb "$f" report "peak RSS" MB - value_le 100 "" "<= 100 MB"
	row report_short_s "$fs" report "time" s - value_le 10 "" "<= 10 s"
	row report_nomem_s "$fn" report "time" s - value_le 10 "" "<= 10 s"
	row report_top_s "$ft" report "time" s - value_le 10 "" "<= 10 s"
	((QUICK)) && note "noleak-report: quick run on $size MB logs, times scaled to 1 GB."
	rm -f "$log"
}

# make_event_log FILE MB: a log of MB megabytes.  report_gen.sh writes the
# mix of a busy host (many programs, every kind of event); without it, real
# events of the shim in audit mode (a program leaking 1,000 fds into its
# children) are repeated to the size.
make_event_log() {
	local file=$1 mb=$2 seed=$TMP/seed.log gen=$TOP/tests/bench/report_gen.sh
	if [[ -f $gen ]] && sh "$gen" "$mb" >"$file" 2>>"$ERRLOG"; then
		note "noleak-report: the log is ${mb} MB written by tests/bench/report_gen.sh."
		return 0
	fi
	rm -f "$seed"
	env LD_PRELOAD="$LIB" NOLEAK_MODE=audit NOLEAK_LOG="$seed" \
		"$OUT/fdexec" plain 1024 20 >/dev/null 2>>"$ERRLOG"
	if [[ ! -s $seed ]]; then
		note "noleak-report: the shim logged no events to build a log from."
		return 1
	fi
	note "noleak-report: the log is real fd_leak events repeated to ${mb} MB."
	cp "$seed" "$file"
	while (($(stat -c %s "$file") < mb * 1024 * 1024)); do
		cat "$file" "$file" >"$file.2" && mv "$file.2" "$file"
	done
	truncate -s $((mb * 1024 * 1024)) "$file"
}

# --- the table and the JSON -------------------------------------------------

report() {
	awk -F '\t' -v json="$JSON" -v quick="$QUICK" -v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		-v host="$(uname -srm)" -v cpus="$(nproc 2>/dev/null || echo 0)" \
		-f "$TOP/tests/bench/report.awk" "$SAMPLES" "$ROWS" "$NOTES"
}

# --- main -------------------------------------------------------------------

main() {
	[[ -f $LIB ]] || die "$LIB is missing: run make first"
	[[ -f $EMPTY ]] || die "$EMPTY is missing: run make first"
	build_harnesses
	: >"$SAMPLES"
	: >"$ROWS"
	: >"$NOTES"
	: >"$ERRLOG"
	TMP=$(mktemp -d /tmp/noleak-bench.XXXXXX) || die "no temporary directory"
	trap 'rm -rf "$TMP"' EXIT
	local start=$SECONDS fig load
	say "$( ((QUICK)) && echo quick run || echo full run), about $( ((QUICK)) && echo 4 || echo 15) min"
	# Other work on the machine is the main source of noise: say how much.
	load=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null)
	for fig in $FIGURES; do
		"fig_$fig"
	done
	note "total run time: $((SECONDS - start)) s$( ((QUICK)) && echo ' (BENCH_QUICK=1)'); load average $load at the start, $(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null) at the end ($(nproc) CPUs)."
	report || die "cannot write the report"
	exit 0
}

main "$@"
