/*
 * conns.c -- every client connection of quired, from accept to close (see conns.h).
 *
 * The count of open connections is one atomic shared by the workers: a worker reserves a
 * place with one fetch-add before it serves a connection, so the cap holds whichever
 * worker accepts. A connection's life is followed without parsing HTTP twice: evhttp says
 * when a request is dispatched (routes.c calls conns_request), when its response has been
 * written (the request's completion callback) and when the socket is closed (the
 * connection's close callback); between requests the bytes arriving in the connection's
 * input buffer say when the next one starts and where its header ends (a blank line).
 * Each connection has one timer, set to the deadline of the step it is in.
 */
#include "conns.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "evglue.h"
#include "server.h"
#include "util.h"

/* Shared by every worker. */
static struct {
    atomic_uint open, high_water, refusing;
    atomic_ulong accepted, refused, timed_out;
    atomic_uint max_connections, header_timeout_ms, idle_timeout_ms, body_min_rate;
} g;

enum phase {
    PH_HEAD, /* reading a request's header (or waiting for the first request) */
    PH_BODY, /* past the header's blank line: its body, if any */
    PH_BUSY, /* dispatched: being answered, then its response written */
    PH_IDLE  /* keep-alive, waiting for the next request */
};

struct conn {
    struct conn *prev, *next;
    struct conn_table *t;
    evutil_socket_t fd; /* evhttp's; never closed here */
    struct bufferevent *bev;
    struct evhttp_connection *evcon;
    struct evbuffer_cb_entry *input_cb, *output_cb;
    struct event *timer;
    enum phase phase;
    double since;      /* start of the request (HEAD, BODY), the response (BUSY), the wait */
    size_t head_bytes; /* of the current request's header */
    size_t body_bytes; /* after the header's blank line */
    size_t out_bytes;  /* the response, as queued */
    unsigned linelen;  /* header scan: bytes of the current line, CR not counted */
    unsigned lines;    /* header scan: lines so far */
    char line[48];     /* header scan: the current line's first bytes, lower-cased */
    long long declared; /* the request's Content-Length (-1: none, LLONG_MAX: too long) */
    int chunked;       /* the request's Transfer-Encoding is chunked */
    int force;         /* close at the next timer run whatever the deadline */
    int too_large;     /* ...with a 413: its body is over max_body */
    int lifted;        /* evhttp's body limit is lifted for this request (conn_evhttp_limit) */
};

struct refusal {
    struct refusal *prev, *next;
    struct conn_table *t;
    evutil_socket_t fd;
    struct event *ev;
    double deadline;
};

struct listener {
    struct evconnlistener *lev;   /* freed by evhttp_free (it is bound to the evhttp) */
    struct evglue_accept evhttp; /* evhttp's own accept callback */
};

struct conn_table {
    struct worker *w;
    struct conn *head;
    struct conn **slots; /* open addressing index: evhttp_connection -> conn */
    size_t cap, count;
    struct refusal *refusals;
    unsigned nrefusing;
    struct listener ls[SERVER_MAX_LISTENERS];
    int nls;
    int paused_error; /* accept() failed: listeners off for a moment */
    int stopped;
    struct event *resume;
    struct conn *handing; /* being handed to evhttp: conn_bev attaches the bufferevent */
    struct conn *killing; /* being closed by conn_expire */
    int killed;
    struct conn *current; /* its request is being handled (conns_request..._end) */
};

/* The whole answer past the cap, made at compile time. */
#define REFUSAL_BODY                                                                       \
    "{\"error\":{\"code\":\"overloaded\",\"message\":\"too many open connections; retry "      \
    "shortly or reuse a connection\"}}\n"
#define REFUSAL_BODY_LEN 107
/* The 413 for a body over max_body, around its message (conn_refuse_body). */
#define BODY_413_JSON "{\"error\":{\"code\":\"body_too_large\",\"message\":\"%s\"}}\n"
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

/* ---- the index from evhttp_connection to conn ---------------------------------------- */

