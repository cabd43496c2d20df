# apt-get installing and removing a small local .deb.  apt makes a status
# pipe without close-on-exec and names it to dpkg as `--status-fd N`; dpkg
# writes its progress there, and apt waits for it.  Needs root.

APT_PKG=noleak-compat-probe

checks_apt() {
	check apt-local-deb apt-get,dpkg apt_local_deb
}

build_deb() {
	mkdir -p pkg/DEBIAN "pkg/usr/share/$APT_PKG"
	cat >pkg/DEBIAN/control <<-EOF
	Package: $APT_PKG
	Version: 1.0
	Architecture: all
	Maintainer: libnoleak <noleak@localhost>
	Description: libnoleak compatibility suite package
	 Installed and removed again by make compat.
	EOF
	# The maintainer scripts run under dpkg: the probe proves dpkg (and the
	# apt-get above it) carried the shim.
	cat >pkg/DEBIAN/postinst <<-'EOF'
	#!/bin/sh
	[ -n "$PROBE" ] && "$PROBE" "$PROOF"
	[ -n "$COMPAT_RUN" ] && echo "postinst $1" >>"$COMPAT_RUN/postinst.log"
	exit 0
	EOF
	chmod 0755 pkg/DEBIAN/postinst
	echo "installed by apt" >"pkg/usr/share/$APT_PKG/hello.txt"
	dpkg-deb --root-owner-group --build pkg "$APT_PKG.deb" >/dev/null
}

pkg_state() {
	dpkg-query -W -f '${Package} ${Version} ${Status}\n' "$APT_PKG" 2>/dev/null ||
		echo "$APT_PKG not installed"
}

apt_local_deb() {
	[[ $(id -u) == 0 ]] || { echo "apt-get install needs root"; return 1; }
	build_deb || return 1
	# Leftovers of an interrupted run would change the output.
	dpkg --purge "$APT_PKG" >/dev/null 2>&1
	local apt=(apt-get -y -q -o Dpkg::Use-Pty=0 -o APT::Sandbox::User=root)
	expect "apt-get install" logged install.log "${apt[@]}" install "./$APT_PKG.deb"
	pkg_state
	cat "/usr/share/$APT_PKG/hello.txt" "$COMPAT_RUN/postinst.log"
	expect "apt-get purge" logged purge.log "${apt[@]}" purge "$APT_PKG"
	pkg_state
	[[ -e /usr/share/$APT_PKG ]] && echo "files left behind" || echo "files removed"
}
