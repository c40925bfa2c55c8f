/*
 * conns_int.h -- what the files of the connections module (conns*.c) share: the state of
 * every connection and of each worker's table of them. Not for the rest of quired, which
 * uses conns.h.
 */
#ifndef QUIRE_CONNS_INT_H
#define QUIRE_CONNS_INT_H

#include <stdatomic.h>
#include <stddef.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "conns.h"
#include "evglue.h"
#include "server.h"
#include "util.h"

/* Shared by every worker (conns.c). */
struct conns_globals {
    atomic_uint open, high_water, refusing;
    atomic_ulong accepted, refused, timed_out;
    atomic_uint max_connections, header_timeout_ms, idle_timeout_ms, body_min_rate;
};
extern struct conns_globals conns_g;

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
    char first[64];    /* the request line's first bytes, as sent (for the access log) */
    char tail[16];     /* the request line's last bytes, a ring (its HTTP version) */
    int bad_version;   /* the request line names an HTTP version past 1.x */
    int own_status;    /* evhttp has queued its own answer with this status (evglue.h, 4) */
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
    struct hashmap index; /* (uintptr_t) evhttp_connection -> (uintptr_t) conn */
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
    /* Balance (conns.c): the connections this worker serves, read by the others; an
     * event the others make active when this worker should look again at accepting. */
    atomic_uint nconns;
    atomic_int able; /* accepting, balance aside: not stopped, paused, refusing too many */
    struct event *balance;
};

/* conns.c: has evhttp close c's socket now, and forgets c. */
void conn_kill(struct conn *c);
/* conns.c: 1 when t's worker should not accept now, to keep the connections even: another
 * worker that can accept serves fewer. */
int conn_balance_holds_back(struct conn_table *t);
/* conns.c: every other worker looks again at accepting (conn_listeners_update). */
void conn_balance_tell_others(struct conn_table *t);

/* conns_request.c */
void conn_arm(struct conn *c);
void conn_timer(evutil_socket_t fd, short what, void *arg);
void conn_new_request(struct conn *c, double now);
void conn_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);
void conn_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);
void conn_done(struct evhttp_request *req, void *arg);

/* conns_answer.c */
void conn_request_line(struct conn *c);
void conn_answer_close(struct conn *c, int status, const char *code, const char *message);
void conn_answer_own(struct conn *c);

/* conns_body.c */
void conn_evhttp_limit(struct conn *c, int lifted);
void conn_refuse_body(struct conn *c);
void conn_header_line(struct conn *c);
void conn_body_start(struct conn *c);
void conn_body_check(struct conn *c);

/* conns_linger.c */
void conn_listeners_update(struct conn_table *t);
void conn_refusal_close(struct refusal *r);
void conn_linger_start(struct conn_table *t, evutil_socket_t fd);
void conn_linger_or_close(struct conn_table *t, evutil_socket_t fd);
void conn_refuse(struct conn_table *t, evutil_socket_t fd);

#endif
