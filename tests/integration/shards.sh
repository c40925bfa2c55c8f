#!/bin/bash
# Integration tests of sharded indexes: quire-index --shards, three real xapian-tcpsrv shard
# servers on loopback ports, quired over the shard map. Results over the shards must equal
# those of one database; a stopped or killed shard server must never hang quired, and a
# restarted one is used again without restarting quired.
. "$(dirname "$0")/../lib.sh"

REUTERS="$SHARED/corpora/reuters-21578/docs.jsonl"
[ -r "$REUTERS" ] || { not_ok "reuters-21578 corpus readable at $REUTERS"; finish; }
command -v xapian-tcpsrv >/dev/null || { not_ok "xapian-tcpsrv installed (Debian xapian-tools)"; finish; }
TIMEOUT_MS=1000

# --- building ---------------------------------------------------------------------------
"$QUIRE_INDEX" -q --db "$T/one" "$REUTERS" || { not_ok "index reuters as one database"; finish; }
out=$("$QUIRE_INDEX" --json --shards 3 --db "$T/three" "$REUTERS")
check_eq "--shards 3 indexes all 21,577 documents" 21577 "$(jq -r .added <<<"$out")"
check_eq "--shards 3 reports 3 shards" 3 "$(jq -r .shards <<<"$out")"
check "the shard map lists the 3 shard directories" grep -qx 'auto shard-2-of-3/current' "$T/three/shards"
check "--shards writes the spelling data of all shards to DIR/spelling" xapian-delve "$T/three/spelling"
sum=0
for k in 0 1 2; do
    n=$("$QUIRE" --db "$T/three/shard-$k-of-3" --json health | jq -r .docs)
    sum=$((sum + n))
    check_match "shard $k holds about a third of the documents ($n)" '^(6[5-9]|7[0-9])[0-9][0-9]$' "$n"
done
check_eq "the shards hold 21,577 documents in all" 21577 "$sum"
# Every id in exactly one shard: the shards' id terms, concatenated, have no duplicate.
ids_in() { "$QUIRE" --db "$1" --json search -n 1000 --no-snippet "$2" | jq -r '.hits[].id'; }
dups=$(for k in 0 1 2; do ids_in "$T/three/shard-$k-of-3" "oil"; done | sort | uniq -d | wc -l)
check_eq "no document is in two shards" 0 "$dups"

out=$("$QUIRE_INDEX" --json --shards 3 --db "$T/three" "$REUTERS")
check_eq "an unchanged rerun over 3 shards changes nothing" "0 0 21577" \
    "$(jq -r '"\(.added + .updated) \(.deleted) \(.unchanged)"' <<<"$out")"

# --- three shard servers ------------------------------------------------------------------
# start_shard K: serves shard K read-only on a free loopback port (SHARD_PORT[K]); the
# server forks per connection, so it runs in a process group of its own (SHARD_PGID[K]).
declare -a SHARD_PORT SHARD_PGID
start_shard() {
    k=$1; port=${2:-}
    for _ in $(seq 1 20); do
        [ -n "$port" ] || port=$((20000 + RANDOM % 40000))
        log="$T/shard$k.log"
        setsid xapian-tcpsrv --interface 127.0.0.1 --port "$port" "$T/three/shard-$k-of-3/current" >"$log" 2>&1 &
        pid=$!
        for _ in $(seq 1 50); do
            grep -q Listening "$log" && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if grep -q Listening "$log" && kill -0 "$pid" 2>/dev/null; then
            SHARD_PORT[$k]=$port; SHARD_PGID[$k]=$pid
            DAEMON_PIDS="$DAEMON_PIDS -$pid"
            return 0
        fi
        kill -9 -- "-$pid" 2>/dev/null
        [ -n "${2:-}" ] && sleep 0.5 || port=""
    done
    return 1
}
for k in 0 1 2; do
    start_shard $k || { not_ok "xapian-tcpsrv serves shard $k"; finish; }
