#!/usr/bin/env python3
"""The crasher (run by tests/model/crasher.sh): quired and quire-index killed at random.

For a bounded time, on one index directory:
  - quired serves it, with clients querying it all the time from several threads: valid
    searches (GET and POST), expensive ones, invalid ones, /doc/{id} and its /similar,
    /complete, /health, /metrics,
    unknown paths, and slow clients that send their request in pieces;
  - quire-index runs on a changing tree of text, Markdown and JSON Lines files (files
    added, edited, deleted, moved, ids shared between JSON records between runs):
    incremental runs (random --batch), --rebuild (--keep 2 or 3) and --rollback;
  - a killer sends SIGKILL at random moments to quired, to a running quire-index, or to
    both at once, and restarts quired at once; with --graceful P, a stop of quired is a
    SIGTERM instead with probability P (quired must then drain and exit 0).

Under valgrind (--valgrind-logs DIR: quire-index and quired are memcheck wrappers writing
DIR/PROG.PID.log, tests/lib.sh): a SIGKILLed process leaves no memcheck summary, so its
log is checked only for the errors memcheck reported before the kill, then moved out of
DIR (to WORK/killed-logs); the logs left in DIR, of the runs of quire-index that ended and
of the quireds stopped by SIGTERM, must end with a summary of no error and no definite leak
(tests/lib.sh's verdict; their exit status says so at once: valgrind's --error-exitcode).

Checked throughout:
  - every answer of a live quired is well formed (JSON, or Prometheus text for
    /metrics) with a status the request allows (a valid search: 200; an invalid one: 400;
    /doc: 200 or 404; never a 503, see request_mix): malformed answers must be 0;
  - a connection is cut or refused only around a kill of quired (or, kept alive, after its
    client left it idle past quired's idle timeout, or a slow client's whose thread was
    starved past quired's header timeout: counted apart);
  - quired never dies unless killed, and always comes back serving (/health 200) after a
    restart;
  - quire-index exits with a status its run allows (a kill aside), and after a killed run
    the live generation is clean by xapian-check;
At the end, after a last complete incremental run: the index equals a clean build of the
same tree (tests/model/quire-dump: ids, titles, dates, text hashes), and quired, once it
has seen that commit, serves every document of the clean build (lost documents: 0).

Usage: crasher.py BUILD_DIR WORK_DIR [--seed N] [--seconds S] [--index PROG] [--quired PROG]
Prints TAP (ends with '# checks N failed M' under --no-plan). The seed is printed first.
"""
import argparse
import glob
import http.client
import json
import os
import re
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import checks

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("work")
ap.add_argument("--seed", type=int, default=None)
ap.add_argument("--seconds", type=float, default=75)
ap.add_argument("--clients", type=int, default=3)
ap.add_argument("--index", default=None, help="the quire-index to run (default BUILD's)")
ap.add_argument("--quired", default=None, help="the quired to run (default BUILD's)")
ap.add_argument("--slow", type=float, default=1, help="bounded waits are multiplied by this")
ap.add_argument("--graceful", type=float, default=0,
                help="probability that a stop of quired is a SIGTERM, not a SIGKILL")
ap.add_argument("--pace", type=float, default=1,
                help="the killer's pauses are multiplied by this")
ap.add_argument("--valgrind-logs", default=None,
                help="the programs run under memcheck, logging to DIR/PROG.PID.log")
ap.add_argument("--no-plan", action="store_true",
                help="end with '# checks N failed M' instead of the TAP plan")
args = ap.parse_args()
seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
print("# seed %d (rerun: crasher.py BUILD WORK --seed %d --seconds %g)" % (seed, seed, args.seconds))
sys.stdout.flush()

INDEX = args.index or os.path.join(args.build, "indexer", "quire-index")
QUIRED = args.quired or os.path.join(args.build, "daemon", "quired")
DUMP = os.path.join(args.build, "tests", "model", "quire-dump")
WORK = os.path.realpath(args.work)
IN = os.path.join(WORK, "in")
DB = os.path.join(WORK, "db")
SOCK = os.path.join(WORK, "quired.sock")
SLOW = args.slow
VG_LOGS = args.valgrind_logs

