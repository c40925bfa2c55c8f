#!/bin/bash
# Integration tests of the search page (GET /) and of completions (GET /complete), with curl
# over the real daemon. The corpus: an eighth of bbc-news (categories), a hundredth of
# reuters-21578 (dates) and tests/browser/hostile.jsonl (titles, bodies, ids, urls, facet
# values made of markup and script). Properties:
#   - every page, for hostile articles and hostile requests, holds only the page's own tags,
#     no event-handler attribute, no link but to the page itself or to http(s) addresses,
#     and shows the hostile text escaped; the CSP header is present and strict;
#   - the page shows the hits, the order and the pages the JSON API gives for the same
#     search; facet links filter; the URL's mark_open/mark_close are not honoured;
#   - /complete gives, for prefixes of seeded random index terms, exactly the most frequent
#     terms by xapian-delve's own count (the model), and titles that start with the prefix.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/c"
awk 'NR % 8 == 1' "$SHARED/corpora/bbc-news/docs.jsonl" >"$T/c/bbc.jsonl"
awk 'NR % 100 == 1' "$SHARED/corpora/reuters-21578/docs.jsonl" >"$T/c/reuters.jsonl"
cp "$SRC/tests/browser/hostile.jsonl" "$T/c/hostile.jsonl"
"$QUIRE_INDEX" -q --db "$T/db" "$T/c" || { not_ok "index the test corpus"; finish; }
start_quired "$T/db" || { not_ok "quired starts"; finish; }
ok "quired starts on the page corpus"

