#!/bin/bash
# The crasher (tests/model/crasher.py): quired serves an index while quire-index updates,
# rebuilds and rolls it back on a changing tree, clients query all the time, and both are
# killed with SIGKILL at random moments. QUIRE_CRASHER_SEED reproduces a run;
# QUIRE_CRASHER_SECONDS sizes it (75 s by default, 30 s under the sanitizers, 40 s under
# valgrind; a long run by hand: QUIRE_CRASHER_SECONDS=1800 make check
# TESTS=tests/model/crasher.sh).
#
# Under valgrind (make check-valgrind) a SIGKILLed process leaves no memcheck summary, so
# half the stops of quired are a SIGTERM (it drains and exits; its log must then be clean:
# no error, no definite leak), as is the last one; the runs of quire-index that are not
# killed end normally with theirs. The killed processes' logs are checked for the errors
# reported before the kill and moved aside (crasher.py); lib.sh judges the others. Two
# clients, and the killer pauses twice as long: quired restarts slowly under memcheck.
. "$(dirname "$0")/../lib.sh"
secs=${QUIRE_CRASHER_SECONDS:-75}
[ "$SANITIZED" = 1 ] && secs=${QUIRE_CRASHER_SECONDS:-30}
extra=()
if [ "$UNDER_VALGRIND" = 1 ]; then
    secs=${QUIRE_CRASHER_SECONDS:-40}
    extra+=(--valgrind-logs "$VG_LOGS" --graceful 0.5 --pace 2 --clients 2)
fi
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
