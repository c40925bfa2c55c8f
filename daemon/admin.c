/*
 * admin.c -- quired's administrative endpoints (see admin.h).
 *
 * One gate for all of them (admin_allowed): the admin token as a bearer token, over TCP or
 * the Unix socket, or a Unix-socket peer whose uid the kernel vouches for (SO_PEERCRED)
 * and the configuration allows. Every refusal and every reload is logged with who asked;
 * reading the query analytics is not (it changes nothing).
 *
 * The endpoint is decided (404) and then the method (405) before the credentials, so that
 * a typo is told as such rather than as a refusal.
 */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "analytics.h"
#include "number.h"
#include "routes.h"
#include "server.h"

/* The Unix-socket peer of req's connection: 1 with *uid filled when it came over the
 * Unix socket and the kernel vouches for the peer (SO_PEERCRED), else 0. */
static int peer_uid(struct evhttp_request *req, unsigned long *uid)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 || ss.ss_family != AF_UNIX)
        return 0;
    struct ucred cred;
    socklen_t cl = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cl != sizeof cred)
        return 0;
    *uid = (unsigned long)cred.uid;
    return 1;
}

/* Decides whether req may use an administrative endpoint: with the admin token as
 * "Authorization: Bearer TOKEN" (over TCP or the Unix socket), or over the Unix socket from
 * an allowed uid (server_admin_uid_ok). Returns 0 with who describing the caller, or the
 * status to refuse with (401: no credentials, or not a bearer token; 403: credentials that
 * do not allow it) and the message. */
static int admin_allowed(struct evhttp_request *req, struct server *s, char *who, size_t wholen,
                         char *msg, size_t msglen)
{
    unsigned long uid = 0;
    int on_unix = peer_uid(req, &uid);
    const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (on_unix && server_admin_uid_ok(s, uid)) {
        snprintf(who, wholen, "uid %lu over the Unix socket", uid);
        return 0;
    }
    if (auth) {
        if (strncasecmp(auth, "Bearer ", 7) != 0) {
            snprintf(msg, msglen, "the Authorization header must be 'Bearer TOKEN'");
            return 401;
        }
        const char *token = auth + 7;
        while (*token == ' ')
            token++;
        if (!server_admin_has_token(s)) {
            snprintf(msg, msglen,
                     "no admin_token is configured, so no token is accepted; "
                     "administrative requests need the Unix socket and an "
                     "allowed uid");
            return 403;
        }
        if (!server_admin_token_ok(s, token, strlen(token))) {
            snprintf(msg, msglen, "the admin token is not the configured one");
            return 403;
        }
        snprintf(who, wholen, "admin token over %s", on_unix ? "the Unix socket" : "TCP");
        return 0;
    }
    if (on_unix) {
        snprintf(msg, msglen,
                 "uid %lu may not use administrative endpoints (allowed: the "
                 "daemon's uid, root and admin_uid), and no admin token was sent",
                 uid);
        return 403;
    }
    if (!server_admin_has_token(s)) {
        snprintf(msg, msglen,
                 "administrative endpoints are refused over TCP: no admin_token "
                 "is configured (use the Unix socket)");
        return 403;
    }
    snprintf(msg, msglen,
             "administrative endpoint: send 'Authorization: Bearer TOKEN' with "
             "the admin_token of the configuration file");
    return 401;
}

/* POST /admin/reload: what SIGHUP does (re-read the configuration, reopen the index on every
 * worker), answered once every worker has reopened, so the very next request sees the new
 * index. */
