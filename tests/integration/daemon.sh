#!/bin/bash
# Integration tests of quired: the real daemon over real TCP and Unix sockets, queried with
# curl. Ranking on the seed corpus, the JSON shape, errors, live updates, signals.
. "$(dirname "$0")/../lib.sh"

cp -r "$SRC/corpus" "$T/c"
"$QUIRE_INDEX" -q --db "$T/db" "$T/c" || { not_ok "index corpus"; finish; }
start_quired "$T/db" || { not_ok "quired starts"; finish; }
ok "quired starts and answers /health"

h=$(get /health)
check_eq "/health status ok" ok "$(jq -r .status <<<"$h")"
check_eq "/health counts the 5 seed articles" 5 "$(jq -r .docs <<<"$h")"
check_match "/health has a revision" '^[0-9]+$' "$(jq -r .revision <<<"$h")"
check_eq "/health names the live generation" "$(tail -n1 "$T/db/generations")" "$(jq -r .generation <<<"$h")"

# --- ranking and shape ------------------------------------------------------------------
r=$(get '/search?q=muse+spark')
check "muse spark: JSON with hits" jq -e '.hits | length > 0' <<<"$r"
check_eq "muse spark: all 5 articles match" 5 "$(jq -r '.total.estimated' <<<"$r")"
check "total has estimated, lower, upper" jq -e '.total | has("estimated") and has("lower") and has("upper")' <<<"$r"
check "hits carry rank, id, score, title, snippet" jq -e '.hits[0] | has("rank") and has("id") and has("score") and has("title") and has("snippet")' <<<"$r"
check "ranks count from 1" jq -e '[.hits[].rank] == [range(1; (.hits|length)+1)]' <<<"$r"
check "scores are in descending order" jq -e '[.hits[].score] as $s | $s == ($s | sort | reverse)' <<<"$r"
check "the snippet marks matched terms" jq -e '.hits[0].snippet | test("<b>(?i:muse)</b>")' <<<"$r"
check "query, offset, limit and took_ms echoed" jq -e 'has("query") and has("offset") and has("limit") and has("took_ms")' <<<"$r"

r=$(get '/search?q=TSMC+revenue')
check_eq "TSMC revenue: the newsletter with the TSMC story ranks first" "000_2f9b59c24e6afe2f.txt" "$(jq -r '.hits[0].id' <<<"$r")"
r=$(get '/search?q=Android+Play+Services')
check_eq "Android Play Services: the Daily Brief article ranks first" "003_bdfb886f477a69a6.txt" "$(jq -r '.hits[0].id' <<<"$r")"
r=$(get '/search?q=%E0%A4%AA%E0%A5%8D%E0%A4%B0%E0%A4%A4%E0%A4%BF%E0%A4%95%E0%A5%8D%E0%A4%B0%E0%A4%BF%E0%A4%AF%E0%A4%BE')
check_eq "the Hindi word finds its article" "002_93673a55b2262d66.txt" "$(jq -r '.hits[0].id' <<<"$r")"
r=$(get '/search?q=%22Meta+Superintelligence+Labs%22')
check "a quoted phrase matches" jq -e '.total.estimated >= 1' <<<"$r"
r=$(get '/search?q=title:proprietary')
check_eq "title: searches titles only" "001_f96bdf5f0f0f437e.txt" "$(jq -r '[.hits[].id] | sort | join(",")' <<<"$r" | grep -o '001_f96bdf5f0f0f437e.txt' | head -n1)"

r=$(get '/search?q=muse&limit=2')
check_eq "limit=2 gives 2 hits" 2 "$(jq -r '.hits | length' <<<"$r")"
second=$(jq -r '.hits[1].id' <<<"$r")
r=$(get '/search?q=muse&limit=1&offset=1')
check_eq "offset=1 starts at the second hit" "$second" "$(jq -r '.hits[0].id' <<<"$r")"
check_eq "offset hits keep their overall rank" 2 "$(jq -r '.hits[0].rank' <<<"$r")"
r=$(get '/search?q=muse&snippet=0')
check "snippet=0 leaves snippets out" jq -e '.hits | length > 0 and all(has("snippet") | not)' <<<"$r"
r=$(get '/search?q=xylophonequagmire')
check_eq "a query with no match: zero hits, status 200" 0 "$(jq -r '.hits | length' <<<"$r")"
r=$(get '/search?q=%28muse+AND')
check "a query that does not parse is searched as words" jq -e '.hits | length > 0' <<<"$r"
# libxapian's parser leaks on this one (tests/valgrind.supp); it must still be answered.
r=$(get '/search?q=muse+AND+ADJ%2F2+spark')
check "an operator followed by ADJ/2 is answered" jq -e '.hits | length > 0' <<<"$r"

