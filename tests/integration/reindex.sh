#!/bin/bash
# Nightly-reindex safety, with the real indexer and daemon on the reuters-21578 corpus:
# SIGKILL at several points of a run, rebuild/swap/rollback under continuous query load,
# a refused rebuild, a dry run.
. "$(dirname "$0")/../lib.sh"

REUTERS="$SHARED/corpora/reuters-21578/docs.jsonl"
mkdir -p "$T/rc"
ln -s "$REUTERS" "$T/rc/reuters.jsonl"
qterms() { xapian-delve -a "$1" | tr ' ' '\n' | grep '^Q' | sort | md5sum | cut -d' ' -f1; }
livegen() { echo "$1/$(sed -n 's/^auto //p' "$1/current")"; }

# --- a clean build, for reference --------------------------------------------------------
"$QUIRE_INDEX" -q --db "$T/clean" "$T/rc"; rc=$?
check_eq "clean build of reuters-21578 exits 0" 0 "$rc"
clean_docs=$("$QUIRE" --db "$T/clean" health --json | jq -r .docs)
check_eq "clean build has 21577 documents" 21577 "$clean_docs"
clean_terms=$(qterms "$(livegen "$T/clean")")

# --- SIGKILL at several points ------------------------------------------------------------
kills=0
started=""
for delay in 0.3 1.2 2.5 4 6; do
    "$QUIRE_INDEX" -q --batch 1000 --db "$T/k" "$T/rc" &
    pid=$!
    sleep "$delay"
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$pid" 2>/dev/null
    if [ -f "$T/k/current" ]; then
        gen=$(livegen "$T/k")
        check "after SIGKILL at ${delay}s: xapian-check finds no error" xapian-check "$gen"
        n=$("$QUIRE" --db "$T/k" health --json | jq -r .docs)
        check_match "after SIGKILL at ${delay}s: the index opens (docs=$n)" '^[0-9]+$' "$n"
        if [ -z "$started" ]; then
            start_quired "$T/k" && started=yes
        fi
        [ -n "$started" ] && check_eq "after SIGKILL at ${delay}s: the daemon answers" ok "$(get /health | jq -r .status)"
    fi
done
check_match "the indexer was killed mid-run at least 4 times" '^[4-9]$' "$kills"
"$QUIRE_INDEX" -q --db "$T/k" "$T/rc"; rc=$?
check_eq "the run after the kills completes" 0 "$rc"
check_eq "it converges to the clean build's document count" "$clean_docs" "$("$QUIRE" --db "$T/k" health --json | jq -r .docs)"
check_eq "it converges to exactly the clean build's document ids" "$clean_terms" "$(qterms "$(livegen "$T/k")")"
[ -n "$started" ] && stop_quired

# --- reindex, rebuild, rollback under load ------------------------------------------------
start_quired "$T/k" --quiet || { not_ok "quired starts"; finish; }
gen1=$(get /health | jq -r .generation)
load_start oil+prices bank+rates coffee grain+exports 'title:gold' '"money+supply"' yen dollar
sleep 1
echo '{"id": "extra-1", "title": "Quokkavolt shipments surge", "body": "quokkavolt exports rose sharply", "date": "1987-05-01"}' >"$T/rc/extra.jsonl"
"$QUIRE_INDEX" -q --db "$T/k" "$T/rc"
seen=""
for _ in $(seq 1 50); do
    [ "$(get '/search?q=quokkavolt' | jq -r '.hits | length')" = 1 ] && { seen=yes; break; }
    sleep 0.1
done
check_eq "an incremental run's new document becomes visible under load" yes "$seen"

echo '{"id": "extra-2", "title": "Zanzibarite output doubles", "body": "zanzibarite mining", "date": "1987-06-01"}' >>"$T/rc/extra.jsonl"
"$QUIRE_INDEX" --json --rebuild --db "$T/k" "$T/rc" >"$T/rebuild.json"; rc=$?
check_eq "--rebuild exits 0" 0 "$rc"
check_eq "--json prints the summary as JSON" ok "$(jq -r .status "$T/rebuild.json")"
gen2=$(jq -r .generation "$T/rebuild.json")
check "the rebuild made a new generation" test "$gen2" != "$gen1"
seen=""
for _ in $(seq 1 50); do
    h=$(get /health)
    [ "$(jq -r .generation <<<"$h")" = "$gen2" ] && [ "$(get '/search?q=zanzibarite' | jq -r '.hits | length')" = 1 ] && { seen=yes; break; }
    sleep 0.1
