/*
 * search.c -- the one search path (see search.h): one decoded request (request.c) on an
 * open index (index.c) -> one result; also similar articles and /doc.
 *
 * Matching: the query is parsed with Xapian's QueryParser (fields from schema.c); when
 * the text does not parse as syntax it is searched again as plain words rather than
 * failing. A reader that fell behind a busy writer, or read a block the writer had reused,
 * reopens and retries (search_reopen_helps), a bounded number of times.
 *
 * Time: structural limits (query bytes, terms, wildcards and their expansion) keep most
 * queries cheap, but some stay expensive within them (an OR of hundreds of common words
 * sorted by date with facets, a phrase of frequent words). So each search has a time
 * budget (search_index_set_timeout): the binding stops the match at its deadline
 * (xc_match_opts.deadline_ms), and the per-hit snippets and explanations and the spelling
 * suggestion stop at it too. The answer is then what was found so far, with
 * "timed_out": true, rather than an error: a client gets useful hits, and knows they
 * may not be all. A database with a remote part cannot run the match deadline: the first
 * refusal turns it off for that view of the index (the budget still bounds the rest).
 *
 * Shards: every operation runs through search_index_with_shards (index.c), which answers
 * from the shards that are up, or refuses, and retries once after a remote failure.
 *
 * Per hit we read only the small display data; the full text (for the snippet) is read
 * from its value slot for the hits being returned (search_hits.c writes the hits).
 *
 * Output: a result is written as JSON while it is made (json_write.h's json_writer), not
 * built as a jansson tree and then encoded: the tree cost quired more than the encoding
 * (an object, a key and a string allocated per field of every hit, then freed). This is
 * the one place the result's shape is made; callers that want a tree (search_run,
 * search_similar: the search page, `quire --db`, the tests) get these bytes read back.
 */
#include "search.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facet.h"
#include "querytext.h"
#include "schema.h"
#include "search_int.h"
#include "snippet.h"
#include "util.h"
#include "xapian-c/xc.h"

/* Parses req->q: as syntax first, then as plain words when the syntax does not parse.
 * NULL with err filled (*modified: reopen and retry, search_reopen_helps). */
static xc_query *parse_query(struct search_index *ix, const struct search_request *req,
                             struct search_error *err, int *modified)
{
    xc_error *xe = NULL;
    xc_qp_set_default_and(ix->qp, req->op_and);
    /* Stop words only for OR: there they match nearly everything and blur the ranking
     * (README "Relevance"); an AND query that names them means them, and so does a query
     * with no other word to search for (querytext_has_content_word). */
    xc_qp_stopping(ix->qp, !req->op_and && querytext_has_content_word(req->q, schema_is_stopword));
    unsigned flags = XC_QP_DEFAULT | XC_QP_WILDCARD | XC_QP_PURE_NOT | XC_QP_CJK_NGRAM;
    xc_query *q = xc_qp_parse(ix->qp, req->q, flags, &xe);
    if (q)
        return q;
    if (xe && xe->code == XC_ERR_FIELD) {
        /* A filter field's value is refused as such, never searched as words. */
        search_error_set(err, 400, "bad_filter", "%s", xe->message ? xe->message : "bad filter");
        xc_error_free(xe);
        return NULL;
    }
    if (!xe || xe->code != XC_ERR_QUERY) {
        *modified = search_binding_error(err, xe, "query parser failed");
        xc_error_free(xe);
        return NULL;
    }
    char first[256];
    snprintf(first, sizeof first, "%s", xe->message ? xe->message : "syntax error");
    xc_error_free(xe);
    xe = NULL;
    q = xc_qp_parse(ix->qp, req->q, XC_QP_CJK_NGRAM, &xe);
    if (!q) {
        /* Only a syntax error is the client's: anything else is ours, as above. */
        if (xe && xe->code == XC_ERR_QUERY)
            search_error_set(err, 400, "bad_query", "query cannot be parsed: %s", first);
        else if (xe && xe->code == XC_ERR_FIELD)
            search_error_set(err, 400, "bad_filter", "%s", xe->message ? xe->message : "");
        else
            *modified = search_binding_error(err, xe, "query parser failed");
        xc_error_free(xe);
    }
    return q;
}

xc_query *search_parse_text(struct search_index *ix, const struct search_request *req,
                            const char *text, int op_and, struct search_error *err,
                            int *modified)
{
    /* Accents fold on both sides (schema.c folds indexed text the same way). */
    size_t flen = 0;
    char *folded;
    if (util_fold_latin(text, strlen(text), &folded, &flen) < 0) {
        search_out_of_memory(err);
        return NULL;
    }
    /* Case and pure negation made explicit for the parser (querytext.c). */
    char *ntext = NULL;
    if (querytext_normalise(folded ? folded : text, &ntext) < 0) {
        free(folded);
        search_out_of_memory(err);
        return NULL;
    }
    free(folded);
    struct search_request fr = *req;
    fr.q = ntext;
    fr.op_and = op_and;
    xc_query *q = parse_query(ix, &fr, err, modified);
    free(ntext);
    return q;
}

