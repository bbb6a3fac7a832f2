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

# PEAP's certificates (radiusd.conf's tls-common): a throwaway P-256 CA and
# a server certificate it signs, new at every start, valid for two days.
# Tests point their PEAP peer's ca_cert at certs/ca.pem.
if ! command -v openssl >/dev/null 2>&1; then
    echo "start.sh: openssl is not installed (PEAP's certificates): apt-get install openssl" >&2
    exit 127
fi
certs=$workdir/certs
mkdir -p "$certs"
cat >"$certs/openssl.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = pptp-proto test
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:radius.pptp-proto.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
if ! out=$(
    openssl req -x509 "${ec[@]}" -config "$certs/openssl.cnf" -extensions ca \
        -subj "/CN=pptp-proto test CA" -days 2 -keyout "$certs/ca.key" -out "$certs/ca.pem" &&
        openssl req -new "${ec[@]}" -config "$certs/openssl.cnf" \
            -subj "/CN=radius.pptp-proto.test" -keyout "$certs/server.key" -out "$certs/server.csr" &&
        openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
            -set_serial 2 -days 2 -sha256 -extfile "$certs/openssl.cnf" -extensions server \
            -out "$certs/server.pem"
) 2>&1; then
    echo "start.sh: openssl could not make PEAP's certificates in $certs:" >&2
    printf '%s\n' "$out" >&2
    exit 1
fi
chmod 0600 "$certs"/*.key

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
