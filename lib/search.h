/*
 * search.h -- the one search path shared by quired and `quire --db`.
 *
 * Every way of asking (an HTTP query string, a JSON body, command-line arguments) is
 * decoded into one bounded, validated `struct search_request`; search_run() turns it into
 * the one JSON result shape that the daemon returns and the client prints. Because both
 * callers use these functions, they cannot drift apart.
 *
 * A `struct search_index` is one reader's view of an index directory: it is not
 * thread-safe, so the daemon gives every worker thread its own.
 */
#ifndef QUIRE_SEARCH_H
#define QUIRE_SEARCH_H

#include <stddef.h>
#include <jansson.h>

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

enum search_sort { SEARCH_SORT_RELEVANCE = 0, SEARCH_SORT_DATE_DESC, SEARCH_SORT_DATE_ASC };

struct search_request {
    char *q;            /* owned; UTF-8, at most SEARCH_MAX_QUERY_BYTES */
    unsigned limit;     /* 0..SEARCH_MAX_LIMIT */
    unsigned offset;    /* 0..SEARCH_MAX_OFFSET */
    int snippet;        /* 1 (default): add a snippet to each hit */
    int op_and;         /* 1: plain words are ANDed; 0: ORed (default) */
    enum search_sort sort;
    int dedup;          /* 1 (default): collapse identical texts */
    int explain;        /* 1: add the parsed query and term contributions */
    unsigned facets;    /* bit set of SEARCH_FACET_* to count over the matched set */
    char mark_open[33];  /* snippet markers, HTML-escaped output between them */
    char mark_close[33];
    int partial;        /* sharded index with a shard down: 1 answer from the others
                         * (marked), 0 refuse (503), -1 (default) the index's setting */
};

/* Facets: value slots counted over every match. */
enum { SEARCH_FACET_SOURCE = 1, SEARCH_FACET_CATEGORY = 2, SEARCH_FACET_YEAR = 4 };
#define SEARCH_MAX_FACET_VALUES 100
#define SEARCH_SIMILAR_TERMS 40
/* BM25 parameters, tuned on scifact and cranfield (README "Relevance"): Xapian's own
 * defaults are k1 = 1, b = 0.5. */
#define SEARCH_BM25_K1 1.2
#define SEARCH_BM25_B 0.75

/* An error meant for a client: HTTP status, a stable code and a clear sentence. */
struct search_error {
    int status;          /* 400, 404, 503, 500 */
    const char *code;    /* "bad_parameter", "bad_query", "not_found", "unavailable", ... */
    char message[512];
};

void search_request_init(struct search_request *req);
void search_request_clear(struct search_request *req);
/* Sets one parameter from text (query-string or CLI form). Unknown keys are refused.
 * Returns 0, or -1 with err filled (status 400). */
int search_request_set(struct search_request *req, const char *key, const char *value,
                       struct search_error *err);
/* Decodes a URL query string ("q=muse+spark&limit=3": '&'-separated, '+' and %XX
 * decoded) parameter by parameter through search_request_set. NULL or "" is no
 * parameter. An encoded NUL or a bad escape is refused. Returns 0, or -1 with err. */
int search_request_from_query(struct search_request *req, const char *qs,
                              struct search_error *err);
/* Decodes a JSON body {"q": ..., "limit": ..., ...} (numbers, strings or booleans where
 * they make sense). Returns 0, or -1 with err filled. */
int search_request_from_json(struct search_request *req, const char *body, size_t len,
                             struct search_error *err);
/* Checks the request is complete (q present). Returns 0, or -1 with err filled. */
int search_request_validate(const struct search_request *req, struct search_error *err);

struct search_index;

/* How an index is served; search_options_init() gives the defaults. */
struct search_options {
    unsigned shard_timeout_ms; /* remote shards: connect and per-read timeout */
    int allow_partial;         /* with a shard down, answer from the others (marked
                                * "shards": {"failed": K}) unless a request says no */
};
#define SEARCH_SHARD_TIMEOUT_MS 2000
void search_options_init(struct search_options *o);

/* Opens the index at dir (an index directory with generations, a sharded index directory,
 * a plain Xapian database, or a stub file / shard map). NULL with err filled (status 503)
 * on failure. A sharded index opens while some (or all) of its shards are down: they are
 * retried, with backoff, by search_index_refresh(). */
struct search_index *search_index_open(const char *dir, struct search_error *err);
struct search_index *search_index_open_with(const char *dir, const struct search_options *o,
                                            struct search_error *err);
void search_index_close(struct search_index *ix);
/* Gives every later search on ix a time budget of ms milliseconds (0, the default after
 * search_index_open: none). A search that runs out of it stops matching and answers with
 * what it ranked so far, marked "timed_out": true (search_run). The clock starts when
 * search_run is called. Over a remote database the match cannot be cut: it runs without
 * the deadline (snippets, explanations and suggestions still stop at it). */
void search_index_set_timeout(struct search_index *ix, unsigned ms);
/* Picks up new commits and swapped generations. Cheap; call between requests.
 * Returns 1 when the view changed, 0 when not, -1 on error (the old view stays). */
int search_index_refresh(struct search_index *ix, struct search_error *err);
unsigned search_index_doccount(struct search_index *ix);
unsigned long search_index_revision(struct search_index *ix);
/* The generation being served ("gen-000003"), or "" for a plain database. Borrowed until
 * the next refresh. */
const char *search_index_generation(struct search_index *ix);
/* When the index was last committed to ("2026-11-22T23:59:00Z"), or "". Borrowed until
 * the next call. */
const char *search_index_updated(struct search_index *ix);

/* Runs a search. Returns a new JSON object (caller decrefs), or NULL with err filled: 400s
 * for the request, 503 when the index cannot be read, 500 when out of memory. A result is
 * never returned with anything missing for want of memory or a failed read.
 * The object always has "timed_out": false, or true when the index's time budget ran
 * out: the match stopped early, so hits, facet counts and totals cover only the
 * documents it examined, and explanations or the suggestion may be missing. */
json_t *search_run(struct search_index *ix, const struct search_request *req,
                   struct search_error *err);
/* Articles like the one with id (Xapian relevance-feedback expansion over its own terms),
 * without the article itself: the search result shape (timed_out included), up to limit
 * hits. */
json_t *search_similar(struct search_index *ix, const char *id, unsigned limit,
                       struct search_error *err);
/* The stored article with its full text; NULL with err (404) when no such id. */
json_t *search_doc(struct search_index *ix, const char *id, struct search_error *err);
/* {"status": "ok", "docs": N, "revision": R, "generation": ..., "updated": ...}, or NULL
 * with err filled (503) when the index cannot be read. A sharded index adds "shards"
 * (search_shards) and its status is "degraded" while a shard is down, "unavailable" while
 * all are. */
json_t *search_health(struct search_index *ix, struct search_error *err);
/* For a sharded index, one object per shard: {"name", "remote", "state": "up"|"down",
 * "docs", "failures", "error"}; NULL for an index of one database. */
json_t *search_shards(struct search_index *ix);

/* Search-as-you-type (lib/complete.h): {"query", "completions": [...], "titles": [{"id",
 * "title"}]}, each at most limit (1..COMPLETE_MAX_LIMIT) long. q is valid UTF-8 of at most
 * SEARCH_MAX_QUERY_BYTES. NULL with err filled when the index cannot be read. */
json_t *search_complete(struct search_index *ix, const char *q, unsigned limit,
                        struct search_error *err);

/* Fills err; a printf-style message. */
void search_error_set(struct search_error *err, int status, const char *code, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

#endif