/* The `filter` parameter as one query: each filter's query (schema_filter_query, as for
 * "field:value" in q), ORed within a field, the fields ANDed. NULL with err filled. */
static xc_query *filter_query(const struct search_request *req, struct search_error *err)
{
    static const char *const fields[] = {"source", "category", "year", "month", "date"};
    xc_query *groups[sizeof fields / sizeof fields[0]];
    xc_query *one[SEARCH_MAX_FILTERS];
    size_t ng = 0;
    xc_query *res = NULL;
    char why[512] = "";
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        size_t n = 0;
        for (unsigned i = 0; i < req->nfilters; i++) {
            if (strcmp(req->filters[i].field, fields[f]) != 0)
                continue;
            assert(n < SEARCH_MAX_FILTERS);
            one[n] = schema_filter_query(fields[f], req->filters[i].value, why, sizeof why);
            if (!one[n]) {
                while (n > 0)
                    xc_query_free(one[--n]);
                goto fail;
            }
            n++;
        }
        if (n == 0)
            continue;
        groups[ng] = n == 1 ? one[0]
                            : xc_query_combine(XC_QOP_OR, (const xc_query *const *)one, n, NULL);
        if (n > 1) {
            while (n > 0)
                xc_query_free(one[--n]);
        }
        if (!groups[ng])
            goto fail;
        ng++;
    }
    assert(ng > 0); /* every filter names one of the fields (request.c checks) */
    res = ng == 1 ? groups[0] : xc_query_combine(XC_QOP_AND, (const xc_query *const *)groups, ng, NULL);
    if (ng > 1) {
        for (size_t g = 0; g < ng; g++)
            xc_query_free(groups[g]);
    }
    if (!res)
        search_out_of_memory(err);
    return res;
fail:
    for (size_t g = 0; g < ng; g++)
        xc_query_free(groups[g]);
    if (why[0])
        search_error_set(err, 400, "bad_filter", "%s", why);
    else
        search_out_of_memory(err);
    return NULL;
}

/* A query's distinct terms, and of them the words (not filters). */
struct term_count {
    size_t terms, words;
};

static void count_term(const char *term, size_t len, void *ctx)
{
    struct term_count *c = ctx;
    c->terms++;
    c->words += !schema_is_filter_term(term, len);
}

/* The absolute time (util_now_ms) at which a search started at t0 runs out of ix's
 * budget, or 0 when it has none. */
static double deadline_of(const struct search_index *ix, double t0)
{
    return ix->timeout_ms ? t0 + ix->timeout_ms : 0;
}

/* Milliseconds left before deadline for the match: 0 (none) without a deadline, at least
 * 1 with one, so a budget spent before the match still cuts it at once. */
static unsigned match_budget(const struct search_index *ix, double deadline)
{
    if (deadline <= 0 || ix->no_match_deadline)
        return 0;
    double left = deadline - util_now_ms();
    return left < 1 ? 1 : (unsigned)left;
}

/* Runs the match within what is left of the budget. A database with a remote part cannot
 * run the deadline's check: it matches without it, and this view stops asking. */
static xc_mset *enquire_within(struct search_index *ix, const xc_query *q,
                               const xc_match_opts *opts_in, double deadline, xc_error **xe)
{
    xc_match_opts opts = *opts_in;
    opts.deadline_ms = match_budget(ix, deadline);
    opts.fetch = ix->has_remote;
    int split = search_split_begin(ix, q, &opts);
    xc_mset *ms = xc_enquire(ix->db, q, &opts, xe);
    search_split_end(split);
    if (!ms && *xe && (*xe)->code == XC_ERR_UNSUPPORTED && opts.deadline_ms > 0) {
        xc_error_free(*xe);
        *xe = NULL;
        opts.deadline_ms = 0;
        ms = xc_enquire(ix->db, q, &opts, xe);
        if (ms)
            ix->no_match_deadline = 1;
    }
    return ms;
}

