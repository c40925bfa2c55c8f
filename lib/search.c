/*
 * search.c -- the one search path (see search.h).
 *
 * Decoding: every parameter goes through search_request_set(), whether it came from a
 * query string, a JSON body or the command line, so there is one set of limits and one
 * set of error messages.
 *
 * Matching: the query is parsed with Xapian's QueryParser (fields from schema.c); when
 * the text does not parse as syntax it is searched again as plain words rather than
 * failing. A reader that fell behind a busy writer (XC_ERR_MODIFIED) reopens and retries,
 * a bounded number of times.
 *
 * Time: structural limits (query bytes, terms, wildcards and their expansion) keep most
 * queries cheap, but some stay expensive within them (an OR of hundreds of common words
 * sorted by date with facets, a phrase of frequent words). So each search has a time
 * budget (search_index_set_timeout): the binding stops the match at its deadline
 * (xc_match_opts.deadline_ms), and the per-hit snippets and explanations and the spelling
 * suggestion stop at it too. The answer is then what was found so far, with
 * "timed_out": true, rather than an error: a client gets useful hits, and knows they
 * may not be all. A database with a remote part cannot run the match deadline: the first
 * refusal turns it off for that view of the index (the budget still bounds the rest).
 *
 * Shards: a shard map (shardmap.h) opens as one database of every shard that is up; each
 * shard has its own state, a failing remote one is taken out and retried (with_shards).
 *
 * Per hit we read only the small display data; the full text (for the snippet) is read
 * from its value slot for the hits being returned.
 */
#include "search.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "complete.h"
#include "dbdir.h"
#include "schema.h"
#include "snippet.h"
#include "shardmap.h"
#include "util.h"
#include "xapian-c/xc.h"

#define MODIFIED_RETRIES 3
/* Sharded indexes: a shard that failed is retried after SHARD_RETRY_MS, doubling up to
 * SHARD_RETRY_MAX_MS; a remote shard's connection is renewed every SHARD_RENEW_MS, which
 * picks up a generation swapped in on its host (xapian-tcpsrv opens the database afresh
 * for each connection). */
#define SHARD_RETRY_MS 1000.0
#define SHARD_RETRY_MAX_MS 30000.0
#define SHARD_RENEW_MS 10000.0
/* "Did you mean": unknown words are checked, and when a query finds nothing, words in
 * fewer articles than SUGGEST_MAX_FREQ too; a spelling wins when it is in SUGGEST_RATIO
 * times as many articles (or the word is in none). */
#define SUGGEST_MAX_FREQ 10
#define SUGGEST_RATIO 20

/* One database of a sharded index. */
struct shard {
    struct shard_entry e;
    xc_db *db;                /* NULL while the shard is down */
    struct dbdir_stamp stamp; /* local shard: its `current` file when opened */
    double opened_ms;         /* when the handle was opened */
    double retry_ms;          /* down: when to try again */
    double backoff_ms;
    unsigned long failures;
    char error[256];          /* why it is down */
};

struct search_index {
    char dir[4096];
    char path[4096]; /* what was opened: DIR/current, the shard map, or the database */
    struct dbdir_stamp stamp;
    char generation[256];
    char updated[64];        /* time of the last commit, read once per revision */
    unsigned long updated_rev;
    int updated_ok; /* updated is what revision updated_rev says */
    struct search_options opts;
    xc_db *db;               /* sharded: all the shards that are up, as one (NULL: none) */
    xc_qp *qp;
    xc_stem *stem;
    struct shard *shards;    /* sharded index only */
    int nshards;
    xc_db *spelling;         /* the map's #quire-spelling database, or NULL */
    char spelling_path[4096];
    struct dbdir_stamp spelling_stamp;
    unsigned timeout_ms;   /* budget of one search; 0: none */
    int no_match_deadline; /* this view cannot run the match deadline (a remote part) */
    int has_remote;        /* a remote shard is up: fetch hits' documents together */
};

