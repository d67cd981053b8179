#!/bin/sh
# deps.sh: install the Debian packages Responsables needs to build, test
# and run. As root it runs apt-get; otherwise it prints the command to run.
set -eu

# libclang-rt-dev: libFuzzer for make fuzz (clang only recommends it).
# chromium, chromium-driver, python3-selenium, zbar-tools: test_browser.py
# (the guichet in a headless browser, the sheet's QR code read back).
# haproxy: test_haproxy.py (two ecadmd behind it, one database).
PACKAGES="build-essential pkg-config clang libclang-rt-dev
libncurses-dev libpq-dev libssl-dev libhpdf-dev libssh-dev libjansson-dev
libcurl4-openssl-dev libqrencode-dev libcmocka-dev libmicrohttpd-dev
libinih-dev libcsv-dev postgresql postgresql-contrib fonts-dejavu-core poppler-utils
tmux python3 python3-aiosmtpd openssl openssh-client
chromium chromium-driver python3-selenium zbar-tools haproxy"

missing=""
for p in $PACKAGES; do
	# A virtual package (postgresql-contrib) is satisfied by its provider.
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed'; then
		if [ "$p" = postgresql-contrib ] &&
		    [ -f /usr/share/postgresql/15/extension/unaccent.control ]; then
			continue
		fi
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run: sudo apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends $missing ||
	{ apt-get update && apt-get install -y --no-install-recommends $missing; }
