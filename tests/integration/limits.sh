#!/bin/bash
# Regression tests for quired's connection limits (issue 14), one per defect, measured
# from outside the real daemon:
#   - 60 connections that send one header line, against --max-connections 10: none still
#     open past the header timeout, a real request answered at once (200, or 503 with
#     Retry-After); the high-water mark never above the cap;
#   - the cap is global: with 4 workers and 7 of 8 places taken, a request is served;
#   - a half-sent second request on a keep-alive connection gets the header timeout, not
#     the idle timeout;
#   - bodies: a declared 10x body gets a JSON 413 before it is read, and the connection is
#     closed (also with Expect: 100-continue, and without a 100 first); chunked 10x bodies
#     on many connections at once get JSON 413s and keep the peak RSS within the README's
#     bound;
#   - a burst of 5000 connection attempts (the test raises its file limit): the high-water
#     mark stays at the cap, and the daemon answers afterwards;
#   - a response that cannot be built is a 500 JSON error (json_dumps made to fail by an
#     LD_PRELOAD shim), never its status with an empty body;
#   - responses are bounded by max_response: an article over it is a 500 JSON error, and
#     clients holding large answers unread keep the peak RSS within the README's bound;
#   - a reload applies the connection settings and says exactly what changed and what
#     needs a restart;
#   - with access_log = json every stderr line is JSON; 401 and 403 of /admin/reload are
#     labelled in /metrics.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
"$QUIRE_INDEX" -q --db "$T/db" "$SRC/corpus" || { not_ok "index corpus"; finish; }
metric() { get /metrics | sed -n "s/^$1 //p"; }

# --- 60 tricklers against a cap of 10 (the issue's measurement) -----------------------------
start_quired "$T/db" --quiet --threads 2 --max-connections 10 --header-timeout-ms 2000 ||
    { not_ok "quired (cap 10) starts"; finish; }
out=$(python3 - "$PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(60):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /search?q=muse HTTP/1.1\r\n")
    socks.append(s)
time.sleep(0.3)
t0 = time.time()
c = socket.create_connection(("127.0.0.1", port)); c.settimeout(10)
c.sendall(b"GET /search?q=muse HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
try:
    while True:
        k = c.recv(65536)
        if not k: break
        data += k
except OSError as e:
    data += b" ERROR " + str(e).encode()
status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/1.1 ") else "none"
retry = b"\r\nretry-after:" in data.lower()
print("real", status, "retry" if retry else "noretry", "%.0f" % ((time.time() - t0) * 1000))
time.sleep(3.5)
still = 0
for s in socks:
    s.setblocking(False)
    try:
        while True:
            k = s.recv(65536)
            if not k: break
    except BlockingIOError:
        still += 1
    except OSError:
        pass
print("open", still)
PY
)
echo "# $out"
real=$(sed -n 's/^real \([0-9a-z]*\) \([a-z]*\) .*/\1 \2/p' <<<"$out")
case "$real" in "200 "* | "503 retry") ok "a real request among 60 tricklers is answered ($real)" ;;
*) not_ok "a real request among 60 tricklers is answered" "$out" ;; esac
check_eq "3.8 s later none of the 60 tricklers is still open (header timeout 2 s)" "open 0" "$(grep '^open' <<<"$out")"
hw=$(metric quire_connections_high_water)
check "the high-water mark never passed the cap of 10 ($hw)" test "${hw:-99}" -le 10
check_match "the refused ones are counted" '^[1-9][0-9]*$' "$(metric quire_connections_refused_total)"
check_match "the tricklers closed at their deadline are counted" '^[1-9][0-9]*$' "$(metric quire_connections_timed_out_total)"
stop_quired

