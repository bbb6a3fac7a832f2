#!/usr/bin/env bash
# net/tests/tokio_server.sh [SESSIONS [LOAD_SESSIONS [RATE [HOLD [PING]]]]]
#
# The event-driven server (examples/tokio_server.rs) on real sockets: two
# network namespaces joined by a veth pair, the server in one, our
# `client` example in the other. Checks:
#   1. two clients at once from the SAME address (the NAT case: their TCP
#      differs by port only, their GRE by Call ID only): both get 5/5 pings
#      answered by the server's own tunnel address;
#   2. --tun: the server host's ping reaches a client's TUN (its /32 route
#      with the session's MTU came from the `ip -batch` process, and goes
#      when the session ends), and a client pings another client through
#      the server (forwarded between sessions); GRE naming that client's
#      call from another address is refused (WrongSource), counted, logged;
#   3. SESSIONS (default 200) client processes at once, all from one
#      address: every one comes up and gets its pings answered, and the
#      server's --stats line shows the recvmmsg/sendmmsg batching;
#   4. SIGTERM with sessions up closes every one (the clients see the
#      tunnel go down) and the server exits 0;
#   5. LOAD_SESSIONS (default 1000; 0 skips) sessions from one process
#      (examples/loadgen.rs: one task per session, Call IDs 1..N), started
#      RATE a second (default 200), each up HOLD seconds (default 20) and
#      pinging every PING seconds (default 1; 0: no pings, only the LCP
#      echoes every 10 s), from 4 client addresses (room for 60 000 TCP
#      connections; but each process needs a descriptor per session, and
#      `ulimit -Hn` caps that: 20 000 on the machine this was written on):
#      all up at once, none ended early, every ping answered; prints the
#      server's RSS idle and at the peak, and its CPU time;
#   6. --radius: FreeRADIUS (tests/radius/start.sh, the rig's users) in the
#      server's namespace on 127.0.0.1 and no local account: alice with
#      MS-CHAPv2 and MPPE-128 gets 5/5 pings, a wrong password is refused
#      (Access-Reject), bob gets his Framed-IP-Address; Accounting-Start
#      and -Stop reach FreeRADIUS's detail file; radclient's RFC 5176
#      Disconnect-Request for alice ends her session with a Disconnect-ACK
#      (and an Accounting-Stop, Admin-Reset), one for nobody gets a NAK.
#      Skipped (with a line saying so) without freeradius and radclient.
# Prints PASS/FAIL lines and "N passed, N failed" last; exit status 0 only
# if all passed. Needs root (namespaces, raw GRE sockets, TUN): without it,
# prints SKIPPED and exits 0. Builds the examples first (release).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=$ROOT/target/release/examples
SESSIONS=${1:-200}
LOAD=${2:-1000} RATE=${3:-200} HOLD=${4:-20} PING=${5:-1}
NS_S=${PPTP_TS_NS:-pptp-ts}-s
NS_C=${PPTP_TS_NS:-pptp-ts}-c
SADDR=10.97.0.1 CADDR=10.97.0.2 TUNNEL=10.200.0.1