done
check_eq "the daemon serves the swapped-in generation without a restart" yes "$seen"
hdr=$(curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/search?q=yen")
check_match "responses name the generation that answered" "X-Quire-Generation: $gen2" "$hdr"
check_match "responses name the revision that answered" "X-Quire-Revision: [0-9]+" "$hdr"
check_match "responses say when the index was last updated" "X-Quire-Updated: [0-9]{4}-[0-9]{2}-[0-9]{2}T" "$hdr"

"$QUIRE_INDEX" --rollback --db "$T/k" >"$T/out" 2>&1; rc=$?
check_eq "--rollback exits 0" 0 "$rc"
back=""
for _ in $(seq 1 50); do
    [ "$(get /health | jq -r .generation)" = "$gen1" ] && { back=yes; break; }
    sleep 0.1
done
check_eq "after --rollback the daemon serves the previous generation" yes "$back"
check_eq "the rolled-back generation lacks the rebuild's new document" 0 "$(get '/search?q=zanzibarite' | jq -r '.hits | length')"
sleep 0.5
counts=$(load_stop)
okn=${counts% *}; badn=${counts#* }
check_eq "zero failed or malformed responses under load (served $okn)" 0 "$badn"
check "the load generator was really served (>100 responses)" test "$okn" -gt 100
echo "# load: $okn responses, $badn failed"
[ "$badn" = 0 ] || sed 's/^/# /' "$T/load.bad.log" | head -20

# --- --rollback on a --db that does not exist: refused, and nothing is created -------------------
"$QUIRE_INDEX" --rollback --db "$T/typo/db" >"$T/out" 2>"$T/err"; rc=$?
check_eq "--rollback on a missing --db exits 5 (nothing to roll back)" 5 "$rc"
check_match "and says so" "nothing to roll back" "$(cat "$T/err")"
"$QUIRE_INDEX" --rollback --list --db "$T/typo/db" >"$T/out" 2>"$T/err"; rc=$?
check_eq "--rollback --list on a missing --db exits 4" 4 "$rc"
check "neither created the directory" test ! -e "$T/typo"

# --- a rebuild that would drop most documents is refused --------------------------------------
mkdir -p "$T/empty"
echo '{"id": "only", "title": "Lonely record", "body": "just one"}' >"$T/empty/one.jsonl"
before=$(get /health | jq -c '[.generation, .docs]')
"$QUIRE_INDEX" --rebuild --db "$T/k" "$T/empty" >"$T/out" 2>"$T/err"; rc=$?
check_eq "a rebuild that drops most documents is refused (exit 5)" 5 "$rc"
check_match "the refusal says why" "refused.*fewer than the live one" "$(cat "$T/err")"
sleep 0.5
check_eq "the live index keeps serving, unchanged" "$before" "$(get /health | jq -c '[.generation, .docs]')"
"$QUIRE_INDEX" --rebuild --db "$T/k" "$T/nothing-here" >/dev/null 2>&1; rc=$?
check_eq "a rebuild from a missing directory is a usage error" 2 "$rc"

# --- dry run --------------------------------------------------------------------------------
rev=$(get /health | jq -r .revision)
echo '{"id": "extra-3", "title": "Dry", "body": "dry run record"}' >>"$T/rc/extra.jsonl"
"$QUIRE_INDEX" --dry-run --json --db "$T/k" "$T/rc" >"$T/dry.json"; rc=$?
check_eq "--dry-run exits 0" 0 "$rc"
check_eq "--dry-run reports the change" true "$(jq -r '.dry_run and (.added + .updated) >= 1' "$T/dry.json")"
sleep 0.5
check_eq "--dry-run writes nothing" "$rev" "$(get /health | jq -r .revision)"
stop_quired

# --- two indexers started together -----------------------------------------------------------
"$QUIRE_INDEX" -q --db "$T/two" "$T/rc" & a=$!
"$QUIRE_INDEX" -q --db "$T/two" "$T/rc" & b=$!
wait $a; ra=$?; wait $b; rb=$?
check_eq "two indexers together: one runs, the other exits 3 at once" "0 3 " "$(printf '%s\n%s\n' "$ra" "$rb" | sort | tr '\n' ' ')"

finish
