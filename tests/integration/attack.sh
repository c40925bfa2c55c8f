#!/bin/bash
# The crasher: tests/attack/attack.py attacks the real quired for a bounded time (seeded,
# the seed printed; QUIRE_SEED=N repeats a run) with random mixes of tricklers, half-sent
# keep-alive requests, slow, full and oversized bodies, floods past the connection cap,
# abrupt resets and real queries, and checks after every round that the daemon kept its
# limits: sockets and open connections within the cap, every connection closed by its
# deadline, every real query answered 200 or 503 with Retry-After, peak RSS within the
# README's formula, every stderr line JSON. Two listeners (TCP and a Unix socket), so the
# fd bound counts both.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
"$QUIRE_INDEX" -q --db "$T/db" "$SRC/corpus" || { not_ok "index corpus"; finish; }

# The limits are in the configuration file, not flags (flags win): the attacker reloads
# new ones between rounds (SIGHUP). The memory bound takes the largest cap it may set (32).
CAP=24 MAX_CAP=32 THREADS=2 HEADER=1500 IDLE=2500 MAX_BODY=1048576 RATE=1048576 MAX_RESPONSE=262144
printf '[quired]\nmax_connections = %d\nheader_timeout_ms = %d\nidle_timeout_ms = %d\nmax_body = %d\nbody_min_rate = %d\naccess_log = json\nmax_response = %d\n' \
    $CAP $HEADER $IDLE $MAX_BODY $RATE $MAX_RESPONSE >"$T/quired.ini"
start_quired "$T/db" --threads $THREADS --config "$T/quired.ini" || { not_ok "quired starts"; finish; }
# A few searches first, so the idle RSS includes the index's caches.
for q in muse spark revenue android; do get "/search?q=$q" >/dev/null; done
idle=$(awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$QPID/status")
# The README's bound: idle RSS + max_connections x (max_body + 256 KiB + max_response)
#                     + threads x (3 x max_body + 8 MiB + 2 x largest article);
# the corpus's largest article is a few KB (not counted).
bound=$((idle + MAX_CAP * (MAX_BODY + 262144 + MAX_RESPONSE) + THREADS * (3 * MAX_BODY + 8388608)))
echo "# idle RSS $((idle / 1024)) KiB; bound $((bound / 1024)) KiB"
seconds=${QUIRE_ATTACK_SECONDS:-45}
[ "$SANITIZED" = 1 ] && bound=0 # attack.py skips the memory check
python3 "$SRC/tests/attack/attack.py" --port "$PORT" --pid "$QPID" --log "$LOG" --cap $CAP \
    --threads $THREADS --listeners 2 --header-ms $HEADER --idle-ms $IDLE --max-body $MAX_BODY \
    --min-rate $RATE --max-response $MAX_RESPONSE --rss-bound "$bound" --seconds "$seconds" --config "$T/quired.ini" \
    >"$T/attack.tap" 2>"$T/attack.err"
rc=$?
# attack.py prints TAP lines: renumber them into this stream.
relay_tap "$T/attack.tap"
check_eq "the attacker ran to its end" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/attack.err" | head -n 40
check "quired is still alive" kill -0 "$QPID"
check_eq "...and answers" ok "$(get /health | jq -r .status)"
stop_quired; rc=$?
check_eq "SIGTERM after the attack: exits 0" 0 "$rc"
finish
