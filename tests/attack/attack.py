#!/usr/bin/env python3
"""attack.py -- a seeded, bounded, randomized attacker against a running quired.

Rounds of a random mix of hostile and honest clients, all at once: tricklers (a header a
byte at a time, never finished), keep-alive connections that send half of their second
request, slow bodies (under the minimum rate), oversized bodies (10x max_body), floods
past the connection cap, abrupt closes (reset), and real queries (fresh connections and a
keep-alive client). A monitor samples the daemon all along: its sockets (/proc/PID/fd),
its RSS (/proc/PID/status) and, when it can get in, /metrics.

Checked, every round (one TAP line per property):
  - sockets in /proc/PID/fd never exceed cap + refusal slots + listeners, and /metrics
    never reports more open connections than the cap (nor a high-water mark above it);
  - every attacking connection is closed by the daemon within its deadline + SLACK
    (header timeout from its first byte; plus 1 s per body_min_rate bytes for a body;
    the linger time for one refused past the cap);
  - every real query gets a status line: 200 with hits, or 503 with Retry-After -- never
    a reset, never silence (a 10 s bound);
  - an oversized body gets a 413 (or a 503 past the cap) before the connection closes;
  - the daemon's peak RSS stays under the bound given (the README's formula).
After the last round: every line quired wrote to stderr is one JSON object.

With --config FILE, before some rounds the attacker rewrites quired's configuration file
with a new connection cap and new header and idle timeouts, sends SIGHUP and waits until
/metrics shows the new cap: the next round checks the new limits (the socket and
high-water bounds use the largest cap in force so far).

Usage: attack.py --port P --pid PID --log FILE --cap N --threads T --listeners L
       --header-ms MS --idle-ms MS --max-body B --min-rate R --rss-bound BYTES
       [--seed S] [--seconds S] [--config FILE]
Prints TAP (without the plan line: the caller's lib.sh ends the stream).
"""
import argparse
import asyncio
import json
import os
import random
import socket
import struct
import sys
import time

SLACK = 2.0          # seconds a close may come after its deadline (a loaded 2-core box)
HANG = 10.0          # a real query without a status line for this long is a hang
REFUSING_PER_WORKER = 32  # conns.h CONNS_REFUSING_MAX
LINGER = 1.0         # conns.h CONNS_LINGER_MS

A = None
from tap import ok  # tests/attack/tap.py, beside this file


class Conn:
    """One attacking connection's record: when it opened, its deadline, how it ended."""

    def __init__(self, kind):
        self.kind = kind
        self.opened = time.monotonic()
        self.deadline = None   # monotonic time by which the daemon must have closed it
        self.closed = None     # when the daemon closed it (EOF or reset seen)
        self.status = None     # status line code received, if any
        self.reset = False
        self.head = b""


async def open_conn(kind):
    c = Conn(kind)
    r, w = await asyncio.open_connection("127.0.0.1", A.port)
    return c, r, w


async def watch_close(c, r, limit):
    """Reads until EOF/reset (recording a status line), at most `limit` seconds."""
    data = b""
    try:
        while True:
            chunk = await asyncio.wait_for(r.read(65536), timeout=max(0.01, limit - (time.monotonic() - c.opened)))
            if not chunk:
                break
            data += chunk
            if len(data) > 1 << 20:
                data = data[:4096]
    except (ConnectionResetError, BrokenPipeError):
        c.reset = True
    except asyncio.TimeoutError:
        c.head = data[:300]
        return  # never closed within limit: c.closed stays None
    c.closed = time.monotonic()
    if data:
        c.head = data[:300]
    if data.startswith(b"HTTP/1."):
        try:
            c.status = int(data.split(b" ", 2)[1])
        except (ValueError, IndexError):
            pass


def close_w(w, rst=False):
    try:
        if rst:
            sock = w.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.close()
    except Exception:
        pass


def header_deadline(c):
    return c.opened + A.header_ms / 1000.0


