# tests/lib.sh -- shared by the integration tests (sourced, not run).
#
# Gives: TAP output helpers (each check is one TAP line), a private temporary directory
# removed at exit, and helpers that start the real programs: the indexer, quired on a free
# port and a Unix socket, the quire client. Every wait is bounded.
set -u

BUILD=${QUIRE_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)}
SRC=${QUIRE_SRC:-$BUILD}
SHARED=${QUIRE_SHARED:-$SRC/../shared}
QUIRE_INDEX="$BUILD/indexer/quire-index"
QUIRED="$BUILD/daemon/quired"
QUIRE="$BUILD/client/quire"
export LD_LIBRARY_PATH="$BUILD/client/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

T=$(mktemp -d "${TMPDIR:-/tmp}/quire-test.XXXXXX")
TAP_N=0
TAP_FAILED=0
DAEMON_PIDS=""
# Bounded waits are multiplied by SLOW: 1 natively, more under valgrind (below). A test
# may also give smaller inputs where their size is not what it checks (UNDER_VALGRIND=1).
SLOW=1
UNDER_VALGRIND=0
# SANITIZED=1 when quired is built with AddressSanitizer or UBSan: memory use is not the
# plain build's, so memory bounds are asserted in the plain pass only.
SANITIZED=0
ldd "$QUIRED" 2>/dev/null | grep -q 'libasan\|libubsan' && SANITIZED=1

cleanup() {
    for p in $DAEMON_PIDS; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

# QUIRE_VALGRIND=1: every launch of quire-index, quired and quire (through $QUIRE_INDEX,
# $QUIRED, $QUIRE) runs under valgrind's memcheck, one log per process in VG_LOGS
# (QUIRE_VALGRIND_LOGS, default valgrind-logs/TEST in the build tree). finish() turns the
# logs into TAP checks, one per program. The programs are wrapped by small scripts that
# exec valgrind, so $! and signals still reach the program itself.
#
# No --trace-children: the programs never exec anything. A fork() child (the isolated HTML
# parser of quire-index) is always followed by valgrind, with a log of its own (%p).
if [ "${QUIRE_VALGRIND:-0}" != 0 ]; then
    SLOW=${QUIRE_VALGRIND_SLOW:-20}
    UNDER_VALGRIND=1
    VG_LOGS=${QUIRE_VALGRIND_LOGS:-$BUILD/valgrind-logs/$(basename "$0" .sh)}
    rm -rf "$VG_LOGS"
    mkdir -p "$VG_LOGS" "$T/vg"
    # vg_wrap NAME PROGRAM: prints the path of a script running PROGRAM under memcheck.
    # A libtool wrapper script is bypassed for the real binary in .libs/ (valgrind would
    # check the shell otherwise); lib.sh's LD_LIBRARY_PATH finds the uninstalled library.
    vg_wrap() {
        real=$2
        if [ "$(head -c 2 "$real")" = '#!' ]; then
            real="$(dirname "$2")/.libs/$(basename "$2")"
            [ -x "$real" ] || real="$(dirname "$2")/.libs/lt-$(basename "$2")"
        fi
        cat >"$T/vg/$1" <<WRAP
#!/bin/sh
exec valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --vgdb=no \\
    --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no \\
    --num-callers=30 --suppressions='$SRC/tests/valgrind.supp' \\
    --log-file='$VG_LOGS/$1.%p.log' '$real' "\$@"
WRAP
        chmod +x "$T/vg/$1"
        echo "$T/vg/$1"
    }
    QUIRE_INDEX=$(vg_wrap quire-index "$QUIRE_INDEX")
    QUIRED=$(vg_wrap quired "$QUIRED")
    QUIRE=$(vg_wrap quire "$QUIRE")
fi

# ok DESCRIPTION / not_ok DESCRIPTION [DETAIL]
ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1"; }
not_ok() {
    TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_N - $1"
    [ $# -gt 1 ] && printf '%s\n' "$2" | head -c 2000 | sed 's/^/#   /'
    return 0
}
# relay_tap FILE: a helper program's TAP lines, renumbered into this stream; its other
# lines are passed on as they are.
relay_tap() {
    while IFS= read -r line; do
        case "$line" in
        "ok "*) ok "${line#ok [0-9]* - }" ;;
        "not ok "*) not_ok "${line#not ok [0-9]* - }" ;;
        *) echo "$line" ;;
        esac
    done <"$1"
}
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi; }
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected [$2], got [$3]"; fi
}
# check_match DESCRIPTION REGEX TEXT
check_match() {
    if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1" "no match for /$2/ in: $3"; fi
}
# vg_verdict: under valgrind, stops the daemons still running (SIGTERM, so memcheck's leak
# check runs) and adds one check per program: every run's log ends with a summary of no
# errors. A log without a summary is a run that was killed before its end.
vg_verdict() {
    for p in $DAEMON_PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $DAEMON_PIDS; do
        for _ in $(seq 1 $((100 * SLOW))); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
    for prog in quire-index quired quire; do
        set -- "$VG_LOGS/$prog".*.log
        [ -e "$1" ] || continue
        bad=""
        for log in "$@"; do
            grep -q 'ERROR SUMMARY: 0 errors' "$log" || bad="$bad $log"
        done
        if [ -z "$bad" ]; then
            ok "memcheck: no error in $# processes of $prog"
        else
            detail=""
            for log in $bad; do
                grep -q 'ERROR SUMMARY:' "$log" || detail="$detail$log: ended before memcheck's summary (killed?)
"
                detail="$detail$(grep -v '^==[0-9]*== *$' "$log" | head -n 80)
"
            done
            not_ok "memcheck: no error in $# processes of $prog" "$detail"
        fi
    done
}
# Ends the TAP stream with its plan.
finish() {
    [ "${QUIRE_VALGRIND:-0}" != 0 ] && vg_verdict
    echo "1..$TAP_N"
    exit 0
}