# The page's own tags: anything else in a page came from data.
ALLOWED=' html head meta title link script body header a form div input ul button main p nav span aside section h2 h3 ol li time mark b footer kbd '
# inert NAME HTML: the page holds only allowed tags, one script (its own), no on* attribute,
# and only links to itself or to http(s) addresses.
inert() {
    name=$1 html=$2 bad=""
    for tag in $(printf '%s' "$html" | grep -o '<[a-zA-Z][a-zA-Z0-9]*' | tr -d '<' | tr 'A-Z' 'a-z' | sort -u); do
        case "$ALLOWED" in *" $tag "*) ;; *) bad="$bad tag <$tag>;" ;; esac
    done
    n=$(printf '%s' "$html" | grep -o '<script' | wc -l)
    [ "$n" -eq 1 ] || bad="$bad $n script tags;"
    printf '%s' "$html" | grep -q '<script src="/assets/page.js" defer></script>' || bad="$bad not our script;"
    # Tags with their quoted attribute values taken out: what is left is names.
    tags=$(printf '%s' "$html" | grep -o '<[a-zA-Z][^>]*>' | sed 's/"[^"]*"/""/g')
    printf '%s\n' "$tags" | grep -Eiq '[[:space:]"]on[a-z]+[[:space:]]*=' && bad="$bad an on* attribute;"
    n=$(printf '%s\n' "$tags" | grep -Eic '[[:space:]]autofocus[[:space:]>=]')
    [ "$n" -gt 1 ] && bad="$bad $n autofocus;"
    [ "$n" -eq 1 ] && ! printf '%s' "$html" | grep -Eq '<input id="q"[^>]* autofocus>' && bad="$bad autofocus;"
    for href in $(printf '%s' "$html" | grep -o '<[a-zA-Z][^>]*>' | grep -o ' href="[^"]*"' | sed 's/^ href="//; s/"$//'); do
        case "$href" in /* | http://* | https://*) ;; *) bad="$bad href $href;" ;; esac
        case "$href" in //*) bad="$bad href $href;" ;; esac
    done
    if [ -z "$bad" ]; then ok "$name: only the page's own markup"; else not_ok "$name: only the page's own markup" "$bad"; fi
}

# --- headers ------------------------------------------------------------------------------
hdr=$(curl -s -m 10 -D - -o /dev/null "http://127.0.0.1:$PORT/")
check_match "GET / is 200 HTML" '^HTTP/1.1 200' "$hdr"
check_match "GET / is text/html" 'Content-Type: text/html; charset=utf-8' "$hdr"
check_match "the page has a strict Content-Security-Policy" "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'" "$hdr"
check_match "the page has X-Content-Type-Options: nosniff" 'X-Content-Type-Options: nosniff' "$hdr"
for a in page.css page.js icon.svg; do
    h=$(curl -s -m 10 -D - -o "$T/$a" "http://127.0.0.1:$PORT/assets/$a")
    check_match "/assets/$a is served with its CSP" 'Content-Security-Policy: default-src' "$h"
    check "/assets/$a is the file compiled in" cmp -s "$T/$a" "$SRC/daemon/assets/$a"
done
check_match "/assets/page.js is JavaScript" 'Content-Type: text/javascript' "$(curl -s -m 10 -D - -o /dev/null "http://127.0.0.1:$PORT/assets/page.js")"
check_eq "an unknown asset is 404" 404 "$(status GET /assets/nope.js)"
check_eq "POST / is refused (405)" 405 "$(status POST /)"
home=$(get /)
inert "the empty page" "$home"
check_match "the empty page counts the articles" "$(get /health | jq -r .docs) articles" "$home"

# --- hostile articles ------------------------------------------------------------------------
p=$(get '/?q=zebracorn')
inert "zebracorn (hostile articles)" "$p"
check_eq "zebracorn: the page shows the 6 hostile articles" 6 "$(printf '%s' "$p" | grep -o '<li class="hit"' | wc -l)"
check_match "a <script> title shows as text" '&lt;script&gt;alert\(1\)&lt;/script&gt;' "$p"
check_match "an <img onerror> title shows as text" 'Zebracorn(</mark>)? &lt;img src=x onerror=alert\(5\)&gt; report' "$p"
check_match "matched words in titles are marked with <mark> (title_marked)" '<a><mark>Zebracorn</mark> in a frame</a>' "$p"
check_match "a quote-breaking title shows as text" '&quot;onmouseover=&quot;alert\(8\)' "$p"
check_match "a hostile id shows as text" '&quot;&gt;&lt;svg onload=alert\(12\)&gt;' "$p"
check_match "a hostile source shows as text" 'hit-source">&lt;script&gt;alert\(3\)&lt;/script&gt;' "$p"
check_match "marker-shaped text in a body stays text" '&lt;/b&gt;&lt;script&gt;alert\(6\)&lt;/script&gt;&lt;b&gt;' "$p"
check_match "matched words are marked with <mark>" '<mark>zebracorn</mark>' "$p"
if printf '%s' "$p" | grep -Eqi 'href="[[:space:]]*(javascript|data):'; then not_ok "no javascript: or data: url becomes a link"; else ok "no javascript: or data: url becomes a link"; fi
check_match "an https url is a link, escaped" 'href="https://example.org/zebracorn\?a=1&amp;b=&quot;x&quot;"' "$p"
check_eq "exactly one article link (the https one)" 1 "$(printf '%s' "$p" | grep -o '<a href="http' | wc -l)"
check_match "hostile facet values show as text" 'class="value">&quot;&gt;&lt;img src=x onerror=alert\(2\)&gt;<' "$p"
check_match "a hostile facet value's filter link is percent-encoded" 'filter=category%3A%22%3E%3Cimg\+src%3Dx\+onerror%3Dalert%282%29%3E' "$p"

# --- hostile requests ---------------------------------------------------------------------------
p=$(get '/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%3E%3Cimg+src%3Dx+onerror%3Dalert(1)%3E')
inert "a hostile q" "$p"
check_match "a hostile q is echoed escaped in the box" 'value="&lt;script&gt;alert\(1\)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;"' "$p"
p=$(get '/?q=zebracorn&mark_open=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E&mark_close=%3C%2Fimg%3E')
inert "mark_open/mark_close in the URL" "$p"
check_match "the page keeps its own markers" '<mark>zebracorn</mark>' "$p"
p=$(get '/?q=zebracorn&filter=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E&sort=%22%3E%3Cscript%3E&page=%22%3E')
inert "hostile filter, sort and page" "$p"
p=$(get '/?q=zebracorn&filter=category:%22%3E%3Cimg+src%3Dx+onerror%3Dalert(2)%3E')
inert "a hostile facet value as a filter" "$p"
check_eq "filtering on the hostile category finds its one article" 1 "$(printf '%s' "$p" | grep -o '<li class="hit"' | wc -l)"
check_match "the hostile filter is kept escaped in the form" 'name="filter" value="category:&quot;&gt;&lt;img src=x onerror=alert\(2\)&gt;"' "$p"
p=$(get '/?q=%25%ZZ')
inert "a malformed query string" "$p"
# Typo tolerance: the page searches the correction, says so and links to the query as typed
# (fuzzy=0), which offers the correction as "did you mean".
p=$(get '/?q=zebrakorn')
check_match "showing results for the correction" '<p class="corrected">Showing results for <b>zebracorn</b>. Search instead for <a href="/\?q=zebrakorn&amp;fuzzy=0">zebrakorn</a>' "$p"
check "no did-you-mean beside a correction" test "$(printf '%s' "$p" | grep -c 'Did you mean')" = 0
check_eq "the corrected page shows as many hits as the API's correction" "$(get '/search?q=zebrakorn&limit=10' | jq -r '.hits | length')" \
    "$(printf '%s' "$p" | grep -o '<li class="hit"' | wc -l)"
p=$(get '/?q=zebrakorn&fuzzy=0')
check_match "fuzzy=0: did you mean" 'Did you mean <a href="/\?q=zebracorn&amp;fuzzy=0">zebracorn</a>' "$p"
check "fuzzy=0: no correction" test "$(printf '%s' "$p" | grep -c 'class="corrected"')" = 0
p=$(get '/?q=%3Cscript%3Ezebrakorn%22%3E')
inert "a hostile query that is corrected" "$p"
check_match "the hostile query is echoed escaped beside its correction" 'Showing results for <b>&lt;script&gt;zebracorn&quot;&gt;</b>' "$p"
# Analytics: the page's searches are counted as typed, a later page is not.
curl -s -m 10 -X POST --unix-socket "$SOCK" -o /dev/null http://localhost/admin/queries/reset
get '/?q=Zebrakorn' >/dev/null; get '/?q=zebrakorn&page=2' >/dev/null; get '/?q=oil&filter=year:1987' >/dev/null
check_eq "the page's searches are counted as typed, without filters, page 1 only" '[{"q":"oil","count":1},{"q":"zebrakorn","count":1}]' \
    "$(curl -s -m 10 --unix-socket "$SOCK" http://localhost/admin/queries | jq -c '.top')"

# --- the page shows what the API answers ---------------------------------------------------------
ids() { printf '%s' "$1" | grep -o '<li class="hit" data-id="[^"]*"' | sed 's/.*data-id="//; s/"$//'; }
api_ids() { get "/search?$1" | jq -r '.hits[].id'; }
for q in government 'oil+prices' 'film+award' 'bank'; do
    check_eq "q=$q: the page's hits are the API's" "$(api_ids "q=$q&limit=10")" "$(ids "$(get "/?q=$q")")"
    check_eq "q=$q page 2: the API's hits 11-20" "$(api_ids "q=$q&limit=10&offset=10")" "$(ids "$(get "/?q=$q&page=2")")"
    check_eq "q=$q sort=date: the API's order" "$(api_ids "q=$q&limit=10&sort=date")" "$(ids "$(get "/?q=$q&sort=date")")"
done
p=$(get '/?q=government')
next=$(printf '%s' "$p" | grep -o '<a rel="next" href="[^"]*"' | sed 's/.*href="//; s/"$//; s/&amp;/\&/g')
check_eq "the next-page link is page 2" "/?q=government&page=2" "$next"
total=$(get '/search?q=government&limit=10&facets=source,category,year' | jq -r .total.estimated)
check_match "the page shows the API's total" ">About $total results|>$total results" "$p"
href=$(printf '%s' "$p" | grep -o '<a class="facet-value" href="[^"]*"><span class="value">politics<' | sed 's/.*href="//; s/".*//; s/&amp;/\&/g')
check_eq "the politics facet links to its filter" "/?q=government&filter=category%3Apolitics" "$href"
pf=$(get "$href")
count=$(printf '%s' "$p" | grep -o 'class="value">politics</span> <span class="count">[0-9]*' | grep -o '[0-9]*$')
check_eq "the filtered page's hits are all politics" "" "$(printf '%s' "$pf" | grep -o 'hit-category">[^<]*' | grep -v '>politics$')"
fcount=$(printf '%s' "$pf" | grep -o 'id="count">[^<]*' | grep -o '[0-9][0-9]* result' | grep -o '[0-9]*')
check "the filtered page counts at most the facet's $count" test "${fcount:-999999}" -le "$count"
check_match "the active facet is marked and its link removes it" '<a class="facet-value on" aria-current="true" href="/\?q=government"><span class="value">politics' "$pf"

