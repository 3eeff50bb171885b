#!/usr/bin/env bash
# install-deps - install the Debian 12 packages Sekisho needs.
#   dev/install-deps.sh build   compiler and libraries
#   dev/install-deps.sh run     the above plus the clients of the README's examples
#                               (curl, swaks), for dev/run-gateway.sh
#   dev/install-deps.sh test    the above plus the servers, clients and tools of the test suite,
#                               and the browser tests' node packages (npm ci --prefix tests/browser)
# Packages already installed are not fetched again; apt-get update runs only
# when something is missing.
set -eu
what=${1:-build}
build=(gcc make pkg-config libclamav-dev libc-ares-dev libssl-dev zlib1g-dev libbrotli-dev libzstd-dev
       liblmdb-dev libpam0g-dev libcrypt-dev libzip-dev libmicrohttpd-dev)
run=(curl swaks)
test=(libcmocka-dev libwrap0-dev clang libclang-rt-14-dev cppcheck clang-format
      nginx-light postfix vsftpd curl python3 zip procps iproute2 swaks arj
      brotli zstd dovecot-pop3d lmdb-utils libpam-wrapper pamtester fail2ban
      rspamd unbound squid clamav openssl python3-prometheus-client p7zip-full
      chromium nodejs default-jre-headless fonts-ipafont-gothic iptables)
# chromium, nodejs, default-jre-headless: the console's browser tests (vnu.jar
# runs on Java); fonts-ipafont-gothic: their screenshots of the Japanese pages.
# iptables: transparent mode's NAT rules (test_transparent), misc/rc.transparent and the
# console's NAT redirect page (test_console_lists).
# Debian's npm, unless the installed nodejs brings its own npm (NodeSource's
# nodejs does, and conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || test+=(npm)
pkgs=("${build[@]}")
case "$what" in
build) ;;
run) pkgs+=("${run[@]}") ;;
test) pkgs+=("${run[@]}" "${test[@]}") ;;
*)
    echo "usage: $0 build|run|test" >&2
    exit 2
    ;;
esac
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The console's browser tests (tests/integration/test_console_browser.py):
# playwright-core, axe-core and vnu-jar at the versions of the lock file.
# --ignore-scripts: vnu-jar's postinstall would download a Java runtime;
# Debian's default-jre-headless runs its vnu.jar. Run again only when the
# lock file changed (npm ci starts from an empty node_modules each time).
browser_packages() {
    local dir stamp
    dir=$(cd "$(dirname "$0")/.." && pwd)/tests/browser
    stamp=$dir/node_modules/.installed-lock.json
    cmp -s "$dir/package-lock.json" "$stamp" && return 0
    npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund
    cp "$dir/package-lock.json" "$stamp"
}
if [ ${#missing[@]} -eq 0 ]; then
    [ "$what" = test ] && browser_packages
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages ${missing[*]}; run as root to install them" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# postfix only provides smtp-sink for the tests: no mail system is configured.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
apt-get update -q
had_freshclam=0
dpkg-query -W -f='${Status}' clamav-freshclam 2>/dev/null | grep -q "install ok installed" && had_freshclam=1
apt-get install -y -q --no-install-recommends "${missing[@]}"
# The tests need sigtool and clamscan (package clamav), which pull in
# clamav-freshclam: a daemon that fetches ClamAV's databases from the
# Internet every hour. Sekisho's own dbupdate is the update mechanism and the
# tests stay on loopback, so a freshclam daemon this script brought in is
# stopped and disabled (one the machine already had is left alone).
if [ $had_freshclam -eq 0 ] && [ -d /run/systemd/system ] &&
    dpkg-query -W -f='${Status}' clamav-freshclam 2>/dev/null | grep -q "install ok installed"; then
    systemctl disable --now clamav-freshclam.service 2>/dev/null || true
fi
[ "$what" = test ] && browser_packages
exit 0
