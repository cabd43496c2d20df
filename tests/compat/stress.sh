# A multithreaded stress: 8 threads each creating 5,000 fds without
# close-on-exec and spawning 500 children (fork+exec, vfork+exec and
# posix_spawn), all at once.  See stress.c.

checks_stress() {
	check threads-fds-spawns stress threads_fds_spawns
}

# Without the shim the children get the other threads' pipes and sockets
# (that is the leak); under it none may.  Both runs must complete without a
# crash, start every child and end with the fds they started with.
threads_fds_spawns() {
	"$STRESS" "$FDLIST" "$PROBE" "$PROOF" >stress.out 2>stress.err
	local rc=$?
	local result leaky
	result=$(grep '^spawned=' stress.out)
	echo "stress exit $rc"
	sed 's/ leaky_children=[0-9]*//' <<<"$result"
	leaky=$(sed -n 's/.* leaky_children=\([0-9]*\).*/\1/p' <<<"$result")
	echo "leaky children: $leaky" >&2
	if [[ $COMPAT_SHIM == 1 && $leaky != 0 ]]; then
		echo "children that got a leaked fd under the shim: $leaky"
		grep -m 3 '^fdlist:' stress.err
	fi
	return 0
}
