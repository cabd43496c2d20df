#!/bin/sh
# Install what `make compat` runs, only when it is missing (Debian 12, as
# root).  Everything comes from Debian's own apt repositories.
set -e
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

need=""
# want PACKAGE TEST...: add PACKAGE when the test command fails.
want() {
	pkg=$1
	shift
	if ! "$@" >/dev/null 2>&1; then
		case " $need " in *" $pkg "*) ;; *) need="$need $pkg" ;; esac
	fi
}
has() { command -v "$1"; }

want gcc                     has gcc
want make                    has make
want bash                    test -x /bin/bash
want coreutils               has stdbuf
want findutils               has xargs
want util-linux              has flock
want util-linux              has setsid
want bsdutils                has script
want tar                     has tar
want gzip                    has gzip
want git                     has git
want tmux                    has tmux
want dbus-daemon             has dbus-run-session
want dbus-bin                has dbus-send
want systemd                 has systemd-socket-activate
want dpkg                    has dpkg-deb
want apt                     has apt-get
want python3                 test -x /usr/bin/python3
want libpython3.11-testsuite test -f /usr/lib/python3.11/test/test_subprocess.py
want openjdk-17-jdk-headless has javac
want nodejs                  has node
want supervisor              has supervisord
want dumb-init               has dumb-init
want procps                  has pgrep
want postgresql              sh -c 'ls /usr/lib/postgresql/*/bin/initdb'
want haproxy                 has haproxy
want openssh-server          test -x /usr/sbin/sshd
want openssh-client          has ssh-keygen
want nginx-light             test -x /usr/sbin/nginx
want socat                   has socat
want perl                    has perl
want iproute2                has ss
want php8.2-fpm              test -x /usr/sbin/php-fpm8.2
want lighttpd                test -x /usr/sbin/lighttpd
want redis-server            has redis-server
want redis-tools             has redis-cli
want xinetd                  test -x /usr/sbin/xinetd
want tini                    has tini
want uwsgi-core              has uwsgi
want uwsgi-plugin-python3    test -f /usr/lib/uwsgi/plugins/python3_plugin.so
want dpkg                    has start-stop-daemon
want apache2-bin             test -x /usr/sbin/apache2
want apache2-utils           has rotatelogs
want ruby                    has ruby
want php8.2-cli              has php
want rsyslog                 test -x /usr/sbin/rsyslogd
want bsdutils                has logger
want runit                   has runsvdir
want s6                      has s6-svscan
want erlang-base             has escript
want cron                    test -x /usr/sbin/cron
want squid                   test -x /usr/sbin/squid
want util-linux              has unshare
want mount                   has mount
want iproute2                has ip

[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "compat deps: missing:$need (run as root, or install them)" >&2
	exit 1
fi
echo "compat deps: installing$need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $need >/dev/null
