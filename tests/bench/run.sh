#!/bin/sh
# tests/bench/run.sh -- `make bench`: Quire measured side by side with its peers.
#
# Systems, all on the same corpus and the same query file (top 10, AND of all words):
#   raw Xapian   tests/bench/xapian-baseline, in-process: the ceiling quired is built on
#   quired       over HTTP keep-alive, driven by wrk with tests/bench/wrk-queries.lua
#   Sphinx 2.2   searchd over SphinxQL (the MySQL protocol), ranker=bm25, stem_en
#   SQLite FTS5  in-process, tokenize='porter unicode61', ORDER BY rank
# The peers' clients are tests/bench/peer-bench.c, compiled here (make builds only
# xapian-baseline, so that a machine without a peer's library still builds).
#
# Query runs are interleaved: one run of every system makes a round, and the table gives
# each system's median queries/s over the rounds with the min-max, so a drift of the machine
# during the run touches every system alike. Indexing runs once per system and corpus.
#
# Nothing is installed: a missing tool or library is named with its Debian package and
# that system's rows are skipped (the output says so).
#
# Environment (set by `make bench`): QUIRE_BUILD, QUIRE_SRC, QUIRE_SHARED. Knobs:
#   BENCH_SECONDS   seconds per query run (default 10; whole seconds, wrk wants them)
#   BENCH_ROUNDS    interleaved rounds (default 3)
#   BENCH_CORPUS    corpus for queries and the first indexing rows
#                   (default $QUIRE_SHARED/corpora/wikipedia-en/docs.jsonl.gz)
#   BENCH_QUERIES   query file (default tests/bench/queries-wiki.txt; with another
#                   BENCH_CORPUS, made from its titles by make-queries.py)
#   BENCH_INDEX_EXTRA  a second corpus for the indexing table only
#                   (default imdb-reviews; empty to skip)
#   BENCH_WORK      scratch directory (default $QUIRE_BUILD/bench-work, removed at the end
#                   unless BENCH_KEEP=1)
# The report goes to stdout and to $QUIRE_BUILD/bench-results.md.
set -u

BUILD=${QUIRE_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)}
SRC=${QUIRE_SRC:-$BUILD}
SHARED=${QUIRE_SHARED:-$SRC/../shared}
BENCH_SRC="$SRC/tests/bench"
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
WIKI="$SHARED/corpora/wikipedia-en/docs.jsonl.gz"
CORPUS=${BENCH_CORPUS:-$WIKI}
EXTRA=${BENCH_INDEX_EXTRA-$SHARED/corpora/imdb-reviews/docs.jsonl.gz}
WORK=${BENCH_WORK:-$BUILD/bench-work}
REPORT="$BUILD/bench-results.md"
QUIRED_THREADS=2 # the machine's cores; every system gets two threads' worth of work

case $SECS in '' | *[!0-9]* | 0) echo "bench: BENCH_SECONDS must be a whole number of seconds >= 1" >&2; exit 2 ;; esac
case $ROUNDS in '' | *[!0-9]* | 0) echo "bench: BENCH_ROUNDS must be a number >= 1" >&2; exit 2 ;; esac
abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$(pwd)" "$1" ;; esac; }
CORPUS=$(abspath "$CORPUS")
[ -n "$EXTRA" ] && EXTRA=$(abspath "$EXTRA")
for f in "$CORPUS" ${EXTRA:+"$EXTRA"}; do
    [ -r "$f" ] || { echo "bench: cannot read the corpus $f" >&2; exit 2; }
done

QUIRE_INDEX="$BUILD/indexer/quire-index"
QUIRED="$BUILD/daemon/quired"
BASELINE="$BUILD/tests/bench/xapian-baseline"
for p in "$QUIRE_INDEX" "$QUIRED" "$BASELINE"; do
    [ -x "$p" ] || { echo "bench: $p is not built (run 'make bench')" >&2; exit 2; }
done

rm -rf "$WORK"
mkdir -p "$WORK/bin" "$WORK/log" "$WORK/runs" || exit 2
RES="$WORK/results"
: >"$RES"
NOTES="$WORK/notes"
: >"$NOTES"
DAEMON_PIDS=""

