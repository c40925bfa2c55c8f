/*
 * conns_linger.c -- refusing a connection past the cap, and closing lingeringly (see
 * conns.h): an answered connection is kept open for a moment and read, so that the client
 * sees the answer and not a reset. A worker holds at most CONNS_REFUSING_MAX of them and
 * stops accepting while it does.
 */
#include "conns_int.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

/* The whole answer past the cap, made at compile time. */
#define REFUSAL_BODY                                                                       \
    "{\"error\":{\"code\":\"overloaded\",\"message\":\"too many open connections; retry "      \
    "shortly or reuse a connection\"}}\n"
#define REFUSAL_BODY_LEN 107
#define REFUSAL_STR(x) #x
#define REFUSAL_XSTR(x) REFUSAL_STR(x)
static const char refusal_text[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                   "Content-Type: application/json; charset=utf-8\r\n"
                                   "Cache-Control: no-store\r\n"
                                   "Retry-After: 1\r\n"
                                   "Connection: close\r\n"
                                   "Content-Length: " REFUSAL_XSTR(REFUSAL_BODY_LEN) "\r\n"
                                   "\r\n" REFUSAL_BODY;
_Static_assert(sizeof REFUSAL_BODY - 1 == REFUSAL_BODY_LEN, "Content-Length of the 503");

/* Listeners on unless stopping, backing off from an accept error, refusing too many, or
 * holding back for another worker. */
void conn_listeners_update(struct conn_table *t)
{
    int able = !t->stopped && !t->paused_error && t->nrefusing < CONNS_REFUSING_MAX;
    if (able != atomic_exchange_explicit(&t->able, able, memory_order_relaxed))
        conn_balance_tell_others(t); /* they may hold back for this worker, or not */
    int on = able && !conn_balance_holds_back(t);
    for (int i = 0; i < t->nls; i++) {
        if (on)
            evconnlistener_enable(t->ls[i].lev);
        else
            evconnlistener_disable(t->ls[i].lev);
    }
}

void conn_refusal_close(struct refusal *r)
{
    struct conn_table *t = r->t;
    event_free(r->ev);
    close(r->fd);
    if (r->prev)
        r->prev->next = r->next;
    else
        t->refusals = r->next;
    if (r->next)
        r->next->prev = r->prev;
    free(r);
    atomic_fetch_sub_explicit(&conns_g.refusing, 1, memory_order_relaxed);
    if (t->nrefusing-- == CONNS_REFUSING_MAX)
        conn_listeners_update(t);
}

/* A refused connection: reads and drops what the client sends until it closes, or the
 * linger time is over. Reading it is what keeps the close clean: closing a socket with
 * unread data sends a reset, which can destroy the 503 before the client reads it. */
static void refusal_read(evutil_socket_t fd, short what, void *arg)
{
    struct refusal *r = arg;
    if (what & EV_READ) {
        char buf[4096];
        ssize_t k;
        while ((k = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
        }
        double left = r->deadline - util_now_ms();
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) && left > 0) {
            long ms = (long)left + 1;
            struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
            if (event_add(r->ev, &tv) == 0)
                return;
        }
    }
    conn_refusal_close(r);
}

/* Keeps fd (answered, its writing side shut or about to be) open until the client
 * closes or CONNS_LINGER_MS pass, reading and dropping what it sends; then closes it. */
void conn_linger_start(struct conn_table *t, evutil_socket_t fd)
{
    struct refusal *r = calloc(1, sizeof *r);
    struct event *ev = r ? event_new(t->w->base, fd, EV_READ, refusal_read, r) : NULL;
    unsigned linger = atomic_load_explicit(&conns_g.header_timeout_ms, memory_order_relaxed);
    if (linger > CONNS_LINGER_MS)
        linger = CONNS_LINGER_MS;
    struct timeval tv = {linger / 1000, (linger % 1000) * 1000};
    if (!ev || event_add(ev, &tv) < 0) {
        if (ev)
            event_free(ev);
        free(r);
        close(fd);
        return;
    }
    r->t = t;
    r->fd = fd;
    r->ev = ev;
    r->deadline = util_now_ms() + linger;
    r->next = t->refusals;
    if (t->refusals)
        t->refusals->prev = r;
    t->refusals = r;
    atomic_fetch_add_explicit(&conns_g.refusing, 1, memory_order_relaxed);
    if (++t->nrefusing == CONNS_REFUSING_MAX)
        conn_listeners_update(t);
}

/* Shuts fd's writing side (it has been answered) and lingers, or closes it when the worker
 * holds as many closing connections as it may. */
void conn_linger_or_close(struct conn_table *t, evutil_socket_t fd)
{
    shutdown(fd, SHUT_WR);
    if (t->nrefusing >= CONNS_REFUSING_MAX) { /* accepted in the round that filled them */
        close(fd);
        return;
    }
    conn_linger_start(t, fd);
}

/* Answers fd with the 503 at once (its request is not waited for) and lingers. */
void conn_refuse(struct conn_table *t, evutil_socket_t fd)
{
    atomic_fetch_add_explicit(&conns_g.refused, 1, memory_order_relaxed);
    ssize_t k = send(fd, refusal_text, sizeof refusal_text - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)k; /* a new socket's send buffer takes it whole; if not, the client sees a cut */
    conn_linger_or_close(t, fd);
}