static size_t slot_of(const struct conn_table *t, const void *key)
{
    uintptr_t h = (uintptr_t)key;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 7) & (t->cap - 1);
}

static struct conn *lookup(const struct conn_table *t, const struct evhttp_connection *evcon)
{
    if (!t->cap)
        return NULL;
    for (size_t i = slot_of(t, evcon);; i = (i + 1) & (t->cap - 1)) {
        struct conn *c = t->slots[i];
        if (!c || c->evcon == evcon)
            return c;
    }
}

static void index_put(struct conn_table *t, struct conn *c)
{
    size_t i = slot_of(t, c->evcon);
    while (t->slots[i])
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = c;
}

/* Makes room for one more entry (load at most one half). Returns 0 or -1. */
static int index_reserve(struct conn_table *t)
{
    if ((t->count + 1) * 2 <= t->cap)
        return 0;
    size_t cap = t->cap ? t->cap * 2 : 256;
    struct conn **slots = calloc(cap, sizeof *slots), **old = t->slots;
    if (!slots)
        return -1;
    size_t oldcap = t->cap;
    t->slots = slots;
    t->cap = cap;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i])
            index_put(t, old[i]);
    }
    free(old);
    return 0;
}

/* Removes c (linear probing: later entries of its cluster move back). */
static void index_remove(struct conn_table *t, struct conn *c)
{
    if (!t->cap || !c->evcon)
        return;
    size_t mask = t->cap - 1, i = slot_of(t, c->evcon);
    while (t->slots[i] != c) {
        if (!t->slots[i])
            return;
        i = (i + 1) & mask;
    }
    t->slots[i] = NULL;
    t->count--;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t k = slot_of(t, t->slots[j]->evcon);
        /* Move the entry back unless its home slot lies cyclically in (i, j]. */
        int stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (!stays) {
            t->slots[i] = t->slots[j];
            t->slots[j] = NULL;
            i = j;
        }
    }
}

/* ---- deadlines ----------------------------------------------------------------------- */

static double conn_deadline(const struct conn *c)
{
    double head = atomic_load_explicit(&g.header_timeout_ms, memory_order_relaxed);
    double rate = atomic_load_explicit(&g.body_min_rate, memory_order_relaxed);
    switch (c->phase) {
    case PH_HEAD: return c->since + head;
    case PH_BODY: return c->since + head + (rate > 0 ? (double)c->body_bytes * 1000 / rate : 0);
    case PH_BUSY: return c->since + head + (rate > 0 ? (double)c->out_bytes * 1000 / rate : 0);
    case PH_IDLE:
        return c->since + atomic_load_explicit(&g.idle_timeout_ms, memory_order_relaxed);
    }
    return c->since;
}

/* (Re)sets c's timer to its deadline. */
static void conn_arm(struct conn *c)
{
    double left = conn_deadline(c) - util_now_ms();
    long ms = left > 0 ? (long)left + 1 : 0;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(c->timer, &tv);
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
    index_remove(t, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        t->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (t->current == c)
        t->current = NULL;
    atomic_fetch_sub_explicit(&g.open, 1, memory_order_relaxed);
    free(c);
}

static void linger_start(struct conn_table *t, evutil_socket_t fd);

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
            linger_start(t, dup);
    }
    conn_forget(c);
}

/* Has evhttp close c's socket now, and forgets c. */
static void conn_kill(struct conn *c)
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

/* Closes c, past its deadline. */
static void conn_expire(struct conn *c)
{
    atomic_fetch_add_explicit(&g.timed_out, 1, memory_order_relaxed);
    conn_kill(c);
}

/* Lifts (or puts back) evhttp's own body limit for c: evhttp answers a body over it with
 * an HTML 413, so where conns.c refuses a body itself evhttp must not come first. */
static void conn_evhttp_limit(struct conn *c, int lifted)
{
    if (!c->evcon || c->lifted == lifted)
        return;
    size_t max_body = atomic_load_explicit(&c->t->w->srv->live_max_body, memory_order_relaxed);
    evhttp_connection_set_max_body_size(c->evcon,
                                        lifted ? -1 : (ev_ssize_t)(max_body + CONNS_BODY_SLACK));
    c->lifted = lifted;
}

