/*
 * metrics.c -- counting and rendering quired's metrics (see metrics.h).
 */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "conns.h"
#include "dbdir.h"

/* Every status quired answers with (routes.c, conns.c); 0: any other. */
static const int statuses[METRICS_STATUSES] = {200, 400, 401, 403, 404, 405, 413, 417, 431, 500, 501, 503,
                                                505, 0};
static const char *endpoints[EP_COUNT] = {"search", "doc", "health", "metrics", "admin", "other"};
/* Latency bucket upper bounds in milliseconds. */
static const double bounds[METRICS_BUCKETS] = {0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000,
                                               5000};

/* Index of a status code in `statuses`; the last slot counts every other code. */
static int status_slot(int status)
{
    for (int i = 0; i < METRICS_STATUSES - 1; i++) {
        if (statuses[i] == status)
            return i;
    }
    return METRICS_STATUSES - 1;
}

void metrics_record(struct metrics *m, enum metrics_endpoint ep, int status, double ms)
{
    atomic_fetch_add_explicit(&m->requests[ep][status_slot(status)], 1, memory_order_relaxed);
    int b = 0;
    while (b < METRICS_BUCKETS && ms > bounds[b])
        b++;
    atomic_fetch_add_explicit(&m->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_us, (unsigned long)(ms * 1000),
                              memory_order_relaxed);
}

/* Sums one counter over all workers. */
#define SUM(field)                                                                         \
    ({                                                                                     \
        unsigned long s_ = 0;                                                              \
        for (int w_ = 0; w_ < n; w_++)                                                     \
            s_ += atomic_load_explicit(&all[w_]->field, memory_order_relaxed);             \
        s_;                                                                                \
    })

void metrics_render(struct strbuf *out, struct metrics *const *all, int n, unsigned docs,
                    unsigned long revision, const char *generation,
                    const struct conns_stats *conns)
{
    sb_puts(out, "# HELP quire_requests_total HTTP requests by endpoint and status.\n"
                 "# TYPE quire_requests_total counter\n");
    for (int e = 0; e < EP_COUNT; e++) {
        for (int s = 0; s < METRICS_STATUSES; s++) {
            unsigned long v = SUM(requests[e][s]);
            if (!v)
                continue;
            if (statuses[s])
                sb_printf(out, "quire_requests_total{endpoint=\"%s\",status=\"%d\"} %lu\n",
                          endpoints[e], statuses[s], v);
            else
                sb_printf(out, "quire_requests_total{endpoint=\"%s\",status=\"other\"} %lu\n",
                          endpoints[e], v);
        }
    }
    sb_puts(out, "# HELP quire_request_duration_seconds Time to answer a request.\n"
                 "# TYPE quire_request_duration_seconds histogram\n");
    unsigned long cum = 0;
    for (int b = 0; b <= METRICS_BUCKETS; b++) {
        cum += SUM(latency[b]);
        if (b < METRICS_BUCKETS)
            sb_printf(out, "quire_request_duration_seconds_bucket{le=\"%g\"} %lu\n",
                      bounds[b] / 1000.0, cum);
        else
            sb_printf(out, "quire_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
    }
    sb_printf(out, "quire_request_duration_seconds_sum %.6f\n",
              (double)SUM(latency_sum_us) / 1e6);
    sb_printf(out, "quire_request_duration_seconds_count %lu\n", cum);
    long inflight = 0;
    for (int w = 0; w < n; w++)
        inflight += atomic_load_explicit(&all[w]->inflight, memory_order_relaxed);
    sb_printf(out, "# HELP quire_requests_in_flight Requests being answered.\n"
                   "# TYPE quire_requests_in_flight gauge\nquire_requests_in_flight %ld\n",
              inflight);
    sb_printf(out, "# HELP quire_connections_open Client connections being served (all workers).\n"
                   "# TYPE quire_connections_open gauge\nquire_connections_open %u\n",
              conns->open);
    sb_puts(out, "# HELP quire_worker_connections Client connections each worker thread "
                 "serves (kept even: a worker accepts only while no other serves fewer).\n"
                 "# TYPE quire_worker_connections gauge\n");
    for (int w = 0; w < conns->nworkers; w++)
        sb_printf(out, "quire_worker_connections{worker=\"%d\"} %u\n", w, conns->worker_open[w]);
    sb_printf(out, "# HELP quire_connections_high_water Most connections served at once since "
                   "start.\n# TYPE quire_connections_high_water gauge\n"
                   "quire_connections_high_water %u\n", conns->high_water);
    sb_printf(out, "# HELP quire_connections_max The connection cap (0: none).\n"
                   "# TYPE quire_connections_max gauge\nquire_connections_max %u\n",
              conns->max_connections);
    sb_printf(out, "# HELP quire_connections_closing Connections answered and being closed "
                   "(refused past the cap, or after an error answer mid-request): read until "
                   "the client closes, at most 1 s.\n# TYPE quire_connections_closing gauge\n"
                   "quire_connections_closing %u\n", conns->closing);
    sb_printf(out, "# HELP quire_connections_accepted_total Connections served.\n"
                   "# TYPE quire_connections_accepted_total counter\n"
                   "quire_connections_accepted_total %lu\n", conns->accepted);
    sb_printf(out, "# HELP quire_connections_refused_total Connections past the cap, answered "
                   "503 and closed.\n# TYPE quire_connections_refused_total counter\n"
                   "quire_connections_refused_total %lu\n", conns->refused);
    sb_printf(out, "# HELP quire_connections_timed_out_total Connections closed at a deadline "
                   "(header, body, response or idle timeout) or over the header size.\n"
                   "# TYPE quire_connections_timed_out_total counter\n"
                   "quire_connections_timed_out_total %lu\n", conns->timed_out);
    sb_printf(out, "# HELP quire_documents Documents in the index.\n"
                   "# TYPE quire_documents gauge\nquire_documents %u\n", docs);
    sb_printf(out, "# HELP quire_index_revision Revision of the index being served.\n"
                   "# TYPE quire_index_revision gauge\nquire_index_revision %lu\n", revision);
    unsigned gen = 0; /* 0 when the index has no generation (a plain or sharded database) */
    if (!generation || dbdir_generation_number(generation, &gen) < 0)
        gen = 0;
    sb_printf(out, "# HELP quire_index_generation Generation of the index being served.\n"
                   "# TYPE quire_index_generation gauge\nquire_index_generation %u\n", gen);
    sb_printf(out, "# HELP quire_index_reopens_total Times a worker picked up a new commit or "
                   "generation.\n# TYPE quire_index_reopens_total counter\n"
                   "quire_index_reopens_total %lu\n", SUM(reopens));
    sb_printf(out, "# HELP quire_errors_total Failed index reopens.\n"
                   "# TYPE quire_errors_total counter\nquire_errors_total %lu\n",
              SUM(reopen_errors));
    sb_printf(out, "# HELP quire_slow_queries_total Searches slower than --slow-ms.\n"
                   "# TYPE quire_slow_queries_total counter\nquire_slow_queries_total %lu\n",
              SUM(slow_queries));
    sb_printf(out,
              "# HELP quire_search_timeouts_total Searches cut short by --search-timeout-ms.\n"
              "# TYPE quire_search_timeouts_total counter\nquire_search_timeouts_total %lu\n",
              SUM(timeouts));
}