lock = threading.Lock()      # guards the counters and the failure details
tap = checks.Tap()
ok = tap.ok
# quired's keep-alive idle timeout here: a connection left idle longer by its client (a
# client thread starved on a loaded machine) may be closed before its next request.
IDLE_MS = 60000
HEADER_MS = 5000             # its header timeout: a slow client's request must arrive within it
stats = {"requests": 0, "answers": 0, "malformed": 0, "interrupted": 0, "dropped": 0,
         "idle_closed": 0, "header_closed": 0,
         "quired_kills": 0, "index_kills": 0, "both_kills": 0, "restarts": 0, "runs": 0,
         "incremental": 0, "rebuilds": 0, "rollbacks": 0, "refused": 0, "xapian_checks": 0,
         "changes": 0, "slow_clients": 0, "graceful_stops": 0}
statuses = {}                # HTTP status -> answers
unavailable = []             # the first 503 answer, for the summary
problems = {}                # what went wrong -> [count, first detail]


def problem(kind, detail):
    """Records one thing that went wrong during the run (checked, by kind, at the end)."""
    with lock:
        p = problems.setdefault(kind, [0, detail])
        p[0] += 1


def count(key, n=1):
    with lock:
        stats[key] += n


# ---- the tree -----------------------------------------------------------------------------
# Only the indexer thread changes it, between runs; every file stays readable, so that the
# last run and a clean build read the same tree.

WORDS = ("okapi herd river grain market harbour winter budget rail copper festival "
         "orchard bridge council drought lantern").split()
tree_rng = random.Random(seed)
serial = [0]
json_ids = []


def words(n):
    return " ".join(tree_rng.choice(WORDS) for _ in range(n))


def title():
    serial[0] += 1
    return "%s Bulletin Number %d" % (tree_rng.choice(WORDS).capitalize(), serial[0])