static void linger_or_close(struct conn_table *t, evutil_socket_t fd);

/* Answers c's request, whose body is over max_body, with a JSON 413 and closes c without
 * reading the body. The answer is written straight to the socket (ahead of anything evhttp
 * has queued, which is dropped), before evhttp shuts the socket's writing side; a
 * duplicate of it lingers after evhttp has closed its own. */
static void conn_refuse_body(struct conn *c)
{
    struct conn_table *t = c->t;
    size_t max_body = atomic_load_explicit(&t->w->srv->live_max_body, memory_order_relaxed);
    char body[256], text[512];
    if (c->declared >= 0 && c->declared < LLONG_MAX)
        snprintf(body, sizeof body, "request body is declared as %lld bytes; the most allowed is %zu",
                 c->declared, max_body);
    else if (c->declared >= 0)
        snprintf(body, sizeof body, "request body is declared as more bytes than can be counted; "
                 "the most allowed is %zu", max_body);
    else
        snprintf(body, sizeof body, "chunked request body is over %zu bytes with its framing; the "
                 "most allowed is %zu", max_body + CONNS_BODY_SLACK, max_body);
    int blen = (int)strlen(body) + (int)sizeof BODY_413_JSON - 3;
    int n = snprintf(text, sizeof text,
                     "HTTP/1.1 413 Payload Too Large\r\n"
                     "Content-Type: application/json; charset=utf-8\r\n"
                     "Cache-Control: no-store\r\n"
                     "Connection: close\r\n"
                     "Content-Length: %d\r\n\r\n" BODY_413_JSON,
                     blen, body);
    assert(n > 0 && (size_t)n < sizeof text);
    ssize_t k = send(c->fd, text, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)k; /* the send buffer takes a short answer whole; if not, the client sees a cut */
    evutil_socket_t dup = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
    conn_kill(c);
    metrics_record(&t->w->metrics, EP_OTHER, 413, 0);
    if (dup >= 0)
        linger_or_close(t, dup);
}

static void conn_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    if (!c->force && util_now_ms() < conn_deadline(c)) {
        conn_arm(c); /* the deadline moved on (body bytes arrived, or a reload) */
        return;
    }
    if (c->too_large && c->phase != PH_BODY) {
        /* The whole body had arrived: evhttp read it and dispatched the request before
         * this run, and routes.c answers it with its own 413. */
        conn_evhttp_limit(c, 0);
        c->force = c->too_large = 0;
        conn_arm(c);
    } else if (c->too_large) {
        conn_refuse_body(c);
    } else {
        conn_expire(c);
    }
}

/* A header line of the request, in c->line (its first bytes, lower-cased): notes the
 * body's declared length and whether it is chunked. The first Content-Length counts, as
 * for evhttp; a value longer than c->line keeps is more than any limit. */
static void conn_header_line(struct conn *c)
{
    static const char cl[] = "content-length:", te[] = "transfer-encoding:";
    size_t len = c->linelen < sizeof c->line ? c->linelen : sizeof c->line;
    if (len > sizeof cl - 1 && !memcmp(c->line, cl, sizeof cl - 1) && c->declared < 0) {
        size_t i = sizeof cl - 1;
        while (i < len && (c->line[i] == ' ' || c->line[i] == '\t'))
            i++;
        long long v = 0;
        for (; i < len && c->line[i] >= '0' && c->line[i] <= '9'; i++)
            v = v > (LLONG_MAX - 9) / 10 ? LLONG_MAX : v * 10 + (c->line[i] - '0');
        c->declared = i == len && c->linelen > len ? LLONG_MAX : v;
    } else if (len > sizeof te - 1 && !memcmp(c->line, te, sizeof te - 1)) {
        /* Chunked exactly as evhttp takes it: the whole value, blanks around. */
        size_t i = sizeof te - 1;
        while (i < len && (c->line[i] == ' ' || c->line[i] == '\t'))
            i++;
        size_t end = len;
        while (end > i && (c->line[end - 1] == ' ' || c->line[end - 1] == '\t'))
            end--;
        c->chunked = c->linelen == len && end - i == 7 && !memcmp(c->line + i, "chunked", 7);
    }
}

