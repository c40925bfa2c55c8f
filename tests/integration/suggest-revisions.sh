#!/bin/bash
# A worker remembers term frequencies for the revision it reads (lib/termfreq.c); what it
# answers must not depend on that. Property, over a seeded random sequence of incremental
# runs (files of articles added and removed, so that words cross the frequency under which
# "did you mean" looks for a better spelling), a full --rebuild (a new generation, whose
# revisions start again) and a rollback: once quired serves the index's new revision, its
# "suggestion", "corrected_query" and total for every query equal those of a fresh quired
# that has remembered nothing. QUIRE_SEED=N replays a run.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
SEED=${QUIRE_SEED:-$(od -An -tu4 -N4 /dev/urandom | tr -d ' ')}
echo "# seed $SEED (QUIRE_SEED=$SEED replays this run)"
steps=14
[ "$UNDER_VALGRIND" = 1 ] && steps=5
mkdir -p "$T/in"

# gen.py add FILE N | queries: articles whose words are drawn from a small vocabulary, some
# of them near-spellings of others; the queries mix words and their misspellings.
cat >"$T/gen.py" <<'PY'
import json, random, sys
WORDS = ["harbour", "lantern", "meadow", "orchard", "granite", "velvet", "thunder",
         "copper", "marble", "saddle", "willow", "ember", "harbor", "lanterns", "medow",
         "orchid", "granit", "velvat", "thunders", "coppers"]
rnd = random.Random(int(sys.argv[1]))
if sys.argv[2] == "queries":
    for a in WORDS:
        print(a)
        print(a + " " + rnd.choice(WORDS))
    for w in ["harbur", "lantren", "meadw", "ochard", "grnite", "velvit", "tunder", "coper"]:
        print(w)
        print(w + " " + rnd.choice(WORDS[:12]))
else:
    path, n = sys.argv[3], int(sys.argv[4])
    with open(path, "w") as f:
        for i in range(n):
            k = rnd.randrange(2, 7)
            # Rarer words (the near-spellings) come up less often.
            words = [rnd.choice(WORDS[:12]) if rnd.random() < 0.8 else rnd.choice(WORDS[12:])
                     for _ in range(k)]
            title = " ".join(words[:2]).title()
            body = " ".join(words) + ". " + " ".join(rnd.choice(WORDS[:12]) for _ in range(3)) + "."
            f.write(json.dumps({"id": "%s-%d" % (path.rsplit("/", 1)[-1], i), "title": title,
                                "body": body}) + "\n")
PY
python3 "$T/gen.py" "$SEED" queries >"$T/queries"

# compare LABEL: waits (bounded) until quired serves the live generation at its last
# revision, then compares each query's answer with a fresh process's.
compare() {
    gen=$(awk '{print $2}' "$T/db/current")
    want="$gen $(xapian-delve "$T/db/$gen" | sed -n 's/^revision = //p')"
    served=""
    for _ in $(seq 1 $((100 * SLOW))); do
        served=$(get /health | jq -r '"\(.generation) \(.revision)"')
        [ "$served" = "$want" ] && break
        sleep 0.1
    done
    check_eq "$1: quired serves the index's last revision" "$want" "$served"
    # The fresh process: another quired, started for this comparison alone.
    keep_port=$PORT keep_pid=$QPID keep_log=$LOG
    start_quired "$T/db" --quiet || { not_ok "$1: a fresh quired starts"; return; }
    fresh_port=$PORT fresh_pid=$QPID
    out=$(python3 "$T/compare.py" "$keep_port" "$fresh_port" "$T/queries")
    kill "$fresh_pid"; wait "$fresh_pid" 2>/dev/null
    PORT=$keep_port QPID=$keep_pid LOG=$keep_log
    printf '%s\n' "$out" | grep '^#' | head -n 3
    check_eq "$1: quired answers every query as a fresh quired does" \
        "0 differ" "$(printf '%s\n' "$out" | tail -n1)"
}

cat >"$T/compare.py" <<'PY'
import http.client, json, sys, urllib.parse
a = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
b = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]), timeout=30)
def ask(conn, q):
    conn.request("GET", "/search?" + urllib.parse.urlencode(dict(q=q, limit=3, snippet=0)))
    r = conn.getresponse()
    j = json.loads(r.read())
    return [r.status, j.get("suggestion"), j.get("corrected_query"), j["total"]["estimated"]]
bad = 0
for q in open(sys.argv[3], encoding="utf-8").read().splitlines():
    x, y = ask(a, q), ask(b, q)
    if x != y:
        bad += 1
        print("# %r: quired %s, fresh %s" % (q, x, y))
print("%d differ" % bad)
PY

RANDOM=$SEED
files=0
python3 "$T/gen.py" "$SEED" add "$T/in/f0.jsonl" 8
"$QUIRE_INDEX" -q --db "$T/db" "$T/in" || { not_ok "the first build"; finish; }
start_quired "$T/db" --quiet --refresh-ms 50 || { not_ok "quired starts"; finish; }
compare "the first build"
for step in $(seq 1 "$steps"); do
    have=$(ls "$T/in" | wc -l)
    if [ "$have" -gt 1 ] && [ $((RANDOM % 3)) = 0 ]; then
        victim=$(ls "$T/in" | sed -n "$((RANDOM % have + 1))p")
        rm "$T/in/$victim"
        what="$victim removed"
    else
        files=$((files + 1))
        python3 "$T/gen.py" "$((SEED + step))" add "$T/in/f$files.jsonl" $((RANDOM % 6 + 1))
        what="f$files.jsonl added"
    fi
    "$QUIRE_INDEX" -q --db "$T/db" "$T/in" || not_ok "step $step: the incremental run"
    compare "step $step ($what)"
done
"$QUIRE_INDEX" -q --rebuild --db "$T/db" "$T/in" || not_ok "the rebuild"
compare "after a --rebuild"
"$QUIRE_INDEX" -q --rollback --db "$T/db" >/dev/null || not_ok "the rollback"
compare "after a rollback"
stop_quired
check_eq "SIGTERM: exits 0" 0 "$?"
finish
