#!/bin/sh
# tests/bench/snippet-cost.sh -- `make bench-snippets` (and part of `make bench`): what
# snippets cost, as the ratio of a search with snippets to the same search without.
#
# The budget (issue 12): a query with snippets costs at most 2x the same query without.
# Costs are counted, not timed: tests/bench/snippet-cost runs every query through the
# daemon's search path in process (search_run_json, which writes the answer as quired
# does), and callgrind counts the instructions of that work alone (--toggle-collect),
# once with snippet=0 and once with snippet=1, on the same index and queries. Counts do
# not move with the load of the machine, so one run of each is enough and the table is
# the same from one run to the next.
#
# Corpora: bbc-news and reuters-21578 (queries from their titles, make-queries.py) and,
# unless BENCH_SNIPPET_WIKI=0, wikipedia-en with `make bench`'s own 500 queries (long
# articles: the snippet scan reads up to 16 KB of each). Each in both query modes, op=and
# (as `make bench`) and the default OR, top 10 hits.
#
# Environment (set by `make bench`): QUIRE_BUILD, QUIRE_SRC, QUIRE_SHARED. Knobs:
#   BENCH_SNIPPET_QUERIES  queries per title-made file (default 300)
#   BENCH_SNIPPET_WIKI     0 leaves wikipedia-en out (its index takes a few minutes)
#   BENCH_WORK             scratch directory (default $QUIRE_BUILD/bench-work-snippets,
#                          removed at the end unless BENCH_KEEP=1)
# The table goes to stdout and to $QUIRE_BUILD/bench-snippets.md.
set -u

BUILD=${QUIRE_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)}
SRC=${QUIRE_SRC:-$BUILD}
SHARED=${QUIRE_SHARED:-$SRC/../shared}
NQ=${BENCH_SNIPPET_QUERIES:-300}
WORK=${BENCH_WORK:-$BUILD/bench-work-snippets}
REPORT="$BUILD/bench-snippets.md"
PROG="$BUILD/tests/bench/snippet-cost"
QUIRE_INDEX="$BUILD/indexer/quire-index"

case $NQ in '' | *[!0-9]* | 0) echo "bench: BENCH_SNIPPET_QUERIES must be a number >= 1" >&2; exit 2 ;; esac
for p in "$PROG" "$QUIRE_INDEX"; do
    [ -x "$p" ] || { echo "bench: $p is not built (run 'make bench-snippets')" >&2; exit 2; }
done
command -v valgrind >/dev/null 2>&1 || { echo "bench: valgrind is needed (the Debian package 'valgrind')" >&2; exit 2; }
command -v python3 >/dev/null 2>&1 || { echo "bench: python3 is needed to make queries from titles" >&2; exit 2; }

rm -rf "$WORK"
mkdir -p "$WORK" || exit 2
cleanup() { [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# count DB QUERIES PARAMS: the instructions callgrind counts in bench_query, or nothing.
count() {
    valgrind --tool=callgrind --toggle-collect=bench_query --callgrind-out-file=/dev/null \
        "$PROG" "$1" "$2" "$3" 2>"$WORK/cg.err" >"$WORK/cg.out" || {
        echo "bench: snippet-cost failed on $1 ($3):" >&2
        tail -n 5 "$WORK/cg.err" >&2
        return 1
    }
    sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$WORK/cg.err"
}

rows="$WORK/rows"
: >"$rows"
# measure NAME CORPUS QUERIES
measure() {
    echo "bench: indexing $1" >&2
    "$QUIRE_INDEX" -q --db "$WORK/$1" "$2" || { echo "bench: indexing $2 failed" >&2; return 1; }
    nq=$(grep -c . "$3")
    for op in and or; do
        echo "bench: $1, op=$op, $nq queries, snippet=0 then 1 (callgrind)" >&2
        off=$(count "$WORK/$1" "$3" "op=$op&limit=10&snippet=0") || return 1
        on=$(count "$WORK/$1" "$3" "op=$op&limit=10&snippet=1") || return 1
        printf '%s %s %s %s %s\n' "$1" "$nq" "$op" "$off" "$on" >>"$rows"
    done
    rm -rf "${WORK:?}/$1"
}

C="$SHARED/corpora"
for name in bbc-news reuters-21578; do
    python3 "$SRC/tests/bench/make-queries.py" "$C/$name/docs.jsonl" "$NQ" >"$WORK/$name.q" || exit 2
    measure "$name" "$C/$name/docs.jsonl" "$WORK/$name.q" || exit 1
done
if [ "${BENCH_SNIPPET_WIKI:-1}" != 0 ]; then
    measure wikipedia-en "$C/wikipedia-en/docs.jsonl.gz" "$SRC/tests/bench/queries-wiki.txt" || exit 1
fi

{
    echo "### Snippet cost (instructions counted by callgrind, top 10 hits)"
    echo
    echo "| corpus | queries | op | without snippets | with snippets | ratio |"
    echo "|---|---:|---|---:|---:|---:|"
    awk '{ printf "| %s | %d | %s | %.1fM | %.1fM | **%.2f×** |\n", $1, $2, $3, $4 / 1e6, $5 / 1e6, $5 / $4 }' "$rows"
    awk '{ off += $4; on += $5 } END { if (off > 0) printf "| all | | | %.1fM | %.1fM | **%.2f×** |\n", off / 1e6, on / 1e6, on / off }' "$rows"
    echo
    echo "The budget: at most 2× (a search with snippets against the same search without)."
} | tee "$REPORT"
