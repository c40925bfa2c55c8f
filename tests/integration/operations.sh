#!/bin/bash
# Operating quired: the configuration file and --check-config, SIGHUP re-reading it,
# /metrics, the access and slow-query logs, the Unix socket's permissions.
. "$(dirname "$0")/../lib.sh"

"$QUIRE_INDEX" -q --db "$T/db" "$SRC/corpus" || { not_ok "index corpus"; finish; }

cat >"$T/q.ini" <<INI
; quired settings
[quired]
db = $T/db
threads = 2
quiet = true
socket_mode = 0600
INI
out=$("$QUIRED" --config "$T/q.ini" --check-config 2>&1); rc=$?
check_eq "--check-config accepts a valid file" 0 "$rc"
check_match "--check-config reports the index it opened" "configuration OK: db .* \(5 documents\)" "$out"
printf '[quired]\nthreads = lots\n' >"$T/bad.ini"
out=$("$QUIRED" --config "$T/bad.ini" --check-config 2>&1); rc=$?
check_eq "--check-config refuses a bad value (exit 2)" 2 "$rc"
check_match "the refusal names file, line and setting" "bad.ini:2: threads must be" "$out"
printf 'no_such_setting = 1\n' >"$T/bad2.ini"
out=$("$QUIRED" --config "$T/bad2.ini" --check-config 2>&1)
check_match "an unknown key is refused by name" "unknown setting 'no_such_setting'" "$out"
out=$("$QUIRED" --config "$T/q.ini" --db "$T/nowhere" --check-config 2>&1); rc=$?
check_eq "flags win over the file (--db points nowhere: exit 1)" 1 "$rc"

start_quired "$T/db" --config "$T/q.ini" || { not_ok "quired starts with --config"; finish; }
get '/search?q=muse' >/dev/null
sleep 0.2
check_eq "quiet = true from the file: no access log lines" 0 "$(grep -c '^GET /search' "$LOG")"
check_eq "socket_mode from the file sets the Unix socket's mode" 600 "$(stat -c %a "$SOCK")"

# SIGHUP: the file now asks for JSON access lines and a slow-query log at 0 ms (all).
cat >"$T/q.ini" <<INI
[quired]
db = $T/db
threads = 2
quiet = false
access_log = json
INI
kill -HUP "$QPID"
sleep 0.5
get '/search?q=muse+spark' >/dev/null
get '/health' >/dev/null
sleep 0.3
line=$(grep '"path":"/search"' "$LOG" | tail -n1)
check_match "after SIGHUP the access log is JSON" '"method":"GET"' "$line"
check "the JSON access line parses and has status and ms" jq -e '.status == 200 and (.ms | type == "number")' <<<"$line"

m=$(get /metrics)
check_match "/metrics counts search requests by status" 'quire_requests_total\{endpoint="search",status="200"\} [0-9]+' "$m"
check_match "/metrics has a latency histogram" 'quire_request_duration_seconds_bucket\{le="\+Inf"\} [0-9]+' "$m"
check_match "/metrics reports documents" '^quire_documents 5$' "$m"
gen=$(tail -n1 "$T/db/generations")
check_match "/metrics reports the generation" "^quire_index_generation $((10#${gen#gen-}))\$" "$m"
check_match "/metrics reports queries in flight" '^quire_requests_in_flight [0-9]+$' "$m"
before=$(sed -n 's/^quire_requests_total{endpoint="search",status="400"} //p' <<<"$m"); before=${before:-0}
get '/search?limit=1' >/dev/null
m=$(get /metrics)
after=$(sed -n 's/^quire_requests_total{endpoint="search",status="400"} //p' <<<"$m")
check_eq "a 400 is counted in /metrics" $((before + 1)) "$after"
check_eq "/metrics answers other methods with 405" 405 "$(status POST /metrics)"
stop_quired

start_quired "$T/db" --quiet --slow-ms 0 || { not_ok "quired restarts"; finish; }
check_eq "the default Unix socket mode is 0660" 660 "$(stat -c %a "$SOCK")"
stop_quired
"$QUIRED" --db "$T/db" --listen 127.0.0.1:0 --no-tcp 2>"$T/err"; rc=$?
check_eq "--no-tcp without --socket is refused" 2 "$rc"

finish