done
ok "three xapian-tcpsrv shard servers listen on loopback ports ${SHARD_PORT[*]}"
{
    echo "# three shards on three servers"
    echo "#quire-spelling $T/three/spelling"
    echo "remote 127.0.0.1:${SHARD_PORT[0]}"
    echo "remote tcp 127.0.0.1 ${SHARD_PORT[1]}"
    echo "remote 127.0.0.1:${SHARD_PORT[2]}"
} >"$T/remote.map"

start_quired "$T/one" || { not_ok "quired on one database"; finish; }
P1=$PORT
start_quired "$T/remote.map" --shard-timeout-ms $TIMEOUT_MS || { not_ok "quired on the shard map"; finish; }
PR=$PORT
start_quired "$T/three" || { not_ok "quired on the local sharded index"; finish; }
PL=$PORT
ok "quired serves one database, the remote shard map and the local sharded index"

h=$(curl -s -m 10 "http://127.0.0.1:$PR/health")
check_eq "/health over remote shards: ok" ok "$(jq -r .status <<<"$h")"
check_eq "/health over remote shards counts every document" 21577 "$(jq -r .docs <<<"$h")"
check_eq "/health lists 3 shards, all up" "up up up" "$(jq -r '[.shards[].state] | join(" ")' <<<"$h")"
check_match "/metrics reports each shard" "quire_shard_up\\{shard=\"127.0.0.1:${SHARD_PORT[1]}\"\\} 1" \
    "$(curl -s -m 10 "http://127.0.0.1:$PR/metrics")"

# --- equality: 50 queries from the corpus titles ------------------------------------------
# Top 100 (no snippets), scores, totals and facet counts (facets make Xapian see every
# match, so the totals are exact). Hits of equal score have no defined order (Xapian breaks
# ties by document number, which sharding renumbers), so each run of equal scores is
# compared as a set, and the run cut off by the limit by its scores only. Ids are compared
# without duplicate collapsing (dedup=0): among identical texts of equal score, which one
# represents the group is also decided by document number. With collapsing (the default)
# the scores, totals and facets are compared.
NORM='def norm: ([.hits[] | {id, s: ((.score * 1e9) | round)}]) as $h
  | ($h | length) as $n | (if $n > 0 then $h[-1].s else null end) as $last
  | {total, facets, scores: [$h[].s],
     groups: ((if $n == 100 then [$h[] | select(.s != $last)] else $h end)
              | group_by(.s) | map(map(.id) | sort))};
  norm'
awk 'NR % 400 == 7' "$REUTERS" | jq -r 'select(.title != "") | .title' | head -n 50 >"$T/queries"
nq=$(wc -l <"$T/queries")
check_eq "50 queries drawn from the corpus titles" 50 "$nq"
ask() {
    curl -s -m 20 -G "http://127.0.0.1:$1/search" --data-urlencode "q=$2" \
        -d limit=100 -d snippet=0 -d facets=category,year -d dedup="${3:-0}"
}
mis_remote=0; mis_local=0; mis_dedup=0; strict=0; compared=0
while IFS= read -r q; do
    a=$(ask "$P1" "$q" | jq -c "$NORM")
    r=$(ask "$PR" "$q" | jq -c "$NORM")
    l=$(ask "$PL" "$q" | jq -c "$NORM")
    compared=$((compared + 1))
    [ -n "$a" ] && [ "$a" = "$r" ] || { mis_remote=$((mis_remote + 1)); echo "# remote differs for: $q"; }
    [ -n "$a" ] && [ "$a" = "$l" ] || { mis_local=$((mis_local + 1)); echo "# local shards differ for: $q"; }
    x=$(ask "$P1" "$q" | jq -c '[.hits[].id]'); y=$(ask "$PR" "$q" | jq -c '[.hits[].id]')
    [ "$x" = "$y" ] || strict=$((strict + 1))
    a=$(ask "$P1" "$q" 1 | jq -c "$NORM | del(.groups)")
    r=$(ask "$PR" "$q" 1 | jq -c "$NORM | del(.groups)")
    [ -n "$a" ] && [ "$a" = "$r" ] || { mis_dedup=$((mis_dedup + 1)); echo "# with dedup, remote differs for: $q"; }
