/*
 * conns.c -- connection tracking for quired's workers (see conns.h).
 */
#include "conns.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "server.h"
#include "util.h"

struct conn {
    struct conn *prev, *next;
    struct conn_table *table;
    struct bufferevent *bev; /* the connection's bufferevent (we hold a reference) */
    double opened_ms, active_ms; /* accepted; last request started */
    unsigned requests;
    int over_cap; /* accepted past the cap: its requests get a 503 */
    int watched;  /* evhttp tells conn_closed when it frees the connection */
    int pending;  /* conn_watch_later is yet to run: the sweep leaves c alone */
};

/* Per-worker state: a doubly linked list of connections (the sweep walks it) and an
 * open-addressing index from bufferevent to connection (a request finds its own). */
struct conn_table {
    struct worker *w;
    struct conn_limits lim;
    struct conn *head;
    atomic_uint count; /* written by the worker, read by /metrics on any worker */
    struct conn **slots;
    size_t cap;
    struct event *sweep;
    struct event *resume; /* re-enables the listeners after an accept error */
    struct evconnlistener *listeners[SERVER_MAX_LISTENERS];
    int nlisteners;
};

static size_t slot_of(const struct conn_table *t, const void *bev)
{
    uintptr_t h = (uintptr_t)bev;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 7) & (t->cap - 1);
}

static struct conn *lookup(const struct conn_table *t, const struct bufferevent *bev)
{
    if (!t->cap)
        return NULL;
    for (size_t i = slot_of(t, bev);; i = (i + 1) & (t->cap - 1)) {
        struct conn *c = t->slots[i];
        if (!c)
            return NULL;
        if (c->bev == bev)
            return c;
    }
}

/* Rebuilds the index with capacity cap (a power of two above twice the count). */
static int rehash(struct conn_table *t, size_t cap)
{
    struct conn **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    for (struct conn *c = t->head; c; c = c->next) {
        size_t i = slot_of(t, c->bev);
        while (t->slots[i])
            i = (i + 1) & (cap - 1);
        t->slots[i] = c;
    }
    return 0;
}

/* Removes c from the index (linear probing: later entries of its cluster shift back). */
static void index_remove(struct conn_table *t, struct conn *c)
{
    if (!t->cap)
        return;
    size_t mask = t->cap - 1, i = slot_of(t, c->bev);
    while (t->slots[i] != c) {
        if (!t->slots[i])
            return;
        i = (i + 1) & mask;
    }
    t->slots[i] = NULL;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t k = slot_of(t, t->slots[j]->bev);
        /* Move the entry back unless its home slot lies cyclically in (i, j]. */
        int stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (!stays) {
            t->slots[i] = t->slots[j];
            t->slots[j] = NULL;
            i = j;
        }
    }
}

/* True while evhttp still owns the connection: evhttp keeps its event callback set in
 * every state and bufferevent_free clears it. */
static int conn_alive(const struct conn *c)
{
    bufferevent_data_cb r, w;
    bufferevent_event_cb e;
    void *arg;
    bufferevent_getcb(c->bev, &r, &w, &e, &arg);
    return e != NULL;
}

/* Forgets a connection evhttp has closed, dropping our reference to its bufferevent. */
static void conn_reap(struct conn_table *t, struct conn *c)
{
    index_remove(t, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        t->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    t->count--;
    bufferevent_decref(c->bev);
    free(c);
}

/* evhttp is freeing c's connection (called before it closes the socket). Our reference
 * keeps the bufferevent, and with it its read and write events, alive after evhttp lets
 * go; left enabled, they would stay registered on a descriptor number that the next
 * accepted connection may get, and libevent, counting them, would never tell epoll about
 * the new connection: it would go unanswered. So they are turned off here, while the
 * socket is still open, and c is forgotten. */
static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    struct conn *c = arg;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    if (!c->pending) /* else conn_watch_later reaps it */
        conn_reap(c->table, c);
}

/* Asks evhttp to call conn_closed when it frees c's connection. The connection is the
 * argument evhttp gives its bufferevent callbacks. */
static void conn_watch(struct conn *c)
{
    if (c->watched || !conn_alive(c))
        return;
    bufferevent_data_cb r, w;
    bufferevent_event_cb e;
    void *evcon = NULL;
    bufferevent_getcb(c->bev, &r, &w, &e, &evcon);
    if (!evcon)
        return;
    evhttp_connection_set_closecb(evcon, conn_closed, c);
    c->watched = 1;
}

/* Runs once, right after evhttp has set up a new connection (it has no evhttp_connection
 * yet when it asks conn_new for the bufferevent). */
static void conn_watch_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    c->pending = 0;
    if (conn_alive(c))
        conn_watch(c);
    else
        conn_reap(c->table, c);
}

/* bevcb: makes the bufferevent evhttp will use for a new connection. Like evhttp's own,
 * it does not close the fd (evhttp does). We hold a reference, so after evhttp frees it
 * the bufferevent stays readable until the sweep sees it was released and reaps it. */
