#!/bin/bash
# Real workloads for `make bench` (fig_workloads in run.sh): set one up
# once, then run it once per sample, with whatever preload the caller's
# environment carries.  Nothing here uses the network.
#
#   workloads.sh setup NAME DIR     prepare DIR for workload NAME
#   workloads.sh run NAME DIR       one run of it
#
# configure  an autoconf configure script with many checks (Debian's
#            autoconf generates it at set-up)
# make       this project's library compiled with make -j2
# git        status, log -p and diff on a repository of 100 commits
# python     a Python subprocess.run() loop
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
what=$1 name=$2 dir=$3

setup_configure() {
	command -v autoconf >/dev/null || return 1
	mkdir -p "$dir"
	local h="stdio.h stdlib.h string.h unistd.h fcntl.h poll.h signal.h
		sys/socket.h sys/wait.h sys/stat.h sys/mman.h sys/epoll.h
		netinet/in.h netinet/tcp.h arpa/inet.h pthread.h dlfcn.h
		spawn.h termios.h limits.h"
	local f="pipe2 dup3 accept4 epoll_create1 eventfd memfd_create
		close_range posix_spawn pselect ppoll strlcpy getrandom
		clock_gettime preadv2 sendmmsg recvmmsg mkostemp"
	{
		echo 'AC_INIT([bench], [1])'
		echo 'AC_PROG_CC'
		echo "AC_CHECK_HEADERS([$(echo $h)])"
		echo "AC_CHECK_FUNCS([$(echo $f)])"
		echo 'AC_CHECK_SIZEOF([long])'
		echo 'AC_CHECK_SIZEOF([off_t])'
		echo 'AC_C_BIGENDIAN'
		echo 'AC_CONFIG_HEADERS([config.h])'
		echo 'AC_OUTPUT'
	} >"$dir/configure.ac"
	(cd "$dir" && echo > config.h.in && autoconf && autoheader 2>/dev/null) || return 1
}

setup_make() {
	mkdir -p "$dir"
	cp -r "$TOP/Makefile" "$TOP/common" "$TOP/policy" "$TOP/shim" "$dir/"
}

setup_git() {
	mkdir -p "$dir"
	cd "$dir"
	git init -q .
	git config user.email bench@localhost
	git config user.name bench
	for i in $(seq 1 100); do
		seq "$i" $((i * 20)) >"file$((i % 10)).txt"
		git add -A
		git commit -qm "change $i"
	done
}

setup_python() { command -v python3 >/dev/null; }

run_configure() { cd "$dir" && ./configure -q >/dev/null; }
run_make() { cd "$dir" && rm -rf b && make -s -j2 B=b b/libnoleak.so >/dev/null; }
run_git() {
	cd "$dir"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		git status --porcelain >/dev/null
		git log -p -30 >/dev/null
		git diff HEAD~5 >/dev/null
	done
}
run_python() {
	python3 -c 'import subprocess
for _ in range(100): subprocess.run(["true"])'
}

"${what}_$name"
