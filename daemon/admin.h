/*
 * admin.h -- quired's administrative endpoints (admin.c), all behind one check: the admin
 * token ("Authorization: Bearer TOKEN") or a Unix-socket peer with an allowed uid.
 *   POST /admin/reload          what SIGHUP does, answered once every worker has reopened
 *   GET  /admin/queries         the query analytics (analytics.h): ?limit=N per list
 *   POST /admin/queries/reset   the same report, and the counts start again from zero
 */
#ifndef QUIRE_ADMIN_H
#define QUIRE_ADMIN_H

struct evhttp_request;
struct worker;

/* Most queries a list of /admin/queries shows unless ?limit= says otherwise. */
#define ADMIN_QUERIES_DEFAULT_LIMIT 100

/* Handles /admin/WHAT (what: the path after "/admin/"), qs the query string or NULL. */
void admin_handle(struct evhttp_request *req, struct worker *w, const char *what, const char *qs);

#endif