static struct bufferevent *conn_new(struct event_base *base, void *arg)
{
    struct conn_table *t = arg;
    unsigned cap = t->lim.max_connections;
    /* Far past the cap, refuse outright (evhttp closes the socket). */
    if (cap && t->count >= cap * 2)
        return NULL;
    struct conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev = c ? bufferevent_socket_new(base, -1, 0) : NULL;
    if (!bev) {
        free(c);
        return NULL;
    }
    bufferevent_incref(bev);
    c->table = t;
    c->bev = bev;
    c->opened_ms = c->active_ms = util_now_ms();
    c->over_cap = cap && t->count >= cap;
    c->next = t->head;
    if (t->head)
        t->head->prev = c;
    t->head = c;
    t->count++;
    struct timeval now = {0, 0};
    if (event_base_once(base, -1, EV_TIMEOUT, conn_watch_later, c, &now) == 0)
        c->pending = 1;
    if ((t->count + 1) * 2 > t->cap) {
        /* The rebuilt index takes every listed connection, c included (or, if memory
         * ran out, c stays unindexed: still counted, swept and reaped). Inserting c
         * again here would leave a second entry behind when it is reaped. */
        rehash(t, t->cap ? t->cap * 2 : 256);
        return bev;
    }
    size_t i = slot_of(t, bev);
    while (t->slots[i])
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = c;
    return bev;
}



/* Timer: closes connections past their header or idle timeout. */
static void sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn_table *t = arg;
    double now = util_now_ms();
    struct conn *next;
    for (struct conn *c = t->head; c; c = next) {
        next = c->next;
        if (!conn_alive(c)) {
            if (!c->pending)
                conn_reap(t, c);
            continue;
        }
        double limit = c->requests == 0 ? t->lim.header_timeout_ms : t->lim.idle_timeout_ms;
        if (now - c->active_ms < limit)
            continue;
        /* Alive, so the fd is still evhttp's: shutting it down makes evhttp see a closed
         * connection and free it; we never free under its feet. */
        evutil_socket_t sock = bufferevent_getfd(c->bev);
        if (sock >= 0)
            shutdown(sock, SHUT_RDWR);
        c->active_ms = now + 1e9; /* once */
    }
}

/* Every worker's table, to find a listener's owner from the error callback (whose user
 * data belongs to evhttp). Written before the workers start, read-only afterwards. */
static struct conn_table *tables[SERVER_MAX_THREADS];
static int ntables;

/* Listener error (EMFILE, ENFILE, ENOBUFS...): stop accepting for a moment instead of
 * spinning on a socket that stays readable. */
static void accept_error(struct evconnlistener *lev, void *arg)
{
    (void)arg;
    int err = EVUTIL_SOCKET_ERROR();
    struct conn_table *t = NULL;
    for (int k = 0; k < ntables && !t; k++) {
        for (int i = 0; i < tables[k]->nlisteners; i++) {
            if (tables[k]->listeners[i] == lev)
                t = tables[k];
        }
    }
    if (!t) {
        evconnlistener_disable(lev);
        return;
    }
    if (!atomic_load_explicit(&t->w->srv->live_quiet, memory_order_relaxed))
        fprintf(stderr, "quired: worker %d: accept failed (%s); pausing accepts for 100 ms\n",
                t->w->id, evutil_socket_error_to_string(err));
    for (int i = 0; i < t->nlisteners; i++)
        evconnlistener_disable(t->listeners[i]);
    struct timeval tv = {0, 100 * 1000};
    event_add(t->resume, &tv);
}

static void accept_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn_table *t = arg;
    for (int i = 0; i < t->nlisteners; i++)
        evconnlistener_enable(t->listeners[i]);
}

int conns_init(struct worker *w, const struct conn_limits *lim)
{
    struct conn_table *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->w = w;
    t->lim = *lim;
    w->conns = t;
    if (ntables < SERVER_MAX_THREADS)
        tables[ntables++] = t;
    evhttp_set_bevcb(w->http, conn_new, t);
    t->sweep = event_new(w->base, -1, EV_PERSIST, sweep, t);
    t->resume = event_new(w->base, -1, 0, accept_resume, t);
    struct timeval tv = {0, 250 * 1000};
    if (!t->sweep || !t->resume || event_add(t->sweep, &tv) < 0)
        return -1;
    return 0;
}

/* Registers a listener for the accept-error backoff. */
void conns_watch_listener(struct worker *w, struct evhttp_bound_socket *bound)
{
    struct conn_table *t = w->conns;
    if (!t || !bound || t->nlisteners >= SERVER_MAX_LISTENERS)
        return;
    struct evconnlistener *lev = evhttp_bound_socket_get_listener(bound);
    evconnlistener_set_error_cb(lev, accept_error);
    t->listeners[t->nlisteners++] = lev;
}

void conns_free(struct worker *w)
{
    struct conn_table *t = w->conns;
    if (!t)
        return;
    if (t->sweep)
        event_free(t->sweep);
    if (t->resume)
        event_free(t->resume);
    for (int k = 0; k < ntables; k++) {
        if (tables[k] == t)
            tables[k] = tables[--ntables];
    }
    w->conns = NULL;
    /* Called after evhttp_free, which released every connection's bufferevent. */
    while (t->head)
        conn_reap(t, t->head);
    free(t->slots);
    free(t);
}

int conns_request(struct worker *w, struct evhttp_request *req)
{
    struct conn_table *t = w->conns;
    if (!t)
        return 0;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    struct conn *c = bev ? lookup(t, bev) : NULL;
    if (!c)
        return 0;
    conn_watch(c);
    /* A request that is not the connection's first resets its idle clock. */
    c->requests++;
    c->active_ms = util_now_ms();
    return c->over_cap;
}

unsigned conns_open(const struct worker *w)
{
    struct conn_table *t = w->conns;
    return t ? atomic_load_explicit(&t->count, memory_order_relaxed) : 0;
}
