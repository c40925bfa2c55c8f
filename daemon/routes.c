/*
 * routes.c -- quired's HTTP endpoints (see routes.h).
 *
 * A handler decodes its input into the shared search_request (lib/request.c does the
 * validation), calls the shared search code and sends its JSON. Handlers run on the
 * worker's own thread with the worker's own index handle, synchronously: search calls
 * are short and bounded, and this keeps every request on one database view.
 */
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "admin.h"
#include "analytics.h"
#include "conns.h"
#include "json_write.h"
#include "page.h"
#include "search.h"
#include "server.h"
#include "typeahead.h"
#include "util.h"

/* The status of the reply just sent on this thread: evhttp may free the request inside
 * evhttp_send_reply (when the client is gone), so the logger must not read it back. */
static _Thread_local int last_status;
/* The answering index's identity, set per request for the response headers. */
static _Thread_local struct search_index *answering;

/* The answer when a response cannot be built (out of memory): made at compile time, so
 * that a failure to build one never goes out as its status with an empty body. */
static const char internal_error_body[] =
    "{\"error\":{\"code\":\"internal\",\"message\":\"the server ran out of memory building "
    "the response; try again\"}}\n";

/* The largest response body this thread may send now (max_response; set per request). */
static _Thread_local size_t max_response;

/* Room for most answers (ten hits with snippets) in the first allocation. */
#define OUT_JSON_FIRST (16u << 10)
/* handle_search's answer when even the first allocation failed (not search_run_json's). */
#define SEARCH_JSON_NO_BUFFER (-3)

/* The largest JSON body this thread may send now. */
static size_t max_json(void)
{
    return max_response ? max_response : (size_t)-1;
}

static void send_body(struct evhttp_request *req, int status, struct strbuf *out_json, int rc);

/* Sends obj (stolen; NULL when it could not be made) as the response body with status.
 * Never more than max_response bytes of JSON: a larger one is answered 500
 * response_too_large, one that cannot be encoded 500 with internal_error_body. */
static void send_json(struct evhttp_request *req, int status, json_t *obj)
{
    /* The JSON is written into one buffer, then added to the response in one piece. */
    struct strbuf out_json;
    sb_init(&out_json);
    int rc = obj && sb_reserve(&out_json, OUT_JSON_FIRST) == 0
                 ? json_write(obj, &out_json, max_json(), SEARCH_JSON_PRECISION)
                 : JSON_WRITE_NO_MEMORY;
    json_decref(obj);
    send_body(req, status, &out_json, rc);
}

/* Sends out_json (freed here), JSON written with the result rc (a JSON_WRITE_ code), as the
 * response body with status; a failed rc is answered as send_json says. */
static void send_body(struct evhttp_request *req, int status, struct strbuf *out_json, int rc)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    size_t max = max_json();
    if (rc == JSON_WRITE_OK)
        sb_putc(out_json, '\n');
    if (rc != JSON_WRITE_OK || out_json->failed ||
        evbuffer_add(out, out_json->buf, out_json->len) < 0) {
        evbuffer_drain(out, evbuffer_get_length(out));
        char msg[256];
        int n = rc == JSON_WRITE_TOO_LARGE
                    ? snprintf(msg, sizeof msg,
                               "{\"error\":{\"code\":\"response_too_large\",\"message\":"
                               "\"the response would be over max_response (%zu bytes); ask "
                               "for fewer hits (limit), shorter snippets (snippet_bytes) or "
                               "none (snippet=0)\"}}\n",
                               max)
                    : -1;
        if (n < 0 || (size_t)n >= sizeof msg || evbuffer_add(out, msg, (size_t)n) < 0) {
            evbuffer_drain(out, evbuffer_get_length(out));
            evbuffer_add_reference(out, internal_error_body, sizeof internal_error_body - 1,
                                   NULL, NULL);
        }
        status = 500;
    }
    sb_free(out_json);
    last_status = status;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (answering) {
        /* Which index answered: generation and revision, on every response. */
        char rev[32];
        snprintf(rev, sizeof rev, "%lu", search_index_revision(answering));
        const char *gen = search_index_generation(answering);
        if (gen[0])
            evhttp_add_header(h, "X-Quire-Generation", gen);
        evhttp_add_header(h, "X-Quire-Revision", rev);
        const char *updated = search_index_updated(answering);
        if (updated[0])
            evhttp_add_header(h, "X-Quire-Updated", updated);
    }
    const char *reason = status == 200   ? "OK"
                         : status == 400 ? "Bad Request"
                         : status == 401 ? "Unauthorized"
                         : status == 403 ? "Forbidden"
                         : status == 404 ? "Not Found"
                         : status == 405 ? "Method Not Allowed"
                         : status == 413 ? "Payload Too Large"
                         : status == 431 ? "Request Header Fields Too Large"
                         : status == 500 ? "Internal Server Error"
                         : status == 503 ? "Service Unavailable"
                                         : "Error";
    evhttp_send_reply(req, status, reason, NULL);
}