/* Refuses c's body at the timer's next run (not here, inside evhttp's read), with evhttp's
 * limit lifted so that it neither answers first nor stops reading before then (it reads
 * only what has arrived). */
static void conn_body_refuse_soon(struct conn *c)
{
    if (c->force)
        return;
    c->force = c->too_large = 1;
    conn_evhttp_limit(c, 1);
    event_active(c->timer, EV_TIMEOUT, 1);
}

/* The header has ended: a declared body over max_body is refused before it is read. A
 * chunked body is counted as it comes (conn_body_check): evhttp would refuse it from a
 * chunk's declared size, before the bytes, so its limit is lifted for this request. */
static void conn_body_start(struct conn *c)
{
    size_t max_body = atomic_load_explicit(&c->t->w->srv->live_max_body, memory_order_relaxed);
    if (c->chunked)
        conn_evhttp_limit(c, 1);
    else if (c->declared >= 0 && (unsigned long long)c->declared > max_body)
        conn_body_refuse_soon(c);
}

/* Body bytes arrived: a chunked body is refused once it passes max_body and the slack for
 * its framing (bytes as they come, framing included: never fewer than evhttp's count). A
 * body of declared length is evhttp's to read, exactly; what comes after it is the next
 * request. */
static void conn_body_check(struct conn *c)
{
    size_t max_body = atomic_load_explicit(&c->t->w->srv->live_max_body, memory_order_relaxed);
    if (c->chunked && c->body_bytes > max_body + CONNS_BODY_SLACK)
        conn_body_refuse_soon(c);
}

/* Scans n bytes of buf from off for the end of the request header (an empty line after
 * the request line); counts the bytes after it as body. */
static void conn_scan(struct conn *c, struct evbuffer *buf, size_t off, size_t n)
{
    struct evbuffer_ptr p;
    if (evbuffer_ptr_set(buf, &p, off, EVBUFFER_PTR_SET) < 0)
        return;
    while (n > 0 && c->phase == PH_HEAD) {
        struct evbuffer_iovec v[8];
        int k = evbuffer_peek(buf, (ev_ssize_t)n, &p, v, 8);
        if (k <= 0)
            break;
        size_t done = 0;
        for (int i = 0; i < k && i < 8 && n > 0; i++) {
            size_t m = v[i].iov_len < n ? v[i].iov_len : n;
            const char *s = v[i].iov_base;
            for (size_t j = 0; j < m; j++) {
                if (c->phase != PH_HEAD) {
                    c->body_bytes++;
                    continue;
                }
                c->head_bytes++;
                if (s[j] == '\n') {
                    if (c->linelen == 0 && c->lines > 0) {
                        c->phase = PH_BODY;
                        conn_body_start(c);
                    } else if (c->linelen > 0) {
                        if (c->lines > 0)
                            conn_header_line(c);
                        c->lines++;
                    }
                    c->linelen = 0;
                } else if (s[j] != '\r') {
                    if (c->linelen < sizeof c->line)
                        c->line[c->linelen] = (char)tolower((unsigned char)s[j]);
                    c->linelen++;
                }
            }
            n -= m;
            done += m;
        }
        if (evbuffer_ptr_set(buf, &p, done, EVBUFFER_PTR_ADD) < 0)
            break;
    }
    if (c->phase == PH_BODY) {
        c->body_bytes += n;
        conn_body_check(c);
    }
    if (c->phase == PH_HEAD && c->head_bytes > CONNS_MAX_HEADER_BYTES && !c->force) {
        /* Not here, inside evhttp's read: at the timer's next run. */
        c->force = 1;
        event_active(c->timer, EV_TIMEOUT, 1);
    }
}