/* Fills err for a failed match. Returns 1 when the caller should reopen and retry. */
static int enquire_error(struct search_error *err, const xc_error *xe)
{
    if (xe && xe->code == XC_ERR_QUERY) {
        const char *msg = xe->message ? xe->message : "unknown error";
        if (strstr(msg, "Wildcard"))
            search_error_set(err, 400, "query_too_complex",
                             "a wildcard expands to more than %d terms; make it longer",
                             SEARCH_MAX_WILDCARD);
        else
            search_error_set(err, 400, "bad_query", "search failed: %s", msg);
        return 0;
    }
    return search_binding_error(err, xe, "search failed");
}

long search_match_count(struct search_index *ix, const xc_query *q, unsigned at_least,
                        double deadline, int *timed_out, struct search_error *err, int *modified)
{
    xc_match_opts opts;
    xc_match_opts_init(&opts);
    opts.limit = 0;
    opts.count_only = 1;
    opts.check_at_least = at_least; /* "lower" is then exact up to at_least */
    xc_error *xe = NULL;
    xc_mset *ms = enquire_within(ix, q, &opts, deadline, &xe);
    if (!ms) {
        *modified = enquire_error(err, xe);
        xc_error_free(xe);
        return -1;
    }
    unsigned lower = 0;
    xc_mset_totals(ms, NULL, &lower, NULL);
    if (xc_mset_timed_out(ms))
        *timed_out = 1;
    xc_mset_free(ms);
    return lower;
}

/* Writes the common top of a result: query (unless NULL), totals, offset, limit. exact:
 * every match was counted (exact=1, or facets that saw them all) and the match was not
 * cut short. hides: how many articles the match's collapsing can hide at most, -1 when
 * not known. The estimate written goes to *estimated. */
static void totals_write(struct json_writer *w, const char *query, xc_mset *ms,
                         const struct search_request *req, int exact, long hides,
                         unsigned long *estimated)
{
    unsigned est, lower, upper;
    xc_mset_totals(ms, &est, &lower, &upper);
    if (!exact && hides >= 0) {
        /* Xapian counts a collapsed match only from the documents it had to compare, and
         * can say "about 4" of 1,592 articles. Collapsing hides no more than hides of the
         * matches counted before it. */
        unsigned u_est, u_lower, u_upper;
        xc_mset_uncollapsed_totals(ms, &u_est, &u_lower, &u_upper);
        if ((long)u_lower - hides > (long)lower)
            lower = (unsigned)((long)u_lower - hides);
        if (u_upper < upper)
            upper = u_upper;
        if ((long)u_est - hides > (long)est)
            est = (unsigned)((long)u_est - hides);
        if (est > upper)
            est = upper;
    }
    /* Every match was seen: the count is known, not estimated. Xapian's estimate can still
     * stray from it when duplicates were collapsed, and it strays differently over
     * shards. */
    if (exact)
        est = upper = lower;
    /* Hits returned past the offset prove that many matches: an estimate below them
     * would read as nonsense ("12 of about 9"), and Xapian's can be, after collapsing. A
     * page past the last match proves the opposite: there are no more than the offset. */
    unsigned size = xc_mset_size(ms);
    if (size > 0) {
        unsigned seen = req->offset + size;
        if (est < seen)
            est = seen;
        if (lower < seen)
            lower = seen;
    } else if (req->offset > 0 && req->limit > 0) {
        if (upper > req->offset)
            upper = req->offset;
        if (est > upper)
            est = upper;
    }
    if (upper < est)
        upper = est;
    if (lower > est)
        lower = est;
    *estimated = est;
    if (query) {
        json_writer_key(w, "query");
        json_writer_string(w, query, strlen(query));
    }
    json_writer_key(w, "total");
    json_writer_open(w, '{');
    json_writer_key(w, "estimated");
    json_writer_integer(w, est);
    json_writer_key(w, "lower");
    json_writer_integer(w, lower);
    json_writer_key(w, "upper");
    json_writer_integer(w, upper);
    json_writer_key(w, "exact");
    json_writer_bool(w, exact);
    json_writer_close(w, '}');
    json_writer_key(w, "offset");
    json_writer_integer(w, req->offset);
    json_writer_key(w, "limit");
    json_writer_integer(w, req->limit);
}

/* What a search answers once its JSON is written (rc: a JSON_WRITE_ status): 0, or
 * SEARCH_JSON_TOO_LARGE, or -1 with err filled. */
static int written(int rc, struct search_error *err)
{
    if (rc == JSON_WRITE_OK)
        return 0;
    if (rc == JSON_WRITE_TOO_LARGE)
        return SEARCH_JSON_TOO_LARGE;
    search_build_failed(err);
    return -1;
}

/* Writes took_ms and closes the result's object; then ends the writer. Returns 0, -1
 * with err filled (out of memory, a string that is not UTF-8) or SEARCH_JSON_TOO_LARGE;
 * on failure the writer's output is gone. */
