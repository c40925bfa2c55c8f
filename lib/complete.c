/*
 * complete.c -- completions of the last word typed and titles by prefix (see complete.h).
 *
 * The table is built in one pass over the unprefixed terms in byte order. Every prefix of
 * a given length covers a contiguous run of them, so one running top-N per prefix length
 * is enough: when a term's prefix of length d differs from the last one, the last one's
 * entry is final and is written. Memory is DEPTH x TERMS candidates, whatever the index.
 *
 * Ranking: most documents first, then byte order, so the table and a scan agree exactly.
 * Terms of one character are never offered (completing "a" to "a" helps nobody).
 */
#include "complete.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"
#include "schema.h"
#include "search.h"
#include "search_int.h"
#include "util.h"

/* The table's shape, as written in its header: a reader uses the entries only when they
 * were written with the rules it knows. */
#define COMPLETE_SHAPE "v1 depth=3 terms=20 min=64"

/* ---- ranking ------------------------------------------------------------------------------ */

struct cand {
    char *term;
    unsigned freq;
};

/* The best `cap` candidates seen so far, unordered. */
struct topn {
    struct cand v[COMPLETE_TABLE_TERMS];
    unsigned n, cap;
};

/* 1 when a ranks before b. */
static int ranks_before(const struct cand *a, const struct cand *b)
{
    if (a->freq != b->freq)
        return a->freq > b->freq;
    return strcmp(a->term, b->term) < 0;
}

static int cmp_cand(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    return ranks_before(a, b) ? -1 : ranks_before(b, a) ? 1 : 0;
}

static void topn_clear(struct topn *t)
{
    for (unsigned i = 0; i < t->n; i++)
        free(t->v[i].term);
    t->n = 0;
}

/* Offers a term. Returns 0, or -1 when out of memory. */
static int topn_add(struct topn *t, const char *term, size_t len, unsigned freq)
{
    assert(t->cap > 0 && t->cap <= COMPLETE_TABLE_TERMS);
    unsigned slot = t->n;
    if (t->n == t->cap) {
        /* Full: replace the last-ranked candidate if this one ranks before it. */
        unsigned worst = 0;
        for (unsigned i = 1; i < t->n; i++) {
            if (ranks_before(&t->v[worst], &t->v[i]))
                worst = i;
        }
        struct cand c = {(char *)term, freq};
        if (!ranks_before(&c, &t->v[worst]))
            return 0;
        slot = worst;
    }
    char *copy = strndup(term, len);
    if (!copy)
        return -1;
    if (slot == t->n)
        t->n++;
    else
        free(t->v[slot].term);
    t->v[slot].term = copy;
    t->v[slot].freq = freq;
    return 0;
}

/* Byte offsets where the first characters of term end: ends[d - 1] is the end of the d-th
 * character, for d up to max. Returns how many characters (at most max) there are. */
static unsigned char_ends(const char *term, size_t len, size_t *ends, unsigned max)
{
    unsigned n = 0;
    size_t i = 0;
    while (i < len && n < max) {
        unsigned char c = (unsigned char)term[i];
        size_t step = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        i = i + step > len ? len : i + step;
        ends[n++] = i;
    }
    return n;
}

/* ---- building the table ------------------------------------------------------------------- */

struct level {
    char prefix[4 * COMPLETE_TABLE_DEPTH + 1];
    size_t plen;
    unsigned long count; /* terms under prefix */
    struct topn top;
};

struct build {
    xc_wdb *wdb;
    struct level lv[COMPLETE_TABLE_DEPTH];
    struct complete_stats stats;
    xc_error *err;
    int failed; /* err set (or NULL: out of memory) */
};