cleanup() {
    for p in $DAEMON_PIDS; do kill "$p" 2>/dev/null; done
    for _ in $(seq 1 30); do
        alive=""
        for p in $DAEMON_PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ -n "$alive" ] || break
        sleep 0.1
    done
    for p in $DAEMON_PIDS; do kill -9 "$p" 2>/dev/null; done
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }
note() { printf '%s\n' "$*" >>"$NOTES"; say "bench: $*"; }
put() { printf '%s %s\n' "$1" "$2" >>"$RES"; }
get() { awk -v k="$1" '$1 == k { v = $2 } END { print v }' "$RES"; }
# kv KEY FILE: the value of KEY=... on the last key=value line of FILE.
kv() { sed -n "s/^.*\\b$1=\\([^ ]*\\).*$/\\1/p" "$2" | tail -n1; }

# ---- what is there ----------------------------------------------------------------------
CC=${CC:-cc}
HAVE_WRK=1 HAVE_CURL=1 HAVE_TIME=1 HAVE_SPHINX=1 HAVE_FTS5=1
command -v wrk >/dev/null 2>&1 || { HAVE_WRK=0; note "wrk not found: install the Debian package 'wrk'; the quired query rows are skipped."; }
command -v curl >/dev/null 2>&1 || { HAVE_CURL=0; note "curl not found: install the Debian package 'curl'; quired's no-hit count is not checked."; }
[ -x /usr/bin/time ] || { HAVE_TIME=0; note "/usr/bin/time not found: install the Debian package 'time'; peak RSS is not measured."; }
if ! command -v searchd >/dev/null 2>&1 || ! command -v indexer >/dev/null 2>&1; then
    HAVE_SPHINX=0
    note "Sphinx (searchd, indexer) not found: install the Debian package 'sphinxsearch'; the Sphinx rows are skipped."
elif ! pkg-config --exists libmariadb 2>/dev/null; then
    HAVE_SPHINX=0
    note "the MySQL client library is missing: install the Debian package 'libmariadb-dev' (the SphinxQL client needs it); the Sphinx rows are skipped."
fi
if ! pkg-config --exists sqlite3 2>/dev/null && [ ! -r /usr/include/sqlite3.h ]; then
    HAVE_FTS5=0
    note "SQLite's headers are missing: install the Debian package 'libsqlite3-dev'; the FTS5 rows are skipped."
fi
if ! pkg-config --exists jansson zlib 2>/dev/null; then
    HAVE_SPHINX=0 HAVE_FTS5=0
    note "jansson or zlib headers are missing (libjansson-dev, zlib1g-dev): the peers' client cannot be built; the Sphinx and FTS5 rows are skipped."
fi

PEER_CFLAGS="-std=c11 -O2 -Wall -Wextra -D_GNU_SOURCE"
if [ $HAVE_FTS5 = 1 ]; then
    # shellcheck disable=SC2046,SC2086
    if ! $CC $PEER_CFLAGS -DPEER_FTS5 $(pkg-config --cflags sqlite3 jansson zlib 2>/dev/null) \
        "$BENCH_SRC/peer-bench.c" -o "$WORK/bin/fts5-bench" \
        $(pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3) $(pkg-config --libs jansson zlib) -lpthread \
        >"$WORK/log/cc-fts5.log" 2>&1; then
        HAVE_FTS5=0
        note "the FTS5 client did not compile (log below); the FTS5 rows are skipped."
        sed 's/^/    /' "$WORK/log/cc-fts5.log" | head -20 >>"$NOTES"
    fi
fi
if [ $HAVE_SPHINX = 1 ]; then
    # shellcheck disable=SC2046,SC2086
    if ! $CC $PEER_CFLAGS -DPEER_SPHINX $(pkg-config --cflags libmariadb jansson zlib) \
        "$BENCH_SRC/peer-bench.c" -o "$WORK/bin/sphinxql-bench" \
        $(pkg-config --libs libmariadb jansson zlib) -lpthread >"$WORK/log/cc-sphinx.log" 2>&1; then
        HAVE_SPHINX=0
        note "the SphinxQL client did not compile (log below); the Sphinx rows are skipped."
        sed 's/^/    /' "$WORK/log/cc-sphinx.log" | head -20 >>"$NOTES"
    fi
fi
FTS5_BENCH="$WORK/bin/fts5-bench"
SPHINXQL_BENCH="$WORK/bin/sphinxql-bench"