done <"$T/queries"
echo "# compared $compared queries; $strict differ only in the order of equal scores"
check_eq "remote shards: top 100 ids, scores, totals and facets equal one database's (mismatches)" 0 "$mis_remote"
check_eq "local shards: top 100 ids, scores, totals and facets equal one database's (mismatches)" 0 "$mis_local"
check_eq "with duplicates collapsed: scores, totals and facets equal (mismatches)" 0 "$mis_dedup"

# --- filters: the same answers over shards ------------------------------------------------
# Every category of the corpus (its facet over one database) as the `filter` parameter
# with no words, then filters with words, dates, months, sources and a JSON body:
# totals, facets and the top 20 (NORM) over remote and local shards equal one database's.
cats=$(curl -s -m 20 "http://127.0.0.1:$P1/search?q=NOT+zzqqxxnotaword&facets=category&facet_limit=1000&limit=0&dedup=0" |
    jq -r '.facets.category[].value')
# The cases, Q<TAB>FILTER, and for each server one curl fetching them all in order.
{
    while IFS= read -r c; do
        [ -n "$c" ] || continue
        printf '\t%s\n' "category:$c"
    done <<<"$cats"
    printf '%s\n' $'\tdate:1987-03..1987-04' $'\tmonth:1987-10' $'date:1987-03-05\t' \
        $'oil date:..1987-03-10\t' $'oil\tyear:1987' $'crude\tsource:REUTERS' $'\tdate:2004..2005' \
        $'oil category:"crude"\t' $'oil\tcategory:ship' $'\tcategory:crude'
} >"$T/fcases"
fvals=$(grep -c . <<<"$cats")
fetchf() {
    jq -R -r --arg port "$1" 'split("\t") as [$q, $f]
        | "url = \"http://127.0.0.1:\($port)/search?limit=20&snippet=0&facets=category,year&dedup=0&q=\($q | @uri)\(if $f != "" then "&filter=\($f | @uri)" else "" end)\""' \
        <"$T/fcases" >"$T/furls.$1"
    curl -s -m 240 -K "$T/furls.$1" | jq -c "${NORM//== 100/== 20}"
}
fetchf "$P1" >"$T/f.one"; fetchf "$PR" >"$T/f.remote"; fetchf "$PL" >"$T/f.local"
ncases=$(wc -l <"$T/fcases")
fmis=0
for f in remote local; do
    n=$(paste -d '\n' "$T/f.one" "$T/f.$f" | awk 'NR % 2 { a = $0; next } $0 != a || a == "" { n++ } END { print n + 0 }')
    [ "$(wc -l <"$T/f.$f")" = "$ncases" ] || n=$((n + 1))
    fmis=$((fmis + n))
    [ "$n" = 0 ] || echo "# filters over $f shards: $n of $ncases cases differ"
done
echo "# $fvals categories checked over shards, and 10 forms with words, dates and sources ($ncases cases)"
check_eq "every case was answered by one database" "$ncases" "$(grep -c '"total"' "$T/f.one")"
check "every category of the corpus was among them (more than 50)" test "$fvals" -gt 50
check_eq "filters: totals, facets and ranking over remote and local shards equal one database's (mismatches)" 0 "$fmis"
body='{"q": "oil", "filter": {"category": ["crude", "ship"], "date": {"from": "1987-03", "to": "1987-06-15"}}, "limit": 100, "snippet": false, "dedup": false, "facets": "category,year"}'
postf() { curl -s -m 20 -X POST -d "$body" "http://127.0.0.1:$1/search" | jq -c "$NORM"; }
a=$(postf "$P1")
check "a JSON body's filters match something" jq -e '.total.lower > 10' <<<"$a"
check_eq "a JSON body's filters: remote shards equal one database" "$a" "$(postf "$PR")"
check_eq "a JSON body's filters: local shards equal one database" "$a" "$(postf "$PL")"
a=$(curl -s -m 10 "http://127.0.0.1:$P1/search?filter=category:crude&limit=30&snippet=0" | jq -c '[.hits[].date]')
r=$(curl -s -m 10 "http://127.0.0.1:$PR/search?filter=category:crude&limit=30&snippet=0" | jq -c '[.hits[].date]')
check_eq "a filter with no words: newest first over remote shards too" "$a" "$r"
check_eq "date:yesterday over remote shards: 400" 400 \
    "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PR/search?q=date:yesterday")"

