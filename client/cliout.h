/*
 * cliout.h -- output shared by the quire commands (cliout.c).
 */
#ifndef QUIRE_CLIOUT_H
#define QUIRE_CLIOUT_H

#include <stdio.h>

#include <jansson.h>

#include "quire/client.h"

/* Writes n bytes of untrusted text, replacing control characters (C0, DEL, and C1 encoded
 * as UTF-8) by spaces; multiline keeps newlines and tabs. */
void cliout_put_clean(FILE *f, const char *s, size_t n, int multiline);
/* cliout_put_clean for a NUL-terminated string on one line; NULL prints nothing. */
void cliout_puts_clean(FILE *f, const char *s);
/* --json: the object, indented, on stdout. */
void cliout_json(json_t *j);
/* The JSON object of a daemon's answer (a new reference), or NULL after printing on stderr
 * why there is none: no answer (rc), an error status, or a body that is not an object. */
json_t *cliout_answer(qc_client *c, qc_code rc, qc_response *r);

#endif
