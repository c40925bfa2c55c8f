/*
 * conns.h -- per-worker connection tracking: a cap on open connections, idle and header
 * timeouts, and backing off when accept() runs out of file descriptors.
 *
 * libevent 2.1's evhttp has none of these and does not say when it closes a connection;
 * conns.c keeps a reference to each connection's bufferevent and sweeps (see there).
 */
#ifndef QUIRE_CONNS_H
#define QUIRE_CONNS_H

#include <stddef.h>

struct worker;
struct evhttp_request;
struct event_base;

struct conn_limits {
    unsigned max_connections;  /* per worker; past it requests get a 503 (0: no cap) */
    unsigned header_timeout_ms; /* time to complete the first request / each next one */
    unsigned idle_timeout_ms;   /* keep-alive connection without a request */
};

/* Sets up tracking for w (the bevcb, the sweep timer, the accept error backoff on every
 * listener of w->http). Returns 0 or -1. */
int conns_init(struct worker *w, const struct conn_limits *lim);
/* Registers one of w's listeners for the accept-error backoff. */
struct evhttp_bound_socket;
void conns_watch_listener(struct worker *w, struct evhttp_bound_socket *bound);
/* Frees w's tracking; call after evhttp_free (which closes every connection). */
void conns_free(struct worker *w);
/* Called at the start of each request: marks its connection active. Returns 1 when the
 * worker is over its connection cap and the request should get a 503. */
int conns_request(struct worker *w, struct evhttp_request *req);
/* Open connections of w. */
unsigned conns_open(const struct worker *w);

#endif
