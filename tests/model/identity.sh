#!/bin/bash
# Regression tests for issue 13, one or more checks per defect, with the real quire-index:
# ids across roots, duplicate JSON ids, never deleting on doubt, generations as a stack, a
# killed rebuild, dry runs, readers (BOM, .ndjson, .json, .gz of every format, ignored
# files), rebuild-only flags,
# --wait, the locked message.
. "$(dirname "$0")/../lib.sh"
DUMP="$BUILD/tests/model/quire-dump"
summary() { grep -E '(^| )added [0-9]+' "$1" | tail -n1; }
field() { sed -n "s/.*$1 \([0-9]*\).*/\1/p" <<<"$2"; }
ids() { "$DUMP" "$1" | cut -f1 | tr '\n' ' '; }
title_of() { "$DUMP" "$1" | awk -F'\t' -v id="$2" '$1 == id { print $2 }'; }
RUNAS=""
if [ "$(id -u)" = 0 ]; then
    chmod o+x "$T"
    RUNAS="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
# as_indexer ARGS: quire-index as a user that mode 000 keeps out (nobody when root).
as_indexer() { $RUNAS "$BUILD/indexer/quire-index" "$@"; }

# --- ids never collide across roots ------------------------------------------------------
mkdir -p "$T/news/2024" "$T/news/2025"
printf 'Budget Talks Resume In Capital\n\nTalks on the budget resumed today.\n' >"$T/news/2024/01.txt"
printf 'Harbour Strike Ends After Week\n\nDock workers returned to the harbour.\n' >"$T/news/2025/01.txt"
"$QUIRE_INDEX" -q --db "$T/two" "$T/news/2024" "$T/news/2025"; rc=$?
check_eq "two roots holding 01.txt: exit 0" 0 "$rc"
check_eq "two roots: ids are relative to their common parent" "2024/01.txt 2025/01.txt " "$(ids "$T/two")"
"$QUIRE_INDEX" -q --db "$T/one" "$T/news/2024"
check_eq "one root: ids stay relative to it" "01.txt " "$(ids "$T/one")"
# The same id from two runs over different roots: reported, and the first by path kept.
"$QUIRE_INDEX" --db "$T/one" "$T/news/2025" >"$T/out" 2>"$T/err"; rc=$?
check_eq "another root's file with the same id: exit 1 (a duplicate id)" 1 "$rc"
check_match "...reported with both locations" 'duplicate id "01.txt".*2024/01.txt.*2025/01.txt' "$(cat "$T/err")"
check_eq "...and the file whose path sorts first stays indexed" "Budget Talks Resume In Capital" "$(title_of "$T/one" 01.txt)"
"$QUIRE_INDEX" -q --db "$T/one" "$T/news/2024" 2>/dev/null
check_eq "rerunning on the first root: its text, not the other's" "Budget Talks Resume In Capital" "$(title_of "$T/one" 01.txt)"

# --- the same JSON id in two files ---------------------------------------------------------
mkdir -p "$T/j"
echo '{"id": "x1", "title": "First copy of x1", "body": "alpha"}' >"$T/j/a.jsonl"
{ echo '{"id": "x1", "title": "Second copy of x1", "body": "beta"}'
  echo '{"id": "x2", "title": "Only x2", "body": "gamma"}'
  echo '{"id": "x2", "title": "x2 again in the same file", "body": "delta"}'; } >"$T/j/b.jsonl"
"$QUIRE_INDEX" --db "$T/jdb" "$T/j" >"$T/out" 2>"$T/err"; rc=$?
check_eq "duplicate JSON ids: exit 1" 1 "$rc"
check_match "every location of x1 is reported" 'duplicate id "x1" in 2 records.*a.jsonl:1.*b.jsonl:1' "$(cat "$T/err")"
check_match "a repeat inside one file is reported with both lines" 'duplicate id "x2".*b.jsonl:2.*b.jsonl:3' "$(cat "$T/err")"
check_eq "the file whose path sorts first gives the record" "First copy of x1" "$(title_of "$T/jdb" x1)"
check_eq "inside one file, the first line gives the record" "Only x2" "$(title_of "$T/jdb" x2)"
"$QUIRE_INDEX" -q --db "$T/jdb" "$T/j" 2>"$T/err"; rc=$?
check_eq "an incremental run with nothing changed still reports the duplicates (exit 1)" 1 "$rc"
echo '{"id": "x3", "title": "Something else", "body": "epsilon"}' >"$T/j/a.jsonl"
"$QUIRE_INDEX" -q --db "$T/jdb" "$T/j" 2>/dev/null
check_eq "x1 removed from one file: the document stays while the other holds it" "Second copy of x1" "$(title_of "$T/jdb" x1)"
"$QUIRE_INDEX" -q --db "$T/clean-j" "$T/j" 2>/dev/null
check_eq "...and the incremental index equals a clean build" "$("$DUMP" "$T/clean-j")" "$("$DUMP" "$T/jdb")"
rm "$T/j/b.jsonl"
"$QUIRE_INDEX" -q --db "$T/jdb" "$T/j"; rc=$?
check_eq "the last file holding x1 gone: x1 goes (exit 0)" "0 x3 " "$rc $(ids "$T/jdb")"

