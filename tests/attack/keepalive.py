#!/usr/bin/env python3
"""keepalive.py -- requests on kept-alive connections at random moments around quired's
idle timeout, from outside, over raw sockets (run by tests/integration/keepalive.sh).

Many connections at once, each sending its next request after a random pause, most of
them close to the idle timeout (--idle-ms, small), so that requests arrive as the timer
that closes an idle connection runs. HTTP lets a server close a kept-alive connection
while it is idle, and a request already on its way then meets the close: the client
cannot tell that from a lost request. What is acceptable is therefore defined on the
server's side of the socket:

  - a request quired dispatched (its access log names it: every request carries its own
    path, /doc/kC-N) is answered whole, never followed by a close instead;
  - quired never closes a connection holding a request it has not read: the kernel then
    answers with a reset (ECONNRESET, the client still in ESTABLISHED), where a close
    before the request arrived is a FIN first (the client reads EOF, or EPIPE once the
    reset for its late bytes follows);
  - no answer is cut short, none is missing without a close (no hang), nothing arrives
    that was not asked for;
and, as figures: the requests answered, the connections found closed before a request
was sent, and those closed while a request was on its way (the race HTTP allows), with
the shortest pause before such a close.

Usage: keepalive.py --port P --log FILE --idle-ms MS [--seconds S] [--conns N] [--seed S]
Prints TAP (without the plan line: the caller's lib.sh ends the stream).
"""
import argparse
import errno
import json
import os
import random
import select
import socket
import sys
import threading
import time

from tap import ok  # tests/attack/tap.py, beside this file

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--log", required=True, help="quired's stderr (access_log = json)")
ap.add_argument("--idle-ms", type=float, required=True)
ap.add_argument("--seconds", type=float, default=10)
ap.add_argument("--conns", type=int, default=16)
ap.add_argument("--load", type=int, default=0,
                help="connections sending --load-path back to back, keeping the workers busy")
ap.add_argument("--load-path", default="/search?q=people+OR+year+OR+said+OR+government+OR+new+OR+time"
                "&limit=200&snippet=1&facets=category,year")
ap.add_argument("--seed", type=int, default=None)
args = ap.parse_args()
seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
print("# seed %d (QUIRE_SEED=%d repeats the pauses)" % (seed, seed), flush=True)

IDLE = args.idle_ms / 1000
lock = threading.Lock()
outcomes = []          # (tag, pause in s or None for a new connection's first request, outcome)
unexpected = []        # details of what must not happen


def read_answer(s, timeout):
    """Reads one HTTP response. Returns (outcome, detail): 'answered', 'eof' or 'reset'
    (nothing read, then the close), 'cut' (part of an answer, then the close), 'hang'."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode("latin-1")
            length = None
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            if length is not None and len(data) >= head_end + 4 + length:
                body = data[head_end + 4:head_end + 4 + length]
                status = head.split(" ")[1] if " " in head else "?"
                closing = "connection: close" in head.lower()
                try:
                    good = status == "404" and isinstance(json.loads(body), dict)
                except ValueError:
                    good = False
                if not good:
                    return "bad", "%s %r" % (head.splitlines()[0], body[:200])
                return ("answered-close" if closing else "answered"), ""
        left = deadline - time.monotonic()
        if left <= 0:
            return "hang", "%d bytes after %g s" % (len(data), timeout)
        s.settimeout(left)
        try:
            k = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return ("reset" if not data else "cut"), "%d bytes, then a reset" % len(data)
        except OSError as e:
            if e.errno == errno.EPIPE:
                return ("race" if not data else "cut"), "%d bytes, then EPIPE" % len(data)
            raise
        if not k:
            if data:
                return "cut", "%d bytes, then EOF" % len(data)
            return ("race" if reset_follows(s) else "consumed"), "EOF"
        data += k


TCP_CLOSE, TCP_CLOSE_WAIT = 7, 8


def reset_follows(s):
    """After EOF on s with the request sent: whether the server's kernel answers the
    request's bytes with a reset (s goes from CLOSE_WAIT to CLOSE), as it does for bytes
    reaching a socket already closed. No reset: the server had read them before closing."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        state = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
        if state != TCP_CLOSE_WAIT:
            return True
        time.sleep(0.005)
    return False


