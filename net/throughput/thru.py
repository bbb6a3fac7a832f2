#!/usr/bin/env python3
"""Helpers of net/throughput/run (standard library only).

    thru.py bps FILE                 receiver Mbit/s of an `iperf3 -J` result
    thru.py retr FILE                the sender's TCP retransmits in it
    thru.py cpu SECONDS NAME=PID... [dev=IFACE@PID]
                                     CPU % of each process (usr, sys, each
                                     thread) over SECONDS, from /proc/PID/stat,
                                     plus the whole machine's busy % (/proc/stat);
                                     with dev=: packets/s on IFACE (rx+tx, in
                                     PID's namespace), CPU us and context
                                     switches per packet
    thru.py busy SECONDS             the machine's busy % over SECONDS
    thru.py sniff IFACE SECONDS      PPTP GRE packets seen on IFACE: per
                                     direction, how many carry MPPE (PPP 0x00FD),
                                     with the flushed (A) bit, encrypted (D), or
                                     plain IPv4 (0x0021); needs root
    thru.py mppe-check MODE FILE     MODE stateless|stateful|none against a
                                     `sniff` result: exit 1 with the reason
    thru.py strace FILE PACKETS      a `strace -c` summary as calls per packet
    thru.py ctx PID...               voluntary+involuntary context switches of
                                     every thread of the processes, summed
    thru.py perf FILE                a `perf record -g` profile in a few lines:
                                     kernel/user split, the syscalls' inclusive
                                     shares, the busiest user-space functions
    thru.py table FILE               the results table from THRU lines
"""
import json
import os
import socket
import struct
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def bps(path):
    with open(path) as f:
        j = json.load(f)
    if "error" in j:
        sys.exit(f"iperf3: {j['error']}")
    print(f"{j['end']['sum_received']['bits_per_second'] / 1e6:.1f}")


def retr(path):
    with open(path) as f:
        print(json.load(f)["end"]["sum_sent"].get("retransmits", "-"))


def ticks(stat_path, split=False):
    """utime + stime of a /proc/.../stat file (or both apart), None if it is gone."""
    try:
        with open(stat_path) as f:
            s = f.read()
    except OSError:
        return None
    # The command name may hold spaces: fields start after the last ')'.
    fields = s[s.rindex(")") + 2:].split()
    if split:
        return int(fields[11]), int(fields[12])
    return int(fields[11]) + int(fields[12])


def threads(pid):
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return {}
    return {t: ticks(f"/proc/{pid}/task/{t}/stat") for t in tids}


def machine():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])


