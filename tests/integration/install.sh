#!/bin/bash
# `make install` with DESTDIR puts the programs, libquire-client, its header and its .pc
# file in place, and a program written against the installed header and .pc file builds
# and talks to the real daemon.
. "$(dirname "$0")/../lib.sh"

make -s -C "$BUILD" install DESTDIR="$T/stage" >"$T/install.log" 2>&1; rc=$?
check_eq "make install DESTDIR=... succeeds" 0 "$rc"
prefix=$(sed -n 's/^prefix=//p' "$BUILD/client/quire-client.pc")
root="$T/stage$prefix"
for f in bin/quire-index bin/quired bin/quire include/quire/client.h lib/pkgconfig/quire-client.pc; do
    check "installed: $f" test -e "$root/$f"
done
check "installed: libquire-client shared library" sh -c "ls '$root'/lib/libquire-client.so* >/dev/null"

cat >"$T/hello.c" <<'C'
/* A client of the installed libquire-client: one search, prints the first hit's id. */
#include <quire/client.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    char *err = NULL;
    qc_client *c = qc_client_new_tcp("127.0.0.1", (unsigned)atoi(argv[1]), &err);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        free(err);
        return 2;
    }
    qc_search_opts o;
    qc_search_opts_init(&o);
    o.query = argc > 2 ? argv[2] : "muse";
    qc_response *r = NULL;
    if (qc_search(c, &o, &r) != QC_OK || qc_response_status(r) != 200) {
        fprintf(stderr, "search failed: %s\n", qc_client_error(c));
        qc_response_free(r);
        qc_client_free(c);
        return 2;
    }
    json_t *hit = json_array_get(json_object_get(qc_response_json(r), "hits"), 0);
    printf("%s\n", json_string_value(json_object_get(hit, "id")));
    qc_response_free(r);
    qc_client_free(c);
    return 0;
}
C
flags=$(PKG_CONFIG_PATH="$root/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$T/stage" pkg-config --cflags --libs quire-client)
# A sanitizer build's library needs its runtime in the program too.
san=$(sed -n 's/^SAN_FLAGS = //p' "$BUILD/Makefile")
cc -std=c11 -Wall -Werror $san -o "$T/hello" "$T/hello.c" $flags >"$T/cc.log" 2>&1; rc=$?
check_eq "a program builds against the installed header and .pc file" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/cc.log"

"$QUIRE_INDEX" -q --db "$T/db" "$SRC/corpus"
start_quired "$T/db" --quiet || { not_ok "quired starts"; finish; }
out=$(LD_LIBRARY_PATH="$root/lib" "$T/hello" "$PORT" "TSMC revenue")
check_eq "it searches the daemon through the installed library" 000_2f9b59c24e6afe2f.txt "$out"
stop_quired
finish
