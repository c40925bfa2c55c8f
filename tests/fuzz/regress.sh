#!/bin/sh
# tests/fuzz/regress.sh -- the fuzz targets' regression run as a TAP test for make check:
# every seed and every saved crash reproducer (tests/fuzz/regress/) through its fuzz
# target once, under the sanitizers. Skipped (TAP "1..0 # SKIP") without clang/libFuzzer.
# QUIRE_SKIP_FUZZ_REGRESS=1 skips it (dev/check's sanitizer pass: the fuzz build has its own
# sanitizers, and the first pass already ran it).
if [ "${QUIRE_SKIP_FUZZ_REGRESS:-0}" = 1 ]; then
    echo "1..0 # SKIP run in the first pass"
    exit 0
fi
exec sh "$(dirname "$0")/run.sh" --regress "$@"
