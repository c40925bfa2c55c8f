#!/bin/bash
# What a query means, checked as properties over whole real corpora (bbc-news and
# reuters-21578) through the real daemon, plus the client's view of the same answers:
#   - case: the capitalised, upper-case (Reuters titles are all capitals) and lower-case
#     forms of queries made from corpus titles (a seeded random draw; the seed is printed)
#     give identical hits;
#   - negation: a query of excluded terms only (-t, NOT t, -t -u) finds exactly the
#     articles without them: its exact count plus the count of the terms is every article;
#   - exact totals: with exact=1 the total equals the number of ids met paging through
#     every result; without it, an estimate is never below the hits already returned;
#   - similar articles: never the article itself nor a copy of its text (bbc-news has 98
#     pairs of identical bodies), paging and parameters as documented;
#   - result shaping: fields=, facet_limit, numbers at a sensible precision.
# SEMANTICS_SEED fixes the draw; SEMANTICS_QUERIES sets how many titles per corpus.
. "$(dirname "$0")/../lib.sh"

SEED=${SEMANTICS_SEED:-$(date +%s)}
NQ=${SEMANTICS_QUERIES:-30}
echo "# seed $SEED, $NQ titles per corpus (rerun with SEMANTICS_SEED=$SEED)"
RANDOM=$SEED # seeds the offsets drawn below

BBC="$SHARED/corpora/bbc-news/docs.jsonl"
REUTERS="$SHARED/corpora/reuters-21578/docs.jsonl"
"$QUIRE_INDEX" -q --db "$T/bbc" "$BBC" || { not_ok "index bbc-news"; finish; }
# No spelling data: not needed here, and indexing the 21578 articles is faster without.
"$QUIRE_INDEX" -q --no-spelling --db "$T/reu" "$REUTERS" || { not_ok "index reuters"; finish; }

# uri TEXT: TEXT percent-encoded for a path.
uri() { jq -rn --arg t "$1" '$t | @uri'; }
# search QUERY PARAMS: GET /search?PARAMS with q=QUERY percent-encoded by curl.
search() { curl -s -m $((20 * SLOW)) -G --data-urlencode "q=$1" "http://127.0.0.1:$PORT/search?$2"; }
# hits_of QUERY: the ids of the first 30 hits, one line ("null" when the search failed).
hits_of() { search "$1" 'limit=30&snippet=0' | jq -c '[.hits[].id]'; }
# exact_total QUERY: the exact number of articles the query matches as typed (no collapsing,
# no typo correction: a word drawn from a title can be rare enough to be corrected, and
# the count would then include its correction's articles).
exact_total() { search "$1" 'limit=0&exact=1&dedup=0&fuzzy=0' | jq -r '.total.estimated'; }
# shown_without QUERY EXPR: a complaint for each of QUERY's first hits that matches EXPR
# (query syntax), nothing when none does.
shown_without() {
    local id
    for id in $(search "$1" 'limit=3&snippet=0' | jq -r '.hits[].id'); do
        [ "$(exact_total "id:\"$id\" AND ($2)")" = 0 ] ||
            printf '[%s] returned %s, which has %s; ' "$1" "$id" "$2"
    done
}
# draw FILE N SALT: N titles of FILE drawn at random (seeded), one per line.
draw() {
    jq -r '.title' "$1" | awk -v n="$2" -v seed="$SEED" -v salt="$3" '
        BEGIN { srand(seed + salt) } { t[NR] = $0 }
        END { for (i = 0; i < n; i++) print t[int(rand() * NR) + 1] }'
}
# words TITLE: up to 4 of its words (letters and digits), operators left out.
words() {
    printf '%s\n' "$1" | tr -c 'A-Za-z0-9\n' ' ' | tr -s ' ' '\n' | grep -v '^$' |
        grep -viE '^(and|or|not|xor|near|adj)$' | head -n 4 | tr '\n' ' ' | sed 's/ $//'
}
capitalise() { printf '%s\n' "$1" | awk '{ for (i = 1; i <= NF; i++) $i = toupper(substr($i, 1, 1)) tolower(substr($i, 2)); print }'; }
lower() { printf '%s\n' "$1" | tr 'A-Z' 'a-z'; }
upper() { printf '%s\n' "$1" | tr 'a-z' 'A-Z'; }

