#!/usr/bin/env bash
# The cross toolchains and qemu-user for `make ports`, from Debian, installed
# only when missing.  gcc-i686-linux-gnu rather than gcc-multilib, which
# gcc-aarch64-linux-gnu would remove; libc6-i386 runs i386 programs here.
set -euo pipefail
need=()
command -v i686-linux-gnu-gcc >/dev/null || need+=(gcc-i686-linux-gnu libc6-dev-i386-cross)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v musl-gcc >/dev/null || need+=(musl-tools)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
[ -e /lib/ld-linux.so.2 ] || need+=(libc6-i386)
if [ ${#need[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