# ---- the query file -----------------------------------------------------------------------
if [ -n "${BENCH_QUERIES:-}" ]; then
    QUERIES=$(abspath "$BENCH_QUERIES")
elif [ "$CORPUS" = "$(abspath "$WIKI")" ]; then
    QUERIES="$BENCH_SRC/queries-wiki.txt"
else
    QUERIES="$WORK/queries.txt"
    command -v python3 >/dev/null 2>&1 || { echo "bench: python3 is needed to make queries for $CORPUS (or set BENCH_QUERIES)" >&2; exit 2; }
    python3 "$BENCH_SRC/make-queries.py" "$CORPUS" 500 >"$QUERIES" || exit 2
fi
NQUERIES=$(grep -c . "$QUERIES")

# ---- helpers: timing, daemons ---------------------------------------------------------------

# timed NAME CMD...: runs CMD (stdout to runs/NAME.out, stderr to runs/NAME.err) and sets
# T_SECS (wall seconds, ms precision), T_RSS_MB (peak RSS, empty without GNU time), T_RC.
timed() {
    name=$1
    shift
    t0=$(date +%s.%N)
    if [ $HAVE_TIME = 1 ]; then
        /usr/bin/time -f '%M' -o "$WORK/runs/$name.rss" "$@" >"$WORK/runs/$name.out" 2>"$WORK/runs/$name.err"
        T_RC=$?
    else
        "$@" >"$WORK/runs/$name.out" 2>"$WORK/runs/$name.err"
        T_RC=$?
    fi
    t1=$(date +%s.%N)
    T_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    T_RSS_MB=""
    [ -s "$WORK/runs/$name.rss" ] && T_RSS_MB=$(tail -n1 "$WORK/runs/$name.rss" | awk '{ printf "%.0f", $1 / 1024 }')
}

# failed NAME WHAT: notes a failed step with the end of its stderr.
failed() {
    note "$2 failed (exit $T_RC); its stderr ends:"
    tail -n 5 "$WORK/runs/$1.err" | sed 's/^/    /' >>"$NOTES"
}

size_mb() { du -sm "$1" 2>/dev/null | awk '{ print $1 }'; }

# Sphinx's config for one corpus: a tsvpipe source fed by the same .jsonl(.gz) reader as
# the other peers, English stemming, and a charset table that keeps the Latin, Greek and
# Cyrillic letters of the corpora (Sphinx 2.2's default knows English and Russian only, and
# 2.2.11 has no 'non_cjk' alias), so words like "łódź" are words, as in Xapian and FTS5.
SPHINX_CHARSET='0..9, A..Z->a..z, _, a..z, U+C0..U+D6->U+E0..U+F6, U+D8..U+DE->U+F8..U+FE, U+DF, U+E0..U+F6, U+F8..U+FF, U+100..U+12F/2, U+130->i, U+131, U+132..U+137/2, U+138, U+139..U+148/2, U+149, U+14A..U+177/2, U+178->U+FF, U+179..U+17E/2, U+17F, U+218..U+233/2, U+1E00..U+1E95/2, U+1EA0..U+1EFF/2, U+386->U+3AC, U+388..U+38A->U+3AD..U+3AF, U+38C->U+3CC, U+38E..U+38F->U+3CD..U+3CE, U+390, U+391..U+3A1->U+3B1..U+3C1, U+3A3..U+3AB->U+3C3..U+3CB, U+3AC..U+3CE, U+400..U+40F->U+450..U+45F, U+410..U+42F->U+430..U+44F, U+430..U+45F'
sphinx_conf() { # sphinx_conf DIR CORPUS PORT
    cat >"$1/sphinx.conf" <<EOF
source bench_src
{
    type = tsvpipe
    tsvpipe_command = $SPHINXQL_BENCH tsv $2
    tsvpipe_field = title
    tsvpipe_field = body
}
index bench
{
    source = bench_src
    path = $1/bench
    morphology = stem_en
    charset_table = $SPHINX_CHARSET
}
indexer
{
    mem_limit = 256M
}
searchd
{
    listen = 127.0.0.1:$3:mysql41
    log = $1/searchd.log
    pid_file = $1/searchd.pid
    binlog_path =
    workers = threads
}
EOF
}

# ---- indexing ---------------------------------------------------------------------------------

# settle: writes what earlier runs left in the page cache to disk, so that their writeback
# does not fall on the next build's time (the builds run back to back, and raw Xapian's
# leaves 400 to 650 MB to write).
settle() {
    sync
}

