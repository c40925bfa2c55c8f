#!/bin/bash
# The manual pages (dist/man) render without a warning, describe every flag the programs'
# --help prints and every key quired accepts in its configuration file, are installed by
# `make install`, and are the ones the systemd units' Documentation= lines name.
. "$(dirname "$0")/../lib.sh"

MAN="$SRC/dist/man"
# render PAGE: the page as plain text (no overstrike), as man(1) would show it.
render() { groff -mandoc -Tascii -P-cbou "$1" 2>/dev/null; }

for page in quire.1 quire-index.1 quired.8 quired.conf.5; do
    # -ww turns on every warning; mdoc macros misused, unknown escapes and lines that
    # cannot be broken all show up on stderr.
    warnings=$(groff -mandoc -ww -z -Tascii "$MAN/$page" 2>&1)
    check_eq "$page renders without warnings" "" "$warnings"
    text=$(render "$MAN/$page")
    check "$page has NAME, SYNOPSIS and DESCRIPTION" \
        sh -c "printf '%s' \"\$1\" | grep -q '^NAME' && printf '%s' \"\$1\" | grep -q '^SYNOPSIS' &&
               printf '%s' \"\$1\" | grep -q '^DESCRIPTION'" _ "$text"
done

# flags PROGRAM: every option --help prints, long (--name) and short (-x), one a line.
flags() {
    "$1" --help 2>&1 | grep -oE -- '(^|[^a-zA-Z0-9-])--?[a-zA-Z][a-zA-Z0-9-]*' |
        sed 's/^[^-]*//' | sort -u
}
for pair in "$QUIRE:quire.1" "$QUIRE_INDEX:quire-index.1" "$QUIRED:quired.8"; do
    prog=${pair%%:*}
    page=${pair##*:}
    text=$(render "$MAN/$page")
    n=0
    missing=""
    for f in $(flags "$prog"); do
        n=$((n + 1))
        # A flag is described when the page shows it as a word of its own.
        printf '%s\n' "$text" | grep -qE -- "(^|[^a-zA-Z0-9-])$f([^a-zA-Z0-9-]|\$)" ||
            missing="$missing $f"
    done
    check "$(basename "$prog") --help prints options ($n)" test "$n" -gt 3
    check_eq "every flag of $(basename "$prog") --help is in $page" "" "$missing"
done

# Every setting of quired is a key of quired.conf(5): the long flags of quired --help other
# than those that only make sense on a command line, written with '_'.
text=$(render "$MAN/quired.conf.5")
missing=""
for f in $(flags "$QUIRED" | grep -- '^--' | grep -vxE -- '--(help|version|config|check-config)'); do
    key=$(printf '%s' "${f#--}" | tr - _)
    printf '%s\n' "$text" | grep -qE "(^|[^a-z_])$key([^a-z_]|\$)" || missing="$missing $key"
done
for key in $(sed -n 's/^[;#]* *\([a-z_]*\) *=.*/\1/p' "$SRC/dist/quired.conf" | sort -u); do
    printf '%s\n' "$text" | grep -qE "(^|[^a-z_])$key([^a-z_]|\$)" || missing="$missing $key"
done
check_eq "every quired setting and every key of dist/quired.conf is in quired.conf.5" "" "$missing"

# Installed where man(1) finds them.
make -s -C "$BUILD" install DESTDIR="$T/stage" >"$T/install.log" 2>&1
prefix=$(sed -n 's/^prefix = //p' "$BUILD/Makefile" | head -n1)
for p in man1/quire.1 man1/quire-index.1 man5/quired.conf.5 man8/quired.8; do
    check "make install puts $p in share/man" test -s "$T/stage$prefix/share/man/$p"
done
check "make install puts the README in share/doc/quire" test -s "$T/stage$prefix/share/doc/quire/README.md"

# The units' Documentation= name pages that exist (ours, or xapian-tcpsrv's).
bad=""
for unit in "$SRC"/dist/systemd/*.service "$SRC"/dist/systemd/*.timer; do
    doc=$(sed -n 's/^Documentation=//p' "$unit")
    [ -n "$doc" ] || bad="$bad $(basename "$unit"):none"
    for ref in $doc; do
        case $ref in
        man:xapian-tcpsrv\(1\)) ;;
        man:*)
            name=${ref#man:}
            sec=${name##*(}
            sec=${sec%)}
            name=${name%(*}
            [ -f "$MAN/$name.$sec" ] || bad="$bad $(basename "$unit"):$ref"
            ;;
        file:///usr/local/share/doc/quire/README.md) ;;
        *) bad="$bad $(basename "$unit"):$ref" ;;
        esac
    done
done
check_eq "every unit's Documentation= names an existing page" "" "$bad"
finish
