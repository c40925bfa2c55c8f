#!/bin/bash
# Integration tests of quire-index: real files, real corpora, a real Xapian index.
# Incremental runs, every input format, bad inputs reported and counted, the writer lock.
. "$(dirname "$0")/../lib.sh"

summary() { grep -E '^added [0-9]+' "$1" | tail -n1; }
field() { sed -n "s/.*$1 \([0-9]*\).*/\1/p" <<<"$2"; }

# --- the seed corpus, incremental --------------------------------------------------------
cp -r "$SRC/corpus" "$T/c"
"$QUIRE_INDEX" --db "$T/db" "$T/c" >"$T/out" 2>"$T/err"; rc=$?
check_eq "indexing corpus/ exits 0" 0 "$rc"
s=$(summary "$T/out")
check_eq "five seed articles added" 5 "$(field added "$s")"
check "the index has a current generation" test -f "$T/db/current"
check "xapian-check finds no error in the new index" xapian-check "$T/db/$(tail -n1 "$T/db/generations")"
# A first build comes out compacted: its compacted copy replaces it on the stack, nothing
# else is left, and the first-build mark is gone from the live generation.
check_eq "a first build leaves one generation on the stack" 1 "$(wc -l <"$T/db/generations")"
check_eq "a first build leaves one generation directory" 1 "$(ls -d "$T/db"/gen-* | wc -l)"
check "no compaction is left half done" test ! -e "$T/db/.compact"
check_eq "the live generation has no first-build mark" "" \
    "$(xapian-metadata get "$T/db/$(tail -n1 "$T/db/generations")" quire:first-build)"

"$QUIRE_INDEX" --db "$T/db" "$T/c" >"$T/out" 2>"$T/err"; rc=$?
s=$(summary "$T/out")
check_eq "unchanged rerun exits 0" 0 "$rc"
check_eq "unchanged rerun adds nothing" 0 "$(field added "$s")"
check_eq "unchanged rerun updates nothing" 0 "$(field updated "$s")"
check_eq "unchanged rerun reports 5 unchanged" 5 "$(field unchanged "$s")"

echo "An extra paragraph about quokkafrost appended later." >>"$T/c/001_f96bdf5f0f0f437e.txt"
rm "$T/c/004_f1e5fad00c599f42.txt"
printf '# Zebra migrations resume\n\nThe zebras of the plain moved north on 3 May 2026.\n' >"$T/c/new.md"
"$QUIRE_INDEX" --db "$T/db" "$T/c" >"$T/out" 2>"$T/err"
s=$(summary "$T/out")
check_eq "a changed file is updated" 1 "$(field updated "$s")"
check_eq "a removed file is deleted" 1 "$(field deleted "$s")"
check_eq "a new file is added" 1 "$(field added "$s")"
out=$("$QUIRE" --db "$T/db" search --json quokkafrost)
check_eq "the changed text is searchable" "001_f96bdf5f0f0f437e.txt" "$(jq -r '.hits[0].id' <<<"$out")"
out=$("$QUIRE" --db "$T/db" search --json zebra)
check_eq "markdown title from the # heading" "Zebra migrations resume" "$(jq -r '.hits[0].title' <<<"$out")"
check_eq "date written in the text" "2026-05-03" "$(jq -r '.hits[0].date' <<<"$out")"
out=$("$QUIRE" --db "$T/db" health --json)
check_eq "health counts 5 documents" 5 "$(jq -r '.docs' <<<"$out")"

# --- JSON Lines, plain and gzip ----------------------------------------------------------
BBC="$SHARED/corpora/bbc-news/docs.jsonl"
"$QUIRE_INDEX" --db "$T/bbc" "$BBC" >"$T/out" 2>"$T/err"; rc=$?
s=$(summary "$T/out")
check_eq "bbc-news indexes cleanly" 0 "$rc"
check_eq "bbc-news: 2225 documents added" 2225 "$(field added "$s")"
out=$("$QUIRE" --db "$T/bbc" doc business/001 --json)
check_eq "a JSON id with a slash is kept" "Ad sales boost Time Warner profit" "$(jq -r '.title' <<<"$out")"
check_eq "JSON category stored" "business" "$(jq -r '.category' <<<"$out")"