static int finish(struct json_writer *w, double t0, struct search_error *err)
{
    double took = util_now_ms() - t0;
    json_writer_key(w, "took_ms");
    json_writer_real(w, (double)(long long)(took * 1000) / 1000.0);
    json_writer_close(w, '}');
    return written(json_writer_end(w), err);
}

/* Which facets a request counts: names, in the order of opts->facet_slots. */
static void set_facets(const struct search_request *req, xc_match_opts *opts,
                       const char *names[XC_MAX_FACETS])
{
    static const struct {
        unsigned bit;
        int slot;
        const char *name;
    } facet_map[] = {{SEARCH_FACET_SOURCE, SCHEMA_SLOT_SOURCE, "source"},
                     {SEARCH_FACET_CATEGORY, SCHEMA_SLOT_CATEGORY, "category"},
                     {SEARCH_FACET_YEAR, SCHEMA_SLOT_YEAR, "year"}};
    for (size_t k = 0; k < sizeof facet_map / sizeof facet_map[0]; k++) {
        if (req->facets & facet_map[k].bit) {
            names[opts->nfacets] = facet_map[k].name;
            opts->facet_slots[opts->nfacets++] = facet_map[k].slot;
        }
    }
}

/* A search whose query is parsed: the match, the hits, facets, the suggestion and the
 * explanation, written as the result's object up to its "timed_out" (finish closes it).
 * Returns 0, or -1 with err filled (*modified: see run_write). */
static int search_once(struct json_writer *w, struct search_index *ix,
                       const struct search_request *req, const xc_query *q,
                       const xc_match_opts *opts, const char *const facet_names[],
                       const struct snippet_terms *terms, const char *sug,
                       const char *correction, int timed_out_before, double deadline,
                       struct search_summary *sum, struct search_error *err, int *modified)
{
    xc_error *xe = NULL;
    xc_mset *ms = enquire_within(ix, q, opts, deadline, &xe);
    if (!ms) {
        *modified = enquire_error(err, xe);
        xc_error_free(xe);
        return -1;
    }
    int failed = 0;
    int timed_out = xc_mset_timed_out(ms) || timed_out_before;
    json_writer_open(w, '{');
    totals_write(w, req->q ? req->q : "", ms, req,
                 (opts->nfacets > 0 || req->exact || opts->sort_slot >= 0) && !timed_out,
                 search_index_collapse_hides(ix, opts->collapse_slot), &sum->estimated);
    if (opts->nfacets) {
        json_writer_key(w, "facets");
        json_writer_open(w, '{');
        for (unsigned k = 0; k < opts->nfacets; k++) {
            json_t *values = facet_values(ms, k, req->facet_limit);
            json_writer_key(w, facet_names[k]);
            json_writer_value(w, values);
            json_decref(values);
        }
        json_writer_close(w, '}');
    }
    if (sug) {
        json_writer_key(w, "suggestion");
        json_writer_string(w, sug, strlen(sug));
    }
    if (correction) {
        json_writer_key(w, "corrected_query");
        json_writer_string(w, correction, strlen(correction));
    }
    if (req->explain) {
        char *desc = xc_query_describe(q);
        if (desc) {
            json_writer_key(w, "parsed_query");
            json_writer_string(w, desc, strlen(desc));
        } else {
            failed = 1;
        }
        free(desc);
    }
    if (search_hits_write(w, ix, ms, req, terms, q, opts, deadline, &timed_out, err,
                          modified) < 0) {
        xc_mset_free(ms);
        return -1;
    }
    xc_mset_free(ms);
    json_writer_key(w, "timed_out");
    json_writer_bool(w, timed_out);
    sum->timed_out = timed_out;
    if (failed) {
        search_build_failed(err);
        return -1;
    }
    return 0;
}

/* One attempt at a search (run_write): parsed, corrected, matched and written, up to its
 * "timed_out". Returns 0, or -1 with err filled (*modified: a read met a newer revision,
 * so that run_write reopens and runs it again whole). */