post=$(curl -s -m 10 -X POST -H 'Content-Type: application/json' -d '{"q": "muse spark", "limit": 3}' "http://127.0.0.1:$PORT/search")
getr=$(get '/search?q=muse+spark&limit=3')
check_eq "POST /search returns the hits GET does" "$(jq -c '[.hits[].id]' <<<"$getr")" "$(jq -c '[.hits[].id]' <<<"$post")"

unix=$(curl -s -m 10 --unix-socket "$SOCK" 'http://localhost/search?q=muse+spark&limit=3')
check_eq "the Unix socket returns the same hits" "$(jq -c '[.hits[].id]' <<<"$getr")" "$(jq -c '[.hits[].id]' <<<"$unix")"
check_eq "the Unix socket is not world-accessible" "" "$(find "$SOCK" -perm -o=w)"

d=$(get /doc/003_bdfb886f477a69a6.txt)
check_eq "/doc/{id} returns the article" "Meta abandons open-source AI playbook with first proprietary model from Superintelligence Labs" "$(jq -r .title <<<"$d")"
check "/doc/{id} has the full text" jq -e '.text | length > 5000' <<<"$d"

# --- errors -----------------------------------------------------------------------------
err_code() { jq -r '.error.code' 2>/dev/null; }
check_eq "missing q: 400" 400 "$(status GET /search)"
check_eq "missing q: JSON error code" missing_parameter "$(get /search | err_code)"
check_eq "limit over 1000: 400" 400 "$(status GET '/search?q=a&limit=5000')"
check_match "limit error names the limit" "1000" "$(get '/search?q=a&limit=5000' | jq -r .error.message)"
check_eq "negative offset: 400" 400 "$(status GET '/search?q=a&offset=-1')"
check_eq "unknown parameter: 400" 400 "$(status GET '/search?q=a&frob=1')"
check_eq "a parameter given twice: 400 (which was meant?)" 400 "$(status GET '/search?q=muse&q=spark')"
check_match "... naming it" "parameter 'limit' is given twice" "$(get '/search?q=muse&limit=1&limit=2' | jq -r .error.message)"
check_eq "filter may repeat" 200 "$(status GET '/search?q=muse&filter=year:2026&filter=year:2025')"
check_eq "similar articles refuse a parameter given twice too" 400 "$(status GET '/doc/003_bdfb886f477a69a6.txt/similar?limit=1&limit=2')"
check_eq "quire: a flag given again overrides (-n 1 -n 2: two hits)" 2 \
    "$("$QUIRE" --connect "127.0.0.1:$PORT" --json search -n 1 -n 2 muse | jq '.hits | length')"
check_eq "NUL byte in the query: 400" 400 "$(status GET '/search?q=a%00b')"
check_eq "invalid UTF-8 in the query: 400" 400 "$(status GET '/search?q=%ff%fe')"
check_eq "invalid JSON body: 400" 400 "$(status POST /search -d '{"q": ')"
check_eq "invalid JSON body: JSON error" bad_json "$(curl -s -m 10 -d '{"q": ' "http://127.0.0.1:$PORT/search" | err_code)"
check_eq "wrong JSON type: 400" 400 "$(status POST /search -d '{"q": 5, "limit": "x"}')"
head -c 200000 /dev/zero | tr '\0' 'a' >"$T/big"
check_eq "an oversized body: 413" 413 "$(status POST /search --data-binary @"$T/big")"
# Refused from its declared length, before it is read, with the JSON error of every answer.
check_match "oversized body: the answer says 413 and closes the connection" '^http/1.1 413 .*connection: close' \
    "$(curl -s -m 10 -i --data-binary @"$T/big" "http://127.0.0.1:$PORT/search" | tr -d '\r' | tr 'A-Z' 'a-z' | tr '\n' '|')"
check_eq "oversized body: JSON error" body_too_large \
    "$(curl -s -m 10 --data-binary @"$T/big" "http://127.0.0.1:$PORT/search" | err_code)"
