#!/bin/bash
# Full builds on several cores (indexer/parts.c) and compacted builds, on real corpora:
#   - a build written by 2 or 3 processes holds exactly what a build by one holds (every
#     id, title, date and text hash: tests/model/quire-dump), and answers every sampled
#     title query with the same hits and scores;
#   - the next incremental run finds every file unchanged (the merged signatures add up);
#   - a parallel build killed at a random moment leaves no process behind, and the next
#     run finishes it to the same index;
#   - builds come out compacted: one generation, nothing left beside it, that
#     xapian-compact does not shrink (the marks below are written before the merge);
#   - exactly the articles whose content hash another article has carry the duplicate
#     mark (quire-dump --marks), in every build, and the index says they are marked.
# QUIRE_BUILD_SEED reproduces the sampled queries and kill moments.
. "$(dirname "$0")/../lib.sh"
DUMP="$BUILD/tests/model/quire-dump"
seed=${QUIRE_BUILD_SEED:-$(( $(date +%s) % 100000 ))}
echo "# seed $seed (QUIRE_BUILD_SEED=$seed reproduces it)"
RANDOM=$seed

live() { echo "$1/$(tail -n1 "$1/generations")"; }

# The first 1,200 records of bbc-news in 1 and 3 processes, 3,000 of reuters-21578 in 1 and 2.
for spec in bbc-news:3:1200 reuters-21578:2:3000; do
    IFS=: read -r corpus jobs lines <<<"$spec"
    src="$SHARED/corpora/$corpus/docs.jsonl"
    [ "$UNDER_VALGRIND" = 1 ] && lines=200
    if [ "$lines" != 0 ]; then
        head -n "$lines" "$src" >"$T/$corpus.jsonl"
        src="$T/$corpus.jsonl"
    fi
    n=$(grep -c . "$src")
    "$QUIRE_INDEX" -q --jobs 1 --db "$T/$corpus-1" "$src"
    check_eq "$corpus: a build in one process exits 0" 0 "$?"
    "$DUMP" "$(live "$T/$corpus-1")" >"$T/$corpus-1.dump"
    for j in $jobs; do
        db="$T/$corpus-$j"
        "$QUIRE_INDEX" --jobs "$j" --db "$db" "$src" >"$T/out" 2>"$T/err"; rc=$?
        check_eq "$corpus: a build in $j processes exits 0" 0 "$rc"
        check_match "$corpus: its summary counts every record once" "^added $n, " "$(cat "$T/out")"
        "$DUMP" "$(live "$db")" >"$T/$corpus-$j.dump"
        check "$corpus: $j processes hold exactly what one holds" \
            cmp "$T/$corpus-1.dump" "$T/$corpus-$j.dump"
        check "$corpus: xapian-check finds no error in the merged index" xapian-check "$(live "$db")"
        check_eq "$corpus: nothing is left beside the generation" "current gen-000002 generations last-generation quire.lock" \
            "$(ls -A "$db" | tr '\n' ' ' | sed 's/ $//')"
        xapian-compact "$(live "$db")" "$T/recompacted" >/dev/null
        size=$(du -sk "$(live "$db")" | cut -f1) again=$(du -sk "$T/recompacted" | cut -f1)
        rm -rf "$T/recompacted"
        check "$corpus: compacting the build again saves under 2% ($size KB, then $again KB)" \
            test $((again * 100)) -ge $((size * 98))
        out=$("$QUIRE_INDEX" --db "$db" "$src" 2>&1)
        check_match "$corpus: the next run finds all $n unchanged" \
            "^added 0, updated 0, deleted 0, unchanged $n, " "$out"
    done
    # The duplicate marks: "dup" exactly where the content hash repeats (an article without
    # text has none: Reuters' headlines alone are not copies of one another).
    for j in 1 $jobs; do
        db="$T/$corpus-$j"
        bad=$("$DUMP" --marks "$(live "$db")" | awk -F'\t' '{ n[$5]++; h[NR] = $5; m[NR] = $6 }
            END { bad = 0; dups = 0
                  for (i = 1; i <= NR; i++) { want = h[i] != "" && n[h[i]] > 1 ? "dup" : "-"
                                              dups += want == "dup"; bad += m[i] != want }
                  print bad, (dups > 0) }')
        state=$(xapian-metadata get "$(live "$db")" quire:unique-text)
        check_eq "$corpus, $j process(es): exactly the articles that share a text are marked" \
            "0 1 marked" "$bad $state"
    done
    # The same hits and scores for a sample of title queries.
    jq -r ".title // empty" "$src" | grep "[[:alnum:]]" | shuf -n 25 --random-source=<(yes "$seed") >"$T/queries"
    diffs=0
    while IFS= read -r q; do
        # Every match (AND, no collapsing of copies: which copy stands for the others
        # depends on document numbers, which differ), as (id, score) pairs.
        a=$("$QUIRE" search --db "$T/$corpus-1" --json --op and --dedup 0 --no-snippet \
            -n 1000 "$q" 2>/dev/null | jq -c '[.hits[] | [.id, .score]] | sort')
        b=$("$QUIRE" search --db "$T/$corpus-$jobs" --json --op and --dedup 0 --no-snippet \
            -n 1000 "$q" 2>/dev/null | jq -c '[.hits[] | [.id, .score]] | sort')
        [ -n "$a" ] && [ "$a" = "$b" ] || { diffs=$((diffs + 1)); echo "# differs: $q"; }
    done <"$T/queries"
    check_eq "$corpus: 25 title queries give the same matches and scores" 0 "$diffs"
done

# Unreadable records in a parallel build: each is reported once, by one part, with the
# words one process uses, and the summary counts each once. Some show their id at a glance
# (their owner reads them), the others every part must read.
head -n 300 "$SHARED/corpora/bbc-news/docs.jsonl" >"$T/bad.jsonl"
for i in 1 2 3 4 5 6 7 8; do
    echo "{\"id\":\"bad-$i\",\"body\":$i}"
    echo "{\"id\":\"nobody-$i\",\"title\":\"t\"}"
    echo "{\"id\":\"cut-$i\",\"body\":\"x"
    echo "{\"id\":$i,\"body\":[]}"
done >>"$T/bad.jsonl"
echo "not json" >>"$T/bad.jsonl"
for j in 1 2 3; do
    "$QUIRE_INDEX" --jobs "$j" --db "$T/bad-$j" "$T/bad.jsonl" >"$T/bad-$j.out" 2>"$T/bad-$j.err"
    echo "$?" >"$T/bad-$j.rc"
    sort "$T/bad-$j.err" >"$T/bad-$j.sorted"
done
check_eq "33 unreadable records: one process reports 33 lines" 33 "$(grep -c ', skipped$' "$T/bad-1.err")"
check_match "one process: its summary counts them" "skipped 33" "$(cat "$T/bad-1.out")"
for j in 2 3; do
    check "$j processes report exactly what one reports, each once" cmp "$T/bad-1.sorted" "$T/bad-$j.sorted"
    check_match "$j processes: the summary counts each once" "^added 300, .*skipped 33" "$(cat "$T/bad-$j.out")"
    check_eq "$j processes: exit 1, as one" "$(cat "$T/bad-1.rc")" "$(cat "$T/bad-$j.rc")"
done

# A parallel build killed at a random moment: no part is left running, and the next run
# (continuing the parts a first build left) ends with the same index.
head -n $([ "$UNDER_VALGRIND" = 1 ] && echo 100 || echo 600) "$SHARED/corpora/bbc-news/docs.jsonl" >"$T/kill.jsonl"
"$QUIRE_INDEX" -q --jobs 1 --db "$T/kill-ref" "$T/kill.jsonl"
"$DUMP" "$(live "$T/kill-ref")" >"$T/kill-ref.dump"
db="$T/killed"
"$QUIRE_INDEX" -q --jobs 2 --batch 20 --db "$db" "$T/kill.jsonl" & pid=$!
sleep "$(awk -v r=$RANDOM -v s="$SLOW" 'BEGIN { printf "%.2f", (0.2 + r % 200 / 100) * s }')"
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
sleep 0.5
check_eq "no part of a killed build is left running" "" "$(pgrep -f -- "--db $db" || true)"
"$QUIRE_INDEX" -q --jobs 2 --db "$db" "$T/kill.jsonl"
check_eq "the run after a killed build exits 0" 0 "$?"
"$DUMP" "$(live "$db")" >"$T/killed.dump"
check "it holds exactly what an unbroken build holds" cmp "$T/kill-ref.dump" "$T/killed.dump"
check_eq "one generation, no part left" "1 0" \
    "$(ls -d "$db"/gen-* | wc -l) $(ls -A "$db" | grep -c '^\.part-')"

finish
