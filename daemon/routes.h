/*
 * routes.h -- quired's HTTP endpoints, one handler each:
 *   GET/POST /search   GET /doc/{id}   GET /health
 * Every error is JSON {"error": {"code", "message"}} with the matching status.
 */
#ifndef QUIRE_ROUTES_H
#define QUIRE_ROUTES_H

struct evhttp_request;
struct worker;

/* The evhttp generic callback: dispatches one request. arg is the worker. */
void routes_dispatch(struct evhttp_request *req, void *arg);

#endif