a=$(curl -s -m 10 "http://127.0.0.1:$P1/search?q=oil+prices&sort=date&limit=20&snippet=0" | jq -c '[.hits[] | [.id, .date]]')
r=$(curl -s -m 10 "http://127.0.0.1:$PR/search?q=oil+prices&sort=date&limit=20&snippet=0" | jq -c '[.hits[] | [.id, .date]]')
check_eq "sorting by date gives the same dates over remote shards" "$(jq -c 'map(.[1])' <<<"$a")" "$(jq -c 'map(.[1])' <<<"$r")"
# Hits of equal score come in document-number order, which sharding changes: compare the
# snippets of the articles both answers hold.
a=$(curl -s -m 10 "http://127.0.0.1:$P1/search?q=cocoa&limit=20" | jq -c '[.hits[] | {(.id): .snippet}] | add')
r=$(curl -s -m 10 "http://127.0.0.1:$PR/search?q=cocoa&limit=20" | jq -c '[.hits[] | {(.id): .snippet}] | add')
check "snippets over remote shards equal one database's (the articles both return, at least 10)" \
    jq -n -e --argjson a "$a" --argjson r "$r" \
    '[$a | keys[] as $k | select($r[$k] != null) | $a[$k] == $r[$k]] | length >= 10 and all'

id=$(curl -s -m 10 "http://127.0.0.1:$P1/search?q=cocoa&limit=1" | jq -r '.hits[0].id')
check_eq "/doc/{id} over remote shards returns the article" \
    "$(curl -s -m 10 "http://127.0.0.1:$P1/doc/$id" | jq -c '[.title, (.text | length)]')" \
    "$(curl -s -m 10 "http://127.0.0.1:$PR/doc/$id" | jq -c '[.title, (.text | length)]')"
check_eq "/doc of an unknown id over remote shards: 404" 404 \
    "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PR/doc/no-such-id")"
# Similar articles: equal scores again tie by document number, and collapsed duplicates
# may be represented by another copy; at least 8 of the top 10 are the same articles.
common=$(jq -n --argjson a "$(curl -s -m 10 "http://127.0.0.1:$P1/doc/1200/similar?limit=10" | jq -c '[.hits[].id]')" \
    --argjson b "$(curl -s -m 10 "http://127.0.0.1:$PR/doc/1200/similar?limit=10" | jq -c '[.hits[].id]')" \
    '[$a[] | select(. as $x | $b | index($x))] | length')
check_match "similar articles over remote shards: the same articles ($common of 10)" '^(8|9|10)$' "$common"
# The new parameters mean the same over shards: case-blind words, excluded-only queries and
# exact totals (exact=1: every match counted), fields.
bad=""
for q in 'Oil Prices' 'oil prices' 'COCOA' '-oil' '-oil -prices' 'NOT cocoa' '"Crude Oil"'; do
    a=$(curl -s -m 20 -G "http://127.0.0.1:$P1/search" --data-urlencode "q=$q" -d limit=0 -d exact=1 -d dedup=0 | jq -c .total)
    for p in "$PR" "$PL"; do
        b=$(curl -s -m 20 -G "http://127.0.0.1:$p/search" --data-urlencode "q=$q" -d limit=0 -d exact=1 -d dedup=0 | jq -c .total)
        [ -n "$a" ] && [ "$a" = "$b" ] || bad="$bad[$q on $p] $a vs $b; "
    done
done
check_eq "exact totals of case-blind and excluded-only queries equal one database's over remote and local shards" "" "$bad"
check_eq "fields= over remote shards: the same keys" \
    "$(curl -s -m 10 "http://127.0.0.1:$P1/search?q=cocoa&limit=3&fields=title,date" | jq -c '[.hits[] | keys]')" \
    "$(curl -s -m 10 "http://127.0.0.1:$PR/search?q=cocoa&limit=3&fields=title,date" | jq -c '[.hits[] | keys]')"
