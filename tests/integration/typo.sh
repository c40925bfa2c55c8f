#!/bin/bash
# Typo tolerance on bbc-news, through the real quired (GET and POST), the client and
# direct mode (quire --db).
#
# Property, over a seeded sample of titles (the seed is printed; QUIRE_SEED replays it):
# the query made of up to four words of a title, lower-cased --
#   - as it is, already matches (its article holds every word), so it is never corrected
#     nor given a "did you mean", whatever its words' spellings;
#   - with one random edit (a deletion, a substitution or a transposition of two letters)
#     in one word of five letters or more, is corrected back to the title's words in most
#     cases (the rate is printed and must stay over a floor measured on the index of the
#     time); when it is, the answer names the correction in "corrected_query" beside the
#     query as typed in "query", the article is among the hits, and fuzzy=0 searches the
#     query as typed (no "corrected_query"; the correction is offered as "suggestion").
# Plus the examples of the issue and the ways of asking.
. "$(dirname "$0")/../lib.sh"

BBC="$SHARED/corpora/bbc-news/docs.jsonl"
SEED=${QUIRE_SEED:-$(od -An -tu4 -N4 /dev/urandom | tr -d ' ')}
echo "# seed $SEED (QUIRE_SEED=$SEED replays this run)"
"$QUIRE_INDEX" -q --db "$T/bbc" "$BBC" || { not_ok "index bbc-news"; finish; }
start_quired "$T/bbc" --quiet || { not_ok "quired (bbc)"; finish; }

cat >"$T/typo.py" <<'PY'
import http.client, json, random, re, sys, urllib.parse

corpus, seed, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(seed)
docs = [json.loads(l) for l in open(corpus, encoding="utf-8")]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

def search(q, **params):
    qs = urllib.parse.urlencode(dict(q=q, limit=10, snippet=0, **params))
    conn.request("GET", "/search?" + qs)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit("HTTP %d for %r: %s" % (r.status, q, body[:200]))
    return json.loads(body)

def edit(w):
    kind = rnd.choice(["deletion", "substitution", "transposition"])
    i = rnd.randrange(len(w))
    if kind == "deletion":
        return w[:i] + w[i + 1:], kind
    if kind == "substitution":
        return w[:i] + rnd.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != w[i]]) + w[i + 1:], kind
    pairs = [j for j in range(len(w) - 1) if w[j] != w[j + 1]]
    j = rnd.choice(pairs)
    return w[:j] + w[j + 1] + w[j] + w[j + 2:], kind

# Titles of plain words only (no digits, apostrophes, hyphens), with a word of 5+ letters.
pool = []
for d in docs:
    words = d["title"].split()
    if 2 <= len(words) and all(re.fullmatch(r"[A-Za-z]+", w) for w in words) \
            and any(len(w) >= 5 for w in words):
        pool.append(d)
sample = rnd.sample(pool, n)
fails = []
matched_corrected = 0
right, found, off_ok, kinds = 0, 0, 0, {}
for d in sample:
    title = [w.lower() for w in d["title"].split()]
    # Up to four consecutive words around a word of five letters or more.
    k = rnd.choice([i for i, w in enumerate(title) if len(w) >= 5])
    start = rnd.randint(max(0, k - 3), k)
    words = title[start:start + 4]
    k -= start
    orig = " ".join(words)
    r = search(orig)
    orig_ids = [h["id"] for h in r["hits"]]
    if "corrected_query" in r or "suggestion" in r:
        matched_corrected += 1
        fails.append("matching query %r was corrected to %r or given the suggestion %r"
                     % (orig, r.get("corrected_query"), r.get("suggestion")))
    typo, kind = edit(words[k])
    q = " ".join(words[:k] + [typo] + words[k + 1:])
    r = search(q)
    ok = r.get("corrected_query") == orig and r.get("query") == q
    kinds.setdefault(kind, [0, 0])
    kinds[kind][1] += 1
    if ok:
        right += 1
        kinds[kind][0] += 1
        # The correction's matches come first, in the correction's own order; articles
        # holding only the words as typed may follow when the correction finds fewer than 10.
        if [h["id"] for h in r["hits"]][:len(orig_ids)] == orig_ids:
            found += 1
        else:
            fails.append("%r: its first hits differ from the hits of %r" % (q, orig))
        r0 = search(q, fuzzy=0)
        if "corrected_query" not in r0 and r0.get("suggestion"):
            off_ok += 1
        else:
            fails.append("fuzzy=0 for %r: %r" % (q, {k: r0.get(k) for k in ("suggestion", "corrected_query")}))
    else:
        print("# not corrected back: %r (%s of %r) -> %r" % (q, kind, orig, r.get("corrected_query")))
print(json.dumps({"n": n, "matched_corrected": matched_corrected, "right": right, "found": found,
                  "fuzzy_off_ok": off_ok, "kinds": kinds, "fails": fails[:10]}))