/* Writes the entry of a finished prefix when it opens enough terms, and resets the level. */
static int level_flush(struct build *b, struct level *l)
{
    int rc = 0;
    if (l->plen > 0 && l->count >= COMPLETE_TABLE_MIN) {
        if (l->top.n > 1)
            qsort(l->top.v, l->top.n, sizeof l->top.v[0], cmp_cand);
        struct strbuf val;
        sb_init(&val);
        for (unsigned i = 0; i < l->top.n; i++)
            sb_printf(&val, "%s\t%u\n", l->top.v[i].term, l->top.v[i].freq);
        char key[sizeof COMPLETE_META_PREFIX + sizeof l->prefix];
        snprintf(key, sizeof key, "%s%s", COMPLETE_META_PREFIX, l->prefix);
        if (val.failed)
            rc = -1;
        else if (xc_wdb_set_metadata(b->wdb, key, sb_cstr(&val), val.len, &b->err) < 0)
            rc = -1;
        else
            b->stats.prefixes++;
        sb_free(&val);
    }
    topn_clear(&l->top);
    l->plen = 0;
    l->prefix[0] = '\0';
    l->count = 0;
    return rc;
}

static int build_term(const char *term, size_t len, unsigned freq, void *ctx)
{
    struct build *b = ctx;
    size_t ends[COMPLETE_TABLE_DEPTH + 1];
    unsigned nchars = char_ends(term, len, ends, COMPLETE_TABLE_DEPTH + 1);
    if (nchars < 2)
        return 0;
    b->stats.terms++;
    for (unsigned d = 1; d <= COMPLETE_TABLE_DEPTH && d <= nchars; d++) {
        struct level *l = &b->lv[d - 1];
        size_t plen = ends[d - 1];
        if (plen != l->plen || memcmp(l->prefix, term, plen) != 0) {
            if (level_flush(b, l) < 0)
                goto fail;
            memcpy(l->prefix, term, plen);
            l->prefix[plen] = '\0';
            l->plen = plen;
        }
        l->count++;
        if (topn_add(&l->top, term, len, freq) < 0)
            goto fail;
    }
    return 0;
fail:
    b->failed = 1;
    return 1;
}

static int collect_key(const char *key, void *ctx)
{
    struct strbuf *keys = ctx;
    sb_puts(keys, key);
    sb_putc(keys, '\0');
    return keys->failed;
}

int complete_build_table(xc_wdb *wdb, struct complete_stats *stats, xc_error **err)
{
    struct build b = {.wdb = wdb};
    for (int d = 0; d < COMPLETE_TABLE_DEPTH; d++)
        b.lv[d].top.cap = COMPLETE_TABLE_TERMS;
    int rc = -1;
    /* The old entries go first (deleting is setting ""), in the same uncommitted batch. */
    struct strbuf keys;
    sb_init(&keys);
    if (xc_wdb_metadata_keys(wdb, COMPLETE_META_PREFIX, collect_key, &keys, &b.err) < 0)
        goto out;
    if (keys.failed)
        goto out;
    for (size_t i = 0; i < keys.len; i += strlen(keys.buf + i) + 1) {
        if (xc_wdb_set_metadata(wdb, keys.buf + i, "", 0, &b.err) < 0)
            goto out;
    }
    /* Unprefixed terms only: prefixed ones start with a capital (Xapian's convention), so
     * walking each other lead byte skips them without reading them. */
    for (int c = 1; c < 256 && !b.failed; c++) {
        if ((c >= 'A' && c <= 'Z') || (c >= 0x80 && c < 0xC2) || c > 0xF4)
            continue;
        char lead[2] = {(char)c, '\0'};
        if (xc_wdb_allterms(wdb, lead, build_term, &b, &b.err) < 0)
            goto out;
    }
    if (b.failed)
        goto out;
    for (int d = 0; d < COMPLETE_TABLE_DEPTH; d++) {
        if (level_flush(&b, &b.lv[d]) < 0)
            goto out;
    }
    if (xc_wdb_set_metadata(wdb, COMPLETE_META_HEADER, COMPLETE_SHAPE, strlen(COMPLETE_SHAPE),
                            &b.err) < 0)
        goto out;
    rc = 0;
out:
    for (int d = 0; d < COMPLETE_TABLE_DEPTH; d++)
        topn_clear(&b.lv[d].top);
    sb_free(&keys);
    if (stats)
        *stats = b.stats;
    if (err)
        *err = b.err;
    else
        xc_error_free(b.err);
    return rc;
}

int complete_table_present(xc_wdb *wdb, xc_error **err)
{
    char *h = xc_wdb_metadata(wdb, COMPLETE_META_HEADER, err);
    if (!h)
        return -1;
    int present = strcmp(h, COMPLETE_SHAPE) == 0;
    free(h);
    return present;
}

