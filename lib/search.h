/*
 * search.h -- the one search path shared by quired and `quire --db`.
 *
 * Every way of asking (an HTTP query string, a JSON body, command-line arguments) is
 * decoded into one bounded, validated `struct search_request`; search_run() turns it into
 * the one JSON result shape that the daemon returns and the client prints. Because both
 * callers use these functions, they cannot drift apart.
 *
 * The API is in three parts, included together here: request.h (decoding a request),
 * index.h (opening and refreshing an index: `struct search_index`, one reader's view, not
 * thread-safe) and search_error.h (errors meant for a client).
 */
#ifndef QUIRE_SEARCH_H
#define QUIRE_SEARCH_H

#include <stddef.h>
#include <jansson.h>

#include "index.h"
#include "json_write.h"
#include "request.h"
#include "search_error.h"

#define SEARCH_SIMILAR_TERMS 40
/* BM25 parameters, tuned on SciFact's training queries and checked on Cranfield (README
 * "Relevance"): Xapian's own defaults are k1 = 1, b = 0.5, min_normlen = 0.5. */
#define SEARCH_BM25_K1 1.2
#define SEARCH_BM25_B 0.95
#define SEARCH_BM25_MIN_NORMLEN 0.2
/* Significant digits of JSON numbers when a result is written out (json_dumps with
 * JSON_REAL_PRECISION): the numbers are rounded where they are made (took_ms to the
 * microsecond, scores to SEARCH_SCORE_DECIMALS), and 15 digits print them as rounded. */
#define SEARCH_JSON_PRECISION 15
#define SEARCH_SCORE_DECIMALS 6

/* Runs a search. Returns a new JSON object (caller decrefs), or NULL with err filled: 400s
 * for the request, 503 when the index cannot be read, 500 when out of memory. A result is
 * never returned with anything missing for want of memory or a failed read.
 * The object always has "timed_out": false, or true when the index's time budget ran
 * out: the match stopped early, so hits, facet counts and totals cover only the
 * documents it examined, and explanations or the suggestion may be missing. */
json_t *search_run(struct search_index *ix, const struct search_request *req,
                   struct search_error *err);

/* What the daemon's logs and counters need of an answer written by search_run_json. */
struct search_summary {
    int timed_out;           /* the answer's "timed_out" */
    unsigned long estimated; /* its "total"."estimated" */
};

/* search_run_json's answer when the JSON would be over max bytes (sum is filled). */
#define SEARCH_JSON_TOO_LARGE (-2)

/* search_run, written: the result's JSON (the bytes json_write gives for search_run's
 * object, at SEARCH_JSON_PRECISION) appended to out, at most max bytes of it, without
 * building the object first. Returns 0 with *sum filled; -1 with err filled (as
 * search_run) and out as it was; or SEARCH_JSON_TOO_LARGE with *sum filled and out as
 * it was. quired answers GET and POST /search with it; search_run is this, read back. */
int search_run_json(struct search_index *ix, const struct search_request *req,
                    struct strbuf *out, size_t max, struct search_summary *sum,
                    struct search_error *err);
/* Articles like the one with id (Xapian relevance-feedback expansion over its own terms),
 * without the article itself or any copy of its text (same content hash): the search
 * result shape (timed_out included). req gives limit, offset, snippet, dedup and fields
 * (its q and the rest must be unset: a 400 otherwise). */
json_t *search_similar(struct search_index *ix, const char *id,
                       const struct search_request *req, struct search_error *err);
/* The stored article with its full text; NULL with err (404) when no such id. */
json_t *search_doc(struct search_index *ix, const char *id, struct search_error *err);
/* Search-as-you-type (lib/complete.c): {"query", "completions": [...], "titles": [{"id",
 * "title"}]}, each at most limit (1..COMPLETE_MAX_LIMIT) long. q is valid UTF-8 of at most
 * SEARCH_MAX_QUERY_BYTES. NULL with err filled when the index cannot be read. */
json_t *search_complete(struct search_index *ix, const char *q, unsigned limit,
                        struct search_error *err);

#endif
