# CPython: its own regression tests for processes, fds, terminals, signals
# and sockets, and multiprocessing's spawn and forkserver start methods.

REGRTEST_MODULES="test_subprocess test_os test_pty test_signal test_socket"

checks_python() {
	check_regrtest python-regrtest $REGRTEST_MODULES
	check python-multiprocessing-spawn python3.11 python_multiprocessing spawn
	check python-multiprocessing-forkserver python3.11 python_multiprocessing forkserver
	check python-pass-fds-200 python3.11 python_pass_fds 200
}

# check_regrtest NAME MODULE...: Debian's libpython3.11-testsuite, run once
# without the shim and once with it.  Tests fail in any environment for
# reasons of their own, so this check does not ask for a clean run: it
# fails on the tests that pass without the shim and not with it, and names
# them.
check_regrtest() {
	local name=$1
	shift
	wanted "$name" || return 0
	local d=$WORK/$name start=$SECONDS why=""
	rm -rf "$d"
	mkdir -p "$d"
	local side_limit=${REGRTEST_SIDE_TIMEOUT:-900}
	COMPAT_TIMEOUT=$side_limit run_side off "$d/off" python_regrtest "$@" >/dev/null
	COMPAT_TIMEOUT=$side_limit run_side on "$d/on" python_regrtest "$@" >/dev/null
	local logs=("$d/off/cwd/regrtest.log" "$d/on/cwd/regrtest.log")
	if ! "$PY" "$COMPAT/regrtest_diff.py" "${logs[@]}" >"$d/diff" 2>&1; then
		# Run what regressed once more under the shim, alone.
		local ids
		ids=$(sed -n 's/^regressed: \([^ ]*\).*/\1/p' "$d/diff")
		if [[ -n $ids ]]; then
			COMPAT_TIMEOUT=600 run_side on "$d/rerun" python_regrtest_again $ids >/dev/null
			logs+=("$d/rerun/cwd/regrtest.log")
		fi
		"$PY" "$COMPAT/regrtest_diff.py" "${logs[@]}" >"$d/diff" 2>&1 ||
			why="tests pass without the shim and not with it"
	fi
	sed -n '1,2s/^/      /p; /^flaky/s/^/      /p' "$d/diff"
	[[ -z $why ]] && why=$(proof_problem off "$d/off" python3.11; proof_problem on "$d/on" python3.11)
	if [[ -n $why ]]; then
		sed -n '3,40{/^flaky/!s/^/      /p}' "$d/diff"
		say "      (logs: $d/{off,on,rerun}/cwd/regrtest.log)"
	fi
	record "$name" "$why" "$d" $((SECONDS - start))
}

# The tests run in two worker processes (-j2) with regrtest's default
# resources: no network, no large memory.  REGRTEST_TIMEOUT (default 300
# s) bounds one test module in a worker.  The VSOCK tests are left out:
# they talk to the hypervisor, not over loopback, and on a machine with a
# vsock device but no loopback transport they wait in accept() forever.
python_regrtest() {
	"$PY" -m test -j2 --timeout "${REGRTEST_TIMEOUT:-300}" -v -i '*VSOCK*' "$@" \
		>regrtest.log 2>&1 &
	local pid=$!
	# The proof: the shim is mapped into the main test process itself
	# (libc is mapped after the preload, so once it is there the shim
	# would be too).
	maps_proof_running "$pid" python3.11
	wait "$pid"
	echo "regrtest exit $?" >>regrtest.log
	return 0
}

# python_regrtest_again ID...: those tests alone, one process, verbose.
python_regrtest_again() {
	local id match=() modules=()
	for id in "$@"; do
		match+=(-m "$id")
		id=${id#test.}
		modules+=("${id%%.*}")
	done
	"$PY" -m test --timeout 300 -v "${match[@]}" $(printf '%s\n' "${modules[@]}" | sort -u) \
		>regrtest.log 2>&1
	return 0
}

# A pool of two workers started by the given method, and a Process with a
# Pipe: spawn passes its pipe fds to a fresh interpreter by number
# (spawnv_passfds), forkserver hands them over a unix socket (SCM_RIGHTS).
python_multiprocessing() {
	# spawn re-imports the main module in the child: it must be a file.
	cat >mp_check.py <<-'PY'
	import multiprocessing as mp, subprocess, sys

	def square(x):
	    return x * x

	def child(conn, probe, proof):
	    subprocess.run([probe, proof], check=True)
	    conn.send(("child", sum(conn.recv())))
	    conn.close()

	if __name__ == "__main__":
	    method, probe, proof = sys.argv[1:]
	    ctx = mp.get_context(method)
	    with ctx.Pool(2) as pool:
	        print("pool:", pool.map(square, range(8)))
	    parent, other = ctx.Pipe()
	    p = ctx.Process(target=child, args=(other, probe, proof))
	    p.start()
	    parent.send([1, 2, 3])
	    print("pipe:", parent.recv())
	    p.join(30)
	    print("exitcode:", p.exitcode)
	    sys.exit(p.exitcode)
	PY
	"$PY" mp_check.py "$1" "$PROBE" "$PROOF"
}

# subprocess with pass_fds of N pipe ends: CPython clears close-on-exec on
# each with FIONCLEX in its vfork child; the child counts what it got.
python_pass_fds() {
	"$PY" - "$1" "$PROBE" "$PROOF" <<-'PY'
	import os, subprocess, sys
	n, probe, proof = sys.argv[1:]
	fds = [fd for _ in range(int(n) // 2) for fd in os.pipe()]
	out = subprocess.run(
	    ["sh", "-c", 'ls /proc/$$/fd | wc -l; "$0" "$1"', probe, proof],
	    pass_fds=fds, capture_output=True, text=True, check=True).stdout
	print("passed", len(fds), "listed", int(out))
	PY
}