/* Sends {"error": {"code", "message"}}. A message quoting the client's bytes may not be
 * UTF-8 (an unknown parameter's name): those bytes are sent as '?', not as a 500. */
static void send_error(struct evhttp_request *req, int status, const char *code,
                       const char *message)
{
    char clean[512];
    if (!util_utf8_valid(message, strlen(message))) {
        size_t n = 0;
        for (const char *p = message; *p && n + 1 < sizeof clean; p++)
            clean[n++] = (unsigned char)*p < 0x80 ? *p : '?';
        clean[n] = '\0';
        message = clean;
    }
    json_t *e = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
    send_json(req, status, e);
}

static void send_search_error(struct evhttp_request *req, const struct search_error *err)
{
    send_error(req, err->status, err->code, err->message);
}

void routes_send_not_allowed(struct evhttp_request *req, const char *allow)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
    char msg[128];
    snprintf(msg, sizeof msg, "method not allowed here; use %s", allow);
    send_error(req, 405, "method_not_allowed", msg);
}

static void handle_search(struct evhttp_request *req, struct worker *w, const char *qs)
{
    struct search_request sr;
    struct search_error err;
    search_request_init(&sr);
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    if (method == EVHTTP_REQ_POST) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        size_t max_body = atomic_load_explicit(&w->srv->live_max_body, memory_order_relaxed);
        /* evhttp refuses larger bodies itself; this holds between a reload lowering the
         * limit and the connection's next request. */
        if (len > max_body) {
            char msg[128];
            snprintf(msg, sizeof msg, "request body is %zu bytes; the most allowed is %zu", len,
                     max_body);
            send_error(req, 413, "body_too_large", msg);
            return;
        }
        const char *body = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
        if (search_request_from_query(&sr, qs, &err) < 0 ||
            search_request_from_json(&sr, body ? body : "", len, &err) < 0) {
            send_search_error(req, &err);
            search_request_clear(&sr);
            return;
        }
    } else if (method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD) {
        if (search_request_from_query(&sr, qs, &err) < 0) {
            send_search_error(req, &err);
            search_request_clear(&sr);
            return;
        }
    } else {
        routes_send_not_allowed(req, "GET, POST");
        return;
    }
    double t0 = util_now_ms();
    search_index_set_timeout(
        w->ix, atomic_load_explicit(&w->srv->live_search_timeout_ms, memory_order_relaxed));
    /* The answer is written as it is made, without a tree of it (search_run_json). */
    struct strbuf out_json;
    struct search_summary sum;
    sb_init(&out_json);
    int rc = sb_reserve(&out_json, OUT_JSON_FIRST) == 0
                 ? search_run_json(w->ix, &sr, &out_json, max_json(), &sum, &err)
                 : SEARCH_JSON_NO_BUFFER;
    int answered = rc == 0 || rc == SEARCH_JSON_TOO_LARGE; /* a result was made */
    if (answered && sum.timed_out)
        atomic_fetch_add_explicit(&w->metrics.timeouts, 1, memory_order_relaxed);
    double ms = util_now_ms() - t0;
    long slow_us = atomic_load_explicit(&w->srv->live_slow_us, memory_order_relaxed);
    if (slow_us > 0 && ms * 1000 >= (double)slow_us) {
        atomic_fetch_add_explicit(&w->metrics.slow_queries, 1, memory_order_relaxed);
        json_t *line = json_pack("{s:s, s:s, s:f, s:s, s:i, s:i, s:b}", "event", "slow_query",
                                 "slow_query", sr.q ? sr.q : "", "ms", ms, "status",
                                 answered                        ? "ok"
                                 : rc == SEARCH_JSON_NO_BUFFER ? "internal"
                                                               : err.code,
                                 "limit", (int)sr.limit, "offset", (int)sr.offset, "timed_out",
                                 answered && sum.timed_out);
        server_log_json(w->srv, line);
    }
    if (answered &&
        analytics_record_search(w->srv->analytics, sr.q, sr.offset, sum.estimated) < 0)
        server_log(w->srv, "analytics", "a search was not counted: out of memory");
    search_request_clear(&sr);
    if (rc == -1) {
        sb_free(&out_json);
        send_search_error(req, &err);
        return;
    }
    send_body(req, 200, &out_json,
              rc == 0                        ? JSON_WRITE_OK
              : rc == SEARCH_JSON_TOO_LARGE ? JSON_WRITE_TOO_LARGE
                                             : JSON_WRITE_NO_MEMORY);
}