# --- never delete on doubt ------------------------------------------------------------------
mkdir -p "$T/d"
printf 'Reservoir Levels Fall Sharply\n\nThe reservoir fell by a third.\n' >"$T/d/r.txt"
{ for i in $(seq 1 200); do echo "{\"id\": \"g$i\", \"title\": \"Record $i of the gz file\", \"body\": \"body $i $(head -c 300 /dev/zero | tr '\0' x)\"}"; done; } | gzip >"$T/d/g.jsonl.gz"
mkdir -p "$T/ddb"
[ -n "$RUNAS" ] && chmod -R o+rwX "$T/d" "$T/ddb"
as_indexer -q --db "$T/ddb" "$T/d"
check_eq "before: 201 documents" 201 "$("$DUMP" "$T/ddb" | wc -l)"
printf 'Reservoir Levels Fall Sharply\n\nThe reservoir fell by a half.\n' >"$T/d/r.txt"
chmod 000 "$T/d/r.txt"
as_indexer --db "$T/ddb" "$T/d" >"$T/out" 2>"$T/err"; rc=$?
check_eq "an unreadable file: exit 1" 1 "$rc"
check_match "...reported with its path and reason" 'r.txt: cannot open: Permission denied; its documents are kept' "$(cat "$T/err")"
check_eq "...counted as unreadable" 1 "$(field unreadable "$(summary "$T/out")")"
check_eq "...and its document is kept" 201 "$("$DUMP" "$T/ddb" | wc -l)"
chmod 644 "$T/d/r.txt"
# A .gz cut short: what was read is applied, the unread tail keeps its documents, and no
# signature is recorded, so the next run reads the whole file again.
cp "$T/d/g.jsonl.gz" "$T/g.full"
size=$(stat -c %s "$T/d/g.jsonl.gz")
{ for i in $(seq 1 200); do echo "{\"id\": \"g$i\", \"title\": \"Record $i, revised\", \"body\": \"body $i $(head -c 300 /dev/zero | tr '\0' y)\"}"; done; } | gzip | head -c $((size / 2)) >"$T/d/g.jsonl.gz"
as_indexer --db "$T/ddb" "$T/d" >"$T/out" 2>"$T/err"; rc=$?
check_eq "a truncated .gz: exit 1" 1 "$rc"
check_match "...reported" 'g.jsonl.gz: line [0-9]+: .*documents are kept' "$(cat "$T/err")"
check_eq "...its unread records' documents are kept" 201 "$("$DUMP" "$T/ddb" | wc -l)"
cp "$T/g.full" "$T/d/g.jsonl.gz"; touch "$T/d/g.jsonl.gz"
as_indexer -q --db "$T/ddb" "$T/d"; rc=$?
check_eq "the whole .gz again: read again, exit 0" 0 "$rc"
"$QUIRE_INDEX" -q --db "$T/clean-d" "$T/d"
check_eq "...and the index equals a clean build" "$("$DUMP" "$T/clean-d")" "$("$DUMP" "$T/ddb")"
# An unreadable directory: the documents of the files in it stay.
mkdir -p "$T/d/sub"; printf 'Inner Page About Dunes\n\nSand dunes move.\n' >"$T/d/sub/in.txt"
[ -n "$RUNAS" ] && chmod -R o+rwX "$T/d"
as_indexer -q --db "$T/ddb" "$T/d"
chmod 000 "$T/d/sub"
as_indexer -q --db "$T/ddb" "$T/d" 2>/dev/null; rc=$?
check_eq "an unreadable directory: exit 1, and its file's document is kept" "1 yes" "$rc $("$DUMP" "$T/ddb" | grep -q '^sub/in.txt' && echo yes)"
chmod 755 "$T/d/sub"