/* ---- answering ------------------------------------------------------------------------------ */

struct scan {
    struct topn top;
    unsigned long seen;
    int failed;
};

static int scan_term(const char *term, size_t len, unsigned freq, void *ctx)
{
    struct scan *s = ctx;
    size_t ends[2];
    if (char_ends(term, len, ends, 2) < 2)
        return 0;
    if (topn_add(&s->top, term, len, freq) < 0) {
        s->failed = 1;
        return 1;
    }
    return ++s->seen >= COMPLETE_SCAN_MAX;
}

/* A byte that belongs to a word for completion purposes: the term generator splits words
 * at everything else (spaces, punctuation, field syntax like "title:"). */
static int word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '_';
}

/* The terms completing word (normalised like indexed text), best first, into top (sorted).
 * Returns 0, or -1 with *xe (NULL: out of memory). */
static int complete_terms(xc_db *db, const char *word, struct topn *top, xc_error **xe)
{
    char *entry = NULL;
    size_t ends[COMPLETE_TABLE_DEPTH + 1];
    unsigned nchars = char_ends(word, strlen(word), ends, COMPLETE_TABLE_DEPTH + 1);
    if (nchars <= COMPLETE_TABLE_DEPTH) {
        char *h = xc_db_metadata(db, COMPLETE_META_HEADER, xe);
        if (!h)
            return -1;
        int have_table = strcmp(h, COMPLETE_SHAPE) == 0;
        free(h);
        if (have_table) {
            char key[sizeof COMPLETE_META_PREFIX + 4 * COMPLETE_TABLE_DEPTH + 1];
            snprintf(key, sizeof key, "%s%s", COMPLETE_META_PREFIX, word);
            entry = xc_db_metadata(db, key, xe);
            if (!entry)
                return -1;
        }
    }
    if (entry && entry[0]) {
        /* "term\tfreq\n" lines, best first. */
        for (char *line = entry; *line && top->n < top->cap;) {
            char *nl = strchr(line, '\n'), *tab = strchr(line, '\t');
            long freq;
            if (!nl || !tab || tab > nl ||
                num_parse_span(tab + 1, (size_t)(nl - tab - 1), 10, 0, UINT_MAX, &freq) != NUM_OK)
                break;
            if (topn_add(top, line, (size_t)(tab - line), (unsigned)freq) < 0) {
                free(entry);
                return -1;
            }
            line = nl + 1;
        }
        free(entry);
        return 0;
    }
    free(entry);
    struct scan s = {.top = {.cap = top->cap}};
    if (xc_db_allterms(db, word, scan_term, &s, xe) < 0 || s.failed) {
        topn_clear(&s.top);
        return -1;
    }
    if (s.top.n > 1) /* v is NULL while nothing was kept: qsort may not be given it */
        qsort(s.top.v, s.top.n, sizeof s.top.v[0], cmp_cand);
    *top = s.top;
    return 0;
}

struct titles {
    char *terms[COMPLETE_MAX_LIMIT];
    unsigned n, cap;
    const char *prefix;
    int failed;
};

static int title_term(const char *term, size_t len, unsigned freq, void *ctx)
{
    (void)freq;
    struct titles *t = ctx;
    if (!(t->terms[t->n] = strndup(term, len))) {
        t->failed = 1;
        return 1;
    }
    return ++t->n >= t->cap;
}

/* Appends {"id", "title"} for the first titles starting with q. Returns 0, or -1 with *xe
 * (NULL: out of memory). */