# --- one cap for all workers ---------------------------------------------------------------
start_quired "$T/db" --quiet --threads 4 --max-connections 8 || { not_ok "quired (4 workers, cap 8) starts"; finish; }
out=$(python3 - "$PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(7)]
time.sleep(0.2)
codes = []
for i in range(10):
    c = socket.create_connection(("127.0.0.1", port)); c.settimeout(10)
    c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    codes.append(c.recv(64).split(b" ")[1].decode())
    c.close()
    time.sleep(0.05)
extra = [socket.create_connection(("127.0.0.1", port))]
time.sleep(0.2)
c = socket.create_connection(("127.0.0.1", port)); c.settimeout(10)
c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
print(" ".join(codes), "full:", c.recv(64).split(b" ")[1].decode())
PY
)
check_eq "4 workers, 7 of 8 places held: 10 requests in a row are served" "200 200 200 200 200 200 200 200 200 200" "${out% full:*}"
check_eq "...and with all 8 held the next one is refused" 503 "${out##*full: }"
stop_quired

# --- a half-sent second request on a keep-alive connection -----------------------------------
start_quired "$T/db" --quiet --header-timeout-ms 1000 --idle-timeout-ms 20000 || { not_ok "quired (header 1 s, idle 20 s) starts"; finish; }
out=$(python3 - "$PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(15)
s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.3)
first = s.recv(65536)
s.sendall(b"GET /search?q=mu")
t0 = time.time()
try:
    while s.recv(65536):
        pass
    how = "closed"
except socket.timeout:
    how = "open"
except OSError:
    how = "closed"
print(first.split(b" ")[1].decode(), how, "%.1f" % (time.time() - t0))
PY
)
echo "# $out"
read -r first how secs <<<"$out"
check_eq "the first request on the connection is answered" 200 "$first"
check "the half-sent second request is cut at the header timeout (1 s), not the idle one (20 s): ${secs}s" \
    awk -v h="$how" -v s="$secs" 'BEGIN { exit !(h == "closed" && s < 5) }'
stop_quired

# --- bodies ----------------------------------------------------------------------------------
MAX_BODY=1048576 CAP=20 THREADS=2 MAX_RESPONSE=262144
start_quired "$T/db" --quiet --threads $THREADS --max-connections $CAP --max-body $MAX_BODY \
    --max-response $MAX_RESPONSE --body-min-rate 1048576 --header-timeout-ms 3000 ||
    { not_ok "quired (1 MiB bodies) starts"; finish; }
