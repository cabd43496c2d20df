#!/usr/bin/env bash
# make install of one target's build, into a temporary DESTDIR: the library
# lands in the target's multiarch directories (i386: lib/i386-linux-gnu and
# lib32) and nowhere else, a copy of the build; the launcher, man pages and
# example come with the host's build, and with another target's only on
# INSTALL_TOOLS=1; PREFIX is honoured.  Then the target's own loader, given
# LD_PRELOAD=DESTDIR/usr/$LIB/libnoleak.so, expands $LIB and maps the
# library into the target's program (build/.../port-smoke loaded): on i386
# both the multiarch loader (lib/i386-linux-gnu) and Debian's multilib
# libc6-i386 (lib32) where each is present.  musl has no $LIB: its path is
# named as it is.  Where the target's programs run here, the installed
# launcher must preload the installed library.
#   usage: tests/port/install.sh BUILD_DIR MULTIARCH [TARGET]  (no TARGET: the host's build)
set -uo pipefail
B=$1 T=$2 target=${3:-}
. "$(dirname "$0")/target.sh"
fail=0
bad() { echo "FAILED: $T install: $*"; fail=1; }
tmp=$(mktemp -d /tmp/noleak-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
inst() {  # DESTDIR PREFIX [VAR=VALUE...]
	local d=$1 p=$2; shift 2
	env -u MAKEFLAGS -u MFLAGS make -s TARGET="$target" install DESTDIR="$d" PREFIX="$p" "$@" >"$tmp/log" 2>&1 ||
		{ bad "make install: $(cat "$tmp/log")"; return 1; }
}

case $T in
i386-linux-gnu) want="usr/lib/i386-linux-gnu/libnoleak.so usr/lib32/libnoleak.so" ;;
*)              want="usr/lib/$T/libnoleak.so" ;;
esac

echo "== $T: make install DESTDIR=... PREFIX=/usr"
if inst "$tmp/root" /usr; then
	got=$(cd "$tmp/root" && find . -name 'libnoleak*.so' | sed 's|^\./||' | sort | tr '\n' ' ')
	[ "$got" = "$(echo $want | tr ' ' '\n' | sort | tr '\n' ' ')" ] ||
		bad "the library went to '$got', not '$want'"
	for f in $want; do
		cmp -s "$tmp/root/$f" "$B/libnoleak.so" || bad "$f is not $B/libnoleak.so"
	done
	if [ -z "$target" ]; then
		[ -x "$tmp/root/usr/bin/noleak" ] || bad "no usr/bin/noleak"
		[ -e "$tmp/root/usr/share/man/man1/noleak.1" ] || bad "no man page"
	else
		[ ! -e "$tmp/root/usr/bin" ] && [ ! -e "$tmp/root/usr/share" ] ||
			bad "another target's install replaced the host's tools: $(cd "$tmp/root" && find usr/bin usr/share -type f | head -3)"
	fi
fi

echo "== $T: make install PREFIX=/opt/noleak"
if inst "$tmp/opt" /opt/noleak; then
	for f in $want; do
		[ -f "$tmp/opt/opt/noleak/${f#usr/}" ] || bad "no opt/noleak/${f#usr/}"
	done
fi

if [ -n "$target" ]; then
	echo "== $T: make install INSTALL_TOOLS=1 (an image of the target)"
	if inst "$tmp/img" /usr INSTALL_TOOLS=1; then
		[ -x "$tmp/img/usr/bin/noleak" ] && cmp -s "$tmp/img/usr/bin/noleak" "$B/noleak" ||
			bad "INSTALL_TOOLS=1: no usr/bin/noleak of the target"
	fi
fi

# The loader's own expansion of the entry, per loader of the target.
loaded() {  # WHAT, then the environment and the command
	local what=$1; shift
	local out
	out=$(env "$@" 2>&1)
	case $out in
	*"loaded $tmp/root/"*) echo "ok $what: ${out#loaded $tmp/root}" ;;
	*) bad "$what: $out" ;;
	esac
}
entry="$tmp/root/usr/\$LIB/libnoleak.so"
[ "$T" = x86_64-linux-musl ] && entry="$tmp/root/usr/lib/$T/libnoleak.so"
if [ -e "$tmp/root/${want%% *}" ]; then
	echo "== $T: LD_PRELOAD=DESTDIR${entry#$tmp/root} loads the target's copy"
	case $T in
	i386-linux-gnu)
		if [ ${#RUN[@]} -eq 0 ]; then
			loaded "native loader" LD_PRELOAD="$entry" "$B/port-smoke" loaded
		else
			loaded "multiarch loader" QEMU_LD_PREFIX=/usr/i686-linux-gnu \
				"${RUN[@]}" -E LD_PRELOAD="$entry" "$B/port-smoke" loaded
			[ -e /lib32/libc.so.6 ] && loaded "libc6-i386 loader (lib32)" \
				-u QEMU_LD_PREFIX "${RUN[@]}" -E LD_PRELOAD="$entry" "$B/port-smoke" loaded
		fi ;;
	aarch64-linux-gnu)
		loaded "loader" "${RUN[@]}" -E LD_PRELOAD="$entry" "$B/port-smoke" loaded ;;
	*)	loaded "loader" LD_PRELOAD="$entry" "$B/port-smoke" loaded ;;
	esac
fi
# The installed launcher finds the library beside it (../lib/<multiarch>/).
launcher=$tmp/root/usr/bin/noleak
[ -n "$target" ] && launcher=$tmp/img/usr/bin/noleak
if [ ${#RUN[@]} -eq 0 ] && [ -x "$launcher" ]; then
	echo "== $T: the installed launcher preloads the installed library"
	want_lib=${launcher%/bin/noleak}/lib/$T/libnoleak.so
	out=$(env -u LD_PRELOAD -u MAKEFLAGS "$launcher" -- "$B/port-smoke" loaded 2>&1)
	[ "$out" = "loaded $want_lib" ] && echo "ok launcher: ${want_lib#$tmp}" ||
		bad "the installed launcher: $out (not $want_lib)"
fi
[ $fail = 0 ] && echo "== $T: install passed"
exit $fail
