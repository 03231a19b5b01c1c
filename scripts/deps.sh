#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: via apt when root, otherwise it
# fails with the command to run. Never lets a test skip for want of a dependency.
set -euo pipefail

have() {
	case "$1" in
	gcc) command -v gcc >/dev/null ;;
	libpmem2-dev) [ -f /usr/include/libpmem2.h ] ;;
	daxctl) command -v daxctl >/dev/null ;;
	ndctl) command -v ndctl >/dev/null ;;
	fuse3) command -v fusermount3 >/dev/null ;;
	*) dpkg -s "$1" >/dev/null 2>&1 ;;
	esac
}

missing=()
for p in "$@"; do have "$p" || missing+=("$p"); done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
		echo "deps: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq "${missing[@]}" >/dev/null
	else
		echo "deps: missing ${missing[*]}; install them with:" >&2
		echo "    sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
fi

if [ ! -c /dev/fuse ]; then
	echo "deps: /dev/fuse is missing: load the fuse module (modprobe fuse) or, in a container, run with --device /dev/fuse --cap-add SYS_ADMIN" >&2
	exit 1
fi
# fusermount3 opens /dev/fuse with the caller's own permissions: where the device is closed to a
# user (mode 0600), only root can use FUSE.
if [ "$(id -u)" -ne 0 ] && ! { [ -r /dev/fuse ] && [ -w /dev/fuse ]; }; then
	echo "deps: /dev/fuse ($(stat -c '%A %U:%G' /dev/fuse)) is closed to you, and fusermount3 opens it as you: only root can use FUSE here." >&2
	echo "    sudo chmod 0666 /dev/fuse    # the mode udev gives it on Debian; a rule KERNEL==\"fuse\", MODE=\"0666\" keeps it" >&2
	exit 1
fi
echo "deps: ok (${*})"
