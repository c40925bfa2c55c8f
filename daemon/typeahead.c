/*
 * typeahead.c -- GET /complete (see typeahead.h and lib/complete.h).
 *
 * Parameters: q (the text typed so far, at most SEARCH_MAX_QUERY_BYTES of UTF-8; may be
 * empty) and limit (1..COMPLETE_MAX_LIMIT, default COMPLETE_DEFAULT_LIMIT). Anything else
 * is refused, as /search refuses unknown parameters. The answer is meant to be asked for
 * on every keystroke: one metadata read for a short prefix (the indexer's table), a bounded
 * term walk otherwise.
 */
#include "typeahead.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>

#include "complete.h"
#include "number.h"
#include "routes.h"
#include "search.h"
#include "server.h"
#include "util.h"

void typeahead_handle(struct evhttp_request *req, struct worker *w, const char *qs)
{
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
        routes_send_error(req, 405, "method_not_allowed", "method not allowed here; use GET");
        return;
    }
    struct evkeyvalq params;
    TAILQ_INIT(&params);
    if (qs && evhttp_parse_query_str(qs, &params) < 0) {
        evhttp_clear_headers(&params);
        routes_send_error(req, 400, "bad_parameter", "the query string is malformed");
        return;
    }
    const char *q = "";
    unsigned limit = COMPLETE_DEFAULT_LIMIT;
    char msg[160] = "";
    for (struct evkeyval *kv = params.tqh_first; kv && !msg[0]; kv = kv->next.tqe_next) {
        if (strcmp(kv->key, "q") == 0) {
            size_t len = strlen(kv->value);
            if (len > SEARCH_MAX_QUERY_BYTES)
                snprintf(msg, sizeof msg, "q is %zu bytes; the most allowed is %d", len,
                         SEARCH_MAX_QUERY_BYTES);
            else if (!util_utf8_valid(kv->value, len))
                snprintf(msg, sizeof msg, "q is not valid UTF-8 text");
            q = kv->value;
        } else if (strcmp(kv->key, "limit") == 0) {
            long n;
            if (num_parse_long(kv->value, 1, COMPLETE_MAX_LIMIT, &n) != NUM_OK)
                snprintf(msg, sizeof msg, "parameter 'limit' must be a whole number from 1 to %d",
                         COMPLETE_MAX_LIMIT);
            else
                limit = (unsigned)n;
        } else {
            snprintf(msg, sizeof msg, "unknown parameter '%.64s' (use q and limit)", kv->key);
        }
    }
    if (msg[0]) {
        evhttp_clear_headers(&params);
        routes_send_error(req, 400, "bad_parameter", msg);
        return;
    }
    struct search_error err;
    json_t *res = search_complete(w->ix, q, limit, &err);
    evhttp_clear_headers(&params);
    if (!res) {
        routes_send_error(req, err.status, err.code, err.message);
        return;
    }
    routes_send_json(req, 200, res);
}
