/*
 * conns_request.c -- following a connection's requests (see conns.h, conns_int.h): the
 * header scan of the bytes as they arrive, the step each connection is in, its deadline
 * and the timer that closes it there.
 *
 * A connection's life is followed without parsing HTTP twice: evhttp says when a request
 * is dispatched (routes.c calls conns_request), when its response has been written (the
 * request's completion callback) and when the socket is closed (the connection's close
 * callback); between requests the bytes arriving in the connection's input buffer say when
 * the next one starts and where its header ends (a blank line). Each connection has one
 * timer, set to the deadline of the step it is in.
 */
#include "conns_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "util.h"

static double conn_deadline(const struct conn *c)
{
    double head = atomic_load_explicit(&conns_g.header_timeout_ms, memory_order_relaxed);
    double rate = atomic_load_explicit(&conns_g.body_min_rate, memory_order_relaxed);
    switch (c->phase) {
    case PH_HEAD: return c->since + head;
    case PH_BODY: return c->since + head + (rate > 0 ? (double)c->body_bytes * 1000 / rate : 0);
    case PH_BUSY: return c->since + head + (rate > 0 ? (double)c->out_bytes * 1000 / rate : 0);
    case PH_IDLE:
        return c->since + atomic_load_explicit(&conns_g.idle_timeout_ms, memory_order_relaxed);
    }
    return c->since;
}

/* (Re)sets c's timer to its deadline. */
void conn_arm(struct conn *c)
{
    double left = conn_deadline(c) - util_now_ms();
    long ms = left > 0 ? (long)left + 1 : 0;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(c->timer, &tv);
}

/* Whether bytes wait in c's socket that evhttp has not read yet. */
static int conn_bytes_waiting(const struct conn *c)
{
    int n = 0;
    return ioctl(c->fd, FIONREAD, &n) == 0 && n > 0;
}

/* Closes c, past its deadline. */
static void conn_expire(struct conn *c)
{
    atomic_fetch_add_explicit(&conns_g.timed_out, 1, memory_order_relaxed);
    conn_kill(c);
}

void conn_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    if (!c->force && util_now_ms() < conn_deadline(c)) {
        conn_arm(c); /* the deadline moved on (body bytes arrived, or a reload) */
        return;
    }
    if (c->own_status && !c->too_large) {
        conn_answer_own(c);
    } else if (c->too_large && c->phase != PH_BODY) {
        /* The whole body had arrived: evhttp read it and dispatched the request before
         * this run, and routes.c answers it with its own 413. */
        conn_evhttp_limit(c, 0);
        c->force = c->too_large = 0;
        conn_arm(c);
    } else if (c->too_large) {
        conn_refuse_body(c);
    } else if (c->phase == PH_IDLE && conn_bytes_waiting(c)) {
        /* The next request reached the socket after this turn of the loop polled it (while
         * it ran other callbacks: a busy worker's timers run late): its first byte is here,
         * so its header timeout starts, as when conn_input sees it. Closing now would
         * reset a request the client sent in time as far as it can tell. */
        conn_new_request(c, util_now_ms());
        conn_arm(c);
    } else if (c->phase == PH_HEAD && c->head_bytes > CONNS_MAX_HEADER_BYTES) {
        atomic_fetch_add_explicit(&conns_g.timed_out, 1, memory_order_relaxed);
        char msg[96];
        snprintf(msg, sizeof msg, "request line or headers are over %d bytes",
                 CONNS_EVHTTP_MAX_HEADERS);
        conn_answer_close(c, 431, "headers_too_large", msg);
    } else {
        conn_expire(c);
    }
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
                        else
                            conn_request_line(c);
                        c->lines++;
                    }
                    c->linelen = 0;
                } else if (s[j] != '\r') {
                    if (c->linelen < sizeof c->line)
                        c->line[c->linelen] = (char)tolower((unsigned char)s[j]);
                    if (c->lines == 0) {
                        if (c->linelen < sizeof c->first)
                            c->first[c->linelen] = s[j];
                        c->tail[c->linelen % sizeof c->tail] = s[j];
                    }
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
void conn_new_request(struct conn *c, double now)
{
    c->phase = PH_HEAD;
    c->since = now;
    c->head_bytes = c->body_bytes = 0;
    c->linelen = c->lines = 0;
    c->declared = -1;
    c->chunked = 0;
    c->bad_version = 0;
    memset(c->first, 0, sizeof c->first);
}

/* Input buffer callback: bytes arrived (or evhttp consumed some). It runs as they are
 * added, so the added ones are the last info->n_added of buf. */
void conn_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
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

/* Output buffer callback: an answer queued outside a dispatched request is evhttp's own
 * (an HTML page: 400 for what does not parse, 413, 417, 501), not sent yet (evglue.h, 4).
 * The timer's next run, before it would be sent, answers in its place (conns_answer.c).
 * (Informational 100 Continue lines are not answers.) */
void conn_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *c = arg;
    if (info->n_added == 0 || c->phase == PH_BUSY || c->own_status)
        return;
    int status = evglue_answer_status(buf, info);
    if (status < 200)
        return;
    c->own_status = status;
    c->force = 1;
    event_active(c->timer, EV_TIMEOUT, 1);
}

/* The request's completion callback: its response has been written. What is left in
 * the input buffer is the next request (pipelined, or sent while we answered). */
void conn_done(struct evhttp_request *req, void *arg)
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