for q in muse spark revenue; do get "/search?q=$q" >/dev/null; done
idle=$(awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$QPID/status")
# The README's bound; the largest article here is the corpus's, a few KB (none counted).
bound=$((idle + CAP * (MAX_BODY + 262144 + MAX_RESPONSE) + THREADS * (3 * MAX_BODY + 8388608)))
out=$(python3 - "$PORT" "$MAX_BODY" "$CAP" <<'PY'
import json, socket, sys, threading
port, max_body, cap = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
results = []
def json413(data):
    """'413' for a whole JSON 413 answer (code body_too_large, naming the limit), else
    what came."""
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        err = json.loads(body)["error"]
        ok = (head.startswith(b"HTTP/1.1 413 ") and b"Content-Type: application/json" in head
              and err["code"] == "body_too_large" and str(max_body) in err["message"])
    except (ValueError, KeyError, TypeError):
        ok = False
    return "413" if ok else "other:" + head.split(b"\r\n")[0].decode(errors="replace").replace(" ", "_")
def read_all(s):
    # Until the close; a reset after some answer still gives what came before it.
    data = b""
    while True:
        try:
            k = s.recv(65536)
        except OSError:
            if data:
                return data
            raise
        if not k:
            return data
        data += k
def chunked():
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(20)
    try:
        s.sendall(b"POST /search HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n" % 65536 + b"a" * 65536 + b"\r\n"
        try:
            for i in range(10 * max_body // 65536):
                s.sendall(chunk)
            s.sendall(b"0\r\n\r\n")
        except OSError:
            # The answer came and the lingering close ended while this client, slowed by a
            # loaded machine, was still sending: what it received still counts.
            pass
        results.append(json413(read_all(s)))
    except OSError:
        results.append("closed")
def declared(expect):
    # Only the header is sent: the answer comes before the body, and then the close.
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(20)
    s.sendall(b"POST /search HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n"
              % (b"Expect: 100-continue\r\n" if expect else b"", 10 * max_body))
    try:
        results.append(("continue " if expect else "declared ") + json413(read_all(s)))
    except OSError as e:
        results.append("declared error")
ts = [threading.Thread(target=chunked) for _ in range(cap - 3)]
ts += [threading.Thread(target=declared, args=(e,)) for e in (False, True)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join(sorted(results)))
PY
)
peak=$(awk '/^VmHWM:/ {print $2 * 1024}' "/proc/$QPID/status")
echo "# $out"
check_match "a body declared 10x max_body gets a JSON 413 before it is sent, then the close" \
    "declared 413( |$)" "$out"
check_match "...with Expect: 100-continue too (the 413 alone, no 100 first)" "continue 413( |$)" "$out"
check_eq "17 chunked bodies of 10x max_body at once: each answered with a JSON 413" 17 \
    "$(sed 's/\(declared\|continue\) [^ ]*//g' <<<"$out" | tr ' ' '\n' | grep -c '^413$')"
if [ "$SANITIZED" = 1 ]; then
    ok "# SKIP peak RSS not checked: a sanitizer build's memory use is not the plain one"
else
    check "...and the peak RSS ($((peak / 1048576)) MiB) stays within the bound $((bound / 1048576)) MiB (idle $((idle / 1048576)) MiB)" \
        test "$peak" -le "$bound"
fi
check_eq "the daemon answers after the bodies" 200 "$(status GET '/search?q=muse')"
check_eq "/metrics counts the 19 answers 413 given before a request is dispatched" 19 \
    "$(metric 'quire_requests_total{endpoint="other",status="413"}')"
exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'BLAH\r\n\r\n' >&3 && timeout 5 cat <&3 >/dev/null
exec 3<&-
check_match "...and its 400 for a request that does not parse" '^[1-9]' \
    "$(metric 'quire_requests_total{endpoint="other",status="400"}')"
stop_quired

# --- large responses held by clients that do not read them --------------------------------
# Articles of 700 KB and 3 MB; max_response 1 MiB. CAP-2 clients ask for the 700 KB one and
# read nothing (the response waits in quired's buffers until its deadline), two ask for the
# 3 MB one. The peak RSS stays within the README's bound, the 3 MB one is a 500 JSON error.
MAX_RESPONSE=1048576 CAP=20 THREADS=2 MAX_BODY=65536
mkdir -p "$T/big"
python3 - "$T/big" <<'PY'
import random, sys
rng = random.Random(14)
words = [("w%d" % i) for i in range(5000)]
for name, size in (("big", 700_000), ("huge", 3_000_000)):
    out, n = [], 0
    while n < size:
        w = rng.choice(words); out.append(w); n += len(w) + 1
    open(f"{sys.argv[1]}/{name}.txt", "w").write(name + " article\n\n" + " ".join(out) + "\n")
PY
largest=$(stat -c %s "$T/big/huge.txt")
"$QUIRE_INDEX" -q --db "$T/bigdb" "$T/big" || { not_ok "index the large articles"; finish; }
start_quired "$T/bigdb" --quiet --threads $THREADS --max-connections $CAP --max-response $MAX_RESPONSE \
    --body-min-rate 1048576 --header-timeout-ms 3000 || { not_ok "quired (large responses) starts"; finish; }
get "/search?q=article" >/dev/null
idle=$(awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$QPID/status")
bound=$((idle + CAP * (MAX_BODY + 262144 + MAX_RESPONSE) + THREADS * (3 * MAX_BODY + 8388608 + 2 * largest)))
out=$(python3 - "$PORT" "$CAP" <<'PY'
import json, socket, sys, threading, time
port, cap = int(sys.argv[1]), int(sys.argv[2])
held, results = [], []
def ask(doc, read):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port)); s.settimeout(20)
    s.sendall(b"GET /doc/%s HTTP/1.1\r\nHost: x\r\n\r\n" % doc)
    if not read:
        held.append(s)
        return
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < int(
            data.partition(b"Content-Length: ")[2].split(b"\r\n")[0] or 0):
        k = s.recv(65536)
        if not k:
            break
        data += k
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        code = json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = "not-json"
    results.append(head.split(b" ")[1].decode() + ":" + code)
ts = [threading.Thread(target=ask, args=(b"big.txt", False)) for _ in range(cap - 2)]
ts += [threading.Thread(target=ask, args=(b"huge.txt", True)) for _ in range(2)]
for t in ts: t.start()
for t in ts: t.join()
time.sleep(1.0)  # the held responses sit in quired's buffers
print(" ".join(sorted(results)), len(held))
PY
)
peak=$(awk '/^VmHWM:/ {print $2 * 1024}' "/proc/$QPID/status")
echo "# $out"
check_eq "an article over max_response: 500 response_too_large (twice), while 18 clients hold 700 KB answers" \
    "500:response_too_large 500:response_too_large 18" "$out"
if [ "$SANITIZED" = 1 ]; then
    ok "# SKIP peak RSS not checked: a sanitizer build's memory use is not the plain one"
else
    check "...and the peak RSS ($((peak / 1048576)) MiB) stays within the bound $((bound / 1048576)) MiB (idle $((idle / 1048576)) MiB)" \
        test "$peak" -le "$bound"
fi
check_eq "the 700 KB article is served whole to a client that reads it" true \
    "$(get /doc/big.txt | jq -r '(.text | length) >= 699000' 2>/dev/null)"
stop_quired

# --- a burst of 5000 connection attempts ------------------------------------------------------
start_quired "$T/db" --quiet --threads 2 --max-connections 50 --header-timeout-ms 2000 ||
    { not_ok "quired (burst) starts"; finish; }
out=$(python3 - "$PORT" <<'PY'
import resource, socket, sys, time, errno
port = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
n = min(5000, hard - 100)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 100), hard))
socks = []
for i in range(n):
    s = socket.socket(); s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    except OSError:
        s.close(); continue
    socks.append(s)
