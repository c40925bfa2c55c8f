/*
 * analytics.h -- what people search for, in bounded memory: the most frequent queries and
 * the most frequent queries that found nothing, since start or the last reset.
 *
 * Each list is a top-k table of ANALYTICS_CAPACITY queries (the Space-Saving algorithm):
 * while the distinct queries fit the table every count is exact; past that, a new query
 * takes the place of the least counted one and inherits its count, so a count is an upper
 * bound off by at most that inherited part, and every query counted more often than
 * (queries seen / capacity) is in the table. Memory is fixed at start:
 * 2 x ANALYTICS_CAPACITY x (ANALYTICS_MAX_QUERY + 32) bytes, whatever the traffic.
 *
 * Queries are normalised before counting: Unicode lower-case, runs of white space made one
 * space, no space at either end; longer than ANALYTICS_MAX_QUERY bytes, they are cut at a
 * character boundary. One table serves every worker thread, behind a mutex held for a
 * lookup in an array of hashes (a few hundred nanoseconds).
 */
#ifndef QUIRE_ANALYTICS_H
#define QUIRE_ANALYTICS_H

#include <stddef.h>

#include <jansson.h>

#define ANALYTICS_CAPACITY 1024
#define ANALYTICS_MAX_QUERY 200

struct analytics;

/* A new, empty table pair; NULL when out of memory. */
struct analytics *analytics_new(void);
void analytics_free(struct analytics *a);
/* Counts one answered search for the query q (len bytes of UTF-8); zero_hits when it found
 * nothing. An empty query (after normalising) is not counted. Returns 0, or -1 when the
 * query could not be normalised for want of memory (nothing counted). */
int analytics_record(struct analytics *a, const char *q, size_t len, int zero_hits);
/* {"top": [{"q", "count"}], "zero_hits": [{"q", "count"}], "since": "2026-12-03T03:00:00Z",
 * "exact": true|false, "capacity": K, "searches": N} with at most limit queries a list,
 * most counted first (ties by query); NULL when out of memory. */
json_t *analytics_report(struct analytics *a, unsigned limit);
/* Forgets every count; "since" becomes now. */
void analytics_reset(struct analytics *a);
/* analytics_report and analytics_reset in one step, so that no search counted between the
 * two is lost: the report of the counts as they were, which are then forgotten. */
json_t *analytics_report_reset(struct analytics *a, unsigned limit);
/* Counts one search for q, the query as typed, answered with an estimated total (search_run's
 * "total"."estimated"), when it asked for the first page (offset 0: a later page of the same
 * query is not a new search). It found nothing when that total is 0. Returns like
 * analytics_record. */
int analytics_record_search(struct analytics *a, const char *q, unsigned offset,
                            unsigned long estimated);
/* The normalised form of q into out (size outlen > 0): what analytics_record counts.
 * Returns its length, or -1 when out of memory. */
long analytics_normalise(const char *q, size_t len, char *out, size_t outlen);

#endif
