#!/bin/bash
# Model-based randomized test of quire-index (tests/model/index-model.py): random
# operations on several input roots, incremental runs, kills, rebuilds and rollbacks, the
# index checked after every complete run against the model and against a clean build.
# QUIRE_MODEL_SEED reproduces a run; QUIRE_MODEL_OPS / QUIRE_MODEL_SECONDS size it (300
# operations within 60 s by default; 60 operations under valgrind).
. "$(dirname "$0")/../lib.sh"
ops=${QUIRE_MODEL_OPS:-300}
secs=${QUIRE_MODEL_SECONDS:-60}
[ "$UNDER_VALGRIND" = 1 ] && ops=${QUIRE_MODEL_OPS:-60}
seed_arg=()
[ -n "${QUIRE_MODEL_SEED:-}" ] && seed_arg=(--seed "$QUIRE_MODEL_SEED")
mkdir -p "$T/model"
chmod o+x "$T"
python3 "$SRC/tests/model/index-model.py" "$BUILD" "$T/model" --ops "$ops" --seconds "$secs" "${seed_arg[@]}"