# index_corpus LABEL CORPUS: one full build per system, then quire-index's unchanged rerun.
index_corpus() {
    label=$1 corpus=$2
    d="$WORK/idx-$label"
    mkdir -p "$d"
    cat "$corpus" >/dev/null # every system reads it from the page cache

    say "bench: indexing $label with raw Xapian"
    settle
    timed "$label-xapian" "$BASELINE" index "$d/xapian" "$corpus"
    if [ $T_RC = 0 ]; then
        put "idx.$label.xapian.secs" "$(kv seconds "$WORK/runs/$label-xapian.out")"
        put "idx.$label.xapian.rss" "$T_RSS_MB"
        put "idx.$label.xapian.mb" "$(size_mb "$d/xapian")"
        put "idx.$label.bytes" "$(kv body_bytes "$WORK/runs/$label-xapian.out")"
        put "idx.$label.docs" "$(kv docs "$WORK/runs/$label-xapian.out")"
    else
        failed "$label-xapian" "xapian-baseline index on $label"
    fi

    say "bench: indexing $label with quire-index"
    settle
    timed "$label-quire" "$QUIRE_INDEX" --db "$d/quire" "$corpus"
    if [ $T_RC -le 1 ]; then
        put "idx.$label.quire.secs" "$T_SECS"
        put "idx.$label.quire.rss" "$T_RSS_MB"
        put "idx.$label.quire.mb" "$(size_mb "$d/quire")"
        [ $T_RC = 1 ] && note "quire-index skipped some inputs of $label: $(tail -n1 "$WORK/runs/$label-quire.err")"
        timed "$label-quire-rerun" "$QUIRE_INDEX" --db "$d/quire" "$corpus"
        [ $T_RC -le 1 ] && put "idx.$label.rerun.secs" "$T_SECS"
        [ $T_RC -le 1 ] || failed "$label-quire-rerun" "quire-index rerun on $label"
    else
        failed "$label-quire" "quire-index on $label"
    fi

    if [ $HAVE_SPHINX = 1 ]; then
        say "bench: indexing $label with Sphinx"
        mkdir -p "$d/sphinx"
        sphinx_conf "$d/sphinx" "$corpus" 0
        settle
        timed "$label-sphinx" indexer --config "$d/sphinx/sphinx.conf" bench
        if [ $T_RC = 0 ]; then
            put "idx.$label.sphinx.secs" "$T_SECS"
            put "idx.$label.sphinx.rss" "$T_RSS_MB"
            put "idx.$label.sphinx.mb" "$(size_mb "$d/sphinx")"
        else
            cp "$WORK/runs/$label-sphinx.out" "$WORK/runs/$label-sphinx.err" 2>/dev/null
            failed "$label-sphinx" "Sphinx indexer on $label"
        fi
    fi

    if [ $HAVE_FTS5 = 1 ]; then
        say "bench: indexing $label with SQLite FTS5"
        settle
        timed "$label-fts5" "$FTS5_BENCH" index "$d/fts5.db" "$corpus"
        if [ $T_RC = 0 ]; then
            put "idx.$label.fts5.secs" "$(kv seconds "$WORK/runs/$label-fts5.out")"
            put "idx.$label.fts5.rss" "$T_RSS_MB"
            put "idx.$label.fts5.mb" "$(size_mb "$d/fts5.db")"
            put "idx.$label.fts5.optimize" "$(kv optimize_seconds "$WORK/runs/$label-fts5.out")"
        elif grep -q "no such module: fts5" "$WORK/runs/$label-fts5.err"; then
            HAVE_FTS5=0
            note "this SQLite has no FTS5 (Debian's libsqlite3 has it: install 'libsqlite3-dev' and 'libsqlite3-0'); the FTS5 rows are skipped."
        else
            failed "$label-fts5" "FTS5 index on $label"
        fi
    fi
}

label_of() { basename "$(dirname "$1")"; }
LABEL=$(label_of "$CORPUS")
index_corpus "$LABEL" "$CORPUS"
if [ -n "$EXTRA" ] && [ "$EXTRA" != "$CORPUS" ]; then
    XLABEL=$(label_of "$EXTRA")
    index_corpus "$XLABEL" "$EXTRA"
    rm -rf "$WORK/idx-$XLABEL"