PY
N=200
python3 "$T/typo.py" "$BBC" "$SEED" "$PORT" "$N" >"$T/typo.out" 2>"$T/typo.err" || { not_ok "the sample ran" "$(tail -3 "$T/typo.err")"; finish; }
grep '^#' "$T/typo.out" | head -20
res=$(grep -v '^#' "$T/typo.out")
right=$(jq -r .right <<<"$res")
echo "# corrected back to the title's words: $right of $N ($(jq -r '.kinds | to_entries | map("\(.key) \(.value[0])/\(.value[1])") | join(", ")' <<<"$res"))"
check_eq "none of $N title queries that match as typed is corrected or given a suggestion" 0 "$(jq -r .matched_corrected <<<"$res")"
# Floor: 77-84% measured on this index and these rules (seed 2509890100: 167 of 200); the
# rest are edits closer to another word (or another form of it: "becomse" is "become")
# that goes with the rest, or rare words kept because the query finds a page as typed.
check "at least 70% of $N queries with one typo are corrected back ($right)" test "$right" -ge $((N * 70 / 100))
check_eq "every query corrected back starts with the hits of the query without the typo, in their order" "$right" "$(jq -r .found <<<"$res")"
check_eq "with fuzzy=0 none is corrected, and a suggestion is offered" "$right" "$(jq -r .fuzzy_off_ok <<<"$res")"
check_eq "no other failure" "[]" "$(jq -c .fails <<<"$res")"

# --- the issue's example, and the ways of asking -----------------------------------------
r=$(get '/search?q=goverment+minster&limit=10&snippet=0')
check_eq "goverment minster: corrected_query" "government minister" "$(jq -r .corrected_query <<<"$r")"
check_eq "goverment minster: query as typed" "goverment minster" "$(jq -r .query <<<"$r")"
check_eq "goverment minster finds the articles government minister finds, in its order" \
    "$(get '/search?q=government+minister&limit=10&snippet=0' | jq -c '[.hits[].id]')" "$(jq -c '[.hits[].id]' <<<"$r")"
r=$(get '/search?q=goverment+minster&fuzzy=0&limit=10&snippet=0')
check_eq "fuzzy=0: no corrected_query" null "$(jq -r .corrected_query <<<"$r")"
check_eq "fuzzy=0: the suggestion is still given" "government minister" "$(jq -r .suggestion <<<"$r")"
r=$(curl -s -m 10 -X POST -H 'Content-Type: application/json' -d '{"q": "goverment minster", "limit": 3}' "http://127.0.0.1:$PORT/search")
check_eq "POST: corrected_query" "government minister" "$(jq -r .corrected_query <<<"$r")"
r=$(curl -s -m 10 -X POST -H 'Content-Type: application/json' -d '{"q": "goverment minster", "fuzzy": false}' "http://127.0.0.1:$PORT/search")
check_eq "POST fuzzy false: none" null "$(jq -r .corrected_query <<<"$r")"
check_eq "fuzzy=2 is refused" 400 "$(status GET '/search?q=x&fuzzy=2')"
r=$(get '/search?q=Tony+Blare&limit=3&snippet=0')
check_eq "a capital typed stays in the correction" "Tony Blair" "$(jq -r .corrected_query <<<"$r")"
r=$(get '/search?q=election+-goverment&limit=3&snippet=0')
check_eq "an excluded word is not corrected" null "$(jq -r .corrected_query <<<"$r")"
r=$(get '/search?q=%22goverment+minster%22&limit=3&snippet=0')
check_eq "a phrase is corrected" '"government minister"' "$(jq -r .corrected_query <<<"$r")"
check "the corrected phrase finds articles" jq -e '.hits | length > 0' <<<"$r"
r=$(get '/search?q=goverment+minster&op=and&limit=10&snippet=0')
check "op=and: the corrected words are found together" jq -e '.total.estimated > 0 and .corrected_query == "government minister"' <<<"$r"

out=$("$QUIRE" --connect "127.0.0.1:$PORT" search -n 3 goverment minster); rc=$?
check_eq "the client: exit 0" 0 "$rc"
check_match "the client prints Showing results for" "^Showing results for government minister \(--fuzzy 0" "$out"
out=$("$QUIRE" --connect "127.0.0.1:$PORT" search --fuzzy 0 -n 3 goverment minster)
check_match "the client with --fuzzy 0 offers it instead" "^Did you mean: government minister\?" "$out"
out=$("$QUIRE" --db "$T/bbc" search -n 3 goverment minster)
check_match "direct mode prints Showing results for" "^Showing results for government minister" "$out"
check_eq "direct mode and the daemon correct alike" \
    "$(get '/search?q=goverment+minster&limit=5&snippet=0' | jq -c '[.corrected_query, [.hits[].id]]')" \
    "$("$QUIRE" --db "$T/bbc" --json search -n 5 --no-snippet goverment minster | jq -c '[.corrected_query, [.hits[].id]]')"
stop_quired
finish
