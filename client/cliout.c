/*
 * cliout.c -- what the quire commands share for output (see cliout.h): untrusted text made
 * safe for a terminal, --json, and a daemon's answer turned into the object to print or
 * into a message on stderr.
 */
#include "cliout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"

/* Writes n bytes of untrusted text, replacing control characters (C0, DEL, and C1 encoded
 * as UTF-8: U+0080..U+009F, which some terminals obey like ESC [) by spaces. multiline
 * keeps newlines and tabs; otherwise they become spaces too. */
void cliout_put_clean(FILE *f, const char *s, size_t n, int multiline)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9F) {
            putc(' ', f);
            i++;
        } else if ((c == '\n' || c == '\t') && multiline) {
            putc(c, f);
        } else if (c < 0x20 || c == 0x7F) {
            putc(' ', f);
        } else {
            putc(c, f);
        }
    }
}

/* put_clean for a NUL-terminated string; NULL prints nothing. */
void cliout_puts_clean(FILE *f, const char *s)
{
    if (s)
        cliout_put_clean(f, s, strlen(s), 0);
}

/* --json: the object, indented, UTF-8 as is. */
void cliout_json(json_t *j)
{
    /* Numbers as the library rounded them (took_ms to the microsecond), not 17 digits. */
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(SEARCH_JSON_PRECISION));
    putchar('\n');
}

/* Turns a daemon answer into the JSON object to print, or prints why there is none. Returns
 * a new reference, or NULL after the error went to stderr. */
json_t *cliout_answer(qc_client *c, qc_code rc, qc_response *r)
{
    if (rc != QC_OK) {
        fputs("quire: ", stderr);
        cliout_puts_clean(stderr, qc_client_error(c));
        putc('\n', stderr);
        if (rc == QC_ERR_CONNECT)
            fputs("quire: is quired running there? (--db DIR searches an index without it)\n",
                  stderr);
        return NULL;
    }
    long status = qc_response_status(r);
    if (status < 200 || status > 299) {
        const char *msg = qc_response_error_message(r);
        fputs("quire: ", stderr);
        if (msg) {
            cliout_puts_clean(stderr, msg);
        } else {
            /* Not quired's error shape (a proxy?): show the status and the start of the body. */
            size_t len = 0;
            const char *body = qc_response_body(r, &len);
            fprintf(stderr, "%s answered HTTP %ld", qc_client_target(c), status);
            if (len > 0) {
                fputs(": ", stderr);
                cliout_put_clean(stderr, body, len < 200 ? len : 200, 0);
            }
        }
        putc('\n', stderr);
        return NULL;
    }
    json_t *j = qc_response_json(r);
    if (!json_is_object(j)) {
        fprintf(stderr,
                "quire: %s answered HTTP %ld with something that is not a JSON object "
                "(is it quired?)\n",
                qc_client_target(c), status);
        return NULL;
    }
    return json_incref(j);
}
