/*
 * conns_body.c -- request bodies over max_body, refused with the daemon's JSON 413 (see
 * conns.h): the Content-Length and Transfer-Encoding of a request, noted by the header scan
 * (conns_request.c), and evhttp's own limit, lifted where the refusal is ours.
 */
#include "conns_int.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Lifts (or puts back) evhttp's own body limit for c: evhttp answers a body over it with
 * an HTML 413, so where conns.c refuses a body itself evhttp must not come first. */
void conn_evhttp_limit(struct conn *c, int lifted)
{
    if (!c->evcon || c->lifted == lifted)
        return;
    size_t max_body = atomic_load_explicit(&c->t->w->srv->live_max_body, memory_order_relaxed);
    evhttp_connection_set_max_body_size(c->evcon,
                                        lifted ? -1 : (ev_ssize_t)(max_body + CONNS_BODY_SLACK));
    c->lifted = lifted;
}

/* Answers c's request, whose body is over max_body, with a JSON 413 and closes c without
 * reading the body (conns_answer.c). */
void conn_refuse_body(struct conn *c)
{
    size_t max_body = atomic_load_explicit(&c->t->w->srv->live_max_body, memory_order_relaxed);
    char msg[256];
    if (c->declared >= 0 && c->declared < LLONG_MAX)
        snprintf(msg, sizeof msg, "request body is declared as %lld bytes; the most allowed is %zu",
                 c->declared, max_body);
    else if (c->declared >= 0)
        snprintf(msg, sizeof msg, "request body is declared as more bytes than can be counted; "
                 "the most allowed is %zu", max_body);
    else
        snprintf(msg, sizeof msg, "chunked request body is over %zu bytes with its framing; the "
                 "most allowed is %zu", max_body + CONNS_BODY_SLACK, max_body);
    conn_answer_close(c, 413, "body_too_large", msg);
}

/* A header line of the request, in c->line (its first bytes, lower-cased): notes the
 * body's declared length and whether it is chunked. The first Content-Length counts, as
 * for evhttp; a value longer than c->line keeps is more than any limit. */
void conn_header_line(struct conn *c)
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
void conn_body_start(struct conn *c)
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
void conn_body_check(struct conn *c)
{
    size_t max_body = atomic_load_explicit(&c->t->w->srv->live_max_body, memory_order_relaxed);
    if (c->chunked && c->body_bytes > max_body + CONNS_BODY_SLACK)
        conn_body_refuse_soon(c);
}
