#!/usr/bin/env bash
# The man pages (man/*.[157]): man --warnings finds nothing to say, each
# renders with its sections (NAME, SYNOPSIS, DESCRIPTION, a command's EXIT
# STATUS; no sentence set as a heading), and each
# tool's --help and its page name the same options and NOLEAK_* variables
# (the page is the help text in roff; this keeps them from drifting);
# noleak.conf(5) names every key and libnoleak(7) every event kind.
# Needs build/noleak and build/noleak-report.  Exits 1 on any mismatch.
set -u
cd "$(dirname "$0")/.."
bad=0
export LC_ALL=C.UTF-8 MANWIDTH=80
for page in man/*.[157]; do
	warn=$(man --warnings -l "$page" 2>&1 >/dev/null)
	[ -z "$warn" ] || { echo "man: $page: $warn"; bad=1; }
done
# Each page renders with its sections: NAME, SYNOPSIS and DESCRIPTION (and
# EXIT STATUS for a command), and every line man prints at the margin is a
# heading in capitals (a .SH given a sentence makes a "heading" of it, and
# the page loses its sections).
for page in man/*.[157]; do
	heads=$(man -l "$page" 2>/dev/null | col -b | sed '1d;$d' | grep -E '^[^[:space:]]')
	need="NAME SYNOPSIS DESCRIPTION"
	case $page in *.1) need="$need EXIT_STATUS" ;; esac
	for h in $need; do
		grep -qx "${h//_/ }" <<<"$heads" || { echo "man: $page: no ${h//_/ } section"; bad=1; }
	done
	odd=$(grep -vxE '[A-Z][A-Z -]*' <<<"$heads")
	[ -z "$odd" ] || { printf 'man: %s: not a section heading:\n%s\n' "$page" "$odd"; bad=1; }
done
words() { grep -oE -- '(--[a-z][a-z-]*|NOLEAK_[A-Z_]+)' | sort -u; }
for tool in noleak noleak-report; do
	help=$("build/$tool" --help | words)
	page=$(man -l "man/$tool.1" 2>/dev/null | col -b | words)
	d=$(diff <(printf '%s\n' "$help") <(printf '%s\n' "$page"))
	[ -z "$d" ] || { printf 'man: %s --help (<) and man/%s.1 (>) differ:\n%s\n' "$tool" "$tool" "$d"; bad=1; }
done
# noleak.conf(5) has every key of the policy's table, libnoleak(7) every
# event kind of the schema.
for key in $(sed -n 's/^\t\[NL_KEY_[A-Z_]*\] = { "\([a-z_]*\)".*/\1/p' policy/policy.c); do
	grep -qx "\.B $key" man/noleak.conf.5 || { echo "man: noleak.conf.5 lacks the key $key"; bad=1; }
done
for kind in $(sed -n 's/^NL_EVENT_KIND(\([a-z_]*\),.*/\1/p' common/events.def); do
	grep -qw "$kind" man/libnoleak.7 || { echo "man: libnoleak.7 lacks the event $kind"; bad=1; }
done
[ $bad = 0 ] && echo "man: $(ls man | wc -l) pages clean, with their sections, --help and pages agree, every key and event kind named"
exit $bad
