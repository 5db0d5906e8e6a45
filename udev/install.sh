#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Installs udev/60-minivisor.rules (DKMS's POST_INSTALL, "make udev_install")
# and applies it to a /dev/minivisor that exists already.  Run from the
# source tree; DESTDIR is honoured, udev need not be running.
set -e
cd "$(dirname "$0")"
rules="${DESTDIR}/etc/udev/rules.d"
mkdir -p "$rules"
install -m 0644 60-minivisor.rules "$rules/60-minivisor.rules"
if [ -z "$DESTDIR" ] && command -v udevadm > /dev/null 2>&1; then
	udevadm control --reload-rules 2> /dev/null || true
	udevadm trigger --action=change --sysname-match=minivisor \
		2> /dev/null || true
fi
