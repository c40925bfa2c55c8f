#!/usr/bin/env python3
"""balance.py -- how quired spreads connections over its worker threads, from outside, over
raw sockets (run by tests/integration/balance.sh).

The property: a worker takes a new connection only while no other worker serves fewer
(daemon/conns.c), so the workers' counts stay even however connections come and go:

  - a burst of connections opened at once, from an even start, ends with counts that
    differ by at most one;
  - every connection opened alone goes to a worker that served the fewest just before,
    after any sequence of opens and closes (random, seeded).

The counts are quired's own, quire_worker_connections{worker="N"} in /metrics, read over
one kept-alive connection that stays open all along (and is counted like the others).

Usage: balance.py --port P --workers W [--steps N] [--seed S] [--slow K]
Prints TAP (without the plan line: the caller's lib.sh ends the stream).
"""
import argparse
import random
import re
import socket
import sys
import time

from tap import ok  # tests/attack/tap.py, beside this file

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--workers", type=int, required=True)
ap.add_argument("--steps", type=int, default=60)
ap.add_argument("--seed", type=int, default=None)
ap.add_argument("--slow", type=float, default=1.0)
args = ap.parse_args()
seed = args.seed if args.seed is not None else random.randrange(1 << 30)
print(f"# seed {seed} (QUIRE_SEED={seed} repeats this run)", flush=True)
rng = random.Random(seed)
MAX_OPEN = 4 * args.workers + 2
GAUGE = re.compile(r'^quire_worker_connections\{worker="(\d+)"\} (\d+)$', re.M)


def request(sock, path):
    """One GET on a kept-alive connection: its body."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: quire\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the answer's header")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?i)content-length: *(\d+)", head)
    want = int(m.group(1)) if m else 0
    while len(body) < want:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the answer's body")
        body += chunk
    return body.decode()


def connect():
    s = socket.create_connection(("127.0.0.1", args.port), timeout=10 * args.slow)
    return s


metrics_conn = connect()


def counts():
    body = request(metrics_conn, "/metrics")
    got = {int(w): int(n) for w, n in GAUGE.findall(body)}
    return [got.get(w, -1) for w in range(args.workers)]


def settled(expect_total, pause=0.05):
    """The counts once quired has seen every open and close (bounded wait), then a pause
    for the workers to look again at accepting: after a close, the others learn of it
    through their balance events, which their threads run when they next wake."""
    deadline = time.time() + 5 * args.slow
    c = counts()
    while sum(c) != expect_total and time.time() < deadline:
        time.sleep(0.01)
        c = counts()
    time.sleep(pause * args.slow)
    return counts()


open_conns = []

# 1. A burst from an even start: every connection connects before any sends a request.
c0 = settled(1)
ok(sorted(c0) == [0] * (args.workers - 1) + [1] and len(c0) == args.workers,
   f"/metrics reports a count for each of the {args.workers} workers", f"counts {c0}")
burst = [connect() for _ in range(2 * args.workers + 1)]
for s in burst:
    request(s, "/health")
open_conns.extend(burst)
c = settled(len(open_conns) + 1)
ok(max(c) - min(c) <= 1 and sum(c) == len(open_conns) + 1,
   f"a burst of {len(burst)} connections at once: the workers' counts differ by at most one",
   f"counts {c}")

# 2. Random opens and closes; each open goes to a worker with the fewest.
misplaced, opens = [], 0
for step in range(args.steps):
    if open_conns and (len(open_conns) >= MAX_OPEN or rng.random() < 0.45):
        victim = open_conns.pop(rng.randrange(len(open_conns)))
        victim.close()
        settled(len(open_conns) + 1, pause=0.25)
        continue
    before = settled(len(open_conns) + 1)
    s = connect()
    request(s, "/health")
    open_conns.append(s)
    after = settled(len(open_conns) + 1)
    grew = [w for w in range(args.workers) if after[w] == before[w] + 1]
    opens += 1
    if len(grew) != 1 or before[grew[0]] != min(before):
        misplaced.append(f"step {step}: counts {before} -> {after}")
ok(not misplaced and opens > 10,
   f"{opens} connections opened one at a time among random closes: each went to a worker "
   "that served the fewest", "\n".join(misplaced))

for s in open_conns:
    s.close()
c = settled(1)
ok(sum(c) == 1, "every closed connection leaves the counts", f"counts {c}")
metrics_conn.close()
sys.exit(0)