static int run_write_once(struct search_index *ix, const struct search_request *req,
                          struct json_writer *w, double deadline, struct search_summary *sum,
                          struct search_error *err, int *modified)
{
    int rc = -1;
    struct snippet_terms *sterms = NULL;
    xc_query *fq = NULL, *q = NULL, *cq = NULL;
    char *sug = NULL, *correction = NULL;
    int timed_out = 0;
    /* the words of q */
    xc_query *uq = search_parse_text(ix, req, req->q ? req->q : "", req->op_and, err, modified);
    if (!uq)
        goto done;
    /* One pass over the terms: Xapian lists them afresh (sorted, unique) at each call. */
    struct term_count count = {0, 0};
    if (xc_query_terms(uq, count_term, &count) < 0) {
        search_out_of_memory(err);
        goto done;
    }
    if (count.terms > SEARCH_MAX_TERMS) {
        search_error_set(err, 400, "query_too_complex",
                         "query has %zu distinct terms; the most allowed is %d", count.terms,
                         SEARCH_MAX_TERMS);
        goto done;
    }
    unsigned nwild = xc_query_wildcards(uq);
    if (nwild > SEARCH_MAX_WILDCARDS) {
        search_error_set(err, 400, "query_too_complex",
                         "query has %u wildcards; the most allowed is %d", nwild,
                         SEARCH_MAX_WILDCARDS);
        goto done;
    }
    /* "Did you mean", and typo tolerance (correct.c): the query as typed OR its correction.
     * The correction changes only words, so the checks above hold for it too. */
    if (search_correct(ix, req, deadline, &sug, &correction, &cq, &timed_out, err, modified) < 0)
        goto done;
    if (cq) {
        xc_error *xe = NULL;
        xc_query *typed = xc_query_scale(uq, CORRECT_TYPED_WEIGHT, &xe);
        xc_query *both[2] = {typed, cq};
        xc_query *either =
            typed ? xc_query_combine(XC_QOP_OR, (const xc_query *const *)both, 2, &xe) : NULL;
        xc_query_free(typed);
        if (!either) {
            *modified =
                search_binding_error(err, xe, "cannot combine the query and its correction");
            xc_error_free(xe);
            goto done;
        }
        xc_query_free(uq);
        uq = either;
        count.terms = count.words = 0;
        if (xc_query_terms(uq, count_term, &count) < 0) {
            search_out_of_memory(err);
            goto done;
        }
    }
    /* Filters restrict the words' matches without changing their ranking. With no words
     * (q empty, or filters alone: they carry no weight), the answer is every article the
     * filters admit, newest first unless sort says otherwise. Over remote shards the
     * facets of such a query are counted apart (xc_match_opts.facets_apart). */
    enum search_sort sort = req->sort;
    int empty = xc_query_is_empty(uq);
    int words = !empty && (count.words > 0 || nwild > 0);
    if (req->nfilters > 0) {
        fq = filter_query(req, err);
        if (!fq)
            goto done;
    }
    if (!words && (fq || !empty)) {
        /* The filters: fq, q's own (a q of filters alone), or both. */
        xc_error *xe = NULL;
        xc_query *both[2] = {uq, fq};
        xc_query *flt = empty ? fq : !fq ? uq
                               : xc_query_combine(XC_QOP_AND, (const xc_query *const *)both, 2, &xe);
        q = flt ? xc_query_filter(NULL, flt, &xe) : NULL;
        if (flt && flt != fq && flt != uq)
            xc_query_free(flt);
        if (!q) {
            *modified = search_binding_error(err, xe, "cannot combine the filters");
            xc_error_free(xe);
            goto done;
        }
        if (sort == SEARCH_SORT_RELEVANCE)
            sort = SEARCH_SORT_DATE_DESC;
    } else if (fq) {
        xc_error *xe = NULL;
        q = xc_query_filter(uq, fq, &xe);
        if (!q) {
            *modified = search_binding_error(err, xe, "cannot combine the filters");
            xc_error_free(xe);
            goto done;
        }
    } else {
        q = uq;
        uq = NULL;
    }

    xc_match_opts opts;
    xc_match_opts_init(&opts);
    opts.offset = req->offset;
    opts.limit = req->limit;
    opts.bm25_k1 = SEARCH_BM25_K1;
    opts.bm25_b = SEARCH_BM25_B;
    opts.bm25_min_normlen = SEARCH_BM25_MIN_NORMLEN;
    opts.collapse_slot = req->dedup ? search_index_collapse_slot(ix) : -1;
    /* exact=1: every match is counted (what facets do anyway). limit=0 still looks at
     * one match past the offset, so that "lower" says whether there is any. */
    if (req->exact)
        opts.check_at_least = xc_db_doccount(ix->db, NULL);
    else if (req->limit == 0)
        opts.check_at_least = req->offset + 1;
    opts.facets_apart = ix->has_remote && !words; /* see xc_match_opts */
    if (sort != SEARCH_SORT_RELEVANCE) {
        opts.sort_slot = SCHEMA_SLOT_DATE;
        opts.sort_descending = sort == SEARCH_SORT_DATE_DESC;
        /* Sorted by date, every match is looked at anyway; count them all. Xapian would
         * otherwise drop uncounted, when collapsing, those that sort below the page
         * ("about 4" of 1,592 filtered articles). */
        opts.check_at_least = xc_db_doccount(ix->db, NULL);
    }
    const char *facet_names[XC_MAX_FACETS];
    set_facets(req, &opts, facet_names);

