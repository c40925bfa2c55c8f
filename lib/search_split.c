/*
 * search_split.c -- which matches run as two halves side by side (xc_match_opts.split_twin):
 * the heavy ones, while a core is idle.
 *
 * A match runs on one core. A search of common words over a large index ("role of the
 * single" at 10^6 articles: 10 to 20 ms) makes its client wait while the machine's other
 * core may have nothing to do; split over two halves of the docid range, each half walks
 * half the postings and the answer is the same (xc_split.cc says why). Two things decide:
 *
 *   - the work: the query's terms index at least search_options.split_postings postings
 *     in all. A split costs a thread and a second set-up of the match, some tens of
 *     microseconds, which a match of a few thousand postings would not win back;
 *   - an idle core: the searches running in this process (a split match counts as one
 *     more) leave one free, and none has had company for SPLIT_QUIET_MS. Under load every
 *     core already has a search of its own, and splitting would only add the overhead. A
 *     whole search counts, not its match alone: a worker writing its answer, or looking
 *     up spellings, holds its core too. And a load of several clients leaves a worker idle
 *     for moments between their requests, moments shorter than a heavy match: a split
 *     begun in one finds the other worker busy again, and three threads share two cores.
 *     At 300,000 articles under wrk at 4 connections, splitting whenever the count alone
 *     allowed it cost 5% of the queries per second.
 *
 * The second half runs on the view's twin: a second handle on the database (a handle is
 * not for two threads), opened the first time a split is wanted and moved to the view's
 * revision before each split; while it cannot be (the view lags behind a commit that the
 * twin already sees, until the view's next refresh), matches run whole.
 */
#include <stdatomic.h>
#include <unistd.h>

#include "search_int.h"

/* Searches running in this process, and the second halves of split matches. */
static atomic_int running;
/* When (util_now_ms) a search last started beside another; a split waits for this long
 * without one. */
static _Atomic double last_company_ms = -1e9;
#define SPLIT_QUIET_MS 100.0

/* The cores of the machine; at least 1. */
static unsigned cores(void)
{
    static atomic_uint known;
    unsigned n = atomic_load_explicit(&known, memory_order_relaxed);
    if (n == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (unsigned)c : 1;
        atomic_store_explicit(&known, n, memory_order_relaxed);
    }
    return n;
}

struct postings {
    struct search_index *ix;
    unsigned long n;
    int failed;
};

static void add_postings(const char *term, size_t len, void *ctx)
{
    (void)len;
    struct postings *p = ctx;
    xc_error *xe = NULL;
    p->n += search_termfreq(p->ix, term, &xe);
    if (xe) {
        p->failed = 1;
        xc_error_free(xe);
    }
}

/* The view's twin at the view's revision, or NULL. */
static xc_db *twin_at_view(struct search_index *ix)
{
    if (!ix->twin) {
        ix->twin = xc_db_open(ix->path, NULL);
        if (!ix->twin)
            return NULL;
    }
    if (!xc_db_same(ix->db, ix->twin))
        xc_db_reopen(ix->twin, NULL);
    return xc_db_same(ix->db, ix->twin) ? ix->twin : NULL;
}

void search_busy(int delta)
{
    if (atomic_fetch_add(&running, delta) > 0 && delta > 0)
        atomic_store_explicit(&last_company_ms, util_now_ms(), memory_order_relaxed);
}

int search_split_begin(struct search_index *ix, const xc_query *q, xc_match_opts *opts)
{
    unsigned long min = ix->opts.split_postings;
    if (min == 0 || ix->shards || ix->has_remote || !ix->db || !xc_match_can_split(opts))
        return 0;
    /* This search is among the running (search_busy): the second half needs one more. */
    int busy = atomic_load(&running);
    if (!ix->opts.split_busy &&
        (busy + 1 > (int)cores() ||
         util_now_ms() - atomic_load_explicit(&last_company_ms, memory_order_relaxed) <
             SPLIT_QUIET_MS))
        return 0;
    struct postings p = {ix, 0, 0};
    if (xc_query_terms(q, add_postings, &p) < 0 || p.failed || p.n < min)
        return 0;
    xc_db *twin = twin_at_view(ix);
    if (!twin)
        return 0;
    opts->split_twin = twin;
    atomic_fetch_add(&running, 1);
    ix->splits++;
    return 1;
}

void search_split_end(int split)
{
    if (split)
        atomic_fetch_sub(&running, 1);
}
