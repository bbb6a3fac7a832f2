#!/usr/bin/env bash
# start.sh WORKDIR AUTH_PORT: render the test rig's FreeRADIUS configuration
# into WORKDIR and run FreeRADIUS in the foreground on 127.0.0.1:AUTH_PORT
# (authentication) and 127.0.0.1:AUTH_PORT+1 (accounting).
#
# PPTP_RADIUS_DEBUG=1 runs it with -X (full debug: every attribute of every
# packet, in and out) instead of the normal log.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 WORKDIR AUTH_PORT" >&2
    exit 2
fi
workdir=$1
auth_port=$2
case $auth_port in
    '' | *[!0-9]*) echo "start.sh: AUTH_PORT must be a number, got '$auth_port'" >&2; exit 2 ;;
esac
if [ "$auth_port" -lt 1 ] || [ "$auth_port" -gt 65534 ]; then
    echo "start.sh: AUTH_PORT $auth_port out of range (1..65534; acct uses AUTH_PORT+1)" >&2
    exit 2
fi
acct_port=$((auth_port + 1))

here=$(cd "$(dirname "$0")" && pwd)
if command -v freeradius >/dev/null 2>&1; then
    radiusd=$(command -v freeradius)
elif [ -x /usr/sbin/freeradius ]; then
    radiusd=/usr/sbin/freeradius
else
    echo "start.sh: FreeRADIUS is not installed: apt-get install freeradius freeradius-utils" >&2
    exit 127
fi

mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)
# radiusd refuses a globally writable configuration directory.
chmod 0700 "$workdir"

# sed replacement text: escape the delimiter, '&' and backslashes of the path.
wd_sed=$(printf '%s' "$workdir" | sed 's/[|&\\]/\\&/g')
sed -e "s|@WORKDIR@|$wd_sed|g" \
    -e "s|@AUTH_PORT@|$auth_port|g" \
    -e "s|@ACCT_PORT@|$acct_port|g" \
    "$here/radiusd.conf" >"$workdir/radiusd.conf"
cp "$here/clients.conf" "$here/users" "$workdir/"
chmod 0600 "$workdir/radiusd.conf" "$workdir/clients.conf" "$workdir/users"

if ! check=$("$radiusd" -C -d "$workdir" 2>&1); then
    echo "start.sh: FreeRADIUS rejected the configuration in $workdir:" >&2
    printf '%s\n' "$check" >&2
    exit 1
fi

# If whoever started us dies without stopping us (a test binary that aborts,
# a Ctrl-C'd selftest), stop FreeRADIUS too. exec keeps this shell's pid, so
# $$ below is FreeRADIUS's pid once it runs.
parent=$PPID
self=$$
(
    while kill -0 "$self" 2>/dev/null; do
        # kill -0 fails with EPERM on a parent of another user (su, sudo).
        if ! kill -0 "$parent" 2>/dev/null && [ ! -d "/proc/$parent" ]; then
            kill "$self" 2>/dev/null || true
            break
        fi
        sleep 1
    done
) </dev/null &

if [ "${PPTP_RADIUS_DEBUG:-}" = 1 ]; then
    exec "$radiusd" -X -d "$workdir"
fi
exec "$radiusd" -f -d "$workdir" -l stdout
