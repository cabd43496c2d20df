#!/usr/bin/env bash
# The event schema (common/events.def) against its users:
#  - paths named in README.md and HACKING.md exist;
#  - every event kind the shim begins, and every key it writes with a
#    literal name, is in the schema, with a matching type
#    (nl_event_int: NUM; nl_event_str/strn: STR; nl_event_bool: BOOL;
#    nl_event_raw: NUM or JSON; nl_jb_key: a nested key);
#  - the README's event table has one row per kind, and its main fields
#    are keys of the schema.
# Prints each mismatch; exits 1 on any.
set -u
cd "$(dirname "$0")/.."
def=common/events.def
bad=0

kinds=$(sed -n 's/^NL_EVENT_KIND(\([a-z_]*\),.*/\1/p' $def)
type_of() { sed -n "s/^NL_EVENT_KEY($1, [A-Z_0-9]*, \([A-Z_]*\))/\1/p" $def; }
subkey() { grep -q "^NL_EVENT_SUBKEY($1, " $def; }
is_kind() { printf '%s\n' $kinds | grep -qx "$1"; }

# 1. The shim's writers.
for k in $(grep -rhoE 'nl_event_begin\([^,]*, "[a-z_]+"' shim | sed -E 's/.*"(.*)"/\1/' | sort -u); do
	is_kind "$k" || { echo "schema: the shim writes event \"$k\", not in $def"; bad=1; }
done
grep -rhoE 'nl_event_(int|str|strn|bool|raw)\([^,]*, "[a-z_0-9]+"' shim |
	sed -E 's/nl_event_([a-z]+)\([^,]*, "(.*)"/\1 \2/' | sort -u |
	while read -r fn key; do
		t=$(type_of "$key")
		case $fn in int) want="NUM" ;; str | strn) want="STR" ;;
		bool) want="BOOL" ;; raw) want="NUM JSON" ;; esac
		if [ -z "$t" ]; then
			echo "schema: the shim writes key \"$key\", not in $def"
			exit 1
		fi
		[ "$t" = STR_JSON ] && t="STR JSON"
		match=0
		for x in $t; do case " $want " in *" $x "*) match=1 ;; esac; done
		case $match in 1) ;; *)
			echo "schema: key \"$key\" is $t in $def, written with nl_event_$fn"
			exit 1 ;;
		esac
	done || bad=1
# Nested keys chosen by name (culprit_key: what describes an fd's other
# end, also inside a wait's fds).
chosen=$(awk '/^static const char \*culprit_key\(/ {t=1} t && /^}/ {t=0}
	t && (/return/ || /^[ \t]*\?/)' shim/core/culprit.c | grep -oE '"[a-z_0-9]+"' | tr -d '"')
[ -n "$chosen" ] || { echo "schema: no nested keys found in culprit_key"; bad=1; }
for key in $(grep -rhoE 'nl_jb_key\([^,]*, "[a-z_0-9]+"' shim | sed -E 's/.*"(.*)"/\1/' | sort -u) $chosen; do
	subkey "$key" || { echo "schema: nested key \"$key\" is not an NL_EVENT_SUBKEY in $def"; bad=1; }
done

# 2. The README's table: | event | when | main fields |
rows=$(awk '/^\| event \| when \| main fields \|/ {t=1; next}
	t && /^\|---/ {next} t && /^\|/ {print; next} t {exit}' README.md)
readme_kinds=$(printf '%s\n' "$rows" | awk -F'|' '{gsub(/ /, "", $2); print $2}')
for k in $kinds; do
	printf '%s\n' $readme_kinds | grep -qx "$k" || { echo "schema: kind $k has no row in README.md's event table"; bad=1; }
done
for k in $readme_kinds; do
	is_kind "$k" || { echo "schema: README.md's event table has $k, not in $def"; bad=1; }
done
# Main fields: words outside parentheses, before any ":".
for f in $(printf '%s\n' "$rows" | awk -F'|' '{print $4}' | sed -e 's/([^)]*)//g' -e 's/:.*//' | tr ',' '\n' |
	sed -e 's/^ *//' -e 's/ *$//' -e 's/^and the culprit$//' -e 's/ or .*//' | grep -E '^[a-z_0-9]+$' | sort -u); do
	[ -n "$(type_of "$f")" ] || { echo "schema: README.md's event table names field \"$f\", not in $def"; bad=1; }
done

# 3. Paths the README and HACKING.md name exist (files move; prose must follow).
for p in $(grep -oh '`\(tests\|shim\|common\|policy\|tools\|examples\)/[^` ]*`' README.md HACKING.md |
	tr -d '`' | grep -v '[A-Z]\{4\}' | sort -u); do
	compgen -G "$p" >/dev/null || { echo "schema: README.md or HACKING.md names $p, which does not exist"; bad=1; }
done

[ $bad -eq 0 ] && echo "schema: $(printf '%s\n' $kinds | wc -l) kinds; the shim and README.md agree with $def"
exit $bad
