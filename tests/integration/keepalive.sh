#!/bin/bash
# Requests on kept-alive connections at random moments around a small idle timeout
# (tests/attack/keepalive.py), while other connections keep both workers busy with
# expensive searches on bbc-news (a busy worker runs its timers late, after requests that
# arrived in the meantime), and a SIGHUP reloads quired every 0.3 s (every worker re-arms
# its connections' timers): a request that reached quired's socket is answered, never
# closed instead; only a connection still idle when its timer runs is closed. QUIRE_SEED=N
# repeats the pauses of a run. The daemon still answers afterwards and stops cleanly.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
"$QUIRE_INDEX" -q --db "$T/db" "$SHARED/corpora/bbc-news/docs.jsonl" ||
    { not_ok "index bbc-news"; finish; }
idle=200
start_quired "$T/db" --access-log json --idle-timeout-ms $idle ||
    { not_ok "quired starts"; finish; }
seed=()
[ -n "${QUIRE_SEED:-}" ] && seed=(--seed "$QUIRE_SEED")
(
    while [ ! -e "$T/done" ]; do kill -HUP "$QPID" 2>/dev/null; sleep 0.3; done
) &
hup=$!
python3 "$SRC/tests/attack/keepalive.py" --port "$PORT" --log "$LOG" --idle-ms $idle \
    --seconds 15 --conns 16 --load 8 "${seed[@]}" >"$T/keepalive.tap" 2>"$T/keepalive.err"
rc=$?
touch "$T/done"
wait "$hup"
relay_tap "$T/keepalive.tap"
check_eq "the client ran to its end" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/keepalive.err" | head -n 40
reloads=$(grep -c '"event":"reload"' "$LOG")
check "quired reloaded during the run ($reloads times)" test "$reloads" -gt 10
check_eq "the daemon answers afterwards" ok "$(get /health | jq -r .status)"
stop_quired; rc=$?
check_eq "SIGTERM: exits 0" 0 "$rc"
finish
