/*
 * analytics.c -- top-k tables of queries (see analytics.h for the guarantees).
 *
 * Space-Saving (Metwally, Agrawal and El Abbadi, 2005) over a fixed array: a query is
 * found by comparing 64-bit hashes, then the text (an array of 1024 hashes is 8 KB, a
 * linear scan of it is cheaper than the request it counts); when the table is full the
 * entry with the smallest count is replaced and the newcomer starts from that count plus
 * one. The table is exact as long as nothing was replaced.
 */
#include "analytics.h"

#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "xapian-c/xc.h"

struct entry {
    uint64_t count;
    uint64_t error; /* the part of count inherited from the entry it replaced */
    char q[ANALYTICS_MAX_QUERY + 1];
};

struct table {
    unsigned used;
    int replaced; /* an entry was replaced since the last reset: counts are bounds */
    uint64_t hash[ANALYTICS_CAPACITY];
    struct entry e[ANALYTICS_CAPACITY];
};

struct analytics {
    pthread_mutex_t lock;
    time_t since;
    uint64_t searches;
    struct table top;
    struct table zero;
};

struct analytics *analytics_new(void)
{
    struct analytics *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    pthread_mutex_init(&a->lock, NULL);
    a->since = time(NULL);
    return a;
}

void analytics_free(struct analytics *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/* Bytes in the UTF-8 character whose lead byte is b (1 for a stray byte). */
static size_t utf8_len(unsigned char b)
{
    return b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
}

long analytics_normalise(const char *q, size_t len, char *out, size_t outlen)
{
    assert(outlen > 0);
    size_t lowlen = 0;
    char *low = xc_utf8_lower(q, len, &lowlen, NULL);
    if (!low)
        return -1;
    size_t n = 0;
    int space = 0;
    for (size_t i = 0; i < lowlen;) {
        unsigned char c = (unsigned char)low[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = n > 0;
            i++;
            continue;
        }
        size_t clen = utf8_len(c);
        if (clen > lowlen - i)
            clen = lowlen - i;
        /* Whole characters only: a cut query ends on a character boundary. */
        if (n + space + clen >= outlen)
            break;
        if (space)
            out[n++] = ' ';
        space = 0;
        memcpy(out + n, low + i, clen);
        n += clen;
        i += clen;
    }
    out[n] = '\0';
    free(low);
    return (long)n;
}

/* Counts q (normalised, NUL-terminated, n bytes) in t. */
static void table_count(struct table *t, const char *q, size_t n)
{
    uint64_t h = util_hash64(q, n);
    for (unsigned i = 0; i < t->used; i++) {
        if (t->hash[i] == h && !strcmp(t->e[i].q, q)) {
            t->e[i].count++;
            return;
        }
    }
    unsigned slot;
    uint64_t base = 0;
    if (t->used < ANALYTICS_CAPACITY) {
        slot = t->used++;
    } else {
        slot = 0;
        for (unsigned i = 1; i < t->used; i++) {
            if (t->e[i].count < t->e[slot].count)
                slot = i;
        }
        base = t->e[slot].count;
        t->replaced = 1;
    }
    t->hash[slot] = h;
    t->e[slot].count = base + 1;
    t->e[slot].error = base;
    memcpy(t->e[slot].q, q, n + 1);
}

int analytics_record(struct analytics *a, const char *q, size_t len, int zero_hits)
{
    char norm[ANALYTICS_MAX_QUERY + 1];
    long n = analytics_normalise(q, len, norm, sizeof norm);
    if (n < 0)
        return -1;
    if (n == 0)
        return 0;
    pthread_mutex_lock(&a->lock);
    a->searches++;
    table_count(&a->top, norm, (size_t)n);
    if (zero_hits)
        table_count(&a->zero, norm, (size_t)n);
    pthread_mutex_unlock(&a->lock);
    return 0;
}

/* Orders entries by count, most first, then by query. */
static int by_count(const void *x, const void *y)
{
    const struct entry *a = *(const struct entry *const *)x;
    const struct entry *b = *(const struct entry *const *)y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->q, b->q);
}

/* The first limit entries of t, most counted first, as [{"q", "count"}] (with
 * "count_min" when the count is a bound); NULL when out of memory. */
static json_t *table_json(const struct table *t, unsigned limit)
{
    const struct entry *order[ANALYTICS_CAPACITY];
    for (unsigned i = 0; i < t->used; i++)
        order[i] = &t->e[i];
    qsort(order, t->used, sizeof order[0], by_count);
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (unsigned i = 0; i < t->used && i < limit; i++) {
        json_t *o = json_pack("{s:s, s:I}", "q", order[i]->q, "count",
                              (json_int_t)order[i]->count);
        if (o && t->replaced &&
            json_object_set_new(o, "count_min",
                                json_integer((json_int_t)(order[i]->count - order[i]->error))) < 0) {
            json_decref(o);
            o = NULL;
        }
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Forgets every count (called with the lock held); "since" becomes now. */
static void clear(struct analytics *a)
{
    a->since = time(NULL);
    a->searches = 0;
    a->top.used = a->zero.used = 0;
    a->top.replaced = a->zero.replaced = 0;
}

/* The report of a copy of the tables taken under the lock (formatted outside it); with
 * reset, the tables are emptied under the same lock. NULL when out of memory (then nothing
 * is reset). */
static json_t *report(struct analytics *a, unsigned limit, int reset)
{
    struct analytics *snap = malloc(sizeof *snap);
    if (!snap)
        return NULL;
    pthread_mutex_lock(&a->lock);
    snap->since = a->since;
    snap->searches = a->searches;
    snap->top = a->top;
    snap->zero = a->zero;
    if (reset)
        clear(a);
    pthread_mutex_unlock(&a->lock);
    char since[32];
    struct tm tm;
    gmtime_r(&snap->since, &tm);
    strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *top = table_json(&snap->top, limit);
    json_t *zero = table_json(&snap->zero, limit);
    json_t *res = NULL;
    if (top && zero)
        res = json_pack("{s:o, s:o, s:s, s:b, s:i, s:I}", "top", top, "zero_hits", zero,
                        "since", since, "exact", !snap->top.replaced && !snap->zero.replaced,
                        "capacity", ANALYTICS_CAPACITY, "searches", (json_int_t)snap->searches);
    else {
        json_decref(top);
        json_decref(zero);
    }
    free(snap);
    return res;
}

json_t *analytics_report(struct analytics *a, unsigned limit)
{
    return report(a, limit, 0);
}

json_t *analytics_report_reset(struct analytics *a, unsigned limit)
{
    return report(a, limit, 1);
}

int analytics_record_search(struct analytics *a, const char *q, unsigned offset,
                            unsigned long estimated)
{
    if (offset > 0 || !q)
        return 0;
    return analytics_record(a, q, strlen(q), estimated == 0);
}

void analytics_reset(struct analytics *a)
{
    pthread_mutex_lock(&a->lock);
    clear(a);
    pthread_mutex_unlock(&a->lock);
}
