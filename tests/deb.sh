#!/bin/sh
# The Debian package in a throwaway root: a private mount namespace with an
# overlay over / (the changes go to a tmpfs and vanish with the namespace;
# the host's dpkg database, /etc/ld.so.preload and /etc/systemd are never
# touched).  Install, noleak enable, a program shows the library in its
# maps, upgrade to a rebuilt package while programs keep starting, apt-get
# remove: no program prints a loader error, and /etc/ld.so.preload no
# longer names the library.
# Usage: tests/deb.sh build/deb/libnoleak_V_ARCH.deb (make deb-test).
set -eu
deb=$(readlink -f "$1")
[ "$(id -u)" = 0 ] || { echo "deb: needs root (a mount namespace)"; exit 1; }
work=$(mktemp -d /tmp/noleak-deb-XXXXXX)
trap 'rm -rf "$work"' EXIT
# The upgrade: the same package, version +1 (dpkg replaces every file by
# rename, the library included).
mkdir "$work/pkg"
dpkg-deb -R "$deb" "$work/pkg"
sed -i 's/^Version: \(.*\)/Version: \1+1/' "$work/pkg/DEBIAN/control"
dpkg-deb -b "$work/pkg" "$work/upgrade.deb" >/dev/null
cp "$deb" "$work/first.deb"
# What runs inside the throwaway root.
cat > "$work/inside.sh" <<'INSIDE'
set -eu
fail() { echo "deb: $*" >&2; exit 1; }
names_lib() { [ -e /etc/ld.so.preload ] && grep -q libnoleak /etc/ld.so.preload; }
loader_error() { grep -q "cannot be preloaded" "$1"; }
export DEBIAN_FRONTEND=noninteractive
dpkg -i /debs/first.deb >/dev/null
man -w noleak >/dev/null || fail "man noleak: no page"
[ -f /usr/share/doc/libnoleak/noleak.conf.example ] || fail "no example config"
names_lib && fail "installing enabled the library"
noleak enable >/dev/null
grep -q libnoleak.so /proc/self/maps || fail "enabled, but not in a program's maps"
# Programs start all through the upgrade: none may find the entry naming a
# missing or half-written library.
rm -f /tmp/stop
( while [ ! -e /tmp/stop ]; do /bin/true; done ) 2>/tmp/loop-err &
dpkg -i /debs/upgrade.deb >/dev/null 2>/tmp/err
touch /tmp/stop
wait
loader_error /tmp/err && fail "upgrade: $(cat /tmp/err)"
[ -s /tmp/loop-err ] && fail "during the upgrade: $(head -3 /tmp/loop-err)"
names_lib || fail "the upgrade dropped the entry"
grep -q libnoleak.so /proc/self/maps || fail "upgraded, but not in a program's maps"
apt-get remove -y libnoleak >/dev/null 2>/tmp/err
loader_error /tmp/err && fail "remove: $(cat /tmp/err)"
/bin/true 2>/tmp/err
[ -s /tmp/err ] && fail "after removal: $(cat /tmp/err)"
names_lib && fail "removal left the entry"
for f in /usr/lib/*/libnoleak.so; do [ -e "$f" ] && fail "$f left behind"; done
exit 0
INSIDE
# The host's own file, to show it unchanged at the end.
host_before=$(cat /etc/ld.so.preload 2>/dev/null || echo absent)
unshare -m --propagation private sh -eu -c '
	work=$1
	mkdir "$work/ovl"
	mount -t tmpfs tmpfs "$work/ovl"
	mkdir "$work/ovl/upper" "$work/ovl/work" "$work/root"
	mount -t overlay overlay \
		-o "lowerdir=/,upperdir=$work/ovl/upper,workdir=$work/ovl/work" "$work/root"
	mount --bind /proc "$work/root/proc"
	mount --rbind /dev "$work/root/dev"
	mkdir -p "$work/root/debs"
	cp "$work/first.deb" "$work/upgrade.deb" "$work/inside.sh" "$work/root/debs/"
	chroot "$work/root" /bin/sh /debs/inside.sh
' sh "$work"
[ "$(cat /etc/ld.so.preload 2>/dev/null || echo absent)" = "$host_before" ] ||
	{ echo "deb: the host's /etc/ld.so.preload changed"; exit 1; }
echo "deb: install, enable, upgrade, remove in a throwaway root: ok"