mkdir -p "$T/gz"
head -n 100 "$BBC" | gzip >"$T/gz/part.jsonl.gz"
"$QUIRE_INDEX" --db "$T/gzdb" "$T/gz" >"$T/out" 2>"$T/err"
check_eq "a .jsonl.gz file is read directly" 100 "$(field added "$(summary "$T/out")")"

# A changed JSON Lines file: lines removed from it are deleted from the index.
head -n 60 "$BBC" | gzip >"$T/gz/part.jsonl.gz"
"$QUIRE_INDEX" --db "$T/gzdb" "$T/gz" >"$T/out" 2>"$T/err"
s=$(summary "$T/out")
check_eq "records dropped from a JSON Lines file are deleted" 40 "$(field deleted "$s")"
check_eq "records kept are updated" 60 "$(field updated "$s")"

# --- bad inputs --------------------------------------------------------------------------
mkdir -p "$T/bad"
head -c 4096 /dev/urandom >"$T/bad/binary.txt"
: >"$T/bad/empty.txt"
printf 'Good article title here\nWith some body text about okapis.\n' >"$T/bad/good.txt"
{
    echo '{"id": "j1", "title": "First good record", "body": "okapi one"}'
    echo '{"id": "j2", "title": "Broken", "body": '
    echo '["not", "an", "object"]'
    echo '{"title": "no id", "body": "x"}'
    echo '{"id": "j3", "title": "Third good record", "body": "okapi three"}'
} >"$T/bad/mixed.jsonl"
printf '<html><head><title>Broken page about okapis</title><body><article><p>Okapis live in <b>forests' >"$T/bad/broken.html"
printf '<table><math><select><mi><select></table>' >"$T/bad/gumbo-abort.html"
mkfifo "$T/bad/fifo.txt"
ln -s "$T/bad" "$T/bad/loop"
"$QUIRE_INDEX" --db "$T/baddb" "$T/bad" >"$T/out" 2>"$T/err"; rc=$?
s=$(summary "$T/out")
check_eq "a run with bad inputs exits 1 (finished, some skipped)" 1 "$rc"
check_eq "good records and files are all indexed" 4 "$(field added "$s")"
check_eq "bad inputs are counted as skipped" 6 "$(field skipped "$s")"
# The HTML parser crashing on a page says nothing about what the page holds: counted as
# unreadable (documents kept, read again next run), not as skipped.
check_eq "a page the HTML parser crashes on is counted as unreadable" 1 "$(field unreadable "$s")"
err=$(cat "$T/err")
check_match "a binary file is reported with its path" "binary.txt: .*binary" "$err"
check_match "an empty file is reported" "empty.txt: .*empty" "$err"
check_match "a broken JSON line is reported with path and line" "mixed.jsonl:2: " "$err"
check_match "a record without id is reported with its line" "mixed.jsonl:4: .*id" "$err"
check_match "HTML that crashes the HTML parser costs that file only" "gumbo-abort.html: HTML parser crashed" "$err"
check_match "a FIFO is reported, never opened (no hang)" "fifo.txt: not a regular file" "$err"
out=$("$QUIRE" --db "$T/baddb" search --json okapis)
check_match "broken HTML is indexed as far as it goes" "broken.html" "$(jq -r '.hits[].id' <<<"$out")"

# --- devices, huge files, a full disk ---------------------------------------------------------
mkdir -p "$T/odd"
ln -s /dev/zero "$T/odd/zero.txt"
printf 'A fine title for once\nBody text about narwhals.\n' >"$T/odd/fine.txt"
{ printf '{"id": "huge", "body": "'; head -c 200000000 /dev/zero | tr '\0' 'a'; printf '"}\n'; \
  echo '{"id": "after-huge", "title": "Still here", "body": "narwhals after the huge line"}'; } >"$T/odd/huge.jsonl"
head -c 70000000 /dev/zero | tr '\0' 'b' >"$T/odd/huge.txt"
"$QUIRE_INDEX" --db "$T/odddb" "$T/odd" >"$T/out" 2>"$T/err"; rc=$?
s=$(summary "$T/out")
err=$(cat "$T/err")
check_eq "odd inputs: the run finishes with exit 1" 1 "$rc"
check_eq "odd inputs: the good file and the record after the 200 MB line are indexed" 2 "$(field added "$s")"
check_match "a device file is reported, never opened" "zero.txt: not a regular file" "$err"
check_match "a 200 MB JSON line is reported with its line number" "huge.jsonl:1: line longer than" "$err"
check_match "a 70 MB text file is refused by size" "huge.txt: file is 70000000 bytes" "$err"
rm -f "$T/odd/huge.jsonl" "$T/odd/huge.txt"

