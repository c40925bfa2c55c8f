/*
 * request.h -- one search request, decoded and bounded (request.c). Every way of asking
 * (an HTTP query string, a JSON body, command-line arguments) is decoded into one
 * `struct search_request` through the same function, so there is one set of limits and one
 * set of error messages. Part of the search API (search.h).
 */
#ifndef QUIRE_REQUEST_H
#define QUIRE_REQUEST_H

#include <stddef.h>

#include "search_error.h"

/* Bounds on every request, whatever its origin. */
#define SEARCH_MAX_QUERY_BYTES 4096
#define SEARCH_MAX_LIMIT 1000
#define SEARCH_MAX_OFFSET 100000
#define SEARCH_DEFAULT_LIMIT 10
#define SEARCH_MAX_ID_BYTES 1024
/* Distinct terms one query may use (a wildcard's expansion is bounded apart: below). */
#define SEARCH_MAX_TERMS 512
/* Terms one wildcard may expand to before the query is refused. */
#define SEARCH_MAX_WILDCARD 5000
/* Wildcards one query may hold. Their expansion is opened before the time budget can cut
 * the match (~5 us per term, so up to ~25 ms per wildcard on wikipedia-en); this bounds it. */
#define SEARCH_MAX_WILDCARDS 8
/* Time budget of one search, in milliseconds, for callers that do not choose one
 * (search_index_set_timeout). */
#define SEARCH_DEFAULT_TIMEOUT_MS 2000
/* Filters one request may hold (the `filter` parameter), and the bytes of one value. */
#define SEARCH_MAX_FILTERS 64
#define SEARCH_MAX_FILTER_BYTES 1024

enum search_sort { SEARCH_SORT_RELEVANCE = 0, SEARCH_SORT_DATE_DESC, SEARCH_SORT_DATE_ASC };

struct search_request {
    char *q;            /* owned; UTF-8, at most SEARCH_MAX_QUERY_BYTES */
    unsigned limit;     /* 0..SEARCH_MAX_LIMIT */
    unsigned offset;    /* 0..SEARCH_MAX_OFFSET */
    int snippet;        /* 1 (default): add a snippet to each hit */
    unsigned snippet_bytes; /* snippet window length, SNIPPET_MIN_BYTES..SNIPPET_MAX_BYTES */
    int op_and;         /* 1: plain words are ANDed; 0: ORed (default) */
    enum search_sort sort;
    int dedup;          /* 1 (default): collapse identical texts */
    int fuzzy;          /* 1 (default): typo tolerance (correct.c); 0: the query as typed */
    int explain;        /* 1: add the parsed query and term contributions */
    unsigned facets;    /* bit set of SEARCH_FACET_* to count over the matched set */
    char mark_open[33];  /* snippet markers, HTML-escaped output between them */
    char mark_close[33];
    int partial;        /* sharded index with a shard down: 1 answer from the others
                         * (marked), 0 refuse (503), -1 (default) the index's setting */
    int exact;          /* 1: count every match ("total" exact; costs a full match) */
    unsigned fields;    /* bit set of SEARCH_FIELD_* a hit carries (id, rank and score
                         * always); SEARCH_FIELDS_ALL by default */
    unsigned facet_limit; /* values per facet, 1..SEARCH_MAX_FACET_LIMIT */
    /* The `filter` parameter: field and value pairs (schema.h: a filter field and a value
     * schema_filter_check accepts), owned. ANDed across fields, ORed within one. */
    struct search_filter *filters;
    unsigned nfilters;  /* 0..SEARCH_MAX_FILTERS */
};

struct search_filter {
    char *field; /* "source", "category", "year", "month" or "date" */
    char *value; /* as a facet lists it, or a date form ("2004..2005") */
};

/* Fields of a hit that `fields=` can ask for. */
enum {
    SEARCH_FIELD_TITLE = 1,
    SEARCH_FIELD_DATE = 2,
    SEARCH_FIELD_SOURCE = 4,
    SEARCH_FIELD_URL = 8,
    SEARCH_FIELD_CATEGORY = 16,
    SEARCH_FIELD_SNIPPET = 32,
    SEARCH_FIELD_DUPLICATES = 64,
    SEARCH_FIELD_TITLE_MARKED = 128,
    SEARCH_FIELDS_ALL = 255
};
#define SEARCH_DEFAULT_FACET_LIMIT 20
#define SEARCH_MAX_FACET_LIMIT 1000

/* Facets: value slots counted over every match. */
enum { SEARCH_FACET_SOURCE = 1, SEARCH_FACET_CATEGORY = 2, SEARCH_FACET_YEAR = 4 };

void search_request_init(struct search_request *req);
void search_request_clear(struct search_request *req);
/* Sets one parameter from text (query-string or CLI form). Unknown keys are refused.
 * "filter" adds one filter, "field:value" (the value may be quoted: source:"BBC News"),
 * each time it is given. Returns 0, or -1 with err filled (status 400). */
int search_request_set(struct search_request *req, const char *key, const char *value,
                       struct search_error *err);
/* Decodes a URL query string ("q=muse+spark&limit=3": '&'-separated, '+' and %XX
 * decoded) parameter by parameter through search_request_set. NULL or "" is no
 * parameter. An encoded NUL or a bad escape is refused. Returns 0, or -1 with err. */
int search_request_from_query(struct search_request *req, const char *qs,
                              struct search_error *err);
/* Decodes a JSON body {"q": ..., "limit": ..., ...} (numbers, strings or booleans where
 * they make sense). "filter" is an object of fields, each a value, an array of values or
 * (date) {"from": A, "to": B} with either left out: {"category": ["sport", "tech"],
 * "source": "BBC News", "date": {"from": "2004-01-01", "to": "2004-12-31"}}; or, as in a
 * query string, a "field:value" string or an array of them. Returns 0, or -1 with err
 * filled. */
int search_request_from_json(struct search_request *req, const char *body, size_t len,
                             struct search_error *err);
/* Decodes the query string of /doc/{id}/similar: only limit, offset, snippet, dedup and
 * fields (a search parameter there is refused: it would be ignored). Returns 0, or -1
 * with err filled. */
int search_request_from_similar_query(struct search_request *req, const char *qs,
                                      struct search_error *err);
/* Checks the request is complete (q or a filter present). Returns 0, or -1 with err
 * filled. */
int search_request_validate(const struct search_request *req, struct search_error *err);

#endif
