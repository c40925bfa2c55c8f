/*
 * search_int.h -- what the files of the search path share, and nothing else sees: the
 * index handle (struct search_index, opened and refreshed in index.c), error helpers, the
 * JSON building helpers and the deadline check. Public API: search.h and the headers
 * it includes.
 *
 *   request.c   HTTP query string / JSON body / CLI arguments -> struct search_request
 *   index.c     opening, refreshing and health of an index, shards included
 *   search.c    one request -> one result (search, similar, doc)
 *   suggest.c   "did you mean": spelling suggestions
 *   correct.c   typo tolerance: when a query is searched as itself or its correction
 *   termfreq.c  term frequencies remembered for the current revision
 */
#ifndef QUIRE_SEARCH_INT_H
#define QUIRE_SEARCH_INT_H

#include "index.h"
#include "request.h"
#include "search_error.h"

#include "dbdir.h"
#include "shardmap.h"
#include "util.h"
#include "xapian-c/xc.h"

/* A reader that fell behind a busy writer (XC_ERR_MODIFIED) reopens and retries this many
 * times. Three were not enough: with quire-index committing every document (--batch 1) on
 * a loaded machine, an expensive search (100 hits, snippets, facets) fell behind four
 * times running about once in a few thousand (tests/model/crasher.py). A search past its
 * time budget stops early, so the retries stay bounded in time too. */
#define SEARCH_MODIFIED_RETRIES 8
/* A search goes on retrying past SEARCH_MODIFIED_RETRIES while its time budget lasts, up
 * to this many times: eight were not always enough either. Under AddressSanitizer (every
 * step several times slower) the same expensive search fell behind nine times running in
 * about one crasher run of three, and still in one of four with retries for as long as the
 * budget lasted: the budget, not a count, is what its client waits for, and past it a
 * short attempt answers (search_retry_again). */
#define SEARCH_MODIFIED_MAX_RETRIES 64
/* How long past its deadline a search overtaken by a writer may still begin an attempt
 * (search_retry_again): each such attempt is short, but one may be overtaken too. */
#define SEARCH_MODIFIED_LATE_MS 1000.0

/* 1 when a search that fell behind a writer on attempt `attempt` (0 the first), begun at
 * `started` (util_now_ms), runs once more: up to SEARCH_MODIFIED_RETRIES times, and beyond
 * that, up to SEARCH_MODIFIED_MAX_RETRIES, while the failed attempt began before the
 * search's deadline (0: none) or less than SEARCH_MODIFIED_LATE_MS after it. An attempt
 * begun past the deadline is a short one (the match stops at once, no snippet is made)
 * that answers with what it found, marked timed out, where a slow search overtaken again
 * and again would fail. */
int search_retry_again(int attempt, double started, double deadline);

/* One database of a sharded index. */
struct shard {
    struct shard_entry e;
    xc_db *db;                /* NULL while the shard is down */
    struct dbdir_stamp stamp; /* local shard: its `current` file when opened */
    double opened_ms;         /* when the handle was opened */
    double retry_ms;          /* down: when to try again */
    double backoff_ms;
    unsigned long failures;
    char error[256];          /* why it is down */
};

/* A worker's term frequencies at one revision of its index (termfreq.c). */
struct termfreq_cache {
    struct hashmap map;  /* util_hash64(term) -> offset of the term in terms << 32 | frequency */
    struct strbuf terms; /* the terms remembered, each with its NUL */
    unsigned long rev;   /* the revision they are of */
};

