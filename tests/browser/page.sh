#!/bin/bash
# The search page in a real browser: Debian's chromium, headless, driven over the DevTools
# protocol by drive.mjs (no npm package: it speaks WebSocket itself). The corpus is the one of
# tests/integration/page.sh (bbc-news and reuters samples, hostile.jsonl). Screenshots at
# 390 px and 1280 px are kept in tests/browser/artifacts/ of the build tree.
# Without chromium or node the test fails: it must never pass by not running.
. "$(dirname "$0")/../lib.sh"

command -v chromium >/dev/null || { not_ok "chromium is installed (dev/deps installs Debian's chromium)"; finish; }
command -v node >/dev/null || { not_ok "node is installed (dev/deps installs nodejs)"; finish; }
ok "chromium and node are installed"

mkdir -p "$T/c"
awk 'NR % 8 == 1' "$SHARED/corpora/bbc-news/docs.jsonl" >"$T/c/bbc.jsonl"
awk 'NR % 100 == 1' "$SHARED/corpora/reuters-21578/docs.jsonl" >"$T/c/reuters.jsonl"
cp "$SRC/tests/browser/hostile.jsonl" "$T/c/hostile.jsonl"
"$QUIRE_INDEX" -q --db "$T/db" "$T/c" || { not_ok "index the test corpus"; finish; }
start_quired "$T/db" || { not_ok "quired starts"; finish; }
ok "quired starts on the page corpus"

ART="$BUILD/tests/browser/artifacts"
rm -rf "$ART"
# drive.mjs prints TAP: its lines are renumbered into this test's stream.
node "$SRC/tests/browser/drive.mjs" "http://127.0.0.1:$PORT" "$ART" >"$T/drive.out" 2>"$T/drive.err"
rc=$?
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok "${line#ok [0-9]* - }" ;;
    "not ok "*) not_ok "${line#not ok [0-9]* - }" ;;
    "#"*) echo "$line" ;;
    esac
done <"$T/drive.out"
[ -s "$T/drive.err" ] && sed 's/^/# stderr: /' "$T/drive.err" | head -n 20
check_eq "the browser driver exits 0" 0 "$rc"
for s in home-1280 results-1280 results-390 corrected-1280 hostile-1280 hostile-390; do
    check "screenshot $s.png kept" test -s "$ART/$s.png"
done
stop_quired >/dev/null
finish
