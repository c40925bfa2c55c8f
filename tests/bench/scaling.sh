#!/bin/sh
# tests/bench/scaling.sh -- `make bench-scaling` (also the last part of `make bench`): how
# quire-index's build time and quired's query latency grow with the number of documents.
#
# Every corpus in $QUIRE_SHARED/corpora is merged into one stream by combine-corpora.py
# (each corpus in a fixed shuffle, interleaved so that every prefix holds each corpus in its
# share; ids prefixed with the corpus name, since the indexer keys documents by id). For
# each size N the first N documents go into a fresh corpus directory, and then:
#   1. quire-index builds a new index of it (wall time; docs/s; MB/s of body text, 10^6
#      bytes, as in run.sh's indexing table; index size; and its CPU time, user + system,
#      which other work on a shared machine disturbs far less than the wall time);
#   2. quired serves that index (QUIRED_THREADS threads, as in run.sh) and wrk asks it the
#      query file for SCALING_SECONDS at -t2 -c4 and again at -t1 -c1 (snippet=0, top 10,
#      AND of all words, tests/bench/wrk-queries.lua), after one curl pass over the query
#      file that checks every answer is 200, counts the queries without a hit and warms the
#      page cache;
#   3. each query alone, one after another (no queueing behind other requests): quired's
#      time for it over one curl keep-alive connection, and raw Xapian's in-process on the
#      same index (tests/bench/xapian-baseline each: the same words, AND, top 10), each the
#      median of 3 passes after the warm-up; their p50, p99 and max, so a tail under wrk can
#      be told apart as queueing, quired's own work or Xapian's matching. The slowest
#      queries of the largest size are listed.
# The largest size "all" is every document of the corpora: 112,409 in the corpora's
# READMEs, less cranfield's two empty ones. Each size is measured once: this is a shape (how
# the numbers grow), not a comparison, so there are no rounds; the load average of the
# machine is in the report.
#
# The default queries are made from the titles of the smallest size's documents, so every
# query's own article is in every index and the no-hit share does not change with the
# size; with tests/bench/queries-wiki.txt (run.sh's queries) most queries find nothing at
# 10,000 documents, where a miss of an AND query is cheap, and latency seems to grow faster.
#
# Nothing is installed: without wrk the query columns are empty, without curl the answers
# are not checked, without GNU time (/usr/bin/time) no CPU time (the output says so).
#
# Environment (set by `make bench-scaling`): QUIRE_BUILD, QUIRE_SRC, QUIRE_SHARED. Knobs:
#   SCALING_SIZES    document counts, "all" for every document (default "10000 50000 100000 all")
#   SCALING_SECONDS  seconds per wrk run (default 10; whole seconds)
#   SCALING_QUERIES  "titles" (default): 500 queries made by make-queries.py from the titles
#                    of the smallest size's documents of the combined corpus (about 45% of
#                    them are imdb-reviews' titles, movie ids like "tt0453418", which match
#                    a handful of documents); or a query file, e.g.
#                    tests/bench/queries-wiki.txt
#   SCALING_KEEP     1 keeps the scratch directory (made by mktemp under $TMPDIR, or /tmp)
#   SCALING_MIX      a seed: the corpus is recombined (combine-corpora.py --mix SEED: new
#                    documents of paragraphs mixed across the corpora's documents), so sizes
#                    may pass the corpora's 112,407 documents; `make bench-scale` runs
#                    100,000, 300,000 and 1,000,000 this way
#   SCALING_REPORT   the report's file name under $QUIRE_BUILD (default bench-scaling.md)
# The report goes to stdout and to $QUIRE_BUILD/$SCALING_REPORT.
# Peak RSS: quire-index's is the largest of its processes (GNU time's %M, which counts the
# parts a full build forks as children); quired's is its VmHWM after the query runs.
set -u

BUILD=${QUIRE_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)}
SRC=${QUIRE_SRC:-$BUILD}
SHARED=${QUIRE_SHARED:-$SRC/../shared}
BENCH_SRC="$SRC/tests/bench"
SIZES=${SCALING_SIZES:-10000 50000 100000 all}
SECS=${SCALING_SECONDS:-10}
QUERY_CHOICE=${SCALING_QUERIES:-titles}
MIX=${SCALING_MIX:-}
REPORT="$BUILD/${SCALING_REPORT:-bench-scaling.md}"
QUIRED_THREADS=2 # as in run.sh: the machine's cores
T_START=$(date +%s.%N)