# A full disk (a file-size limit stands in for it): a clear error, exit 4, the index at its
# last commit.
before=$("$QUIRE" --db "$T/db" health --json | jq -r .docs)
(ulimit -f 2000; exec "$QUIRE_INDEX" --db "$T/db" "$SHARED/corpora/reuters-21578/docs.jsonl") >"$T/out" 2>"$T/err"; rc=$?
check_eq "a full disk ends the run with the I/O error code (4)" 4 "$rc"
check_match "a full disk is reported clearly" "commit failed: .*File too large" "$(cat "$T/err")"
check "after a full disk xapian-check finds no error" xapian-check "$T/db/$(sed -n 's/^auto //p' "$T/db/current")"
check_eq "after a full disk the index is at its last commit" "$before" "$("$QUIRE" --db "$T/db" health --json | jq -r .docs)"

# --- unreadable inputs ----------------------------------------------------------------------
# Root reads every file, so as root the indexer runs as nobody (setpriv); otherwise as the
# user, who cannot read a file of mode 000 either. The real binary, not a checker's wrapper.
mkdir -p "$T/perm/locked"
printf 'A readable page\nAbout okapis that anyone may read.\n' >"$T/perm/ok.txt"
printf 'A secret page\nNobody reads this.\n' >"$T/perm/secret.txt"
printf 'Inside a locked directory\n' >"$T/perm/locked/inner.txt"
chmod 000 "$T/perm/secret.txt" "$T/perm/locked"
mkdir -p "$T/permdb"
RUNAS=""
if [ "$(id -u)" = 0 ]; then
    chmod 777 "$T/permdb"; chmod o+x "$T"; chmod o+rx "$T/perm"
    RUNAS="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
$RUNAS "$BUILD/indexer/quire-index" --db "$T/permdb" "$T/perm" >"$T/out" 2>"$T/err"; rc=$?
err=$(cat "$T/err")
check_eq "unreadable inputs: the run finishes with exit 1" 1 "$rc"
check_eq "unreadable inputs: the readable file is indexed" 1 "$(field added "$(summary "$T/out")")"
check_match "an unreadable file is reported with its path and reason" "secret.txt: cannot open: Permission denied" "$err"
check_match "an unreadable directory is reported" "locked: cannot read directory: Permission denied" "$err"
chmod 700 "$T/perm/locked"; chmod 600 "$T/perm/secret.txt"

# --- files that change while they are read -------------------------------------------------
# A JSON Lines file grows, then is cut short, while runs read it: every run finishes, and
# the run after the file settles holds exactly the file's records.
mkdir -p "$T/moving"
gen_lines() { awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++)
    printf "{\"id\": \"m%d\", \"title\": \"Moving record %d\", \"body\": \"a record about drifting dunes, number %d\"}\n", i, i, i }'; }
gen_lines 1 4000 >"$T/moving/m.jsonl"
( for k in $(seq 1 20); do gen_lines $((4000 + (k - 1) * 200 + 1)) $((4000 + k * 200)) >>"$T/moving/m.jsonl"; sleep 0.05; done ) &
grower=$!
"$QUIRE_INDEX" -q --db "$T/movedb" "$T/moving" 2>"$T/err"; rc1=$?
wait "$grower"
( sleep 0.2; gen_lines 1 300 >"$T/moving/m.jsonl.tmp"; mv "$T/moving/m.jsonl.tmp" "$T/moving/m.jsonl" ) &
cutter=$!
"$QUIRE_INDEX" -q --db "$T/movedb" "$T/moving" 2>>"$T/err"; rc2=$?
wait "$cutter"
check "a file growing and replaced during runs: both runs finish (exit 0 or 1)" test "$rc1" -le 1 -a "$rc2" -le 1
"$QUIRE_INDEX" -q --db "$T/movedb" "$T/moving" 2>>"$T/err"; rc=$?
check_eq "the run after the file settles: exit 0" 0 "$rc"
check_eq "...and the index holds exactly the file's 300 records" 300 "$("$QUIRE" --db "$T/movedb" health --json | jq -r .docs)"
truncate -s 0 "$T/moving/m.jsonl"; gen_lines 1 50 >"$T/moving/m.jsonl"
"$QUIRE_INDEX" -q --db "$T/movedb" "$T/moving" 2>>"$T/err"
check_eq "a file rewritten shorter in place: 50 records" 50 "$("$QUIRE" --db "$T/movedb" health --json | jq -r .docs)"