# --- /complete -------------------------------------------------------------------------------------
r=$(get '/complete?q=gov')
check "/complete answers completions and titles" jq -e 'has("completions") and has("titles") and .query == "gov"' <<<"$r"
check "/complete: at most 8 of each by default" jq -e '(.completions | length) <= 8 and (.titles | length) <= 8' <<<"$r"
check "/complete: completions of gov start with gov" jq -e '.completions | length > 0 and all(startswith("gov"))' <<<"$r"
check_eq "/complete?limit=3 gives at most 3" 3 "$(get '/complete?q=g&limit=3' | jq '.completions | length')"
r=$(get '/complete?q=Oil+pr')
check "/complete keeps the words before the last" jq -e '.completions | length > 0 and all(startswith("Oil pr"))' <<<"$r"
check_eq "/complete with an empty q answers empty lists" '[[],[]]' "$(get '/complete?q=' | jq -c '[.completions, .titles]')"
check_eq "/complete?limit=0 is refused" 400 "$(status GET '/complete?q=a&limit=0')"
check_eq "/complete?limit=21 is refused" 400 "$(status GET '/complete?q=a&limit=21')"
check_eq "/complete with an unknown parameter is refused" 400 "$(status GET '/complete?q=a&mark_open=x')"
check_eq "/complete with invalid UTF-8 is refused" 400 "$(status GET '/complete?q=%FF')"
check_eq "POST /complete is refused" 405 "$(status POST '/complete?q=a')"
check_match "/complete errors are JSON sentences" 'must be a whole number from 1 to 20' "$(get '/complete?q=a&limit=0')"
r=$(get '/complete?q=%3Cscript%3E')
check "/complete of markup answers JSON" jq -e '.query == "<script>"' <<<"$r"