/* GET /doc/{id} and GET /doc/{id}/similar?limit=N&offset=K&snippet=&dedup=&fields=. The id is split from "/similar"
 * before percent-decoding, so an id that itself ends in "/similar" can be asked for with
 * its slash encoded (%2F). */
static void handle_doc(struct evhttp_request *req, struct worker *w, const char *raw_id,
                       const char *qs)
{
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        routes_send_not_allowed(req, "GET");
        return;
    }
    size_t rawlen = strlen(raw_id);
    static const char suffix[] = "/similar";
    int similar = rawlen > sizeof suffix - 1 &&
                  strcmp(raw_id + rawlen - (sizeof suffix - 1), suffix) == 0;
    char *raw = strndup(raw_id, similar ? rawlen - (sizeof suffix - 1) : rawlen);
    if (!raw) {
        send_error(req, 500, "internal", "out of memory");
        return;
    }
    size_t len = 0;
    char *id = evhttp_uridecode(raw, 0, &len);
    free(raw);
    if (!id) {
        send_error(req, 400, "bad_parameter", "document id cannot be decoded");
        return;
    }
    if (len != strlen(id)) {
        free(id);
        send_error(req, 400, "bad_parameter", "document id contains a NUL byte");
        return;
    }
    struct search_error err;
    json_t *doc;
    if (similar) {
        struct search_request sr;
        search_request_init(&sr);
        if (search_request_from_similar_query(&sr, qs, &err) < 0) {
            free(id);
            search_request_clear(&sr);
            send_search_error(req, &err);
            return;
        }
        search_index_set_timeout(
            w->ix, atomic_load_explicit(&w->srv->live_search_timeout_ms, memory_order_relaxed));
        doc = search_similar(w->ix, id, &sr, &err);
        if (doc && json_is_true(json_object_get(doc, "timed_out")))
            atomic_fetch_add_explicit(&w->metrics.timeouts, 1, memory_order_relaxed);
        search_request_clear(&sr);
    } else {
        doc = search_doc(w->ix, id, &err);
    }
    free(id);
    if (!doc) {
        send_search_error(req, &err);
        return;
    }
    send_json(req, 200, doc);
}

static void handle_health(struct evhttp_request *req, struct worker *w)
{
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        routes_send_not_allowed(req, "GET");
        return;
    }
    struct search_error err;
    json_t *h = search_health(w->ix, &err);
    if (!h) {
        send_search_error(req, &err);
        return;
    }
    const char *status = json_string_value(json_object_get(h, "status"));
    send_json(req, status && strcmp(status, "unavailable") == 0 ? 503 : 200, h);
}

/* Appends this worker's view of each shard of a sharded index. */
static void shard_metrics(struct strbuf *sb, struct search_index *ix)
{
    json_t *shards = search_shards(ix);
    if (!shards)
        return;
    static const char *const names[] = {"quire_shard_up", "quire_shard_docs",
                                        "quire_shard_failures_total"};
    static const char *const help[] = {
        "1 when the shard answers, 0 while it is down (this worker's view).",
        "Documents in the shard (0 while it is down).",
        "Times the shard failed or could not be reached (this worker's count)."};
    static const char *const types[] = {"gauge", "gauge", "counter"};
    for (int m = 0; m < 3; m++) {
        sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", names[m], help[m], names[m], types[m]);
        size_t i;
        json_t *o;
        json_array_foreach(shards, i, o) {
            const char *name = json_string_value(json_object_get(o, "name"));
            int up = strcmp(json_string_value(json_object_get(o, "state")), "up") == 0;
            json_int_t v = m == 0   ? up
                           : m == 1 ? json_integer_value(json_object_get(o, "docs"))
                                    : json_integer_value(json_object_get(o, "failures"));
            sb_printf(sb, "%s{shard=\"", names[m]);
            for (const char *c = name ? name : ""; *c; c++) {
                if (*c == '"' || *c == '\\')
                    sb_putc(sb, '\\');
                sb_putc(sb, *c == '\n' ? ' ' : *c);
            }
            sb_printf(sb, "\"} %lld\n", (long long)v);
        }
    }
    json_decref(shards);
}

