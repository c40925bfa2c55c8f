/*
 * metrics.h -- quired's counters, exported at GET /metrics in Prometheus text format.
 *
 * Each worker owns one `struct metrics` and is its only writer, so counting takes no lock
 * and shares no cache line with other workers; /metrics sums all workers' structs (relaxed
 * atomic reads: a scrape may be a request or two behind, never torn).
 */
#ifndef QUIRE_METRICS_H
#define QUIRE_METRICS_H

#include <stdatomic.h>

#include "util.h"

enum metrics_endpoint { EP_SEARCH, EP_DOC, EP_HEALTH, EP_METRICS, EP_ADMIN, EP_OTHER, EP_COUNT };
/* Statuses counted by name (metrics.c); any other lands in status="other". */
enum { METRICS_STATUSES = 14, METRICS_BUCKETS = 12 };

struct metrics {
    atomic_ulong requests[EP_COUNT][METRICS_STATUSES];
    atomic_ulong latency[METRICS_BUCKETS + 1]; /* +1: the +Inf bucket */
    atomic_ulong latency_sum_us;
    atomic_long inflight;
    atomic_ulong reopens;
    atomic_ulong reopen_errors;
    atomic_ulong slow_queries;
    atomic_ulong timeouts; /* searches cut short by --search-timeout-ms */
};

/* Counts one finished request. */
void metrics_record(struct metrics *m, enum metrics_endpoint ep, int status, double ms);
struct conns_stats;
/* Appends the Prometheus text for n workers' metrics plus the gauges given. */
void metrics_render(struct strbuf *out, struct metrics *const *all, int n, unsigned docs,
                    unsigned long revision, const char *generation,
                    const struct conns_stats *conns);

#endif