# The CLI, through the daemon and directly: the same answer as GET.
for args in "--connect 127.0.0.1:$PORT" "--db $T/db"; do
    mode=${args%% *}
    got=$("$QUIRE" $args --json complete -n 5 Oil pr | jq -c '[.completions, .titles]')
    check_eq "quire $mode complete = GET /complete" "$(get '/complete?q=Oil+pr&limit=5' | jq -c '[.completions, .titles]')" "$got"
    out=$("$QUIRE" $args complete ad sales b)
    check_match "quire $mode complete prints titles with their ids" '^title: Ad sales boost Time Warner profit  \[business/001\]$' "$out"
    "$QUIRE" $args complete -n 0 gov >/dev/null 2>&1
    check_eq "quire $mode complete -n 0 is an error (2)" 2 "$?"
    "$QUIRE" $args complete qqqxqqq >/dev/null 2>&1
    check_eq "quire $mode complete with nothing to offer exits 1" 1 "$?"
done

# The model: xapian-delve's term list with its document counts.
GEN="$T/db/$(cat "$T/db/current" 2>/dev/null | sed -n 's/^auto *//p' | head -n1)"
[ -d "$GEN" ] || GEN=$(ls -d "$T/db"/gen-* | tail -n1)
SEED=${QUIRE_TEST_SEED:-$(date +%s)}
echo "# seed $SEED (QUIRE_TEST_SEED=$SEED repeats this run)"
terms=$(xapian-delve -a -1 "$GEN" | tail -n +2 | LC_ALL=C grep -E '^[a-z0-9]{4,}$' |
    awk -v s="$SEED" 'BEGIN { srand(s) } { print rand() "\t" $0 }' | sort | head -n 40 | cut -f2)
