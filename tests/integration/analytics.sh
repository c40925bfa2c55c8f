#!/bin/bash
# Query analytics against the real quired: GET /admin/queries and POST /admin/queries/reset
# compared with an exact count kept by the test, over seeded random query streams
# (QUIRE_SEED replays one; the seed is printed).
#
# Properties:
#   - only the admin token or an allowed Unix-socket peer reads or resets the counts; a
#     refused reset changes nothing;
#   - while the distinct queries fit the table, the report equals the model exactly: every
#     search answered with a first page counts once under its normalised text (case, white
#     space), through GET /search, POST /search and the search page alike; later pages,
#     refused requests and empty queries do not count; "zero_hits" counts exactly the
#     searches whose answer found nothing; "exact" is true;
#   - a reset answers the counts as they were and starts again from zero;
#   - past the table's capacity (a flood of distinct queries), "exact" is false, every
#     reported count is a bound (count_min <= true count <= count), every query searched
#     more often than searches / capacity is reported, and quired's memory stays bounded;
#   - `quire stats` prints the report (with the token file over TCP, or the Unix socket)
#     and --reset resets.
. "$(dirname "$0")/../lib.sh"

SEED=${QUIRE_SEED:-$(od -An -tu4 -N4 /dev/urandom | tr -d ' ')}
echo "# seed $SEED (QUIRE_SEED=$SEED replays this run)"

"$QUIRE_INDEX" -q --db "$T/db" "$SRC/corpus" || { not_ok "index corpus"; finish; }
TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '[quired]\nadmin_token = %s\n' "$TOKEN" >"$T/q.ini"
printf '%s\n' "$TOKEN" >"$T/token"
chmod 600 "$T/q.ini" "$T/token"
start_quired "$T/db" --config "$T/q.ini" --quiet || { not_ok "quired starts"; finish; }
AUTH="Authorization: Bearer $TOKEN"
# queries [CURL ARGS...]: GET /admin/queries?limit=1024 over TCP with the token.
queries() { curl -s -m $((10 * SLOW)) -H "$AUTH" "$@" "http://127.0.0.1:$PORT/admin/queries?limit=1024"; }

# --- who may read and reset ------------------------------------------------------------------
get '/search?q=muse' >/dev/null
check_eq "GET /admin/queries without credentials: 401" 401 "$(status GET /admin/queries)"
check_eq "GET /admin/queries with a wrong token: 403" 403 "$(status GET /admin/queries -H "Authorization: Bearer ${TOKEN}x")"
check_eq "POST /admin/queries/reset without credentials: 401" 401 "$(status POST /admin/queries/reset)"
check_eq "POST /admin/queries/reset with a wrong token: 403" 403 "$(status POST /admin/queries/reset -H "Authorization: Bearer ${TOKEN}x")"
check_eq "a refused reset changed nothing" "1 muse" "$(queries | jq -r '"\(.searches) \(.top[0].q)"')"
check_eq "the token: 200" 200 "$(status GET /admin/queries -H "$AUTH")"
check_eq "POST /admin/queries: 405" 405 "$(status POST /admin/queries -H "$AUTH")"
check_eq "GET /admin/queries/reset: 405" 405 "$(status GET /admin/queries/reset -H "$AUTH")"
check_eq "a bad limit: 400" 400 "$(status GET '/admin/queries?limit=0' -H "$AUTH")"
check_eq "an unknown parameter: 400" 400 "$(status GET '/admin/queries?top=3' -H "$AUTH")"
check_eq "over the Unix socket, the daemon's own uid: 200" 200 \
    "$(curl -s -m $((10 * SLOW)) -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://localhost/admin/queries)"
check_match "a refusal is logged" "admin: refused GET /admin/queries \(401\)" "$(cat "$LOG")"
check_eq "the reset by the token: 200" 200 "$(status POST /admin/queries/reset -H "$AUTH")"
check_eq "after it nothing is counted" "0 0 0" "$(queries | jq -r '"\(.searches) \(.top | length) \(.zero_hits | length)"')"

# --- the model ------------------------------------------------------------------------------------
# model.py MODE SEED PORT OUT: sends a seeded stream (MODE exact: about 300 distinct queries
# through every way of searching; flood: 3000 distinct ones, a few of them frequent), keeping
# the exact counts in OUT; model.py check OUT REPORT prints "PASS|what" or "FAIL|what|why".
cat >"$T/model.py" <<'PY'
import http.client, json, random, re, sys, urllib.parse

def norm(q):
    # analytics.c: lower case, runs of ASCII white space made one space, none at the ends.
    return " ".join(re.split(r"[ \t\n\r\f\v]+", q.lower())).strip()

