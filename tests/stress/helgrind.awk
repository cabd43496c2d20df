# Sorts helgrind's report into what concerns libnoleak and what does not.
#
#   awk -v root=/path/to/source -f helgrind.awk helgrind.log
#
# An error concerns libnoleak when any frame of it is in the library's
# sources (root/shim/, root/policy/) or in libnoleak.so.  Helgrind does not
# model C11 atomics: an atomic load or store looks to it like a plain one,
# so a race whose accesses in libnoleak are all on lines doing atomic_*()
# operations is counted apart (and printed), not as a race.  Every other
# race involving libnoleak, and every lock-order or pthread-misuse error
# involving it, counts.  Prints a summary and the distinct top frames; the
# last line is "libnoleak_errors=N".

function in_lib(frame) {
	return index(frame, "(" root "/shim/") || index(frame, "(" root "/policy/") ||
	       index(frame, "libnoleak.so")
}

# "func (/path/file.c:123)" -> the text of line 123 of that file.
function source_line(frame,    m, file, n, i, line) {
	if (!match(frame, /\(\/[^():]+:[0-9]+\)/))
		return ""
	m = substr(frame, RSTART + 1, RLENGTH - 2)
	n = split(m, part, ":")
	file = part[1]
	for (i = 2; i < n; i++)
		file = file ":" part[i]
	if ((m) in cache)
		return cache[m]
	line = ""
	for (i = 1; i <= part[n] && (getline line < file) > 0; i++)
		;
	close(file)
	if (i <= part[n])
		line = ""
	cache[m] = line
	return line
}

function frame_of(line) {
	sub(/^ *(at|by) 0x[0-9A-Fa-f]+: /, "", line)
	return line
}

# Helgrind follows fork(): the processes' reports interleave in one log, so
# the error being read is kept per pid.
function finish(p,    i, plain, key) {
	if (kind[p] == "" || !lib[p])
		return
	if (kind[p] == "race") {
		plain = 0
		for (i = 1; i <= ntops[p]; i++) {
			if (!in_lib(tops[p, i]) || source_line(tops[p, i]) !~ /atomic_/)
				plain = 1
		}
		if (!plain) {
			atomics++
			atomic_tops[tops[p, 1]]++
			return
		}
		races++
		key = tops[p, 1]
		if (ntops[p] > 1)
			key = key "  vs  " tops[p, 2]
		race_tops[key]++
		return
	}
	others++
	other_tops[kind[p] ": " (ntops[p] ? tops[p, 1] : "?")]++
}

function start(p, k) {
	finish(p)
	kind[p] = k
	lib[p] = 0
	ntops[p] = 0
	want_top[p] = 1
	total++
}

{
	pid = ""
	if (match($0, /^==[0-9]+==/))
		pid = substr($0, 3, RLENGTH - 4)
	sub(/^==[0-9]+== ?/, "")
}

/^Possible data race/ { start(pid, "race"); next }
/^Thread #[0-9]+: lock order/ { start(pid, "lock order"); next }
/^Thread #[0-9]+: / { start(pid, "pthread misuse"); next }
/^This conflicts with a previous/ { want_top[pid] = 1; next }
/^-+$/ { finish(pid); kind[pid] = ""; next }

/^ *(at|by) 0x/ {
	if (kind[pid] == "")
		next
	f = frame_of($0)
	if (in_lib(f))
		lib[pid] = 1
	if (want_top[pid] && $1 == "at") {
		tops[pid, ++ntops[pid]] = f
		want_top[pid] = 0
	}
}

END {
	for (p in kind)
		finish(p)
	printf "helgrind: %d error contexts; involving libnoleak: %d races, %d lock-order or pthread errors (and %d on C11 atomics, not counted)\n",
	       total, races + 0, others + 0, atomics + 0
	for (k in race_tops)
		printf "  race (%d): %s\n", race_tops[k], k
	for (k in other_tops)
		printf "  %s (%d)\n", k, other_tops[k]
	for (k in atomic_tops)
		printf "  atomic, not counted (%d): %s\n", atomic_tops[k], k
	printf "libnoleak_errors=%d\n", races + others
}
