/*
 * routes.h -- quired's HTTP endpoints, one handler each:
 *   GET/POST /search   GET /doc/{id}   GET /health   GET /metrics
 *   GET / and GET /assets/NAME (the search page, page.c)   GET /complete (typeahead.c)
 *   POST /admin/reload, GET /admin/queries, POST /admin/queries/reset (admin.c: the admin
 *   token or an allowed Unix-socket peer)
 * Every error is JSON {"error": {"code", "message"}} with the matching status (but evhttp's
 * own short pages for what does not parse or a body over max_body). No endpoint
 * reads a file named by the request: /doc/{id} looks the id up in the index.
 */
#ifndef QUIRE_ROUTES_H
#define QUIRE_ROUTES_H

#include <jansson.h>

struct evhttp_request;
struct worker;

/* The evhttp generic callback: dispatches one request. arg is the worker. */
void routes_dispatch(struct evhttp_request *req, void *arg);

/* For handlers in other files: the JSON reply (obj stolen), the error reply
 * {"error": {"code", "message"}}, and a reply whose body and headers the caller has set. */
void routes_send_json(struct evhttp_request *req, int status, json_t *obj);
/* 405 with the Allow header listing what the endpoint takes. */
void routes_send_not_allowed(struct evhttp_request *req, const char *allow);
void routes_send_error(struct evhttp_request *req, int status, const char *code,
                       const char *message);
void routes_send_body(struct evhttp_request *req, int status);

#endif