void search_error_set(struct search_error *err, int status, const char *code, const char *fmt,
                      ...)
{
    if (!err)
        return;
    err->status = status;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static void out_of_memory(struct search_error *err)
{
    search_error_set(err, 500, "internal", "out of memory");
}

/* ---- requests ------------------------------------------------------------------------ */

void search_request_init(struct search_request *req)
{
    memset(req, 0, sizeof *req);
    req->limit = SEARCH_DEFAULT_LIMIT;
    req->snippet = 1;
    /* OR by default, chosen by measurement (README "Default operator"): with AND, natural
     * language queries rarely match anything (scifact nDCG@10 0.047 against 0.685). */
    req->op_and = 0;
    req->dedup = 1;
    req->sort = SEARCH_SORT_RELEVANCE;
    req->partial = -1;
    strcpy(req->mark_open, "<b>");
    strcpy(req->mark_close, "</b>");
}

void search_request_clear(struct search_request *req)
{
    free(req->q);
    search_request_init(req);
}

/* Parses a decimal unsigned integer in [0, max]. */
static int parse_uint(const char *key, const char *value, unsigned max, unsigned *out,
                      struct search_error *err)
{
    char *end;
    errno = 0;
    if (!value || !*value || *value == '-' || *value == '+' || *value == ' ')
        goto bad;
    unsigned long v = strtoul(value, &end, 10);
    if (*end || errno)
        goto bad;
    if (v > max) {
        search_error_set(err, 400, "bad_parameter", "parameter '%s' is %s; the most allowed is %u",
                         key, value, max);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
bad:
    search_error_set(err, 400, "bad_parameter",
                     "parameter '%s' must be a whole number from 0 to %u", key, max);
    return -1;
}

/* Parses a boolean: 1/0, true/false, yes/no, on/off. */
static int parse_bool(const char *key, const char *value, int *out, struct search_error *err)
{
    static const char *yes[] = {"1", "true", "yes", "on"};
    static const char *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (value && strcmp(value, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (value && strcmp(value, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    search_error_set(err, 400, "bad_parameter", "parameter '%s' must be 1 or 0 (true or false)",
                     key);
    return -1;
}

int search_request_set(struct search_request *req, const char *key, const char *value,
                       struct search_error *err)
{
    if (!value)
        value = "";
    if (strcmp(key, "q") == 0) {
        size_t len = strlen(value);
        if (len > SEARCH_MAX_QUERY_BYTES) {
            search_error_set(err, 400, "query_too_long",
                             "query is %zu bytes; the most allowed is %d", len,
                             SEARCH_MAX_QUERY_BYTES);
            return -1;
        }
        if (!util_utf8_valid(value, len)) {
            search_error_set(err, 400, "bad_parameter", "query is not valid UTF-8 text");
            return -1;
        }
        char *q = strdup(value);
        if (!q) {
            out_of_memory(err);
            return -1;
        }
        free(req->q);
        req->q = q;
        return 0;
    }
    if (strcmp(key, "limit") == 0)
        return parse_uint(key, value, SEARCH_MAX_LIMIT, &req->limit, err);
    if (strcmp(key, "offset") == 0)
        return parse_uint(key, value, SEARCH_MAX_OFFSET, &req->offset, err);
    if (strcmp(key, "snippet") == 0)
        return parse_bool(key, value, &req->snippet, err);
    if (strcmp(key, "dedup") == 0)
        return parse_bool(key, value, &req->dedup, err);
    if (strcmp(key, "explain") == 0)
        return parse_bool(key, value, &req->explain, err);
    if (strcmp(key, "partial") == 0)
        return parse_bool(key, value, &req->partial, err);
    if (strcmp(key, "op") == 0) {
        if (strcmp(value, "and") == 0 || strcmp(value, "AND") == 0)
            req->op_and = 1;
        else if (strcmp(value, "or") == 0 || strcmp(value, "OR") == 0)
            req->op_and = 0;
        else {
            search_error_set(err, 400, "bad_parameter", "parameter 'op' must be 'and' or 'or'");
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "sort") == 0) {
        if (strcmp(value, "relevance") == 0)
            req->sort = SEARCH_SORT_RELEVANCE;
        else if (strcmp(value, "date") == 0 || strcmp(value, "date:desc") == 0)
            req->sort = SEARCH_SORT_DATE_DESC;
        else if (strcmp(value, "date:asc") == 0)
            req->sort = SEARCH_SORT_DATE_ASC;
        else {
            search_error_set(err, 400, "bad_parameter",
                             "parameter 'sort' must be 'relevance', 'date' or 'date:asc'");
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "facets") == 0) {
        req->facets = 0;
        const char *p = value;
        while (*p) {
            size_t n = strcspn(p, ",");
            if (n == 6 && strncmp(p, "source", 6) == 0)
                req->facets |= SEARCH_FACET_SOURCE;
            else if (n == 8 && strncmp(p, "category", 8) == 0)
                req->facets |= SEARCH_FACET_CATEGORY;
            else if (n == 4 && strncmp(p, "year", 4) == 0)
                req->facets |= SEARCH_FACET_YEAR;
            else if (n > 0) {
                search_error_set(err, 400, "bad_parameter",
                                 "facet '%.*s' is unknown; facets are source, category, year",
                                 (int)(n < 64 ? n : 64), p);
                return -1;
            }
            p += n;
            if (*p == ',')
                p++;
        }
        return 0;
    }
    if (strcmp(key, "mark_open") == 0 || strcmp(key, "mark_close") == 0) {
        char *dst = key[5] == 'o' ? req->mark_open : req->mark_close;
        if (!util_utf8_valid(value, strlen(value))) {
            search_error_set(err, 400, "bad_parameter", "parameter '%s' is not valid UTF-8 text",
                             key);
            return -1;
        }
        if (strlen(value) >= sizeof req->mark_open) {
            search_error_set(err, 400, "bad_parameter", "parameter '%s' is at most %zu bytes", key,
                             sizeof req->mark_open - 1);
            return -1;
        }
        strcpy(dst, value);
        return 0;
    }
    search_error_set(err, 400, "unknown_parameter", "unknown parameter '%.64s'", key);
    return -1;
}

/* Value of a hex digit, or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes src[0..len) into dst (at least len + 1 bytes), '+' as a space.
 * Returns the decoded length, or -1 for a bad escape or an encoded NUL. */
static long url_decode(const char *src, size_t len, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        dst[o++] = c;
    }
    dst[o] = '\0';
    return (long)o;
}

int search_request_from_query(struct search_request *req, const char *qs,
                              struct search_error *err)
{
    if (!qs || !*qs)
        return 0;
    size_t total = strlen(qs);
    if (total > SEARCH_MAX_QUERY_BYTES * 3 + 1024) {
        search_error_set(err, 400, "query_too_long",
                         "query string is %zu bytes; the most allowed is %d", total,
                         SEARCH_MAX_QUERY_BYTES * 3 + 1024);
        return -1;
    }
    char *key = malloc(total + 1), *value = malloc(total + 1);
    if (!key || !value) {
        free(key);
        free(value);
        out_of_memory(err);
        return -1;
    }
    int rc = 0;
    const char *p = qs;
    while (rc == 0 && *p) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        size_t klen = eq ? (size_t)(eq - p) : n;
        if (n > 0) {
            long kd = url_decode(p, klen, key);
            long vd = eq ? url_decode(eq + 1, n - klen - 1, value) : 0;
            if (!eq)
                value[0] = '\0';
            if (kd < 0 || vd < 0) {
                search_error_set(err, 400, "bad_parameter",
                                 "query string has a bad %%-escape or an encoded NUL byte");
                rc = -1;
            } else if (kd > 0) {
                rc = search_request_set(req, key, value, err);
            }
        }
        p += n;
        if (*p == '&')
            p++;
    }
    free(key);
    free(value);
    return rc;
}

int search_request_from_json(struct search_request *req, const char *body, size_t len,
                             struct search_error *err)
{
    json_error_t jerr;
    int oom;
    /* jansson bounds nesting depth itself; REJECT_DUPLICATES keeps one meaning per key. */
    json_t *root = util_json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr, &oom);
    if (oom) {
        out_of_memory(err);
        return -1;
    }
    if (!root) {
        search_error_set(err, 400, "bad_json", "request body is not valid JSON: %s (line %d, column %d)",
                         jerr.text, jerr.line, jerr.column);
        return -1;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        search_error_set(err, 400, "bad_json", "request body must be a JSON object");
        return -1;
    }
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(root, key, v) {
        char num[64];
        const char *text;
        if (json_is_string(v)) {
            text = json_string_value(v);
            if (strlen(text) != json_string_length(v)) {
                search_error_set(err, 400, "bad_parameter", "parameter '%.64s' contains a NUL byte",
                                 key);
                rc = -1;
                break;
            }
        } else if (json_is_integer(v)) {
            json_int_t n = json_integer_value(v);
            if (n < 0) {
                search_error_set(err, 400, "bad_parameter",
                                 "parameter '%.64s' must not be negative", key);
                rc = -1;
                break;
            }
            snprintf(num, sizeof num, "%lld", (long long)n);
            text = num;
        } else if (json_is_boolean(v)) {
            text = json_is_true(v) ? "1" : "0";
        } else {
            search_error_set(err, 400, "bad_parameter",
                             "parameter '%.64s' must be a string, a number or a boolean", key);
            rc = -1;
            break;
        }
        if (search_request_set(req, key, text, err) < 0) {
            rc = -1;
            break;
        }
    }
    json_decref(root);
    return rc;
}

int search_request_validate(const struct search_request *req, struct search_error *err)
{
    if (!req->q) {
        search_error_set(err, 400, "missing_parameter", "parameter 'q' (the query) is required");
        return -1;
    }
    return 0;
}

/* ---- the index ----------------------------------------------------------------------- */

/* Fills err for a failed binding call: what was being done and Xapian's message. xe may be
 * NULL (the binding reports some failures by return value alone, and could not allocate an
 * error when memory ran out): that is out of memory. Returns 1 when the reader fell behind
 * a writer, so that the caller reopens and retries. */
static int binding_error(struct search_error *err, const xc_error *xe, const char *what)
{
    xc_code code = xe ? xe->code : XC_ERR_NOMEM;
    const char *msg = xe && xe->message ? xe->message : "out of memory";
    if (code == XC_ERR_NOMEM || code == XC_ERR_INTERNAL || code == XC_ERR_INVALID)
        search_error_set(err, 500, "internal", "%s: %s", what, msg);
    else
        search_error_set(err, 503, "unavailable", "%s: %s", what, msg);
    return code == XC_ERR_MODIFIED;
}

void search_options_init(struct search_options *o)
{
    memset(o, 0, sizeof *o);
    o->shard_timeout_ms = SEARCH_SHARD_TIMEOUT_MS;
    o->allow_partial = 0;
}

/* Makes db (owned from here on, NULL for none) the one searched, with a parser for it
 * (the parser expands wildcards against it). On failure db is freed and the old one stays. */
static int set_database(struct search_index *ix, xc_db *db, struct search_error *err)
{
    xc_qp *qp = NULL;
    if (db) {
        xc_error *xe = NULL;
        qp = xc_qp_new(SCHEMA_LANG, db, &xe);
        if (!qp || schema_configure_parser(qp, &xe) < 0) {
            search_error_set(err, 500, "internal", "cannot set up query parser: %s",
                             xe && xe->message ? xe->message : "unknown error");
            xc_error_free(xe);
            xc_qp_free(qp);
            xc_db_free(db);
            return -1;
        }
        /* A wildcard may not expand to more terms than this: the query is refused. */
        xc_qp_set_max_wildcard(qp, SEARCH_MAX_WILDCARD);
    }
    xc_qp_free(ix->qp);
    xc_db_free(ix->db);
    ix->db = db;
    ix->qp = qp;
    return 0;
}

/* Opens the database, parser and stemmer for ix->path; on success replaces the old ones. */
static int index_load(struct search_index *ix, struct search_error *err)
{
    xc_error *xe = NULL;
    struct dbdir_stamp stamp = {0};
    dbdir_stamp_of(ix->path, &stamp);
    xc_db *db = xc_db_open(ix->path, &xe);
    if (!db) {
        search_error_set(err, 503, "unavailable", "cannot open index %s: %s", ix->dir,
                         xe && xe->message ? xe->message : "unknown error");
        xc_error_free(xe);
        return -1;
    }
    if (set_database(ix, db, err) < 0)
        return -1;
    ix->stamp = stamp;
    ix->no_match_deadline = 0;
    ix->updated_ok = 0;
    if (dbdir_generation(ix->dir, ix->generation, sizeof ix->generation) < 0)
        ix->generation[0] = '\0';
    return 0;
}

/* ---- sharded indexes ------------------------------------------------------------------ */

/* Takes a shard out of service until its retry time. */
static void shard_down(struct shard *s, const char *why)
{
    xc_db_free(s->db);
    s->db = NULL;
    s->failures++;
    snprintf(s->error, sizeof s->error, "%s", why && *why ? why : "unknown error");
    s->backoff_ms = s->backoff_ms > 0 ? s->backoff_ms * 2 : SHARD_RETRY_MS;
    if (s->backoff_ms > SHARD_RETRY_MAX_MS)
        s->backoff_ms = SHARD_RETRY_MAX_MS;
    s->retry_ms = util_now_ms() + s->backoff_ms;
}

/* (Re)opens one shard. Returns 0, or -1 with the shard down. */
static int shard_open(struct search_index *ix, struct shard *s)
{
    xc_error *xe = NULL;
    xc_db *db;
    if (s->e.remote) {
        db = xc_db_open_remote(s->e.host, s->e.port, ix->opts.shard_timeout_ms, &xe);
    } else {
        dbdir_stamp_of(s->e.path, &s->stamp);
        db = xc_db_open(s->e.path, &xe);
    }
    if (!db) {
        shard_down(s, xe && xe->message ? xe->message : NULL);
        xc_error_free(xe);
        return -1;
    }
    xc_db_free(s->db);
    s->db = db;
    s->opened_ms = util_now_ms();
    s->backoff_ms = 0;
    s->error[0] = '\0';
    return 0;
}

/* Makes ix->db the shards that are up, searched as one. */
static int shards_combine(struct search_index *ix, struct search_error *err)
{
    xc_db *up[SHARDMAP_MAX];
    size_t n = 0;
    int remote = 0;
    for (int i = 0; i < ix->nshards; i++) {
        if (ix->shards[i].db) {
            up[n++] = ix->shards[i].db;
            remote |= ix->shards[i].e.remote;
        }
    }
    xc_db *db = NULL;
    if (n > 0) {
        xc_error *xe = NULL;
        db = xc_db_combine(up, n, &xe);
        if (!db) {
            search_error_set(err, 500, "internal", "cannot combine shards: %s",
                             xe && xe->message ? xe->message : "unknown error");
            xc_error_free(xe);
            return -1;
        }
    }
    if (set_database(ix, db, err) < 0)
        return -1;
    /* The match deadline is a posting source that a remote shard cannot run: remote
     * shards are bounded by the shard timeout instead. */
    ix->no_match_deadline = remote;
    ix->has_remote = remote;
    return 0;
}

static void shards_free(struct search_index *ix)
{
    for (int i = 0; i < ix->nshards; i++)
        xc_db_free(ix->shards[i].db);
    free(ix->shards);
    ix->shards = NULL;
    ix->nshards = 0;
}

/* (Re)opens the spelling database the map names. Without one, or when it does not open,
 * suggestions come from the shards themselves (none from remote ones). */
static void spelling_open(struct search_index *ix)
{
    xc_db_free(ix->spelling);
    ix->spelling = NULL;
    if (!ix->spelling_path[0])
        return;
    char path[4096];
    dbdir_reader_path(ix->spelling_path, path, sizeof path);
    dbdir_stamp_of(ix->spelling_path, &ix->spelling_stamp);
    ix->spelling = xc_db_open(path, NULL);
}

/* Reads the shard map ix->path and opens every shard it lists; shards that do not open
 * are left down (and retried). Fails only when the map itself cannot be used. */
static int shards_load(struct search_index *ix, struct search_error *err)
{
    struct shard_entry *v = NULL;
    char why[512];
    struct dbdir_stamp stamp = {0};
    dbdir_stamp_of(ix->path, &stamp);
    char spelling[4096];
    int n = shardmap_read(ix->path, &v, spelling, sizeof spelling, why, sizeof why);
    if (n < 0) {
        search_error_set(err, 503, "unavailable", "cannot read shard map: %s", why);
        return -1;
    }
    struct shard *shards = calloc((size_t)n, sizeof *shards);
    if (!shards) {
        free(v);
        search_error_set(err, 500, "internal", "out of memory");
        return -1;
    }
    shards_free(ix);
    ix->shards = shards;
    ix->nshards = n;
    for (int i = 0; i < n; i++) {
        shards[i].e = v[i];
        shard_open(ix, &shards[i]);
    }
    free(v);
    ix->stamp = stamp;
    ix->generation[0] = '\0';
    snprintf(ix->spelling_path, sizeof ix->spelling_path, "%s", spelling);
    spelling_open(ix);
    ix->updated_ok = 0;
    return shards_combine(ix, err);
}

/* Replaces a remote shard's connection with a new one (down when that fails). */
static void shard_renew(struct search_index *ix, struct shard *s)
{
    xc_db *old = s->db; /* ix->db shares it until shards_combine */
    s->db = NULL;
    shard_open(ix, s);
    xc_db_free(old);
}

/* After a remote failure in an operation: takes the shard that failed out of service.
 * Xapian names it in the error ("(context: remote:tcp(HOST:PORT))"). The other remote
 * shards were in the middle of the same exchange, so their connections are renewed (which
 * also finds a dead one the error did not name). A shard that closed the connection
 * rather than timing out (its server restarted) is reconnected at once. */
static void shards_blame(struct search_index *ix, const char *msg)
{
    for (int i = 0; i < ix->nshards; i++) {
        struct shard *s = &ix->shards[i];
        if (!s->e.remote || !s->db)
            continue;
        char ctx[300];
        snprintf(ctx, sizeof ctx, "remote:tcp(%s:%u)", s->e.host, s->e.port);
        if (strstr(msg, ctx)) {
            shard_down(s, msg);
            if (!strstr(msg, "Timeout"))
                shard_open(ix, s);
        } else {
            shard_renew(ix, s);
        }
    }
}

/* Picks up new commits and swapped generations of local shards, renews remote
 * connections, and retries shards that are down when their time has come. */
static int shards_refresh(struct search_index *ix, struct search_error *err)
{
    struct dbdir_stamp now_stamp;
    if (dbdir_stamp_of(ix->path, &now_stamp) == 0 && !dbdir_stamp_equal(&now_stamp, &ix->stamp))
        return shards_load(ix, err) < 0 ? -1 : 1;
    double now = util_now_ms();
    int changed = 0, regroup = 0;
    struct dbdir_stamp sp;
    if (ix->spelling_path[0] && dbdir_stamp_of(ix->spelling_path, &sp) == 0 &&
        !dbdir_stamp_equal(&sp, &ix->spelling_stamp)) {
        spelling_open(ix);
        changed = 1;
    }
    for (int i = 0; i < ix->nshards; i++) {
        struct shard *s = &ix->shards[i];
        if (!s->db) {
            if (now >= s->retry_ms && shard_open(ix, s) == 0)
                regroup = 1;
            continue;
        }
        if (s->e.remote) {
            if (now - s->opened_ms >= SHARD_RENEW_MS) {
                shard_renew(ix, s);
                regroup = 1;
            }
            continue;
        }
        struct dbdir_stamp st;
        if (dbdir_stamp_of(s->e.path, &st) == 0 && !dbdir_stamp_equal(&st, &s->stamp)) {
            shard_open(ix, s);
            regroup = 1;
            continue;
        }
        xc_error *xe = NULL;
        int rc = xc_db_reopen(s->db, &xe);
        if (rc < 0)
            shard_down(s, xe && xe->message ? xe->message : NULL);
        regroup |= rc < 0;
        changed |= rc > 0;
        xc_error_free(xe);
    }
    if (regroup && shards_combine(ix, err) < 0)
        return -1;
    return changed || regroup;
}

/* The first shard that is down, or NULL. */
static const struct shard *shard_first_down(const struct search_index *ix)
{
    for (int i = 0; i < ix->nshards; i++) {
        if (!ix->shards[i].db)
            return &ix->shards[i];
    }
    return NULL;
}

/* Adds "shards": {"total": N, "failed": K, "down": [names]} to a result. */
static void shards_mark(struct search_index *ix, json_t *res)
{
    json_t *down = json_array();
    for (int i = 0; i < ix->nshards; i++) {
        if (!ix->shards[i].db)
            json_array_append_new(down, json_string(ix->shards[i].e.name));
    }
    json_object_set_new(res, "shards",
                        json_pack("{s:i, s:i, s:o}", "total", ix->nshards, "failed",
                                  (int)json_array_size(down), "down", down));
}

typedef json_t *(*index_op)(struct search_index *ix, const void *arg,
                            struct search_error *err);

/* Runs op over a sharded index: with a shard down, answers from the others when partial
 * results are allowed (marked by shards_mark), else refuses with a 503 naming the shard.
 * A remote failure during op takes the failing shard out and runs op once more. */
static json_t *with_shards(struct search_index *ix, index_op op, const void *arg, int partial,
                           int mark, struct search_error *err)
{
    if (!ix->shards)
        return op(ix, arg, err);
    if (partial < 0)
        partial = ix->opts.allow_partial;
    for (int attempt = 0; attempt < 2; attempt++) {
        const struct shard *down = shard_first_down(ix);
        if (down && !partial) {
            search_error_set(err, 503, "shard_unavailable",
                             "shard %s is unavailable: %.300s (ask with partial=1 for the "
                             "results of the other shards)",
                             down->e.name, down->error);
            return NULL;
        }
        if (!ix->db) {
            search_error_set(err, 503, "unavailable", "no shard of the index is available: "
                             "%s: %.300s", down ? down->e.name : "?", down ? down->error : "");
            return NULL;
        }
        unsigned long before = xc_network_failures();
        json_t *res = op(ix, arg, err);
        if (xc_network_failures() == before) {
            if (res && mark)
                shards_mark(ix, res);
            return res;
        }
        json_decref(res);
        shards_blame(ix, xc_network_last_error());
        if (shards_combine(ix, err) < 0)
            return NULL;
    }
    const struct shard *down = shard_first_down(ix);
    search_error_set(err, 503, "shard_unavailable", "shard %s is unavailable: %.300s",
                     down ? down->e.name : "?", down ? down->error : "remote failure");
    return NULL;
}

/* ---- opening and refreshing -------------------------------------------------------------- */

struct search_index *search_index_open(const char *dir, struct search_error *err)
{
    return search_index_open_with(dir, NULL, err);
}

struct search_index *search_index_open_with(const char *dir, const struct search_options *o,
                                            struct search_error *err)
{
    struct search_index *ix = calloc(1, sizeof *ix);
    if (!ix) {
        search_error_set(err, 500, "internal", "out of memory");
        return NULL;
    }
    if (o)
        ix->opts = *o;
    else
        search_options_init(&ix->opts);
    snprintf(ix->dir, sizeof ix->dir, "%s", dir);
    dbdir_reader_path(dir, ix->path, sizeof ix->path);
    xc_error *xe = NULL;
    ix->stem = xc_stem_new(SCHEMA_LANG, &xe);
    if (!ix->stem) {
        search_error_set(err, 500, "internal", "cannot make stemmer: %s",
                         xe && xe->message ? xe->message : "unknown error");
        xc_error_free(xe);
        free(ix);
        return NULL;
    }
    int rc = shardmap_is_sharded(ix->path) ? shards_load(ix, err) : index_load(ix, err);
    if (rc < 0) {
        search_index_close(ix);
        return NULL;
    }
    return ix;
}

void search_index_close(struct search_index *ix)
{
    if (!ix)
        return;
    xc_qp_free(ix->qp);
    xc_db_free(ix->db);
    xc_db_free(ix->spelling);
    shards_free(ix);
    xc_stem_free(ix->stem);
    free(ix);
}

int search_index_refresh(struct search_index *ix, struct search_error *err)
{
    if (ix->shards)
        return shards_refresh(ix, err);
    struct dbdir_stamp now;
    /* A renamed `current` (new generation) needs a fresh open: reopen() does not re-read a
     * stub file. Otherwise reopen() picks up new commits to the same database. */
    char path[4096];
    dbdir_reader_path(ix->dir, path, sizeof path);
    if (strcmp(path, ix->path) != 0 ||
        (dbdir_stamp_of(path, &now) == 0 && !dbdir_stamp_equal(&now, &ix->stamp))) {
        char old[4096];
        memcpy(old, ix->path, sizeof old);
        memcpy(ix->path, path, sizeof ix->path);
        if (index_load(ix, err) < 0) {
            memcpy(ix->path, old, sizeof ix->path);
            return -1;
        }
        return 1;
    }
    xc_error *xe = NULL;
    int rc = xc_db_reopen(ix->db, &xe);
    if (rc < 0) {
        search_error_set(err, 503, "unavailable", "cannot reopen index: %s",
                         xe && xe->message ? xe->message : "unknown error");
        xc_error_free(xe);
        return -1;
    }
    return rc;
}

void search_index_set_timeout(struct search_index *ix, unsigned ms)
{
    ix->timeout_ms = ms;
}

unsigned search_index_doccount(struct search_index *ix)
{
    return ix->db ? xc_db_doccount(ix->db, NULL) : 0;
}

unsigned long search_index_revision(struct search_index *ix)
{
    return ix->db ? xc_db_revision(ix->db) : 0;
}

const char *search_index_generation(struct search_index *ix)
{
    return ix->generation;
}

/* Re-reads the time of the last commit when the revision moved. On failure the old value
 * stays and is asked for again next time. Returns 0, or -1 with *xe. */
static int read_updated(struct search_index *ix, xc_error **xe)
{
    if (!ix->db)
        return 0;
    /* The indexer stamps every commit. */
    unsigned long rev = xc_db_revision(ix->db);
    if (ix->updated_ok && rev == ix->updated_rev)
        return 0;
    char *u = xc_db_metadata(ix->db, "quire:updated", xe);
    if (!u)
        return -1;
    snprintf(ix->updated, sizeof ix->updated, "%s", u);
    free(u);
    ix->updated_rev = rev;
    ix->updated_ok = 1;
    return 0;
}

const char *search_index_updated(struct search_index *ix)
{
    xc_error *xe = NULL;
    read_updated(ix, &xe);
    xc_error_free(xe);
    return ix->updated;
}

/* ---- searching ----------------------------------------------------------------------- */

/* Results are built with jansson, where every call can fail for want of memory (and a
 * string that is not UTF-8 is refused: text is made valid UTF-8 before it is indexed, so
 * that would be a bug). The first failure is remembered in *failed and the result is
 * refused whole (500), never sent with a field or a hit missing. Both helpers take over v,
 * as jansson's _new calls do. */
static void build_failed(struct search_error *err)
{
    search_error_set(err, 500, "internal",
                     "cannot build the result: out of memory, or text that is not UTF-8");
}

static void jset(json_t *obj, const char *key, json_t *v, int *failed)
{
    if (json_object_set_new(obj, key, v) < 0)
        *failed = 1;
}

static void jappend(json_t *arr, json_t *v, int *failed)
{
    if (json_array_append_new(arr, v) < 0)
        *failed = 1;
}

/* Sets key to s in obj when s is non-empty. */
static void set_optional(json_t *obj, const char *key, const char *s, int *failed)
{
    if (s && *s)
        jset(obj, key, json_string(s), failed);
}

struct snippet_ctx {
    struct snippet_terms *terms;
    int failed;
};

/* Collects query terms into the snippet term set. */
static void add_snippet_term(const char *term, size_t len, void *p)
{
    struct snippet_ctx *c = p;
    if (snippet_terms_add(c->terms, term, len) < 0)
        c->failed = 1;
}

/* Parses req->q: as syntax first, then as plain words when the syntax does not parse. */
static xc_query *parse_query(struct search_index *ix, const struct search_request *req,
                             struct search_error *err)
{
    xc_error *xe = NULL;
    xc_qp_set_default_and(ix->qp, req->op_and);
    unsigned flags = XC_QP_DEFAULT | XC_QP_WILDCARD | XC_QP_PURE_NOT | XC_QP_CJK_NGRAM;
    xc_query *q = xc_qp_parse(ix->qp, req->q, flags, &xe);
    if (q)
        return q;
    if (!xe || xe->code != XC_ERR_QUERY) {
        binding_error(err, xe, "query parser failed");
        xc_error_free(xe);
        return NULL;
    }
    char first[256];
    snprintf(first, sizeof first, "%s", xe->message ? xe->message : "syntax error");
    xc_error_free(xe);
    xe = NULL;
    q = xc_qp_parse(ix->qp, req->q, XC_QP_CJK_NGRAM, &xe);
    if (!q) {
        /* Only a syntax error is the client's: anything else is ours, as above. */
        if (xe && xe->code == XC_ERR_QUERY)
            search_error_set(err, 400, "bad_query", "query cannot be parsed: %s", first);
        else
            binding_error(err, xe, "query parser failed");
        xc_error_free(xe);
    }
    return q;
}

static void count_term(const char *term, size_t len, void *ctx)
{
    (void)term;
    (void)len;
    ++*(size_t *)ctx;
}

/* The absolute time (util_now_ms) at which a search started at t0 runs out of ix's
 * budget, or 0 when it has none. */
static double deadline_of(const struct search_index *ix, double t0)
{
    return ix->timeout_ms ? t0 + ix->timeout_ms : 0;
}

/* True when the deadline (from deadline_of) has passed. */
static int past(double deadline)
{
    return deadline > 0 && util_now_ms() >= deadline;
}

/* Milliseconds left before deadline for the match: 0 (none) without a deadline, at least
 * 1 with one, so a budget spent before the match still cuts it at once. */
static unsigned match_budget(const struct search_index *ix, double deadline)
{
    if (deadline <= 0 || ix->no_match_deadline)
        return 0;
    double left = deadline - util_now_ms();
    return left < 1 ? 1 : (unsigned)left;
}

/* Runs the match within what is left of the budget. A database with a remote part cannot
 * run the deadline's check: it matches without it, and this view stops asking. */
static xc_mset *enquire_within(struct search_index *ix, const xc_query *q,
                               const xc_match_opts *opts_in, double deadline, xc_error **xe)
{
    xc_match_opts opts = *opts_in;
    opts.deadline_ms = match_budget(ix, deadline);
    opts.fetch = ix->has_remote;
    xc_mset *ms = xc_enquire(ix->db, q, &opts, xe);
    if (!ms && *xe && (*xe)->code == XC_ERR_UNSUPPORTED && opts.deadline_ms > 0) {
        xc_error_free(*xe);
        *xe = NULL;
        opts.deadline_ms = 0;
        ms = xc_enquire(ix->db, q, &opts, xe);
        if (ms)
            ix->no_match_deadline = 1;
    }
    return ms;
}

/* Fills err for a failed match. Returns 1 when the caller should reopen and retry. */
static int enquire_error(struct search_error *err, const xc_error *xe)
{
    if (xe && xe->code == XC_ERR_QUERY) {
        const char *msg = xe->message ? xe->message : "unknown error";
        if (strstr(msg, "Wildcard"))
            search_error_set(err, 400, "query_too_complex",
                             "a wildcard expands to more than %d terms; make it longer",
                             SEARCH_MAX_WILDCARD);
        else
            search_error_set(err, 400, "bad_query", "search failed: %s", msg);
        return 0;
    }
    return binding_error(err, xe, "search failed");
}

struct explain_ctx {
    struct search_index *ix;
    const xc_match_opts *opts;
    const char *idterm;
    json_t *terms;
    xc_error *xe; /* the first failed lookup: no more are made */
    int failed;
};

/* Adds one query term's contribution to a hit's explanation. */
static void explain_term(const char *term, size_t len, void *p)
{
    struct explain_ctx *c = p;
    char t[256];
    if (c->xe || c->failed || len >= sizeof t)
        return;
    memcpy(t, term, len);
    t[len] = '\0';
    double w = xc_term_weight(c->ix->db, t, c->idterm, c->opts, &c->xe);
    if (c->xe)
        return;
    if (w > 0)
        jset(c->terms, t, json_real(w), &c->failed);
}

/* One hit as JSON, with its snippet (when terms) and explanation (when asked). NULL with
 * *what naming the binding call that failed (and *xe its error, which may be NULL), or
 * with *what NULL when out of memory. */
static json_t *hit_json(struct search_index *ix, xc_mset *ms, unsigned i,
                        const struct search_request *req, const struct snippet_terms *terms,
                        const xc_query *q, const xc_match_opts *opts, const char **what,
                        xc_error **xe)
{
    xc_hit hit;
    if (xc_mset_hit(ms, i, &hit) < 0) {
        *what = "cannot read a hit";
        return NULL;
    }
    size_t dlen = 0;
    char *data = xc_mset_data(ms, i, &dlen, xe);
    if (!data) {
        *what = "cannot read a hit";
        return NULL;
    }
    struct schema_display d;
    int rc = schema_display_decode(data, dlen, &d);
    free(data);
    if (rc < 0)
        return NULL;
    int failed = 0;
    json_t *h = json_object();
    jset(h, "rank", json_integer(hit.rank + 1), &failed);
    jset(h, "id", json_string(d.id), &failed);
    jset(h, "score", json_real(hit.weight), &failed);
    jset(h, "title", json_string(d.title), &failed);
    set_optional(h, "date", d.date, &failed);
    set_optional(h, "source", d.source, &failed);
    set_optional(h, "url", d.url, &failed);
    set_optional(h, "category", d.category, &failed);
    if (req->dedup && hit.collapse_count > 0)
        jset(h, "duplicates", json_integer(hit.collapse_count), &failed);
    if (terms && !failed) {
        size_t tlen = 0;
        /* Over remote shards the text comes with the fetched document; locally a value is
         * read on its own, without loading the document. */
        char *text = ix->has_remote ? xc_mset_value(ms, i, SCHEMA_SLOT_TEXT, &tlen, xe)
                                 : xc_db_doc_value(ix->db, hit.docid, SCHEMA_SLOT_TEXT, &tlen, xe);
        if (!text) {
            *what = "cannot read a hit's text";
            goto fail;
        }
        char *snip =
            snippet_make(terms, text, tlen, SNIPPET_DEFAULT_BYTES, req->mark_open, req->mark_close);
        free(text);
        if (snip)
            jset(h, "snippet", json_string(snip), &failed);
        else
            failed = 1;
        free(snip);
    }
    if (req->explain && q && !failed) {
        char idterm[SCHEMA_MAX_TERM + 1];
        schema_key_term(SCHEMA_PREFIX_ID, d.id, idterm, sizeof idterm);
        struct explain_ctx c = {ix, opts, idterm, json_object(), NULL, 0};
        if (xc_query_terms(q, explain_term, &c) < 0)
            c.failed = 1;
        if (c.xe) {
            json_decref(c.terms);
            *xe = c.xe;
            *what = "cannot explain a hit";
            goto fail;
        }
        failed |= c.failed;
        jset(h, "explain", c.terms, &failed);
    }
    if (failed)
        goto fail;
    schema_display_free(&d);
    return h;
fail:
    schema_display_free(&d);
    json_decref(h);
    return NULL;
}

/* The hits of ms as JSON. NULL with err filled on failure; *modified set when the caller
 * should reopen and retry. Snippets and explanations stop at the deadline (a snippet scans
 * the article's text, an explanation costs a match per query term): the hits after it
 * have neither, and *timed_out is set. */
static json_t *hits_json(struct search_index *ix, xc_mset *ms, const struct search_request *req,
                         const struct snippet_terms *terms, const xc_query *q,
                         const xc_match_opts *opts, double deadline, int *timed_out,
                         struct search_error *err, int *modified)
{
    int failed = 0;
    json_t *hits = json_array();
    if (!hits) {
        out_of_memory(err);
        return NULL;
    }
    unsigned n = xc_mset_size(ms);
    for (unsigned i = 0; i < n && !failed; i++) {
        const char *what = NULL;
        xc_error *xe = NULL;
        if ((terms || (req->explain && q)) && past(deadline)) {
            *timed_out = 1;
            terms = NULL;
            q = NULL;
        }
        json_t *h = hit_json(ix, ms, i, req, terms, q, opts, &what, &xe);
        if (!h) {
            if (what)
                *modified = binding_error(err, xe, what);
            else
                build_failed(err);
            xc_error_free(xe);
            json_decref(hits);
            return NULL;
        }
        jappend(hits, h, &failed);
    }
    if (failed) {
        json_decref(hits);
        build_failed(err);
        return NULL;
    }
    return hits;
}

/* The common top of a result: query, totals, offset, limit. */
static json_t *result_json(const char *query, xc_mset *ms, const struct search_request *req,
                           int exact, int *failed)
{
    unsigned est, lower, upper;
    xc_mset_totals(ms, &est, &lower, &upper);
    /* Every match was seen (facets count them all): the count is known, not estimated.
     * Xapian's estimate can still stray from it when duplicates were collapsed, and it
     * strays differently over shards. */
    if (exact)
        est = upper = lower;
    json_t *res = json_object();
    if (!res) {
        *failed = 1;
        return NULL;
    }
    jset(res, "query", json_string(query), failed);
    jset(res, "total",
         json_pack("{s:I, s:I, s:I}", "estimated", (json_int_t)est, "lower", (json_int_t)lower,
                   "upper", (json_int_t)upper),
         failed);
    jset(res, "offset", json_integer(req->offset), failed);
    jset(res, "limit", json_integer(req->limit), failed);
    return res;
}

/* Adds took_ms to a finished result; on failure frees it and fills err. */
static json_t *finish(json_t *res, double t0, struct search_error *err)
{
    if (!res)
        return NULL;
    int failed = 0;
    double took = util_now_ms() - t0;
    jset(res, "took_ms", json_real((double)(long long)(took * 1000) / 1000.0), &failed);
    if (failed) {
        json_decref(res);
        build_failed(err);
        return NULL;
    }
    return res;
}

struct facet_ctx {
    json_t *values;
    int failed;
};

/* Appends one counted facet value. */
static void facet_value(const char *value, size_t len, unsigned count, void *p)
{
    struct facet_ctx *c = p;
    jappend(c->values, json_pack("{s:s%, s:I}", "value", value, len, "count", (json_int_t)count),
            &c->failed);
}

/* True for query words that are operators, not words to spell-check. */
static int is_operator(const char *w, size_t n)
{
    static const char *ops[] = {"AND", "OR", "NOT", "XOR", "NEAR", "ADJ"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strlen(ops[i]) == n && memcmp(ops[i], w, n) == 0)
            return 1;
    }
    return 0;
}

/* "Did you mean": each plain query word that is unknown, or (when the query found nothing)
 * far rarer than a close spelling that Xapian's spelling table knows, is replaced. *out
 * gets a new string when anything changed, else NULL. The query itself is never
 * rewritten. Returns 0, or -1 with err filled (and *modified set when the caller should
 * reopen and retry). Past the deadline no more spellings are looked up: no suggestion,
 * with *timed_out set. */
static int suggest(struct search_index *ix, const char *q, int no_hits, char **out_text,
                   double deadline, int *timed_out, struct search_error *err, int *modified)
{
    struct strbuf out;
    sb_init(&out);
    int changed = 0;
    xc_error *xe = NULL;
    *out_text = NULL;
    const char *p = q;
    while (*p) {
        const char *w = p;
        while (*p && ((unsigned char)*p >= 0x80 || (*p >= 'a' && *p <= 'z') ||
                      (*p >= 'A' && *p <= 'Z')))
            p++;
        size_t n = (size_t)(p - w);
        if (n == 0) {
            sb_putc(&out, *p);
            p++;
            continue;
        }
        int field = *p == ':' || *p == '*';
        if (n < 3 || n > 40 || field || is_operator(w, n)) {
            sb_append(&out, w, n);
            continue;
        }
        char word[64];
        for (size_t i = 0; i < n; i++)
            word[i] = (w[i] >= 'A' && w[i] <= 'Z') ? (char)(w[i] + 32) : w[i];
        word[n] = '\0';
        /* Terms are indexed with accents folded: look the word up the same way. */
        size_t flen;
        char *folded;
        int fr = util_fold_latin(word, n, &folded, &flen);
        if (fr < 0)
            goto nomem;
        if (fr > 0) {
            snprintf(word, sizeof word, "%s", folded);
            free(folded);
        }
        /* Xapian's spelling lookup costs many times the search itself (75% of the CPU
         * when asked for every word), so it is asked about unknown words, and about rare
         * ones (in fewer than SUGGEST_MAX_FREQ articles) only when the query found
         * nothing; a word in more articles is taken as meant. */
        unsigned tf = xc_db_termfreq(ix->db, word, &xe);
        if (xe)
            goto fail;
        char *sug = NULL;
        int ask = tf == 0 || (no_hits && tf < SUGGEST_MAX_FREQ);
        if (ask && past(deadline)) {
            *timed_out = 1;
            sb_free(&out);
            return 0;
        }
        if (ask) {
            sug = xc_db_spelling(ix->spelling ? ix->spelling : ix->db, word, &xe);
            if (!sug)
                goto fail;
        }
        int use = 0;
        if (sug && *sug && strcmp(sug, word) != 0) {
            use = tf == 0;
            if (!use) {
                unsigned sf = xc_db_termfreq(ix->db, sug, &xe);
                if (xe) {
                    free(sug);
                    goto fail;
                }
                use = sf >= SUGGEST_RATIO * (unsigned long)tf;
            }
        }
        if (use) {
            sb_puts(&out, sug);
            changed = 1;
        } else {
            sb_append(&out, w, n);
        }
        free(sug);
    }
    if (out.failed)
        goto nomem;
    if (changed)
        *out_text = out.buf;
    else
        sb_free(&out);
    return 0;
fail:
    *modified = binding_error(err, xe, "cannot look up spellings");
    xc_error_free(xe);
    sb_free(&out);
    return -1;
nomem:
    out_of_memory(err);
    sb_free(&out);
    return -1;
}

/* Which facets a request counts: names, in the order of opts->facet_slots. */
static void set_facets(const struct search_request *req, xc_match_opts *opts,
                       const char *names[XC_MAX_FACETS])
{
    static const struct {
        unsigned bit;
        int slot;
        const char *name;
    } facet_map[] = {{SEARCH_FACET_SOURCE, SCHEMA_SLOT_SOURCE, "source"},
                     {SEARCH_FACET_CATEGORY, SCHEMA_SLOT_CATEGORY, "category"},
                     {SEARCH_FACET_YEAR, SCHEMA_SLOT_YEAR, "year"}};
    for (size_t k = 0; k < sizeof facet_map / sizeof facet_map[0]; k++) {
        if (req->facets & facet_map[k].bit) {
            names[opts->nfacets] = facet_map[k].name;
            opts->facet_slots[opts->nfacets++] = facet_map[k].slot;
        }
    }
}

/* One attempt at a search whose query is parsed: the match, the hits, facets, the
 * suggestion and the explanation. Everything that reads the database is in here, so that
 * a reader that fell behind a writer (*modified) can reopen and run it again whole. */
static json_t *search_once(struct search_index *ix, const struct search_request *req,
                           const xc_query *q, const xc_match_opts *opts,
                           const char *const facet_names[], const struct snippet_terms *terms,
                           double deadline, struct search_error *err, int *modified)
{
    xc_error *xe = NULL;
    xc_mset *ms = enquire_within(ix, q, opts, deadline, &xe);
    if (!ms) {
        *modified = enquire_error(err, xe);
        xc_error_free(xe);
        return NULL;
    }
    int failed = 0;
    int timed_out = xc_mset_timed_out(ms);
    json_t *res = result_json(req->q, ms, req, opts->nfacets > 0 && !timed_out, &failed);
    json_t *hits = hits_json(ix, ms, req, terms, q, opts, deadline, &timed_out, err, modified);
    if (!hits) {
        xc_mset_free(ms);
        json_decref(res);
        return NULL;
    }
    if (opts->nfacets) {
        json_t *facets = json_object();
        for (unsigned k = 0; k < opts->nfacets; k++) {
            struct facet_ctx c = {json_array(), 0};
            if (xc_mset_facet(ms, k, SEARCH_MAX_FACET_VALUES, facet_value, &c) < 0)
                c.failed = 1;
            failed |= c.failed;
            jset(facets, facet_names[k], c.values, &failed);
        }
        jset(res, "facets", facets, &failed);
    }
    unsigned matches;
    xc_mset_totals(ms, NULL, NULL, &matches);
    xc_mset_free(ms);
    char *sug = NULL;
    if (suggest(ix, req->q, matches == 0, &sug, deadline, &timed_out, err, modified) < 0) {
        json_decref(hits);
        json_decref(res);
        return NULL;
    }
    if (sug)
        jset(res, "suggestion", json_string(sug), &failed);
    free(sug);
    if (req->explain) {
        char *desc = xc_query_describe(q);
        if (desc)
            jset(res, "parsed_query", json_string(desc), &failed);
        else
            failed = 1;
        free(desc);
    }
    jset(res, "hits", hits, &failed);
    jset(res, "timed_out", json_boolean(timed_out), &failed);
    if (failed) {
        json_decref(res);
        build_failed(err);
        return NULL;
    }
    return res;
}

static json_t *run_once(struct search_index *ix, const void *arg, struct search_error *err)
{
    const struct search_request *req = arg;
    double t0 = util_now_ms();
    double deadline = deadline_of(ix, t0);
    /* Accents fold on both sides (schema.c folds indexed text the same way). */
    size_t flen = 0;
    char *folded;
    if (util_fold_latin(req->q, strlen(req->q), &folded, &flen) < 0) {
        out_of_memory(err);
        return NULL;
    }
    struct search_request fr = *req;
    if (folded)
        fr.q = folded;
    json_t *res = NULL;
    struct snippet_ctx sc = {NULL, 0};
    xc_query *q = parse_query(ix, &fr, err);
    if (!q)
        goto done;
    size_t nterms = 0;
    if (xc_query_terms(q, count_term, &nterms) < 0) {
        out_of_memory(err);
        goto done;
    }
    if (nterms > SEARCH_MAX_TERMS) {
        search_error_set(err, 400, "query_too_complex",
                         "query has %zu distinct terms; the most allowed is %d", nterms,
                         SEARCH_MAX_TERMS);
        goto done;
    }
    unsigned nwild = xc_query_wildcards(q);
    if (nwild > SEARCH_MAX_WILDCARDS) {
        search_error_set(err, 400, "query_too_complex",
                         "query has %u wildcards; the most allowed is %d", nwild,
                         SEARCH_MAX_WILDCARDS);
        goto done;
    }

    xc_match_opts opts;
    xc_match_opts_init(&opts);
    opts.offset = req->offset;
    opts.limit = req->limit;
    opts.bm25_k1 = SEARCH_BM25_K1;
    opts.bm25_b = SEARCH_BM25_B;
    opts.collapse_slot = req->dedup ? SCHEMA_SLOT_HASH : -1;
    if (req->sort != SEARCH_SORT_RELEVANCE) {
        opts.sort_slot = SCHEMA_SLOT_DATE;
        opts.sort_descending = req->sort == SEARCH_SORT_DATE_DESC;
    }
    const char *facet_names[XC_MAX_FACETS];
    set_facets(req, &opts, facet_names);

    if (req->snippet) {
        sc.terms = snippet_terms_new(ix->stem);
        if (!sc.terms || xc_query_terms(q, add_snippet_term, &sc) < 0 || sc.failed) {
            out_of_memory(err);
            goto done;
        }
    }
    for (int attempt = 0;; attempt++) {
        int modified = 0;
        res = search_once(ix, req, q, &opts, facet_names, sc.terms, deadline, err, &modified);
        if (res || !modified || attempt >= MODIFIED_RETRIES)
            break;
        xc_db_reopen(ix->db, NULL);
    }
    res = finish(res, t0, err);
done:
    snippet_terms_free(sc.terms);
    xc_query_free(q);
    free(folded);
    return res;
}

json_t *search_run(struct search_index *ix, const struct search_request *req,
                   struct search_error *err)
{
    /* Checked once, before the shards: a bad request is a 400 whatever their state. */
    if (search_request_validate(req, err) < 0)
        return NULL;
    return with_shards(ix, run_once, req, req->partial, 1, err);
}

/* Terms worth expanding on: unprefixed words (not ids, filters or stems' duplicates), and
 * no bare numbers. */
static int similar_term_ok(const char *t, size_t len)
{
    if (len < 3 || (t[0] >= 'A' && t[0] <= 'Z'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!(t[i] >= '0' && t[i] <= '9') && t[i] != '.' && t[i] != ',')
            return 1;
    }
    return 0;
}

/* Checks a document id from a client and makes its unique term. Returns 0, or -1 with
 * err filled (400). */
static int id_term(const char *id, char term[SCHEMA_MAX_TERM + 1], struct search_error *err)
{
    if (!id || !*id || strlen(id) > SEARCH_MAX_ID_BYTES || !util_utf8_valid(id, strlen(id))) {
        search_error_set(err, 400, "bad_parameter", "document id must be 1 to %d bytes of UTF-8",
                         SEARCH_MAX_ID_BYTES);
        return -1;
    }
    schema_key_term(SCHEMA_PREFIX_ID, id, term, SCHEMA_MAX_TERM + 1);
    return 0;
}

/* One attempt at search_similar (see search_once for why it is one function). */
static json_t *similar_once(struct search_index *ix, const char *id, const char *idterm,
                            unsigned limit, double deadline, struct search_error *err,
                            int *modified)
{
    xc_error *xe = NULL;
    unsigned docid = xc_db_docid_for_term(ix->db, idterm, &xe);
    if (!docid) {
        if (xe)
            *modified = binding_error(err, xe, "cannot look up document");
        else
            search_error_set(err, 404, "not_found", "no document with id '%.200s'", id);
        xc_error_free(xe);
        return NULL;
    }
    xc_query *q = xc_query_similar(ix->db, docid, SEARCH_SIMILAR_TERMS, similar_term_ok, &xe);
    if (!q) {
        *modified = binding_error(err, xe, "cannot expand document");
        xc_error_free(xe);
        return NULL;
    }
    struct search_request req;
    search_request_init(&req);
    req.limit = limit;
    req.snippet = 0;
    xc_match_opts opts;
    xc_match_opts_init(&opts);
    opts.limit = limit;
    opts.bm25_k1 = SEARCH_BM25_K1;
    opts.bm25_b = SEARCH_BM25_B;
    opts.collapse_slot = SCHEMA_SLOT_HASH;
    opts.exclude_term = idterm;
    xc_mset *ms = enquire_within(ix, q, &opts, deadline, &xe);
    xc_query_free(q);
    if (!ms) {
        *modified = enquire_error(err, xe);
        xc_error_free(xe);
        return NULL;
    }
    int timed_out = xc_mset_timed_out(ms);
    json_t *hits = hits_json(ix, ms, &req, NULL, NULL, &opts, deadline, &timed_out, err, modified);
    if (!hits) {
        xc_mset_free(ms);
        return NULL;
    }
    int failed = 0;
    json_t *res = result_json(id, ms, &req, 0, &failed);
    xc_mset_free(ms);
    if (res)
        json_object_del(res, "query");
    jset(res, "similar_to", json_string(id), &failed);
    jset(res, "hits", hits, &failed);
    jset(res, "timed_out", json_boolean(timed_out), &failed);
    if (failed) {
        json_decref(res);
        build_failed(err);
        return NULL;
    }
    return res;
}

struct similar_arg {
    const char *id;
    unsigned limit;
};

static json_t *similar_run(struct search_index *ix, const void *arg, struct search_error *err)
{
    const char *id = ((const struct similar_arg *)arg)->id;
    unsigned limit = ((const struct similar_arg *)arg)->limit;
    double t0 = util_now_ms();
    double deadline = deadline_of(ix, t0);
    char idterm[SCHEMA_MAX_TERM + 1];
    if (id_term(id, idterm, err) < 0)
        return NULL;
    json_t *res = NULL;
    for (int attempt = 0;; attempt++) {
        int modified = 0;
        res = similar_once(ix, id, idterm, limit, deadline, err, &modified);
        if (res || !modified || attempt >= MODIFIED_RETRIES)
            break;
        xc_db_reopen(ix->db, NULL);
    }
    return finish(res, t0, err);
}

json_t *search_similar(struct search_index *ix, const char *id, unsigned limit,
                       struct search_error *err)
{
    struct similar_arg a = {id, limit};
    return with_shards(ix, similar_run, &a, -1, 1, err);
}

static json_t *doc_once(struct search_index *ix, const void *arg, struct search_error *err)
{
    const char *id = arg;
    char term[SCHEMA_MAX_TERM + 1];
    if (id_term(id, term, err) < 0)
        return NULL;
    xc_error *xe = NULL;
    unsigned docid = 0;
    char *data = NULL, *text = NULL;
    size_t dlen = 0, tlen = 0;
    for (int attempt = 0; attempt <= MODIFIED_RETRIES; attempt++) {
        xc_error_free(xe);
        xe = NULL;
        docid = xc_db_docid_for_term(ix->db, term, &xe);
        if (docid) {
            data = xc_db_doc_data(ix->db, docid, &dlen, &xe);
            if (data)
                text = xc_db_doc_value(ix->db, docid, SCHEMA_SLOT_TEXT, &tlen, &xe);
            if (data && text)
                break;
            free(data);
            data = NULL;
            if (!xe) /* the binding could not allocate an error: out of memory */
                break;
        }
        if (!xe || xe->code != XC_ERR_MODIFIED)
            break;
        xc_db_reopen(ix->db, NULL);
    }
    if (!data) {
        /* A document deleted between the lookup and the read is not found, too. */
        if ((xe && xe->code != XC_ERR_NOT_FOUND) || (!xe && docid))
            binding_error(err, xe, "cannot read document");
        else
            search_error_set(err, 404, "not_found", "no document with id '%.200s'", id);
        xc_error_free(xe);
        return NULL;
    }
    xc_error_free(xe);
    struct schema_display d;
    if (schema_display_decode(data, dlen, &d) < 0) {
        free(data);
        free(text);
        out_of_memory(err);
        return NULL;
    }
    free(data);
    int failed = 0;
    json_t *doc = json_object();
    jset(doc, "id", json_string(d.id), &failed);
    jset(doc, "title", json_string(d.title), &failed);
    set_optional(doc, "date", d.date, &failed);
    set_optional(doc, "source", d.source, &failed);
    set_optional(doc, "url", d.url, &failed);
    set_optional(doc, "category", d.category, &failed);
    jset(doc, "text", json_stringn(text, tlen), &failed);
    schema_display_free(&d);
    free(text);
    if (failed) {
        json_decref(doc);
        build_failed(err);
        return NULL;
    }
    return doc;
}

json_t *search_doc(struct search_index *ix, const char *id, struct search_error *err)
{
    /* A document found in a shard that is up is the document; "not found" is only
     * certain when every shard answered. */
    json_t *doc = with_shards(ix, doc_once, id, 1, 0, err);
    const struct shard *down = ix->shards ? shard_first_down(ix) : NULL;
    if (!doc && err->status == 404 && down)
        search_error_set(err, 503, "shard_unavailable",
                         "no document with id '%.200s' in the shards that are up; shard %s "
                         "is unavailable: %.200s",
                         id, down->e.name, down->error);
    return doc;
}

json_t *search_shards(struct search_index *ix)
{
    if (!ix->shards)
        return NULL;
    json_t *list = json_array();
    int failed = 0;
    for (int i = 0; i < ix->nshards; i++) {
        const struct shard *s = &ix->shards[i];
        json_t *o = json_pack("{s:s, s:b, s:s, s:I}", "name", s->e.name, "remote", s->e.remote,
                              "state", s->db ? "up" : "down", "failures",
                              (json_int_t)s->failures);
        if (s->db)
            jset(o, "docs", json_integer(xc_db_doccount(s->db, NULL)), &failed);
        else
            jset(o, "error", json_string(s->error), &failed);
        jappend(list, o, &failed);
    }
    if (failed) {
        json_decref(list);
        return NULL;
    }
    return list;
}

json_t *search_health(struct search_index *ix, struct search_error *err)
{
    xc_error *xe = NULL;
    unsigned docs = 0;
    if (ix->shards) {
        /* Shard by shard below; a remote read failing here is the shard's state to
         * report, not a failure of the answer. */
        docs = ix->db ? xc_db_doccount(ix->db, NULL) : 0;
        read_updated(ix, &xe);
        xc_error_free(xe);
        xe = NULL;
    } else {
        docs = xc_db_doccount(ix->db, &xe);
        if (xe || read_updated(ix, &xe) < 0) {
            binding_error(err, xe, "cannot read index");
            xc_error_free(xe);
            return NULL;
        }
    }
    const char *status = "ok";
    if (ix->shards && !ix->db)
        status = "unavailable";
    else if (ix->shards && shard_first_down(ix))
        status = "degraded";
    int failed = 0;
    json_t *h = json_object();
    jset(h, "status", json_string(status), &failed);
    jset(h, "docs", json_integer(docs), &failed);
    jset(h, "revision", json_integer((json_int_t)search_index_revision(ix)), &failed);
    if (ix->generation[0])
        jset(h, "generation", json_string(ix->generation), &failed);
    if (ix->updated[0])
        jset(h, "updated", json_string(ix->updated), &failed);
    jset(h, "xapian", json_string(xc_version()), &failed);
    if (ix->shards) {
        json_t *shards = search_shards(ix);
        if (!shards)
            failed = 1;
        jset(h, "shards", shards, &failed);
    }
    if (failed) {
        json_decref(h);
        build_failed(err);
        return NULL;
    }
    return h;
}

/* ---- completions ---------------------------------------------------------------------------- */

struct complete_args {
    const char *q;
    unsigned limit;
};

static json_t *complete_once(struct search_index *ix, const void *arg, struct search_error *err)
{
    const struct complete_args *a = arg;
    return complete_run(ix->db, a->q, a->limit, err);
}

json_t *search_complete(struct search_index *ix, const char *q, unsigned limit,
                        struct search_error *err)
{
    struct complete_args a = {q, limit};
    return with_shards(ix, complete_once, &a, 1, 0, err);
}