static void handle_metrics(struct evhttp_request *req, struct worker *w)
{
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        routes_send_not_allowed(req, "GET");
        return;
    }
    struct server *s = w->srv;
    struct metrics *all[SERVER_MAX_THREADS];
    for (int i = 0; i < s->nworkers; i++)
        all[i] = &s->workers[i].metrics;
    struct conns_stats cs;
    conns_get_stats(w, &cs);
    struct strbuf sb;
    sb_init(&sb);
    metrics_render(&sb, all, s->nworkers, search_index_doccount(w->ix),
                   search_index_revision(w->ix), search_index_generation(w->ix), &cs);
    shard_metrics(&sb, w->ix);
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add(out, sb_cstr(&sb), strlen(sb_cstr(&sb)));
    sb_free(&sb);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4");
    last_status = 200;
    evhttp_send_reply(req, 200, "OK", NULL);
}

#define ROUTES_MAX_HEADER_BYTES 65536

/* Bytes of the request's header lines. */
static size_t headers_size(struct evhttp_request *req)
{
    size_t n = 0;
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    for (struct evkeyval *kv = h->tqh_first; kv; kv = kv->next.tqe_next)
        n += strlen(kv->key) + strlen(kv->value) + 4;
    return n;
}

/* Name of an evhttp method. */
static const char *method_name(enum evhttp_cmd_type m)
{
    static const char *names[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE",
                                  "CONNECT", "PATCH"};
    for (int i = 0; i < 9; i++) {
        if (m == (enum evhttp_cmd_type)(1 << i))
            return names[i];
    }
    return "?";
}

void routes_dispatch(struct evhttp_request *req, void *arg)
{
    struct worker *w = arg;
    double t0 = util_now_ms();
    atomic_fetch_add_explicit(&w->metrics.inflight, 1, memory_order_relaxed);
    answering = w->ix;
    max_response = atomic_load_explicit(&w->srv->live_max_response, memory_order_relaxed);
    last_status = 0;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *p = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
    /* Copied: the request may be freed by the time we log. */
    char path[256];
    snprintf(path, sizeof path, "%s", p ? p : "");
    const char *method = method_name(evhttp_request_get_command(req));
    enum metrics_endpoint ep = EP_OTHER;
    conns_request(w, req);
    if (headers_size(req) > ROUTES_MAX_HEADER_BYTES) {
        /* evhttp's own header limit is not applied reliably to a single huge line that
         * arrives in pieces; this one is exact. */
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        send_error(req, 431, "headers_too_large", "request headers are over 65536 bytes");
    } else if (!p || !*p) {
        send_error(req, 400, "bad_request", "request has no path");
    } else if (strcmp(p, "/search") == 0) {
        ep = EP_SEARCH;
        handle_search(req, w, qs);
    } else if (strncmp(p, "/doc/", 5) == 0 && p[5]) {
        ep = EP_DOC;
        handle_doc(req, w, p + 5, qs);
    } else if (strcmp(p, "/health") == 0) {
        ep = EP_HEALTH;
        handle_health(req, w);
    } else if (strcmp(p, "/metrics") == 0) {
        ep = EP_METRICS;
        handle_metrics(req, w);
    } else if (strncmp(p, "/admin/", 7) == 0) {
        ep = EP_ADMIN;
        admin_handle(req, w, p + 7, qs);
    } else if (strcmp(p, "/") == 0 || strncmp(p, "/assets/", 8) == 0) {
        page_handle(req, w, p, qs);
    } else if (strcmp(p, "/complete") == 0) {
        typeahead_handle(req, w, qs);
    } else {
        send_error(req, 404, "not_found",
                   "no such endpoint; try /, /search, /complete, /doc/{id}, /health or /metrics");
    }
    conns_request_end(w);
    double ms = util_now_ms() - t0;
    metrics_record(&w->metrics, ep, last_status, ms);
    atomic_fetch_sub_explicit(&w->metrics.inflight, 1, memory_order_relaxed);
    answering = NULL;
    server_log_request(w, method, path, last_status, ms);
}

void routes_send_json(struct evhttp_request *req, int status, json_t *obj)
{
    send_json(req, status, obj);
}

void routes_send_error(struct evhttp_request *req, int status, const char *code,
                       const char *message)
{
    send_error(req, status, code, message);
}

void routes_send_body(struct evhttp_request *req, int status)
{
    last_status = status;
    evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", NULL);
}