    if (req->snippet && (req->fields & (SEARCH_FIELD_SNIPPET | SEARCH_FIELD_TITLE_MARKED))) {
        /* What to mark comes from the parsed query itself: its positive terms, wildcards
         * and phrases, and the excluded terms that must stay plain. */
        sterms = snippet_terms_new(ix->stem);
        if (!sterms || snippet_terms_from_query(sterms, uq ? uq : q) < 0) {
            search_out_of_memory(err);
            goto done;
        }
    }
    rc = search_once(w, ix, req, q, &opts, facet_names, sterms, sug, correction, timed_out,
                     deadline, sum, err, modified);
done:
    snippet_terms_free(sterms);
    xc_query_free(q);
    xc_query_free(fq);
    xc_query_free(uq);
    xc_query_free(cq);
    free(sug);
    free(correction);
    return rc;
}

/* One search (search_run_json) on an index, or on the shards that are up, written by w. A
 * read that met a newer revision runs the whole search again on the latest one (bounded):
 * the parse and the correction read the index too (wildcards, spellings). */
static int run_write(struct search_index *ix, const struct search_request *req,
                     struct json_writer *w, struct search_summary *sum,
                     struct search_error *err)
{
    double t0 = util_now_ms();
    double deadline = deadline_of(ix, t0);
    search_busy(1);
    int rc;
    for (int attempt = 0;; attempt++) {
        int modified = 0;
        double started = util_now_ms();
        if (run_write_once(ix, req, w, deadline, sum, err, &modified) == 0) {
            rc = finish(w, t0, err);
            break;
        }
        json_writer_reset(w);
        rc = -1;
        if (!modified || !search_retry_again(attempt, started, deadline))
            break;
        xc_db_reopen(ix->db, NULL);
    }
    search_busy(-1);
    return rc;
}

/* The written result read back as a tree: how search_run and search_similar, whose
 * callers want one, get the very answer the daemon writes. NULL with err filled. Read
 * through util_json_loadb, which ends the parse at a failed allocation: jansson's own lexer
 * runs on after one, dropping a byte of a string ("Café owners o Paris") or writing past
 * its buffer (both found by test_faults). */
static json_t *read_back(const struct strbuf *sb, struct search_error *err)
{
    int oom = 0;
    json_t *res = util_json_loadb(sb->buf, sb->len, JSON_ALLOW_NUL, NULL, &oom);
    if (!res)
        search_build_failed(err);
    return res;
}

/* search_run's operation for search_index_with_shards. */
static json_t *run_tree(struct search_index *ix, const void *arg, struct search_error *err)
{
    struct strbuf sb;
    struct json_writer w;
    struct search_summary sum;
    sb_init(&sb);
    json_writer_init(&w, &sb, (size_t)-1, SEARCH_JSON_PRECISION);
    json_t *res = run_write(ix, arg, &w, &sum, err) == 0 ? read_back(&sb, err) : NULL;
    sb_free(&sb);
    return res;
}

json_t *search_run(struct search_index *ix, const struct search_request *req,
                   struct search_error *err)
{
    /* Checked once, before the shards: a bad request is a 400 whatever their state. */
    if (search_request_validate(req, err) < 0)
        return NULL;
    return search_index_with_shards(ix, run_tree, req, req->partial, 1, err);
}

int search_run_json(struct search_index *ix, const struct search_request *req,
                    struct strbuf *out, size_t max, struct search_summary *sum,
                    struct search_error *err)
{
    memset(sum, 0, sizeof *sum);
    if (search_request_validate(req, err) < 0)
        return -1;
    if (!ix->shards) {
        /* What search_index_with_shards does for an index of one database. */
        struct json_writer w;
        json_writer_init(&w, out, max, SEARCH_JSON_PRECISION);
        return run_write(ix, req, &w, sum, err);
    }
    /* A sharded index: the shards' state is added to the tree (index.c). */
    json_t *res = search_index_with_shards(ix, run_tree, req, req->partial, 1, err);
    if (!res)
        return -1;
    sum->timed_out = json_is_true(json_object_get(res, "timed_out"));
    sum->estimated = (unsigned long)json_integer_value(
        json_object_get(json_object_get(res, "total"), "estimated"));
    int rc = json_write(res, out, max, SEARCH_JSON_PRECISION);
    json_decref(res);
    return written(rc, err);
}

/* Terms worth expanding on: unprefixed words (not ids, filters or stems' duplicates), and
 * no bare numbers. */
