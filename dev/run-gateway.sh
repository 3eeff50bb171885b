#!/usr/bin/env bash
# run-gateway - the README's run command: install packages, build, install
# into a prefix with the repository's default configuration, then run the
# whole gateway: sekisho-scand with the bundled definitions, every service
# whose <svc>_service=yes in the installed conf/sekisho.ini (the shipped
# file turns on HTTP, SMTP, POP and FTP) and the web console, each started
# by its rc script. Each prints where it listens. The script stays in the
# foreground; Ctrl-C (SIGINT) or SIGTERM stops everything it started.
#
#   bash dev/run-gateway.sh
#
# Environment (all optional):
#   PREFIX=/opt/sekisho          where to install and run
#   PAMDIR=/etc/pam.d            where the PAM service links sekisho_<svc> go
#   SYSTEMDUNITDIR=/etc/systemd/system, CRONDIR=/etc/cron.d
#                                where make install puts the hourly definition
#                                update (the timer with systemd, else a cron line)
#   SMTP_PARENT=host:port        the mail server the SMTP proxy hands mail to
#                                (parent_server_host/port of [smtp])
#   HTTP_SVCPORT=127.0.0.1:9080  where the HTTP proxy listens (svcport of [http])
#   SMTP_SVCPORT=127.0.0.1:9025  where the SMTP proxy listens (svcport of [smtp])
#   POP_SVCPORT=127.0.0.1:9110   where the POP3 proxy listens (svcport of [pop])
#   POP_PARENT=host:port         the POP3 server a plain user name goes to
#                                (parent_server_host/port of [pop]; without
#                                it, users log in as name@server)
#   FTP_SVCPORT=127.0.0.1:9021   where the FTP proxy listens (svcport of [ftp])
#   FTP_PARENT=host:port         the FTP server a plain user name goes to
#                                (parent_server_host/port of [ftp]; without
#                                it, users log in as name@server)
#   ADMINPORT=9012, LANG_CONSOLE=en|ja
#                                the web console's port and language on the
#                                first install (make install adminport= lang=;
#                                later: conf/admin.conf)
# A variable that is set is written into $PREFIX/conf/sekisho.ini (so it
# stays set for the next run and for the rc scripts); an existing
# sekisho.ini is otherwise kept as the administrator left it.
#
# Needs root for the package check (it installs nothing when every package
# is there) and to drop the services to run_user.
set -eu
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/opt/sekisho}

dev/install-deps.sh run
make -s -j"$(nproc)" all-bins
make -s install prefix="$PREFIX" pamdir="${PAMDIR:-/etc/pam.d}" \
    adminport="${ADMINPORT:-}" lang="${LANG_CONSOLE:-}" \
    systemdunitdir="${SYSTEMDUNITDIR:-/etc/systemd/system}" crondir="${CRONDIR:-/etc/cron.d}"
cd "$PREFIX"
PREFIX=$(pwd -P) # as the rc scripts see it (they match the ini path)
INI=$PREFIX/conf/sekisho.ini

# ini_set SECTION KEY VALUE - set KEY in [SECTION] of the installed ini: the
# key's line if it has one, else its commented-out line ("# key=..."),
# else a new line at the end of the section.
ini_set() {
    awk -v sec="$1" -v key="$2" -v val="$3" '
        function header(line) { line = tolower(line); gsub(/[][ \t\r]/, "", line); return line }
        /^[ \t]*\[/ { insec = header($0) == sec }
        NR == FNR { if (insec && $0 ~ "^[ \t]*" key "[ \t]*=") has = 1; next }
        /^[ \t]*\[/ {
            if (was && !done) { print key "=" val; print ""; done = 1 }
            was = insec
            print
            next
        }
        insec && !done && $0 ~ "^[ \t]*" (has ? "" : "#[ \t]*") key "[ \t]*=" {
            print key "=" val
            done = 1
            next
        }
        { print }
        END {
            if (!done) {
                if (!was) print "[" sec "]"
                print key "=" val
            }
        }' "$INI" "$INI" >"$INI.tmp"
    cat "$INI.tmp" >"$INI"
    rm -f "$INI.tmp"
}

if [ -n "${SMTP_PARENT:-}" ]; then
    ini_set smtp parent_server_host "${SMTP_PARENT%:*}"
    ini_set smtp parent_server_port "${SMTP_PARENT##*:}"
fi
if [ -n "${HTTP_SVCPORT:-}" ]; then ini_set http svcport "$HTTP_SVCPORT"; fi
if [ -n "${SMTP_SVCPORT:-}" ]; then ini_set smtp svcport "$SMTP_SVCPORT"; fi
if [ -n "${POP_PARENT:-}" ]; then
    ini_set pop parent_server_host "${POP_PARENT%:*}"
    ini_set pop parent_server_port "${POP_PARENT##*:}"
fi
if [ -n "${POP_SVCPORT:-}" ]; then ini_set pop svcport "$POP_SVCPORT"; fi
if [ -n "${FTP_PARENT:-}" ]; then
    ini_set ftp parent_server_host "${FTP_PARENT%:*}"
    ini_set ftp parent_server_port "${FTP_PARENT##*:}"
fi
if [ -n "${FTP_SVCPORT:-}" ]; then ini_set ftp svcport "$FTP_SVCPORT"; fi

# Which services to run: the binary reads the switch with the real loader
# (exit 0 yes, 1 no, 2 invalid file, 3 not implemented in this version).
services=()
for svc in http smtp pop ftp; do
    on=0
    ./sekisho --"$svc" -f "$INI" --service-enabled >/dev/null || on=$?
    case $on in
    0) services+=("$svc") ;;
    1) echo "sekisho_$svc: ${svc}_service=no in $INI; not started" ;;
    3) echo "sekisho_$svc: ${svc}_service=yes in $INI, but not implemented in this version; not started" ;;
    *)
        echo "run-gateway: $INI refused (see above)" >&2
        exit 1
        ;;
    esac
done
if [ ${#services[@]} -eq 0 ]; then
    echo "run-gateway: no service is switched on (<svc>_service=yes) in $INI" >&2
    exit 1
fi

# Every part runs as a daemon under its rc script, as on an installed host:
# the web console restarts a service through the same script (Save and
# Restart) without this script noticing anything but the new pid.
stop_all() {
    trap - INT TERM EXIT
    ./rc.sekisho_admin stop || true
    for svc in "${services[@]}"; do ./rc.sekisho_"$svc" stop || true; done
    ./rc.sekisho_scand stop || true
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

./rc.sekisho_scand start
echo "sekisho-scand: log $PREFIX/log/scand.log"
for svc in "${services[@]}"; do
    ./rc.sekisho_"$svc" start
    echo "sekisho_$svc: logs in $PREFIX/log/$svc/{access,detect,info,error}.log"
done
./rc.sekisho_admin start
port=$(sed -n 's/^[[:space:]]*adminport[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' conf/admin.conf | tail -n 1)
echo "sekisho-admin: the web console on http://127.0.0.1:${port:-9012}/ (user admin, password" \
    "admin the first time: it asks for a new one); log in $PREFIX/log/admin/"
echo "run-gateway: running ${services[*]} and the console; Ctrl-C stops everything"
# Until Ctrl-C (the traps stop everything); the sleep is in the background
# so that a signal is handled at once.
while :; do
    sleep 3600 &
    wait $! || true
done
