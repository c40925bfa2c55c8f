#!/bin/bash
# Connections are spread evenly over quired's worker threads (tests/attack/balance.py): a
# burst opened at once, then random opens and closes, each open going to a worker that
# served the fewest, with 2 and with 3 workers. QUIRE_SEED=N repeats a run.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
mkdir -p "$T/in"
cp "$SRC"/corpus/* "$T/in/"
"$QUIRE_INDEX" -q --db "$T/db" "$T/in" || { not_ok "index the corpus"; finish; }
seed=()
[ -n "${QUIRE_SEED:-}" ] && seed=(--seed "$QUIRE_SEED")
steps=60
[ "$UNDER_VALGRIND" = 1 ] && steps=20
for workers in 2 3; do
    # start_quired asks for 2 threads; the later --threads wins.
    start_quired "$T/db" --quiet --threads $workers || { not_ok "quired starts"; finish; }
    python3 "$SRC/tests/attack/balance.py" --port "$PORT" --workers $workers --steps $steps \
        --slow "$SLOW" "${seed[@]}" >"$T/balance.tap" 2>"$T/balance.err"
    rc=$?
    relay_tap "$T/balance.tap"
    check_eq "$workers workers: the client ran to its end" 0 "$rc"
    [ "$rc" = 0 ] || sed 's/^/#   /' "$T/balance.err" | head -n 40
    stop_quired
    check_eq "$workers workers: SIGTERM, exits 0" 0 "$?"
done
finish