say() { printf '%s\n' "$*" >&2; }
case $SECS in '' | *[!0-9]* | 0) say "scaling: SCALING_SECONDS must be a whole number of seconds >= 1"; exit 2 ;; esac
[ -n "$SIZES" ] || { say "scaling: SCALING_SIZES is empty"; exit 2; }
for n in $SIZES; do
    case $n in all) ;; '' | *[!0-9]* | 0) say "scaling: SCALING_SIZES wants numbers >= 1 or 'all', not '$n'"; exit 2 ;; esac
done
case $MIX in *[!0-9]*) say "scaling: SCALING_MIX wants a number (a seed), not '$MIX'"; exit 2 ;; esac
# combine-corpora.py takes a comma-separated list.
SIZE_LIST=$(printf '%s\n' "$SIZES" | awk '{ $1 = $1; gsub(" ", ","); print }')

QUIRE_INDEX="$BUILD/indexer/quire-index"
QUIRED="$BUILD/daemon/quired"
BASELINE="$BUILD/tests/bench/xapian-baseline" # optional: the raw Xapian columns
for p in "$QUIRE_INDEX" "$QUIRED"; do
    [ -x "$p" ] || { say "scaling: $p is not built (run 'make bench-scaling')"; exit 2; }
done
command -v python3 >/dev/null 2>&1 || { say "scaling: python3 is needed to combine the corpora"; exit 2; }
CORPORA=""
for d in "$SHARED"/corpora/*/; do
    for f in "${d}docs.jsonl" "${d}docs.jsonl.gz"; do
        [ -r "$f" ] && CORPORA="$CORPORA $f"
    done
done
[ -n "$CORPORA" ] || { say "scaling: no corpora in $SHARED/corpora (set QUIRE_SHARED)"; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/quire-scaling.XXXXXX") || exit 2
NOTES="$WORK/notes"
: >"$NOTES"
RES="$WORK/results"
: >"$RES"
QPID=""

# Stops the daemon of the size being measured, if any (SIGTERM lets it finish in-flight
# requests; SIGKILL after 3 s).
stop_quired() {
    [ -n "$QPID" ] || return 0
    kill "$QPID" 2>/dev/null
    for _ in $(seq 1 30); do
        kill -0 "$QPID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$QPID" 2>/dev/null
    wait "$QPID" 2>/dev/null
    QPID=""
}
cleanup() {
    stop_quired
    if [ "${SCALING_KEEP:-0}" = 1 ]; then say "scaling: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() { printf '%s\n' "$*" >>"$NOTES"; say "scaling: $*"; }
put() { printf '%s %s\n' "$1" "$2" >>"$RES"; }
# kv KEY FILE: the value of KEY=... on the last key=value line of FILE.
kv() { sed -n "s/^.*\\b$1=\\([^ ]*\\).*$/\\1/p" "$2" | tail -n1; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

HAVE_WRK=1 HAVE_CURL=1 HAVE_TIME=1
command -v wrk >/dev/null 2>&1 || { HAVE_WRK=0; note "wrk not found: install the Debian package 'wrk'; the query columns are empty."; }
command -v curl >/dev/null 2>&1 || { HAVE_CURL=0; note "curl not found: install the Debian package 'curl'; the answers are not checked."; }
[ -x /usr/bin/time ] || { HAVE_TIME=0; note "/usr/bin/time not found: install the Debian package 'time'; the CPU time of indexing is not measured."; }

# ---- the combined corpus ------------------------------------------------------------------
say "scaling: combining$(for f in $CORPORA; do printf ' %s' "$(basename "$(dirname "$f")")"; done)"
# shellcheck disable=SC2086
if ! python3 "$BENCH_SRC/combine-corpora.py" ${MIX:+--mix "$MIX"} "$WORK/all.jsonl" "$SIZE_LIST" $CORPORA \
    >"$WORK/sizes" 2>"$WORK/combine.err"; then
    say "scaling: combining the corpora failed:"
    sed 's/^/    /' "$WORK/combine.err" >&2
    exit 2
fi
TOTAL_DOCS=$(wc -l <"$WORK/all.jsonl")

case $QUERY_CHOICE in
titles)
    # From the smallest size's documents: every index holds them (the sizes are prefixes of
    # one stream), so every query's own article is in every index.
    QUERIES="$WORK/queries.txt"
    first=$(sed -n 's/^.* docs=\([0-9]*\) .*$/\1/p' "$WORK/sizes" | sort -n | head -n1)
    head -n "$first" "$WORK/all.jsonl" >"$WORK/first.jsonl"
    python3 "$BENCH_SRC/make-queries.py" "$WORK/first.jsonl" 500 >"$QUERIES" || exit 2
    rm -f "$WORK/first.jsonl"
    QUERY_DESC="$(grep -c . "$QUERIES") queries made by make-queries.py from the titles of the first $first documents of the combined corpus"
    ;;
*)
    QUERIES=$QUERY_CHOICE
    case $QUERIES in /*) ;; *) QUERIES="$(pwd)/$QUERIES" ;; esac
    [ -r "$QUERIES" ] || { say "scaling: cannot read the query file $QUERIES"; exit 2; }
    QUERY_DESC="$(grep -c . "$QUERIES") queries from $(basename "$QUERIES")"
    ;;
esac
NQUERIES=$(grep -c . "$QUERIES")
LUA="$BENCH_SRC/wrk-queries.lua"

# ---- one size -----------------------------------------------------------------------------

# start_quired DB: starts quired on a free port; sets QPID and QPORT (empty on failure).
start_quired() {
    : >"$WORK/quired.log"
    "$QUIRED" --db "$1" --listen 127.0.0.1:0 --threads $QUIRED_THREADS --quiet 2>"$WORK/quired.log" &
    QPID=$!
    QPORT=""
    for _ in $(seq 1 100); do
        QPORT=$(sed -n 's/^quired: listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/quired.log" | head -n1)
        [ -n "$QPORT" ] && break
        kill -0 "$QPID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$QPORT" ]; then
        note "quired did not start on the index of $2 documents; its log:"
        sed 's/^/    /' "$WORK/quired.log" >>"$NOTES"
        stop_quired
    fi
}

# curl_config FILE OPTIONS: a curl configuration that asks quired (on $QPORT) every query
# of $QUERIES in turn, AND, top 10, no snippet, with OPTIONS (curl configuration lines) for
# each.
curl_config() {
    : >"$1"
    while IFS= read -r q; do
        [ -n "$q" ] || continue
        printf 'url = "http://127.0.0.1:%s/search"\nget\ndata-urlencode = "q=%s"\ndata = "op=and&limit=10&snippet=0"\nmax-time = 5\n%s\nnext\n' \
            "$QPORT" "$q" "$2" >>"$1"
    done <"$QUERIES"
}

# check_answers KEY: asks every query once with curl; keeps the no-hit count.
check_answers() {
    cfg="$WORK/curl.cfg"
    curl_config "$cfg" 'write-out = "\n%{http_code}\n"'
    timeout 120 curl -s -K "$cfg" >"$WORK/check.out" 2>/dev/null
    ok=$(grep -c '^200$' "$WORK/check.out")
    put "$1.zero_hit" "$(grep -c '"hits":\[\]' "$WORK/check.out")"
    [ "$ok" = "$NQUERIES" ] || note "size $1: quired answered only $ok of $NQUERIES check queries with 200; its row is suspect."
}

# pcts KEY NAME FILE: p50, p99 and max of FILE's numbers (µs, one per line), kept as
# KEY.NAME.p50_us and so on; the same percentile rule as xapian-baseline's.
pcts() {
    sort -n "$3" | awk -v k="$1.$2" '{ v[NR] = $1 } END {
        if (NR == 0) exit
        i50 = int(0.50 * NR) + 1; i99 = int(0.99 * NR) + 1
        if (i99 > NR) i99 = NR
        printf "%s.p50_us %d\n%s.p99_us %d\n%s.max_us %d\n", k, v[i50], k, v[i99], k, v[NR] }' >>"$RES"
}

# each_quired KEY: every query alone over one keep-alive connection, 3 passes; keeps the
# percentiles of each query's median time and the per-query list.
each_quired() {
    cfg="$WORK/each.cfg"
    curl_config "$cfg" 'output = "/dev/null"
write-out = "%{time_total}\n"'
    for p in 1 2 3; do timeout 300 curl -s -K "$cfg" >"$WORK/each.$p" 2>/dev/null; done
    if [ "$(grep -c . "$WORK/each.3")" != "$NQUERIES" ]; then
        note "size $1: the per-query curl passes did not time every query; no quired alone columns."
        return
    fi
    paste "$WORK/each.1" "$WORK/each.2" "$WORK/each.3" |
        awk '{ a = $1; b = $2; c = $3; if (a > b) { t = a; a = b; b = t } if (b > c) { b = c } if (a > b) b = a
               printf "%d\n", b * 1e6 }' >"$WORK/each.us"
    pcts "$1" alone "$WORK/each.us"
    grep -v '^$' "$QUERIES" | paste "$WORK/each.us" - | sort -g -r >"$WORK/each-$1.list"
}

# each_raw KEY DB: raw Xapian's time for every query alone on the same index.
each_raw() {
    [ -x "$BASELINE" ] || return 0
    if ! "$BASELINE" each "$2/current" "$QUERIES" --runs 3 --list "$WORK/raw-$1.list" >"$WORK/raw-$1.out" 2>&1; then
        note "size $1: xapian-baseline each failed: $(tail -n1 "$WORK/raw-$1.out")"
        return
    fi
    for field in p50_us p99_us max_us; do put "$1.raw.$field" "$(kv $field "$WORK/raw-$1.out")"; done
}

# run_wrk KEY NAME WRK-ARGS...: one wrk run; keeps queries/s, p50 and p99.
run_wrk() {
    key=$1 name=$2
    shift 2
    out="$WORK/wrk-$key-$name.out"
    timeout $((SECS + 60)) wrk "$@" -d"${SECS}s" -s "$LUA" "http://127.0.0.1:$QPORT" -- "$QUERIES" 0 \
        >"$out" 2>&1
    rc=$?
    if [ $rc != 0 ] || ! grep -q 'qps=' "$out"; then
        note "size $key: wrk $* failed (exit $rc): $(tail -n2 "$out" | tr '\n' ' ')"
        return
    fi
    for field in qps p50_us p99_us; do put "$key.$name.$field" "$(kv $field "$out")"; done
    e=$(kv errors "$out")
    n=$(kv non2xx "$out")
    if [ "${e:-0}" != 0 ] || [ "${n:-0}" != 0 ]; then
        note "size $key: wrk $* had $e socket errors and $n non-2xx answers."
    fi
    say "scaling:   $name: $(kv qps "$out") queries/s, p50 $(kv p50_us "$out") µs, p99 $(kv p99_us "$out") µs"
}

measure_size() {
    key=$1
    grep "^size=$key " "$WORK/sizes" >"$WORK/size.line"
    docs=$(kv docs "$WORK/size.line")
    [ -n "$docs" ] || { note "size $key: no line from combine-corpora.py"; return; }
    put "$key.docs" "$docs"
    put "$key.body_bytes" "$(kv body_bytes "$WORK/size.line")"
    put "$key.jsonl_bytes" "$(kv jsonl_bytes "$WORK/size.line")"
    d="$WORK/size-$key"
    mkdir -p "$d/corpus" || return
    head -n "$docs" "$WORK/all.jsonl" >"$d/corpus/docs.jsonl"
    cat "$d/corpus/docs.jsonl" >/dev/null # read from the page cache, as in run.sh

    say "scaling: $docs documents: indexing (load $(load))"
    t0=$(date +%s.%N)
    if [ $HAVE_TIME = 1 ]; then
        /usr/bin/time -f 'cpu_secs=%U+%S rss_kb=%M' -o "$d/index.time" \
            "$QUIRE_INDEX" --db "$d/db" --json "$d/corpus" >"$d/index.out" 2>"$d/index.err"
    else
        "$QUIRE_INDEX" --db "$d/db" --json "$d/corpus" >"$d/index.out" 2>"$d/index.err"
    fi
    rc=$?
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    added=$(sed -n 's/.*"added":\([0-9]*\).*/\1/p' "$d/index.out")
    if [ $rc -gt 1 ]; then
        note "size $key: quire-index failed (exit $rc); its stderr ends:"
        tail -n 5 "$d/index.err" | sed 's/^/    /' >>"$NOTES"
        rm -rf "$d"
        return
    fi
    [ "$added" = "$docs" ] || note "size $key: quire-index added ${added:-?} documents of $docs (exit $rc): $(tail -n1 "$d/index.err")"
    put "$key.index_secs" "$secs"
    if [ -s "$d/index.time" ]; then
        put "$key.index_cpu" "$(kv cpu_secs "$d/index.time" | awk -F+ '{ printf "%.2f", $1 + $2 }')"
        put "$key.index_rss_mb" "$(kv rss_kb "$d/index.time" | awk '{ printf "%.0f", $1 / 1024 }')"
    fi
    put "$key.index_mb" "$(du -sm "$d/db" | awk '{ print $1 }')"
    say "scaling:   $secs s$([ -s "$d/index.time" ] && printf ' (%s s CPU)' "$(kv cpu_secs "$d/index.time")")"
    rm -rf "$d/corpus"

    if [ $HAVE_WRK = 1 ]; then
        start_quired "$d/db" "$docs"
        if [ -n "$QPID" ]; then
            [ $HAVE_CURL = 1 ] && check_answers "$key"
            say "scaling: $docs documents: queries, ${SECS} s at 4 connections and ${SECS} s at 1 (load $(load))"
            run_wrk "$key" c4 -t2 -c4
            run_wrk "$key" c1 -t1 -c1
            [ $HAVE_CURL = 1 ] && each_quired "$key"
            put "$key.quired_rss_mb" "$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$QPID/status" 2>/dev/null)"
            stop_quired
        fi
    fi
    each_raw "$key" "$d/db"
    LAST_KEY=$key
    put "$key.load" "$(load | tr ' ' '/')"
    rm -rf "$d"
}

