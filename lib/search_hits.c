/*
 * search_hits.c -- a search's hits written as JSON (search.c runs the search): per hit its
 * display fields (only those asked for, fields=), its snippet and marked title
 * (snippet.c), its explanation; written into the answer's json_writer as they are made.
 *
 * A long text is stored as a head and the rest (schema.h); a snippet reads the lead of the
 * head first, from the value Xapian holds (no copy), and more only when the lead holds no
 * query word (snippet.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "search.h"
#include "search_int.h"
#include "snippet.h"
#include "util.h"
#include "xapian-c/xc.h"

struct explain_ctx {
    struct search_index *ix;
    const xc_match_opts *opts;
    const char *idterm;
    json_t *terms;
    xc_error *xe; /* the first failed lookup: no more are made */
    int failed;
};

/* x rounded to the given number of decimals: JSON numbers at a precision people can read
 * (written with SEARCH_JSON_PRECISION significant digits, they print as rounded). */
static double round_to(double x, int decimals)
{
    double scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    return llround(x * scale) / scale;
}

/* Adds one query term's contribution to a hit's explanation. */
static void explain_term(const char *term, size_t len, void *p)
{
    struct explain_ctx *c = p;
    char t[256];
    if (c->xe || c->failed || len >= sizeof t)
        return;
    memcpy(t, term, len);
    t[len] = '\0';
    double w = xc_term_weight(c->ix->db, t, c->idterm, c->opts, &c->xe);
    if (c->xe)
        return;
    if (w > 0)
        jset(c->terms, t, json_real(round_to(w, SEARCH_SCORE_DECIMALS)), &c->failed);
}

/* What a snippet reads of a hit's text: its first max bytes (len: how many it got). */
struct text_prefix {
    size_t max, len;
};

/* For xc_db_doc_value_lend: the text's prefix from the lent value. */
static void *text_prefix_of(const char *value, size_t len, void *ctx)
{
    struct text_prefix *tp = ctx;
    return schema_text_prefix(value, len, tp->max, &tp->len);
}

/* The first max bytes of the text packed in a slot of hit i's document (*len their
 * number), or NULL (*xe set when the binding failed). Over remote shards the value comes
 * with the fetched document; locally it is read on its own, without loading the document,
 * and unpacked where Xapian holds it (a copy of a long article's value costs a good part of
 * its snippet). */
static char *hit_value_prefix(struct search_index *ix, xc_mset *ms, unsigned i, unsigned docid,
                              unsigned slot, size_t max, size_t *len, xc_error **xe)
{
    if (ix->has_remote) {
        char *text = xc_mset_value(ms, i, slot, len, xe);
        return text ? schema_text_unpack_prefix(text, len, max) : NULL;
    }
    struct text_prefix tp = {max, 0};
    char *text = xc_db_doc_value_lend(ix->db, docid, slot, text_prefix_of, &tp, xe);
    *len = tp.len;
    return text;
}

/* The first max bytes of hit i's text: from its head, and from the rest of a long text when
 * more is asked than a head holds (see SCHEMA_TEXT_HEAD_BYTES). */
static char *hit_text(struct search_index *ix, xc_mset *ms, unsigned i, unsigned docid,
                      size_t max, size_t *len, xc_error **xe)
{
    char *text = hit_value_prefix(ix, ms, i, docid, SCHEMA_SLOT_TEXT, max, len, xe);
    if (!text || *len != SCHEMA_TEXT_HEAD_BYTES || max <= *len)
        return text;
    size_t rlen = 0;
    char *rest =
        hit_value_prefix(ix, ms, i, docid, SCHEMA_SLOT_TEXT_REST, max - *len, &rlen, xe);
    char *all = rest ? realloc(text, *len + rlen + 1) : NULL;
    if (!all) {
        free(text);
        free(rest);
        return NULL;
    }
    memcpy(all + *len, rest, rlen);
    *len += rlen;
    all[*len] = '\0';
    free(rest);
    return all;
}

/* Writes key: s when s is non-empty. */
static void write_optional(struct json_writer *w, const char *key, const char *s)
{
    if (s && *s) {
        json_writer_key(w, key);
        json_writer_string(w, s, strlen(s));
    }
}

/* Writes one hit as a JSON object, with its snippet (when terms) and explanation (when
 * asked). Returns 0; or -1 with *what naming the binding call that failed (and *xe its
 * error, which may be NULL), or with *what NULL when out of memory or a string is not
 * UTF-8. A failure of the writer itself stays in w (json_writer_end reports it). */