time.sleep(1.0)
got503 = 0
for s in socks:
    try:
        if s.recv(64).startswith(b"HTTP/1.1 503"): got503 += 1
    except OSError:
        pass
for s in socks: s.close()
print(n, got503)
PY
)
read -r tried refused <<<"$out"
echo "# $tried attempts, $refused answered 503 at once"
hw=""
for _ in $(seq 1 50); do hw=$(metric quire_connections_high_water); [ -n "$hw" ] && break; sleep 0.2; done
check "a burst of $tried connection attempts: the high-water mark stays at the cap 50 ($hw)" test "${hw:-999}" -le 50
check "...and the ones past the cap got a 503 ($refused)" test "${refused:-0}" -gt 0
check_eq "...and afterwards the daemon answers" ok "$(get /health | jq -r .status)"
stop_quired

# --- a response that cannot be built ------------------------------------------------------------
SHIM="$BUILD/tests/unit/.libs/libfailjson.so"
if [ -f "$SHIM" ] && [ "$UNDER_VALGRIND" = 0 ] && [ "$SANITIZED" = 0 ]; then
    export QUIRE_FAIL_JSON="$T/fail-json"
    LD_PRELOAD="$SHIM" start_quired "$T/db" --quiet || { not_ok "quired (json shim) starts"; finish; }
    touch "$QUIRE_FAIL_JSON"
    code=$(curl -s -m 10 -o "$T/out" -w '%{http_code}' "http://127.0.0.1:$PORT/search?q=muse")
    check_eq "JSON that cannot be written: a search answers 500, not 200 with nothing" 500 "$code"
    check_eq "...with the prepared JSON error" internal "$(jq -r .error.code "$T/out")"
    check_eq "an error whose JSON cannot be built: 500 too" 500 "$(status GET /nope)"
    rm -f "$QUIRE_FAIL_JSON"
    check_eq "JSON written again: 200" 200 "$(status GET '/search?q=muse')"
    stop_quired
    unset QUIRE_FAIL_JSON
