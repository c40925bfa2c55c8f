#!/bin/bash
# Model-based randomized test of quire-index (tests/model/index-model.py): random
# operations on several input roots, incremental runs, kills, rebuilds and rollbacks, the
# index checked after every complete run against the model and against a clean build.
# QUIRE_MODEL_SEED reproduces a run; QUIRE_MODEL_OPS / QUIRE_MODEL_SECONDS size it (300
# operations within 60 s by default). Under valgrind (make check-valgrind): 40 operations,
# no kills (a killed process leaves no memcheck summary), every run under memcheck.
. "$(dirname "$0")/../lib.sh"
ops=${QUIRE_MODEL_OPS:-300}
secs=${QUIRE_MODEL_SECONDS:-60}
extra=()
if [ "$UNDER_VALGRIND" = 1 ]; then
    ops=${QUIRE_MODEL_OPS:-40}
    secs=${QUIRE_MODEL_SECONDS:-600}
    extra=(--no-kill)
    # The indexer runs as nobody when the test runs as root: it must reach its wrapper and
    # write its memcheck logs.
    chmod 755 "$T/vg" "$T/vg/quire-index"
    chmod 777 "$VG_LOGS"
fi
[ -n "${QUIRE_MODEL_SEED:-}" ] && extra+=(--seed "$QUIRE_MODEL_SEED")
mkdir -p "$T/model"
chmod o+x "$T"
python3 "$SRC/tests/model/index-model.py" "$BUILD" "$T/model" --index "$QUIRE_INDEX" \
    --ops "$ops" --seconds "$secs" --no-plan "${extra[@]}" | tee "$T/model.tap"
# Carry on the TAP stream after the model's checks (memcheck's verdicts under valgrind).
read -r TAP_N TAP_FAILED < <(sed -n 's/^# checks \([0-9]*\) failed \([0-9]*\)$/\1 \2/p' "$T/model.tap")
if [ -z "${TAP_N:-}" ]; then
    TAP_N=$(grep -cE '^(not )?ok ' "$T/model.tap")
    not_ok "the model test ran to its end"
fi
finish