static void handle_reload(struct evhttp_request *req, struct worker *w, const char *who)
{
    server_log(w->srv, "admin_reload",
               "admin: POST /admin/reload by %s: re-reading configuration, reopening the index",
               who);
    static _Thread_local struct reload_report rep; /* 1.5 KB: not on the stack */
    server_reload(w->srv, w, 2000, &rep);
    if (rep.config_rc < 0) {
        char text[700];
        snprintf(text, sizeof text,
                 "configuration not reloaded, the old one is kept (%s); the index was reopened",
                 rep.why);
        routes_send_error(req, 500, "config_invalid", text);
        return;
    }
    json_t *res = json_pack("{s:s, s:i, s:i, s:i, s:I, s:s, s:o, s:o}", "status", "reloaded",
                            "workers", w->srv->nworkers, "workers_reopened", rep.reopened, "docs",
                            (int)search_index_doccount(w->ix), "revision",
                            (json_int_t)search_index_revision(w->ix), "generation",
                            search_index_generation(w->ix), "changed", server_name_list(rep.changed),
                            "needs_restart", server_name_list(rep.restart));
    routes_send_json(req, 200, res);
}

/* GET /admin/queries and POST /admin/queries/reset: the analytics report, at most ?limit=N
 * (1..ANALYTICS_CAPACITY) queries a list; with reset, the counts then start from zero (and
 * the answer says "reset": true). */
static void handle_queries(struct evhttp_request *req, struct worker *w, const char *qs, int reset)
{
    struct evkeyvalq params;
    TAILQ_INIT(&params);
    unsigned limit = ADMIN_QUERIES_DEFAULT_LIMIT;
    char msg[160] = "";
    if (qs && evhttp_parse_query_str(qs, &params) < 0)
        snprintf(msg, sizeof msg, "the query string is malformed");
    for (struct evkeyval *kv = params.tqh_first; kv && !msg[0]; kv = kv->next.tqe_next) {
        if (strcmp(kv->key, "limit") == 0) {
            long n;
            if (num_parse_long(kv->value, 1, ANALYTICS_CAPACITY, &n) != NUM_OK)
                snprintf(msg, sizeof msg, "parameter 'limit' must be a whole number from 1 to %d",
                         ANALYTICS_CAPACITY);
            else
                limit = (unsigned)n;
        } else {
            snprintf(msg, sizeof msg, "unknown parameter '%.64s'; this endpoint takes limit",
                     kv->key);
        }
    }
    evhttp_clear_headers(&params);
    if (msg[0]) {
        routes_send_error(req, 400, "bad_parameter", msg);
        return;
    }
    json_t *res = reset ? analytics_report_reset(w->srv->analytics, limit)
                        : analytics_report(w->srv->analytics, limit);
    if (res && reset && json_object_set_new(res, "reset", json_true()) < 0) {
        json_decref(res);
        res = NULL;
    }
    routes_send_json(req, 200, res);
}

void admin_handle(struct evhttp_request *req, struct worker *w, const char *what, const char *qs)
{
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    int reload = strcmp(what, "reload") == 0;
    int queries = strcmp(what, "queries") == 0;
    int reset = strcmp(what, "queries/reset") == 0;
    if (!reload && !queries && !reset) {
        routes_send_error(req, 404, "not_found",
                          "no such administrative endpoint; try /admin/reload, /admin/queries "
                          "or /admin/queries/reset");
        return;
    }
    if (queries && method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        routes_send_not_allowed(req, "GET");
        return;
    }
    if (!queries && method != EVHTTP_REQ_POST) {
        routes_send_not_allowed(req, "POST");
        return;
    }
    char who[64] = "", msg[256] = "";
    int refuse = admin_allowed(req, w->srv, who, sizeof who, msg, sizeof msg);
    if (refuse) {
        server_log(w->srv, "admin_refused", "admin: refused %s /admin/%s (%d): %s",
                   queries ? "GET" : "POST", what, refuse, msg);
        if (refuse == 401)
            evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                              "Bearer realm=\"quired\"");
        routes_send_error(req, refuse, refuse == 401 ? "unauthorized" : "forbidden", msg);
        return;
    }
    if (reload)
        handle_reload(req, w, who);
    else
        handle_queries(req, w, qs, reset);
}
