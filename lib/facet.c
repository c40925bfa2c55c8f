/*
 * facet.c -- a facet's values as a search answer lists them (see facet.h).
 *
 * Xapian counts a facet over the value slot, which keeps each value as written, so
 * "Nature" and "nature" (or "Café" and "cafe") would come out as two values -- while a
 * filter on either finds both, because a filter term holds the value's key
 * (schema_value_key: lower-cased, white space collapsed, accents folded). So the values
 * are grouped here by that same key: a group is one facet value whose count is the sum
 * of its spellings' counts (exactly what the filter finds), shown in its most frequent
 * spelling (ties: the byte-wise smallest, so the choice never depends on order). Every
 * counted value is read, not only the top ones: a value's rank can change once its
 * spellings are added up. Groups come out most frequent first, then by spelling.
 */
#include "facet.h"

#include <stdlib.h>
#include <string.h>

#include "schema.h"

struct spelling {
    char *value; /* as written */
    size_t len;
    char *key;   /* schema_value_key */
    unsigned count;
};

struct spellings {
    struct spelling *v;
    size_t n, cap;
    int failed;
};

static void collect(const char *value, size_t len, unsigned count, void *ctx)
{
    struct spellings *s = ctx;
    if (s->failed)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct spelling *v = realloc(s->v, cap * sizeof *v);
        if (!v) {
            s->failed = 1;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    struct spelling *p = &s->v[s->n];
    p->value = malloc(len + 1);
    xc_error *xe = NULL;
    p->key = p->value ? schema_value_key(value, len, &xe) : NULL;
    xc_error_free(xe);
    if (!p->key) {
        free(p->value);
        s->failed = 1;
        return;
    }
    memcpy(p->value, value, len);
    p->value[len] = '\0';
    p->len = len;
    p->count = count;
    s->n++;
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

/* By key; within a key, the display spelling first: most frequent, then smallest. */
static int by_key(const void *pa, const void *pb)
{
    const struct spelling *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c)
        return c;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return bytes_cmp(a->value, a->len, b->value, b->len);
}

/* Groups (their display spelling, count summed): most frequent first, then by spelling. */
static int by_count(const void *pa, const void *pb)
{
    const struct spelling *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return bytes_cmp(a->value, a->len, b->value, b->len);
}

json_t *facet_values(const xc_mset *ms, unsigned k, unsigned limit)
{
    struct spellings s = {NULL, 0, 0, 0};
    json_t *out = NULL;
    if (xc_mset_facet(ms, k, 0, collect, &s) < 0 || s.failed)
        goto done;
    if (s.n > 1)
        qsort(s.v, s.n, sizeof *s.v, by_key);
    /* Fold each run of one key into its first entry, which is its display spelling. */
    size_t groups = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (groups > 0 && strcmp(s.v[groups - 1].key, s.v[i].key) == 0) {
            s.v[groups - 1].count += s.v[i].count;
            free(s.v[i].value);
            free(s.v[i].key);
            continue;
        }
        s.v[groups++] = s.v[i];
    }
    s.n = groups;
    if (s.n > 1)
        qsort(s.v, s.n, sizeof *s.v, by_count);
    out = json_array();
    if (!out)
        goto done;
    for (size_t i = 0; i < s.n && i < limit; i++) {
        json_t *v = json_pack("{s:s%, s:I}", "value", s.v[i].value, s.v[i].len, "count",
                              (json_int_t)s.v[i].count);
        if (!v || json_array_append_new(out, v) < 0) {
            json_decref(out);
            out = NULL;
            break;
        }
    }
done:
    for (size_t i = 0; i < s.n; i++) {
        free(s.v[i].value);
        free(s.v[i].key);
    }
    free(s.v);
    return out;
}
