#!/usr/bin/env bash
# The include graph follows the layers (HACKING.md):
#
#   common/ < policy/ < shim/base/, shim/log/ < shim/core/ < shim/init.h
#           < shim/interpose/ ;   tools/report/, tools/inspect/ < tools/noleak/
#
# A file includes only files of its own folder or of a lower layer, and no
# file reaches itself through includes.  Prints each violation; exits 1 on
# any.  Tests and examples sit on top and are not checked.
set -u
cd "$(dirname "$0")/.."

rank() {
	case $1 in
	common/*) echo 0 ;;
	policy/*) echo 1 ;;
	shim/base/* | shim/log/*) echo 2 ;;
	shim/core/*) echo 3 ;;
	shim/init.*) echo 4 ;;
	shim/interpose/*) echo 5 ;;
	tools/report/* | tools/inspect/*) echo 2 ;;
	tools/noleak/*) echo 3 ;;
	*) echo 99 ;;
	esac
}

# Resolve an include as the compiler does (-iquote . -iquote shim, and the
# including file's own folder first).
resolve() {
	local from_dir=$1 inc=$2
	for d in "$from_dir" . shim; do
		if [ -f "$d/$inc" ]; then
			realpath --relative-to=. "$d/$inc"
			return
		fi
	done
}

bad=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for f in $(find common policy shim tools -name '*.[ch]' | sort); do
	fr=$(rank "$f")
	for inc in $(sed -n 's/^#include "\(.*\)"/\1/p' "$f"); do
		t=$(resolve "$(dirname "$f")" "$inc")
		if [ -z "$t" ]; then
			echo "layers: $f: cannot resolve \"$inc\""
			bad=1
			continue
		fi
		echo "$f $t" >>"$edges"
		tr=$(rank "$t")
		if [ "$(dirname "$f")" != "$(dirname "$t")" ] && [ "$tr" -ge "$fr" ]; then
			echo "layers: $f includes $t, which is not in a lower layer"
			bad=1
		fi
	done
done
# A .c file's own header is the same module: fold x.c into x.h so that a
# circle through two modules shows, not the ordinary x.c -> x.h edge.
if ! sed 's/\.c\b/.h/g' "$edges" | awk '$1 != $2' | tsort >/dev/null 2>"$edges.err"; then
	echo "layers: include circle:"
	sed 's/^tsort: /  /' "$edges.err"
	bad=1
fi
rm -f "$edges.err"
if [ $bad -eq 0 ]; then
	echo "layers: include graph follows the layers ($(wc -l <"$edges") includes)"
fi
exit $bad