fi
IDX="$WORK/idx-$LABEL"

# ---- query runs -------------------------------------------------------------------------------

HAVE_XAPIAN=0
[ -n "$(get "idx.$LABEL.xapian.secs")" ] && HAVE_XAPIAN=1
HAVE_QUIRED=0
[ -n "$(get "idx.$LABEL.quire.secs")" ] && [ $HAVE_WRK = 1 ] && HAVE_QUIRED=1
[ -n "$(get "idx.$LABEL.sphinx.secs")" ] || HAVE_SPHINX=0
[ -n "$(get "idx.$LABEL.fts5.secs")" ] || HAVE_FTS5=0

QPORT=""
if [ $HAVE_QUIRED = 1 ]; then
    : >"$WORK/log/quired.log"
    "$QUIRED" --db "$IDX/quire" --listen 127.0.0.1:0 --threads $QUIRED_THREADS --quiet 2>"$WORK/log/quired.log" &
    QPID=$!
    DAEMON_PIDS="$DAEMON_PIDS $QPID"
    for _ in $(seq 1 100); do
        QPORT=$(sed -n 's/^quired: listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/log/quired.log" | head -n1)
        [ -n "$QPORT" ] && break
        kill -0 "$QPID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$QPORT" ]; then
        HAVE_QUIRED=0
        note "quired did not start; its log:"
        sed 's/^/    /' "$WORK/log/quired.log" >>"$NOTES"
    fi
fi

SPORT=""
if [ $HAVE_SPHINX = 1 ]; then
    # searchd needs a fixed port: try a few until one binds.
    base=$(( 20000 + $$ % 20000 ))
    for try in 0 1 2 3 4 5 6 7; do
        port=$((base + try * 997))
        sphinx_conf "$IDX/sphinx" "$CORPUS" "$port"
        : >"$WORK/log/searchd.out"
        searchd --config "$IDX/sphinx/sphinx.conf" --nodetach >>"$WORK/log/searchd.out" 2>&1 &
        SPID=$!
        for _ in $(seq 1 100); do
            grep -q "accepting connections" "$WORK/log/searchd.out" && break
            kill -0 "$SPID" 2>/dev/null || break
            sleep 0.1
        done
        if grep -q "accepting connections" "$WORK/log/searchd.out" && kill -0 "$SPID" 2>/dev/null; then
            SPORT=$port
            DAEMON_PIDS="$DAEMON_PIDS $SPID"
            break
        fi
        kill "$SPID" 2>/dev/null
        wait "$SPID" 2>/dev/null
    done
    if [ -z "$SPORT" ]; then
        HAVE_SPHINX=0
        note "searchd did not start; its output:"
        tail -n 5 "$WORK/log/searchd.out" | sed 's/^/    /' >>"$NOTES"
    fi
fi

# quired's answers, checked once: every query answered 200, and how many have no hit.
if [ $HAVE_QUIRED = 1 ] && [ $HAVE_CURL = 1 ]; then
    cfg="$WORK/curl-check.cfg"
    : >"$cfg"
    while IFS= read -r q; do
        [ -n "$q" ] || continue
        printf 'url = "http://127.0.0.1:%s/search"\nget\ndata-urlencode = "q=%s"\ndata = "op=and&limit=10&snippet=0"\nmax-time = 5\nwrite-out = "\\n%%{http_code}\\n"\nnext\n' \
            "$QPORT" "$q" >>"$cfg"
    done <"$QUERIES"
    timeout 120 curl -s -K "$cfg" >"$WORK/runs/quired-check.out" 2>/dev/null
    ok=$(grep -c '^200$' "$WORK/runs/quired-check.out")
    z=$(grep -c '"hits":\[\]' "$WORK/runs/quired-check.out")
    put "q.quired4.zero_hit" "$z"
    put "q.quired1.zero_hit" "$z"
    put "q.quired1s.zero_hit" "$z"
    [ "$ok" = "$NQUERIES" ] || note "quired answered only $ok of $NQUERIES check queries with 200: its rows below are suspect."
fi