for corpus in bbc reu; do
    file=$BBC; [ $corpus = reu ] && file=$REUTERS
    start_quired "$T/$corpus" --quiet || { not_ok "quired ($corpus)"; continue; }
    docs=$(get /health | jq -r .docs)

    # --- case never changes the hits -------------------------------------------------------
    n=0; bad=""; nonempty=0
    while IFS= read -r title; do
        w=$(words "$title")
        [ -n "$w" ] || continue
        n=$((n + 1))
        l=$(hits_of "$(lower "$w")")
        [ -n "$l" ] && [ "$l" != "[]" ] && nonempty=$((nonempty + 1))
        for form in "$w" "$(capitalise "$w")" "$(upper "$w")"; do
            h=$(hits_of "$form")
            [ "$h" = "$l" ] || { bad="$bad[$form] vs [$(lower "$w")]; "; break; }
        done
    done < <(draw "$file" "$NQ" 1)
    check_eq "$corpus: $n title queries: as written, capitalised, upper- and lower-case forms give the same hits" "" "$bad"
    check "$corpus: the title queries find something ($nonempty of $n)" test "$nonempty" -ge $((n * 9 / 10))

    # --- negation: only excluded terms -------------------------------------------------------
    n=0; bad=""
    while IFS= read -r title; do
        set -- $(lower "$(words "$title")")
        [ $# -ge 2 ] || continue
        n=$((n + 1))
        pos=$(exact_total "$1"); both=$(exact_total "$1 OR $2")
        for q in "-$1" "NOT $1"; do
            neg=$(exact_total "$q")
            [ $((neg + pos)) -eq "$docs" ] || bad="$bad[$q] $neg + $pos != $docs; "
        done
        neg=$(exact_total "-$1 -$2")
        [ $((neg + both)) -eq "$docs" ] || bad="$bad[-$1 -$2] $neg + $both != $docs; "
        # The hits shown contain neither term.
        bad="$bad$(shown_without "-$1 -$2" "$1 OR $2")"
    done < <(draw "$file" 8 2)
    check_eq "$corpus: $n pure-negative queries (-t, NOT t, -t -u): hits = every article without the terms" "" "$bad"

    # --- negation beside stop words alone --------------------------------------------------
    # Stop words are left out of an OR query only when it has another word to search for:
    # "the -microsoft" is the articles with "the" and without microsoft (once "the" was
    # dropped, Xapian's parser read the lone exclusion as the word itself). Property:
    # count("s -w") + count("s" AND "w") = count("s"), and no hit shown holds w.
    n=0; bad=""
    stops=(the of and in not off our to with)
    while IFS= read -r title; do
        set -- $(lower "$(words "$title")")
        [ $# -ge 1 ] && [ ${#1} -ge 3 ] || continue
        st=${stops[$(( (n + ${#title}) % ${#stops[@]} ))]}
        [ "$st" != "$1" ] || continue
        n=$((n + 1))
        all=$(exact_total "$st"); neg=$(exact_total "$st -$1")
        both=$(search "$st $1" 'limit=0&exact=1&dedup=0&fuzzy=0&op=and' | jq -r .total.estimated)
        [ $((neg + both)) -eq "$all" ] || bad="$bad[$st -$1] $neg + $both != $all; "
        bad="$bad$(shown_without "$st -$1" "$1")"
    done < <(draw "$file" 10 4)
    check_eq "$corpus: $n queries of a stop word and an exclusion: the exclusion excludes" "" "$bad"

    # --- exact totals -----------------------------------------------------------------------
    n=0; bad=""
    while IFS= read -r title; do
        set -- $(lower "$(words "$title")")
        [ $# -ge 1 ] || continue
        q=$1
        total=$(search "$q" 'limit=0&exact=1' | jq -r '.total | select(.exact) | .estimated')
        [ -n "$total" ] || { bad="$bad[$q] not exact; "; continue; }
        [ "$total" -le 3000 ] || continue
        n=$((n + 1))
        seen=0; off=0
        while :; do
            page=$(search "$q" "limit=1000&offset=$off&snippet=0&exact=1&fields=title")
            k=$(jq -r '.hits | length' <<<"$page")
            est=$(jq -r .total.estimated <<<"$page")
            [ "$est" = "$total" ] || bad="$bad[$q] total $est at offset $off, $total at 0; "
            seen=$((seen + k)); off=$((off + 1000))
            [ "$k" -eq 1000 ] || break
        done
        [ "$seen" -eq "$total" ] || bad="$bad[$q] exact total $total, $seen ids; "
        # A page past the last match: no hits, the same exact total, and without exact=1
        # no more than the offset (a page that is empty proves no more).
        off=$((total + 1 + RANDOM % 5000))
        r=$(search "$q" "limit=10&offset=$off&snippet=0&exact=1")
        jq -e --argjson t "$total" '(.hits | length) == 0 and .total.estimated == $t and
            .total.lower == $t and .total.upper == $t' <<<"$r" >/dev/null ||
            bad="$bad[$q] exact=1 at offset $off past $total: $(jq -c .total <<<"$r"); "
        r=$(search "$q" "limit=10&offset=$off&snippet=0")
        jq -e --argjson o "$off" '(.hits | length) == 0 and .total.upper <= $o and
            .total.estimated <= .total.upper and .total.lower <= .total.estimated' <<<"$r" >/dev/null ||
            bad="$bad[$q] offset $off past the end: $(jq -c .total <<<"$r"); "
        # Without exact=1: never fewer than what was returned, and said to be estimated.
        r=$(search "$q" 'limit=7&offset=3&snippet=0')
        jq -e '((.hits | length) == 0 or .total.estimated >= 3 + (.hits | length)) and
            (.total.exact == false)' <<<"$r" >/dev/null ||
            bad="$bad[$q] estimate below the hits: $(jq -c .total <<<"$r"); "
    done < <(draw "$file" 8 3)
    check_eq "$corpus: $n queries: exact=1 total = ids met paging through all results" "" "$bad"
    stop_quired
done

# --- regressions on bbc-news (issue 12) ----------------------------------------------------
start_quired "$T/bbc" --quiet || { not_ok "quired (bbc)"; finish; }
e=$(hits_of elections)
check "elections finds 30 hits" jq -e 'length == 30' <<<"$e"
check_eq "Elections and elections give the same hits" "$e" "$(hits_of Elections)"
check_eq "ELECTIONS too" "$(hits_of elections)" "$(hits_of ELECTIONS)"
check "operators stay operators: 'blair AND brown' is narrower than 'blair and brown'" \
    test "$(exact_total 'blair AND brown')" -lt "$(exact_total 'blair and brown')"
check "a field name stays a field name: title:Blair = title:blair" \
    test "$(hits_of 'title:Blair')" = "$(hits_of 'title:blair')"
check_eq "quoted phrases are unchanged by case" "$(hits_of '"tony blair"')" "$(hits_of '"Tony Blair"')"
r=$(get '/search?q=-blair&limit=100&snippet=0')
check "-blair returns articles, none of them with blair" jq -e '(.hits | length) == 100' <<<"$r"
blair=$(exact_total blair)
check "-blair: $blair articles have blair, the rest do not" test "$(( $(exact_total -blair) + blair ))" -eq 2225
r=$(get '/search?q=blair&limit=3&exact=1&dedup=0')
check_eq "exact=1: the total is said to be exact" true "$(jq -r .total.exact <<<"$r")"
check_eq "exact=1: lower = estimated = upper" 1 "$(jq -r '.total | [.lower, .estimated, .upper] | unique | length' <<<"$r")"

# Similar articles: never the article or a copy of its text, whatever the paging.
dups=$(awk -F'\t' 'NR > 1 { print $1 " " $2 }' "$SHARED/corpora/bbc-news/duplicates.tsv")
n=0; bad=""
while read -r a b; do
    n=$((n + 1))
    for id in "$a" "$b"; do
        other=$b; [ "$id" = "$b" ] && other=$a
        r=$(get "/doc/$(uri "$id")/similar?limit=20&dedup=0&snippet=0")
        jq -e --arg a "$id" --arg b "$other" 'all(.hits[]; .id != $a and .id != $b)' <<<"$r" >/dev/null ||
            bad="$bad$id: $(jq -c '[.hits[].id]' <<<"$r"); "
    done
done < <(printf '%s\n' "$dups" | head -n 20)
check_eq "similar of $n duplicated articles (both copies): never itself nor its copy" "" "$bad"
a=$(get '/doc/sport%2F101/similar?limit=10&snippet=0' | jq -c '[.hits[].id][5:10]')
b=$(get '/doc/sport%2F101/similar?limit=5&offset=5&snippet=0' | jq -c '[.hits[].id]')
check_eq "similar: offset pages" "$a" "$b"
r=$(get '/doc/sport%2F101/similar?limit=3')
check "similar: snippets by default" jq -e 'all(.hits[]; .snippet | length > 0)' <<<"$r"
r=$(get '/doc/sport%2F101/similar?limit=3&snippet=0&fields=title')
check "similar: snippet=0 and fields" jq -e 'all(.hits[]; (.snippet == null) and (keys - ["id", "rank", "score", "title"] == []))' <<<"$r"
check_eq "similar: a search parameter is refused" 400 "$(status GET '/doc/sport%2F101/similar?q=x')"
check_match "... with a message naming it" "sort" "$(get '/doc/sport%2F101/similar?sort=date')"

# Result shaping.
r=$(get '/search?q=election&limit=5&fields=title,date,url')
check "fields=title,date,url: only those, and id, rank, score" \
    jq -e '(.hits | length == 5) and all(.hits[]; (keys - ["id", "rank", "score", "title", "date", "url"] == []) and .id and .rank and .score and .title)' <<<"$r"
check_eq "fields: an unknown field is refused" 400 "$(status GET '/search?q=a&fields=title,colour')"
r=$(get '/search?q=the&facets=category&facet_limit=2&limit=0')
check_eq "facet_limit=2" 2 "$(jq -r '.facets.category | length' <<<"$r")"
check_eq "facet_limit over 1000 is refused" 400 "$(status GET '/search?q=a&facets=category&facet_limit=1001')"
raw=$(curl -s -m 10 "http://127.0.0.1:$PORT/search?q=election&limit=3")
check_match "took_ms to the microsecond" '"took_ms": ?[0-9]+(\.[0-9]{1,3})?[,}]' "$raw"
check "scores at a sensible precision (at most 6 decimals)" \
    sh -c "! printf '%s' \"\$1\" | grep -Eq '\"score\": ?[0-9]+\.[0-9]{7,}'" _ "$raw"

# The terminal client.
out=$("$QUIRE" --connect "127.0.0.1:$PORT" search -n 3 election)
check_eq "quire: every hit shows its id" 3 "$(grep -cE '^ +.* - id [a-z]+/[0-9]+$' <<<"$out")"
check_match "quire: 'about N results' when estimated" "of about [0-9]+ results" "$out"
out=$("$QUIRE" --connect "127.0.0.1:$PORT" search --exact -n 3 election)
check_match "quire --exact: 'N results'" "3 of [0-9]+ results" "$out"
"$QUIRE" --connect "127.0.0.1:$PORT" search -n 0 election >/dev/null; rc=$?
check_eq "quire -n 0 with matches: exit 0" 0 "$rc"
"$QUIRE" --connect "127.0.0.1:$PORT" search -n 0 xylophonequagmire >/dev/null; rc=$?
check_eq "quire -n 0 without matches: exit 1" 1 "$rc"
out=$("$QUIRE" --connect "127.0.0.1:$PORT" search --explain -n 1 election)
check_match "quire --explain: a table with a header" "term +weight" "$out"
check_match "quire --explain: the score row" "score +[0-9]+\.[0-9]{3}" "$out"
out=$("$QUIRE" --db "$T/bbc" similar -n 2 --offset 1 --no-snippet sport/101); rc=$?
check_eq "quire similar with --offset and --no-snippet: exit 0" 0 "$rc"
"$QUIRE" --db "$T/bbc" similar --sort date sport/101 >/dev/null 2>"$T/err"; rc=$?
check_eq "quire similar --sort: a usage error" 2 "$rc"
stop_quired

# --- collapsing on the marks is collapsing on the text ------------------------------------
# The indexer marks the articles that share a text (a sparse value a search collapses on,
# far cheaper than the full hash of every article). Property: every drawn query, as typed
# and with AND, gives the same hits and duplicate counts on the marked index as on a copy
# whose marks are declared unknown (so that it collapses on every article's hash), and an
# estimate no lower: the marks also tell how many articles collapsing can hide at most,
# which bounds the count from below. bbc-news has 98 pairs of identical bodies, Reuters a
# few repeated ones.
for corpus in bbc reu; do
    file=$BBC; [ $corpus = reu ] && file=$REUTERS
    gen="$T/$corpus/$(awk '{ print $2 }' "$T/$corpus/current")"
    # SCHEMA_SLOT_REPEAT (lib/schema.h): the articles marked
    marks=$(xapian-delve -V8 "$gen" 2>/dev/null | tr ' ' '\n' | grep -c ':')
    check_eq "$corpus: the indexer marked some articles as sharing a text ($marks)" \
        "marked yes" "$(xapian-metadata get "$gen" quire:unique-text) $([ "$marks" -gt 1 ] && echo yes)"
    cp -a "$T/$corpus" "$T/$corpus-hash"
    xapian-metadata set "$T/$corpus-hash/$(basename "$gen")" quire:unique-text ""
    n=0; bad=""; collapsed=0
    while IFS= read -r title; do
        w=$(words "$title")
        [ -n "$w" ] || continue
        for op in or and; do
            a=$("$QUIRE" --db "$T/$corpus" --json search --op $op -n 30 --no-snippet "$w" |
                jq -c '[.total.estimated, [.hits[] | [.id, .duplicates // 0]]]')
            b=$("$QUIRE" --db "$T/$corpus-hash" --json search --op $op -n 30 --no-snippet "$w" |
                jq -c '[.total.estimated, [.hits[] | [.id, .duplicates // 0]]]')
            n=$((n + 1))
            jq -en --argjson a "$a" --argjson b "$b" '$a[1] == $b[1] and $a[0] >= $b[0]' \
                >/dev/null 2>&1 || bad="$bad [$op $w: $a against $b]"
            [ "$(jq '[.[1][][1]] | add > 0' <<<"$a")" = true ] && collapsed=$((collapsed + 1))
        done
    done < <(draw "$file" "$NQ" 7)
    check_eq "$corpus: $n searches ($collapsed with duplicates collapsed) alike on the marks and on the full hash" "" "$bad"
    check "$corpus: some of them collapsed duplicates" [ "$collapsed" -gt 0 ]
done

# --- what collapsing hides -------------------------------------------------------------------
# Property: with dedup, an article is hidden only when another one has its text, and always
# then. Counted over every article (exact=1): the articles hidden lie between the
# repeats of byte-identical bodies and the repeats of bodies equal once their whitespace is
# folded away. A body with no text at all (Reuters has 1,798 headlines alone) repeats
# nothing.
for corpus in bbc reu; do
    file=$BBC; [ $corpus = reu ] && file=$REUTERS
    start_quired "$T/$corpus" --quiet || { not_ok "quired ($corpus)"; continue; }
    # A word excluded that no article holds: every article.
    all=$(search "-qzxqzxv" 'limit=0&exact=1&dedup=0' | jq -r .total.estimated)
    shown=$(search "-qzxqzxv" 'limit=0&exact=1' | jq -r .total.estimated)
    bounds=$(python3 -c '
import collections, json, sys
same, folded = collections.Counter(), collections.Counter()
for line in open(sys.argv[1], encoding="utf-8"):
    body = json.loads(line).get("body") or ""
    if body.split():
        same[body] += 1
        folded[" ".join(body.split())] += 1
print(sum(n - 1 for n in same.values()), sum(n - 1 for n in folded.values()))' "$file")
    set -- $bounds
    hidden=$((all - shown))
    check "$corpus: dedup hides $hidden of $all articles, between $1 and $2 (repeated texts)" \
        test "$hidden" -ge "$1" -a "$hidden" -le "$2"
    stop_quired
done

# --- collapsing follows the index -----------------------------------------------------------
# The indexer marks an index whose articles all have distinct texts, and a search there skips
# collapsing (it would change nothing). The mark must follow every run: a copy added by an
# incremental run is collapsed at once, and so after a full build (parts merged).
mkdir -p "$T/uniq"
cp "$SRC/corpus/"* "$T/uniq/"
one=$(ls "$T/uniq" | head -n1)
title=$(head -n1 "$T/uniq/$one")
collapse() { # DEDUP: "<hits> <duplicates of the first hit>" for the first article's title
    "$QUIRE" --db "$T/uniq.db" --json search --dedup "$1" -n 50 --no-snippet "$title" |
        jq -r --arg id "$one" '[.hits[] | select(.id == $id or .id == "copy-" + $id)] |
            "\(length) \(.[0].duplicates // 0)"'
}
"$QUIRE_INDEX" -q --db "$T/uniq.db" "$T/uniq" || not_ok "index the seed corpus"
check_eq "distinct texts: the article once, no duplicates" "1 0" "$(collapse 1)"
# Five articles on one subject: each has similar ones (the words it shares with the others
# describe it, not those only it holds, which match nothing else).
none=""
for f in $(ls "$T/uniq"); do
    n=$("$QUIRE" --db "$T/uniq.db" --json similar -n 10 --no-snippet "$f" | jq '.hits | length')
    [ "${n:-0}" -gt 0 ] || none="$none $f"
done
check_eq "every seed article has similar articles" "" "$none"
cp "$T/uniq/$one" "$T/uniq/copy-$one"
"$QUIRE_INDEX" -q --db "$T/uniq.db" "$T/uniq" || not_ok "index a copy"
check_eq "a copy added by an incremental run is collapsed" "1 1" "$(collapse 1)"
check_eq "and shown with dedup=0" "2 0" "$(collapse 0)"
rm "$T/uniq/copy-$one"
"$QUIRE_INDEX" -q --db "$T/uniq.db" "$T/uniq" || not_ok "remove the copy"
check_eq "the copy removed: the article once" "1 0" "$(collapse 1)"
cp "$T/uniq/$one" "$T/uniq/copy-$one"
"$QUIRE_INDEX" -q --rebuild --jobs 2 --db "$T/uniq.db" "$T/uniq" || not_ok "rebuild with the copy"
check_eq "a copy in a full build of parts is collapsed" "1 1" "$(collapse 1)"

finish
