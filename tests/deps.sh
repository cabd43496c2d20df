#!/bin/sh
# Install what the tests need, only when it is missing (Debian 12).
set -e
need=""
want() { # want COMMAND-OR-FILE PACKAGE
	case "$1" in
	/*) [ -e "$1" ] || need="$need $2" ;;
	*) command -v "$1" >/dev/null 2>&1 || need="$need $2" ;;
	esac
}
# A package by name, for what no command or header shows.
want_pkg() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed" ||
		need="$need $1"
}
want /usr/include/criterion/criterion.h libcriterion-dev
want gcc gcc
want make make
want clang clang                  # make fuzz
want_pkg libclang-rt-14-dev       # libFuzzer and the sanitizer runtimes
want valgrind valgrind            # make stress (helgrind), benchmarks
want ip iproute2                  # dead-peer test in network namespaces
want setpriv util-linux           # secure-mode tests
want script bsdutils              # pseudo-terminal tests
want dumb-init dumb-init          # pgroup_session's dumb-init row
want python3 python3
want javac openjdk-17-jdk-headless
want addr2line binutils
want /usr/include/zlib.h zlib1g-dev     # noleak-report reads rotated .gz logs
want strace strace                # log rotation: lookups per second
want man man-db                   # man --warnings on the man pages
want dpkg-buildpackage dpkg-dev   # make deb
want dh debhelper
want lintian lintian
want /lib/systemd/systemd-journald systemd   # log = journal against journald
want journalctl systemd
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$need (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $need >/dev/null