static int hit_write(struct json_writer *w, struct search_index *ix, xc_mset *ms, unsigned i,
                     const struct search_request *req, const struct snippet_terms *terms,
                     const xc_query *q, const xc_match_opts *opts, const char **what,
                     xc_error **xe)
{
    xc_hit hit;
    if (xc_mset_hit(ms, i, &hit) < 0) {
        *what = "cannot read a hit";
        return -1;
    }
    size_t dlen = 0;
    /* Over remote shards the data comes with the fetched documents; locally it is read
     * without the existence check that loading the hit's document makes. */
    char *data = ix->has_remote ? xc_mset_data(ms, i, &dlen, xe)
                                : xc_db_hit_data(ix->db, hit.docid, &dlen, xe);
    if (!data) {
        *what = "cannot read a hit";
        return -1;
    }
    struct schema_display d;
    int rc = schema_display_decode(data, dlen, &d);
    free(data);
    if (rc < 0)
        return -1;
    int failed = 0;
    unsigned f = req->fields;
    json_writer_open(w, '{');
    json_writer_key(w, "rank");
    json_writer_integer(w, hit.rank + 1);
    json_writer_key(w, "id");
    json_writer_string(w, d.id, strlen(d.id));
    json_writer_key(w, "score");
    json_writer_real(w, round_to(hit.weight, SEARCH_SCORE_DECIMALS));
    if (f & SEARCH_FIELD_TITLE) {
        json_writer_key(w, "title");
        json_writer_string(w, d.title, strlen(d.title));
    }
    if (f & SEARCH_FIELD_DATE)
        write_optional(w, "date", d.date);
    if (f & SEARCH_FIELD_SOURCE)
        write_optional(w, "source", d.source);
    if (f & SEARCH_FIELD_URL)
        write_optional(w, "url", d.url);
    if (f & SEARCH_FIELD_CATEGORY)
        write_optional(w, "category", d.category);
    if ((f & SEARCH_FIELD_DUPLICATES) && req->dedup && hit.collapse_count > 0) {
        json_writer_key(w, "duplicates");
        json_writer_integer(w, hit.collapse_count);
    }
    if (terms && (f & SEARCH_FIELD_SNIPPET)) {
        /* The lead of the text first; more of it only when the lead holds no match. */
        size_t tlen = 0, lead = snippet_lead_bytes(terms, req->snippet_bytes);
        char *text = hit_text(ix, ms, i, hit.docid, lead, &tlen, xe);
        char *snip = NULL;
        int more = 0;
        size_t from = 0;
        if (text)
            snip = snippet_make_lead(terms, text, tlen, tlen >= lead, req->snippet_bytes,
                                     req->mark_open, req->mark_close, &more, &from);
        if (more) {
            free(text);
            text = hit_text(ix, ms, i, hit.docid, snippet_text_bytes(terms, req->snippet_bytes),
                            &tlen, xe);
            if (text)
                snip = snippet_make_from(terms, text, tlen, from, req->snippet_bytes,
                                         req->mark_open, req->mark_close);
        }
        if (!text) {
            *what = "cannot read a hit's text";
            goto fail;
        }
        free(text);
        if (snip) {
            json_writer_key(w, "snippet");
            json_writer_string(w, snip, strlen(snip));
        } else {
            failed = 1;
        }
        free(snip);
    }
    if (terms && (f & SEARCH_FIELD_TITLE_MARKED) && !failed) {
        /* The title with the same marks, when any of its words match. */
        char *marked = NULL;
        if (snippet_mark_title(terms, d.title, strlen(d.title), req->mark_open, req->mark_close,
                               &marked) < 0) {
            failed = 1;
        } else if (marked) {
            json_writer_key(w, "title_marked");
            json_writer_string(w, marked, strlen(marked));
        }
        free(marked);
    }
    if (req->explain && q && !failed) {
        char idterm[SCHEMA_MAX_TERM + 1];
        schema_key_term(SCHEMA_PREFIX_ID, d.id, idterm, sizeof idterm);
        struct explain_ctx c = {ix, opts, idterm, json_object(), NULL, 0};
        if (xc_query_terms(q, explain_term, &c) < 0)
            c.failed = 1;
        if (c.xe) {
            json_decref(c.terms);
            *xe = c.xe;
            *what = "cannot explain a hit";
            goto fail;
        }
        failed |= c.failed;
        json_writer_key(w, "explain");
        json_writer_value(w, c.terms);
        json_decref(c.terms);
    }
    json_writer_close(w, '}');
    schema_display_free(&d);
    return failed ? -1 : 0;
fail:
    schema_display_free(&d);
    return -1;
}

/* search_hits_write (search_int.h): "hits", one object per hit of ms. */
int search_hits_write(struct json_writer *w, struct search_index *ix, xc_mset *ms,
                      const struct search_request *req, const struct snippet_terms *terms,
                      const xc_query *q, const xc_match_opts *opts, double deadline,
                      int *timed_out, struct search_error *err, int *modified)
{
    unsigned n = xc_mset_size(ms);
    json_writer_key(w, "hits");
    json_writer_open(w, '[');
    for (unsigned i = 0; i < n; i++) {
        const char *what = NULL;
        xc_error *xe = NULL;
        if ((terms || (req->explain && q)) && search_past(deadline)) {
            *timed_out = 1;
            terms = NULL;
            q = NULL;
        }
        if (hit_write(w, ix, ms, i, req, terms, q, opts, &what, &xe) < 0 ||
            (w->status != JSON_WRITE_OK && w->status != JSON_WRITE_TOO_LARGE)) {
            /* A string that is not UTF-8, or no memory: the answer cannot be made. (One
             * over max_response is still run to its end: its totals are logged.) */
            if (what)
                *modified = search_binding_error(err, xe, what);
            else
                search_build_failed(err);
            xc_error_free(xe);
            return -1;
        }
    }
    json_writer_close(w, ']');
    return 0;
}