async def trickler(rng, out):
    c, r, w = await open_conn("trickle")
    c.deadline = header_deadline(c)
    out.append(c)
    watcher = asyncio.ensure_future(watch_close(c, r, A.header_ms / 1000 + SLACK + 3))
    w.write(b"GET /search?q=muse HTTP/1.1\r\nHost: x\r\n")
    try:
        while not watcher.done():
            await asyncio.sleep(rng.uniform(0.1, 0.5))
            w.write(b"X")
            await w.drain()
    except (ConnectionResetError, BrokenPipeError):
        pass
    await watcher
    close_w(w)


async def keepalive_half(rng, out):
    c, r, w = await open_conn("keepalive-half")
    out.append(c)
    w.write(b"GET /search?q=muse&limit=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    # Read the first response whole (Content-Length).
    try:
        head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), timeout=HANG)
    except Exception:
        c.closed = time.monotonic()  # refused past the cap, or closed: fine if it was a 503
        c.deadline = c.opened + A.header_ms / 1000
        close_w(w)
        return
    code = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await r.readexactly(length)
    if code != 200:
        c.status = code
        c.head = head
        c.deadline = time.monotonic() + LINGER
        await watch_close(c, r, HANG)
        close_w(w)
        return
    await asyncio.sleep(rng.uniform(0, A.idle_ms / 2000.0))
    second = b"GET /search?q=spark HTTP/1.1\r\nHost: x\r\n\r\n"
    start = time.monotonic()
    w.write(second[: rng.randint(1, len(second) - 3)])
    c.opened = start
    c.deadline = start + A.header_ms / 1000.0
    await watch_close(c, r, A.header_ms / 1000 + SLACK + 3)
    close_w(w)


