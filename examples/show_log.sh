#!/bin/sh
# Prints a libnoleak event log (JSON Lines) for a reader: one line per event,
# "event  key=value ...", without the fields every event has (time, host,
# mode, ...).  Nested fields are named by their parent: culprits.exe=...,
# tcp.state=....  At most MAX (default 4) lines per kind of event are shown;
# the rest are counted.  POSIX awk only, so it runs wherever the demo does.
#
# Usage: show_log.sh LOGFILE [MAX]
log=${1:?usage: show_log.sh LOGFILE [MAX]}
max=${2:-4}
if [ ! -s "$log" ]; then
	echo "    (the log is empty)"
	exit 0
fi
awk -v max="$max" '
# Fields every event carries; they say nothing about the incident.
BEGIN { split("ts ppid exe mode host module", s, " ")
	for (i in s) skip[s[i]] = 1 }

# Takes the next token off the front of rest.
function token(   t) {
	sub(/^[ \t]+/, "", rest)
	if (match(rest, /^"([^"\\]|\\.)*"/) ||
	    match(rest, /^[][{}:,]/) ||
	    match(rest, /^[^][{}:,"]+/)) {
		t = substr(rest, 1, RLENGTH)
		rest = substr(rest, RLENGTH + 1)
		return t
	}
	rest = ""
	return ""
}

function unquote(t) {
	if (t ~ /^"/)
		t = substr(t, 2, length(t) - 2)
	gsub(/\\"/, "\"", t)
	gsub(/\\\\/, "\\", t)
	return t
}

# The name of a container opened at depth+1: the elements of an array share
# the name of the array; an object member is named by its key.
function child_name(depth, key) {
	if (isarr[depth])
		return path[depth]
	return path[depth] == "" ? key : path[depth] "." key
}

function show(v) {
	return v ~ /[ \t]/ ? "\"" v "\"" : v
}

# One event as "event  key=value ...".
function format(line,   t, depth, key, want_key, name, out, ev) {
	rest = line; depth = 0; want_key = 0; out = ""; ev = "?"
	path[0] = ""; isarr[0] = 0; key = ""
	while (rest != "") {
		t = token()
		if (t == "{" || t == "[") {
			name = depth == 0 ? "" : child_name(depth, key)
			depth++
			path[depth] = name
			isarr[depth] = t == "["
			want_key = t == "{"
			continue
		}
		if (t == "}" || t == "]") { depth--; continue }
		if (t == ",") { want_key = !isarr[depth]; continue }
		if (t == ":") { want_key = 0; continue }
		if (want_key) { key = unquote(t); continue }
		# a scalar value
		if (depth == 1 && key == "event") { ev = unquote(t); continue }
		if (depth == 1 && key in skip)
			continue
		name = isarr[depth] ? path[depth] : child_name(depth, key)
		out = out " " name "=" show(unquote(t))
	}
	return sprintf("%-15s%s", ev, out)
}

{
	line = format($0)
	split(line, w, " ")
	n[w[1]]++
	if (n[w[1]] <= max)
		print "    " line
}
END {
	for (e in n)
		if (n[e] > max)
			printf "    ... and %d more %s events\n", n[e] - max, e
}' "$log"
