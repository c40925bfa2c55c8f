/*
 * conns.c -- every client connection of quired, from accept to close (see conns.h): the
 * one count of open connections, accepting under the cap, a connection's end, and the
 * module's interface. What a connection goes through on the way is in conns_request.c
 * (its requests, their deadlines), conns_body.c (bodies over max_body), conns_linger.c
 * (refusals past the cap, lingering closes). A worker finds a connection's struct conn
 * from evhttp's connection through the tree's one hash table (util.h).
 *
 * The count of open connections is one atomic shared by the workers: a worker reserves a
 * place with one fetch-add before it serves a connection, so the cap holds whichever
 * worker accepts.
 *
 * Every worker accepts on the same listening sockets, and the first awake takes what is
 * waiting: four clients connecting at once could all land on one worker while the other
 * core idles (half the throughput, in one run of three). So the connections are kept
 * even: a worker accepts only while no other serves fewer (conn_balance_holds_back). It
 * looks again whenever a count changes: its own (an accept, a close) at once, another
 * worker's when that worker makes this one's balance event active. The worker with the
 * fewest always accepts, so some worker always does.
 */
#include "conns_int.h"

#include <assert.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "util.h"

struct conns_globals conns_g;

_Static_assert(CONNS_MAX_WORKERS >= SERVER_MAX_THREADS, "a count for every worker");

/* ---- a connection's end -------------------------------------------------------------- */

/* t's worker serves one more or one fewer connection: it looks again at accepting (it may
 * hold back now, or accept again), and so does every other worker. */
static void count_changed(struct conn_table *t)
{
    conn_listeners_update(t);
    conn_balance_tell_others(t);
}

/* Forgets c: evhttp has closed (or is closing) its socket. */
static void conn_forget(struct conn *c)
{
    struct conn_table *t = c->t;
    if (c->input_cb)
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->input_cb);
    if (c->output_cb)
        evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->output_cb);
    if (c->timer)
        event_free(c->timer);
    uint64_t held;
    if (c->evcon && hashmap_get(&t->index, (uintptr_t)c->evcon, &held) && held == (uintptr_t)c)
        hashmap_remove(&t->index, (uintptr_t)c->evcon);
    if (c->prev)
        c->prev->next = c->next;
    else
        t->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (t->current == c)
        t->current = NULL;
    atomic_fetch_sub_explicit(&conns_g.open, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&t->nconns, 1, memory_order_relaxed);
    free(c);
    count_changed(t);
}

/* evhttp's close callback: runs once, just before it closes c's socket (evglue.h, 3).
 * evhttp closes a connection in the middle of a request after an error answer (400, 413,
 * 431...), when the client may still be sending: closing a socket with unread data sends
 * a reset, which can destroy that answer before the client reads it. So such a socket is
 * kept open by a duplicate descriptor and read until the client closes (a lingering
 * close, bounded like a refusal); evhttp's own close then only drops its descriptor. */
static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    struct conn *c = arg;
    struct conn_table *t = c->t;
    int mid_request = c->phase == PH_BODY || (c->phase == PH_HEAD && c->head_bytes > 0);
    if (c == t->killing)
        t->killed = 1;
    else if (mid_request && !t->stopped && t->nrefusing < CONNS_REFUSING_MAX) {
        evutil_socket_t dup = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
        if (dup >= 0)
            conn_linger_start(t, dup);
    }
    conn_forget(c);
}

/* Has evhttp close c's socket now, and forgets c. */
void conn_kill(struct conn *c)
{
    struct conn_table *t = c->t;
    t->killing = c;
    t->killed = 0;
    evhttp_connection_free(c->evcon);
    /* The close callback has forgotten c; if it did not run, evhttp closed the socket
     * anyway, and c goes too. */
    if (!t->killed)
        conn_forget(c);
    t->killing = NULL;
}

/* ---- accepting ----------------------------------------------------------------------- */

int conn_balance_holds_back(struct conn_table *t)
{
    struct server *s = t->w->srv;
    unsigned mine = atomic_load_explicit(&t->nconns, memory_order_relaxed);
    for (int i = 0; i < s->nworkers && mine > 0; i++) {
        struct conn_table *o = s->workers[i].conns;
        if (o && o != t && atomic_load_explicit(&o->able, memory_order_relaxed) &&
            atomic_load_explicit(&o->nconns, memory_order_relaxed) < mine)
            return 1;
    }
    return 0;
}