check_eq "PUT /search: 405" 405 "$(status PUT /search)"
check_eq "DELETE /health: 405" 405 "$(status DELETE /health)"
check_eq "unknown endpoint: 404" 404 "$(status GET /nope)"
check_eq "unknown document: 404" 404 "$(status GET /doc/no-such-doc)"
check_eq "unknown document: JSON error" not_found "$(get /doc/no-such-doc | err_code)"
check_eq "the daemon still answers after all that" ok "$(get /health | jq -r .status)"

# --- a new commit becomes visible without a restart -------------------------------------
printf 'Narwhal census completed\n\nMarine biologists counted narwhalzeta pods on 12 May 2026.\n' >"$T/c/narwhal.txt"
"$QUIRE_INDEX" -q --db "$T/db" "$T/c"
found=""
for _ in $(seq 1 $((50 * SLOW))); do
    n=$(get '/search?q=narwhalzeta' | jq -r '.hits | length')
    [ "$n" = 1 ] && { found=yes; break; }
    sleep 0.1
done
check_eq "a new article is searchable within seconds, no restart" yes "$found"

# --- numbers in parameters: digits only (the one number parser, lib/number.c) -----------
# A sign, a blank or trailing junk is refused, never read as some other number.
for v in abc 5x %2B5 %205 5%20 -1 99999999999999999999 ''; do
    check_eq "/search?limit=$v is refused (400)" 400 "$(status GET "/search?q=muse&limit=$v")"
    check_eq "/complete?limit=$v is refused (400)" 400 "$(status GET "/complete?q=mu&limit=$v")"
done
check_match "...with a sentence naming the parameter and its range" "parameter 'limit' must be a whole number from 1 to 20" "$(get '/complete?q=mu&limit=%2B5')"
check_eq "/search?limit=007 is 7" 7 "$(get '/search?q=muse&limit=007' | jq -r .limit)"

# --- signals ----------------------------------------------------------------------------
kill -HUP "$QPID"
sleep 0.3
check_eq "after SIGHUP the daemon answers" 6 "$(get /health | jq -r .docs)"
# Requests in flight while SIGTERM arrives all complete with a full JSON answer or are
# refused at connect; none is cut off half-way.
for i in $(seq 1 40); do curl -s -m $((5 * SLOW)) "http://127.0.0.1:$PORT/search?q=muse+spark" -o "$T/inflight.$i" & done
kill -TERM "$QPID"
wait_rc=0
for _ in $(seq 1 $((100 * SLOW))); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.1; done
wait "$QPID"; rc=$?
wait
check_eq "SIGTERM: quired exits 0" 0 "$rc"
bad=0
for i in $(seq 1 40); do
    [ -s "$T/inflight.$i" ] || continue
    jq -e '.hits' "$T/inflight.$i" >/dev/null 2>&1 || bad=$((bad + 1))
done
check_eq "no in-flight response was cut off" 0 "$bad"
check "the Unix socket file is removed on exit" test ! -e "$SOCK"

# --- number settings: junk is refused at start, naming the setting and its range --------
for v in abc 4x ' 4' +4 '' 4.0 99999999999999999999 0; do
    out=$("$QUIRED" --db "$T/db" --threads "$v" --check-config 2>&1); rc=$?
    check_eq "--threads '$v' is refused (exit 2)" 2 "$rc"
    check_match "...saying what it must be" "threads must be a whole number from 1 to [0-9]+, not '" "$out"
done
printf '[quired]\nmax_body = 64k\n' >"$T/junk.ini"
out=$("$QUIRED" --db "$T/db" --config "$T/junk.ini" --check-config 2>&1); rc=$?
check_eq "max_body = 64k in the config file is refused (exit 2)" 2 "$rc"
check_match "...naming the setting" "max-body must be a whole number from 16 to [0-9]+, not '64k'" "$out"
for v in 0999 660x -1 ' 0660' 07777; do
    out=$("$QUIRED" --db "$T/db" --socket-mode "$v" --check-config 2>&1); rc=$?
    check_eq "--socket-mode '$v' is refused (exit 2)" 2 "$rc"
done
check_match "...as an octal mode" "socket-mode must be an octal mode such as 0660" "$out"
"$QUIRED" --db "$T/db" --socket-mode 0640 --threads 3 --check-config >/dev/null 2>&1; rc=$?
check_eq "--socket-mode 0640 --threads 3 is accepted" 0 "$rc"

finish
