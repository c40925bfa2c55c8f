#!/bin/bash
# Search quality through the real daemon, the client and direct mode on real corpora:
# bbc-news (duplicates, categories), reuters-21578 (dates, facets, sorting), the seed
# corpus (phrases, suggestions), plus CJK, accents and Hindi.
. "$(dirname "$0")/../lib.sh"

BBC="$SHARED/corpora/bbc-news/docs.jsonl"
REUTERS="$SHARED/corpora/reuters-21578/docs.jsonl"
"$QUIRE_INDEX" -q --db "$T/bbc" "$BBC" || { not_ok "index bbc-news"; finish; }
"$QUIRE_INDEX" -q --db "$T/reu" "$REUTERS" || { not_ok "index reuters"; finish; }
mkdir -p "$T/seed"; cp "$SRC"/corpus/* "$T/seed/"
cat >"$T/seed/intl.jsonl" <<'J'
{"id": "cjk-1", "title": "北京天气", "body": "北京是中国的首都，今天天气很好。"}
{"id": "accent-1", "title": "Le café de la gare", "body": "Un café crème et une crêpe au Café de Flore, près de l'église."}
{"id": "plain-1", "title": "Resume writing tips", "body": "Write a short resume for the cafe job."}
J
"$QUIRE_INDEX" -q --db "$T/seed.db" "$T/seed" || { not_ok "index seed"; finish; }

# --- BBC: duplicates and categories ---------------------------------------------------------
start_quired "$T/bbc" --quiet || { not_ok "quired (bbc)"; finish; }
dups_business=$(awk -F'\t' 'NR > 1 && $1 ~ /^business\//' "$SHARED/corpora/bbc-news/duplicates.tsv" | wc -l)
r=$(get '/search?q=category:business&facets=category&limit=0')
check_eq "dedup by default: business has 510 minus its $dups_business duplicates" $((510 - dups_business)) "$(jq -r .total.lower <<<"$r")"
r=$(get '/search?q=category:business&facets=category&limit=0&dedup=0')
check_eq "dedup=0: all 510 business articles" 510 "$(jq -r .total.lower <<<"$r")"
check_eq "facet count for the category equals 510" 510 "$(jq -r '.facets.category[0].count' <<<"$r")"
# business/240 repeats the body of business/214: one hit, marked, unless dedup=0.
t=$(jq -r 'select(.id == "business/214") | .title' "$BBC")
q=$(jq -rn --arg t "$t" '$t | @uri')
r=$(get "/search?q=title:%22$q%22&snippet=0")
check_eq "a duplicated article comes back once" 1 "$(jq -r '[.hits[] | select(.id == "business/214" or .id == "business/240")] | length' <<<"$r")"
check_eq "the hit says how many duplicates it stands for" 1 "$(jq -r '[.hits[] | select(.id == "business/214" or .id == "business/240")][0].duplicates' <<<"$r")"
r=$(get "/search?q=title:%22$q%22&snippet=0&dedup=0")
check_eq "dedup=0 shows both copies" 2 "$(jq -r '[.hits[] | select(.id == "business/214" or .id == "business/240")] | length' <<<"$r")"
r=$(get '/search?q=football&facets=category,source&limit=3')
check "facets come most frequent first" jq -e '.facets.category | [.[].count] as $c | $c == ($c | sort | reverse)' <<<"$r"
check_eq "football is mostly sport" sport "$(jq -r '.facets.category[0].value' <<<"$r")"
check_eq "source facet" "BBC News" "$(jq -r '.facets.source[0].value' <<<"$r")"
check_eq "an unknown facet is refused" 400 "$(status GET '/search?q=a&facets=colour')"
r=$(get '/doc/sport%2F101/similar?limit=5')
check_eq "similar: 5 related articles" 5 "$(jq -r '.hits | length' <<<"$r")"
check "similar: the article itself is left out" jq -e 'all(.hits[]; .id != "sport/101")' <<<"$r"
check "similar: related articles are sport too" jq -e '[.hits[] | select(.category == "sport")] | length >= 4' <<<"$r"
check_eq "similar of an unknown id: 404" 404 "$(status GET '/doc/nope/similar')"
s1=$(jq -c '[.hits[].id]' <<<"$r")
s2=$("$QUIRE" --connect "127.0.0.1:$PORT" similar -n 5 --json sport/101 | jq -c '[.hits[].id]')
s3=$("$QUIRE" --db "$T/bbc" similar -n 5 --json sport/101 | jq -c '[.hits[].id]')
check_eq "quire similar through the daemon gives the API's articles" "$s1" "$s2"
check_eq "quire similar in direct mode gives the same" "$s1" "$s3"
out=$("$QUIRE" --db "$T/bbc" similar -n 2 sport/101); rc=$?
check_eq "quire similar for people: exit 0" 0 "$rc"
check_match "quire similar for people: titles and the count line" "of about [0-9]+ results" "$out"
"$QUIRE" --db "$T/bbc" similar nope >/dev/null 2>&1; rc=$?
check_eq "quire similar of an unknown id: exit 2" 2 "$rc"
r=$(get '/search?q=chelsea+striker&limit=3&explain=1&snippet=0')
check "explain: the parsed query" jq -e '.parsed_query | test("chelsea")' <<<"$r"
check "explain: per-term weights add up to the score" jq -e '.hits[0] as $h | (([$h.explain[]] | add) - $h.score) | fabs < 0.0001' <<<"$r"
r=$(get '/search?q=chelsea&limit=1&mark_open=%5B&mark_close=%5D')
check "configurable snippet markers" jq -e '.hits[0].snippet | test("\\[(?i:chelsea)\\]")' <<<"$r"
r=$(get '/search?q=%22Time+Warner%22&limit=1')
check "snippets are HTML-escaped around the markers" jq -e '.hits[0].snippet | test("<b>") and (test("<(?!/?b>)") | not)' <<<"$r"
d1=$(get '/search?q=chelsea&facets=category&explain=1&limit=5' | jq -c 'del(.took_ms)')
d2=$("$QUIRE" --db "$T/bbc" search --json -n 5 --facets category --explain chelsea | jq -c 'del(.took_ms)')
check_eq "direct mode gives the daemon's facets and explanations" "$d1" "$d2"
d3=$("$QUIRE" --connect "127.0.0.1:$PORT" search --json -n 5 --facets category --explain chelsea | jq -c 'del(.took_ms)')
check_eq "the client passes facets and explain through" "$d1" "$d3"
out=$("$QUIRE" --connect "127.0.0.1:$PORT" search -n 2 --facets category chelsea)
check_match "the client prints facets for people" "sport" "$out"
stop_quired

# --- Reuters: dates, sorting, year facets -------------------------------------------------
start_quired "$T/reu" --quiet || { not_ok "quired (reuters)"; finish; }
r=$(get '/search?q=oil+date:1987-04-01..1987-04-30&limit=50&snippet=0')
check "a date range keeps only April 1987" jq -e '(.hits | length > 10) and all(.hits[]; .date >= "1987-04-01" and .date <= "1987-04-30")' <<<"$r"
r=$(get '/search?q=oil+date:1987-10-01..&limit=20&snippet=0')
check "an open-ended date range" jq -e '(.hits | length > 0) and all(.hits[]; .date >= "1987-10-01")' <<<"$r"
r=$(get '/search?q=coffee&sort=date&limit=30&snippet=0')
check "sort=date: newest first" jq -e '[.hits[].date] as $d | $d == ($d | sort | reverse)' <<<"$r"
r=$(get '/search?q=coffee&sort=date:asc&limit=30&snippet=0')
check "sort=date:asc: oldest first" jq -e '[.hits[].date] as $d | $d == ($d | sort)' <<<"$r"
check_eq "a bad sort is refused" 400 "$(status GET '/search?q=a&sort=size')"
d1=$(get '/search?q=coffee+brazil&sort=date:asc&op=and&dedup=0&limit=15&snippet=0' | jq -c '[.hits[].id]')
d2=$("$QUIRE" --db "$T/reu" search --json --sort date:asc --op and --dedup 0 -n 15 --no-snippet coffee brazil | jq -c '[.hits[].id]')
d3=$("$QUIRE" --connect "127.0.0.1:$PORT" search --json --sort date:asc --op and --dedup 0 -n 15 --no-snippet coffee brazil | jq -c '[.hits[].id]')
check_eq "sort, op and dedup give the same hits through the client and direct mode" "$d1" "$d2"
check_eq "...and through the client over HTTP" "$d1" "$d3"
r=$(get '/search?q=grain&facets=year,category&limit=0&dedup=0')
check_eq "year facet: Reuters-21578 is all 1987" 1987 "$(jq -r '.facets.year[0].value' <<<"$r")"
check_eq "year facet counts every match" "$(jq -r .total.lower <<<"$r")" "$(jq -r '.facets.year[0].count' <<<"$r")"
r=$(get '/search?q=category:coffee+brazil&limit=20&snippet=0')
check "category: filter" jq -e '(.hits | length > 0) and all(.hits[]; .category == "coffee")' <<<"$r"
r=$(get '/search?q=oil+-crude&limit=20&snippet=0&op=and')
check "-excluded words" jq -e '.hits | length > 0' <<<"$r"
n_and=$(get '/search?q=cocoa+bahia&limit=0' | jq -r .total.estimated)
n_or=$(get '/search?q=cocoa+bahia&limit=0&op=or' | jq -r .total.estimated)
check "op=or matches at least as much as op=and" test "$n_or" -ge "$n_and"
n1=$(get '/search?q=cocoa+NEAR/3+prices&limit=0' | jq -r .total.estimated)
n2=$(get '/search?q=cocoa+NEAR/30+prices&limit=0' | jq -r .total.estimated)
check "NEAR/n: a wider window matches at least as much (n=3: $n1, n=30: $n2)" test "$n2" -ge "$n1" -a "$n1" -gt 0
n=$(get '/search?q=petrol*&limit=0' | jq -r .total.estimated)
check "prefix* wildcards ($n matches)" test "$n" -gt 0
stop_quired

# --- seed corpus: phrases, suggestions, non-English text -----------------------------------
start_quired "$T/seed.db" --quiet || { not_ok "quired (seed)"; finish; }
r=$(get '/search?q=%22Meta+Superintelligence+Labs%22&snippet=0')
p=$(jq -r '.total.estimated' <<<"$r")
w=$(get '/search?q=Meta+Superintelligence+Labs&snippet=0&op=or' | jq -r .total.estimated)
check "a phrase matches ($p) and no more than its words do ($w)" test "$p" -ge 1 -a "$p" -le "$w"
r=$(get '/search?q=%22Labs+Superintelligence+Meta%22&snippet=0')
check_eq "a phrase in the wrong order does not match" 0 "$(jq -r '.hits | length' <<<"$r")"
r=$(get '/search?q=proprietery&snippet=0')
check_eq "did you mean: a misspelt word" proprietary "$(jq -r .suggestion <<<"$r")"
check_eq "the query itself is not rewritten" proprietery "$(jq -r .query <<<"$r")"
r=$(get '/search?q=muse+spark&snippet=0')
check_eq "no suggestion for a good query" null "$(jq -r .suggestion <<<"$r")"
r=$(get '/search?q=%E4%B8%AD%E5%9B%BD')
check_eq "CJK text is searchable" cjk-1 "$(jq -r '.hits[0].id' <<<"$r")"
r=$(get '/search?q=cafe+creme')
check_eq "cafe finds café" accent-1 "$(jq -r '.hits[0].id' <<<"$r")"
r=$(get '/search?q=caf%C3%A9+job')
check_eq "café finds cafe" plain-1 "$(jq -r '.hits[0].id' <<<"$r")"
r=$(get '/search?q=crepe')
check "the snippet marks the accented word" jq -e '.hits[0].snippet | test("<b>crêpe</b>")' <<<"$r"
r=$(get '/search?q=%E0%A4%AA%E0%A5%8D%E0%A4%B0%E0%A4%A4%E0%A4%BF%E0%A4%95%E0%A5%8D%E0%A4%B0%E0%A4%BF%E0%A4%AF%E0%A4%BE')
check_eq "the Hindi word finds its article" 002_93673a55b2262d66.txt "$(jq -r '.hits[0].id' <<<"$r")"
stop_quired

finish