# --- generations: a stack ---------------------------------------------------------------
mkdir -p "$T/g"
gen() { printf '%s\n\nBody of the %s version.\n' "$1" "$1" >"$T/g/a.txt"; touch -d "@$2" "$T/g/a.txt"; }
live() { sed -n 's/^auto //p' "$T/gdb/current"; }
gen "Version One Of The Page" 1000000; "$QUIRE_INDEX" -q --db "$T/gdb" "$T/g"
gen "Version Two Of The Page" 2000000; "$QUIRE_INDEX" -q --db "$T/gdb" --rebuild --keep 3 "$T/g"
gen "Version Three Of The Page" 3000000; "$QUIRE_INDEX" -q --db "$T/gdb" --rebuild --keep 3 "$T/g"
check_eq "G1, G2, G3: G3 is live" "Version Three Of The Page" "$(title_of "$T/gdb" a.txt)"
"$QUIRE_INDEX" --db "$T/gdb" --rollback >/dev/null
check_eq "a rollback gives G2" "Version Two Of The Page" "$(title_of "$T/gdb" a.txt)"
"$QUIRE_INDEX" --db "$T/gdb" --rollback >/dev/null
check_eq "a second rollback gives G1" "Version One Of The Page" "$(title_of "$T/gdb" a.txt)"
"$QUIRE_INDEX" --db "$T/gdb" --rollback >/dev/null 2>&1; rc=$?
check_eq "nothing below G1: refused (exit 5)" 5 "$rc"
rm -rf "$T/gdb"
gen "Version One Of The Page" 1000000; "$QUIRE_INDEX" -q --db "$T/gdb" "$T/g"
gen "Version Two Of The Page" 2000000; "$QUIRE_INDEX" -q --db "$T/gdb" --rebuild "$T/g"
"$QUIRE_INDEX" --db "$T/gdb" --rollback >/dev/null
gen "Version Three Of The Page" 3000000; "$QUIRE_INDEX" -q --db "$T/gdb" --rebuild "$T/g"
check_eq "G1, G2, a rollback, a rebuild G3: G3 is live" "Version Three Of The Page" "$(title_of "$T/gdb" a.txt)"
"$QUIRE_INDEX" --db "$T/gdb" --rollback >/dev/null
check_eq "...and a rollback gives G1, not the rolled-away G2" "Version One Of The Page" "$(title_of "$T/gdb" a.txt)"
# The sequence of the issue: rebuild, rollback, a refused rebuild, a forced one, rollback.
rm -rf "$T/gdb" "$T/g"/*
for i in 1 2 3 4; do printf 'Page Number %s Of Many\n\nText %s.\n' "$i" "$i" >"$T/g/p$i.txt"; done
"$QUIRE_INDEX" -q --db "$T/gdb" "$T/g"; g1=$(live)
"$QUIRE_INDEX" -q --db "$T/gdb" --rebuild "$T/g"
"$QUIRE_INDEX" --db "$T/gdb" --rollback >/dev/null
rm "$T/g/p2.txt" "$T/g/p3.txt" "$T/g/p4.txt"
"$QUIRE_INDEX" -q --db "$T/gdb" --rebuild --max-drop 0.1 "$T/g" 2>/dev/null; rc=$?
check_eq "a rebuild losing 75% with --max-drop 0.1: refused (exit 5)" 5 "$rc"
"$QUIRE_INDEX" -q --db "$T/gdb" --rebuild --max-drop 0.1 --force "$T/g"
"$QUIRE_INDEX" --db "$T/gdb" --rollback >/dev/null; rc=$?
check_eq "...forced, then a rollback: back to the first generation, which pruning kept" "0 $g1 4" "$rc $(live) $("$DUMP" "$T/gdb" | wc -l)"
check_match "--rollback --list shows the stack" "^$g1 \(live\)" "$("$QUIRE_INDEX" --db "$T/gdb" --rollback --list)"
# A killed rebuild leaves nothing that can become live.
for i in $(seq 1 3000); do echo "{\"id\": \"k$i\", \"title\": \"Kill test record $i\", \"body\": \"text $i\"}"; done >"$T/g/big.jsonl"
"$QUIRE_INDEX" -q --db "$T/gdb" --rebuild --force "$T/g"; before=$(live); stack_before=$(cat "$T/gdb/generations" | tr '\n' ' ')
gens_before=$(ls "$T/gdb" | grep -c '^gen-')
"$QUIRE_INDEX" -q --db "$T/gdb" --rebuild --batch 100 "$T/g" & pid=$!
for _ in $(seq 1 100); do [ -d "$T/gdb/.rebuild" ] && break; sleep 0.02; done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
check_eq "a killed rebuild: the live generation and the stack are unchanged" "$before $stack_before" "$(live) $(cat "$T/gdb/generations" | tr '\n' ' ')"
check_eq "...and no new gen-* directory holds its partial build" "$gens_before" "$(ls "$T/gdb" | grep -c '^gen-')"
"$QUIRE_INDEX" --db "$T/gdb" --rollback >/dev/null; rc=$?
check_eq "...a rollback after it pops to the generation below, not the partial one" "0 $g1" "$rc $(live)"
"$QUIRE_INDEX" -q --db "$T/gdb" --rebuild "$T/g"; rc=$?
check_eq "the next rebuild clears what the killed one left and goes live" "0 no" "$rc $([ -d "$T/gdb/.rebuild" ] && echo yes || echo no)"

# --- sharded directories and dry runs ---------------------------------------------------------
"$QUIRE_INDEX" -q --db "$T/sh" --shards 2 "$T/j"
"$QUIRE_INDEX" -q --db "$T/sh" "$T/j" 2>"$T/err"; rc=$?
check "a plain run on a sharded index does not create a second index inside it" test ! -e "$T/sh/current" -a ! -e "$T/sh/gen-000001"
check_eq "...it updates the shards (exit 0)" 0 "$rc"
"$QUIRE_INDEX" --db "$T/newdry" --dry-run "$T/j" >"$T/out" 2>"$T/err"; rc=$?
check_eq "--dry-run on a new index exits 0" 0 "$rc"
check_match "...and reports what would be added" 'would have added 1,' "$(cat "$T/out")"
check "...and writes nothing, not even a lock" test ! -e "$T/newdry"
mkdir "$T/emptydry"
"$QUIRE_INDEX" --db "$T/emptydry" --dry-run "$T/j" >"$T/out" 2>"$T/err"; rc=$?
check_eq "--dry-run on a directory that holds no index yet exits 0" 0 "$rc"
check_match "...and reports what would be added" 'would have added 1,' "$(cat "$T/out")"
check "...and makes no index there" test ! -e "$T/emptydry/current" -a ! -e "$T/emptydry/gen-000001"

# --- readers ------------------------------------------------------------------------------
mkdir -p "$T/r/sub"
printf '\xef\xbb\xbf{"id": "bom1", "title": "Record after a BOM", "body": "first record"}\n{"id": "bom2", "title": "Second record", "body": "second"}\n' >"$T/r/bom.jsonl"
echo '{"id": "nd1", "title": "An ndjson record", "body": "text"}' >"$T/r/sub/n.ndjson"
: >"$T/r/a.pdf"; : >"$T/r/b.pdf"; : >"$T/r/c.docx"
printf 'Caf\xe9 Owners Protest New Rules\n\nA na\xefve plan, they said.\n' >"$T/r/latin1.txt"
printf '<html><head><meta charset="iso-8859-1"><title>D\xe9j\xe0 Vu In The Capital</title></head><body><p>Caf\xe9 text.</p></body></html>' >"$T/r/latin1.html"
printf 'Budget Cuts\n\nThe council cut the budget by a third on Monday, officials said.\n' >"$T/r/two.txt"
{ echo '{"id": "d1", "title": "With a time", "body": "x", "date": "2024-05-01T10:00:00Z"}'
  echo '{"id": "d2", "title": "A year", "body": "x", "date": "2020"}'
  echo '{"id": "d3", "title": "Unix seconds", "body": "x", "date": 1714557600}'
  echo '{"id": "u1", "body": "Oil Surge\n\nPrices rose sharply in early trading as supply fell."}'; } >"$T/r/dates.jsonl"
"$QUIRE_INDEX" --db "$T/rdb" "$T/r" >"$T/out" 2>"$T/err"; rc=$?
check_eq "a JSON Lines file starting with a BOM keeps its first record" "bom1 bom2 d1 d2 d3 latin1.html latin1.txt nd1 two.txt u1 " "$(ids "$T/rdb")"
check_match "other files in directories are counted by extension" 'ignored 3: \.pdf 2, \.docx 1' "$(cat "$T/out")"
check_eq "Latin-1 text is converted, not turned into U+FFFD" "$(printf "Caf\xc3\xa9 Owners Protest New Rules")" "$(title_of "$T/rdb" latin1.txt)"
check_eq "Latin-1 HTML with <meta charset> is converted" "$(printf "D\xc3\xa9j\xc3\xa0 Vu In The Capital")" "$(title_of "$T/rdb" latin1.html)"
check_match "...and the conversions are counted in the summary" 'converted to UTF-8 2' "$(cat "$T/out")"
date_of() { "$DUMP" "$1" | awk -F'\t' -v id="$2" '$1 == id { print $3 }'; }
check_eq "JSON dates: with a time, a year, Unix seconds" "2024-05-01 2020-01-01 2024-05-01" "$(date_of "$T/rdb" d1) $(date_of "$T/rdb" d2) $(date_of "$T/rdb" d3)"
check_eq "a two-word headline is the title" "Budget Cuts" "$(title_of "$T/rdb" two.txt)"
check_eq "an untitled JSON record takes its body's headline" "Oil Surge" "$(title_of "$T/rdb" u1)"

# --- .json files and .gz of every format ------------------------------------------------------
mkdir -p "$T/z/sub"
printf 'Harbour Dredging Plan Approved\n\nThe council approved the dredging plan.\n' | gzip >"$T/z/sub/h.txt.gz"
printf '# Orchard Growers Expect Record Year\n\nThe orchards are full.\n' | gzip >"$T/z/o.md.gz"
printf '# Copper Prices Climb Again Today\n\nCopper rose.\n' | gzip >"$T/z/c.markdown.gz"
printf '<html><head><title>Lantern Festival Draws Crowds</title></head><body><p>Lanterns.</p></body></html>' | gzip >"$T/z/l.html.gz"
printf '<html><head><title>Rail Strike Called Off Late</title></head><body><p>Trains.</p></body></html>' | gzip >"$T/z/r.htm.gz"
echo '{"title": "A Single Object Without Id", "body": "one article"}' >"$T/z/one.json"
echo '{"id": "obj1", "title": "A Single Object With Id", "body": "its own id"}' | gzip >"$T/z/obj.json.gz"
echo '{"title": "Compressed Object Without Id", "body": "file id"}' | gzip >"$T/z/cz.json.gz"
printf '\xef\xbb\xbf[{"id": "e1", "title": "Element One", "body": "a"}, {"id": "e2", "title": "Element Two", "body": "b"},\n {"title": "no id here", "body": "c"}, {"id": "e1", "title": "Element One Again", "body": "d"}]\n' >"$T/z/arr.json"
echo '[{"id": "g1", "title": "Gzip Array Element", "body": "e"}]' | gzip >"$T/z/garr.json.gz"
echo '{"id": "n1", "title": "Still JSON Lines", "body": "f"}' | gzip >"$T/z/n.ndjson.gz"
"$QUIRE_INDEX" --db "$T/zdb" "$T/z" >"$T/out" 2>"$T/err"; rc=$?
check_eq ".json and every .gz are read, ids without .gz" "c.markdown cz.json e1 e2 g1 l.html n1 o.md obj1 one.json r.htm sub/h.txt " "$(ids "$T/zdb")"
check_eq "...and none is counted as ignored" 0 "$(grep -c ignored "$T/out")"
check_eq "a .txt.gz is titled as its text" "Harbour Dredging Plan Approved" "$(title_of "$T/zdb" sub/h.txt)"
check_eq "a .html.gz is parsed as HTML" "Lantern Festival Draws Crowds" "$(title_of "$T/zdb" l.html)"
check_eq "a .json object without id is its file's one article" "A Single Object Without Id" "$(title_of "$T/zdb" one.json)"
check_eq "an array's repeated id: the first element gives the record" "Element One" "$(title_of "$T/zdb" e1)"
check_eq "...exit 1" 1 "$rc"
check_match "...reported with both elements" 'duplicate id "e1" in 2 records.*arr.json:1.*arr.json:4' "$(cat "$T/err")"
check_match "an array element without id is reported and skipped" 'arr.json: element 3: missing "id", skipped' "$(cat "$T/err")"
check_eq "...and counted" 1 "$(field skipped "$(summary "$T/out")")"
# Truncated, corrupt or not gzip at all: cannot be read now; documents kept, read again.
for f in sub/h.txt.gz o.md.gz l.html.gz obj.json.gz garr.json.gz; do cp "$T/z/$f" "$T/z.$(basename "$f").full"; done
printf 'Harbour Dredging Plan Halted\n\nA revised text that never arrives whole.\n' | gzip | head -c 30 >"$T/z/sub/h.txt.gz"
head -c 12 "$T/z.o.md.gz.full" >"$T/z/o.md.gz"
{ head -c 20 "$T/z.l.html.gz.full"; printf 'garbage in the middle of the deflate stream'; } >"$T/z/l.html.gz"
echo '{"id": "obj1", "title": "Not compressed at all", "body": "x"}' >"$T/z/obj.json.gz"
: >"$T/z/garr.json.gz"
"$QUIRE_INDEX" --db "$T/zdb" "$T/z" >"$T/out" 2>"$T/err"; rc=$?
check_eq "truncated, corrupt and non-gzip .gz files: counted unreadable (exit 1)" "1 5" "$rc $(field unreadable "$(summary "$T/out")")"
for f in sub/h.txt.gz o.md.gz l.html.gz obj.json.gz garr.json.gz; do
    check_match "...$f reported with its path and reason" "z/$f: .*(truncated or corrupt|not gzip).*its documents are kept" "$(cat "$T/err")"
done
check_eq "...and their documents are all kept as they were" "c.markdown cz.json e1 e2 g1 l.html n1 o.md obj1 one.json r.htm sub/h.txt " "$(ids "$T/zdb")"
check_eq "...with their old text" "Harbour Dredging Plan Approved A Single Object With Id" "$(title_of "$T/zdb" sub/h.txt) $(title_of "$T/zdb" obj1)"
"$QUIRE_INDEX" --db "$T/zdb" "$T/z" >"$T/out" 2>"$T/err"
check_eq "the next run reads them again (still unreadable: 5)" 5 "$(field unreadable "$(summary "$T/out")")"
for f in sub/h.txt.gz o.md.gz l.html.gz obj.json.gz garr.json.gz; do cp "$T/z.$(basename "$f").full" "$T/z/$f"; touch "$T/z/$f"; done
printf 'Harbour Dredging Plan Approved\n\nThe uncompressed copy.\n' >"$T/z/sub/h.txt"
"$QUIRE_INDEX" --db "$T/zdb" "$T/z" >"$T/out" 2>"$T/err"; rc=$?
check_eq "restored: nothing unreadable" "" "$(field unreadable "$(summary "$T/out")")"
check_match "a.txt beside a.txt.gz: one id claimed twice, both reported" 'duplicate id "sub/h.txt" in 2 records.*sub/h.txt, .*sub/h.txt.gz' "$(cat "$T/err")"
"$QUIRE_INDEX" -q --db "$T/zclean" "$T/z" 2>/dev/null
check_eq "...and the incremental index equals a clean build" "$("$DUMP" "$T/zclean")" "$("$DUMP" "$T/zdb")"

# --- a sharded run's summary adds its shards up ----------------------------------------------
# Each shard's run walks the trees and reads the JSON files, but a text file only in the run
# of its shard: the summary and the messages must be those of one run over one database.
mkdir -p "$T/s/locked"
for i in $(seq 1 9); do
    printf 'Headline Number %s Goes Here\n\nBody text %s.\n' "$i" "$i" >"$T/s/t$i.txt"
    printf '\x00\x01\x02\x03binary %s' "$i" >"$T/s/bin$i.txt"
    printf 'Caf\xe9 Owners Protest Rule %s\n\nA na\xefve plan.\n' "$i" >"$T/s/latin$i.txt"
done
: >"$T/s/empty.md"
printf 'Cut Short\n\ntext\n' | gzip | head -c 12 >"$T/s/short.txt.gz"
printf '{"id":"a","body":"x"}\nnot json\n{"id":"a","body":"again"}\n{"id":"b","body":"y"}\n{"id":"b","body":"y2"}\n' >"$T/s/j.jsonl"
echo '[{"id":"c","body":"z"},{"body":"no id"}]' >"$T/s/arr.json"
: >"$T/s/x.pdf"; : >"$T/s/y.pdf"; : >"$T/s/z.docx"
[ -n "$RUNAS" ] && chmod -R o+rwX "$T/s"
chmod 000 "$T/s/locked" "$T/s/t9.txt"
mkdir -p "$T/s1" "$T/s3"
[ -n "$RUNAS" ] && chmod o+rwx "$T/s1" "$T/s3"
words() { sed -e 's/ in [0-9.]* s ([0-9]* docs\/s)//' -e 's/ over 3 shards//' "$1"; }
messages() { sed 's/^quire-index\( \[[^]]*\]\)\?: //' "$1" | sort; }
for pass in first second; do
    as_indexer --db "$T/s1/db" "$T/s" >"$T/out1" 2>"$T/err1"; rc1=$?
    as_indexer --db "$T/s3/db" --shards 3 "$T/s" >"$T/out3" 2>"$T/err3"; rc3=$?
    check_match "$pass run: the unsharded summary counts every kind of problem" 'skipped [1-9].*unreadable 3.*converted to UTF-8|skipped [1-9].*unreadable 3.*duplicate ids 2, ignored 3: \.pdf 2, \.docx 1' "$(cat "$T/out1")"
    check_eq "$pass run: a sharded run prints the same summary (exit $rc1)" "$rc1 $(words "$T/out1")" "$rc3 $(words "$T/out3")"
    check_eq "$pass run: ...and reports the same problems, each once" "$(messages "$T/err1")" "$(messages "$T/err3")"
    as_indexer --json --dry-run --db "$T/s1/db" "$T/s" 2>/dev/null | jq -c 'del(.seconds, .docs_per_second, .generation, .db)' >"$T/j1"
    as_indexer --json --dry-run --db "$T/s3/db" --shards 3 "$T/s" 2>/dev/null | jq -c 'del(.seconds, .docs_per_second, .generation, .db, .shards)' >"$T/j3"
    check_eq "$pass run: ...and the same --json summary" "$(cat "$T/j1")" "$(cat "$T/j3")"
done
chmod 755 "$T/s/locked"; chmod 644 "$T/s/t9.txt"
# A sharded --rebuild with an unreadable JSON Lines file: every shard's run met it (one
# reported it), so no shard swaps in a build without that file's documents.
mkdir -p "$T/sr" "$T/srdb"
for i in $(seq 1 30); do echo "{\"id\": \"r$i\", \"title\": \"Record $i\", \"body\": \"text $i\"}"; done >"$T/sr/r.jsonl"
for i in $(seq 1 90); do echo "{\"id\": \"k$i\", \"title\": \"Kept $i\", \"body\": \"kept $i\"}"; done >"$T/sr/k.jsonl"
[ -n "$RUNAS" ] && chmod -R o+rwX "$T/sr" "$T/srdb"
as_indexer -q --db "$T/srdb/db" --shards 3 "$T/sr"
chmod 000 "$T/sr/r.jsonl"
as_indexer -q --db "$T/srdb/db" --shards 3 --rebuild "$T/sr" 2>"$T/err"; rc=$?
chmod 644 "$T/sr/r.jsonl"
check_eq "a sharded --rebuild with an unreadable input is refused (5)" 5 "$rc"
check_eq "...and every shard keeps its documents" 120 "$("$QUIRE" --db "$T/srdb/db" health --json | jq -r .docs)"

# --- flags --------------------------------------------------------------------------------
for f in "--keep 3" "--force" "--max-drop 0.2"; do
    # shellcheck disable=SC2086
    "$QUIRE_INDEX" -q --db "$T/jdb" $f "$T/j" 2>"$T/err"; rc=$?
    check_eq "$f without --rebuild: usage error (2)" 2 "$rc"
done
check_match "...with a clear message" "only goes with --rebuild" "$(cat "$T/err")"
"$QUIRE_INDEX" -q --db "$T/jdb" --wait 5 "$T/j" 2>"$T/err"; rc=$?
check_eq "--wait 5: refused (2)" 2 "$rc"
check_match "...with: did you mean --wait=5?" "did you mean --wait=5\?" "$(cat "$T/err")"
flock -x "$T/jdb/quire.lock" sleep 2 &
sleep 0.3
"$QUIRE_INDEX" -q --db "$T/jdb" "$T/j" 2>"$T/err"; rc=$?
check_eq "locked: exit 3" 3 "$rc"
check_match "...and the message says how to wait" "--wait" "$(cat "$T/err")"
wait
finish