void conn_balance_tell_others(struct conn_table *t)
{
    struct server *s = t->w->srv;
    for (int i = 0; i < s->nworkers; i++) {
        struct conn_table *o = s->workers[i].conns;
        if (o && o != t && o->balance)
            event_active(o->balance, EV_TIMEOUT, 0);
    }
}

static void balance_look_again(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_listeners_update(arg);
}

/* evhttp's bufferevent callback: the bufferevent for the connection being handed over.
 * Like evhttp's own, without an fd (evhttp sets it) and not closing it (evhttp does). */
static struct bufferevent *conn_bev(struct event_base *base, void *arg)
{
    struct conn_table *t = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);
    struct conn *c = t->handing;
    /* Every connection evhttp sees comes from conns_accept, which sets t->handing. */
    if (!bev || !c)
        return bev;
    bufferevent_incref(bev); /* until conns_accept has checked evhttp kept it */
    c->bev = bev;
    c->input_cb = evbuffer_add_cb(bufferevent_get_input(bev), conn_input, c);
    c->output_cb = evbuffer_add_cb(bufferevent_get_output(bev), conn_output, c);
    return bev;
}

static void high_water(unsigned n)
{
    unsigned hw = atomic_load_explicit(&conns_g.high_water, memory_order_relaxed);
    while (n > hw && !atomic_compare_exchange_weak(&conns_g.high_water, &hw, n)) {
    }
}

/* Our listeners' accept callback: serve under the cap, refuse over it. */
static void conns_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                         int socklen, void *arg)
{
    struct conn_table *t = arg;
    struct listener *l = NULL;
    for (int i = 0; i < t->nls && !l; i++) {
        if (t->ls[i].lev == lev)
            l = &t->ls[i];
    }
    unsigned cap = atomic_load_explicit(&conns_g.max_connections, memory_order_relaxed);
    unsigned n = atomic_fetch_add(&conns_g.open, 1) + 1;
    if (!l || (cap && n > cap)) {
        atomic_fetch_sub(&conns_g.open, 1);
        conn_refuse(t, fd);
        return;
    }
    high_water(n);
    struct conn *c = calloc(1, sizeof *c);
    struct event *timer = c ? event_new(t->w->base, -1, 0, conn_timer, c) : NULL;
    /* Room in the index now, so that entering c there below cannot fail. */
    if (!timer || hashmap_reserve(&t->index, t->index.n + 1) < 0) {
        free(c);
        if (timer)
            event_free(timer);
        atomic_fetch_sub(&conns_g.open, 1);
        conn_refuse(t, fd);
        return;
    }
    atomic_fetch_add_explicit(&t->nconns, 1, memory_order_relaxed);
    c->t = t;
    c->fd = fd;
    c->timer = timer;
    conn_new_request(c, util_now_ms());
    c->next = t->head;
    if (t->head)
        t->head->prev = c;
    t->head = c;
    t->handing = c;
    evglue_handoff(&l->evhttp, lev, fd, sa, socklen);
    t->handing = NULL;
    struct bufferevent *bev = c->bev;
    struct evhttp_connection *evcon = bev ? evglue_connection_of(bev) : NULL;
    if (!evcon) {
        /* evhttp could not set the connection up and has closed the socket. */
        c->input_cb = c->output_cb = NULL;
        c->bev = NULL;
        conn_forget(c);
        if (bev)
            bufferevent_decref(bev);
        return;
    }
    c->evcon = evcon;
    int rc = hashmap_put(&t->index, (uintptr_t)evcon, (uintptr_t)c);
    assert(rc == 0); /* reserved above */
    (void)rc;
    evhttp_connection_set_closecb(evcon, conn_closed, c);
    bufferevent_decref(bev);
    atomic_fetch_add_explicit(&conns_g.accepted, 1, memory_order_relaxed);
    conn_arm(c);
    count_changed(t);
}

/* Listener error (EMFILE, ENFILE, ENOBUFS...): stop accepting for a moment instead of
 * spinning on a socket that stays readable. */
static void accept_error(struct evconnlistener *lev, void *arg)
{
    (void)lev;
    struct conn_table *t = arg;
    int err = EVUTIL_SOCKET_ERROR();
    if (!atomic_load_explicit(&t->w->srv->live_quiet, memory_order_relaxed))
        server_log(t->w->srv, "accept_failed", "worker %d: accept failed (%s); pausing accepts for 100 ms",
                   t->w->id, evutil_socket_error_to_string(err));
    t->paused_error = 1;
    conn_listeners_update(t);
    struct timeval tv = {0, 100 * 1000};
    event_add(t->resume, &tv);
}

static void accept_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn_table *t = arg;
    t->paused_error = 0;
    conn_listeners_update(t);
}

