/*
 * evglue.c -- libevent internals quired depends on, isolated (see evglue.h).
 */
#include "evglue.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

#include <event2/bufferevent.h>

#include "number.h"

/* The head of libevent 2.1's struct evconnlistener (listener.c), as far as we read it. */
struct evglue_listener_head {
    const void *ops;
    void *lock;
    evconnlistener_cb cb;
    evconnlistener_errorcb errorcb;
    void *user_data;
};

static void probe_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                     int socklen, void *arg)
{
    (void)lev, (void)fd, (void)sa, (void)socklen, (void)arg;
}

struct evhttp_bound_socket *evglue_bind(struct evhttp *http, struct evconnlistener *lev,
                                        evconnlistener_cb cb, void *arg,
                                        struct evglue_accept *evhttp_accept)
{
    const struct evglue_listener_head *h = (const void *)lev;
    /* Check the layout with values of our own before trusting what evhttp stores. */
    static int probe_arg;
    evconnlistener_set_cb(lev, probe_cb, &probe_arg);
    if (h->cb != probe_cb || h->user_data != &probe_arg) {
        evconnlistener_free(lev);
        return NULL;
    }
    struct evhttp_bound_socket *bound = evhttp_bind_listener(http, lev);
    if (!bound)
        return NULL;
    if (h->cb == probe_cb || h->cb == NULL || h->user_data != http) {
        evhttp_del_accept_socket(http, bound);
        return NULL;
    }
    evhttp_accept->cb = h->cb;
    evhttp_accept->arg = h->user_data;
    evconnlistener_set_cb(lev, cb, arg);
    return bound;
}

void evglue_handoff(const struct evglue_accept *a, struct evconnlistener *lev, evutil_socket_t fd,
                    struct sockaddr *sa, int socklen)
{
    assert(a->cb);
    a->cb(lev, fd, sa, socklen, a->arg);
}

struct evhttp_connection *evglue_connection_of(struct bufferevent *bev)
{
    bufferevent_data_cb r, w;
    bufferevent_event_cb e;
    void *arg = NULL;
    bufferevent_getcb(bev, &r, &w, &e, &arg);
    /* bufferevent_free clears the callbacks; a live evhttp connection always has them. */
    if (!e || !arg)
        return NULL;
    struct evhttp_connection *evcon = arg;
    return evhttp_connection_get_bufferevent(evcon) == bev ? evcon : NULL;
}

int evglue_answer_status(struct evbuffer *out, const struct evbuffer_cb_info *info)
{
    size_t len = evbuffer_get_length(out);
    if (info->n_added < 14 || len < info->n_added)
        return 0;
    /* "HTTP/1.1 400 " at least: evhttp prints the whole line in one evbuffer_add_printf,
     * with the request's version as it read it ("HTTP/%d.%d": "HTTP/1.-11" too).
     * Read with evbuffer_peek: evbuffer_copyout() fails (-1) on a bufferevent's output
     * buffer once it has written (libevent 2.1 freezes its start between writes). */
    char head[48];
    size_t want = info->n_added < sizeof head - 1 ? info->n_added : sizeof head - 1, got = 0;
    struct evbuffer_ptr p;
    struct evbuffer_iovec v[4];
    if (evbuffer_ptr_set(out, &p, len - info->n_added, EVBUFFER_PTR_SET) < 0)
        return 0;
    int nv = evbuffer_peek(out, (ev_ssize_t)want, &p, v, 4);
    for (int i = 0; i < nv && i < 4 && got < want; i++) {
        size_t m = v[i].iov_len < want - got ? v[i].iov_len : want - got;
        memcpy(head + got, v[i].iov_base, m);
        got += m;
    }
    if (got < 13 || memcmp(head, "HTTP/", 5) != 0)
        return 0;
    size_t sp = 5;
    while (sp < got && head[sp] != ' ' && head[sp] != '\r')
        sp++;
    if (sp + 5 > got || head[sp] != ' ' || head[sp + 4] != ' ')
        return 0;
    int status = 0;
    for (size_t i = sp + 1; i < sp + 4; i++) {
        if (head[i] < '0' || head[i] > '9')
            return 0;
        status = status * 10 + (head[i] - '0');
    }
    return status;
}