def closed_already(s):
    """Whether the server has closed s (its FIN or a reset has arrived); raises on data."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        k = s.recv(1, socket.MSG_PEEK)
    except (ConnectionResetError, BrokenPipeError):
        return True
    if k:
        raise RuntimeError("bytes nobody asked for: %r" % s.recv(200))
    return True


def fin_here(s):
    """Whether the server's FIN (or a reset) is already at s; reads nothing."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def connection_loop(cid, stop_at):
    rng = random.Random(seed * 100 + cid)
    s, seq, pause = None, 0, None
    while time.monotonic() < stop_at:
        if s is None:
            s = socket.create_connection(("127.0.0.1", args.port), timeout=5)
            pause = None
        else:
            # Most pauses within 40% of the idle timeout, some well before it.
            if rng.random() < 0.75:
                pause = rng.uniform(0.6 * IDLE, 1.4 * IDLE)
            else:
                pause = rng.uniform(0, 0.6 * IDLE)
            time.sleep(pause)
            try:
                gone = closed_already(s)
            except RuntimeError as e:
                with lock:
                    unexpected.append("connection %d: %s" % (cid, e))
                gone = True
            if gone:
                with lock:
                    outcomes.append((None, pause, "closed-before"))
                s.close()
                s = None
                continue
        seq += 1
        tag = "k%d-%d" % (cid, seq)
        try:
            s.sendall(("GET /doc/%s HTTP/1.1\r\nHost: race\r\n\r\n" % tag).encode())
            # Whether quired's FIN was already here when sendall returned. A figure only:
            # under load a FIN sent before the request arrived can still be on its way,
            # and the reset that follows EOF ("race") is what proves quired's socket was
            # closed when the request reached it.
            fin_first = fin_here(s)
            outcome, detail = read_answer(s, 5)
            if outcome == "race" and not fin_first:
                outcome = "late"
        except (BrokenPipeError, ConnectionResetError) as e:
            # The reset for bytes sent after a close arrived before the rest of them.
            outcome, detail = "send-failed", repr(e)
        with lock:
            outcomes.append((tag, pause, outcome))
            if outcome in ("cut", "hang", "bad", "reset", "consumed"):
                unexpected.append("%s after a pause of %s: %s %s" % (
                    tag, "-" if pause is None else "%.0f ms" % (pause * 1000), outcome, detail))
        if outcome != "answered":
            s.close()
            s = None
    if s is not None:
        s.close()


loaded = [0]


def load_loop(stop_at):
    """Keeps the workers busy, so that requests and idle timers fall due together in one
    turn of a worker's loop, as on a loaded server."""
    s = None
    req = ("GET %s HTTP/1.1\r\nHost: load\r\n\r\n" % args.load_path).encode()
    while time.monotonic() < stop_at:
        if s is None:
            s = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        s.sendall(req)
        data = b""
        while b"\r\n\r\n" not in data:
            k = s.recv(65536)
            if not k:
                break
            data += k
        head, _, body = data.partition(b"\r\n\r\n")
        n = 0
        for line in head.split(b"\r\n")[1:]:
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
        while len(body) < n:
            k = s.recv(65536)
            if not k:
                break
            body += k
        if not head.startswith(b"HTTP/1.1 200") or len(body) < n:
            with lock:
                unexpected.append("a load request: %r" % data[:200])
            s.close()
            s = None
            continue
        with lock:
            loaded[0] += 1
    if s is not None:
        s.close()


def main():
    sys.setswitchinterval(0.0002)  # threads wait less for the GIL between checks and sends
    stop_at = time.monotonic() + args.seconds
    threads = [threading.Thread(target=connection_loop, args=(i, stop_at))
               for i in range(args.conns)]
    threads += [threading.Thread(target=load_loop, args=(stop_at,)) for _ in range(args.load)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.3)  # the access log's last lines
    dispatched = set()
    with open(args.log, errors="replace") as f:
        for line in f:
            try:
                o = json.loads(line)
            except ValueError:
                continue
            p = o.get("path", "") if isinstance(o, dict) else ""
            if p.startswith("/doc/k"):
                dispatched.add(p[5:])
    sent = [o for o in outcomes if o[0] is not None]
    by = {}
    for _, _, out in outcomes:
        by[out] = by.get(out, 0) + 1
    after = [o for o in sent if o[2] in ("race", "late", "reset", "consumed", "send-failed")]
    lost = [o for o in after if o[0] in dispatched]
    resets = [o for o in after if o[2] in ("reset", "consumed")]
    fmt = lambda o: "%s after %.0f ms: %s" % (o[0], (o[1] or 0) * 1000, o[2])
    ok(not unexpected, "no answer cut short, wrong, missing without a close, or unasked for "
       "(%d requests on %d connections)" % (len(sent), args.conns), "\n".join(unexpected[:20]))
    ok(not lost, "every request quired dispatched is answered, never closed instead "
       "(%d dispatched)" % len(dispatched), "\n".join(fmt(o) for o in lost[:20]))
    ok(not resets, "quired never closes a connection holding a request, read or not (a "
       "close only before the request arrived: a FIN, then a reset for the request's bytes)",
       "\n".join(fmt(o) for o in resets[:20]))
    ok(by.get("answered", 0) > 0 and by.get("closed-before", 0) > 0,
       "requests were answered and idle connections closed (the test reached the timeout)",
       repr(by))
    shortest = min((o[1] for o in after if o[1] is not None), default=None)
    print("# %d requests: %d answered; connections closed by the idle timeout (%g ms) before "
          "a request: %d; closed while a request was on its way: %d (FIN then reset: %d; the same "
          "with the FIN not yet here as the request went: %d; reset alone: %d; FIN alone: %d; reset while "
          "sending: %d; the shortest pause before one %s)"
          % (len(sent), by.get("answered", 0) + by.get("answered-close", 0), args.idle_ms,
             by.get("closed-before", 0), len(after), by.get("race", 0), by.get("late", 0),
             by.get("reset", 0),
             by.get("consumed", 0), by.get("send-failed", 0),
             "-" if shortest is None else "%.0f ms" % (shortest * 1000)), flush=True)
    if args.load:
        print("# %d load requests answered on %d connections" % (loaded[0], args.load), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
