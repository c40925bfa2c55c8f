#!/bin/bash
# A heavy match runs as two halves of the index side by side (lib/search_split.c); the
# answer must not change.
#
# Property (split-check.c): for searches drawn with a seeded RNG from the words of
# reuters-21578 and bbc-news (titles and bodies, so common words too; AND and OR, offsets,
# limits, phrases, excluded words, wildcards, exact counting, facets, collapsing), a view
# that splits every match it can gives the same hits (ids, ranks, scores, order), the same
# suggestion and correction, the same exact totals, and bounds that hold the true count.
# reuters-21578 is indexed, then a fifth of its articles deleted and a tenth changed, so
# that its docids have holes and a tail of new ones: the halves split the docid range, not
# the documents.
. "$(dirname "$0")/../lib.sh"

BBC="$SHARED/corpora/bbc-news/docs.jsonl"
REUTERS="$SHARED/corpora/reuters-21578/docs.jsonl"
SEED=${QUIRE_TEST_SEED:-$(date +%s)}
echo "# seed $SEED (QUIRE_TEST_SEED=$SEED replays)"
n=400
[ "$SANITIZED" = 1 ] && n=100

mkdir -p "$T/src"
cp "$REUTERS" "$T/src/reuters.jsonl"
"$QUIRE_INDEX" -q --db "$T/reu" "$T/src" || { not_ok "index reuters-21578"; finish; }
before=$("$QUIRE" --db "$T/reu" health --json | jq .docs)
# Every fifth article deleted, every tenth of the others changed (a word added to its title).
awk 'NR % 5 != 0 { if (NR % 10 == 1) sub(/"title": *"/, "&Revised "); print }' "$REUTERS" >"$T/src/reuters.jsonl"
"$QUIRE_INDEX" -q --db "$T/reu" "$T/src" || { not_ok "reindex reuters-21578"; finish; }
after=$("$QUIRE" --db "$T/reu" health --json | jq .docs)
check "the reindex deleted articles ($before before, $after after)" test "$after" -lt "$before"
"$QUIRE_INDEX" -q --db "$T/bbc" "$BBC" || { not_ok "index bbc-news"; finish; }

for c in reu:"$REUTERS" bbc:"$BBC"; do
    db=${c%%:*}
    out=$("$BUILD/tests/integration/split-check" "$T/$db" "${c#*:}" "$SEED" "$n")
    rc=$?
    echo "$out"
    check "$db: a split match answers as the whole match (seed $SEED)" test "$rc" = 0
done
finish
