#!/bin/sh
# Install what the tests need, only when it is missing (Debian).
set -e
need=""
[ -f /usr/include/criterion/criterion.h ] || need="$need libcriterion-dev"
command -v gcc >/dev/null || need="$need gcc"
command -v make >/dev/null || need="$need make"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$need (run as root, or install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $need >/dev/null
