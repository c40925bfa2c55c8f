/*
 * test_evglue.c -- the libevent behaviour quired relies on beyond its documented API
 * (daemon/evglue.h), checked against the libevent this is built with. If a libevent
 * upgrade changes one of them, this test fails, not the daemon in production.
 *
 * A real evhttp on 127.0.0.1 (port 0) in this thread: its listener's accept callback is
 * ours (evglue_bind), which hands each accepted socket to evhttp (evglue_handoff); the
 * bufferevent callback records the connection's bufferevent; the close callback counts.
 * An output buffer callback on every connection sees evhttp's own error answers queued
 * (assumption 4) and answers in their place, as conns_answer.c does.
 * Bounded: every wait polls the loop at most 3 s; alarm() ends the program after 30 s.
 */
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "evglue.h"

struct fixture {
    struct event_base *base;
    struct evhttp *http;
    struct evconnlistener *lev;
    struct evglue_accept evhttp_accept;
    int port;
    int accepted;
    struct bufferevent *bev; /* the last connection's */
    int closes;               /* close callbacks run */
    int requests;
    int keep;                 /* 1: the handler does not answer (the request stays open) */
    int own_status;           /* the status of evhttp's own answer, seen queued */
    size_t own_queued;        /* bytes in the output buffer when our event ran */
    int own_unsent;           /* ...and they began with evhttp's whole status line */
    struct event *own_ev;     /* made active when evhttp's own answer is queued */
};

/* Our answer in place of evhttp's own. */
static const char ours[] = "HTTP/1.1 999 Ours\r\nConnection: close\r\n\r\n";

/* Runs after evhttp has queued its own answer, before it sends it: answers in its place
 * and frees the connection, dropping evhttp's. */
static void own_answer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct fixture *f = arg;
    struct evbuffer *out = bufferevent_get_output(f->bev);
    f->own_queued = evbuffer_get_length(out);
    /* (evbuffer_copyout fails on a written bufferevent's output: evglue.c) The status
     * line echoes the request's version as evhttp read it. */
    const char *head = (const char *)evbuffer_pullup(out, f->own_queued < 40 ? -1 : 40);
    char want[8];
    snprintf(want, sizeof want, " %d ", f->own_status);
    f->own_unsent = head && memcmp(head, "HTTP/1.", 7) == 0 && memmem(head, 40, want, 5);
    assert_int_equal(send(bufferevent_getfd(f->bev), ours, sizeof ours - 1, 0), (ssize_t)(sizeof ours - 1));
    struct evhttp_connection *evcon = evglue_connection_of(f->bev);
    assert_non_null(evcon);
    /* Our reference goes first, so that the bufferevent is gone with the connection, its
     * pending write with it, before evhttp closes the socket (as in quired). */
    bufferevent_decref(f->bev);
    f->bev = NULL;
    evhttp_connection_free(evcon);
}

static void on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct fixture *f = arg;
    int status = evglue_answer_status(buf, info);
    if (status >= 400 && !f->own_status) { /* on_request answers 200 */
        f->own_status = status;
        event_active(f->own_ev, EV_TIMEOUT, 1);
    }
}

static void on_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    ((struct fixture *)arg)->closes++;
}

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
    struct fixture *f = arg;
    f->bev = bufferevent_socket_new(base, -1, 0);
    bufferevent_incref(f->bev); /* the test looks at it after evhttp is done */
    evbuffer_add_cb(bufferevent_get_output(f->bev), on_output, f);
    return f->bev;
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    struct fixture *f = arg;
    f->accepted++;
    evglue_handoff(&f->evhttp_accept, lev, fd, sa, socklen);
    struct evhttp_connection *evcon = evglue_connection_of(f->bev);
    assert_non_null(evcon); /* assumption 2 */
    assert_ptr_equal(evhttp_connection_get_bufferevent(evcon), f->bev);
    evhttp_connection_set_closecb(evcon, on_close, f);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct fixture *f = arg;
    f->requests++;
    evbuffer_add(evhttp_request_get_output_buffer(req), "ok\n", 3);
    evhttp_send_reply(req, 200, "OK", NULL);
}

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof f);
    f.base = event_base_new();
    f.http = evhttp_new(f.base);
    evhttp_set_bevcb(f.http, make_bev, &f);
    evhttp_set_gencb(f.http, on_request, &f);
    evhttp_set_allowed_methods(f.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    f.own_ev = event_new(f.base, -1, 0, own_answer, &f);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(fd, 16), 0);
    socklen_t sl = sizeof sin;
    getsockname(fd, (struct sockaddr *)&sin, &sl);
    f.port = ntohs(sin.sin_port);
    f.lev = evconnlistener_new(f.base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE, 0, fd);
    assert_non_null(f.lev);
    /* Assumption 1: evglue reads back evhttp's accept callback. */
    assert_non_null(evglue_bind(f.http, f.lev, on_accept, &f, &f.evhttp_accept));
    assert_non_null(f.evhttp_accept.cb);
    assert_ptr_equal(f.evhttp_accept.arg, f.http);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    evhttp_free(f->http);
    event_free(f->own_ev);
    event_base_free(f->base);
    return 0;
}

static int client(struct fixture *f)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    return fd;
}

