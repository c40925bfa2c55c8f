/*
 * termfreq.c -- a worker's term frequencies, remembered for its index's current revision.
 *
 * Every search asks how many articles hold each of its words (suggest.c: a word in few is
 * checked for a better spelling). Asked of the index, each costs a walk down the postlist
 * table, about a block read (pread) per word: on wikipedia-en title queries 4.7 of the
 * request's 22 reads. The words of a collection's queries repeat, and a frequency changes
 * only with the revision, so each worker keeps the answers it got at the revision it
 * reads, and forgets them all when the revision moves. Exact: a term is compared in full,
 * not by its hash alone. Bounded: TERMFREQ_MAX_TERMS terms, TERMFREQ_MAX_BYTES of them;
 * past either, the cache starts over.
 *
 * A sharded index is asked directly: its parts move on their own and have no one revision.
 */
#include <assert.h>
#include <string.h>

#include "search_int.h"

#define TERMFREQ_MAX_TERMS 65536
#define TERMFREQ_MAX_BYTES (4u << 20)

static void forget_terms(struct termfreq_cache *c)
{
    hashmap_free(&c->map);
    sb_free(&c->terms);
    sb_init(&c->terms);
}

void termfreq_cache_clear(struct termfreq_cache *c)
{
    forget_terms(c);
    c->rev = 0;
}

unsigned search_termfreq(struct search_index *ix, const char *term, xc_error **xe)
{
    struct termfreq_cache *c = &ix->termfreqs;
    unsigned long rev = ix->shards ? 0 : xc_db_revision(ix->db);
    if (rev == 0) /* sharded, or the revision cannot be read */
        return xc_db_termfreq(ix->db, term, xe);
    if (rev != c->rev) {
        forget_terms(c);
        c->rev = rev;
    }
    size_t len = strlen(term);
    uint64_t key = util_hash64(term, len), held;
    if (hashmap_get(&c->map, key, &held)) {
        size_t at = (size_t)(held >> 32);
        assert(at < c->terms.len);
        if (strcmp(c->terms.buf + at, term) == 0)
            return (unsigned)held;
        return xc_db_termfreq(ix->db, term, xe); /* another term with this hash */
    }
    unsigned tf = xc_db_termfreq(ix->db, term, xe);
    if (*xe)
        return 0;
    if (c->map.n >= TERMFREQ_MAX_TERMS || c->terms.len + len + 1 > TERMFREQ_MAX_BYTES)
        forget_terms(c);
    size_t at = c->terms.len;
    sb_append(&c->terms, term, len + 1); /* with its NUL */
    if (c->terms.failed || hashmap_put(&c->map, key, (uint64_t)at << 32 | tf) < 0)
        forget_terms(c); /* out of memory: nothing remembered, the answer stands */
    return tf;
}