struct search_index {
    char dir[4096];
    char path[4096]; /* what was opened: DIR/current, the shard map, or the database */
    struct dbdir_stamp stamp;
    char generation[256];
    char updated[64];        /* time of the last commit, read once per revision */
    unsigned long updated_rev;
    int updated_ok; /* updated is what revision updated_rev says */
    /* The slot a search collapses on, as revision updated_rev's SCHEMA_META_UNIQUE_TEXT
     * says (search_index_collapse_slot). */
    int collapse_slot;
    /* How many articles collapsing on it can hide at most (marked articles less one per
     * text they share); -1 when not known (collapsing on the full hash). */
    long collapse_hides;
    struct search_options opts;
    xc_db *db;               /* sharded: all the shards that are up, as one (NULL: none) */
    xc_qp *qp;
    xc_stem *stem;
    struct shard *shards;    /* sharded index only */
    int nshards;
    xc_db *spelling;         /* the map's #quire-spelling database, or NULL */
    char spelling_path[4096];
    struct dbdir_stamp spelling_stamp;
    unsigned timeout_ms;   /* budget of one search; 0: none */
    int no_match_deadline; /* this view cannot run the match deadline (a remote part) */
    int has_remote;        /* a remote shard is up: fetch hits' documents together */
    struct termfreq_cache termfreqs;
    /* A second handle on db, for the second half of a split match (search_split.c); NULL
     * until one is wanted, and again whenever db is replaced. */
    xc_db *twin;
    unsigned long splits; /* matches run split */
};

/* Decides whether the match of q with opts runs split (search_split.c): if so sets
 * opts->split_twin and returns 1, else 0. Every match is bracketed by it and
 * search_split_end(what it returned). */
int search_split_begin(struct search_index *ix, const xc_query *q, xc_match_opts *opts);
void search_split_end(int split);
/* A search starts (+1) or ends (-1) in this process: what search_split_begin counts to
 * learn whether a core is idle. */
void search_busy(int delta);

/* The number of articles that hold term, at ix's current revision: remembered from an
 * earlier search at that revision when it can be (termfreq.c). 0 with *xe on failure. */
unsigned search_termfreq(struct search_index *ix, const char *term, xc_error **xe);
/* Forgets every term (and frees their memory): ix opened another database. */
void termfreq_cache_clear(struct termfreq_cache *c);

/* The slot a search collapses articles with the same text on (SCHEMA_META_UNIQUE_TEXT at
 * ix's current revision): -1 when no two articles of its one database share a text, so
 * that collapsing can be skipped; SCHEMA_SLOT_REPEAT when those that do are marked;
 * SCHEMA_SLOT_HASH otherwise, for a sharded index (two shards can hold one text), or when
 * it cannot be read. */
int search_index_collapse_slot(struct search_index *ix);
/* How many articles collapsing on slot (what search_index_collapse_slot gave; -1: none)
 * can hide at most, -1 when not known. */
long search_index_collapse_hides(struct search_index *ix, int slot);

/* Fills err: 500, out of memory. */
void search_out_of_memory(struct search_error *err);
/* Fills err: the result could not be built (out of memory, or text that is not UTF-8). */
void search_build_failed(struct search_error *err);
/* Fills err for a failed binding call: what was being done and Xapian's message. xe may be
 * NULL (the binding reports some failures by return value alone, and could not allocate an
 * error when memory ran out): that is out of memory. Returns search_reopen_helps(xe). */
int search_binding_error(struct search_error *err, const xc_error *xe, const char *what);
/* 1 when a failed read may succeed on the latest revision, so that the caller reopens and
 * retries (at most SEARCH_MODIFIED_RETRIES times): the reader fell behind a writer
 * (XC_ERR_MODIFIED), or a read failed (XC_ERR_IO; see search_binding_error). The one rule
 * for every reader of the search path. */
int search_reopen_helps(const xc_error *xe);

/* An operation on the index's database (a search, similar, doc), run by
 * search_index_with_shards. */
typedef json_t *(*search_index_op)(struct search_index *ix, const void *arg,
                                   struct search_error *err);

/* Runs op over ix: directly for an index of one database; for a sharded index, with a
 * shard down, answers from the others when partial results are allowed (marked "shards"
 * when mark), else refuses with a 503 naming the shard. A remote failure during op takes
 * the failing shard out and runs op once more. */
json_t *search_index_with_shards(struct search_index *ix, search_index_op op, const void *arg,
                                 int partial, int mark, struct search_error *err);
/* The first shard of a sharded index that is down, or NULL. */
const struct shard *search_index_first_down(const struct search_index *ix);