bad="" n=0
for t in $terms; do
    for len in 1 2 3 4; do
        p=${t:0:$len}
        want=$(xapian-delve -A "$p" -v -1 "$GEN" | tail -n +2 | LC_ALL=C awk 'length($1) >= 2' |
            LC_ALL=C sort -t' ' -k2,2nr -k1,1 | head -n 8 | cut -d' ' -f1)
        got=$(get "/complete?q=$p" | jq -r '.completions[]')
        n=$((n + 1))
        [ "$want" = "$got" ] || bad="$bad
prefix $p: want $(echo $want) got $(echo $got)"
    done
done
if [ -z "$bad" ]; then ok "/complete = the 8 most frequent terms by xapian-delve, $n prefixes"; else not_ok "/complete = the 8 most frequent terms by xapian-delve" "$bad"; fi
bad="" n=0
for t in $terms; do
    p=${t:0:2}
    n=$((n + 1))
    r=$(get "/complete?q=$p")
    want=$(xapian-delve -A "XT$p" -1 "$GEN" | tail -n +2 | head -n 8 | wc -l)
    [ "$(jq '.titles | length' <<<"$r")" = "$want" ] || bad="$bad
$p: $want titles expected, got $(jq -c .titles <<<"$r")"
    jq -e --arg p "$p" '.titles | all(.title | ascii_downcase | startswith($p))' <<<"$r" >/dev/null ||
        bad="$bad
$p: a title not starting with it: $(jq -c .titles <<<"$r")"
done
if [ -z "$bad" ]; then ok "/complete titles start with the prefix, as many as the index has (up to 8), $n prefixes"; else not_ok "/complete titles start with the prefix" "$bad"; fi
r=$(get '/complete?q=Ad+sales+b')
check_eq "a title is completed from its first words, any case" "Ad sales boost Time Warner profit" "$(jq -r '.titles[0].title' <<<"$r")"

# --- the table follows the index ------------------------------------------------------------------
# 30 articles bring 91 words under "qq" (a table entry: over 64), qqamax in all of them.
for i in $(seq 1 30); do
    echo "{\"id\": \"qq-$i\", \"title\": \"Note $i\", \"body\": \"qqamax qqa$i qqb$i qqc$i\"}"
done >"$T/c/qq.jsonl"
"$QUIRE_INDEX" -q --db "$T/db" "$T/c" || not_ok "an incremental run adds the qq articles"
seen=""
for _ in $(seq 1 50); do
    [ "$(get '/complete?q=qq&limit=1' | jq -r '.completions[0]')" = qqamax ] && { seen=yes; break; }
    sleep 0.1
done
check_eq "after an incremental run, /complete offers its most frequent new word" yes "$seen"
GEN=$(ls -d "$T/db"/gen-* | tail -n1)
want=$(xapian-delve -A qq -v -1 "$GEN" | tail -n +2 | LC_ALL=C sort -t' ' -k2,2nr -k1,1 | head -n 8 | cut -d' ' -f1)
check_eq "and exactly the most frequent 8 by xapian-delve" "$(echo $want)" "$(get '/complete?q=qq' | jq -r '.completions | join(" ")')"
rm "$T/c/qq.jsonl"
"$QUIRE_INDEX" -q --db "$T/db" "$T/c" || not_ok "an incremental run deletes the qq articles"
gone=""
for _ in $(seq 1 50); do
    [ "$(get '/complete?q=qq' | jq -c '.completions')" = '[]' ] && { gone=yes; break; }
    sleep 0.1
done
check_eq "after they are deleted, nothing is offered for qq (the old entry is gone)" yes "$gone"

finish