static int similar_term_ok(const char *t, size_t len)
{
    if (len < 3 || (t[0] >= 'A' && t[0] <= 'Z'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!(t[i] >= '0' && t[i] <= '9') && t[i] != '.' && t[i] != ',')
            return 1;
    }
    return 0;
}

/* Checks a document id from a client and makes its unique term. Returns 0, or -1 with
 * err filled (400). */
static int id_term(const char *id, char term[SCHEMA_MAX_TERM + 1], struct search_error *err)
{
    if (!id || !*id || strlen(id) > SEARCH_MAX_ID_BYTES || !util_utf8_valid(id, strlen(id))) {
        search_error_set(err, 400, "bad_parameter", "document id must be 1 to %d bytes of UTF-8",
                         SEARCH_MAX_ID_BYTES);
        return -1;
    }
    schema_key_term(SCHEMA_PREFIX_ID, id, term, SCHEMA_MAX_TERM + 1);
    return 0;
}

/* One attempt at search_similar (see search_once for why it is one function). */
static int similar_once(struct json_writer *w, struct search_index *ix, const char *id,
                        const char *idterm, const struct search_request *req, double deadline,
                        struct search_error *err, int *modified)
{
    xc_error *xe = NULL;
    unsigned docid = xc_db_docid_for_term(ix->db, idterm, &xe);
    if (!docid) {
        if (xe)
            *modified = search_binding_error(err, xe, "cannot look up document");
        else
            search_error_set(err, 404, "not_found", "no document with id '%.200s'", id);
        xc_error_free(xe);
        return -1;
    }
    /* Its content hash: a copy of the article's text (another id, the same body) is the
     * article again, not a similar one, and collapsing would even rank it first. */
    size_t hlen = 0;
    char *hash = xc_db_doc_value(ix->db, docid, SCHEMA_SLOT_HASH, &hlen, &xe);
    if (!hash) {
        *modified = search_binding_error(err, xe, "cannot read document");
        xc_error_free(xe);
        return -1;
    }
    xc_query *q = xc_query_similar(ix->db, docid, SEARCH_SIMILAR_TERMS, similar_term_ok, &xe);
    if (!q) {
        free(hash);
        *modified = search_binding_error(err, xe, "cannot expand document");
        xc_error_free(xe);
        return -1;
    }
    int rc = -1;
    struct snippet_terms *sterms = NULL;
    if (req->snippet && (req->fields & (SEARCH_FIELD_SNIPPET | SEARCH_FIELD_TITLE_MARKED))) {
        /* Snippets show where the article's own characteristic terms are. */
        sterms = snippet_terms_new(ix->stem);
        if (!sterms || snippet_terms_from_query(sterms, q) < 0) {
            search_out_of_memory(err);
            goto done;
        }
    }
    xc_match_opts opts;
    xc_match_opts_init(&opts);
    opts.offset = req->offset;
    opts.limit = req->limit;
    opts.bm25_k1 = SEARCH_BM25_K1;
    opts.bm25_b = SEARCH_BM25_B;
    opts.bm25_min_normlen = SEARCH_BM25_MIN_NORMLEN;
    opts.collapse_slot = req->dedup ? search_index_collapse_slot(ix) : -1;
    opts.exclude_term = idterm;
    if (hlen > 0) {
        opts.exclude_slot = SCHEMA_SLOT_HASH;
        opts.exclude_value = hash;
        opts.exclude_value_len = hlen;
    }
    xc_mset *ms = enquire_within(ix, q, &opts, deadline, &xe);
    if (!ms) {
        *modified = enquire_error(err, xe);
        xc_error_free(xe);
        goto done;
    }
    int timed_out = xc_mset_timed_out(ms);
    unsigned long estimated;
    json_writer_open(w, '{');
    totals_write(w, NULL, ms, req, 0, search_index_collapse_hides(ix, opts.collapse_slot),
                 &estimated);
    json_writer_key(w, "similar_to");
    json_writer_string(w, id, strlen(id));
    rc = search_hits_write(w, ix, ms, req, sterms, NULL, &opts, deadline, &timed_out, err,
                           modified);
    xc_mset_free(ms);
    json_writer_key(w, "timed_out");
    json_writer_bool(w, timed_out);
done:
    snippet_terms_free(sterms);
    xc_query_free(q);
    free(hash);
    return rc;
}

struct similar_arg {
    const char *id;
    const struct search_request *req;
};

