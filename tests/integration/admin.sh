#!/bin/bash
# Integration tests of quired's administrative endpoint, POST /admin/reload: refused
# without credentials (401), with wrong ones or over TCP with no token configured (403);
# allowed with the admin token from the configuration file or from the Unix socket by an
# allowed uid; a reload re-reads the configuration (a new token) and makes a new commit
# visible to every worker at once.
. "$(dirname "$0")/../lib.sh"

"$QUIRE_INDEX" -q --db "$T/db" "$SRC/corpus" || { not_ok "index corpus"; finish; }
TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
TOKEN2=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '[quired]\nadmin_token = %s\n' "$TOKEN" >"$T/q.ini"
chmod 600 "$T/q.ini"

# --- settings -----------------------------------------------------------------------------
out=$("$QUIRED" --db "$T/db" --admin-token "$TOKEN" --check-config 2>&1); rc=$?
check_eq "--admin-token on the command line is refused (exit 2)" 2 "$rc"
check_match "the refusal says where the token goes instead" "configuration file or use --admin-token-file" "$out"
printf '[quired]\nadmin_token = short\n' >"$T/short.ini"
out=$("$QUIRED" --db "$T/db" --config "$T/short.ini" --check-config 2>&1); rc=$?
check_eq "a short admin_token is refused (exit 2)" 2 "$rc"
check_match "the refusal names the setting and the limit" "short.ini:2: admin_token must be 16 to 256" "$out"
printf '%s\n' "$TOKEN" >"$T/token"
chmod 644 "$T/token"
out=$("$QUIRED" --db "$T/db" --admin-token-file "$T/token" --check-config 2>&1); rc=$?
check_eq "a token file other users can read is refused (exit 2)" 2 "$rc"
check_match "the refusal says how to fix it" "readable by other users \(chmod o-r it\)" "$out"
check_match "the refusal names the flag, then says what is wrong" "quired: --admin-token-file: admin token file $T/token is readable" "$out"
out=$("$QUIRED" --db "$T/db" --admin-token-file "$T/nope" --check-config 2>&1); rc=$?
check_eq "a missing token file is refused (exit 2)" 2 "$rc"
check_match "the refusal is a sentence after the flag's name" "quired: --admin-token-file: cannot read admin token file $T/nope: No such file" "$out"
out=$("$QUIRED" --db "$T/db" --threads x --check-config 2>&1); rc=$?
check_match "a bad number names its flag once" "quired: --threads must be a whole number" "$out"
chmod 600 "$T/token"
out=$("$QUIRED" --db "$T/db" --admin-token-file "$T/token" --check-config 2>&1); rc=$?
check_eq "a private token file is accepted" 0 "$rc"

# --- a daemon with a token; its refresh timer too slow to matter here ----------------------
start_quired "$T/db" --config "$T/q.ini" --refresh-ms 60000 || { not_ok "quired starts"; finish; }
# admin [CURL ARGS...]: POST /admin/reload over TCP; prints the status, body in $T/body.
admin() { curl -s -m $((10 * SLOW)) -o "$T/body" -D "$T/headers" -w '%{http_code}' -X POST "$@" "http://127.0.0.1:$PORT/admin/reload"; }
code() { jq -r '.error.code' "$T/body" 2>/dev/null; }

check_eq "no credentials over TCP: 401" 401 "$(admin)"
check_eq "no credentials: JSON error unauthorized" unauthorized "$(code)"
check_match "no credentials: the message says what to send" "Authorization: Bearer" "$(jq -r .error.message "$T/body")"
check_match "401 carries WWW-Authenticate: Bearer" "^WWW-Authenticate: Bearer" "$(tr -d '\r' <"$T/headers")"
check_eq "a wrong token: 403" 403 "$(admin -H "Authorization: Bearer ${TOKEN}x")"
check_eq "a wrong token: JSON error forbidden" forbidden "$(code)"
check_eq "a token one character short: 403" 403 "$(admin -H "Authorization: Bearer ${TOKEN%?}")"
check_eq "Basic instead of Bearer: 401" 401 "$(admin -H "Authorization: Basic $TOKEN")"
check_eq "GET /admin/reload: 405" 405 "$(status GET /admin/reload -H "Authorization: Bearer $TOKEN")"
check_eq "an unknown admin endpoint: 404" 404 "$(status POST /admin/nope -H "Authorization: Bearer $TOKEN")"
check_match "refusals are logged" "admin: refused POST /admin/reload \(403\)" "$(cat "$LOG")"

