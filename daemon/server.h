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

/* The strings are owned by the struct (settings.c: config_free frees them); the server's
 * copy in struct server borrows them from main's, which lives as long as the server. */
struct server_config {
    char *db;                /* index directory */
    char *listen;            /* "ADDR:PORT" for TCP, or NULL */
    char *socket_path;       /* Unix socket path, or NULL */
    unsigned socket_mode;    /* permissions of the Unix socket (default 0660) */
    char *socket_group;      /* group owning the Unix socket, or NULL */
    int threads;
    int quiet;               /* no per-request log lines */
    int access_json;         /* access log lines as JSON objects */
    double slow_ms;          /* log searches slower than this (0: off) */
    size_t max_body;         /* bytes of a POST body */
    size_t max_response;     /* bytes of a response body, at most (routes.c) */
    unsigned refresh_ms;     /* how often a worker checks for a new commit or generation */
    unsigned max_connections;   /* open connections (all workers); past it: 503 */
    unsigned header_timeout_ms; /* to send a complete request */
    unsigned idle_timeout_ms;   /* keep-alive without a request */
    unsigned body_min_rate;     /* bytes per second a body or a response must keep up */
    struct search_options search; /* shard timeout, partial results */
    char *admin_token;       /* bearer token for administrative endpoints, or NULL */
    long admin_uid;          /* a uid allowed them over the Unix socket, or -1 */
    unsigned search_timeout_ms; /* time budget of one search (0: none) */
};

#define SERVER_ADMIN_TOKEN_MIN 16
#define SERVER_ADMIN_TOKEN_MAX 256

struct server;
struct analytics;

/* What a reload did. */
struct reload_report {
    int config_rc;      /* 0: configuration re-read; -1: kept the old one (why) */
    char why[512];
    char changed[768];  /* settings that changed and now apply: "max_connections, ..." */
    char restart[256];  /* settings that changed but need a restart */
    int reopened;       /* workers known to have reopened their index */
};

struct worker {
    struct server *srv;
    int id;
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http;
    struct search_index *ix;
    struct event *refresh_ev;
    unsigned refresh_ms;      /* refresh_ev's period */
    struct event *stop_ev;
    struct event *reload_ev;
    struct metrics metrics; /* written by this worker only */
    struct conn_table *conns; /* conns.c */
    unsigned long reloaded;   /* the last reload round done (guarded by srv->reload_lock) */
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
    /* Who may use the administrative endpoints, replaced by every reload. Guarded by
     * admin_lock, which admin requests and reloads take, never the search path. */
    pthread_mutex_t admin_lock;
    char admin_token[SERVER_ADMIN_TOKEN_MAX + 1]; /* "" when none is configured */
    long admin_uid;                               /* -1 when none */
    /* Reloads (SIGHUP on the main thread, POST /admin/reload on a worker) one at a time:
     * reload_lock guards the round counter and each worker's `reloaded`. */
    pthread_mutex_t reload_lock;
    pthread_cond_t reload_done;
    unsigned long reload_round;
    /* Re-reads the configuration and publishes its live settings (main.c sets it; called
     * under reload_lock). Returns 0, or -1 with rep->why when the old settings are kept. */
    int (*reconfigure)(struct server *s, void *arg, struct reload_report *rep);
    void *reconfigure_arg;
    atomic_uint live_search_timeout_ms;
    atomic_size_t live_max_body;
    atomic_size_t live_max_response;
    atomic_uint live_refresh_ms;
    atomic_uint live_shard_timeout_ms;
    atomic_ulong live_split_postings;
    atomic_int live_allow_partial;
    /* What people search for (analytics.h): one table for every worker, behind its own
     * mutex, since start or the last POST /admin/queries/reset. */
    struct analytics *analytics;
};

/* Writes one line to stderr: "quired: MESSAGE", or with access_log = json the object
 * {"event": EVENT, "message": MESSAGE}, so that every line is one JSON object. */
void server_log(struct server *s, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes obj (stolen) to stderr as one line: the object itself with access_log = json,
 * else "quired: " and the object. */
void server_log_json(struct server *s, json_t *obj);
/* A JSON array of the names in a reload_report list ("a, b"): how the /admin/reload
 * answer and the reload's log line give them. NULL when out of memory. */
json_t *server_name_list(const char *list);
/* The access log: one line per answer of w (unless quiet), as text or, with
 * access_log = json, one JSON object (method, path, status, ms, worker). */
void server_log_request(struct worker *w, const char *method, const char *path, int status,
                        double ms);

/* Publishes the reloadable settings of cfg (everything but db, listen, socket, threads) to
 * the running workers: each takes them at its next reload event. */
void server_set_live(struct server *s, const struct server_config *cfg);

/* Binds the listeners and opens one index handle per worker; nothing runs yet.
 * Returns 0, or -1 after printing why to stderr. */
int server_init(struct server *s, const struct server_config *cfg);
/* Starts the worker threads. */
int server_start(struct server *s);
/* What SIGHUP and POST /admin/reload do: re-read the configuration (s->reconfigure) and
 * ask every worker to reopen its index. Thread-safe. self is the calling worker, or NULL
 * on the main thread; a worker reopens its own index before returning and waits (at most
 * wait_ms) until every other worker has reopened its own, so that the next request sees
 * the new index whichever worker takes it. rep says what changed (s->reconfigure) and how
 * many workers are known to have reopened. */
void server_reload(struct server *s, struct worker *self, unsigned wait_ms,
                   struct reload_report *rep);
/* 1 when token (len bytes) is the configured admin token. Takes the same time wherever the
 * two differ; 0 when no token is configured. */
int server_admin_token_ok(struct server *s, const char *token, size_t len);
/* 1 when an admin token is configured. */
int server_admin_has_token(struct server *s);
/* 1 when a Unix-socket peer with this uid may use administrative endpoints: the daemon's
 * own uid, root, or the configured admin_uid. */
int server_admin_uid_ok(struct server *s, unsigned long uid);
/* Stops accepting, lets in-flight requests finish, joins the workers. */
void server_stop(struct server *s);
/* Frees everything server_init made (after server_stop). */
void server_free(struct server *s);

#endif