# run_system KEY ROUND CMD...: one timed query run; its key=value line is kept.
run_system() {
    key=$1 round=$2
    shift 2
    out="$WORK/runs/q-$key-$round"
    timeout $((SECS + 300)) "$@" >"$out.out" 2>"$out.err"
    rc=$?
    line=$(grep 'qps=' "$out.out" | tail -n1)
    if [ $rc != 0 ] || [ -z "$line" ]; then
        note "run $round of $key failed (exit $rc): $(tail -n2 "$out.err" | tr '\n' ' ')"
        return
    fi
    printf '%s\n' "$line" >>"$WORK/runs/$key.lines"
    e=$(kv errors "$out.out")
    n=$(kv non2xx "$out.out")
    if [ "${e:-0}" != 0 ] || [ "${n:-0}" != 0 ]; then
        note "run $round of $key had $e socket errors and $n non-2xx answers."
    fi
    say "bench:   $key: $(kv qps "$out.out") queries/s"
}

LUA="$BENCH_SRC/wrk-queries.lua"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
QURL="http://127.0.0.1:$QPORT"
r=1
while [ $r -le "$ROUNDS" ]; do
    say "bench: query round $r of $ROUNDS ($SECS s per system)"
    [ $HAVE_XAPIAN = 1 ] && run_system xapian $r "$BASELINE" query "$IDX/xapian" "$QUERIES" --threads 2 --seconds "$SECS"
    if [ $HAVE_QUIRED = 1 ]; then
        run_system quired4 $r wrk -t2 -c4 -d"${SECS}s" -s "$LUA" "$QURL" -- "$QUERIES" 0
        run_system quired1 $r wrk -t1 -c1 -d"${SECS}s" -s "$LUA" "$QURL" -- "$QUERIES" 0
        run_system quired1s $r wrk -t1 -c1 -d"${SECS}s" -s "$LUA" "$QURL" -- "$QUERIES" 1
    fi
    # The same queries with OR, quired's default operator, beside raw Xapian's OR.
    [ $HAVE_XAPIAN = 1 ] && run_system xapianor $r "$BASELINE" query "$IDX/xapian" "$QUERIES" --threads 2 --seconds "$SECS" --or
    [ $HAVE_QUIRED = 1 ] && run_system quired4or $r wrk -t2 -c4 -d"${SECS}s" -s "$LUA" "$QURL" -- "$QUERIES" 0 or
    if [ $HAVE_SPHINX = 1 ]; then
        run_system sphinx4 $r "$SPHINXQL_BENCH" query "127.0.0.1:$SPORT" bench "$QUERIES" --threads 4 --seconds "$SECS"
        run_system sphinx1s $r "$SPHINXQL_BENCH" query "127.0.0.1:$SPORT" bench "$QUERIES" --threads 1 --seconds "$SECS" --snippets "$CORPUS"
    fi
    if [ $HAVE_FTS5 = 1 ]; then
        run_system fts2 $r "$FTS5_BENCH" query "$IDX/fts5.db" "$QUERIES" --threads 2 --seconds "$SECS"
        run_system fts1s $r "$FTS5_BENCH" query "$IDX/fts5.db" "$QUERIES" --threads 1 --seconds "$SECS" --snippets
    fi
    r=$((r + 1))
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
rss_of() { awk -v k="$2:" '$1 == k { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }
if [ $HAVE_QUIRED = 1 ]; then
    put "mem.quired.rss" "$(rss_of "$QPID" VmRSS)"
    put "mem.quired.hwm" "$(rss_of "$QPID" VmHWM)"
fi
if [ $HAVE_SPHINX = 1 ]; then
    put "mem.searchd.rss" "$(rss_of "$SPID" VmRSS)"
fi

# Per system: median, min and max of queries/s over the rounds; medians of p50 and p99;
# the no-hit count of the warm-up pass.
for f in "$WORK"/runs/*.lines; do
    [ -e "$f" ] || continue
    key=$(basename "$f" .lines)
    for field in qps p50_us p99_us; do
        sed -n "s/^.*\\b$field=\\([^ ]*\\).*$/\\1/p" "$f" | sort -g | awk -v k="q.$key.$field" '
            { v[NR] = $1 }
            END {
                if (NR == 0) exit
                m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                print k, m; print k ".min", v[1]; print k ".max", v[NR]
            }' >>"$RES"
    done
    z=$(kv zero_hit "$f")
    [ -n "$z" ] && put "q.$key.zero_hit" "$z"
done

# ---- the report --------------------------------------------------------------------------------
version() { "$@" 2>&1 | head -n1; }
{
    echo "# make bench: Quire and its peers, side by side"
    echo
    echo "Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Xapian $(pkg-config --modversion xapian-core 2>/dev/null || xapian-config --version 2>/dev/null | awk '{print $NF}')" \
        "| $( [ -n "$SPORT" ] && version searchd --help | sed 's/ (.*//' || echo 'Sphinx: not measured')" \
        "| SQLite $(pkg-config --modversion sqlite3 2>/dev/null || echo '?')" \
        "| $(version wrk -v | awk '{print $1, $2}')"
    echo
} >"$REPORT"