async def slow_body(rng, out):
    c, r, w = await open_conn("slow-body")
    out.append(c)
    length = rng.randint(A.min_rate // 2, min(A.max_body, A.min_rate * 2))
    w.write(b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % length)
    rate = A.min_rate / rng.uniform(3, 8)
    sent = 0
    watcher = asyncio.ensure_future(watch_close(c, r, A.header_ms / 1000 + length / A.min_rate + SLACK + 3))
    try:
        while not watcher.done() and sent < length - 1:
            k = min(int(rate / 10) + 1, length - 1 - sent)
            w.write(b" " * k)
            sent += k
            await w.drain()
            await asyncio.sleep(0.1)
    except (ConnectionResetError, BrokenPipeError):
        pass
    c.deadline = c.opened + A.header_ms / 1000 + sent / A.min_rate
    await watcher
    close_w(w)


async def oversized(rng, out):
    c, r, w = await open_conn("oversized")
    out.append(c)
    length = A.max_body * 10
    w.write(b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % length)
    watcher = asyncio.ensure_future(watch_close(c, r, A.header_ms / 1000 + length / A.min_rate + SLACK + 3))
    chunk = b"a" * 65536
    sent = 0
    try:
        while sent < length and not watcher.done():
            w.write(chunk[: min(len(chunk), length - sent)])
            sent += min(len(chunk), length - sent)
            await w.drain()
    except (ConnectionResetError, BrokenPipeError):
        pass
    c.deadline = c.opened + A.header_ms / 1000 + length / A.min_rate
    await watcher
    close_w(w)


async def full_body(rng, out):
    """A body of max_body bytes, sent at once but for its last byte: buffered whole (the
    memory bound counts it), closed at the header timeout plus its rate allowance."""
    c, r, w = await open_conn("full-body")
    out.append(c)
    length = A.max_body
    w.write(b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % length)
    watcher = asyncio.ensure_future(watch_close(c, r, A.header_ms / 1000 + length / A.min_rate + SLACK + 3))
    try:
        w.write(b"{" * (length - 1))
        await w.drain()
    except (ConnectionResetError, BrokenPipeError):
        pass
    c.deadline = c.opened + A.header_ms / 1000 + length / A.min_rate
    await watcher
    close_w(w)


async def flood(rng, out, n):
    conns = []
    for _ in range(n):
        try:
            c, r, w = await open_conn("flood")
        except OSError:
            continue
        c.deadline = header_deadline(c)
        out.append(c)
        conns.append((c, r, w))
    await asyncio.gather(*(watch_close(c, r, A.header_ms / 1000 + SLACK + 3) for c, r, w in conns))
    for c, r, w in conns:
        close_w(w)


async def abrupt(rng, out):
    try:
        c, r, w = await open_conn("abrupt")
    except OSError:
        return
    w.write(b"POST /search HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"q\":"[: rng.randint(0, 40)])
    await asyncio.sleep(rng.uniform(0, 0.3))
    close_w(w, rst=True)


async def real_queries(rng, results, stop):
    words = ["muse", "spark", "revenue", "android", "title:muse", "tsmc"]
    while not stop.is_set():
        t0 = time.monotonic()
        res = {"t": t0}
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", A.port), HANG)
            w.write(b"GET /search?q=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    % rng.choice(words).encode())
            data = await asyncio.wait_for(r.read(-1), HANG)
            close_w(w)
            res["raw"] = data[:200]
            if data.startswith(b"HTTP/1.1 "):
                res["status"] = int(data.split(b" ", 2)[1])
                head, _, body = data.partition(b"\r\n\r\n")
                res["retry_after"] = b"\nretry-after:" in head.lower()
                if res["status"] == 200:
                    res["hits"] = isinstance(json.loads(body).get("hits"), list)
            else:
                res["status"] = None
        except asyncio.TimeoutError:
            res["status"] = "hang"
        except (ConnectionResetError, BrokenPipeError) as e:
            res["status"] = "reset"
        except OSError as e:
            res["status"] = "error: %s" % e
        res["ms"] = (time.monotonic() - t0) * 1000
        results.append(res)
        await asyncio.sleep(rng.uniform(0.05, 0.2))


def proc_sockets(pid):
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                    n += 1
            except OSError:
                pass
    except OSError:
        return -1
    return n


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


async def scrape_metrics():
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", A.port), 2)
        w.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = await asyncio.wait_for(r.read(-1), 5)
        close_w(w)
    except Exception:
        return None
    if not data.startswith(b"HTTP/1.1 200"):
        return None
    m = {}
    for line in data.decode(errors="replace").splitlines():
        if line.startswith("quire_connections_"):
            k, _, v = line.partition(" ")
            m[k] = float(v)
    return m


async def monitor(stats, stop):
    while not stop.is_set():
        s = proc_sockets(A.pid)
        stats["max_sockets"] = max(stats["max_sockets"], s)
        stats["max_rss"] = max(stats["max_rss"], proc_status(A.pid, "VmRSS"))
        stats["samples"] += 1
        if stats["samples"] % 5 == 0:
            m = await scrape_metrics()
            if m:
                stats["metrics"] += 1
                stats["max_open_metrics"] = max(stats["max_open_metrics"], m.get("quire_connections_open", 0))
                stats["high_water"] = m.get("quire_connections_high_water", 0)
        await asyncio.sleep(0.05)


async def keepalive_client(rng, results, stop):
    """An honest client reusing one connection; reconnects when it is closed."""
    r = w = None
    while not stop.is_set():
        try:
            if w is None:
                r, w = await asyncio.open_connection("127.0.0.1", A.port)
            w.write(b"GET /search?q=muse HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), HANG)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await asyncio.wait_for(r.readexactly(length), HANG)
            code = int(head.split(b" ", 2)[1])
            results.append(code)
            if code != 200:
                close_w(w)
                w = None
        except asyncio.TimeoutError:
            results.append("hang")
            close_w(w)
            w = None
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
            # Closed by the idle timeout between our requests: allowed, reconnect.
            close_w(w)
            w = None
        await asyncio.sleep(rng.uniform(0.05, A.idle_ms / 2000.0))
    if w:
        close_w(w)


async def round_(k, rng, totals):
    kinds = {
        "trickle": rng.randint(0, A.cap),
        "keepalive-half": rng.randint(0, 6),
        "slow-body": rng.randint(0, 4),
        "oversized": rng.randint(0, 3),
        "full-body": rng.choice([0, rng.randint(0, A.cap)]),
        "abrupt": rng.randint(0, 10),
        "flood": rng.choice([0, 0, A.cap + 30, 2 * A.cap]),
    }
    out, queries = [], []
    stop = asyncio.Event()
    jobs = []
    for _ in range(kinds["trickle"]):
        jobs.append(trickler(random.Random(rng.random()), out))
    for _ in range(kinds["keepalive-half"]):
        jobs.append(keepalive_half(random.Random(rng.random()), out))
    for _ in range(kinds["slow-body"]):
        jobs.append(slow_body(random.Random(rng.random()), out))
    for _ in range(kinds["oversized"]):
        jobs.append(oversized(random.Random(rng.random()), out))
    for _ in range(kinds["full-body"]):
        jobs.append(full_body(random.Random(rng.random()), out))
    for _ in range(kinds["abrupt"]):
        jobs.append(abrupt(random.Random(rng.random()), out))
    if kinds["flood"]:
        jobs.append(flood(rng, out, kinds["flood"]))
    rq = asyncio.ensure_future(real_queries(random.Random(rng.random()), queries, stop))
    rng.shuffle(jobs)

    async def staggered(j, delay):
        await asyncio.sleep(delay)
        try:
            await j
        except OSError as e:
            totals["connect_errors"] += 1

    await asyncio.gather(*(staggered(j, rng.uniform(0, 1.0)) for j in jobs))
    stop.set()
    await rq
    desc = ", ".join(f"{v} {k}" for k, v in kinds.items() if v)
    desc += f"; cap {A.cap}, header {A.header_ms} ms, idle {A.idle_ms} ms"
    late = [c for c in out if c.deadline is not None and (c.closed is None or c.closed > c.deadline + SLACK)]
    ok(not late, f"round {k} ({desc or 'real queries only'}): all {len(out)} connections closed within their deadline + {SLACK} s",
       "\n".join(f"{c.kind}: status {c.status} closed {None if c.closed is None else round(c.closed - c.opened, 2)} s after open, "
                 f"deadline {round(c.deadline - c.opened, 2)} s; head {c.head[:80]!r}" for c in late[:10]))
    over = [c for c in out if c.kind == "oversized"]
    bad = [c for c in over if c.status not in (413, 503)]
    if over:
        ok(not bad, f"round {k}: {len(over)} oversized bodies answered 413 (or 503 past the cap) before the close",
           "\n".join(f"status {c.status} reset {c.reset} head {c.head[:80]!r}" for c in bad))
    refused = [c for c in out if c.status == 503]
    norety = [c for c in refused if b"retry-after:" not in c.head.lower()]
    ok(not norety, f"round {k}: {len(refused)} connections refused past the cap, each a 503 with Retry-After",
       "\n".join(repr(c.head[:200]) for c in norety[:5]))
    badq = [q for q in queries if not (q.get("status") == 200 and q.get("hits")) and
            not (q.get("status") == 503 and q.get("retry_after"))]
    served = sum(1 for q in queries if q.get("status") == 200)
    ok(queries and not badq, f"round {k}: {len(queries)} real queries, {served} answered 200 with hits, "
       f"the others 503 with Retry-After; none reset or left hanging",
       "\n".join(f"{q.get('status')} after {q['ms']:.0f} ms: {q.get('raw')!r}" for q in badq[:8]))
    totals["conns"] += len(out)
    totals["refused"] += len(refused)
    totals["queries"] += len(queries)
    totals["served"] += served
    totals["max_query_ms"] = max([totals["max_query_ms"]] + [q["ms"] for q in queries])


def write_config():
    with open(A.config, "w") as f:
        f.write("[quired]\nmax_connections = %d\nheader_timeout_ms = %d\nidle_timeout_ms = %d\n"
                "max_body = %d\nbody_min_rate = %d\naccess_log = json\n"
                % (A.cap, A.header_ms, A.idle_ms, A.max_body, A.min_rate))
        if A.max_response:
            f.write("max_response = %d\n" % A.max_response)


async def reload(rng, totals):
    """New limits through the configuration file and SIGHUP; waits until they are in force."""
    A.cap = rng.randint(12, 32)
    A.header_ms = rng.choice([1000, 1500, 2000])
    A.idle_ms = rng.choice([1500, 2500])
    A.max_cap = max(A.max_cap, A.cap)
    write_config()
    os.kill(A.pid, 1)  # SIGHUP
    for _ in range(100):
        m = await scrape_metrics()
        if m and m.get("quire_connections_max") == A.cap:
            totals["reloads"] += 1
            return True
        await asyncio.sleep(0.1)
    ok(False, f"a reload to cap {A.cap} is in force within 10 s")
    return False


async def main():
    rng = random.Random(A.seed)
    A.max_cap = A.cap
    print(f"# seed {A.seed} (rerun with QUIRE_SEED={A.seed})", flush=True)
    stats = {"max_sockets": 0, "max_rss": 0, "samples": 0, "metrics": 0, "max_open_metrics": 0, "high_water": 0}
    totals = {"conns": 0, "refused": 0, "queries": 0, "served": 0, "max_query_ms": 0.0, "connect_errors": 0,
              "reloads": 0}
    stop = asyncio.Event()
    mon = asyncio.ensure_future(monitor(stats, stop))
    ka_results = []
    ka = asyncio.ensure_future(keepalive_client(random.Random(rng.random()), ka_results, stop))
    t_end = time.monotonic() + A.seconds
    k = 0
    while time.monotonic() < t_end:
        k += 1
        if A.config and k > 1 and rng.random() < 0.5:
            await reload(rng, totals)
        await round_(k, rng, totals)
    stop.set()
    await mon
    await ka
    bound_sockets = A.max_cap + REFUSING_PER_WORKER * A.threads + A.listeners
    ok(0 < stats["max_sockets"] <= bound_sockets,
       f"sockets held by quired never exceeded the largest cap {A.max_cap} + closing slots {REFUSING_PER_WORKER * A.threads} + "
       f"listeners {A.listeners} = {bound_sockets} (most seen: {stats['max_sockets']} in {stats['samples']} samples)")
    m = await scrape_metrics()
    hw = m.get("quire_connections_high_water", -1) if m else -1
    ok(stats["metrics"] > 0 and stats["max_open_metrics"] <= A.max_cap and 0 < hw <= A.max_cap,
       f"/metrics: open connections never above the largest cap {A.max_cap} (most seen {stats['max_open_metrics']:.0f} in "
       f"{stats['metrics']} scrapes); high-water mark {hw:.0f}")
    hwm = proc_status(A.pid, "VmHWM")
    if A.rss_bound == 0:
        ok(True, "# SKIP peak RSS %.1f MiB not checked: a sanitizer build's memory use is not the plain one" % (hwm / 1048576))
    else:
        ok(hwm <= A.rss_bound, f"peak RSS {hwm / 1048576:.1f} MiB (sampled max {stats['max_rss'] / 1048576:.1f} MiB) "
           f"within the stated bound {A.rss_bound / 1048576:.1f} MiB")
    bad_ka = [x for x in ka_results if x not in (200,)]
    ok(ka_results and not bad_ka, f"a keep-alive client got {len(ka_results)} answers, all 200 once admitted",
       repr(bad_ka[:10]))
    print(f"# {k} rounds, {totals['reloads']} reloads: {totals['conns']} attacking connections, {totals['refused']} refused with 503, "
          f"{totals['queries']} real queries ({totals['served']} answered 200, slowest {totals['max_query_ms']:.0f} ms), "
          f"peak sockets {stats['max_sockets']}, peak RSS {hwm / 1048576:.1f} MiB", flush=True)
    # Every stderr line JSON (access_log = json).
    bad_lines = []
    n = 0
    with open(A.log, errors="replace") as f:
        for line in f:
            n += 1
            try:
                if not isinstance(json.loads(line), dict):
                    bad_lines.append(line)
            except ValueError:
                bad_lines.append(line)
    ok(n > 0 and not bad_lines, f"every one of the {n} lines quired wrote to stderr is a JSON object",
       "".join(bad_lines[:5]))
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    for name in ("port", "pid", "cap", "threads", "listeners", "header-ms", "idle-ms", "max-body", "min-rate"):
        p.add_argument("--" + name, type=int, required=True)
    p.add_argument("--rss-bound", type=int, required=True)
    p.add_argument("--max-response", type=int, default=0)
    p.add_argument("--log", required=True)
    p.add_argument("--config")
    p.add_argument("--seed", type=int, default=int(os.environ.get("QUIRE_SEED", "0")) or int(time.time()))
    p.add_argument("--seconds", type=float, default=45)
    A = p.parse_args()
    sys.exit(asyncio.run(main()))