else
    ok "# SKIP the JSON-failing shim is not built, or cannot be preloaded (valgrind, sanitizers)"
fi

# --- reload applies the connection settings, and says what changed --------------------------
TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '[quired]\nadmin_token = %s\nmax_connections = 50\naccess_log = json\n' "$TOKEN" >"$T/r.ini"
chmod 600 "$T/r.ini"
start_quired "$T/db" --config "$T/r.ini" || { not_ok "quired (reload) starts"; finish; }
admin() { curl -s -m 10 -o "$T/body" -w '%{http_code}' -X POST "$@" "http://127.0.0.1:$PORT/admin/reload"; }
check_eq "/admin/reload without credentials: 401" 401 "$(admin)"
check_eq "/admin/reload with a wrong token: 403" 403 "$(admin -H "Authorization: Bearer x${TOKEN}")"
m=$(get /metrics)
check_match "/metrics labels the 401 of /admin/reload" 'quire_requests_total\{endpoint="admin",status="401"\} 1' "$m"
check_match "/metrics labels the 403 of /admin/reload" 'quire_requests_total\{endpoint="admin",status="403"\} 1' "$m"
check_eq "the cap before the reload" 50 "$(metric quire_connections_max)"
printf '[quired]\nadmin_token = %s\nmax_connections = 5\naccess_log = json\nheader_timeout_ms = 700\nidle_timeout_ms = 900\nmax_body = 100\nrefresh_ms = 100\nshard_timeout_ms = 300\nallow_partial = true\nsocket_mode = 0600\n' "$TOKEN" >"$T/r.ini"
check_eq "reload with the token: 200" 200 "$(admin -H "Authorization: Bearer $TOKEN")"
check_eq "the answer lists exactly what changed" \
    '["max_connections","header_timeout_ms","idle_timeout_ms","max_body","refresh_ms","shard_timeout_ms","allow_partial"]' \
    "$(jq -c .changed "$T/body")"
check_eq "...and what needs a restart" '["socket_mode"]' "$(jq -c .needs_restart "$T/body")"
reload_line=$(grep '"event":"reload"' "$LOG" | tail -n 1)
check_eq "the log line of the reload lists them too, as arrays like the answer's" \
    "$(jq -c '[.changed, .needs_restart]' "$T/body")" "$(jq -c '[.changed, .needs_restart]' <<<"$reload_line" 2>&1)"
check_eq "the new cap is in force" 5 "$(metric quire_connections_max)"
code=$(curl -s -m 10 -o "$T/out" -w '%{http_code}' --data-binary "$(head -c 200 /dev/zero | tr '\0' ' ')" "http://127.0.0.1:$PORT/search")
check_eq "the new max_body is in force (200 bytes: 413)" 413 "$code"
out=$(python3 - "$PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
time.sleep(0.2)
c = socket.create_connection(("127.0.0.1", port)); c.settimeout(5)
c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
over = c.recv(64).split(b" ")[1].decode()
t0 = time.time()
for s in held:
    s.settimeout(10)
    try:
        while s.recv(4096): pass
    except OSError: pass
print(over, "%.1f" % (time.time() - t0))
PY
)
read -r over secs <<<"$out"
check_eq "the sixth connection is refused under the new cap" 503 "$over"
check "...and idle connections close at the new header timeout (0.7 s): ${secs}s" awk -v s="$secs" 'BEGIN { exit !(s < 3) }'
kill -HUP "$QPID"
sleep 0.5
bad=$(while IFS= read -r line; do jq -e 'type == "object"' >/dev/null 2>&1 <<<"$line" || echo "$line"; done <"$LOG")
check_eq "access_log = json: every line on stderr is a JSON object ($(wc -l <"$LOG") lines)" "" "$bad"
stop_quired
bad=$(while IFS= read -r line; do jq -e 'type == "object"' >/dev/null 2>&1 <<<"$line" || echo "$line"; done <"$LOG")
check_eq "...including the lines of SIGHUP and of stopping" "" "$bad"

finish
