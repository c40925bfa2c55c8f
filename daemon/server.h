/*
 * server.h -- quired's threads and event loops.
 *
 * Modelled on memcached's thread design: N worker threads, each with its own event_base,
 * its own evhttp and its own read-only index handle, so the query path takes no locks.
 * The listening sockets are shared (each worker accepts on its own dup of the fd). The
 * main thread owns the signals.
 */
#ifndef QUIRE_SERVER_H
#define QUIRE_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "metrics.h"
#include "search.h"

#define SERVER_MAX_THREADS 64
#define SERVER_MAX_LISTENERS 8

struct server_config {
    const char *db;          /* index directory */
    const char *listen;      /* "ADDR:PORT" for TCP, or NULL */
    const char *socket_path; /* Unix socket path, or NULL */
    unsigned socket_mode;    /* permissions of the Unix socket (default 0660) */
    const char *socket_group; /* group owning the Unix socket, or NULL */
    int threads;
    int quiet;               /* no per-request log lines */
    int access_json;         /* access log lines as JSON objects */
    double slow_ms;          /* log searches slower than this (0: off) */
    size_t max_body;         /* bytes of a POST body */
    unsigned refresh_ms;     /* how often a worker checks for a new commit or generation */
    unsigned max_connections;   /* open connections (all workers); past it: 503 */
    unsigned header_timeout_ms; /* to send a complete request */
    unsigned idle_timeout_ms;   /* keep-alive without a request */
    unsigned search_timeout_ms; /* time budget of one search (0: none) */
};

struct server;

struct worker {
    struct server *srv;
    int id;
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http;
    struct search_index *ix;
    struct event *refresh_ev;
    struct event *stop_ev;
    struct event *reload_ev;
    struct metrics metrics; /* written by this worker only */
    struct conn_table *conns; /* conns.c */
};

struct server {
    struct server_config cfg;
    struct worker workers[SERVER_MAX_THREADS];
    int nworkers;
    int fds[SERVER_MAX_LISTENERS]; /* listening sockets, owned by the server */
    int nfds;
    int tcp_port; /* the port actually bound (when the config asked for port 0) */
    atomic_int stopping;
    /* Settings SIGHUP may change while workers run (read per request). */
    atomic_int live_quiet;
    atomic_int live_access_json;
    atomic_long live_slow_us;
    atomic_uint live_search_timeout_ms;
};

/* Publishes the reloadable settings of cfg to the running workers. */
void server_set_live(struct server *s, const struct server_config *cfg);

/* Binds the listeners and opens one index handle per worker; nothing runs yet.
 * Returns 0, or -1 after printing why to stderr. */
int server_init(struct server *s, const struct server_config *cfg);
/* Starts the worker threads. */
int server_start(struct server *s);
/* Asks every worker to reopen its index now (SIGHUP). Thread-safe. */
void server_reload(struct server *s);
/* Stops accepting, lets in-flight requests finish, joins the workers. */
void server_stop(struct server *s);
/* Frees everything server_init made (after server_stop). */
void server_free(struct server *s);

#endif