# start_quired DB [EXTRA ARGS...]: starts quired on 127.0.0.1 (free port) and a Unix
# socket in $T; sets PORT, SOCK, QPID; waits (bounded) until it answers /health.
start_quired() {
    db=$1; shift
    SOCK="$T/quired.$$.$RANDOM.sock"
    LOG="$T/quired.$RANDOM.log"
    : >"$LOG"
    "$QUIRED" --db "$db" --listen 127.0.0.1:0 --socket "$SOCK" --threads 2 "$@" 2>"$LOG" &
    QPID=$!
    DAEMON_PIDS="$DAEMON_PIDS $QPID"
    PORT=""
    for _ in $(seq 1 $((100 * SLOW))); do
        PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | head -n1)
        if [ -n "$PORT" ] && curl -sf -m 2 "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$QPID" 2>/dev/null || break
        sleep 0.1
    done
    echo "# quired did not start:" && sed 's/^/#   /' "$LOG"
    return 1
}

# stop_quired: SIGTERM and wait (bounded); returns quired's exit status.
stop_quired() {
    kill -TERM "$QPID" 2>/dev/null
    for _ in $(seq 1 $((100 * SLOW))); do
        kill -0 "$QPID" 2>/dev/null || break
        sleep 0.1
    done
    wait "$QPID"
}

# get PATH_AND_QUERY: body of GET against the daemon (TCP).
get() { curl -s -m $((10 * SLOW)) "http://127.0.0.1:$PORT$1"; }
# status METHOD PATH [CURL ARGS...]: HTTP status only.
status() { m=$1; p=$2; shift 2; curl -s -m $((10 * SLOW)) -o /dev/null -w '%{http_code}' -X "$m" "$@" "http://127.0.0.1:$PORT$p"; }
# jqr FILTER: jq -r over stdin.
jqr() { jq -r "$1"; }

# load_start QUERY...: queries the daemon from a second process until load_stop, in batches
# of keep-alive requests; every response is checked (HTTP 200 and a JSON body with hits).
# load_stop prints "OK BAD" counts.
load_start() {
    rm -f "$T/load.stop" "$T/load.counts"
    : >"$T/load.bad.log"
    (
        okc=0; badc=0; b=0
        while [ ! -e "$T/load.stop" ] && [ $b -lt 2000 ]; do
            b=$((b + 1))
            cfg="$T/load.cfg"; : >"$cfg"
            i=0
            for q in "$@" "$@"; do
                i=$((i + 1))
                printf 'url = "http://127.0.0.1:%s/search?q=%s&limit=10"\noutput = "%s/load.out.%d"\n' \
                    "$PORT" "$q" "$T" "$i" >>"$cfg"
            done
            codes=$(curl -s -m 20 -K "$cfg" -w '%{http_code}\n')
            for c in $codes; do [ "$c" = 200 ] || { badc=$((badc + 1)); echo "status $c" >>"$T/load.bad.log"; }; done
            for k in $(seq 1 $i); do
                f="$T/load.out.$k"
                if [ -s "$f" ] && jq -e '.hits | type == "array"' "$f" >/dev/null 2>&1; then
                    okc=$((okc + 1))
                else
                    badc=$((badc + 1)); { echo "bad body:"; head -c 300 "$f"; echo; } >>"$T/load.bad.log"
                fi
                rm -f "$f"
            done
            echo "$okc $badc" >"$T/load.counts"
        done
    ) &
    LOAD_PID=$!
}
load_stop() {
    touch "$T/load.stop"
    wait "$LOAD_PID"
    cat "$T/load.counts" 2>/dev/null || echo "0 0"
}
