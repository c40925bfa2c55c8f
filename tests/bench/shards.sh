#!/bin/sh
# tests/bench/shards.sh -- `make bench` (after run.sh): the sharding table.
#
# 1. Full builds of the same corpus: raw single-thread Xapian (tests/bench/xapian-baseline,
#    the bar), quire-index into one database, and quire-index --shards 2 and 4 (the shards
#    written in parallel, at most one per core). Peak RSS is the largest single process.
# 2. Query runs (wrk -t2 -c4, the benchmark's AND queries, top 10, no snippets) against
#    quired over one database, over the 2 and 4 local shards (one Xapian stub database), and
#    over 2 and 4 shards each served by its own xapian-tcpsrv on loopback. Runs are
#    interleaved over BENCH_ROUNDS rounds; the table gives medians.
#
# Needs what run.sh needs (wrk; Debian package xapian-tools for xapian-tcpsrv) and installs
# nothing. Knobs: BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_SHARD_CORPORA (wikipedia-en
# and imdb-reviews; the first one is queried), BENCH_QUERIES, BENCH_WORK.
set -u

BUILD=${QUIRE_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)}
SRC=${QUIRE_SRC:-$BUILD}
SHARED=${QUIRE_SHARED:-$SRC/../shared}
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CORPORA=${BENCH_SHARD_CORPORA:-"$SHARED/corpora/wikipedia-en/docs.jsonl.gz $SHARED/corpora/imdb-reviews/docs.jsonl.gz"}
QUERIES=${BENCH_QUERIES:-$SRC/tests/bench/queries-wiki.txt}
WORK=${BENCH_WORK:-$BUILD/bench-work}-shards
REPORT="$BUILD/bench-shards.md"
LUA="$SRC/tests/bench/wrk-queries.lua"
QUIRE_INDEX="$BUILD/indexer/quire-index"
QUIRED="$BUILD/daemon/quired"
BASELINE="$BUILD/tests/bench/xapian-baseline"

say() { printf '%s\n' "$*" >&2; }
for p in "$QUIRE_INDEX" "$QUIRED" "$BASELINE"; do
    [ -x "$p" ] || { say "bench-shards: $p is not built (run 'make bench')"; exit 2; }
done
for c in $CORPORA; do
    [ -r "$c" ] || { say "bench-shards: cannot read the corpus $c"; exit 2; }
done
HAVE_WRK=1 HAVE_TCPSRV=1
command -v wrk >/dev/null 2>&1 || { HAVE_WRK=0; say "bench-shards: wrk not found (Debian package 'wrk'): no query rows."; }
command -v xapian-tcpsrv >/dev/null 2>&1 || { HAVE_TCPSRV=0; say "bench-shards: xapian-tcpsrv not found (Debian package 'xapian-tools'): no remote rows."; }