/* Starts a new request's clock and header scan. */
static void conn_new_request(struct conn *c, double now)
{
    c->phase = PH_HEAD;
    c->since = now;
    c->head_bytes = c->body_bytes = 0;
    c->linelen = c->lines = 0;
    c->declared = -1;
    c->chunked = 0;
}

/* Input buffer callback: bytes arrived (or evhttp consumed some). It runs as they are
 * added, so the added ones are the last info->n_added of buf. */
static void conn_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *c = arg;
    size_t n = info->n_added;
    if (n == 0 || c->phase == PH_BUSY) /* BUSY: looked at once the response is written */
        return;
    if (c->phase == PH_IDLE) {
        conn_new_request(c, util_now_ms());
        conn_arm(c);
    }
    if (c->phase == PH_BODY) {
        c->body_bytes += n;
        conn_body_check(c);
        return;
    }
    size_t len = evbuffer_get_length(buf);
    size_t off = len >= n ? len - n : 0;
    conn_scan(c, buf, off, len - off);
}

/* Output buffer callback: outside a dispatched request, what is written is evhttp's own
 * answer (a 400 for what does not parse, a 413 for a body over max_body, a 501 for an
 * unknown method): counted in /metrics under endpoint "other" by its status line, so that
 * every answer is labelled. (Informational 100 Continue lines are not answers.) */
static void conn_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *c = arg;
    size_t len = evbuffer_get_length(buf);
    if (info->n_added == 0 || c->phase == PH_BUSY || len < info->n_added)
        return;
    char head[16];
    struct evbuffer_ptr p;
    if (evbuffer_ptr_set(buf, &p, len - info->n_added, EVBUFFER_PTR_SET) < 0)
        return;
    ev_ssize_t k = evbuffer_copyout_from(buf, &p, head, sizeof head - 1);
    if (k < 12 || strncmp(head, "HTTP/1.", 7) != 0)
        return;
    head[k] = '\0';
    int status = atoi(head + 9);
    if (status >= 200)
        metrics_record(&c->t->w->metrics, EP_OTHER, status, 0);
}

/* The request's completion callback: its response has been written. What is left in
 * the input buffer is the next request (pipelined, or sent while we answered). */
static void conn_done(struct evhttp_request *req, void *arg)
{
    (void)req;
    struct conn *c = arg;
    if (c->t->current == c)
        c->t->current = NULL;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t len = evbuffer_get_length(in);
    conn_evhttp_limit(c, 0);
    conn_new_request(c, util_now_ms());
    if (len == 0)
        c->phase = PH_IDLE;
    else
        conn_scan(c, in, 0, len);
    conn_arm(c);
}

/* ---- refusing past the cap ----------------------------------------------------------- */

/* Listeners on unless stopping, backing off from an accept error, or refusing too many. */
static void listeners_update(struct conn_table *t)
{
    int on = !t->stopped && !t->paused_error && t->nrefusing < CONNS_REFUSING_MAX;
    for (int i = 0; i < t->nls; i++) {
        if (on)
            evconnlistener_enable(t->ls[i].lev);
        else
            evconnlistener_disable(t->ls[i].lev);
    }
}

static void refusal_close(struct refusal *r)
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
    atomic_fetch_sub_explicit(&g.refusing, 1, memory_order_relaxed);
    if (t->nrefusing-- == CONNS_REFUSING_MAX)
        listeners_update(t);
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
    refusal_close(r);
}

/* Keeps fd (answered, its writing side shut or about to be) open until the client
 * closes or CONNS_LINGER_MS pass, reading and dropping what it sends; then closes it. */
static void linger_start(struct conn_table *t, evutil_socket_t fd)
{
    struct refusal *r = calloc(1, sizeof *r);
    struct event *ev = r ? event_new(t->w->base, fd, EV_READ, refusal_read, r) : NULL;
    unsigned linger = atomic_load_explicit(&g.header_timeout_ms, memory_order_relaxed);
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
    atomic_fetch_add_explicit(&g.refusing, 1, memory_order_relaxed);
    if (++t->nrefusing == CONNS_REFUSING_MAX)
        listeners_update(t);
}