awk -v rounds="$ROUNDS" -v secs="$SECS" -v nq="$NQUERIES" -v label="$LABEL" -v xlabel="${XLABEL:-}" \
    -v qthreads="$QUIRED_THREADS" '
function comma(x,    s, neg, i) {
    neg = x < 0; if (neg) x = -x
    s = sprintf("%.0f", x)
    for (i = length(s) - 3; i > 0; i -= 3) s = substr(s, 1, i) "," substr(s, i + 1)
    return (neg ? "-" : "") s
}
function has(k) { return (k in v) && v[k] != "" }
function ratio(a, b) {
    if (has(a) && has(b) && v[b] > 0) return sprintf("%.2f", v[a] / v[b])
    return "—"
}
function qrow(name, key, sref, xref,    s, rs, rx) {
    if (!has("q." key ".qps")) { printf "| %s | skipped (see notes) | | | | |\n", name; return }
    s = comma(v["q." key ".qps"])
    if (rounds > 1) s = s " (" comma(v["q." key ".qps.min"]) "–" comma(v["q." key ".qps.max"]) ")"
    rs = "—"; rx = "—"
    if (sref != "") rs = ratio("q." key ".qps", "q." sref ".qps")
    if (xref != "") rx = ratio("q." key ".qps", "q." xref ".qps")
    printf "| %s | %s | %s / %s | %s | %s | %s |\n", name, s, comma(v["q." key ".p50_us"]),
        comma(v["q." key ".p99_us"]), rs, rx, or_dash("q." key ".zero_hit")
}
function mbps(lab, sys,    k) {
    k = "idx." lab "." sys ".secs"
    if (!has(k) || !has("idx." lab ".bytes") || v[k] <= 0) return ""
    return sprintf("%.2f", v["idx." lab ".bytes"] / 1e6 / v[k])
}
function or_dash(k) { return has(k) ? comma(v[k]) : "—" }
function irow(lab, name, sys,    m, x, r) {
    if (!has("idx." lab "." sys ".secs")) { printf "| %s | %s | skipped (see notes) | | | | |\n", lab, name; return }
    m = mbps(lab, sys); x = mbps(lab, "xapian")
    r = "—"
    if (m != "" && x != "" && x > 0) r = sprintf("%.2f", m / x)
    printf "| %s | %s | %.2f | %s | %s | %s | %s |\n", lab, name, v["idx." lab "." sys ".secs"], m, r,
        or_dash("idx." lab "." sys ".rss"), or_dash("idx." lab "." sys ".mb")
}
function itable(lab,    full, re, pct) {
    if (lab == "") return
    irow(lab, "quire-index, full build", "quire")
    full = "idx." lab ".quire.secs"; re = "idx." lab ".rerun.secs"
    if (has(re)) {
        pct = "—"
        if (has(full) && v[full] > 0) pct = sprintf("%.3f%%", 100 * v[re] / v[full])
        printf "| %s | quire-index, unchanged rerun (%s of the full build) | %.3f | — | — | | |\n", lab, pct, v[re]
    }
    irow(lab, "raw Xapian (xapian-baseline, 1 thread, defaults)", "xapian")
    irow(lab, "Sphinx indexer (tsvpipe, mem_limit 256M)", "sphinx")
    irow(lab, "SQLite FTS5 (one transaction + optimize)", "fts5")
}
{ v[$1] = $2 }
END {
    printf "## Queries: %s, %d queries from titles, top 10, AND of all words\n\n", label, nq
    plural = "s"
    if (rounds == 1) plural = ""
    printf "%d interleaved round%s of %d s per system; queries/s is the median (min–max over the rounds), ", rounds, plural, secs
    print "p50 / p99 the medians of each round'"'"'s percentiles.\n"
    print "| system | queries/s | p50 / p99 µs | × Sphinx | × raw Xapian | no-hit queries |"
    print "|---|---:|---:|---:|---:|---:|"
    qrow("raw Xapian in-process, ids only, 2 threads", "xapian", "sphinx4", "xapian")
    qrow("quired HTTP keep-alive, wrk -t2 -c4, snippet=0 (" qthreads " server threads)", "quired4", "sphinx4", "xapian")
    qrow("quired HTTP keep-alive, 1 connection, snippet=0", "quired1", "sphinx4", "xapian")
    qrow("Sphinx searchd, SphinxQL, 4 connections, ids only, ranker=bm25", "sphinx4", "sphinx4", "xapian")
    qrow("SQLite FTS5, 2 threads, ids only, ORDER BY rank", "fts2", "sphinx4", "xapian")
    print "| *with a snippet for each of the 10 hits, 1 connection (pages/s)* | | | | | |"
    qrow("quired, snippet=1", "quired1s", "sphinx1s", "")
    qrow("Sphinx, SELECT + CALL SNIPPETS (bodies held by the client)", "sphinx1s", "sphinx1s", "")
    qrow("SQLite FTS5, snippet(), ORDER BY rank", "fts1s", "sphinx1s", "")
    print "| *the same queries with OR of the words (quired'"'"'s default operator)* | | | | | |"
    qrow("raw Xapian in-process, ids only, 2 threads, OR", "xapianor", "", "xapianor")
    qrow("quired HTTP keep-alive, wrk -t2 -c4, snippet=0, op=or", "quired4or", "", "xapianor")
    print ""
    printf "**quired / Sphinx = %s**, **quired / raw Xapian = %s** ", ratio("q.quired4.qps", "q.sphinx4.qps"), ratio("q.quired4.qps", "q.xapian.qps")
    printf "(quired at wrk -t2 -c4; wrk runs on the same 2 cores); with OR, **quired / raw Xapian = %s**.", ratio("q.quired4or.qps", "q.xapianor.qps")
    if (has("q.quired1.qps") && has("q.quired1s.qps"))
        printf " quired'"'"'s snippet cost at 1 connection: %s× (queries/s without snippets / with).", ratio("q.quired1.qps", "q.quired1s.qps")
    print "\n"
    print "## Indexing (once per system; MB/s of body text, 10^6 bytes)\n"
    print "| corpus | system | seconds | MB/s | × raw Xapian | peak RSS MB | index MB |"
    print "|---|---|---:|---:|---:|---:|---:|"
    itable(label)
    itable(xlabel)
    print ""
    for (i = 1; i <= 2; i++) {
        lab = i == 1 ? label : xlabel
        if (lab != "" && has("idx." lab ".fts5.optimize"))
            printf "FTS5 on %s: %.2f s of its time is the final optimize (merge).\n", lab, v["idx." lab ".fts5.optimize"]
    }
    print ""
    print "## Memory\n"
    if (has("mem.quired.rss"))
        printf "quired RSS after the query runs: %s MB (peak %s MB). ", comma(v["mem.quired.rss"]), comma(v["mem.quired.hwm"])
    if (has("mem.searchd.rss"))
        printf "searchd RSS: %s MB. ", comma(v["mem.searchd.rss"])
    print "Xapian reads its index with pread(), so the OS page cache holding it is not in RSS."
}' "$RES" >>"$REPORT"

{
    echo
    echo "## Notes"
    echo
    echo "- raw Xapian and FTS5 run in the client's process (no protocol); quired and Sphinx answer over a local"
    echo "  socket, and their load generators (wrk, the SphinxQL client) share the same cores."
    echo "- no-hit queries: counted once over the whole query file; a title split on punctuation"
    echo "  (\"7.62mm\" → \"7 62mm\") can miss in an engine that keeps \"7.62mm\" one word."
    echo "- Sphinx's indexing time includes its tsvpipe converter reading the same .jsonl.gz (in a pipe, on the other core)."
    echo "- load average (1, 5, 15 min) when the query rounds started: $LOAD_BEFORE; when they ended: $LOAD_AFTER"
    echo "  (the benchmark itself keeps about 2 busy; more means something else shared the machine)."
    if [ -s "$NOTES" ]; then
        echo "- Skipped or failed:"
        sed 's/^/  /' "$NOTES"
    fi
} >>"$REPORT"

cat "$REPORT"
say "bench: report written to $REPORT"
