#!/usr/bin/env python3
"""malformed.py -- malformed HTTP against a running quired, from outside, over raw sockets.

Every kind of request libevent's evhttp (2.1) would answer with its own HTML page is sent
once: a request line that does not parse, an HTTP version past 1.x, a header line without
a colon or continuing nothing, a Content-Length that is not a number, a chunk size or a
trailer that does not parse, an Expect other than 100-continue, a method evhttp does not
serve (unknown, TRACE, CONNECT), a request line or headers over evhttp's 128 KiB. Each must
get the status that fits with quired's JSON error ({"error": {"code", "message"}}),
Content-Type application/json, a Content-Length that is the body's, and a close; a HEAD
request the headers alone.

Then seeded random mutations of valid requests (bytes flipped, inserted, deleted, CR/LF
and spaces sprinkled, cut short), many at once. Checked for each: whatever comes back is a
sequence of whole HTTP responses, every one with a status of 400 or more is JSON and none
is a 500 (the client's mistake is not the server's: a non-UTF-8 parameter name was); a
request left incomplete may get no answer (the header timeout closes it), never a
non-JSON error.

Finally /metrics: every answer of the fixed cases is counted under endpoint "other" with
its status; and, with --log, every line quired wrote to stderr is one JSON object, an
access-log line for each fixed case among them.

Usage: malformed.py --port P [--log FILE] [--seed S] [--cases N]
Prints TAP (without the plan line: the caller's lib.sh ends the stream).
"""
import argparse
import concurrent.futures
import json
import random
import re
import socket
import sys
import time

from tap import ok  # tests/attack/tap.py, beside this file