/* Shuts fd's writing side (it has been answered) and lingers, or closes it when the worker
 * holds as many closing connections as it may. */
static void linger_or_close(struct conn_table *t, evutil_socket_t fd)
{
    shutdown(fd, SHUT_WR);
    if (t->nrefusing >= CONNS_REFUSING_MAX) { /* accepted in the round that filled them */
        close(fd);
        return;
    }
    linger_start(t, fd);
}

/* Answers fd with the 503 at once (its request is not waited for) and lingers. */
static void refuse(struct conn_table *t, evutil_socket_t fd)
{
    atomic_fetch_add_explicit(&g.refused, 1, memory_order_relaxed);
    ssize_t k = send(fd, refusal_text, sizeof refusal_text - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)k; /* a new socket's send buffer takes it whole; if not, the client sees a cut */
    linger_or_close(t, fd);
}

/* ---- accepting ----------------------------------------------------------------------- */

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
    unsigned hw = atomic_load_explicit(&g.high_water, memory_order_relaxed);
    while (n > hw && !atomic_compare_exchange_weak(&g.high_water, &hw, n)) {
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
    unsigned cap = atomic_load_explicit(&g.max_connections, memory_order_relaxed);
    unsigned n = atomic_fetch_add(&g.open, 1) + 1;
    if (!l || (cap && n > cap)) {
        atomic_fetch_sub(&g.open, 1);
        refuse(t, fd);
        return;
    }
    high_water(n);
    struct conn *c = calloc(1, sizeof *c);
    struct event *timer = c ? event_new(t->w->base, -1, 0, conn_timer, c) : NULL;
    if (!timer || index_reserve(t) < 0) {
        free(c);
        if (timer)
            event_free(timer);
        atomic_fetch_sub(&g.open, 1);
        refuse(t, fd);
        return;
    }
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
    index_put(t, c);
    t->count++;
    evhttp_connection_set_closecb(evcon, conn_closed, c);
    bufferevent_decref(bev);
    atomic_fetch_add_explicit(&g.accepted, 1, memory_order_relaxed);
    conn_arm(c);
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
    listeners_update(t);
    struct timeval tv = {0, 100 * 1000};
    event_add(t->resume, &tv);
}

static void accept_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn_table *t = arg;
    t->paused_error = 0;
    listeners_update(t);
}

/* ---- the module's interface ---------------------------------------------------------- */

void conns_configure(const struct conn_limits *lim)
{
    atomic_store(&g.max_connections, lim->max_connections);
    atomic_store(&g.header_timeout_ms, lim->header_timeout_ms);
    atomic_store(&g.idle_timeout_ms, lim->idle_timeout_ms);
    atomic_store(&g.body_min_rate, lim->body_min_rate);
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
    return t->resume ? 0 : -1;
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
    listeners_update(t);
    event_del(t->resume);
    t->nls = 0; /* evhttp_free frees them */
}

void conns_free(struct worker *w)
{
    struct conn_table *t = w->conns;
    if (!t)
        return;
    w->conns = NULL;
    /* evhttp_free has closed every connection and told us; a connection it did not tell
     * us about has its bufferevent freed: forget it without touching that. */
    while (t->head) {
        t->head->input_cb = t->head->output_cb = NULL;
        conn_forget(t->head);
    }
    while (t->refusals)
        refusal_close(t->refusals);
    if (t->resume)
        event_free(t->resume);
    free(t->slots);
    free(t);
}

void conns_request(struct worker *w, struct evhttp_request *req)
{
    struct conn_table *t = w->conns;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct conn *c = t && evcon ? lookup(t, evcon) : NULL;
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

void conns_get_stats(struct conns_stats *out)
{
    out->open = atomic_load(&g.open);
    out->high_water = atomic_load(&g.high_water);
    out->closing = atomic_load(&g.refusing);
    out->max_connections = atomic_load(&g.max_connections);
    out->accepted = atomic_load(&g.accepted);
    out->refused = atomic_load(&g.refused);
    out->timed_out = atomic_load(&g.timed_out);
}
