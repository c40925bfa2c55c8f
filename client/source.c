/*
 * source.c -- where quire's answers come from (see source.h): daemon mode and direct mode.
 *
 * By default quire asks the quired daemon (127.0.0.1:7070, or --connect / --socket)
 * through libquire-client; with --db DIR it opens the index itself through lib/search.h,
 * the very functions the daemon calls. Both give the same JSON object, so everything after
 * fetching (the human output, --json, the exit status) is written once and cannot differ
 * between the two.
 */
#include "source.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cliout.h"
#include "complete.h"
#include "util.h"

/* The daemon's answer as a JSON object (a new reference), or NULL after printing why there
 * is none; frees r. */
static json_t *daemon_answer(struct source *src, qc_code rc, qc_response *r)
{
    json_t *j = cliout_answer(src->qc, rc, r);
    qc_response_free(r);
    return j;
}

/* Sets the search parameters of the command line on req, for --db. Returns 0, or -1 with
 * err filled. */
static int request_set_params(struct search_request *req, const struct options *o,
                              struct search_error *err)
{
    for (size_t i = 0; i < o->nparams; i++) {
        if (search_request_set(req, o->params[i].key, o->params[i].value, err) < 0)
            return -1;
    }
    return 0;
}

/* Prints a search_error from lib/ and returns NULL, for --db. */
static json_t *local_error(const struct search_error *err)
{
    fputs("quire: ", stderr);
    cliout_puts_clean(stderr, err->message);
    putc('\n', stderr);
    return NULL;
}

/* Runs a search against either source. Returns the result (caller decrefs) or NULL after
 * printing the error. */
json_t *source_search(struct source *src, const struct options *o, const char *query)
{
    if (src->qc) {
        qc_search_opts so;
        qc_search_opts_init(&so);
        so.query = query;
        so.params = o->params;
        so.nparams = o->nparams;
        qc_response *r = NULL;
        qc_code rc = qc_search(src->qc, &so, &r);
        return daemon_answer(src, rc, r);
    }
    struct search_request req;
    struct search_error err = {0};
    json_t *j = NULL;
    search_request_init(&req);
    int ok =
        search_request_set(&req, "q", query, &err) == 0 && request_set_params(&req, o, &err) == 0;
    if (ok && search_request_validate(&req, &err) == 0)
        j = search_run(src->ix, &req, &err);
    search_request_clear(&req);
    return j ? j : local_error(&err);
}

/* Fetches one document from either source. */
json_t *source_doc(struct source *src, const char *id)
{
    if (src->qc) {
        qc_response *r = NULL;
        qc_code rc = qc_doc(src->qc, id, &r);
        return daemon_answer(src, rc, r);
    }
    struct search_error err = {0};
    json_t *j = search_doc(src->ix, id, &err);
    return j ? j : local_error(&err);
}

/* Fetches the articles like id from either source, with the search options similar takes
 * (checked by args_command). */
json_t *source_similar(struct source *src, const struct options *o, const char *id)
{
    if (src->qc) {
        qc_response *r = NULL;
        qc_code rc = qc_similar_params(src->qc, id, o->params, o->nparams, &r);
        return daemon_answer(src, rc, r);
    }
    struct search_request req;
    struct search_error err = {0};
    json_t *j = NULL;
    search_request_init(&req);
    if (request_set_params(&req, o, &err) == 0)
        j = search_similar(src->ix, id, &req, &err);
    search_request_clear(&req);
    return j ? j : local_error(&err);
}

/* Fetches the completions of text from either source (GET /complete, or lib/complete.c). */
json_t *source_complete(struct source *src, const struct options *o, const char *text)
{
    long limit = args_param_limit(o);
    if (src->qc) {
        struct strbuf path;
        sb_init(&path);
        sb_puts(&path, "/complete?q=");
        for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                *c == '-' || *c == '_' || *c == '.' || *c == '~')
                sb_putc(&path, (char)*c);
            else
                sb_printf(&path, "%%%02X", *c);
        }
        if (limit >= 0)
            sb_printf(&path, "&limit=%ld", limit);
        if (path.failed) {
            sb_free(&path);
            fputs("quire: out of memory\n", stderr);
            return NULL;
        }
        qc_response *r = NULL;
        qc_code rc = qc_get(src->qc, sb_cstr(&path), &r);
        sb_free(&path);
        return daemon_answer(src, rc, r);
    }
    struct search_error err = {0};
    if (limit == 0 || limit > COMPLETE_MAX_LIMIT) {
        search_error_set(&err, 400, "bad_parameter",
                         "parameter 'limit' must be a whole number from 1 to %d",
                         COMPLETE_MAX_LIMIT);
        return local_error(&err);
    }
    if (strlen(text) > SEARCH_MAX_QUERY_BYTES || !util_utf8_valid(text, strlen(text))) {
        search_error_set(&err, 400, "bad_parameter", "the text must be at most %d bytes of UTF-8",
                         SEARCH_MAX_QUERY_BYTES);
        return local_error(&err);
    }
    json_t *j =
        search_complete(src->ix, text, limit < 0 ? COMPLETE_DEFAULT_LIMIT : (unsigned)limit, &err);
    return j ? j : local_error(&err);
}

/* Fetches the health object from either source. */
json_t *source_health(struct source *src)
{
    if (src->qc) {
        qc_response *r = NULL;
        qc_code rc = qc_health(src->qc, &r);
        return daemon_answer(src, rc, r);
    }
    struct search_error err = {0};
    json_t *j = search_health(src->ix, &err);
    return j ? j : local_error(&err);
}

/* Opens the source the options name. Returns 0, or -1 after printing why. */
int source_open(struct source *src, const struct options *o)
{
    if (o->db) {
        struct search_error err = {0};
        src->ix = search_index_open(o->db, &err);
        if (!src->ix) {
            local_error(&err);
            return -1;
        }
        /* The daemon's default budget unless --timeout names one. */
        long ms = o->timeout_given ? o->timeout_ms : SEARCH_DEFAULT_TIMEOUT_MS;
        search_index_set_timeout(src->ix, ms > (long)UINT_MAX ? UINT_MAX : (unsigned)ms);
        return 0;
    }
    char *msg = NULL;
    if (o->socket)
        src->qc = qc_client_new_unix(o->socket, &msg);
    else if (o->connect)
        src->qc = qc_client_new_target(o->connect, &msg);
    else
        src->qc = qc_client_new_tcp(QC_DEFAULT_HOST, QC_DEFAULT_PORT, &msg);
    if (!src->qc) {
        fprintf(stderr, "quire: %s\n", msg ? msg : "out of memory");
        free(msg);
        return -1;
    }
    qc_client_set_timeout_ms(src->qc, o->timeout_ms);
    return 0;
}

void source_close(struct source *src)
{
    qc_client_free(src->qc);
    search_index_close(src->ix);
    src->qc = NULL;
    src->ix = NULL;
}