# A new commit: with a 60 s refresh only the reload can make it visible now.
cp -r "$SRC/corpus" "$T/c"
printf 'Narwhal census completed\n\nMarine biologists counted narwhalzeta pods on 12 May 2026.\n' >"$T/c/narwhal.txt"
"$QUIRE_INDEX" -q --db "$T/db" "$T/c"
check_eq "before the reload the new article is not visible" 0 "$(get '/search?q=narwhalzeta' | jq -r '.hits | length')"
check_eq "the right token: 200" 200 "$(admin -H "Authorization: Bearer $TOKEN")"
check_eq "the answer says reloaded" reloaded "$(jq -r .status "$T/body")"
check_eq "every worker reopened its index" "2 2" "$(jq -r '"\(.workers) \(.workers_reopened)"' "$T/body")"
check_eq "the answer counts the new article" 6 "$(jq -r .docs "$T/body")"
seen=""
for i in 1 2 3 4 5 6; do seen="$seen$(get '/search?q=narwhalzeta' | jq -r '.hits | length')"; done
check_eq "right after the reload every request sees the new article" 111111 "$seen"
check_match "a reload is logged with who asked" "admin: POST /admin/reload by admin token over TCP" "$(cat "$LOG")"

# A reload re-reads the configuration: a new token replaces the old one.
printf '[quired]\nadmin_token = %s\n' "$TOKEN2" >"$T/q.ini"
check_eq "reload with the old token re-reads the file" 200 "$(admin -H "Authorization: Bearer $TOKEN")"
check_eq "after it the old token is refused" 403 "$(admin -H "Authorization: Bearer $TOKEN")"
check_eq "and the new one accepted" 200 "$(admin -H "Authorization: Bearer $TOKEN2")"
printf '[quired]\nthreads = lots\n' >"$T/q.ini"
check_eq "a broken configuration: 500" 500 "$(admin -H "Authorization: Bearer $TOKEN2")"
check_match "it names the problem and keeps the old settings" "config_invalid .*old one is kept .*q.ini:2: threads must be" "$(jq -r '"\(.error.code) \(.error.message)"' "$T/body")"
check_eq "the kept settings still accept the token (500 again, not 403)" 500 "$(admin -H "Authorization: Bearer $TOKEN2")"
printf '[quired]\nadmin_token = %s\n' "$TOKEN2" >"$T/q.ini"
check_eq "the file repaired: 200" 200 "$(admin -H "Authorization: Bearer $TOKEN2")"

# The Unix socket: the daemon's own uid needs no token.
u=$(curl -s -m $((10 * SLOW)) -w '\n%{http_code}' -X POST --unix-socket "$SOCK" http://localhost/admin/reload)
check_eq "over the Unix socket, the daemon's own uid: 200" 200 "$(tail -n1 <<<"$u")"
check_eq "over the Unix socket: reloaded" reloaded "$(head -n1 <<<"$u" | jq -r .status)"
check_match "a socket reload is logged with the uid" "admin: POST /admin/reload by uid $(id -u) over the Unix socket" "$(cat "$LOG")"
check_eq "the daemon still serves searches" 6 "$(get /health | jq -r .docs)"
stop_quired

# --- no token configured: TCP is always refused, the socket still works -------------------
start_quired "$T/db" || { not_ok "quired without a token starts"; finish; }
check_eq "no token configured, TCP without credentials: 403" 403 "$(admin)"
check_match "the message says TCP is refused without a token" "refused over TCP: no admin_token is configured" "$(jq -r .error.message "$T/body")"
check_eq "no token configured, TCP with a bearer token: 403" 403 "$(admin -H "Authorization: Bearer $TOKEN")"
check_eq "no token configured, the Unix socket and own uid: 200" 200 "$(curl -s -m $((10 * SLOW)) -o /dev/null -w '%{http_code}' -X POST --unix-socket "$SOCK" http://localhost/admin/reload)"
stop_quired

# --- another uid over the Unix socket (needs root to be another user) ----------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    chmod 711 "$T"
    nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups curl -s -m $((10 * SLOW)) -o /dev/null -w '%{http_code}' -X POST --unix-socket "$SOCK" http://localhost/admin/reload; }
    start_quired "$T/db" --socket-mode 0666 || { not_ok "quired with an open socket starts"; finish; }
    check_eq "another uid over the Unix socket: 403" 403 "$(nobody)"
    stop_quired
    start_quired "$T/db" --socket-mode 0666 --admin-uid 65534 || { not_ok "quired with admin_uid starts"; finish; }
    check_eq "the uid named by admin_uid over the Unix socket: 200" 200 "$(nobody)"
    stop_quired
else
    ok "another uid over the Unix socket: 403 # SKIP not root"
    ok "the uid named by admin_uid over the Unix socket: 200 # SKIP not root"
fi

finish