def run(mode, seed, port, out):
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    counts, zero, sent = {}, {}, 0

    def send(method, path, body=None):
        conn.request(method, path, body=body,
                     headers={"Content-Type": "application/json"} if body else {})
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", "replace")

    def count(q, found_nothing):
        k = norm(q)
        if not k:
            return
        counts[k] = counts.get(k, 0) + 1
        if found_nothing:
            zero[k] = zero.get(k, 0) + 1

    real = ["muse", "spark", "meta", "open", "source", "strategy", "llama", "model", "company",
            "newsletter", "closed", "commercial", "Café", "ÜBER"]
    fake = ["zqv%dx" % i for i in range(40)]
    if mode == "exact":
        pool = []
        while len(pool) < 300:
            words = [rnd.choice(real if rnd.random() < 0.6 else fake) for _ in range(rnd.randint(1, 3))]
            pool.append(" ".join(words))
        pool = sorted(set(pool))
        n = 1500
    else:
        heavy = ["muse spark", "open source", "zqv1x"]
        pool = heavy + ["zq%dw%d" % (seed % 1000, i) for i in range(3000)]
        n = 6000

    def variant(q):
        # Case and white space change; what is counted does not.
        q = "".join(c.upper() if rnd.random() < 0.3 else c for c in q)
        if mode == "exact" and rnd.random() < 0.3:
            q = "  " + q.replace(" ", " \t ") + " "
        return q

    for i in range(n):
        if mode == "exact":
            q = pool[min(int(rnd.paretovariate(1.0)) - 1, len(pool) - 1)] if rnd.random() < 0.5 \
                else rnd.choice(pool)
        else:
            q = rnd.choice(pool[:3]) if rnd.random() < 0.25 else rnd.choice(pool[3:])
        qv = variant(q)
        kind = rnd.random() if mode == "exact" else 0.0
        enc = urllib.parse.quote(qv)
        sent += 1
        if kind < 0.4:
            st, body = send("GET", "/search?q=%s&limit=1&snippet=0" % enc)
            if st == 200:
                count(qv, json.loads(body)["total"]["estimated"] == 0)
        elif kind < 0.6:
            st, body = send("POST", "/search", json.dumps({"q": qv, "limit": 1}))
            if st == 200:
                count(qv, json.loads(body)["total"]["estimated"] == 0)
        elif kind < 0.8:
            st, body = send("GET", "/?q=%s" % enc)
            if st == 200:
                count(qv, 'id="count">No results' in body)
        elif kind < 0.9:
            send("GET", "/search?q=%s&offset=10&limit=1" % enc)  # a later page: not counted
            send("GET", "/?q=%s&page=2" % enc)
        elif kind < 0.95:
            send("GET", "/search?q=%s&limit=999999" % enc)  # refused: not counted
        else:
            send("GET", "/search?q=%%20%%20&limit=1")  # nothing to search: not counted
    json.dump({"counts": counts, "zero": zero, "sent": sent}, open(out, "w"))

def check(modelf, reportf, capacity_expected):
    m = json.load(open(modelf))
    rep = json.load(open(reportf))
    counts, zero = m["counts"], m["zero"]
    total = sum(counts.values())
    res = []
    def t(ok, what, why=""):
        res.append(("PASS|" + what) if ok else ("FAIL|%s|%s" % (what, why)))
    cap = rep["capacity"]
    t(cap == capacity_expected, "the table holds %d queries" % capacity_expected, str(cap))
    t(rep["searches"] == total, "searches counted: %d" % total, "report says %d" % rep["searches"])
    for name, model in (("top", counts), ("zero_hits", zero)):
        got = {e["q"]: e for e in rep[name]}
        if len(model) < cap:
            t(rep["exact"] is True, "%s: %d distinct queries fit: exact" % (name, len(model)))
            want = sorted(model.items(), key=lambda kv: (-kv[1], kv[0]))
            have = [(e["q"], e["count"]) for e in rep[name]]
            bad = [(q, c, got.get(q, {}).get("count")) for q, c in want if got.get(q, {}).get("count") != c]
            t(have == want, "%s: every count equals the model's (%d queries, %d searches)"
              % (name, len(want), sum(model.values())), "first differences %s" % bad[:5])
        else:
            t(rep["exact"] is False, "%s: %d distinct queries do not fit: not exact" % (name, len(model)))
            t(len(rep[name]) == cap, "%s: the report lists the whole table" % name, str(len(rep[name])))
            bad = [(q, e["count_min"], model.get(q, 0), e["count"]) for q, e in got.items()
                   if not e["count_min"] <= model.get(q, 0) <= e["count"]]
            t(not bad, "%s: count_min <= true count <= count for every reported query" % name,
              str(bad[:5]))
            n = sum(model.values())
            heavy = [q for q, c in model.items() if c > n / cap]
            missing = [q for q in heavy if q not in got]
            t(heavy and not missing, "%s: every query searched more than %d / %d times is reported (%d)"
              % (name, n, cap, len(heavy)), "missing %s" % missing[:5])
            counts_sorted = [e["count"] for e in rep[name]]
            t(counts_sorted == sorted(counts_sorted, reverse=True), "%s: most counted first" % name)
    print("\n".join(res))

if sys.argv[1] == "check":
    check(sys.argv[2], sys.argv[3], int(sys.argv[4]))
else:
    run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
PY
# tap_from FILE: turns model.py's PASS/FAIL lines into TAP checks.
tap_from() {
    while IFS='|' read -r verdict what why; do
        if [ "$verdict" = PASS ]; then ok "$what"; else not_ok "$what" "$why"; fi
    done <"$1"
}