check_eq "\"did you mean\" over remote shards (the map's #quire-spelling) equals one database's" \
    "$(curl -s -m 10 "http://127.0.0.1:$P1/search?q=olil+pricse&limit=1" | jq -r .suggestion)" \
    "$(curl -s -m 10 "http://127.0.0.1:$PR/search?q=olil+pricse&limit=1" | jq -r .suggestion)"
# Xapian's own tools read the map too (in its own syntax: "remote HOST:PORT" lines).
sed "s/^remote tcp 127.0.0.1 \([0-9]*\)$/remote 127.0.0.1:\1/" "$T/remote.map" >"$T/xapian.map"
check "the map with a #quire-spelling line still opens in Xapian's own tools" xapian-delve "$T/xapian.map"
check_eq "\"did you mean\" over local shards equals one database's" \
    "$("$QUIRE" --db "$T/one" --json search 'olil pricse' | jq -r .suggestion)" \
    "$("$QUIRE" --db "$T/three" --json search 'olil pricse' | jq -r .suggestion)"
check_eq "quire --db over the shard map returns the daemon's hits" \
    "$(curl -s -m 10 "http://127.0.0.1:$P1/search?q=grain+exports&limit=10&snippet=0" | jq -c '[.hits[].id]')" \
    "$("$QUIRE" --db "$T/remote.map" --json search -n 10 --no-snippet grain exports | jq -c '[.hits[].id]')"

# --- a shard server stops answering, then dies, then comes back -----------------------------
kill -STOP -- "-${SHARD_PGID[1]}"
: >"$T/fail.results"
for i in $(seq 1 24); do
    if [ $((i % 2)) = 0 ]; then echo "q=oil&limit=10&partial=1"; else echo "q=oil&limit=10"; fi
done | awk '{ print NR " " $0 }' | xargs -P 4 -L 1 sh -c 'curl -s -m 30 -o "$0/fail.body.$2" -w "%{http_code} %{time_total}\n" "http://127.0.0.1:$1/search?$3"' "$T" "$PR" >>"$T/fail.results"
bad=0; slow=0; partial=0; refused=0
for f in "$T"/fail.body.*; do
    if jq -e '.shards.failed == 1 and (.hits | type == "array")' "$f" >/dev/null 2>&1; then
        partial=$((partial + 1))
    elif jq -e '.error.code == "shard_unavailable"' "$f" >/dev/null 2>&1; then
        refused=$((refused + 1))
    else
        bad=$((bad + 1)); echo "# malformed: $(head -c 200 "$f")"
    fi
done
limit_s=$(awk -v t=$TIMEOUT_MS 'BEGIN { print t / 1000 + 1.5 }')
slow=$(awk -v l="$limit_s" '$2 > l' "$T/fail.results" | wc -l)
maxt=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$T/fail.results")
echo "# stopped shard: $partial partial results, $refused refusals (503), slowest ${maxt}s (timeout ${TIMEOUT_MS} ms)"
check_eq "stopped shard: every response is a marked partial result or a 503 naming the shard" 0 "$bad"
check_eq "stopped shard: partial=1 requests all get the other shards' results" 12 "$partial"
check_eq "stopped shard: no response takes longer than the timeout plus 1.5 s" 0 "$slow"
check_match "stopped shard: the 503 names the shard" "127.0.0.1:${SHARD_PORT[1]}" \
    "$(curl -s -m 10 "http://127.0.0.1:$PR/search?q=oil" | jq -r .error.message)"
