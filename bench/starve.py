#!/usr/bin/env python3
"""Starvation load for bench/starvation.sh: hostile clients hold connections to `serve` while
a valid network sends postbacks from another loopback address, and we count how many of the
valid ones are answered 200 within the deadline.

Hostile side (one epoll selector, non-blocking sockets, reopened whenever the server closes them):
  --idle N         connections that connect and send nothing, spread over --idle-sources
                   loopback addresses (127.0.1.1, 127.0.1.2, …) so the server may keep them all;
                   with --idle-sources 0 all from --attacker (one address)
  --slowloris N    connections from --attacker (one address) that send a request head one
                   header line every --drip seconds and never finish it
Valid side (its own thread, blocking sockets, from --valid-source): --valid postbacks, each on
a new connection, one every 1/--rate seconds, timed from connect to the end of the response.

Prints one line `STARVE_RESULT key=value …`.
"""
import argparse, errno, resource, selectors, socket, threading, time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--token", required=True)
p.add_argument("--leads", type=int, default=1000)
p.add_argument("--idle", type=int, default=10000)
p.add_argument("--idle-sources", type=int, default=100)
p.add_argument("--slowloris", type=int, default=1000)
p.add_argument("--attacker", default="127.0.0.1")
p.add_argument("--valid-source", default="127.0.0.2")
p.add_argument("--valid", type=int, default=1000)
p.add_argument("--rate", type=float, default=50.0)
p.add_argument("--deadline-ms", type=float, default=100.0)
p.add_argument("--drip", type=float, default=2.0)
p.add_argument("--settle", type=float, default=3.0, help="seconds to hold the attack before the valid client starts")
p.add_argument("--rss-pid", type=int, default=0, help="server pid: sample its RSS and threads while the attack is held")
args = p.parse_args()

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

HOST = "127.0.0.1"
sel = selectors.EpollSelector()
stats = {"idle_opened": 0, "idle_closed_by_server": 0, "slow_opened": 0, "slow_closed_by_server": 0, "connect_errors": 0}
stop = threading.Event()


class Hostile:
    __slots__ = ("kind", "source", "sock", "sent_head", "next_drip", "connected")

    def __init__(self, kind, source):
        self.kind, self.source, self.sock = kind, source, None
        self.sent_head, self.next_drip, self.connected = False, 0.0, False


def open_hostile(h):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.bind((h.source, 0))
        rc = s.connect_ex((HOST, args.port))
    except OSError:
        stats["connect_errors"] += 1
        s.close()
        return False
    if rc not in (0, errno.EINPROGRESS):
        stats["connect_errors"] += 1
        s.close()
        return False
    h.sock, h.sent_head, h.connected = s, False, False
    h.next_drip = time.monotonic()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, h)
    stats["idle_opened" if h.kind == "idle" else "slow_opened"] += 1
    return True


def closed_by_server(h):
    stats["idle_closed_by_server" if h.kind == "idle" else "slow_closed_by_server"] += 1
    try:
        sel.unregister(h.sock)
    except (KeyError, ValueError):
        pass
    h.sock.close()
    h.sock = None


hostiles = [Hostile("idle", f"127.0.1.{1 + i % args.idle_sources}" if args.idle_sources > 0 else args.attacker) for i in range(args.idle)]
hostiles += [Hostile("slow", args.attacker) for _ in range(args.slowloris)]


def attack():
    for h in hostiles:
        open_hostile(h)
    while not stop.is_set():
        now = time.monotonic()
        for key, mask in sel.select(timeout=0.05):
            h = key.data
            if mask & selectors.EVENT_WRITE and not h.connected:
                err = h.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    closed_by_server(h)
                    continue
                h.connected = True
                sel.modify(h.sock, selectors.EVENT_READ, h)
            if mask & selectors.EVENT_READ:
                try:
                    data = h.sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    closed_by_server(h)
        for h in hostiles:
            if h.sock is None:
                open_hostile(h)  # the attacker reopens at once
            elif h.kind == "slow" and h.connected and now >= h.next_drip:
                line = (b"GET /postback/leadrock?oid=P-1 HTTP/1.1\r\nHost: x\r\n" if not h.sent_head else b"X-Drip: a\r\n")
                try:
                    h.sock.send(line)
                    h.sent_head = True
                except OSError:
                    closed_by_server(h)
                    continue
                h.next_drip = now + args.drip


def held():
    return sum(1 for h in hostiles if h.sock is not None and h.connected)


def valid_postback(i):
    oid = f"P-{(i % args.leads) + 1}"
    req = (f"GET /postback/leadrock?token={args.token}&oid={oid}&status=approve HTTP/1.1\r\n"
           f"Host: t\r\nConnection: close\r\n\r\n").encode()
    start = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    status = 0
    try:
        s.bind((args.valid_source, 0))
        s.connect((HOST, args.port))
        s.sendall(req)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        if b"\r\n\r\n" in buf:
            head, _, body = buf.partition(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip())
            while len(body) < length:
                chunk = s.recv(4096)
                if not chunk:
                    break
                body += chunk
    except OSError:
        status = -1
    finally:
        s.close()
    return status, (time.monotonic() - start) * 1000


def rss_and_threads(pid):
    rss_kb, threads = 0, 0
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    except OSError:
        pass
    return rss_kb, threads


attacker = threading.Thread(target=attack, daemon=True)
attacker.start()
time.sleep(args.settle)
held_before = held()
results = []
peak_rss, peak_threads = 0, 0
t0 = time.monotonic()
for i in range(args.valid):
    target = t0 + i / args.rate
    delay = target - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    results.append(valid_postback(i))
    if args.rss_pid and i % 50 == 0:
        r, t = rss_and_threads(args.rss_pid)
        peak_rss, peak_threads = max(peak_rss, r), max(peak_threads, t)
held_after = held()
stop.set()
attacker.join(timeout=5)
ok_fast = sum(1 for s, ms in results if s == 200 and ms <= args.deadline_ms)
ok = sum(1 for s, _ in results if s == 200)
lat = sorted(ms for _, ms in results)
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0
print(f"STARVE_RESULT valid={len(results)} ok={ok} ok_within_deadline={ok_fast} deadline_ms={args.deadline_ms:g} "
      f"p50_ms={lat[len(lat) // 2] if lat else 0:.1f} p99_ms={p99:.1f} max_ms={lat[-1] if lat else 0:.1f} "
      f"held_before={held_before} held_after={held_after} idle={args.idle} slowloris={args.slowloris} "
      f"rss_kb={peak_rss} threads={peak_threads} "
      + " ".join(f"{k}={v}" for k, v in stats.items()), flush=True)