# --- while the queries fit: exact ---------------------------------------------------------
if python3 "$T/model.py" exact "$SEED" "$PORT" "$T/exact.json"; then
    queries >"$T/report.json"
    python3 "$T/model.py" check "$T/exact.json" "$T/report.json" 1024 >"$T/verdict"
    tap_from "$T/verdict"
else
    not_ok "the exact stream was sent"
fi

# --- a reset answers the counts as they were --------------------------------------------------
curl -s -m $((10 * SLOW)) -X POST -H "$AUTH" "http://127.0.0.1:$PORT/admin/queries/reset?limit=1024" >"$T/reset.json"
check_eq "the reset answers reset: true" true "$(jq -r .reset "$T/reset.json")"
check_eq "the reset answers the counts as they were" \
    "$(jq -c '[.top, .zero_hits, .searches]' "$T/report.json")" "$(jq -c '[.top, .zero_hits, .searches]' "$T/reset.json")"
check_eq "after the reset: nothing counted, exact" "0 0 0 true" \
    "$(queries | jq -r '"\(.searches) \(.top | length) \(.zero_hits | length) \(.exact)"')"

# --- a flood of distinct queries: bounds, and bounded memory ----------------------------------
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$QPID/status"; }
before=$(rss)
if python3 "$T/model.py" flood "$SEED" "$PORT" "$T/flood.json"; then
    queries >"$T/report.json"
    python3 "$T/model.py" check "$T/flood.json" "$T/report.json" 1024 >"$T/verdict"
    tap_from "$T/verdict"
else
    not_ok "the flood was sent"
fi
after=$(rss)
echo "# quired VmRSS before the flood of 6000 searches (3003 distinct queries): ${before} kB, after: ${after} kB"
if [ "$SANITIZED" = 0 ] && [ "$UNDER_VALGRIND" = 0 ]; then
    # The tables are allocated whole at start (about 0.5 MB); the bound leaves room for
    # allocator noise, not for a table that grows with the queries.
    check "memory stays bounded under the flood (grew $((after - before)) kB, bound 16384 kB)" \
        test $((after - before)) -lt 16384
fi

# --- quire stats ----------------------------------------------------------------------------------
curl -s -m $((10 * SLOW)) -X POST -H "$AUTH" -o /dev/null "http://127.0.0.1:$PORT/admin/queries/reset"
for q in 'muse spark' 'Muse  Spark' muse zqv7x; do "$QUIRE" --connect "127.0.0.1:$PORT" search "$q" >/dev/null; done
out=$("$QUIRE" --connect "127.0.0.1:$PORT" --admin-token-file "$T/token" stats 2>&1); rc=$?
check_eq "quire stats with the token file: exit 0" 0 "$rc"
check_match "it says how many searches" "^4 searches since " "$out"
check_match "it lists the top queries, most counted first" "Top queries:
  2  muse spark
  1  muse" "$out"
check_match "and the queries that found nothing" "Queries that found nothing:
  1  zqv7x" "$out"
out=$("$QUIRE" --connect "127.0.0.1:$PORT" stats 2>&1); rc=$?
check_eq "quire stats over TCP without a token: exit 2" 2 "$rc"
check_match "it says what to give" "needs --admin-token-file FILE" "$out"
check_eq "quire stats over the Unix socket needs no token" 4 "$("$QUIRE" --socket "$SOCK" --json stats | jq -r .searches)"
check_eq "quire stats -n 1 shows one query a list" "1 1" "$("$QUIRE" --socket "$SOCK" --json stats -n 1 | jq -r '"\(.top | length) \(.zero_hits | length)"')"
out=$("$QUIRE" --socket "$SOCK" stats --reset); rc=$?
check_eq "quire stats --reset: exit 0" 0 "$rc"
check_match "it prints the counts it reset" "2  muse spark.*The counts were reset" "$(tr '\n' ' ' <<<"$out")"
check_eq "after it nothing is counted" 0 "$("$QUIRE" --socket "$SOCK" --json stats | jq -r .searches)"
out=$("$QUIRE" --db "$T/db" stats 2>&1); rc=$?
check_eq "quire --db stats is a usage error" "2 quire: stats needs quired (the counts are the daemon's), not --db (see quire --help)" "$rc $out"
out=$("$QUIRE" --socket "$SOCK" search --reset muse 2>&1); rc=$?
check_eq "--reset with search is a usage error" "2 quire: --reset applies to stats only (see quire --help)" "$rc $out"
printf 'bad token\n' >"$T/badtoken"
out=$("$QUIRE" --connect "127.0.0.1:$PORT" --admin-token-file "$T/badtoken" stats 2>&1); rc=$?
check_eq "a token file holding a space: exit 2" 2 "$rc"
check_match "it says why" "visible ASCII" "$out"
out=$("$QUIRE" --connect "127.0.0.1:$PORT" --admin-token-file "$T/nope" stats 2>&1); rc=$?
check_match "a missing token file is named" "cannot read the admin token file '$T/nope'" "$rc $out"

stop_quired
finish
