#!/bin/bash
# Malformed HTTP from outside (tests/attack/malformed.py, raw sockets): every kind of
# request that libevent's evhttp would answer with its own HTML page gets quired's JSON
# error with the status that fits, is counted in /metrics and logged as JSON; seeded
# random mutations of valid requests (QUIRE_SEED=N repeats a run) never get a non-JSON
# error. The daemon still answers afterwards.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
"$QUIRE_INDEX" -q --db "$T/db" "$SRC/corpus" || { not_ok "index corpus"; finish; }
start_quired "$T/db" --access-log json --header-timeout-ms $((1500 * SLOW)) ||
    { not_ok "quired starts"; finish; }
seed=()
[ -n "${QUIRE_SEED:-}" ] && seed=(--seed "$QUIRE_SEED")
cases=400
[ "$UNDER_VALGRIND" = 1 ] && cases=60
python3 "$SRC/tests/attack/malformed.py" --port "$PORT" --log "$LOG" --cases $cases "${seed[@]}" \
    >"$T/malformed.tap" 2>"$T/malformed.err"
rc=$?
relay_tap "$T/malformed.tap"
check_eq "the attacker ran to its end" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/malformed.err" | head -n 40
check_eq "the daemon answers afterwards" ok "$(get /health | jq -r .status)"
stop_quired; rc=$?
check_eq "SIGTERM: exits 0" 0 "$rc"
finish
