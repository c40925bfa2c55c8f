/*
 * claim_list.c -- the claims of one document (see claims.c for what they are and the rule
 * that orders them): the list itself, its encoding in SCHEMA_SLOT_CLAIMS and the XK and
 * XDUP terms, read from and written to the run's database.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "util.h"
#include "claim_list.h"

void claims_free(struct claims *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].path);
        free(c->v[i].lines);
    }
    free(c->v);
    free(c->id);
    memset(c, 0, sizeof *c);
}

/* Inserts or replaces the claim of path, in rule order. Returns 1 when the claims changed,
 * 0 when not, -1 when out of memory. */
int claims_set(struct claims *c, const char *path, const char *lines)
{
    size_t i = 0;
    while (i < c->n && strcmp(c->v[i].path, path) < 0)
        i++;
    if (i < c->n && strcmp(c->v[i].path, path) == 0) {
        if (strcmp(c->v[i].lines, lines) == 0)
            return 0;
        char *l = strdup(lines);
        if (!l)
            return -1;
        free(c->v[i].lines);
        c->v[i].lines = l;
        return 1;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct claim *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return -1;
        c->v = v;
        c->cap = cap;
    }
    char *p = strdup(path), *l = strdup(lines);
    if (!p || !l) {
        free(p);
        free(l);
        return -1;
    }
    memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof *c->v);
    c->v[i] = (struct claim){p, l};
    c->n++;
    return 1;
}

/* Index of path's claim, or -1. */
long claims_find(const struct claims *c, const char *path)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->v[i].path, path) == 0)
            return (long)i;
    }
    return -1;
}

void claims_remove(struct claims *c, size_t i)
{
    assert(i < c->n);
    free(c->v[i].path);
    free(c->v[i].lines);
    memmove(&c->v[i], &c->v[i + 1], (c->n - i - 1) * sizeof *c->v);
    c->n--;
}

/* The claim whose record is indexed: the first by the rule that is not waiting. A claim
 * waits (its lines start with '?') while its file cannot be read and the document does not
 * hold its record: the next file by the rule stands in until it can be read. */
size_t claims_owner(const struct claims *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->v[i].lines[0] != '?')
            return i;
    }
    return 0;
}

/* Records holding the id: one per line number, one per text file. */
unsigned long claims_records(const struct claims *c)
{
    unsigned long n = 0;
    for (size_t i = 0; i < c->n; i++) {
        const char *l = c->v[i].lines;
        n++;
        for (; *l; l++)
            n += *l == ',';
    }
    return n;
}

static int claims_encode(const struct claims *c, struct strbuf *sb)
{
    sb_puts(sb, c->id ? c->id : "");
    sb_putc(sb, '\n');
    for (size_t i = 0; i < c->n; i++)
        sb_printf(sb, "%s\t%s\n", c->v[i].path, c->v[i].lines);
    return sb->failed ? -1 : 0;
}

/* Decodes a SCHEMA_SLOT_CLAIMS value (an empty one gives no id and no claims). */
static int claims_decode(const char *val, size_t len, struct claims *c)
{
    memset(c, 0, sizeof *c);
    if (len == 0)
        return 0;
    const char *end = val + len, *nl = memchr(val, '\n', len);
    if (!nl)
        return 0;
    if (!(c->id = strndup(val, (size_t)(nl - val))))
        return -1;
    for (const char *p = nl + 1; p < end;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        const char *tab = memchr(p, '\t', (size_t)(e - p));
        if (tab) {
            char *path = strndup(p, (size_t)(tab - p)), *lines = strndup(tab + 1, (size_t)(e - tab - 1));
            int rc = path && lines ? claims_set(c, path, lines) : -1;
            free(path);
            free(lines);
            if (rc < 0) {
                claims_free(c);
                return -1;
            }
        }
        p = e + 1;
    }
    return 0;
}

/* Reads the claims of docid. Returns 0, or -1 (reported, r->io_error set). */
int claims_load(struct run *r, unsigned docid, struct claims *c)
{
    xc_error *err = NULL;
    size_t len = 0;
    char *val = xc_wdb_doc_value(r->wdb, docid, SCHEMA_SLOT_CLAIMS, &len, &err);
    if (!val)
        return run_failed(r, &err, "cannot read document %u", docid);
    int rc = claims_decode(val, len, c);
    free(val);
    return rc < 0 ? run_failed(r, NULL, "out of memory") : rc;
}

/* Adds the claims' terms and slot to a document being built. */
int claims_to_doc(const struct claims *c, xc_doc *doc, xc_error **err)
{
    struct strbuf sb;
    sb_init(&sb);
    int rc = claims_encode(c, &sb);
    if (rc == 0)
        rc = xc_doc_set_value(doc, SCHEMA_SLOT_CLAIMS, sb.buf, sb.len, err);
    for (size_t i = 0; rc == 0 && i < c->n; i++) {
        char term[SCHEMA_MAX_TERM + 1];
        schema_key_term(SCHEMA_PREFIX_CLAIM, c->v[i].path, term, sizeof term);
        rc = xc_doc_add_boolean_term(doc, term, err);
    }
    if (rc == 0 && claims_records(c) > 1)
        rc = xc_doc_add_boolean_term(doc, SCHEMA_TERM_DUPLICATE, err);
    sb_free(&sb);
    return rc;
}

/* Stores changed claims on a document in place: the slot, XK<path> added or removed, XDUP
 * as the records say. Returns 0, or -1 (reported). */
int claims_store(struct run *r, unsigned docid, const struct claims *c,
                 const char *add_path, const char *del_path)
{
    struct strbuf sb;
    sb_init(&sb);
    char addterm[SCHEMA_MAX_TERM + 1], delterm[SCHEMA_MAX_TERM + 1];
    const char *add[2], *del[2];
    size_t nadd = 0, ndel = 0;
    if (add_path) {
        schema_key_term(SCHEMA_PREFIX_CLAIM, add_path, addterm, sizeof addterm);
        add[nadd++] = addterm;
    }
    if (del_path) {
        schema_key_term(SCHEMA_PREFIX_CLAIM, del_path, delterm, sizeof delterm);
        del[ndel++] = delterm;
    }
    if (claims_records(c) > 1)
        add[nadd++] = SCHEMA_TERM_DUPLICATE;
    else
        del[ndel++] = SCHEMA_TERM_DUPLICATE;
    xc_error *err = NULL;
    if (claims_encode(c, &sb) < 0 ||
        xc_wdb_doc_edit(r->wdb, docid, SCHEMA_SLOT_CLAIMS, sb.buf ? sb.buf : "", sb.len, add,
                        nadd, del, ndel, &err) < 0) {
        sb_free(&sb);
        return run_failed(r, &err, "cannot update document %u", docid);
    }
    sb_free(&sb);
    return run_changed(r, 0);
}
