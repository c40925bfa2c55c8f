/*
 * index.h -- one reader's view of an index directory (index.c): opening it (generations,
 * shards local and remote), refreshing it between requests, and its health. Part of the
 * search API (search.h).
 *
 * A `struct search_index` is not thread-safe, so the daemon gives every worker thread its
 * own.
 */
#ifndef QUIRE_INDEX_H
#define QUIRE_INDEX_H

#include <jansson.h>

#include "search_error.h"

struct search_index;

/* How an index is served; search_options_init() gives the defaults. */
struct search_options {
    unsigned shard_timeout_ms; /* remote shards: connect and per-read timeout */
    int allow_partial;         /* with a shard down, answer from the others (marked
                                * "shards": {"failed": K}) unless a request says no */
    /* A match whose query's terms index at least this many postings in all runs as two
     * halves of the index side by side while a core is idle (search_split.c); 0: never.
     * The answer is the same either way. */
    unsigned long split_postings;
    int split_busy; /* split even when no core is idle (tests) */
};
#define SEARCH_SPLIT_POSTINGS 100000
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
/* Replaces ix's options (a reload): allow_partial applies to the next search, the shard
 * timeout to every shard connection opened from now on (a shard is reconnected when it
 * fails or the index is reopened). */
void search_index_set_options(struct search_index *ix, const struct search_options *o);
/* Picks up new commits and swapped generations. Cheap; call between requests.
 * Returns 1 when the view changed, 0 when not, -1 on error (the old view stays). */
int search_index_refresh(struct search_index *ix, struct search_error *err);
unsigned search_index_doccount(struct search_index *ix);
/* The matches of ix that ran split in two halves (search_options.split_postings). */
unsigned long search_index_splits(const struct search_index *ix);
unsigned long search_index_revision(struct search_index *ix);
/* The generation being served ("gen-000003"), or "" for a plain database. Borrowed until
 * the next refresh. */
const char *search_index_generation(struct search_index *ix);
/* When the index was last committed to ("2026-11-22T23:59:00Z"), or "". Borrowed until
 * the next call. */
const char *search_index_updated(struct search_index *ix);

/* {"status": "ok", "docs": N, "revision": R, "generation": ..., "updated": ...}, or NULL
 * with err filled (503) when the index cannot be read. A sharded index adds "shards"
 * (search_shards) and its status is "degraded" while a shard is down, "unavailable" while
 * all are. */
json_t *search_health(struct search_index *ix, struct search_error *err);
/* For a sharded index, one object per shard: {"name", "remote", "state": "up"|"down",
 * "docs", "failures", "error"}; NULL for an index of one database. */
json_t *search_shards(struct search_index *ix);

#endif