def ctx_switches(pid):
    """Voluntary + involuntary context switches of all threads of `pid`."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for t in tids:
        try:
            with open(f"/proc/{pid}/task/{t}/status") as f:
                total += sum(int(line.split()[-1]) for line in f if "ctxt_switches:" in line)
        except OSError:
            pass
    return total


def dev_packets(spec):
    """rx+tx packets of IFACE@PID, from the net namespace of PID."""
    iface, pid = spec.split("@")
    with open(f"/proc/{pid}/net/dev") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name.strip() == iface:
                v = rest.split()
                return int(v[1]) + int(v[9])
    return 0


def cpu(seconds, pairs):
    """CPU % of NAME=PID processes; dev=IFACE@PID adds packets/s on that
    device and each process's CPU microseconds per packet."""
    dev = next((p.split("=", 1)[1] for p in pairs if p.startswith("dev=")), None)
    procs = [p.split("=", 1) for p in pairs if not p.startswith("dev=")]
    t0 = time.monotonic()
    m0 = machine()
    d0 = dev_packets(dev) if dev else 0
    before = {n: (ticks(f"/proc/{p}/stat", True), threads(p), ctx_switches(p)) for n, p in procs}
    time.sleep(seconds)
    wall = time.monotonic() - t0
    m1 = machine()
    d1 = dev_packets(dev) if dev else 0
    after = {n: (ticks(f"/proc/{p}/stat", True), threads(p), ctx_switches(p)) for n, p in procs}
    pps = (d1 - d0) / wall
    out = [f"pkts={pps:.0f}/s({dev.split('@')[0]})"] if dev else []
    for n, _ in procs:
        (a, ta, ca), (b, tb, cb) = before[n], after[n]
        if a is None or b is None:
            out.append(f"{n}=gone")
            continue
        usr, sys_ = (100.0 * (y - x) / TICK / wall for x, y in zip(a, b))
        cell = f"{n}={usr + sys_:.0f}%(usr {usr:.0f} sys {sys_:.0f}"
        if dev and pps > 0:
            cell += f"; {(usr + sys_) * 1e4 / pps:.1f}us/pkt; ctx {(cb - ca) / (pps * wall):.2f}/pkt"
        if len(tb) > 1:
            per = sorted(
                (100.0 * (tb[t] - ta[t]) / TICK / wall
                 for t in tb if t in ta and ta[t] is not None and tb[t] is not None),
                reverse=True,
            )
            cell += "; threads " + "/".join(f"{x:.0f}" for x in per if x >= 0.5)
        out.append(cell + ")")
    ncpu = os.cpu_count() or 1
    busy = 100.0 * ncpu * (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
    out.append(f"machine={busy:.0f}%/{100 * ncpu}%")
    print(" ".join(out))


def busy(seconds):
    m0 = machine()
    time.sleep(seconds)
    m1 = machine()
    ncpu = os.cpu_count() or 1
    print(f"{100.0 * ncpu * (m1[0] - m0[0]) / max(1, m1[1] - m0[1]):.0f}")


def ppp_payload(gre):
    """The PPP protocol and what follows it in an RFC 2637 GRE packet."""
    if len(gre) < 8 or struct.unpack("!H", gre[2:4])[0] != 0x880B:
        return None
    flags = gre[0]
    off = 8 + (4 if flags & 0x10 else 0) + (4 if gre[1] & 0x80 else 0)
    ppp = gre[off:]
    if not ppp:
        return None  # an ack only
    if ppp[:2] == b"\xff\x03":
        ppp = ppp[2:]
    if not ppp:
        return None
    if ppp[0] & 1:  # RFC 1661 §6.5: a compressed (one-octet) protocol field
        return ppp[0], ppp[1:]
    if len(ppp) < 2:
        return None
    return struct.unpack("!H", ppp[:2])[0], ppp[2:]


def sniff(iface, seconds):
    # ETH_P_ALL: a socket bound to ETH_P_IP does not see what is sent.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((iface, 0))
    s.settimeout(0.2)
    end = time.monotonic() + seconds
    dirs = {}
    while time.monotonic() < end:
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        ip = frame[14:]
        if frame[12:14] != b"\x08\x00" or len(ip) < 20 or ip[9] != 47:
            continue
        src = socket.inet_ntoa(ip[12:16])
        dst = socket.inet_ntoa(ip[16:20])
        p = ppp_payload(ip[(ip[0] & 0x0F) * 4:])
        if p is None:
            continue
        proto, rest = p
        d = dirs.setdefault(f"{src}>{dst}",
                            {"packets": 0, "mppe": 0, "flushed": 0, "encrypted": 0, "ipv4": 0, "other": 0})
        d["packets"] += 1
        if proto == 0x00FD and len(rest) >= 2:
            d["mppe"] += 1
            d["flushed"] += bool(rest[0] & 0x80)  # RFC 3078 §3: bit A
            d["encrypted"] += bool(rest[0] & 0x10)  # bit D
        elif proto == 0x0021:
            d["ipv4"] += 1
        else:
            d["other"] += 1
            key = f"0x{proto:04x}" + (f"/code{rest[0]}" if rest else "")
            d[key] = d.get(key, 0) + 1  # e.g. 0x80fd/code14: CCP Reset-Request
    print(json.dumps(dirs))


def mppe_check(mode, path):
    with open(path) as f:
        dirs = json.load(f)
    why = []
    if len(dirs) < 2:
        why.append(f"GRE data seen in {len(dirs)} direction(s), not 2")
    for k, d in dirs.items():
        n = d["packets"]
        if n < 50:
            why.append(f"{k}: only {n} data packets")
        elif mode == "none":
            if d["mppe"] or d["ipv4"] < n * 0.99:
                why.append(f"{k}: {d['mppe']} of {n} MPPE packets, {d['ipv4']} plain IPv4 (want all plain)")
        else:
            if d["ipv4"] or d["encrypted"] < n * 0.99:
                why.append(f"{k}: {d['encrypted']} of {n} encrypted, {d['ipv4']} plain IPv4")
            # RFC 3078 §3: stateless mode flushes (sets A on) every packet;
            # stateful mode only every 256th packet and after a reset.
            if mode == "stateless" and d["flushed"] < d["mppe"]:
                why.append(f"{k}: only {d['flushed']} of {d['mppe']} flushed (stateless sets A on all)")
            if mode == "stateful" and d["flushed"] > d["mppe"] * 0.05 + 2:
                why.append(f"{k}: {d['flushed']} of {d['mppe']} flushed (stateful: about 1 in 256)")
    summary = "; ".join(
        f"{k} {d['packets']} pkts {d['encrypted']} encrypted {d['flushed']} flushed {d['ipv4']} plain"
        for k, d in sorted(dirs.items()))
    if why:
        print(f"wire says not {mode}: " + "; ".join(why) + f" ({summary})")
        sys.exit(1)
    print(f"wire: {mode} ({summary})")


def strace(path, packets):
    """strace -c's table as "name calls calls/packet" lines, busiest first."""
    rows = []
    with open(path) as f:
        for line in f:
            p = line.split()
            # % time, seconds, usecs/call, calls, [errors,] syscall
            if len(p) >= 5 and p[0][0].isdigit() and p[-1] != "total":
                try:
                    calls = int(p[3])
                except ValueError:
                    continue
                rows.append((calls, p[-1]))
    rows.sort(reverse=True)
    total = sum(c for c, _ in rows)
    packets = max(1, int(packets))
    out = [f"{name}={c} ({c / packets:.2f}/pkt)" for c, name in rows if c / packets >= 0.005]
    print(f"total={total} ({total / packets:.2f}/pkt) " + " ".join(out))


def ctx(pids):
    print(sum(ctx_switches(p) for p in pids))


def perf_summary(path):
    import subprocess

    def report(*args):
        r = subprocess.run(["perf", "report", "-i", path, "--stdio", "-g", "none", *args],
                           capture_output=True, text=True)
        return [line for line in r.stdout.splitlines() if line.strip() and not line.startswith("#")]

    dso = [" ".join(line.split()[:2]) for line in report("--no-children", "--sort", "dso")[:4]]
    inclusive = {}
    wanted = {"__libc_sendto": "sendto", "__libc_recv": "recv", "read": "read",
              "__GI___libc_write": "write", "__x64_sys_futex": "futex", "__schedule": "schedule",
              "handle_softirqs": "softirq"}
    for line in report("--children", "--sort", "sym"):
        p = line.split()
        if len(p) >= 4 and p[-1] in wanted and p[-1] not in inclusive:
            inclusive[p[-1]] = p[0]
    incl = " ".join(f"{wanted[k]}={v}" for k, v in inclusive.items())
    user = []
    for line in report("--no-children", "--sort", "sym"):
        p = line.split()
        if len(p) >= 3 and p[1] == "[.]":
            user.append(f"{' '.join(p[2:])}={p[0]}")
        if len(user) == 6:
            break
    print("dso: " + ", ".join(dso) + "; inclusive: " + incl + "; top user: " + ", ".join(user))


def table(path):
    cells = []
    with open(path) as f:
        for line in f:
            if line.startswith("THRU "):
                cells.append(dict(kv.split("=", 1) for kv in line.split()[1:]))
    ref = {}
    for c in cells:
        if c["path"] in ("raw-veth", "openvpn") and c["mbps"] != "fail":
            ref[(c["path"], c["streams"])] = float(c["mbps"])
    print(f"{'path':<20} {'streams':>7} {'Mbit/s':>9} {'/raw veth':>10} {'/OpenVPN':>9}")
    for c in cells:
        def ratio(p):
            r = ref.get((p, c["streams"]))
            if r is None or c["mbps"] == "fail":
                return "-"
            return f"{float(c['mbps']) / r:.2f}"
        print(f"{c['path']:<20} {c['streams']:>7} {c['mbps']:>9} {ratio('raw-veth'):>10} {ratio('openvpn'):>9}")


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    cmd, args = a[0], a[1:]
    if cmd == "bps":
        bps(args[0])
    elif cmd == "retr":
        retr(args[0])
    elif cmd == "cpu":
        cpu(float(args[0]), args[1:])
    elif cmd == "busy":
        busy(float(args[0]))
    elif cmd == "sniff":
        sniff(args[0], float(args[1]))
    elif cmd == "mppe-check":
        mppe_check(args[0], args[1])
    elif cmd == "strace":
        strace(args[0], args[1])
    elif cmd == "ctx":
        ctx(args)
    elif cmd == "perf":
        perf_summary(args[0])
    elif cmd == "table":
        table(args[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