LOAD_BEFORE=$(load)
LAST_KEY=""
for n in $SIZES; do
    measure_size "$n"
done
LOAD_AFTER=$(load)
WALL=$(awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')

# ---- the report ---------------------------------------------------------------------------
{
    echo "# make $([ -n "$MIX" ] && echo bench-scale || echo bench-scaling): index time and query latency against the number of documents"
    echo
    echo "Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), $(date -u '+%Y-%m-%d %H:%M UTC')."
    if [ -n "$MIX" ]; then
        echo "Corpus: $(echo "$TOTAL_DOCS" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta') new documents recombined from every corpus in corpora/ ($(for f in $CORPORA; do printf '%s ' "$(basename "$(dirname "$f")")"; done | sed 's/ $//')),"
        echo "paragraphs mixed across each corpus's documents, seed $MIX (tests/bench/combine-corpora.py --mix); each size the first N."
    else
        echo "Corpus: every corpus in corpora/ merged ($(echo "$TOTAL_DOCS" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta') documents;$(for f in $CORPORA; do printf ' %s' "$(basename "$(dirname "$f")")"; done)),"
        echo "each size the first N of a fixed interleaving that keeps every corpus in its share (tests/bench/combine-corpora.py)."
    fi
    echo "Queries: $QUERY_DESC; top 10, AND of all words, snippet=0; quired with $QUIRED_THREADS threads;"
    echo "wrk for $SECS s at -t2 -c4 and at -t1 -c1, once per size. MB are 10^6 bytes of body text; index MB as du -sm."
    echo
} >"$REPORT"

awk -v sizes="$SIZES" '
function comma(x,    s, i) {
    s = sprintf("%.0f", x)
    for (i = length(s) - 3; i > 0; i -= 3) s = substr(s, 1, i) "," substr(s, i + 1)
    return s
}
function has(k) { return (k in v) && v[k] != "" }
function num(k, fmt) { return has(k) ? sprintf(fmt, v[k]) : "—" }
function int_(k) { return has(k) ? comma(v[k]) : "—" }
function ratio(k, base) {
    if (has(k) && has(base) && v[base] > 0) return sprintf("%.2f", v[k] / v[base])
    return "—"
}
{ v[$1] = $2 }
END {
    n = split(sizes, s, " ")
    print "| docs | input MB | index s | docs/s | MB/s | index CPU s | indexer peak RSS MB | index MB | q/s (4 conn) | p50 µs | p99 µs | q/s (1 conn) | p50 µs | p99 µs | quired peak RSS MB | no-hit queries |"
    print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= n; i++) {
        k = s[i]
        if (!has(k ".docs")) continue
        label = comma(v[k ".docs"]) (k == "all" ? " (all)" : "")
        mb = v[k ".body_bytes"] / 1e6
        rate = has(k ".index_secs") && v[k ".index_secs"] > 0 ? comma(v[k ".docs"] / v[k ".index_secs"]) : "—"
        mbs = has(k ".index_secs") && v[k ".index_secs"] > 0 ? sprintf("%.2f", mb / v[k ".index_secs"]) : "—"
        printf "| %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label, mb,
            num(k ".index_secs", "%.1f"), rate, mbs, num(k ".index_cpu", "%.1f"),
            int_(k ".index_rss_mb"), int_(k ".index_mb"),
            int_(k ".c4.qps"), int_(k ".c4.p50_us"), int_(k ".c4.p99_us"),
            int_(k ".c1.qps"), int_(k ".c1.p50_us"), int_(k ".c1.p99_us"),
            int_(k ".quired_rss_mb"), int_(k ".zero_hit")
    }
    b = s[1]
    printf "\nRatios to the %s row: linear indexing has index time × = docs ×; latency × at 4 and at 1 connection.\n\n", comma(v[b ".docs"])
    print "| docs | docs × | input × | index time × | index CPU × | index MB × | p50 × (4) | p99 × (4) | p50 × (1) | p99 × (1) | q/s × (4) |"
    print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= n; i++) {
        k = s[i]
        if (!has(k ".docs")) continue
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", comma(v[k ".docs"]),
            ratio(k ".docs", b ".docs"), ratio(k ".body_bytes", b ".body_bytes"),
            ratio(k ".index_secs", b ".index_secs"), ratio(k ".index_cpu", b ".index_cpu"),
            ratio(k ".index_mb", b ".index_mb"),
            ratio(k ".c4.p50_us", b ".c4.p50_us"), ratio(k ".c4.p99_us", b ".c4.p99_us"),
            ratio(k ".c1.p50_us", b ".c1.p50_us"), ratio(k ".c1.p99_us", b ".c1.p99_us"),
            ratio(k ".c4.qps", b ".c4.qps")
    }
    print "\nEach query alone, one after another (median of 3 passes; µs): quired over one keep-alive"
    print "connection (curl), and raw Xapian in-process on the same index (xapian-baseline each)."
    print "The alone × column is quired p99 / raw p99.\n"
    print "| docs | quired p50 | quired p99 | quired max | raw Xapian p50 | raw Xapian p99 | raw Xapian max | p99 × raw |"
    print "|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= n; i++) {
        k = s[i]
        if (!has(k ".docs")) continue
        printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", comma(v[k ".docs"]),
            int_(k ".alone.p50_us"), int_(k ".alone.p99_us"), int_(k ".alone.max_us"),
            int_(k ".raw.p50_us"), int_(k ".raw.p99_us"), int_(k ".raw.max_us"),
            ratio(k ".alone.p99_us", k ".raw.p99_us")
    }
    printf "\nLoad average (1, 5, 15 min) after each size:"
    for (i = 1; i <= n; i++) if (has(s[i] ".load")) { l = v[s[i] ".load"]; gsub("/", " ", l); printf " %s: %s;", comma(v[s[i] ".docs"]), l }
    print ""
}' "$RES" >>"$REPORT"