def write_file(path):
    """Writes a new version of PATH (its kind from its name) through a rename."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if path.endswith(".jsonl"):
        lines = []
        for _ in range(tree_rng.randrange(1, 6)):
            if json_ids and tree_rng.random() < 0.2:
                rid = tree_rng.choice(json_ids)      # an id another record holds
            else:
                rid = "j%d" % tree_rng.randrange(0, 300)
                json_ids.append(rid)
            lines.append(json.dumps({"id": rid, "title": title(), "body": words(12)}))
        data = "\n".join(lines) + "\n"
    elif path.endswith(".md"):
        data = "# %s\n\n%s.\n" % (title(), words(30).capitalize())
    else:
        data = "%s\n\n%s.\n" % (title(), words(30).capitalize())
    tmp = os.path.join(os.path.dirname(path), ".new")
    with open(tmp, "w") as out:
        out.write(data)
    os.replace(tmp, path)
    # A new mtime every write, whatever the clock's resolution: the signature must change.
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + tree_rng.randrange(1, 10**9)))


def tree_files():
    out = []
    for d, _, names in os.walk(IN):
        out += [os.path.join(d, n) for n in names if not n.startswith(".")]
    return sorted(out)


def change_tree():
    """One random change: add, edit, delete or move a file."""
    files = tree_files()
    x = tree_rng.random()
    count("changes")
    if x < 0.4 or len(files) < 10:
        serial[0] += 1
        sub = tree_rng.choice(["", "a", "b/c"])
        kind = tree_rng.choice(["txt", "md", "jsonl"])
        write_file(os.path.join(IN, sub, "f%d.%s" % (serial[0], kind)))
    elif x < 0.75:
        write_file(tree_rng.choice(files))
    elif x < 0.9:
        os.unlink(tree_rng.choice(files))
    else:
        src = tree_rng.choice(files)
        serial[0] += 1
        dst = os.path.join(IN, tree_rng.choice(["", "a", "b/c"]),
                           "m%d%s" % (serial[0], os.path.splitext(src)[1]))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.rename(src, dst)


def doc_ids():
    """The ids the tree names now (a guess for /doc: some are gone by the time they are asked)."""
    ids = [os.path.relpath(p, IN) for p in tree_files() if not p.endswith(".jsonl")]
    return ids + json_ids[-50:]


# ---- the processes ------------------------------------------------------------------------

indexer_proc = [None]        # the quire-index running now (guarded by lock)
quired_proc = [None]
quired_epoch = [0]           # +1 at every kill of quired: a request that sees it change
quired_up = threading.Event()  # set while a quired started by us has answered /health
quired_lock = threading.Lock()  # held to kill or restart quired (the killer, the watcher)
stop = threading.Event()
port = [0]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def quired_log():
    """The last lines quired wrote (of every run: the last run's are at the end); when a
    sanitizer reported an error, the head of its report (what and where) instead."""
    try:
        with open(os.path.join(WORK, "quired.log"), errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    for i, line in enumerate(lines):
        if "ERROR: AddressSanitizer" in line or "runtime error:" in line:
            return "\n".join(lines[i:i + 40])
    return "\n".join(lines[-12:])


def start_quired():
    """Starts quired on the test's port and socket; waits (bounded) until /health answers
    200. Returns whether it came up."""
    log = open(os.path.join(WORK, "quired.log"), "a")
    p = subprocess.Popen([QUIRED, "--db", DB, "--listen", "127.0.0.1:%d" % port[0],
                          "--socket", SOCK, "--threads", "2", "--quiet", "--refresh-ms", "100",
                          "--header-timeout-ms", str(HEADER_MS), "--idle-timeout-ms", str(IDLE_MS)],
                         stdout=log, stderr=log)
    log.close()
    quired_proc[0] = p
    deadline = time.time() + 20 * SLOW
    while time.time() < deadline:
        if p.poll() is not None:
            return False
        try:
            c = http.client.HTTPConnection("127.0.0.1", port[0], timeout=2 * SLOW)
            c.request("GET", "/health")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                quired_up.set()
                return True
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    return False


killed = []                  # (program, pid) of every process we SIGKILLed


def sigkill(prog, p):
    """SIGKILLs p (a run of PROG), waits for it and notes it: its memcheck log has no summary."""
    try:
        p.kill()
    except ProcessLookupError:
        pass
    p.wait()
    with lock:
        killed.append((prog, p.pid))


def kill_quired():
    with lock:
        quired_epoch[0] += 1
    quired_up.clear()
    p = quired_proc[0]
    p.stopped_by_us = True
    sigkill("quired", p)


def vg_errors(log):
    """Memcheck's error reports in LOG (a killed process's: no summary), as text: the blocks
    that carry a stack trace, warnings aside ('' when none)."""
    try:
        with open(log, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    out, block = [], []
    for line in lines + ["==0== "]:
        body = line.split("== ", 1)[1] if line.startswith("==") and "== " in line else line
        if body.strip():
            block.append(line)
            continue
        if block and not block[0].split("== ", 1)[-1].startswith("Warning") and any(
                b.split("== ", 1)[-1].lstrip().startswith(("at 0x", "by 0x")) for b in block):
            out += block
        block = []
    return "\n".join(out)


def stop_quired_gracefully():
    """SIGTERMs quired: it drains in flight requests and exits 0 (under valgrind: 0 only
    when memcheck found no error and no definite leak). Returns whether it did."""
    with lock:
        quired_epoch[0] += 1
    quired_up.clear()
    p = quired_proc[0]
    p.stopped_by_us = True
    p.terminate()
    try:
        rc = p.wait(timeout=10 * SLOW)
    except subprocess.TimeoutExpired:
        sigkill("quired", p)
        problem("quired stops on SIGTERM with exit 0", "still running %g s after SIGTERM\n%s"
                % (10 * SLOW, quired_log()))
        return False
    count("graceful_stops")
    if rc != 0:
        detail = quired_log()
        if VG_LOGS:
            detail += "\n" + vg_errors(os.path.join(VG_LOGS, "quired.%d.log" % p.pid))[:3000]
        problem("quired stops on SIGTERM with exit 0", "exit status %s\n%s" % (rc, detail))
        return False
    return True


def restart_quired():
    count("restarts")
    if not start_quired():
        rc = quired_proc[0].poll()
        problem("quired came back serving after a restart",
                ("it exited with status %s" % rc if rc is not None else
                 "no /health 200 within %g s" % (20 * SLOW)) + "\n" + quired_log())
        return False
    return True


def run_index(extra):
    """Runs quire-index on the tree; returns its exit status (-9 when killed)."""
    cmd = [INDEX, "-q", "--db", DB] + extra
    if "--rollback" not in extra:
        cmd.append(IN)
    with lock:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        indexer_proc[0] = p
    try:
        _, err = p.communicate(timeout=120 * SLOW)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        problem("quire-index finishes", "%s ran past %g s" % (cmd, 120 * SLOW))
    with lock:
        indexer_proc[0] = None
        if p.returncode == -signal.SIGKILL:
            killed.append(("quire-index", p.pid))
    return p.returncode, err.decode(errors="replace")


def live_generation():
    with open(os.path.join(DB, "current")) as f:
        return os.path.join(DB, f.read().split()[-1])


def xapian_check(why):
    count("xapian_checks")
    gen = live_generation()
    p = subprocess.run(["xapian-check", gen], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        problem("the live generation is clean by xapian-check after a killed run",
                "%s, %s:\n%s" % (why, gen, p.stdout.decode(errors="replace")[-1500:]))


# What each kind of run may exit with (a kill aside): 1 = finished with ids held twice.
ALLOWED_RC = {"run": (0, 1), "rebuild": (0, 1, 5), "rollback": (0, 5)}


def indexer_loop(rng):
    """Changes the tree and runs quire-index until stop, each run in a random mode."""
    while not stop.is_set():
        for _ in range(rng.randrange(1, 5)):
            change_tree()
        x = rng.random()
        if x < 0.1:
            mode, extra = "rebuild", ["--rebuild", "--keep", str(rng.choice([2, 3]))]
        elif x < 0.17:
            mode, extra = "rollback", ["--rollback"]
        else:
            mode, extra = "run", ["--batch", str(rng.choice([1, 3, 10, 2000]))]
        rc, err = run_index(extra)
        count("runs")
        if rc == -signal.SIGKILL:
            xapian_check("after a killed %s" % mode)
        elif rc not in ALLOWED_RC[mode]:
            problem("quire-index exits with a status its run allows",
                    "%s %s: exit %s\n%s" % (mode, extra, rc, err[-1500:]))
        else:
            count({"run": "incremental", "rebuild": "rebuilds", "rollback": "rollbacks"}[mode])
            if rc == 5:
                count("refused")
        time.sleep(rng.uniform(0, 0.2))


def killer_loop(rng):
    """SIGKILLs quired, a running quire-index or both at random moments; restarts quired."""
    while not stop.wait(rng.uniform(0.3, 2.0) * args.pace):
        what = rng.choice(["quired", "quired", "index", "index", "both"])
        graceful = what != "index" and rng.random() < args.graceful
        victim = None
        if what != "quired":
            # Wait (bounded) for a run to be under way, then kill it at a random moment.
            for _ in range(40):
                with lock:
                    victim = indexer_proc[0]
                if victim or stop.is_set():
                    break
                time.sleep(0.025)
            if not victim:
                continue
            time.sleep(rng.uniform(0, 0.15))
        with quired_lock:
            if what != "index" and graceful:
                stop_quired_gracefully()
            elif what != "index":
                kill_quired()
            if victim:
                try:
                    victim.send_signal(signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if graceful:  # counted in graceful_stops; a run of quire-index SIGKILLed beside
                if what == "both":
                    count("index_kills")
            else:
                count({"quired": "quired_kills", "index": "index_kills",
                       "both": "both_kills"}[what])
            if what != "index":
                time.sleep(rng.uniform(0, 0.2))
                if not restart_quired():
                    stop.set()
                    return


def watch_quired():
    """quired dies only when killed: an exit of its own is a failure (it is restarted)."""
    while not stop.wait(0.1):
        with quired_lock:
            p = quired_proc[0]
            if p.poll() is not None:
                problem("quired dies only when killed",
                        "exit status %s\n%s" % (p.returncode, quired_log()))
                kill_quired()
                if not restart_quired():
                    stop.set()


# ---- the clients --------------------------------------------------------------------------

JSON_ANY = "json"


def request_mix(rng):
    """One random request: (kind, method, path, body, headers, allowed statuses, format).
    No 503 is allowed: the index is always there and the connection cap far away, so a 503
    is a request failed where it should have been retried (a reader behind the writer
    reopens and retries)."""
    w = rng.choice(WORDS)
    x = rng.random()
    if x < 0.35:
        return ("search", "GET", "/search?q=%s&limit=%d" % (w, rng.choice([1, 10, 50])), None,
                {}, (200,), JSON_ANY)
    if x < 0.45:
        body = json.dumps({"q": "%s %s" % (w, rng.choice(WORDS)), "limit": 5,
                           "snippet": rng.random() < 0.5})
        return ("search", "POST", "/search", body, {"Content-Type": "application/json"},
                (200,), JSON_ANY)
    if x < 0.52:
        # Expensive: every word, OR-ed, many hits with snippets and facets.
        q = urllib.parse.quote(" OR ".join(WORDS))
        return ("expensive", "GET", "/search?q=%s&limit=100&facets=category,year" % q, None,
                {}, (200,), JSON_ANY)
    if x < 0.62:
        bad = rng.choice(["/search?q=x&limit=-3", "/search?q=x&offset=zz", "/search?limit=1",
                          "/search?q=%s&sort=sideways" % w])
        return ("invalid", "GET", bad, None, {}, (400,), JSON_ANY)
    if x < 0.66:
        return ("invalid", "POST", "/search", '{"q": ', {"Content-Type": "application/json"},
                (400,), JSON_ANY)
    if x < 0.80:
        ids = doc_ids()
        rid = rng.choice(ids) if ids else "none"
        return ("doc", "GET", "/doc/" + urllib.parse.quote(rid, safe=""), None, {},
                (200, 404), JSON_ANY)
    if x < 0.84:
        return ("health", "GET", "/health", None, {}, (200,), JSON_ANY)
    if x < 0.86:
        return ("complete", "GET", "/complete?q=%s" % w[:rng.randrange(1, 4)], None, {}, (200,),
                JSON_ANY)
    if x < 0.88:
        ids = doc_ids()
        rid = rng.choice(ids) if ids else "none"
        return ("similar", "GET", "/doc/%s/similar?limit=5" % urllib.parse.quote(rid, safe=""),
                None, {}, (200, 404), JSON_ANY)
    if x < 0.92:
        return ("metrics", "GET", "/metrics", None, {}, (200,), "prometheus")
    if x < 0.95:
        return ("unknown", "GET", "/nowhere/%s" % w, None, {}, (404,), JSON_ANY)
    return ("slow", "GET", "/search?q=%s" % w, None, {}, (200,), JSON_ANY)


def well_formed(fmt, ctype, body):
    if fmt == "prometheus":
        return ctype.startswith("text/plain") and b"quire_requests_total" in body
    if not ctype.startswith("application/json"):
        return False
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:
        return False


slow_started = {}            # client thread -> when its slow request connected


def slow_request(rng, path):
    """Sends a GET in pieces, pausing between them (well within the header timeout);
    returns (status, content type, body) like http.client."""
    raw = ("GET %s HTTP/1.1\r\nHost: crasher\r\nConnection: close\r\n\r\n" % path).encode()
    slow_started[threading.get_ident()] = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port[0]), timeout=15 * SLOW)
    try:
        cuts = sorted(rng.sample(range(1, len(raw)), 3))
        last = 0
        for c in cuts + [len(raw)]:
            s.sendall(raw[last:c])
            last = c
            time.sleep(rng.uniform(0.05, 0.3))
        resp = http.client.HTTPResponse(s)
        resp.begin()
        body = resp.read()
        return resp.status, resp.getheader("Content-Type", ""), body
    finally:
        s.close()


def client_loop(cid):
    rng = random.Random(seed * 1000 + cid)
    conn = None
    conn_epoch = 0           # the quired a kept-alive connection was opened to
    previous = None          # the request before on that connection
    answered_at = 0.0        # when it was answered (time.monotonic())
    while not stop.is_set():
        if not quired_up.wait(0.5):
            continue
        kind, method, path, body, headers, allowed, fmt = request_mix(rng)
        with lock:
            epoch = quired_epoch[0]
        count("requests")
        try:
            if kind == "slow":
                count("slow_clients")
                status, ctype, data = slow_request(rng, path)
            else:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port[0], timeout=15 * SLOW)
                    conn_epoch, previous = epoch, None
                idle = time.monotonic() - answered_at if previous else 0.0
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                status, ctype = r.status, r.getheader("Content-Type", "")
                previous = (method, path, status)
                answered_at = time.monotonic()
                if r.getheader("Connection", "").lower() == "close" or rng.random() < 0.2:
                    conn.close()
                    conn = None
        except (OSError, http.client.HTTPException) as e:
            with lock:
                cut = (epoch != quired_epoch[0] or not quired_up.is_set() or
                       (conn is not None and conn_epoch != epoch))
            if conn is not None:
                conn.close()
                conn = None
            took = time.monotonic() - slow_started.get(threading.get_ident(), 0)
            if cut:
                count("interrupted")
            elif kind != "slow" and previous and idle * 1000 >= IDLE_MS - 1000:
                count("idle_closed")  # closed by quired's idle timeout: allowed
            elif kind == "slow" and took * 1000 >= HEADER_MS - 500:
                count("header_closed")  # a starved slow client, past the header timeout
            else:
                count("dropped")
                p = quired_proc[0]
                where = ("a slow client's new connection, %.1f s after it connected" % took
                         if kind == "slow" else
                         "the request before on this connection: %s, answered %.1f s before"
                         % (previous, idle) if previous else "a new connection")
                problem("a live quired answers every request (no cut, refused or silent "
                        "connection)", "%s %s: %r (%s; quired %s)"
                        % (method, path, e, where,
                           "running" if p.poll() is None else "exited %s" % p.returncode))
            continue
        count("answers")
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            if status == 503 and not unavailable:
                unavailable.append("%s %s -> %r" % (method, path, data[:200]))
        if status not in allowed or not well_formed(fmt, ctype, data):
            count("malformed")
            problem("every answer is well formed with a status its request allows",
                    "%s %s -> %d %s: %r" % (method, path, status, ctype, data[:300]))


# ---- the end ------------------------------------------------------------------------------

def dump(db):
    return checks.dump(DUMP, db)


parse_dump = checks.parse_dump


def final_checks():
    rc, err = run_index([])
    ok(rc in (0, 1), "the last incremental run completes (exit 0 or 1)", "exit %s\n%s" % (rc, err))
    xapian_check("after the last run")
    scratch = os.path.join(WORK, "clean")
    shutil.rmtree(scratch, ignore_errors=True)
    crc, cerr = run_index_into(scratch)
    ok(crc in (0, 1), "a clean build of the final tree completes", "exit %s\n%s" % (crc, cerr))
    got_text, clean_text = dump(DB), dump(scratch)
    if not ok(got_text is not None and clean_text is not None, "both indexes open"):
        return 0, 0
    got, clean = parse_dump(got_text), parse_dump(clean_text)
    lost = sorted(set(clean) - set(got))
    extra = sorted(set(got) - set(clean))
    differ = sorted(k for k in set(clean) & set(got) if clean[k] != got[k])
    ok(not lost and not extra and not differ,
       "the index equals a clean build of the same tree (%d documents)" % len(clean),
       "lost %s\nextra %s\ndiffer %s" % (lost[:10], extra[:10],
                                         [(clean[k], got[k]) for k in differ[:5]]))
    # quired sees that commit (bounded wait), then serves every document of the clean build.
    if not quired_up.is_set() or quired_proc[0].poll() is not None:
        restart_quired()
    docs = None
    deadline = time.time() + 20 * SLOW
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port[0], timeout=5 * SLOW)
            c.request("GET", "/health")
            docs = json.loads(c.getresponse().read()).get("docs")
            c.close()
        except (OSError, http.client.HTTPException, ValueError):
            pass
        if docs == len(clean):
            break
        time.sleep(0.1)
    ok(docs == len(clean), "quired reports the final index's documents (%d)" % len(clean),
       "it reports %s" % docs)
    missing = []
    c = http.client.HTTPConnection("127.0.0.1", port[0], timeout=5 * SLOW)
    for rid, row in sorted(clean.items()):
        try:
            c.request("GET", "/doc/" + urllib.parse.quote(rid, safe=""))
            r = c.getresponse()
            doc = json.loads(r.read())
            if r.status != 200 or doc.get("title") != row[1]:
                missing.append((rid, r.status, doc.get("title"), row[1]))
        except (OSError, http.client.HTTPException, ValueError) as e:
            missing.append((rid, repr(e)))
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port[0], timeout=5 * SLOW)
    c.close()
    ok(not missing, "quired serves every document of the clean build, with its title",
       "%d not served: %s" % (len(missing), missing[:5]))
    return len(clean), len(set(lost) | {m[0] for m in missing})


def check_killed_logs():
    """Under valgrind: the logs of the SIGKILLed processes (and of the fork children of a
    killed quire-index that died with it) hold no summary; checks that memcheck reported
    no error in them before the kill, and moves them out of the logs tests/lib.sh judges."""
    if not VG_LOGS:
        return
    dest = os.path.join(WORK, "killed-logs")
    os.makedirs(dest, exist_ok=True)
    logs = [f for f in (os.path.join(VG_LOGS, "%s.%d.log" % k) for k in killed)
            if os.path.exists(f)]
    parents = {pid for prog, pid in killed if prog == "quire-index"}
    for f in glob.glob(os.path.join(VG_LOGS, "quire-index.*.log")):
        if f in logs:
            continue
        with open(f, errors="replace") as fh:
            text = fh.read()
        m = re.search(r"Parent PID: (\d+)", text)
        if m and int(m.group(1)) in parents and "ERROR SUMMARY" not in text:
            logs.append(f)
    errors = []
    for f in logs:
        e = vg_errors(f)
        if e:
            errors.append("%s:\n%s" % (os.path.basename(f), e))
        shutil.move(f, os.path.join(dest, os.path.basename(f)))
    ok(not errors, "memcheck: no error reported before the kill in the %d SIGKILLed "
       "processes (the logs of the others are judged by tests/lib.sh)" % len(logs),
       "\n".join(errors)[:6000])


def run_index_into(db):
    p = subprocess.run([INDEX, "-q", "--db", db, IN], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    return p.returncode, p.stderr.decode(errors="replace")


def main():
    os.makedirs(IN, exist_ok=True)
    for _ in range(30):
        change_tree()
    rc, err = run_index([])
    if not ok(rc in (0, 1), "the first build completes", "exit %s\n%s" % (rc, err)):
        return 1
    port[0] = free_port()
    if not ok(start_quired(), "quired starts", quired_log()):
        return 1
    t0 = time.time()
    threads = [threading.Thread(target=indexer_loop, args=(random.Random(seed + 1),)),
               threading.Thread(target=killer_loop, args=(random.Random(seed + 2),)),
               threading.Thread(target=watch_quired)]
    threads += [threading.Thread(target=client_loop, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    while time.time() - t0 < args.seconds and not stop.is_set():
        time.sleep(0.2)
        with lock:
            if problems:
                break      # the first failure ends the run early; its details are below
    stop.set()
    for t in threads:
        t.join()
    secs = time.time() - t0
    stops_in_run = stats["quired_kills"] + stats["both_kills"] + stats["graceful_stops"]
    p = quired_proc[0]
    if p.poll() is not None and not getattr(p, "stopped_by_us", False):
        # Died on its own as the run ended (a request it dropped may have ended the run).
        problem("quired dies only when killed",
                "exit status %s as the run ended\n%s" % (p.returncode, quired_log()))
    if not quired_up.is_set() or p.poll() is not None:
        restart_quired()
    ndocs, lost = final_checks()
    if quired_proc[0].poll() is None:
        stop_quired_gracefully()
    check_killed_logs()
    for kind in ("every answer is well formed with a status its request allows",
                 "a live quired answers every request (no cut, refused or silent connection)",
                 "quired dies only when killed",
                 "quired stops on SIGTERM with exit 0",
                 "quired came back serving after a restart",
                 "quire-index exits with a status its run allows",
                 "the live generation is clean by xapian-check after a killed run",
                 "quire-index finishes"):
        n, detail = problems.get(kind, [0, ""])
        ok(n == 0, kind, "%d times; the first: %s" % (n, detail))
    ok(stats["answers"] > 0 and stops_in_run > 0,
       "the run served requests and stopped quired (%d times)" % stops_in_run)
    print("# seed %d, %.0f s: %d kills of quired, %d of quire-index, %d of both, %d stops of "
          "quired by SIGTERM (the last one included); %d restarts; "
          "%d indexer runs (%d incremental, %d rebuilds, %d rollbacks, %d refused) over %d "
          "tree changes; %d xapian-checks; %d requests (%d slow clients): %d answered, %d cut "
          "by a kill, %d closed after %d s idle, %d slow ones closed at the %d s header timeout, "
          "%d dropped, %d malformed or of a wrong status; "
          "%d documents at the end, %d lost; answers by status: %s"
          % (seed, secs, stats["quired_kills"], stats["index_kills"], stats["both_kills"],
             stats["graceful_stops"], stats["restarts"], stats["runs"], stats["incremental"], stats["rebuilds"],
             stats["rollbacks"], stats["refused"], stats["changes"], stats["xapian_checks"],
             stats["requests"], stats["slow_clients"], stats["answers"], stats["interrupted"],
             stats["idle_closed"], IDLE_MS // 1000, stats["header_closed"], HEADER_MS // 1000,
             stats["dropped"], stats["malformed"], ndocs, lost,
             ", ".join("%d: %d" % kv for kv in sorted(statuses.items()))))
    if unavailable:
        print("# the first 503: %s" % unavailable[0])
    return tap.end(args.no_plan)


if __name__ == "__main__":
    sys.exit(main())
