#!/bin/bash
# The crasher (tests/model/crasher.py): quired serves an index while quire-index updates,
# rebuilds and rolls it back on a changing tree, clients query all the time, and both are
# killed with SIGKILL at random moments. QUIRE_CRASHER_SEED reproduces a run;
# QUIRE_CRASHER_SECONDS sizes it (75 s by default, 30 s under the sanitizers; a long run by
# hand: QUIRE_CRASHER_SECONDS=1800 make check TESTS=tests/model/crasher.sh). Not run under
# valgrind: a killed process leaves no memcheck summary.
. "$(dirname "$0")/../lib.sh"
secs=${QUIRE_CRASHER_SECONDS:-75}
[ "$SANITIZED" = 1 ] && secs=${QUIRE_CRASHER_SECONDS:-30}
extra=()
[ -n "${QUIRE_CRASHER_SEED:-}" ] && extra+=(--seed "$QUIRE_CRASHER_SEED")
mkdir -p "$T/crasher"
python3 "$SRC/tests/model/crasher.py" "$BUILD" "$T/crasher" --index "$QUIRE_INDEX" \
    --quired "$QUIRED" --seconds "$secs" --slow "$SLOW" --no-plan "${extra[@]}" | tee "$T/crasher.tap"
read -r TAP_N TAP_FAILED < <(sed -n 's/^# checks \([0-9]*\) failed \([0-9]*\)$/\1 \2/p' "$T/crasher.tap")
if [ -z "${TAP_N:-}" ]; then
    TAP_N=$(grep -cE '^(not )?ok ' "$T/crasher.tap")
    not_ok "the crasher ran to its end"
fi
finish
