#!/bin/bash
# tests/soak/soak.sh -- several minutes of mixed load on the real daemon while the index is
# reindexed, rebuilt and rolled back; then /health must answer, memory must not have grown
# past a bound, and no response may have been malformed. Not part of make check (it takes
# SOAK_SECONDS, default 300); run it by hand: QUIRE_BUILD=. bash tests/soak/soak.sh
# Needs wrk (Debian package wrk).
. "$(dirname "$0")/../lib.sh"
SECS=${SOAK_SECONDS:-300}
CONNS=${SOAK_CONNECTIONS:-64}
command -v wrk >/dev/null || { echo "soak.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }

mkdir -p "$T/rc"
ln -s "$SHARED/corpora/reuters-21578/docs.jsonl" "$T/rc/reuters.jsonl"
"$QUIRE_INDEX" -q --db "$T/db" "$T/rc" || exit 2
start_quired "$T/db" --quiet || exit 2
rss() { awk '/^VmRSS/ {print $2}' "/proc/$QPID/status"; }
get '/search?q=oil' >/dev/null
rss0=$(rss)

# Reindex while the load runs: incremental runs with new documents, a rebuild, a rollback.
(
    n=0
    end=$((SECONDS + SECS))
    while [ $SECONDS -lt $end ]; do
        n=$((n + 1))
        echo "{\"id\": \"soak-$n\", \"title\": \"Soak record $n\", \"body\": \"soakword$n oil\"}" >>"$T/rc/extra.jsonl"
        "$QUIRE_INDEX" -q --db "$T/db" "$T/rc"
        [ $((n % 10)) = 0 ] && "$QUIRE_INDEX" -q --rebuild --db "$T/db" "$T/rc"
        [ $((n % 25)) = 0 ] && "$QUIRE_INDEX" -q --rollback --db "$T/db"
        sleep 2
    done
    echo "$n" >"$T/reindex.count"
) &
reindexer=$!

wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s -s "$(dirname "$0")/mixed.lua" "http://127.0.0.1:$PORT" >"$T/wrk.out" 2>&1
wait "$reindexer"
line=$(grep '^soak:' "$T/wrk.out")
rss1=$(rss)
echo "# $line"
echo "# reindex runs: $(cat "$T/reindex.count")"
echo "# quired RSS: ${rss0} KB before, ${rss1} KB after"
check "the soak ran (wrk reported)" test -n "$line"
check_eq "no connection, read or timeout errors" "0 0 0" "$(sed -n 's/.*errors_connect=\([0-9]*\) errors_read=\([0-9]*\) errors_timeout=\([0-9]*\).*/\1 \2 \3/p' <<<"$line")"
check_eq "no 5xx answers and none that was not JSON" "0 0" "$(sed -n 's/.*status_5xx=\([0-9]*\) not_json=\([0-9]*\).*/\1 \2/p' <<<"$line")"
check_eq "/health answers after the soak" ok "$(get /health | jq -r .status)"
check "memory stayed under 200 MB (${rss1} KB)" test "$rss1" -lt 204800
stop_quired
finish