/* "Did you mean" (suggest.c): q with each unknown or rare word replaced by its best close
 * spelling, in *out_text (malloc'd; NULL when no word changed); the same with only the
 * words the index lacks replaced in *out_unknown (NULL when there are none); *known = 1
 * when a replaced word is in the index. Stops at deadline (*timed_out = 1, no suggestion).
 * Returns 0, or -1 with err filled (*modified: the reader fell behind a writer). */
int search_suggest(struct search_index *ix, const char *q, char **out_text, char **out_unknown,
                   int *known, double deadline, int *timed_out, struct search_error *err,
                   int *modified);

/* Parses text (a query as a client typed it) as a search of req would, but with op_and as
 * the default operator: accents folded, case and pure negation made explicit
 * (querytext.c), syntax first and plain words when it does not parse (search.c). NULL
 * with err filled (*modified: reopen and retry, search_reopen_helps). */
xc_query *search_parse_text(struct search_index *ix, const struct search_request *req,
                            const char *text, int op_and, struct search_error *err,
                            int *modified);
/* How many articles q matches, counted exactly up to at_least (at least 1; past it, a lower
 * bound); 0 also when the deadline passed first (*timed_out). -1 with err filled
 * (*modified as above) (search.c). */
long search_match_count(struct search_index *ix, const xc_query *q, unsigned at_least,
                        double deadline, int *timed_out, struct search_error *err, int *modified);
/* Writes "hits": the hits of ms, with snippets when terms (not NULL) and explanations when
 * req->explain and q (search_hits.c). Returns 0, or -1 with err filled; *modified set when
 * the caller should reopen and retry. Snippets and explanations stop at the deadline (a
 * snippet scans the article's text, an explanation costs a match per query term): the hits
 * after it have neither, and *timed_out is set. */
struct json_writer;
struct snippet_terms;
int search_hits_write(struct json_writer *w, struct search_index *ix, xc_mset *ms,
                      const struct search_request *req, const struct snippet_terms *terms,
                      const xc_query *q, const xc_match_opts *opts, double deadline,
                      int *timed_out, struct search_error *err, int *modified);

/* How much the query as typed weighs beside its correction (correct.c): nothing, so the
 * correction's matches rank exactly as the correction alone ranks them, and articles
 * holding only the words as typed come after them all. */
#define CORRECT_TYPED_WEIGHT 0.0
/* A query finding this many articles as typed keeps its rare words (correct.c). */
#define CORRECT_FEW 10

/* Typo tolerance (correct.c): the "did you mean" suggestion for req->q in *suggestion
 * (malloc'd, or NULL), and, when req->fuzzy allows it and the query as typed needs it, the
 * text searched as its correction in *correction (malloc'd, or NULL) and that text parsed
 * in *corrected, for the caller to search as the query OR its correction. Returns 0, or -1
 * with err filled (*modified as above) and nothing to free. */
int search_correct(struct search_index *ix, const struct search_request *req, double deadline,
                   char **suggestion, char **correction, xc_query **corrected, int *timed_out,
                   struct search_error *err, int *modified);

/* Results are built with jansson, where every call can fail for want of memory (and a
 * string that is not UTF-8 is refused: text is made valid UTF-8 before it is indexed, so
 * that would be a bug). The first failure is remembered in *failed and the result is
 * refused whole (500), never sent with a field or a hit missing. The helpers take over v,
 * as jansson's _new calls do. */
static inline void jset(json_t *obj, const char *key, json_t *v, int *failed)
{
    if (json_object_set_new(obj, key, v) < 0)
        *failed = 1;
}

static inline void jappend(json_t *arr, json_t *v, int *failed)
{
    if (json_array_append_new(arr, v) < 0)
        *failed = 1;
}

/* Sets key to s in obj when s is non-empty. */
static inline void set_optional(json_t *obj, const char *key, const char *s, int *failed)
{
    if (s && *s)
        jset(obj, key, json_string(s), failed);
}

/* True when a search's deadline (0: none; see deadline_of in search.c) has passed. */
static inline int search_past(double deadline)
{
    return deadline > 0 && util_now_ms() >= deadline;
}

#endif
