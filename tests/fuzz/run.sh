#!/bin/sh
# tests/fuzz/run.sh -- builds Quire's libFuzzer targets and runs them (`make fuzz`).
#
#   run.sh [TARGET...]            fuzz each target for FUZZ_SECONDS (default 60) seconds
#   run.sh --regress [TARGET...]  run each target once over its seed corpus and its
#                                 regression inputs (quick; TAP output, for make check)
#
# TARGET is request, article or client (default: all three).
#
# Why the sources are compiled here instead of linking lib/libquire.a: the library is
# built by the project's compiler without sanitizers or coverage, and a fuzzer steers by
# coverage. So lib/*.c and client/qc.c are compiled again with clang and
# -fsanitize=fuzzer-no-link,address,undefined, and the binding lib/xapian-c/*.cc with
# clang++ (libxapian itself stays uninstrumented). Objects are rebuilt only when a source,
# a header or this script is newer.
#
# Layout under $QUIRE_BUILD/tests/fuzz/:
#   fuzz_TARGET      the fuzzers             obj/        instrumented objects
#   work/TARGET/     the growing corpus (seeded from tests/fuzz/corpus and regress)
#   artifacts/       crash, leak, timeout and out-of-memory reproducers
#   logs/TARGET.log  the fuzzer's output     tmp/        scratch (indexes, sockets)
#
# A reproducer becomes a regression input by copying it to
# tests/fuzz/regress/TARGET/ in the source tree; --regress then runs it every time.
#
# Environment: QUIRE_SRC, QUIRE_BUILD (set by make), FUZZ_SECONDS, FUZZ_CC, FUZZ_CXX,
# FUZZ_FORK (1, the default: keep fuzzing after a crash; 0: stop at the first),
# FUZZ_FLAGS (extra libFuzzer flags).
set -eu

SRC=${QUIRE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${QUIRE_BUILD:-$SRC}
OUT=$BUILD/tests/fuzz
HERE=$(cd "$(dirname "$0")" && pwd) # the harnesses, seeds and regression inputs
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
CXX=${FUZZ_CXX:-clang++}
ALL_TARGETS="request article client"

mode=fuzz
if [ "${1:-}" = "--regress" ]; then
    mode=regress
    shift
fi
targets=${*:-$ALL_TARGETS}
for t in $targets; do
    case " $ALL_TARGETS " in
    *" $t "*) ;;
    *) echo "run.sh: unknown target '$t' (expected one of: $ALL_TARGETS)" >&2; exit 2 ;;
    esac
done

say() { if [ "$mode" = regress ]; then echo "# $*"; else echo "$*"; fi; }
die() { echo "run.sh: $*" >&2; exit 2; }
# no_toolchain REASON: fuzzing needs the tool and fails; a regression run (make check on a
# machine without clang) is skipped, as TAP says it.
no_toolchain() {
    if [ "$mode" = regress ]; then
        echo "1..0 # SKIP $1"
        exit 0
    fi
    die "$1"
}

# ---- toolchain ------------------------------------------------------------------------

command -v "$CC" >/dev/null 2>&1 || no_toolchain "$CC not found: install clang (Debian: apt-get install clang)"
command -v "$CXX" >/dev/null 2>&1 || no_toolchain "$CXX not found: install clang (Debian: apt-get install clang)"
mkdir -p "$OUT/obj" "$OUT/artifacts" "$OUT/logs" "$OUT/tmp" "$OUT/work"
trap 'rm -rf "$OUT/tmp"' EXIT

