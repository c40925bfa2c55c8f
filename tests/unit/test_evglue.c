/*
 * test_evglue.c -- the libevent behaviour quired relies on beyond its documented API
 * (daemon/evglue.h), checked against the libevent this is built with. If a libevent
 * upgrade changes one of them, this test fails, not the daemon in production.
 *
 * A real evhttp on 127.0.0.1 (port 0) in this thread: its listener's accept callback is
 * ours (evglue_bind), which hands each accepted socket to evhttp (evglue_handoff); the
 * bufferevent callback records the connection's bufferevent; the close callback counts.
 * Bounded: every wait polls the loop at most 3 s; alarm() ends the program after 30 s.
 */
#include <errno.h>
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
};

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

int main(void)
{
    alarm(30);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handoff_serves_and_closes_once),
        cmocka_unit_test(test_client_close),
        cmocka_unit_test(test_free_closes_once),
        cmocka_unit_test(test_keepalive),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
