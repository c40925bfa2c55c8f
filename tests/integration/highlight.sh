#!/bin/bash
# Complete highlighting on real corpora, through the real programs.
#
# Property (highlight-check.c): for queries of 1 to 3 plain words drawn from bbc-news and
# reuters-21578 titles with a seeded RNG, every word of every snippet and marked title
# whose Xapian stem is a query word's stem is marked, and no other word is; the oracle is
# TermGenerator and Xapian's stemmer. And for NEAR/n and ADJ/n queries of 2 or 3 words
# standing close in those titles: a word is marked exactly where it takes part in a match of
# the operator (within Xapian's window, in order for ADJ), at its place in the whole article,
# found by trying every window; each hit has such a match. Then regressions seen by users: "tony blare" suggests
# "tony blair", snippet_bytes over GET, a JSON body and the CLI, title_marked (also as a
# fields= name).
. "$(dirname "$0")/../lib.sh"

BBC="$SHARED/corpora/bbc-news/docs.jsonl"
REUTERS="$SHARED/corpora/reuters-21578/docs.jsonl"
SEED=${QUIRE_TEST_SEED:-$(date +%s)}
echo "# seed $SEED (QUIRE_TEST_SEED=$SEED replays)"
"$QUIRE_INDEX" -q --db "$T/bbc" "$BBC" || { not_ok "index bbc-news"; finish; }
"$QUIRE_INDEX" -q --db "$T/reu" "$REUTERS" || { not_ok "index reuters"; finish; }

# Queries of plain words and of NEAR/ADJ per corpus; fewer under the sanitizers, which
# check memory on the same code paths (the plain pass checks the full count).
nplain=300 nnear=500
[ "$SANITIZED" = 1 ] && nplain=100 nnear=150
for c in bbc:"$BBC" reu:"$REUTERS"; do
    db=${c%%:*}
    out=$("$BUILD/tests/integration/highlight-check" "$T/$db" "${c#*:}" "$SEED" "$nplain" "$nnear")
    rc=$?
    echo "$out"
    check "$db: every word with a query word's stem is marked, no other; NEAR/ADJ words where they match (seed $SEED)" test "$rc" = 0
done

# "tony blare": Blair is everywhere on bbc-news; Xapian alone suggests "blame".
r=$("$QUIRE" --db "$T/bbc" search --json -n 1 'tony blare')
check_eq "tony blare suggests tony blair" "tony blair" "$(jq -r .suggestion <<<"$r")"
r=$("$QUIRE" --db "$T/bbc" search --json -n 1 'Tony Blare')
check_eq "a capital typed stays in the suggestion" "Tony Blair" "$(jq -r .suggestion <<<"$r")"
r=$("$QUIRE" --db "$T/bbc" search --json -n 1 'tony blair')
check "a well-spelt query gets no suggestion" jq -e 'has("suggestion") | not' <<<"$r"

# snippet_bytes: the window's length, over GET, a JSON body and the CLI.
start_quired "$T/bbc" --quiet || { not_ok "quired (bbc)"; finish; }
len() { jq '[.hits[].snippet | length] | max' <<<"$1"; }
short=$(get '/search?q=bank&snippet_bytes=60')
long=$(get '/search?q=bank&snippet_bytes=800')
check "snippet_bytes=60 gives short snippets" test "$(len "$short")" -le 120
check "snippet_bytes=800 gives long snippets" test "$(len "$long")" -ge 500
body=$(curl -s -m $((10 * SLOW)) -d '{"q": "bank", "snippet_bytes": 60}' "http://127.0.0.1:$PORT/search")
check_eq "a JSON body takes snippet_bytes" "$(len "$short")" "$(len "$body")"
cli=$("$QUIRE" --db "$T/bbc" search --json --snippet-bytes 60 bank)
check_eq "the CLI takes --snippet-bytes" "$(len "$short")" "$(len "$cli")"
r=$(status GET '/search?q=bank&snippet_bytes=20')
check_eq "snippet_bytes below 50 is a 400" 400 "$r"
r=$(status GET '/search?q=bank&snippet_bytes=1001')
check_eq "snippet_bytes above 1000 is a 400" 400 "$r"

# title_marked: the title with the same marks, only when the title matches.
r=$(get '/search?q=bank&limit=20')
check "title_marked marks the query's words in titles" jq -e '[.hits[] | select(has("title_marked"))] | length > 0 and all(.title_marked | test("<b>(?i:bank)"))' <<<"$r"
check "title_marked only when the title matches" jq -e '[.hits[] | select(has("title_marked") | not) | .title | test("(?i:\\bbank)") | not] | all' <<<"$r"
r=$(get '/search?q=bank&snippet=0')
check "snippet=0 leaves title_marked out too" jq -e '[.hits[] | has("title_marked") | not] | all' <<<"$r"
r=$(get '/search?q=bank&limit=20&fields=title_marked')
check "fields=title_marked: marked titles without snippets" jq -e '([.hits[] | has("snippet") | not] | all) and ([.hits[] | select(has("title_marked"))] | length > 0)' <<<"$r"
r=$(get '/search?q=bank&limit=20&fields=snippet')
check "fields=snippet: snippets without title_marked" jq -e '([.hits[] | has("title_marked") | not] | all) and ([.hits[] | has("snippet")] | all)' <<<"$r"
finish