# --- usage and the writer lock -----------------------------------------------------------
"$QUIRE_INDEX" --db "$T/db" >/dev/null 2>&1; rc=$?
check_eq "no PATH is a usage error (2)" 2 "$rc"
"$QUIRE_INDEX" --db "$T/db" "$T/no-such-dir" >/dev/null 2>"$T/err"; rc=$?
check_eq "a missing PATH is a usage error (2)" 2 "$rc"
check "quire-index --help documents the exit codes" sh -c "'$QUIRE_INDEX' --help | grep -q 'locked by another'"
# Number flags take digits only (lib/number.c): junk, a sign, a blank, an empty value or a
# number past a long is a usage error naming the flag and its range, and nothing is written.
for flag in --batch --jobs --shards "--keep --rebuild" "--wait"; do
    for v in abc 3x ' 3' +3 '' 3.0 99999999999999999999; do
        f=${flag%% *}; rest=${flag#"$f"}
        # shellcheck disable=SC2086
        "$QUIRE_INDEX" --db "$T/numdb" "$f=$v" $rest "$T/c" >/dev/null 2>"$T/err"; rc=$?
        check_eq "$f='$v': a usage error (2)" 2 "$rc"
        check_match "...naming the flag and its range" "^quire-index: $f must be a whole number from [0-9]+ to [0-9]+, not '" "$(cat "$T/err")"
    done
done
for v in abc 0.5x ' 0.5' nan inf 1.5 -0.1 0x1p-1 ''; do
    "$QUIRE_INDEX" --db "$T/numdb" --rebuild --max-drop "$v" "$T/c" >/dev/null 2>"$T/err"; rc=$?
    check_eq "--max-drop '$v': a usage error (2)" 2 "$rc"
    check_match "...saying it is a fraction" "^quire-index: --max-drop is a fraction from 0 to 1" "$(cat "$T/err")"
done
check "...and no index was created by any of them" test ! -e "$T/numdb"

# Another holder of the lock, until it is told to let go (no timing to race with: a slow
# machine or valgrind only makes the indexer start later).
mkfifo "$T/release"
flock -x "$T/db/quire.lock" sh -c "read x <'$T/release'" &
holder=$!
for _ in $(seq 1 200); do flock -n "$T/db/quire.lock" true || break; sleep 0.05; done
"$QUIRE_INDEX" --db "$T/db" "$T/c" >/dev/null 2>"$T/err"; rc=$?
check_eq "a second writer fails with the locked code (3)" 3 "$rc"
check_match "the locked message is clear" "locked by another quire-index" "$(cat "$T/err")"
(sleep 1; echo go >"$T/release") &
"$QUIRE_INDEX" --db "$T/db" --wait=$((20 * SLOW)) "$T/c" >"$T/out" 2>"$T/err"; rc=$?
check_eq "--wait waits for the lock and then runs" 0 "$rc"
wait "$holder"

# Two real indexers started together on a fresh index: one runs, the other is locked out.
# Under valgrind a quarter of the corpus is plenty (memcheck's start alone takes a second).
RACE=$BBC
[ "$UNDER_VALGRIND" = 1 ] && { grep '"id": "sport/' "$BBC" >"$T/race.jsonl"; RACE=$T/race.jsonl; }
"$QUIRE_INDEX" -q --db "$T/race" "$RACE" & a=$!
"$QUIRE_INDEX" -q --db "$T/race" "$RACE" & b=$!
wait $a; ra=$?; wait $b; rb=$?
codes=$(printf '%s\n%s\n' "$ra" "$rb" | sort | tr '\n' ' ')
check_eq "two indexers together: one succeeds, one exits 3" "0 3 " "$codes"

# A first build killed part way is finished by the next run, which compacts it: whenever
# the kill lands, the end is one compacted generation holding every article.
mkdir -p "$T/kill"
head -n 300 "$BBC" >"$T/kill/a.jsonl"
# (The run to be killed is the plain binary even under valgrind: a killed process leaves no
# memcheck summary.)
"$BUILD/indexer/quire-index" -q --batch 1 --db "$T/killdb" "$T/kill" >/dev/null 2>&1 & k=$!
for _ in $(seq 1 200); do
    [ -n "$(xapian-delve "$T/killdb/gen-000001" 2>/dev/null | sed -n 's/^number of documents = \([1-9]\)/\1/p')" ] && break
    sleep 0.05
done
kill -9 "$k" 2>/dev/null; wait "$k" 2>/dev/null
"$QUIRE_INDEX" -q --db "$T/killdb" "$T/kill" >/dev/null 2>&1; rc=$?
check_eq "the run after a killed first build exits 0" 0 "$rc"
live="$T/killdb/$(tail -n1 "$T/killdb/generations")"
check_eq "it holds every article" 300 "$(xapian-delve "$live" | sed -n 's/^number of documents = //p')"
check_eq "it leaves one generation, compacted" "1 " \
    "$(ls -d "$T/killdb"/gen-* | wc -l) $(xapian-metadata get "$live" quire:first-build)"

# --- a generation number is never used twice -------------------------------------------------
# A reader may still hold a rolled-back generation; a new one under its name would be read
# with the old one's block numbers ("EOF reading block ...").
mkdir -p "$T/seqin"
cp "$SRC/corpus/"* "$T/seqin/"
"$QUIRE_INDEX" -q --db "$T/seqdb" "$T/seqin"
"$QUIRE_INDEX" -q --rebuild --db "$T/seqdb" "$T/seqin"
gen_before=$(cat "$T/seqdb/current")
"$QUIRE_INDEX" -q --rollback --db "$T/seqdb"
"$QUIRE_INDEX" -q --rebuild --db "$T/seqdb" "$T/seqin"
gen_after=$(cat "$T/seqdb/current")
check "a rebuild after a rollback takes a new number ($gen_before, then $gen_after)" \
    test "$gen_before" != "$gen_after"
"$QUIRE_INDEX" -q --rollback --db "$T/seqdb"
"$QUIRE_INDEX" -q --rollback --db "$T/seqdb" 2>/dev/null
"$QUIRE_INDEX" -q --rebuild --db "$T/seqdb" "$T/seqin"
check_eq "and so after rolling back twice" "gen-000005" "$(sed 's/^auto //' "$T/seqdb/current")"

# A batch ends after 3 MiB of article text whatever --batch says, so the indexer's memory is
# bounded for articles of any size: 10 articles of about 1.2 MB each, added with --batch
# 100000, take at least 4 commits (3 full batches and the end). Not under valgrind, where
# indexing 12 MB of text alone would take minutes.
if [ "$UNDER_VALGRIND" != 1 ]; then
    mkdir -p "$T/big"
    head -n 20 "$BBC" >"$T/big/a.jsonl"
    "$QUIRE_INDEX" -q --db "$T/bigdb" "$T/big"
    awk -v seed="$RANDOM" 'BEGIN { srand(seed); for (i = 1; i <= 10; i++) { t = "";
        for (w = 0; w < 200000; w++) t = t sprintf("w%x ", int(rand() * 50000));
        printf "{\"id\": \"big-%d\", \"title\": \"Big %d\", \"body\": \"%s\"}\n", i, i, t } }' \
        >"$T/big/b.jsonl"
    live="$T/bigdb/$(tail -n1 "$T/bigdb/generations")"
    rev() { xapian-delve "$live" | sed -n 's/^revision = //p'; }
    before=$(rev)
    # A dry run is one transaction, never committed, whatever the amount of text.
    "$QUIRE_INDEX" --dry-run --db "$T/bigdb" "$T/big" >"$T/out" 2>&1; rc=$?
    check_eq "a dry run over 12 MB of large articles exits 0" 0 "$rc"
    check_match "...and counts them" "would have added 10," "$(cat "$T/out")"
    check_eq "...and writes nothing" "$before" "$(rev)"
    "$QUIRE_INDEX" -q --batch 100000 --db "$T/bigdb" "$T/big"; rc=$?
    check_eq "12 MB of large articles in one run exits 0" 0 "$rc"
    after=$(rev)
    check "...committed in batches of at most 3 MiB of text ($before -> $after)" test $((after - before)) -ge 4
    check_eq "...and holds every article" 30 "$(xapian-delve "$live" | sed -n 's/^number of documents = //p')"
fi

finish
