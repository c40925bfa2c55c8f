/*
 * conns.h -- every client connection of quired, from accept() to close: one cap on open
 * connections across all workers, a deadline for every step of every request, and a
 * quick, clean refusal past the cap.
 *
 * Each worker owns its listeners (evconnlistener on the shared listening sockets) and
 * accepts itself: a connection under the cap is handed to the worker's evhttp and tracked
 * until evhttp closes it; one over the cap gets a 503 JSON answer written at once and is
 * closed lingeringly, never served. The few libevent internals this needs are in evglue.c.
 *
 * Deadlines (all from conn_limits, changed by a reload for new steps and, after
 * conns_rearm, for connections already open):
 *   a request, from its first byte (the accept for a connection's first request) to its
 *   last: header_timeout_ms, plus 1 s per body_min_rate bytes of body received;
 *   its response, once queued: header_timeout_ms plus 1 s per body_min_rate bytes of it;
 *   the wait for the next request on a keep-alive connection: idle_timeout_ms.
 * A connection past its deadline is closed.
 *
 * Bodies over max_body are refused here, with the daemon's JSON 413 (evhttp's own is an
 * HTML page), and the connection closed lingeringly: a body of declared length before it
 * is read, a chunked one as soon as it passes max_body + CONNS_BODY_SLACK, framing counted.
 *
 * Every answer evhttp would give on its own (an HTML page: a request that does not parse,
 * an HTTP version past 1.x, a header over its limit, an unknown Expect, a method it does
 * not serve) is dropped unsent and answered here instead, with the daemon's JSON error and
 * the status that fits (400, 413, 417, 431, 501, 505), counted in /metrics under endpoint
 * "other" and written to the access log like any answer (conns_answer.c).
 */
#ifndef QUIRE_CONNS_H
#define QUIRE_CONNS_H

#include <stddef.h>

struct worker;

/* As many workers as a server has at most (SERVER_MAX_THREADS, checked in conns.c). */
#define CONNS_MAX_WORKERS 64
struct evhttp_request;

struct conn_limits {
    unsigned max_connections;   /* open connections, all workers; past it: 503 (0: no cap) */
    unsigned header_timeout_ms; /* to send one whole request (see above) */
    unsigned idle_timeout_ms;   /* keep-alive connection without a request */
    unsigned body_min_rate;     /* bytes per second a body or a response must keep up */
};

/* Connections being closed lingeringly (refused with a 503, or cut by evhttp after an error
 * answer mid-request) per worker, at most: past it the worker stops accepting until one of
 * them is closed. */
#define CONNS_REFUSING_MAX 32
/* How long a refused connection is kept open for the client to read the 503, at most. */
#define CONNS_LINGER_MS 1000
/* evhttp's limit on a request line, and on its header lines together (server.c): past it
 * evhttp gives up on the request, and quired answers 431 (conns_answer.c). */
#define CONNS_EVHTTP_MAX_HEADERS (128 * 1024)
/* Bytes of one request's header (request line included) before the connection is closed
 * with a 431 whatever evhttp does; evhttp's own limit comes first. */
#define CONNS_MAX_HEADER_BYTES (160 * 1024)

/* A chunked body is refused (413) past max_body plus this, its framing counted; evhttp's
 * own limit (server.c) is the same, on the body without its framing. */
#define CONNS_BODY_SLACK 4096

/* Sets the limits for every worker (any thread; connections already open take them at
 * their next step, or at once after conns_rearm). */
void conns_configure(const struct conn_limits *lim);
/* Sets up tracking for w (before its loop runs). Returns 0 or -1. */
int conns_init(struct worker *w);
/* Accepts on the listening socket fd (left open when the worker stops) for w. Returns 0,
 * or -1 after printing why. */
int conns_listen(struct worker *w, int fd);
/* Recomputes the deadline of every connection of w (w's thread: its reload event). */
void conns_rearm(struct worker *w);
/* Stops accepting (w's thread, before evhttp_free, which frees the listeners). */
void conns_stop(struct worker *w);
/* Frees w's tracking and closes its refused connections; after evhttp_free. */
void conns_free(struct worker *w);
/* A request of w is being dispatched (routes.c, before the handler). */
void conns_request(struct worker *w, struct evhttp_request *req);
/* Its response is queued (routes.c, after the handler): the response deadline starts. */
void conns_request_end(struct worker *w);

struct conns_stats {
    unsigned open;           /* connections being served now */
    unsigned high_water;     /* most open at once since start */
    unsigned closing;        /* refused, or answered with an error mid-request, and being
                              * closed lingeringly (at most CONNS_LINGER_MS) */
    unsigned max_connections;
    unsigned long accepted;  /* connections served since start */
    unsigned long refused;   /* connections refused with a 503 since start */
    unsigned long timed_out; /* connections closed at a deadline since start */
    int nworkers;
    unsigned worker_open[CONNS_MAX_WORKERS]; /* connections each worker serves now */
};
/* The counts of every worker of w's server. */
void conns_get_stats(struct worker *w, struct conns_stats *out);

#endif