skip() { echo "tokio_server.sh: SKIPPED: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, raw GRE sockets, TUN)"
[ -c /dev/net/tun ] || skip "/dev/net/tun is missing"
command -v ip >/dev/null || skip "needs iproute2"
for ns in "$NS_S" "$NS_C"; do
    if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
        skip "namespace $ns exists (another run?); PPTP_TS_NS picks other names"
    fi
done

WORK=$(mktemp -d /tmp/pptp-ts.XXXXXX)
PIDS=()
pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() {
    echo "FAIL: $*"; fail=$((fail + 1))
    local f
    for f in $(grep -o "$WORK/[^ ;)]*" <<<"$*" | sort -u); do
        [ -f "$f" ] || continue
        echo "    --- last lines of $f:"
        tail -n 15 "$f" | sed 's/^/    | /'
    done
}
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    ip netns del "$NS_S" 2>/dev/null
    ip netns del "$NS_C" 2>/dev/null
    [ "${PPTP_TS_KEEP:-0}" = 1 ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
# Root may raise the hard limit; both programs raise their soft one to it.
ulimit -Hn 1048576 2>/dev/null && ulimit -n 1048576 2>/dev/null
trap 'exit 130' INT TERM

(cd "$ROOT" && cargo build --release -q -p pptp-net --example tokio_server --example client \
    --example loadgen) || { echo "FAIL: build"; echo "0 passed, 1 failed"; exit 1; }

ip netns add "$NS_S" && ip netns add "$NS_C" || { echo "FAIL: netns"; exit 1; }
ip link add pptp-ts-s0 netns "$NS_S" type veth peer name pptp-ts-c0 netns "$NS_C"
ip -n "$NS_S" addr add $SADDR/24 dev pptp-ts-s0
ip -n "$NS_C" addr add $CADDR/24 dev pptp-ts-c0
SOURCES=$CADDR
for a in 3 4 5; do
    ip -n "$NS_C" addr add 10.97.0.$a/24 dev pptp-ts-c0
    SOURCES=$SOURCES,10.97.0.$a
done
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set pptp-ts-s0 up
ip -n "$NS_C" link set pptp-ts-c0 up
ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"

# Its local account (none for the RADIUS case).
ACCOUNT=(--user alice --password secret)
# Starts the server in NS_S with extra arguments; sets SERVER and SLOG.
start_server() {
    SLOG=$WORK/server-$1.log; shift
    ip netns exec "$NS_S" "$BIN/tokio_server" --listen $SADDR "${ACCOUNT[@]}" \
        --local $TUNNEL --pool 10.200.0.2-10.200.255.254 --echo 10 "$@" >"$SLOG" 2>&1 &
    SERVER=$!
    PIDS+=("$SERVER")
    for _ in $(seq 50); do
        grep -q "listening on" "$SLOG" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# Stops the server with SIGTERM; true if it exited 0 within 10 s.
stop_server() {
    kill -TERM "$SERVER" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$SERVER" 2>/dev/null || break
        sleep 0.1
    done
    wait "$SERVER"
}
client() { ip netns exec "$NS_C" "$BIN/client" --server $SADDR --user alice --password secret "$@"; }

# 1. Two clients behind one address.
start_server nat --stats 1 || bad "server did not start ($SLOG)"
client --ping $TUNNEL --count 5 >"$WORK/nat-a.log" 2>&1 &
A=$!
client --ping $TUNNEL --count 5 >"$WORK/nat-b.log" 2>&1 &
B=$!
wait $A; ra=$?
wait $B; rb=$?
if [ $ra = 0 ] && [ $rb = 0 ] && grep -q "5/5 replies" "$WORK/nat-a.log" &&
    grep -q "5/5 replies" "$WORK/nat-b.log"; then
    ok "two clients from one address ($CADDR): both 5/5 pings answered"
else
    bad "NAT case: exit $ra/$rb ($WORK/nat-a.log, $WORK/nat-b.log, $SLOG)"
fi
ups=$(grep -c "session up" "$SLOG")
[ "$ups" = 2 ] && ok "server logged 2 sessions up, with different ports of $CADDR" ||
    bad "server logged $ups sessions up ($SLOG)"
stop_server && ok "SIGTERM: server exited 0" || bad "SIGTERM exit status ($SLOG)"
grep -q "stats: sessions up 0 total 2" "$SLOG" && ok "final stats line: 0 up, 2 in total" ||
    bad "final stats line ($SLOG)"

# 2. --tun: the host reaches a client, and clients reach each other.
start_server tun --tun pptp-ts-tun || bad "server with --tun did not start ($SLOG)"
client --tun pptp-ts-c1 --duration 30 >"$WORK/tun-c.log" 2>&1 &
C=$!
PIDS+=("$C")
caddr=
for _ in $(seq 100); do
    caddr=$(awk '/^local  IP address/ {print $4}' "$WORK/tun-c.log")
    [ -n "$caddr" ] && ip -n "$NS_C" link show pptp-ts-c1 >/dev/null 2>&1 && break
    sleep 0.1
done
sleep 0.5
route=$(ip -n "$NS_S" route show "$caddr/32" 2>/dev/null)
if [ -n "$caddr" ] && grep -q "dev pptp-ts-tun.*mtu" <<<"$route"; then
    ok "route for the client: $route"
else
    bad "no /32 route with mtu for '$caddr': '$route' ($SLOG, $WORK/tun-c.log)"
fi
if ip netns exec "$NS_S" ping -c 3 -i 0.3 -W 2 "$caddr" >"$WORK/tun-ping.log" 2>&1; then
    ok "server host -> TUN -> client $caddr: pings answered"
else
    bad "ping through the server's TUN ($WORK/tun-ping.log, $SLOG)"
fi
# The client's host answers for its tunnel address; its replies to the
# other client go back through its tunnel.
ip -n "$NS_C" route add 10.200.0.0/16 dev pptp-ts-c1 2>/dev/null
if client --ping "$caddr" --count 5 >"$WORK/fwd.log" 2>&1 && grep -q "5/5 replies" "$WORK/fwd.log"; then
    ok "client -> server -> client $caddr (forwarded between sessions): 5/5"
else
    bad "client to client ($WORK/fwd.log, $SLOG)"
fi
# GRE naming the client's call from another address (10.97.0.3): refused
# by the server (WrongSource), counted and logged, the session unharmed.
call=$(sed -n 's/.*sent \[PPTP OCRP call=\([0-9]*\) .*/\1/p' "$SLOG" | head -1) # the TUN client came first
ip netns exec "$NS_C" python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
s.bind(("10.97.0.3", 0))
# Enhanced GRE (RFC 2637 4.1): K and A set, version 1, PPP, no payload.
for seq in range(3):
    s.sendto(struct.pack("!BBHHHI", 0x20, 0x81, 0x880B, 0, int(sys.argv[1]), seq), (sys.argv[2], 0))
' "$call" $SADDR
sleep 0.3
kill -USR1 "$SERVER"
sleep 0.3
if grep -q "GRE dropped: GRE for call $call from a source that is not its peer" "$SLOG" &&
    grep "stats:" "$SLOG" | tail -1 | grep -q "wrong source 3,"; then
    ok "GRE for call $call from another address: refused, counted (3), logged"
else
    bad "wrong-source GRE for call '$call' ($SLOG)"
fi
if client --ping "$caddr" --count 2 >"$WORK/fwd2.log" 2>&1 && grep -q "2/2 replies" "$WORK/fwd2.log"; then
    ok "the session is unharmed by the injected GRE"
else
    bad "after the injection ($WORK/fwd2.log, $SLOG)"
fi
kill -INT "$C" 2>/dev/null
wait "$C" 2>/dev/null
sleep 0.5
route=$(ip -n "$NS_S" route show "$caddr/32" 2>/dev/null)
[ -z "$route" ] && ok "route removed when the session ended" || bad "route left: $route ($SLOG)"
stop_server || bad "server with --tun: exit status ($SLOG)"

# 3. Many sessions at once from one address.
start_server many --quiet --stats 2 --max-per-source 100000 --max-accepts-per-source 100000 ||
    bad "server did not start ($SLOG)"
rss0=$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)
t0=$(date +%s.%N)
CPIDS=()
for i in $(seq "$SESSIONS"); do
    client --quiet --ping $TUNNEL --count 3 --duration 6 >"$WORK/many-$i.log" 2>&1 &
    CPIDS+=($!)
done
sleep 4
rss1=$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)
up_during=$(grep "stats:" "$SLOG" | tail -1 | sed -n 's/.*sessions up \([0-9]*\).*/\1/p')
good=0
for p in "${CPIDS[@]}"; do wait "$p" && good=$((good + 1)); done
t1=$(date +%s.%N)
answered=$(grep -l "3/3 replies" "$WORK"/many-*.log | wc -l)
if [ "$good" = "$SESSIONS" ] && [ "$answered" = "$SESSIONS" ]; then
    ok "$SESSIONS clients at once from one address: all up, all 3/3 pings ($(echo "$t1 - $t0" | bc) s)"
else
    bad "$SESSIONS clients: $good exited 0, $answered answered ($SLOG)"
    grep -L "3/3 replies" "$WORK"/many-*.log | head -3 | while read -r f; do tail -3 "$f"; done
fi
echo "    server RSS: ${rss0} KiB idle, ${rss1} KiB with ${up_during:-?} sessions up"
kill -USR1 "$SERVER"
sleep 0.3
grep "stats:" "$SLOG" | tail -1 | sed 's/^/    /'
stop_server && ok "SIGTERM after $SESSIONS sessions: server exited 0" || bad "exit status ($SLOG)"
grep -q "stats: sessions up 0 total $SESSIONS " "$SLOG" && ok "every session counted once, none left up" ||
    bad "final stats ($SLOG)"

# 4. SIGTERM while sessions are up.
start_server term || bad "server did not start ($SLOG)"
client --duration 60 >"$WORK/term-a.log" 2>&1 &
A=$!
client --duration 60 >"$WORK/term-b.log" 2>&1 &
B=$!
PIDS+=("$A" "$B")
for _ in $(seq 100); do
    [ "$(grep -c "session up" "$SLOG")" = 2 ] && break
    sleep 0.1
done
t0=$(date +%s.%N)
stop_server; rs=$?
wait $A; wait $B
t1=$(date +%s.%N)
downs=$(grep -c "session down" "$SLOG")
if [ $rs = 0 ] && [ "$downs" = 2 ] && grep -q "stopping: closing 2 sessions" "$SLOG" &&
    grep -q "tunnel down" "$WORK/term-a.log" && grep -q "tunnel down" "$WORK/term-b.log"; then
    ok "SIGTERM with 2 sessions up: both closed, clients saw it, exit 0 ($(echo "$t1 - $t0" | bc) s)"
else
    bad "SIGTERM with sessions up: exit $rs, $downs down ($SLOG, $WORK/term-a.log)"
fi

# 5. Many sessions from one process, Call IDs apart.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime, in ticks
if [ "$LOAD" -gt 0 ]; then
    start_server load --quiet --stats 5 --max-per-source 100000 --max-accepts-per-source 100000 ||
        bad "server did not start ($SLOG)"
    sleep 0.5
    rss0=$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)
    cpu0=$(cpu "$SERVER")
    ramp=$(( (LOAD + RATE - 1) / RATE ))
    pps=0; [ "$PING" -gt 0 ] && pps=$(echo "scale=3; 1 / $PING" | bc)
    ip netns exec "$NS_C" "$BIN/loadgen" --server "$SADDR" --user alice --password secret \
        --sessions "$LOAD" --rate "$RATE" --hold $(( HOLD > ramp ? HOLD - ramp : 1 )) \
        --source "$SOURCES" --echo 10 --traffic "$pps" >"$WORK/load.log" 2>&1 &
    L=$!
    PIDS+=("$L")
    # Sample the server when every session should be up: after the ramp.
    sleep $((ramp + 3))
    rss1=$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)
    cpu1=$(cpu "$SERVER")
    kill -USR1 "$SERVER"
    sleep 0.2
    upnow=$(grep "stats:" "$SLOG" | tail -1 | sed -n 's/.*sessions up \([0-9]*\) .*/\1/p')
    # Then the hold, while every session is up: CPU at rest.
    idle_span=$(( HOLD - ramp - 5 ))
    [ "$idle_span" -ge 1 ] || idle_span=1
    sleep "$idle_span"
    cpu2=$(cpu "$SERVER")
    wait "$L"; rl=$?
    # Datagrams the kernel dropped at a full raw-socket queue, each side.
    for ns in "$NS_S" "$NS_C"; do
        echo "    raw socket drops in $ns: $(ip netns exec "$ns" awk 'NR > 1 {d += $NF} END {print d + 0}' /proc/net/raw)"
    done
    tail -n 12 "$WORK/load.log" | sed 's/^/    /'
    hz=$(getconf CLK_TCK)
    echo "    server RSS ${rss0} KiB idle, ${rss1} KiB with ${upnow:-?} up: $(( (rss1 - rss0) * 1024 / (${upnow:-0} > 0 ? ${upnow:-1} : 1) )) B/session"
    echo "    server CPU: $(echo "scale=2; ($cpu1 - $cpu0) / $hz" | bc) s for the ramp of $LOAD sessions," \
        "$(echo "scale=2; 100 * ($cpu2 - $cpu1) / $hz / $idle_span" | bc) % of a core over ${idle_span} s of the hold (a ping every $PING s per session, 0: none; LCP echo every 10 s)"
    grep "stats:" "$SLOG" | tail -1 | sed 's/^/    /'
    if [ $rl = 0 ]; then
        ok "$LOAD sessions from one process at $RATE/s: all up, all pings answered"
    else
        bad "load of $LOAD sessions ($WORK/load.log, $SLOG)"
    fi
    stop_server && ok "SIGTERM after the load: exited 0" || bad "exit status ($SLOG)"