{
    echo
    echo "## Notes"
    echo
    echo "- wrk and quired share the same cores; the benchmark itself keeps about 2 busy, so a load"
    echo "  average well above 2 means other work shared the machine. Load before: $LOAD_BEFORE; after: $LOAD_AFTER."
    echo "- The corpora's documents differ in length (imdb-reviews and Reuters short, wikipedia-en"
    echo "  long); the interleaving keeps their mix the same at every size, so input MB grows with docs."
    case "$MIX: $SIZES " in ":"*" all "*)
        echo "- The top row is every document of the corpora (112,409 in their READMEs, less cranfield's two"
        echo "  empty ones, which quire-index refuses); there are no more for a larger size." ;;
    esac
    echo "- index CPU s is quire-index's user + system time: other work on the machine slows the wall"
    echo "  time far more than it. Latency under such load is noisy, p99 most of all."
    echo "- Wall time of the whole scaling run (combining, indexing, queries): $WALL s."
    if [ -n "$LAST_KEY" ] && [ -s "$WORK/each-$LAST_KEY.list" ]; then
        echo "- The 8 slowest queries alone at the largest size, quired µs (raw Xapian µs, hits in its top 10):"
        head -n 8 "$WORK/each-$LAST_KEY.list" | while IFS="$(printf '\t')" read -r us q; do
            raw=$(awk -F '\t' -v q="$q" '$3 == q { printf "%s µs, %s hits", $1, $2; exit }' "$WORK/raw-$LAST_KEY.list" 2>/dev/null)
            echo "  $us µs${raw:+ ($raw)}: \"$q\""
        done
    fi
    if [ -s "$NOTES" ]; then
        echo "- Skipped or failed:"
        sed 's/^/  /' "$NOTES"
    fi
} >>"$REPORT"

cat "$REPORT"
say "scaling: report written to $REPORT"