# libFuzzer ships with clang's runtime libraries; Debian packages them separately.
probe=$OUT/obj/probe
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
    >"$probe.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe.c" -o "$probe" >"$probe.log" 2>&1; then
    ver=$("$CC" --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
    cat "$probe.log" >&2
    no_toolchain "$CC cannot link -fsanitize=fuzzer. libFuzzer comes with clang's runtime: on Debian/Ubuntu install libclang-rt-${ver:-NN}-dev (older releases: libfuzzer-${ver:-NN}-dev), e.g. 'apt-get install libclang-rt-${ver:-NN}-dev'."
fi

# Library flags: pkg-config for everything, xapian-config as a fallback for Xapian.
pc() { pkg-config "$@" 2>/dev/null; }
DEP_CFLAGS=$(pc --cflags jansson gumbo zlib liblz4 libcurl libevent) ||
    die "pkg-config cannot find jansson, gumbo, zlib, liblz4, libcurl and libevent (the -dev packages)"
DEP_LIBS=$(pc --libs jansson gumbo zlib liblz4 libcurl libevent)
XAPIAN_CFLAGS=$(pc --cflags xapian-core || xapian-config --cxxflags)
XAPIAN_LIBS=$(pc --libs xapian-core || xapian-config --libs)

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
COMMON="-g -O1 $SAN -fsanitize=fuzzer-no-link -D_GNU_SOURCE -I$SRC/lib -I$SRC/client/include"
# config.h gives qc.c its PACKAGE_VERSION, as in the real build.
[ -f "$BUILD/config.h" ] && COMMON="$COMMON -DHAVE_CONFIG_H -I$BUILD"
LIB_CFLAGS="-std=c11 -Wall -Wextra $COMMON $DEP_CFLAGS"
# The harnesses are ours: the project's warnings, as errors, as in CI.
HARNESS_CFLAGS="$LIB_CFLAGS -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror"
XC_CXXFLAGS="-Wall -Wextra $COMMON $XAPIAN_CFLAGS"

# ---- building -------------------------------------------------------------------------

HEADERS=$(find -L "$SRC/lib" "$SRC/client/include" \( -name '*.h' -o -name '*.hh' \) 2>/dev/null)
# stale OBJ SRC: true when OBJ is missing or older than SRC, a header or this script.
stale() {
    [ ! -f "$1" ] && return 0
    # shellcheck disable=SC2086 # HEADERS is a list
    [ -n "$(find -L "$2" $HEADERS "$0" -newer "$1" 2>/dev/null | head -1)" ]
}
# compile COMPILER FLAGS SRC OBJ: compiles when stale; the compiler's messages go to stderr.
compile() {
    if stale "$4" "$3"; then
        say "  compiling ${3#"$SRC"/}"
        # shellcheck disable=SC2086
        if ! $1 $2 -c "$3" -o "$4.tmp" 2>"$4.log"; then
            cat "$4.log" >&2
            die "compiling $3 failed"
        fi
        mv "$4.tmp" "$4"
        [ -s "$4.log" ] && cat "$4.log" >&2
    fi
    return 0
}

# The library: every lib/*.c (so a new module needs no change here) and the binding, in an
# archive so each fuzzer links only what it uses.
build_lib() {
    [ -f "$SRC/lib/article.c" ] || die "$SRC/lib/article.c is missing: the library is incomplete"
    objs=""
    for c in "$SRC"/lib/*.c; do
        o=$OUT/obj/lib_$(basename "$c" .c).o
        compile "$CC" "$LIB_CFLAGS" "$c" "$o"
        objs="$objs $o"
    done
    for cc in "$SRC"/lib/xapian-c/*.cc; do
        o=$OUT/obj/xc_$(basename "$cc" .cc).o
        compile "$CXX" "$XC_CXXFLAGS" "$cc" "$o"
        objs="$objs $o"
    done
    compile "$CC" "$LIB_CFLAGS" "$SRC/client/qc.c" "$OUT/obj/qc.o"
    lib=$OUT/obj/libquire-fuzz.a
    # shellcheck disable=SC2086
    if [ ! -f "$lib" ] || [ -n "$(find $objs -newer "$lib" | head -1)" ]; then
        rm -f "$lib"
        ar rcs "$lib" $objs
    fi
}

# build_target NAME: links fuzz_NAME (the C++ driver: the binding and libFuzzer are C++).
build_target() {
    obj=$OUT/obj/fuzz_$1.o
    bin=$OUT/fuzz_$1
    compile "$CC" "$HARNESS_CFLAGS" "$HERE/fuzz_$1.c" "$obj"
    extra=""
    [ "$1" = client ] && extra=$OUT/obj/qc.o
    # shellcheck disable=SC2086 # extra is empty or one path
    if [ ! -x "$bin" ] || [ -n "$(find "$obj" $extra "$OUT/obj/libquire-fuzz.a" -newer "$bin" | head -1)" ]; then
        say "  linking fuzz_$1"
        # shellcheck disable=SC2086
        $CXX $SAN -fsanitize=fuzzer "$obj" $extra "$OUT/obj/libquire-fuzz.a" \
            $XAPIAN_LIBS $DEP_LIBS -lpthread -o "$bin" || die "linking fuzz_$1 failed"
    fi
}

# Per-target libFuzzer settings: the longest input worth trying (a query is at most
# SEARCH_MAX_QUERY_BYTES; an article or a response gains little past a few pages).
max_len() {
    case $1 in
    request) echo 12288 ;;
    article) echo 65536 ;;
    client) echo 16384 ;;
    esac
}

say "building fuzz targets into $OUT"
build_lib
for t in $targets; do build_target "$t"; done

# Sanitizer settings: stop at the first error, with a stack; UBSan reports are crashes.
# lsan.supp lists leaks inside dependencies that Quire cannot fix (each with its reason).
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$HERE/lsan.supp:print_suppressions=0}
QUIRE_FUZZ_TMP=$OUT/tmp
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS QUIRE_FUZZ_TMP

# inputs TARGET: the seed corpus and the regression inputs, one file a line.
inputs() {
    for d in "$HERE/corpus/$1" "$HERE/regress/$1"; do
        [ -d "$d" ] && find "$d" -type f ! -name '.*' ! -name README | sort
    done
    return 0
}

# ---- --regress: every stored input once -------------------------------------------------

if [ "$mode" = regress ]; then
    n=0
    failed=0
    # shellcheck disable=SC2086 # targets is a list
    set -- $targets
    echo "1..$#"
    for t in $targets; do
        n=$((n + 1))
        files=$(inputs "$t")
        count=$(printf '%s\n' "$files" | grep -c . || true)
        log=$OUT/logs/$t.regress.log
        # shellcheck disable=SC2086
        if [ "$count" -eq 0 ]; then
            echo "not ok $n - fuzz_$t: no inputs in tests/fuzz/corpus/$t"
            failed=$((failed + 1))
        elif (IFS='
'; "$OUT/fuzz_$t" -timeout=30 -rss_limit_mb=4096 $files) >"$log" 2>&1; then
            echo "ok $n - fuzz_$t: $count inputs"
        else
            echo "not ok $n - fuzz_$t: failed on one of $count inputs (log: $log)"
            grep -E '^Running:|ERROR|SUMMARY|contract broken|#[0-9]+ 0x' "$log" | tail -25 |
                sed 's/^/#   /'
            failed=$((failed + 1))
        fi
    done
    [ "$failed" -eq 0 ]
    exit
fi

# ---- fuzzing ------------------------------------------------------------------------------

# signature REPORT: one line naming a crash, to tell distinct bugs from repeats of one: the
# error (addresses and pids removed) and the first stack frame in Quire's own code.
signature() {
    what=$(grep -m1 -E 'contract broken|==ERROR|ERROR: libFuzzer|runtime error:' "$1" |
        sed -E 's/==[0-9]+==//; s/0x[0-9a-f]+//g; s/^ *//')
    where=$(grep -E '^ *#[0-9]+ 0x[0-9a-f]+ in ' "$1" |
        grep -E " ($SRC/(lib|client)/|$HERE/)[^ ]*\.(c|cc)(:[0-9]+)*\$" | head -1 |
        sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ in //')
    echo "${what:-no report} @ ${where:-?}"
}

# Fork mode keeps fuzzing after a crash (each crash is saved and the run goes on), so one
# run reports every bug it meets rather than the first; FUZZ_FORK=0 stops at the first.
if [ "${FUZZ_FORK:-1}" = 1 ]; then
    KEEP_GOING="-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"
else
    KEEP_GOING=""
fi

status=0
for t in $targets; do
    work=$OUT/work/$t
    mkdir -p "$work"
    # Seeds never overwrite what earlier runs found (cp -n), and run.sh never deletes it.
    # Regression inputs seed too, but only in fork mode: one that still crashes would end a
    # single-process run before it started.
    for f in $(inputs "$t"); do
        case $f in "$HERE/regress/"*) [ -n "$KEEP_GOING" ] || continue ;; esac
        cp -n "$f" "$work/" 2>/dev/null || true
    done
    dict=""
    [ -f "$HERE/dict/$t.dict" ] && dict="-dict=$HERE/dict/$t.dict"
    stamp=$OUT/tmp/$t.start
    touch "$stamp"
    log=$OUT/logs/$t.log
    start=$(date +%s)
    rc=0
    # shellcheck disable=SC2086
    "$OUT/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len "$t")" \
        -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 $KEEP_GOING \
        -artifact_prefix="$OUT/artifacts/fuzz_$t-" $dict ${FUZZ_FLAGS:-} "$work" \
        >"$log" 2>&1 || rc=$?
    took=$(($(date +%s) - start))
    # Artifacts written (or rewritten: same input, same name) during this run.
    found=$(find "$OUT/artifacts" -type f -newer "$stamp" \
        \( -name "fuzz_$t-crash-*" -o -name "fuzz_$t-leak-*" -o -name "fuzz_$t-timeout-*" \
        -o -name "fuzz_$t-oom-*" \) | sort)
    crashes=$(printf '%s\n' "$found" | grep -c . || true)
    # A crash that left no artifact (in start-up, say) still counts; any other failure
    # (a bad flag, a dictionary that does not parse) fails the run without being a crash.
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] &&
        grep -qE '==[0-9]+==ERROR|ERROR: libFuzzer|contract broken|runtime error' "$log"; then
        crashes=1
    fi
    # Executions: the final statistics, or in fork mode the last progress line.
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9][0-9]*\):.*/\1/p' "$log" | tail -1)
    # Each artifact is run once more for its report (fork mode keeps only the input), then
    # grouped by signature: one entry per distinct crash, with its first input.
    sigs=$OUT/tmp/$t.signatures
    : >"$sigs"
    # At most 50 are rerun: a timeout takes 10 s to show itself again.
    for a in $(printf '%s\n' "$found" | head -50); do
        report=$OUT/logs/$(basename "$a").txt
        "$OUT/fuzz_$t" -timeout=10 -rss_limit_mb=4096 "$a" >"$report" 2>&1 || true
        printf '%s\t%s\n' "$(signature "$report")" "$a" >>"$sigs"
    done
    distinct=$(cut -f1 "$sigs" | sort -u | grep -c . || true)
    echo "fuzz_$t: ${execs:-?} execs in $took s, crashes: $crashes${found:+ ($distinct distinct)}"
    if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        status=1
        echo "  fuzz_$t exited with status $rc; its output is in $log"
        [ -n "$found" ] || grep -E 'ERROR|SUMMARY|contract broken|runtime error' "$log" |
            head -20 | sed 's/^/  | /'
        awk -F '\t' -v bin="$OUT/fuzz_$t" -v logs="$OUT/logs" '
            !($1 in n) { order[++k] = $1; first[$1] = $2 }
            { n[$1]++ }
            END {
                for (i = 1; i <= k; i++) {
                    s = order[i]; a = first[s]; sub(".*/", "", a)
                    printf "  crash (%d input%s): %s\n", n[s], (n[s] > 1 ? "s" : ""), s
                    printf "    reproduce: %s %s\n    report: %s/%s.txt\n", bin, first[s], logs, a
                }
            }' "$sigs"
        [ -s "$sigs" ] && echo "  keep one input of each as a regression input: cp ARTIFACT $HERE/regress/$t/"
    fi
done
exit $status
