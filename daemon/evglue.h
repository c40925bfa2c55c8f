/*
 * evglue.h -- the one place where quired relies on libevent 2.1 behaviour that its
 * documented API does not promise. Everything else in the daemon uses the public API only.
 *
 * quired owns its listeners and decides, for every accepted socket, whether evhttp serves
 * it or it is refused (conns.c). libevent 2.1.12 has no public call that hands an accepted
 * socket to an evhttp, and none that gives the evhttp_connection made for a bufferevent.
 * The four assumptions, each checked at run time where it can be, and all of them by
 * tests/unit/test_evglue.c (a libevent upgrade that breaks one fails that test):
 *
 *   1. evhttp_bind_listener() stores its accept callback and its argument (the evhttp) in
 *      the listener with evconnlistener_set_cb(); evglue_bind() reads them back from the
 *      start of struct evconnlistener (listener.c), after checking that layout with a
 *      callback of its own.
 *   2. evhttp gives every bufferevent it serves a connection on its own callbacks with the
 *      evhttp_connection as their argument; evglue_connection_of() checks the answer with
 *      the public evhttp_connection_get_bufferevent().
 *   3. An incoming connection's close callback (evhttp_connection_set_closecb) runs exactly
 *      once, just before evhttp closes its socket, however it ends (freed, reset, failed).
 *   4. evhttp queues an answer's status line ("HTTP/1.x NNN Reason\r\n") on the connection's
 *      output buffer in one addition, ahead of its headers and body. Its own answers, the
 *      HTML pages of evhttp_send_error (400 for what does not parse, 413, 417 for an
 *      Expect it does not know, 501 for a method it does not serve), are queued from inside
 *      its read callback, and a socket bufferevent writes only on a later pass of the loop.
 *      So an event made active when such a status line is queued runs before any byte of
 *      the answer is sent, and freeing the connection then drops the answer unsent: quired
 *      answers in its place (conns_answer.c). evglue_answer_status() reads the status line.
 */
#ifndef QUIRE_EVGLUE_H
#define QUIRE_EVGLUE_H

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>

/* evhttp's own accept callback, taken from a listener bound to it. */
struct evglue_accept {
    evconnlistener_cb cb;
    void *arg;
};

/* Binds lev to http, then makes cb (with arg) lev's accept callback, keeping evhttp's in
 * *evhttp_accept for evglue_handoff. Returns the bound socket, or NULL when the listener's
 * layout is not the one expected (lev is freed then). */
struct evhttp_bound_socket *evglue_bind(struct evhttp *http, struct evconnlistener *lev,
                                        evconnlistener_cb cb, void *arg,
                                        struct evglue_accept *evhttp_accept);
/* Gives an accepted socket to evhttp, as if its listener had accepted it: from now on the
 * socket is evhttp's (it closes it, even when it cannot set the connection up). */
void evglue_handoff(const struct evglue_accept *a, struct evconnlistener *lev, evutil_socket_t fd,
                    struct sockaddr *sa, int socklen);
/* The evhttp connection served on bev, or NULL when evhttp serves none on it (it failed to
 * set one up, or has freed it). The caller must hold a reference to bev. */
struct evhttp_connection *evglue_connection_of(struct bufferevent *bev);
/* For an evbuffer callback on a connection's output buffer: the status of the answer whose
 * status line was just added (info), or 0 when the addition is not one (assumption 4). */
int evglue_answer_status(struct evbuffer *out, const struct evbuffer_cb_info *info);

#endif
