#!/usr/bin/env bash
# selftest.sh: start the rig on a free port and check, with radtest and
# radclient, that it answers as the Rust tests expect: PAP, CHAP, MS-CHAPv1,
# MS-CHAPv2 (RFC 2759 §9.2's sample, so S= and the RFC 3079 keys are known),
# rejects, reply attributes, PEAP with eapol_test, and accounting records in
# WORKDIR/detail.
# Prints one PASS/FAIL line per check; exits non-zero if any failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
secret=testing123-pptp

for tool in radtest radclient; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "FAIL: $tool not found (apt-get install freeradius-utils)"; exit 1; }
done

workdir=$(mktemp -d "${TMPDIR:-/tmp}/pptp-radius-selftest.XXXXXX")
pid=
stop() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
}
trap stop EXIT

# A UDP port pair (auth, auth+1) nobody listens on; if FreeRADIUS still
# finds one taken, try another.
port_free() { [ -z "$(ss -Hlun "sport = :$1" 2>/dev/null)" ]; }
started=
for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000 * 2))
    port_free "$port" && port_free $((port + 1)) || continue
    bash "$here/start.sh" "$workdir" "$port" >"$workdir/radiusd.log" 2>&1 &
    pid=$!
    for _ in $(seq 150); do
        grep -q 'Ready to process requests' "$workdir/radiusd.log" && { started=1; break; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$started" ] && break
    stop
    pid=
    grep -q 'Address already in use' "$workdir/radiusd.log" || break
done
if [ -z "$started" ]; then
    echo "FAIL: FreeRADIUS did not start; $workdir/radiusd.log:"
    sed 's/^/    /' "$workdir/radiusd.log"
    exit 1
fi
echo "FreeRADIUS ready on 127.0.0.1:$port (acct $((port + 1))), work dir $workdir"
auth=127.0.0.1:$port
acct=127.0.0.1:$((port + 1))

passed=0
failed=0
# expect NAME OUTPUT REGEX...: PASS if OUTPUT matches every REGEX.
expect() {
    local name=$1 out=$2 re
    shift 2
    for re in "$@"; do
        if ! grep -qE -- "$re" <<<"$out"; then
            echo "FAIL: $name: no /$re/ in:"
            sed 's/^/    /' <<<"$out"
            failed=$((failed + 1))
            return
        fi
    done
    echo "PASS: $name"
    passed=$((passed + 1))
}
# radius auth|acct ATTRIBUTE-LINES...: one request through radclient.
radius() {
    local kind=$1 server=$auth
    shift
    [ "$kind" = acct ] && server=$acct
    printf '%s\n' "$@" | radclient -x -r 1 -t 3 "$server" "$kind" "$secret" 2>&1
}

out=$(radtest alice secret "$auth" 0 "$secret" 2>&1)
expect "alice, PAP: Access-Accept" "$out" 'Received Access-Accept'

out=$(radius auth 'User-Name = "alice"' 'User-Password = "secret"')
expect "alice, PAP without Message-Authenticator: Access-Accept (not required)" "$out" \
    'Received Access-Accept'

out=$(radtest bob hunter2 "$auth" 0 "$secret" 2>&1)
# Class "bob-class" is printed as octets.
expect "bob, PAP: Access-Accept with his reply attributes" "$out" \
    'Received Access-Accept' 'Framed-IP-Address = 10\.77\.0\.9' 'Session-Timeout = 30' \
    'Idle-Timeout = 20' 'Class = 0x626f622d636c617373' 'Acct-Interim-Interval = 60'

out=$(radtest carol carol-pw "$auth" 0 "$secret" 2>&1)
expect "carol, PAP: Access-Accept with Session-Timeout = 3" "$out" \
    'Received Access-Accept' 'Session-Timeout = 3$'

out=$(radtest alice wrong "$auth" 0 "$secret" 2>&1)
expect "alice, wrong password: Access-Reject" "$out" 'Received Access-Reject'

out=$(radtest mallory secret "$auth" 0 "$secret" 2>&1)
expect "unknown user: Access-Reject" "$out" 'Received Access-Reject'

out=$(radtest -t chap alice secret "$auth" 0 "$secret" 2>&1)
expect "alice, CHAP: Access-Accept" "$out" 'CHAP-Password = ' 'Received Access-Accept'

out=$(radtest -t chap alice wrong "$auth" 0 "$secret" 2>&1)
expect "alice, CHAP, wrong password: Access-Reject" "$out" 'Received Access-Reject'

# radtest -t mschap is MS-CHAPv1 (RFC 2433): MS-CHAP-Challenge + MS-CHAP-Response.
out=$(radtest -t mschap alice secret "$auth" 0 "$secret" 2>&1)
expect "alice, MS-CHAPv1: Access-Accept with MS-CHAP-MPPE-Keys" "$out" \
    'MS-CHAP-Response = ' 'Received Access-Accept' 'MS-CHAP-MPPE-Keys = 0x' \
    'MS-MPPE-Encryption-Policy = Encryption-Allowed' \
    'MS-MPPE-Encryption-Types = RC4-40or128-bit-Allowed'

# MS-CHAPv2 with RFC 2759 §9.2's values: MS-CHAP2-Response is Ident, Flags,
# Peer-Challenge, 8 reserved octets, NT-Response (RFC 2548 §2.3.2).
v2_challenge=0x5B5D7C7D7B3F2F3E3C2C602132262628
v2_response=0x0100
v2_response+=21402324255E262A28295F2B3A337C7E
v2_response+=0000000000000000
v2_nt=82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF
out=$(radius auth 'User-Name = "User"' "MS-CHAP-Challenge = $v2_challenge" \
    "MS-CHAP2-Response = $v2_response$v2_nt" 'Message-Authenticator = 0x00')
# 0x01 "S=407A5589115FD0D6209F510FE9C04566932CDA56" (RFC 2759 §9.2); the keys
# are RFC 3079 §3.5.3's: Send-Key is the server's send key (SendStartKey128),
# Recv-Key the server's receive key. radclient shows them decrypted.
expect "User, MS-CHAPv2 (RFC 2759 §9.2): Access-Accept, S= and RFC 3079 keys" "$out" \
    'Received Access-Accept' \
    'MS-CHAP2-Success = 0x01533d34303741353538393131354644304436323039463531304645394330343536363933324344413536' \
    'MS-MPPE-Send-Key = 0x8b7cdc149b993a1ba118cb153f56dccb' \
    'MS-MPPE-Recv-Key = 0xd5f0e9521e3ea9589645e86051c82226' \
    'MS-MPPE-Encryption-Policy = Encryption-Allowed' \
    'MS-MPPE-Encryption-Types = RC4-40or128-bit-Allowed'

out=$(radius auth 'User-Name = "User"' "MS-CHAP-Challenge = $v2_challenge" \
    "MS-CHAP2-Response = $v2_response${v2_nt%F}E")
expect "User, MS-CHAPv2, wrong NT-Response: Access-Reject with E=691" "$out" \
    'Received Access-Reject' 'MS-CHAP-Error = "\\001E=691 R=1 C=[0-9a-f]{32} V=3'

# PEAPv0 with EAP-MSCHAPv2 inside, from wpa_supplicant's eapol_test straight
# to the rig (net/tests/peap.rs runs it through our authenticator): the TLS
# tunnel against start.sh's CA, and the MS-MPPE keys are eapol_test's MSK.
peap() {
    local conf=$workdir/peap-$1.conf
    printf 'network={\n\tkey_mgmt=IEEE8021X\n\teap=PEAP\n\tidentity="alice"\n\tpassword="%s"\n\tphase1="peapver=0"\n\tphase2="auth=MSCHAPV2"\n\tca_cert="%s"\n}\n' \
        "$1" "$workdir/certs/ca.pem" >"$conf"
    eapol_test -c "$conf" -a 127.0.0.1 -p "$port" -s "$secret" -r 0 -t 10 2>&1
}
if command -v eapol_test >/dev/null 2>&1; then
    out=$(peap secret)
    expect "alice, PEAP/EAP-MSCHAPv2 (eapol_test): Access-Accept, keys match the MSK" "$out" \
        'EAP-Request-PEAP' 'Access-Accept' 'MPPE keys OK: 1  mismatch: 0' '^SUCCESS$'
    out=$(peap wrong)
    # R=0 inside the tunnel (mschap_inner), so the peer acknowledges at once.
    expect "alice, PEAP, wrong password: E=691 R=0 inside, Access-Reject" "$out" \
        'error 691' 'Access-Reject' '^FAILURE$'
else
    echo "FAIL: eapol_test not found (apt-get install eapoltest): PEAP not checked"
    failed=$((failed + 1))
fi

session="selftest-$$-$RANDOM"
common=('User-Name = "bob"' "Acct-Session-Id = \"$session\"" 'NAS-IP-Address = 127.0.0.1'
    'NAS-Port = 1' 'NAS-Port-Type = Virtual' 'Service-Type = Framed-User'
    'Framed-Protocol = PPP' 'Framed-IP-Address = 10.77.0.9' 'Class = "bob-class"'
    'Tunnel-Type = PPTP' 'Tunnel-Medium-Type = IPv4')
out=$(radius acct 'Acct-Status-Type = Start' "${common[@]}" 'Acct-Authentic = RADIUS')
expect "accounting Start: Accounting-Response" "$out" 'Received Accounting-Response'
out=$(radius acct 'Acct-Status-Type = Interim-Update' "${common[@]}" 'Acct-Session-Time = 21' \
    'Acct-Input-Octets = 600' 'Acct-Output-Octets = 2800')
expect "accounting Interim-Update: Accounting-Response" "$out" 'Received Accounting-Response'
out=$(radius acct 'Acct-Status-Type = Stop' "${common[@]}" 'Acct-Session-Time = 42' \
    'Acct-Input-Octets = 1234' 'Acct-Output-Octets = 5678' 'Acct-Input-Packets = 12' \
    'Acct-Output-Packets = 34' 'Acct-Terminate-Cause = User-Request')
expect "accounting Stop: Accounting-Response" "$out" 'Received Accounting-Response'

detail=$(cat "$workdir/detail" 2>/dev/null)
expect "detail file: Start, Interim-Update and Stop records of session $session" "$detail" \
    "Acct-Session-Id = \"$session\"" 'Acct-Status-Type = Start' \
    'Acct-Status-Type = Interim-Update' 'Acct-Status-Type = Stop' \
    'Acct-Input-Octets = 1234' 'Acct-Output-Octets = 5678' \
    'Acct-Terminate-Cause = User-Request' 'Timestamp = [0-9]+'
records=$(grep -c '^[A-Z][a-z][a-z] [A-Z][a-z][a-z] ' <<<"$detail")
expect "detail file: one record per request (3)" "$records" '^3$'

echo "selftest: $passed passed, $failed failed (log and detail in $workdir)"
[ "$failed" = 0 ]