def exchange(port, data, timeout=5.0):
    """Sends data, reads until the server closes (or timeout). Returns (bytes, closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    closed = False
    try:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                k = s.recv(65536)
            except socket.timeout:
                break
            if not k:
                closed = True
                break
            out += k
    except (ConnectionResetError, BrokenPipeError) as e:
        out += b""
        closed = "reset"
    finally:
        s.close()
    return out, closed


def parse_responses(data, head_first=False):
    """Splits bytes into HTTP responses: [(status, headers dict, body)], plus the rest that
    is not a whole response (b"" when all parsed). Informational 1xx have no body."""
    out = []
    first = True
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return out, data
        head = data[:end].decode("latin-1").split("\r\n")
        # evhttp echoes the version it read in the request ("HTTP/1.-11" too).
        m = re.match(r"HTTP/\S+ (\d{3}) ", head[0] + " ")
        if not m:
            return out, data
        status = int(m.group(1))
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        data = data[end + 4:]
        if status < 200:
            continue
        if head_first and first:
            n = 0
        elif "content-length" in headers:
            n = int(headers["content-length"])
        else:
            n = len(data)  # no length (an HTTP/1.0 answer): the body runs to the close
        if len(data) < n:
            return out, data
        out.append((status, headers, data[:n]))
        data = data[n:]
        first = False
    return out, b""


def json_error(headers, body):
    """The JSON error's code, or None when the answer is not quired's JSON error."""
    if not headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        e = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(e.get("code"), str) or not isinstance(e.get("message"), str) or not e["message"]:
        return None
    return e["code"]


def headers_of(n, size):
    return b"".join(b"X-H%d: %s\r\n" % (i, b"v" * size) for i in range(n))


# (name, request bytes, status, error code)
FIXED = [
    ("garbage request line", b"BLAH\r\n\r\n", 400, "bad_request"),
    ("a request line of one word", b"GET\r\n\r\n", 400, "bad_request"),
    ("a lower-case version", b"GET /health http/1.1\r\n\r\n", 400, "bad_request"),
    ("a version that is not a number", b"GET /health HTTP/1.x\r\n\r\n", 400, "bad_request"),
    ("a NUL in the target", b"GET /\x00 HTTP/1.1\r\n\r\n", 400, "bad_request"),
    ("empty lines before the request line", b"\r\n\r\nGET /health HTTP/1.1\r\n\r\n", 400, "bad_request"),
    ("HTTP/2.0", b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported"),
    ("HTTP/9.9", b"GET /health HTTP/9.9\r\n\r\n", 505, "http_version_not_supported"),
    ("a header line without a colon", b"GET /health HTTP/1.1\r\nno colon here\r\n\r\n", 400, "bad_request"),
    ("a continuation line first", b"GET /health HTTP/1.1\r\n continued\r\n\r\n", 400, "bad_request"),
    ("Content-Length: abc", b"POST /search HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "bad_request"),
    ("Content-Length: -5", b"POST /search HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400, "bad_request"),
    ("a chunk size that is not hex", b"POST /search HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400, "bad_request"),
    ("a trailer line without a colon", b"POST /search HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nbad trailer\r\n\r\n", 400, "bad_request"),
    ("Expect: bogus", b"POST /search HTTP/1.1\r\nExpect: bogus\r\nContent-Length: 3\r\n\r\nabc", 417, "expectation_failed"),
    ("an unknown method", b"FOO /health HTTP/1.1\r\nHost: x\r\n\r\n", 501, "method_not_implemented"),
    ("TRACE", b"TRACE / HTTP/1.1\r\n\r\n", 501, "method_not_implemented"),
    ("CONNECT", b"CONNECT a:80 HTTP/1.1\r\n\r\n", 501, "method_not_implemented"),
    ("an unknown method with version 1.-11", b"FOO /health HTTP/1.-11\r\n\r\n", 501, "method_not_implemented"),
    ("one header of 140 KB", b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * 140000 + b"\r\n\r\n", 431, "headers_too_large"),
    ("3000 headers, 150 KB", b"GET /health HTTP/1.1\r\n" + headers_of(3000, 40) + b"\r\n", 431, "headers_too_large"),
    ("a request line of 140 KB", b"GET /" + b"a" * 140000 + b" HTTP/1.1\r\n\r\n", 431, "headers_too_large"),
    ("a body declared past max_body", b"POST /search HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413, "body_too_large"),
    ("HEAD with HTTP/2.0", b"HEAD /health HTTP/2.0\r\n\r\n", 505, None),
]

# Valid requests the random cases start from.
BASES = [
    b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /search?q=muse&limit=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"q\": \"muse\"}",
    b"POST /search HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nd\r\n{\"q\": \"muse\"}\r\n0\r\n\r\n",
    b"POST /search HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 13\r\n\r\n{\"q\": \"muse\"}",
    b"GET /doc/a.md HTTP/1.0\r\n\r\n",
    b"DELETE /search HTTP/1.1\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nAccept: */*\r\nX-A: 1\r\n\r\n",
]
SPRINKLE = [b"\r", b"\n", b"\r\n", b" ", b":", b"\x00", b"\xff", b"HTTP/2.0", b"\t", b"-1", b"zz"]


def mutate(rng, req):
    b = bytearray(req)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
        elif op == 1:
            b[i:i] = rng.choice(SPRINKLE)
        elif op == 2 and b:
            del b[i:i + rng.randint(1, 4)]
        elif op == 3:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            b = b[:max(1, i)]
    return bytes(b)


def metrics_other(port):
    out, _ = exchange(port, b"GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n")
    counts = {}
    for m in re.finditer(rb'quire_requests_total\{endpoint="other",status="(\w+)"\} (\d+)', out):
        counts[m.group(1).decode()] = int(m.group(2))
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--cases", type=int, default=400)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    print(f"# seed {seed} (repeat with --seed {seed})", flush=True)
    rng = random.Random(seed)

    before = metrics_other(a.port)
    want = {}
    for name, req, status, code in FIXED:
        head = req.startswith(b"HEAD ")
        data, closed = exchange(a.port, req)
        resp, rest = parse_responses(data, head_first=head)
        got = resp[0] if len(resp) == 1 and not rest else None
        detail = repr(data[:300])
        if head:
            ok(got and got[0] == status and got[1].get("content-type", "").startswith("application/json")
               and int(got[1].get("content-length", "0")) > 0 and got[2] == b"" and closed is True,
               f"{name}: {status}, JSON headers, no body, closed", detail)
        else:
            ok(got and got[0] == status and json_error(got[1], got[2]) == code
               and int(got[1].get("content-length", "-1")) == len(got[2]) and closed is True,
               f"{name}: {status} {code} as JSON, then closed", detail)
        want[str(status)] = want.get(str(status), 0) + 1

    # The random cases, 32 at a time; a request left incomplete waits for the header timeout.
    cases = [mutate(rng, rng.choice(BASES)) for _ in range(a.cases)]
    bad = []
    statuses = {}

    def run(req):
        data, closed = exchange(a.port, req, timeout=8.0)
        resp, rest = parse_responses(data)
        problems = []
        if rest:
            problems.append(f"not whole HTTP responses: {rest[:120]!r}")
        for status, headers, body in resp:
            statuses[status] = statuses.get(status, 0) + 1
            if status >= 400 and json_error(headers, body) is None:
                problems.append(f"a {status} that is not a JSON error: {body[:120]!r}")
            if status >= 500 and status != 501 and status != 505:
                problems.append(f"a {status} for the client's mistake: {body[:120]!r}")
        return problems

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        for req, problems in zip(cases, pool.map(run, cases)):
            if problems:
                bad.append(f"{req[:100]!r}: {'; '.join(problems)}")
    print(f"# random cases: {len(cases)}; statuses {dict(sorted(statuses.items()))}", flush=True)
    ok(not bad, f"{len(cases)} random malformed requests (seed {seed}): whole responses, every "
       "error a JSON one, no 500", "\n".join(bad[:10]))
    ok(len(statuses) >= 3, "the random cases reach at least three statuses", statuses)

    after = metrics_other(a.port)
    short = {s: n for s, n in want.items() if after.get(s, 0) - before.get(s, 0) < n}
    ok(not short, "/metrics counts every answer of the fixed cases under endpoint \"other\"",
       f"wanted at least {want}; before {before}; after {after}")

    if a.log:
        time.sleep(0.2)
        lines = open(a.log, encoding="utf-8", errors="replace").read().splitlines()
        notjson = []
        logged = {}
        for line in lines:
            try:
                o = json.loads(line)
                if not isinstance(o, dict):
                    raise ValueError
            except ValueError:
                notjson.append(line)
                continue
            if "status" in o:
                logged[str(o["status"])] = logged.get(str(o["status"]), 0) + 1
        ok(not notjson, f"every stderr line is one JSON object ({len(lines)} lines)", "\n".join(notjson[:5]))
        short = {s: n for s, n in want.items() if logged.get(s, 0) < n}
        ok(not short, "an access-log line for every answer of the fixed cases",
           f"wanted at least {want}; logged {logged}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