degraded=0
for _ in 1 2 3 4 5 6; do
    curl -s -m 10 "http://127.0.0.1:$PR/search?q=oil&partial=1" >/dev/null
    [ "$(curl -s -m 10 "http://127.0.0.1:$PR/health" | jq -r '[.status, (.shards[1].state)] | join(" ")')" = "degraded down" ] &&
        degraded=$((degraded + 1))
done
check "/health reports the shard down (status degraded)" test "$degraded" -gt 0
check_match "/metrics reports the shard down" "quire_shard_up\\{shard=\"127.0.0.1:${SHARD_PORT[1]}\"\\} 0" \
    "$(for _ in 1 2 3 4; do curl -s -m 10 "http://127.0.0.1:$PR/metrics"; done)"

kill -9 -- "-${SHARD_PGID[1]}" 2>/dev/null
sleep 0.2
codes=""
for _ in 1 2 3 4; do
    codes="$codes $(curl -s -m 10 -o "$T/dead.body" -w '%{http_code}' "http://127.0.0.1:$PR/search?q=oil&partial=1")"
    jq -e '.shards.failed == 1' "$T/dead.body" >/dev/null 2>&1 || codes="$codes(unmarked)"
done
check_eq "killed shard: partial results, marked" " 200 200 200 200" "$codes"
check "quired still runs" kill -0 "$QPID"

start_shard 1 "${SHARD_PORT[1]}" || not_ok "the shard server restarts on its port"
t0=$(date +%s); back=0
for _ in $(seq 1 120); do
    good=0
    for _ in 1 2 3 4; do
        [ "$(ask "$PR" oil | jq -c "$NORM" 2>/dev/null)" = "$(ask "$P1" oil | jq -c "$NORM")" ] &&
            good=$((good + 1))
    done
    [ $good = 4 ] && { back=1; break; }
    sleep 0.5
done
echo "# full results again $(($(date +%s) - t0)) s after the shard server restarted"
check_eq "restarted shard: full results again without restarting quired" 1 "$back"

# --- reindexing a sharded index -------------------------------------------------------------
mkdir -p "$T/c"
head -n 150 "$REUTERS" >"$T/c/a.jsonl"
sed -n 151,300p "$REUTERS" >"$T/c/b.jsonl"
"$QUIRE_INDEX" -q --shards 3 --db "$T/inc" "$T/c" || not_ok "index 300 documents over 3 shards"
sed -i '1s/"title": *"[^"]*"/"title": "ZANZIBAR CLOVE HARVEST"/' "$T/c/a.jsonl"
out=$("$QUIRE_INDEX" --json --shards 3 --db "$T/inc" "$T/c")
check_eq "incremental run over shards: the changed file's documents are replaced once" "150 0" \
    "$(jq -r '"\(.updated) \(.added)"' <<<"$out")"
check_eq "...and the unchanged file's are not touched" 150 "$(jq -r .unchanged <<<"$out")"
check_eq "the updated title is found" 1 "$("$QUIRE" --db "$T/inc" --json search zanzibar | jq -r '.hits | length')"
out=$("$QUIRE_INDEX" --json --shards 2 --db "$T/inc" "$T/c")
check_eq "changing 3 shards to 2: the documents move" "2 300" "$(jq -r '"\(.shards) \(.added)"' <<<"$out")"
check_eq "the old shard directories are gone" "shard-0-of-2 shard-1-of-2" \
    "$(cd "$T/inc" && echo shard-*)"
check_eq "2 shards hold the 300 documents once" 300 \
    "$(( $("$QUIRE" --db "$T/inc/shard-0-of-2" --json health | jq .docs) + $("$QUIRE" --db "$T/inc/shard-1-of-2" --json health | jq .docs) ))"
check_eq "after the move the search still finds the document" 1 "$("$QUIRE" --db "$T/inc" --json search zanzibar | jq -r '.hits | length')"
"$QUIRE_INDEX" -q --shards 2 --shard 1 --db "$T/host1" "$T/c"
check_eq "--shard 1 writes only that shard (as on the host that serves it)" "quire.lock shard-1-of-2" \
    "$(cd "$T/host1" && echo *)"
check_eq "...holding the same documents as shard 1 of the full build" \
    "$("$QUIRE" --db "$T/inc/shard-1-of-2" --json health | jq .docs)" \
    "$("$QUIRE" --db "$T/host1/shard-1-of-2" --json health | jq .docs)"
"$QUIRE_INDEX" -q --db "$T/single" "$T/c"
"$QUIRE_INDEX" -q --shards 2 --db "$T/single" "$T/c" 2>"$T/err"
check_eq "--shards on an index of one database: usage error (2)" 2 $?
check_match "...with a clear message" "one database" "$(cat "$T/err")"
finish