static int complete_titles(xc_db *db, const char *q, unsigned limit, json_t *out, xc_error **xe)
{
    char key[SCHEMA_MAX_TERM + 1];
    long klen = schema_title_key(q, strlen(q), 1, key, sizeof key, xe);
    if (klen < 0)
        return -1;
    if ((size_t)klen <= strlen(SCHEMA_PREFIX_TITLE_KEY))
        return 0;
    struct titles t = {.cap = limit, .prefix = key};
    int rc = -1;
    if (xc_db_allterms(db, key, title_term, &t, xe) < 0 || t.failed)
        goto out;
    for (unsigned i = 0; i < t.n; i++) {
        unsigned docid = xc_db_docid_for_term(db, t.terms[i], xe);
        if (!docid) {
            if (*xe)
                goto out;
            continue; /* deleted meanwhile */
        }
        size_t dlen = 0;
        char *data = xc_db_doc_data(db, docid, &dlen, xe);
        if (!data)
            goto out;
        struct schema_display d;
        int bad = schema_display_decode(data, dlen, &d);
        free(data);
        if (bad < 0)
            goto out;
        json_t *o = json_pack("{s:s, s:s}", "id", d.id, "title", d.title);
        schema_display_free(&d);
        if (!o || json_array_append_new(out, o) < 0)
            goto out;
    }
    rc = 0;
out:
    for (unsigned i = 0; i < t.n; i++)
        free(t.terms[i]);
    return rc;
}

/* One attempt at a request. Returns the answer, or NULL with *xe (NULL: out of memory). */
static json_t *complete_once(xc_db *db, const char *q, unsigned limit, xc_error **xe)
{
    size_t qlen = strlen(q), start = qlen;
    while (start > 0 && word_byte((unsigned char)q[start - 1]))
        start--;
    json_t *res = json_object(), *comps = json_array(), *titles = json_array();
    struct topn top = {.cap = limit};
    char *low = NULL, *fold = NULL;
    if (!res || !comps || !titles)
        goto fail;
    if (start < qlen) {
        size_t llen = 0, flen = 0;
        low = xc_utf8_lower(q + start, qlen - start, &llen, xe);
        if (!low)
            goto fail;
        /* Indexed text has its Latin accents folded: "café" is looked up as "cafe". */
        int folded = util_fold_latin(low, llen, &fold, &flen);
        if (folded < 0)
            goto fail;
        if (complete_terms(db, folded ? fold : low, &top, xe) < 0)
            goto fail;
        for (unsigned i = 0; i < top.n; i++) {
            struct strbuf sb;
            sb_init(&sb);
            sb_append(&sb, q, start);
            sb_puts(&sb, top.v[i].term);
            json_t *s = sb.failed ? NULL : json_string(sb_cstr(&sb));
            sb_free(&sb);
            if (!s || json_array_append_new(comps, s) < 0)
                goto fail;
        }
    }
    if (complete_titles(db, q, limit, titles, xe) < 0)
        goto fail;
    if (json_object_set_new(res, "query", json_string(q)) < 0 ||
        json_object_set(res, "completions", comps) < 0 ||
        json_object_set(res, "titles", titles) < 0)
        goto fail;
    json_decref(comps);
    json_decref(titles);
    topn_clear(&top);
    free(low);
    free(fold);
    return res;
fail:
    json_decref(res);
    json_decref(comps);
    json_decref(titles);
    topn_clear(&top);
    free(low);
    free(fold);
    return NULL;
}

json_t *complete_run(xc_db *db, const char *q, unsigned limit, struct search_error *err)
{
    assert(limit >= 1 && limit <= COMPLETE_MAX_LIMIT);
    for (int attempt = 0;; attempt++) {
        xc_error *xe = NULL;
        json_t *res = complete_once(db, q, limit, &xe);
        if (res)
            return res;
        if (!xe) {
            search_error_set(err, 500, "internal", "out of memory");
            return NULL;
        }
        if (search_reopen_helps(xe) && attempt < SEARCH_MODIFIED_RETRIES) {
            xc_error_free(xe);
            xc_db_reopen(db, NULL);
            continue;
        }
        search_binding_error(err, xe, "the index cannot be read");
        xc_error_free(xe);
        return NULL;
    }
}

/* ---- over an index (search.h) ------------------------------------------------------------------- */

struct complete_args {
    const char *q;
    unsigned limit;
};

static json_t *complete_op(struct search_index *ix, const void *arg, struct search_error *err)
{
    const struct complete_args *a = arg;
    return complete_run(ix->db, a->q, a->limit, err);
}

json_t *search_complete(struct search_index *ix, const char *q, unsigned limit,
                        struct search_error *err)
{
    struct complete_args a = {q, limit};
    return search_index_with_shards(ix, complete_op, &a, 1, 0, err);
}