fi

# 6. RADIUS: FreeRADIUS in the server's namespace, on its loopback.
RADIUSD=$(command -v freeradius || echo /usr/sbin/freeradius)
# Waits up to $3 seconds for the pattern $2 in the file $1.
wait_for() {
    local i
    for i in $(seq $(($3 * 10))); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
if [ ! -x "$RADIUSD" ] || ! command -v radclient >/dev/null; then
    echo "SKIPPED: 6. RADIUS: needs freeradius and radclient (freeradius-utils)"
else
    RLOG=$WORK/radius.log RDB=$WORK/raddb DETAIL=$WORK/raddb/detail RSECRET=testing123-pptp
    ip netns exec "$NS_S" bash "$HERE/radius/start.sh" "$RDB" 18120 >"$RLOG" 2>&1 &
    RPID=$!
    PIDS+=("$RPID")
    wait_for "$RLOG" "Ready to process requests" 20 || bad "FreeRADIUS did not start ($RLOG)"
    ACCOUNT=()
    start_server radius --radius 127.0.0.1:18120 --radius-secret $RSECRET ||
        bad "server with --radius did not start ($SLOG)"
    rclient() {
        local user=$1 password=$2; shift 2
        ip netns exec "$NS_C" "$BIN/client" --server $SADDR --user "$user" --password "$password" \
            --auth mschapv2 --mppe require-128 "$@"
    }
    if rclient alice secret --ping $TUNNEL --count 5 >"$WORK/r-alice.log" 2>&1 &&
        grep -q "5/5 replies" "$WORK/r-alice.log" && grep -q "MPPE 128-bit" "$WORK/r-alice.log" &&
        grep -q "RADIUS: Access-Accept" "$SLOG"; then
        ok "RADIUS: alice (MS-CHAPv2, MPPE-128 keys from FreeRADIUS): Access-Accept, 5/5 pings"
    else
        bad "RADIUS: alice ($WORK/r-alice.log, $SLOG, $RLOG)"
    fi
    if wait_for "$DETAIL" "Acct-Status-Type = Start" 5 && wait_for "$DETAIL" "Acct-Status-Type = Stop" 5 &&
        grep -q 'User-Name = "alice"' "$DETAIL"; then
        ok "RADIUS accounting: Start and Stop for alice in FreeRADIUS's detail file ($(grep -c 'Acct-Status-Type' "$DETAIL") records)"
    else
        bad "RADIUS accounting ($DETAIL, $SLOG)"
    fi
    if ! rclient alice wrong --ping $TUNNEL --count 1 >"$WORK/r-wrong.log" 2>&1 &&
        ! grep -q "1/1 replies" "$WORK/r-wrong.log" && grep -q "RADIUS: Access-Reject" "$SLOG"; then
        ok "RADIUS: alice with a wrong password: Access-Reject, the client fails"
    else
        bad "RADIUS: wrong password ($WORK/r-wrong.log, $SLOG)"
    fi
    if rclient bob hunter2 --ping $TUNNEL --count 2 >"$WORK/r-bob.log" 2>&1 &&
        grep -q "2/2 replies" "$WORK/r-bob.log" && grep -q 'session up: "bob" is 10.77.0.9' "$SLOG"; then
        ok "RADIUS: bob gets his Framed-IP-Address 10.77.0.9, 2/2 pings"
    else
        bad "RADIUS: bob ($WORK/r-bob.log, $SLOG)"
    fi
    # RFC 5176: radclient asks the server to drop alice (by User-Name).
    rclient alice secret --duration 60 >"$WORK/r-dm.log" 2>&1 &
    D=$!
    PIDS+=("$D")
    starts=$(grep -c "Acct-Status-Type = Start" "$DETAIL")
    for _ in $(seq 100); do
        [ "$(grep -c "Acct-Status-Type = Start" "$DETAIL")" -gt "$starts" ] && break
        sleep 0.1
    done
    out=$WORK/r-disconnect.log
    echo "User-Name = alice" | ip netns exec "$NS_S" radclient -x -r 1 -t 3 $SADDR:3799 disconnect $RSECRET >"$out" 2>&1
    t0=$(date +%s.%N)
    wait "$D"
    t1=$(date +%s.%N)
    if grep -q "Disconnect-ACK" "$out" && grep -q "tunnel down" "$WORK/r-dm.log" &&
        [ "$(echo "$t1 - $t0 < 10" | bc)" = 1 ] &&
        wait_for "$DETAIL" "Acct-Terminate-Cause = Admin-Reset" 5; then
        ok "RADIUS Disconnect-Request for alice: Disconnect-ACK, session ended ($(echo "$t1 - $t0" | bc) s), Accounting-Stop (Admin-Reset)"
    else
        bad "RADIUS Disconnect-Request ($out, $WORK/r-dm.log, $SLOG, $DETAIL)"
    fi
    out=$WORK/r-disconnect-nak.log
    echo "User-Name = nobody" | ip netns exec "$NS_S" radclient -x -r 1 -t 3 $SADDR:3799 disconnect $RSECRET >"$out" 2>&1
    grep -q "Disconnect-NAK" "$out" && ok "RADIUS Disconnect-Request for nobody: Disconnect-NAK" ||
        bad "Disconnect-Request for nobody ($out, $SLOG)"
    stop_server && ok "SIGTERM with --radius: exited 0" || bad "exit status with --radius ($SLOG)"
    kill "$RPID" 2>/dev/null
    wait "$RPID" 2>/dev/null
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
