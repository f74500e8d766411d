#!/bin/sh
# Installs the Debian packages the test suite runs for real (QEMU, a real kernel, kexec-tools,
# makedumpfile, busybox, dash, shellcheck, kernel source trees for Kconfig, libfaketime for
# the runtime's clock tests, crash(8) and the compiler for the oops test module, sshd, dropbear's
# client, curl and nginx for the upload tests, mmdebstrap for the booted test images), only
# those missing.
set -eu

# Package list: one place. linux-image-amd64 is fetched as a .deb by the tests, not installed;
# so are, for the analyze tests, linux-image-<release>-dbg (only its vmlinux is extracted) and
# linux-headers-<release> (+ its -common and linux-kbuild) for exactly the harness's kernel.
# linux-source-6.12 (a second kernel series for the Kconfig tests) comes from bookworm-security.
PACKAGES="dash busybox-static shellcheck kexec-tools makedumpfile qemu-system-x86 cpio
e2fsprogs linux-source-6.1 linux-source-6.12 flex bison bc gcc make xz-utils zstd
systemd mount gzip tar libxml2-utils faketime crash binutils python3
openssh-server openssh-client dropbear-bin curl nginx mmdebstrap"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
# The tests download Debian's kernel package (never installed): that needs package lists.
# The analyze tests also download the -dbg and headers packages of that exact kernel release.
have_lists=yes
apt-cache show linux-image-amd64 >/dev/null 2>&1 || have_lists=no
release=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -n 1)
if [ -n "$release" ]; then
	apt-cache show "linux-image-$release-dbg" "linux-headers-$release" >/dev/null 2>&1 || have_lists=no
fi
[ -z "$missing" ] && [ "$have_lists" = yes ] && exit 0

[ -n "$missing" ] && echo "kdump-layer tests: installing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "kdump-layer tests: need root (or sudo) to install:$missing" >&2
	exit 2
fi
# kexec-tools must not arm kexec-on-reboot on the test host.
echo 'kexec-tools kexec-tools/load_kexec boolean false' | $SUDO debconf-set-selections
$SUDO apt-get update -qq
[ -z "$missing" ] && exit 0
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The tests start their own sshd and nginx on 127.0.0.1: the packages' system services, if
# their installation started them, are stopped again.
for svc in ssh nginx; do
	case " $missing " in
	*" openssh-server "* | *" nginx "*) $SUDO invoke-rc.d "$svc" stop >/dev/null 2>&1 || : ;;
	esac
done