/* ---- the module's interface ---------------------------------------------------------- */

void conns_configure(const struct conn_limits *lim)
{
    atomic_store(&conns_g.max_connections, lim->max_connections);
    atomic_store(&conns_g.header_timeout_ms, lim->header_timeout_ms);
    atomic_store(&conns_g.idle_timeout_ms, lim->idle_timeout_ms);
    atomic_store(&conns_g.body_min_rate, lim->body_min_rate);
}

int conns_init(struct worker *w)
{
    struct conn_table *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->w = w;
    w->conns = t;
    evhttp_set_bevcb(w->http, conn_bev, t);
    t->resume = event_new(w->base, -1, 0, accept_resume, t);
    t->balance = event_new(w->base, -1, 0, balance_look_again, t);
    return t->resume && t->balance ? 0 : -1;
}

int conns_listen(struct worker *w, int fd)
{
    struct conn_table *t = w->conns;
    if (t->nls >= SERVER_MAX_LISTENERS)
        return -1;
    /* backlog 0: the socket listens already; no LEV_OPT_CLOSE_ON_FREE: it is shared. */
    struct evconnlistener *lev = evconnlistener_new(w->base, NULL, NULL, LEV_OPT_CLOSE_ON_EXEC, 0, fd);
    struct listener *l = &t->ls[t->nls];
    if (!lev || !evglue_bind(w->http, lev, conns_accept, t, &l->evhttp)) {
        server_log(w->srv, "error", "cannot accept on a listener%s",
                   lev ? ": this libevent's evhttp is not the one quired was written for "
                      "(see daemon/evglue.h)"
                    : "");
        return -1;
    }
    evconnlistener_set_error_cb(lev, accept_error);
    l->lev = lev;
    t->nls++;
    return 0;
}

void conns_rearm(struct worker *w)
{
    struct conn_table *t = w->conns;
    if (!t)
        return;
    for (struct conn *c = t->head; c; c = c->next)
        conn_arm(c);
}

void conns_stop(struct worker *w)
{
    struct conn_table *t = w->conns;
    if (!t)
        return;
    t->stopped = 1;
    conn_listeners_update(t);
    event_del(t->resume);
    t->nls = 0; /* evhttp_free frees them */
}

void conns_free(struct worker *w)
{
    struct conn_table *t = w->conns;
    if (!t)
        return;
    w->conns = NULL;
    t->stopped = 1;
    t->nls = 0; /* evhttp_free has freed the listeners */
    /* evhttp_free has closed every connection and told us; a connection it did not tell
     * us about has its bufferevent freed: forget it without touching that. */
    while (t->head) {
        t->head->input_cb = t->head->output_cb = NULL;
        conn_forget(t->head);
    }
    while (t->refusals)
        conn_refusal_close(t->refusals);
    if (t->resume)
        event_free(t->resume);
    if (t->balance)
        event_free(t->balance);
    hashmap_free(&t->index);
    free(t);
}

void conns_request(struct worker *w, struct evhttp_request *req)
{
    struct conn_table *t = w->conns;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    uint64_t held;
    struct conn *c =
        t && evcon && hashmap_get(&t->index, (uintptr_t)evcon, &held) ? (struct conn *)held : NULL;
    if (!c)
        return;
    c->phase = PH_BUSY;
    c->since = util_now_ms();
    c->out_bytes = 0;
    t->current = c;
    evhttp_request_set_on_complete_cb(req, conn_done, c);
}

void conns_request_end(struct worker *w)
{
    struct conn_table *t = w->conns;
    struct conn *c = t ? t->current : NULL;
    if (!c)
        return;
    t->current = NULL;
    c->out_bytes = evbuffer_get_length(bufferevent_get_output(c->bev));
    c->since = util_now_ms();
    conn_arm(c);
}

void conns_get_stats(struct worker *w, struct conns_stats *out)
{
    struct server *s = w->srv;
    out->nworkers = s->nworkers;
    for (int i = 0; i < s->nworkers; i++) {
        struct conn_table *t = s->workers[i].conns;
        out->worker_open[i] = t ? atomic_load_explicit(&t->nconns, memory_order_relaxed) : 0;
    }
    out->open = atomic_load(&conns_g.open);
    out->high_water = atomic_load(&conns_g.high_water);
    out->closing = atomic_load(&conns_g.refusing);
    out->max_connections = atomic_load(&conns_g.max_connections);
    out->accepted = atomic_load(&conns_g.accepted);
    out->refused = atomic_load(&conns_g.refused);
    out->timed_out = atomic_load(&conns_g.timed_out);
}
