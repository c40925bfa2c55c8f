/*
 * routes.h -- quired's HTTP endpoints, one handler each:
 *   GET/POST /search   GET /doc/{id}   GET /health   GET /metrics
 *   POST /admin/reload (the admin token or an allowed Unix-socket peer; see routes.c)
 * Every error is JSON {"error": {"code", "message"}} with the matching status (but evhttp's
 * own short pages for what does not parse or a body over max_body). No endpoint
 * reads a file named by the request: /doc/{id} looks the id up in the index.
 */
#ifndef QUIRE_ROUTES_H
#define QUIRE_ROUTES_H

struct evhttp_request;
struct worker;

/* The evhttp generic callback: dispatches one request. arg is the worker. */
void routes_dispatch(struct evhttp_request *req, void *arg);

#endif