static json_t *similar_run(struct search_index *ix, const void *arg, struct search_error *err)
{
    const struct similar_arg *a = arg;
    double t0 = util_now_ms();
    double deadline = deadline_of(ix, t0);
    char idterm[SCHEMA_MAX_TERM + 1];
    if (id_term(a->id, idterm, err) < 0)
        return NULL;
    struct strbuf sb;
    struct json_writer w;
    sb_init(&sb);
    json_writer_init(&w, &sb, (size_t)-1, SEARCH_JSON_PRECISION);
    int rc = -1;
    search_busy(1);
    for (int attempt = 0;; attempt++) {
        int modified = 0;
        double started = util_now_ms();
        rc = similar_once(&w, ix, a->id, idterm, a->req, deadline, err, &modified);
        if (rc == 0 || !modified || !search_retry_again(attempt, started, deadline))
            break;
        json_writer_reset(&w);
        xc_db_reopen(ix->db, NULL);
    }
    search_busy(-1);
    json_t *res = rc == 0 && finish(&w, t0, err) == 0 ? read_back(&sb, err) : NULL;
    sb_free(&sb);
    return res;
}

json_t *search_similar(struct search_index *ix, const char *id,
                       const struct search_request *req, struct search_error *err)
{
    /* Only what similar articles take (search_request_from_similar_query); a library
     * caller that set more would have it ignored without a word. */
    struct search_request plain;
    search_request_init(&plain);
    if (req->q || req->op_and != plain.op_and || req->sort != plain.sort || req->explain ||
        req->facets || req->exact || req->partial != plain.partial ||
        req->facet_limit != plain.facet_limit || strcmp(req->mark_open, plain.mark_open) ||
        strcmp(req->mark_close, plain.mark_close)) {
        search_error_set(err, 400, "unknown_parameter",
                         "similar articles take limit, offset, snippet, dedup and fields only");
        return NULL;
    }
    struct similar_arg a = {id, req};
    return search_index_with_shards(ix, similar_run, &a, -1, 1, err);
}

static json_t *doc_once(struct search_index *ix, const void *arg, struct search_error *err)
{
    const char *id = arg;
    char term[SCHEMA_MAX_TERM + 1];
    if (id_term(id, term, err) < 0)
        return NULL;
    xc_error *xe = NULL;
    unsigned docid = 0;
    char *data = NULL, *text = NULL;
    size_t dlen = 0, tlen = 0;
    for (int attempt = 0; attempt <= SEARCH_MODIFIED_RETRIES; attempt++) {
        xc_error_free(xe);
        xe = NULL;
        docid = xc_db_docid_for_term(ix->db, term, &xe);
        if (docid) {
            data = xc_db_doc_data(ix->db, docid, &dlen, &xe);
            if (data)
                text = schema_text_read(ix->db, docid, &tlen, &xe);
            if (data && text)
                break;
            free(data);
            data = NULL;
            if (!xe) /* the binding could not allocate an error: out of memory */
                break;
        }
        if (!search_reopen_helps(xe))
            break;
        xc_db_reopen(ix->db, NULL);
    }
    if (!data) {
        /* A document deleted between the lookup and the read is not found, too. */
        if ((xe && xe->code != XC_ERR_NOT_FOUND) || (!xe && docid))
            search_binding_error(err, xe, "cannot read document");
        else
            search_error_set(err, 404, "not_found", "no document with id '%.200s'", id);
        xc_error_free(xe);
        return NULL;
    }
    xc_error_free(xe);
    struct schema_display d;
    if (!text || schema_display_decode(data, dlen, &d) < 0) {
        free(data);
        free(text);
        search_out_of_memory(err);
        return NULL;
    }
    free(data);
    int failed = 0;
    json_t *doc = json_object();
    jset(doc, "id", json_string(d.id), &failed);
    jset(doc, "title", json_string(d.title), &failed);
    set_optional(doc, "date", d.date, &failed);
    set_optional(doc, "source", d.source, &failed);
    set_optional(doc, "url", d.url, &failed);
    set_optional(doc, "category", d.category, &failed);
    jset(doc, "text", json_stringn(text, tlen), &failed);
    schema_display_free(&d);
    free(text);
    if (failed) {
        json_decref(doc);
        search_build_failed(err);
        return NULL;
    }
    return doc;
}

json_t *search_doc(struct search_index *ix, const char *id, struct search_error *err)
{
    /* A document found in a shard that is up is the document; "not found" is only
     * certain when every shard answered. */
    json_t *doc = search_index_with_shards(ix, doc_once, id, 1, 0, err);
    const struct shard *down = ix->shards ? search_index_first_down(ix) : NULL;
    if (!doc && err->status == 404 && down)
        search_error_set(err, 503, "shard_unavailable",
                         "no document with id '%.200s' in the shards that are up; shard %s "
                         "is unavailable: %.200s",
                         id, down->e.name, down->error);
    return doc;
}