rm -rf "$WORK"
mkdir -p "$WORK/runs" || exit 2
PIDS=""
cleanup() {
    for p in $PIDS; do kill -9 -- "$p" 2>/dev/null; done
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
RES="$WORK/results"
: >"$RES"
put() { printf '%s %s\n' "$1" "$2" >>"$RES"; }
get() { awk -v k="$1" '$1 == k { v = $2 } END { print v }' "$RES"; }

# timed KEY CMD...: wall seconds and peak RSS (MB, the largest process) of one build. The
# builds before it are first written out (sync), so their writeback is not on its time.
timed() {
    key=$1; shift
    sync
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$WORK/runs/$key.time" "$@" >"$WORK/runs/$key.out" 2>"$WORK/runs/$key.err"
    rc=$?
    t1=$(date +%s.%N)
    if [ $rc -gt 1 ]; then
        say "bench-shards: $key failed (exit $rc): $(tail -n2 "$WORK/runs/$key.err" | tr '\n' ' ')"
        return 1
    fi
    put "$key.secs" "$(echo "$t1 $t0" | awk '{ printf "%.2f", $1 - $2 }')"
    put "$key.rss" "$(tail -n1 "$WORK/runs/$key.time" | awk '{ printf "%.0f", $1 / 1024 }')"
}

# ---- builds ----------------------------------------------------------------------------
n=0
for corpus in $CORPORA; do
    n=$((n + 1))
    label=$(basename "$(dirname "$corpus")")
    put "corpus.$n" "$label"
    say "bench-shards: building $label: raw Xapian, one database, 2 and 4 shards"
    timed "$n.xapian" "$BASELINE" index "$WORK/$n-xapian" "$corpus"
    rm -rf "$WORK/$n-xapian"
    timed "$n.one" "$QUIRE_INDEX" -q --db "$WORK/$n-s1" "$corpus"
    timed "$n.s2" "$QUIRE_INDEX" -q --shards 2 --db "$WORK/$n-s2" "$corpus"
    timed "$n.s4" "$QUIRE_INDEX" -q --shards 4 --db "$WORK/$n-s4" "$corpus"
    [ $n -gt 1 ] && rm -rf "$WORK/$n-s1" "$WORK/$n-s2" "$WORK/$n-s4"
done
NCORPORA=$n

# ---- queries ---------------------------------------------------------------------------
# start_quired KEY DB: quired with 2 threads on a free port (PORT_<KEY> in $RES).
start_quired() {
    log="$WORK/runs/quired-$1.log"
    "$QUIRED" --db "$2" --listen 127.0.0.1:0 --threads 2 --quiet 2>"$log" &
    pid=$!
    PIDS="$PIDS $pid"
    for _ in $(seq 1 100); do
        port=$(sed -n 's/^quired: listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$log" | head -n1)
        [ -n "$port" ] && { put "port.$1" "$port"; return 0; }
        sleep 0.1
    done
    say "bench-shards: quired on $2 did not start: $(cat "$log")"
    return 1
}
# remote_map N: serves the N local shards of corpus 1 with xapian-tcpsrv, writes a map.
remote_map() {
    map="$WORK/remote-$1.map"
    : >"$map"
    k=0
    while [ $k -lt "$1" ]; do
        for _ in 1 2 3 4 5 6 7 8; do
            port=$(awk -v s="$$$k" 'BEGIN { srand(); printf "%d", 20000 + (rand() * 40000 + s) % 40000 }')
            setsid xapian-tcpsrv --interface 127.0.0.1 --port "$port" "$WORK/1-s$1/shard-$k-of-$1/current" \
                >"$WORK/runs/tcpsrv-$1-$k.log" 2>&1 &
            pid=$!
            for _ in $(seq 1 50); do grep -q Listening "$WORK/runs/tcpsrv-$1-$k.log" && break; sleep 0.1; done
            if grep -q Listening "$WORK/runs/tcpsrv-$1-$k.log" && kill -0 $pid 2>/dev/null; then
                PIDS="$PIDS -$pid"
                echo "remote 127.0.0.1:$port" >>"$map"
                break
            fi
            kill -9 -- "-$pid" 2>/dev/null
        done
        k=$((k + 1))
    done
    [ "$(wc -l <"$map")" = "$1" ]
}

CONFIGS=""
if [ $HAVE_WRK = 1 ]; then
    start_quired one "$WORK/1-s1" && CONFIGS="$CONFIGS one"
    start_quired s2 "$WORK/1-s2" && CONFIGS="$CONFIGS s2"
    start_quired s4 "$WORK/1-s4" && CONFIGS="$CONFIGS s4"
    if [ $HAVE_TCPSRV = 1 ]; then
        remote_map 2 && start_quired r2 "$WORK/remote-2.map" && CONFIGS="$CONFIGS r2"
        remote_map 4 && start_quired r4 "$WORK/remote-4.map" && CONFIGS="$CONFIGS r4"
    fi
fi
r=1
while [ -n "$CONFIGS" ] && [ $r -le "$ROUNDS" ]; do
    say "bench-shards: query round $r of $ROUNDS"
    for c in $CONFIGS; do
        out="$WORK/runs/q-$c-$r.out"
        timeout $((SECS + 120)) wrk -t2 -c4 -d"${SECS}s" -s "$LUA" "http://127.0.0.1:$(get "port.$c")" -- "$QUERIES" 0 >"$out" 2>&1
        line=$(grep 'qps=' "$out" | tail -n1)
        [ -n "$line" ] && printf '%s\n' "$line" >>"$WORK/runs/$c.lines"
        say "bench-shards:   $c: $(printf '%s' "$line" | sed -n 's/.*qps=\([^ ]*\).*/\1/p') queries/s"
    done
    r=$((r + 1))
done

# ---- report ----------------------------------------------------------------------------
median() { sed -n "s/^.*\\b$2=\\([^ ]*\\).*$/\\1/p" "$WORK/runs/$1.lines" 2>/dev/null | sort -n |
    awk '{ v[NR] = $1 } END { if (NR) printf "%s", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else printf "—" }'; }
errs() { sed -n 's/.*errors=\([0-9]*\) non2xx=\([0-9]*\).*/\1 \2/p' "$WORK/runs/$1.lines" 2>/dev/null |
    awk '{ e += $1; n += $2 } END { printf "%d / %d", e, n }'; }
# probe KEY: the queries asked again one at a time (at most 200); the first answers that
# are not 200, with their bodies, so that failed requests in a row can be told apart.
probe() {
    shown=0
    head -n 200 "$QUERIES" | while IFS= read -r q && [ $shown -lt 5 ]; do
        enc=$(printf '%s' "$q" | od -An -tx1 | tr -d ' \n' | sed 's/../%&/g')
        code=$(curl -s -m 30 -o "$WORK/runs/probe.body" -w '%{http_code}' \
            "http://127.0.0.1:$(get "port.$1")/search?q=$enc&op=and&limit=10&snippet=0")
        [ "$code" = 200 ] && continue
        shown=$((shown + 1))
        echo "    $code for \"$q\": $(head -c 300 "$WORK/runs/probe.body")"
    done
}
{
    echo "# Sharding benchmark"
    echo
    echo "$(nproc) cores, load before the queries: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "## Full build (wall seconds; × raw Xapian = raw Xapian's seconds / these)"
    echo
    echo "| corpus | build | seconds | × raw Xapian | × one database | peak RSS MB (largest process) |"
    echo "|---|---|---:|---:|---:|---:|"
    i=1
    while [ $i -le $NCORPORA ]; do
        lab=$(get "corpus.$i")
        x=$(get "$i.xapian.secs"); one=$(get "$i.one.secs")
        for b in xapian one s2 s4; do
            s=$(get "$i.$b.secs")
            [ -n "$s" ] || continue
            case $b in
            xapian) name="raw Xapian, 1 thread (xapian-baseline)" ;;
            one) name="quire-index, one database" ;;
            s2) name="quire-index --shards 2 (2 at once)" ;;
            s4) name="quire-index --shards 4 (2 at once)" ;;
            esac
            printf '| %s | %s | %s | %s | %s | %s |\n' "$lab" "$name" "$s" "$(ratio "$x" "$s")" \
                "$(ratio "$one" "$s")" "$(get "$i.$b.rss")"
        done
        i=$((i + 1))
    done
    if [ -n "$CONFIGS" ]; then
        echo
        echo "## Queries on $(get corpus.1) (wrk -t2 -c4, ${SECS} s x $ROUNDS rounds, AND, top 10, no snippets; medians)"
        echo
        echo "| index | queries/s | p50 µs | p99 µs | × one database | errors (socket / non-2xx) |"
        echo "|---|---:|---:|---:|---:|---:|"
        base=$(median one qps)
        for c in $CONFIGS; do
            case $c in
            one) name="one database" ;;
            s2) name="2 local shards (stub database)" ;;
            s4) name="4 local shards (stub database)" ;;
            r2) name="2 shards, each on its own xapian-tcpsrv" ;;
            r4) name="4 shards, each on its own xapian-tcpsrv" ;;
            esac
            q=$(median "$c" qps)
            printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "${q:-—}" "$(median "$c" p50_us)" \
                "$(median "$c" p99_us)" \
                "$(ratio "$q" "$base")" \
                "$(errs "$c")"
        done
        echo
        echo "quired, wrk and (for the remote rows) the shard servers share the same $(nproc) cores."
        for c in $CONFIGS; do
            [ "$(errs "$c")" = "0 / 0" ] && continue
            echo
            echo "$c: failed requests ($(errs "$c")). The end of its quired's log:"
            tail -n 5 "$WORK/runs/quired-$c.log" | sed 's/^/    /'
            echo "The first 200 queries asked again one at a time, the answers that were not 200:"
            probe "$c"
        done
    fi
} >"$REPORT"
cat "$REPORT"