/* Runs the loop until *counter reaches want (at most 3 s). */
static void run_until(struct fixture *f, const int *counter, int want)
{
    for (int i = 0; i < 3000 && *counter < want; i++) {
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    assert_int_equal(*counter, want);
}

/* Reads what the server sent until it closes (the loop runs meanwhile). */
static size_t read_all(struct fixture *f, int fd, char *buf, size_t len)
{
    size_t n = 0;
    for (int i = 0; i < 3000; i++) {
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        ssize_t k = recv(fd, buf + n, len - 1 - n, MSG_DONTWAIT);
        if (k == 0)
            break;
        if (k > 0)
            n += (size_t)k;
        else if (errno != EAGAIN)
            break;
        usleep(1000);
    }
    buf[n] = '\0';
    return n;
}

/* A handed-off connection is served, and closes once (evhttp closes it: Connection: close). */
static void test_handoff_serves_and_closes_once(void **state)
{
    struct fixture *f = *state;
    int fd = client(f);
    const char req[] = "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
    char buf[4096];
    read_all(f, fd, buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    assert_non_null(strstr(buf, "ok\n"));
    assert_int_equal(f->closes, 1); /* assumption 3 */
    /* Assumption 2's other half: a freed connection's bufferevent has no callbacks. */
    assert_null(evglue_connection_of(f->bev));
    bufferevent_decref(f->bev);
    close(fd);
    for (int i = 0; i < 50; i++)
        event_base_loop(f->base, EVLOOP_NONBLOCK);
    assert_int_equal(f->closes, 1);
}

/* The client closing first: one close callback. */
static void test_client_close(void **state)
{
    struct fixture *f = *state;
    int before = f->closes;
    int fd = client(f);
    run_until(f, &f->accepted, 2);
    close(fd);
    run_until(f, &f->closes, before + 1);
    bufferevent_decref(f->bev);
}

/* Freeing the connection ourselves (a deadline): one close callback, socket closed. */
static void test_free_closes_once(void **state)
{
    struct fixture *f = *state;
    int before = f->closes;
    int fd = client(f);
    run_until(f, &f->accepted, 3);
    struct evhttp_connection *evcon = evglue_connection_of(f->bev);
    assert_non_null(evcon);
    evhttp_connection_free(evcon);
    assert_int_equal(f->closes, before + 1);
    char buf[64];
    assert_int_equal(read_all(f, fd, buf, sizeof buf), 0); /* EOF */
    bufferevent_decref(f->bev);
    close(fd);
}

/* Keep-alive: two requests on one connection, then the client closes: one close. */
static void test_keepalive(void **state)
{
    struct fixture *f = *state;
    int before = f->closes, r0 = f->requests;
    int fd = client(f);
    const char req[] = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
    send(fd, req, sizeof req - 1, 0);
    run_until(f, &f->requests, r0 + 1);
    send(fd, req, sizeof req - 1, 0);
    run_until(f, &f->requests, r0 + 2);
    assert_int_equal(f->closes, before);
    close(fd);
    run_until(f, &f->closes, before + 1);
    bufferevent_decref(f->bev);
}

/* Assumption 4: each kind of request evhttp answers on its own (an HTML page) has its
 * status line queued and seen by the output callback; an event made active then runs
 * before a byte of it is sent, and freeing the connection drops it: the client reads our
 * answer alone. */
static void test_own_answers_replaced(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *req;
        int status;
    } cases[] = {
        {"BLAH\r\n\r\n", 400},                                     /* no request line */
        {"GET /x HTTP/2.0\r\n\r\n", 400},                          /* a version past 1.x */
        {"GET /x HTTP/1.1\r\nno colon\r\n\r\n", 400},              /* a bad header line */
        {"POST /x HTTP/1.1\r\nContent-Length: z\r\n\r\n", 400},    /* a bad length */
        {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 413}, /* bad chunk */
        {"POST /x HTTP/1.1\r\nExpect: bogus\r\nContent-Length: 1\r\n\r\n", 417},
        {"FOO /x HTTP/1.1\r\n\r\n", 501},                          /* an unknown method */
        {"PUT /x HTTP/1.1\r\n\r\n", 501},                          /* one not allowed */
        {"FOO /x HTTP/1.-11\r\n\r\n", 501}, /* a version evhttp reads, echoed: HTTP/1.-11 */
    };
    /* Each case on a new connection, then after a first request on a kept-alive one
     * (the output buffer drained to empty before evhttp's answer is queued). */
    for (size_t i = 0; i < 2 * (sizeof cases / sizeof cases[0]); i++) {
        size_t ci = i % (sizeof cases / sizeof cases[0]);
        int second = i >= sizeof cases / sizeof cases[0];
        f->own_status = 0;
        f->own_unsent = 0;
        int before = f->closes, r0 = f->requests;
        int fd = client(f);
        char buf[4096];
        if (second) {
            const char first[] = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
            send(fd, first, sizeof first - 1, 0);
            run_until(f, &f->requests, r0 + 1);
            for (int k = 0; k < 50; k++)
                event_base_loop(f->base, EVLOOP_NONBLOCK);
            assert_int_equal(recv(fd, buf, sizeof buf, 0) > 0, 1);
            assert_int_equal(evbuffer_get_length(bufferevent_get_output(f->bev)), 0);
        }
        size_t len = strlen(cases[ci].req);
        assert_int_equal(send(fd, cases[ci].req, len, 0), (ssize_t)len);
        read_all(f, fd, buf, sizeof buf);
        assert_int_equal(f->own_status, cases[ci].status);
        assert_true(f->own_unsent);
        assert_true(f->own_queued > strlen("HTTP/1.1 400 Bad Request\r\n"));
        assert_string_equal(buf, ours);
        assert_int_equal(f->requests, r0 + second);
        assert_int_equal(f->closes, before + 1);
        assert_null(f->bev);
        close(fd);
    }
}

int main(void)
{
    alarm(30);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handoff_serves_and_closes_once),
        cmocka_unit_test(test_client_close),
        cmocka_unit_test(test_free_closes_once),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_own_answers_replaced),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
