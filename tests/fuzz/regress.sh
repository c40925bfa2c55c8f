#!/bin/sh
# tests/fuzz/regress.sh -- the fuzz targets' regression run as a TAP test for make check:
# every seed and every saved crash reproducer (tests/fuzz/regress/) through its fuzz
# target once, under the sanitizers. Skipped (TAP "1..0 # SKIP") without clang/libFuzzer.
# Add it to INTEGRATION_TESTS in Makefile.am to run it with make check.
exec sh "$(dirname "$0")/run.sh" --regress "$@"
