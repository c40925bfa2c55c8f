/*
 * request.c -- decoding a request: an HTTP query string, a JSON body or command-line
 * arguments -> one bounded, validated struct search_request (see request.h).
 *
 * Every parameter goes through search_request_set(), whether it came from a query string,
 * a JSON body or the command line, so there is one set of limits and one set of error
 * messages.
 */
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"
#include "schema.h"
#include "search_int.h"
#include "snippet.h"
#include "util.h"

void search_request_init(struct search_request *req)
{
    memset(req, 0, sizeof *req);
    req->limit = SEARCH_DEFAULT_LIMIT;
    req->snippet = 1;
    req->snippet_bytes = SNIPPET_DEFAULT_BYTES;
    /* OR by default, chosen by measurement (README "Default operator"): with AND, natural
     * language queries rarely match anything (scifact nDCG@10 0.047 against 0.685). */
    req->op_and = 0;
    req->dedup = 1;
    req->fuzzy = 1;
    req->sort = SEARCH_SORT_RELEVANCE;
    req->partial = -1;
    req->fields = SEARCH_FIELDS_ALL;
    req->facet_limit = SEARCH_DEFAULT_FACET_LIMIT;
    strcpy(req->mark_open, "<b>");
    strcpy(req->mark_close, "</b>");
}

void search_request_clear(struct search_request *req)
{
    free(req->q);
    for (unsigned i = 0; i < req->nfilters; i++) {
        free(req->filters[i].field);
        free(req->filters[i].value);
    }
    free(req->filters);
    search_request_init(req);
}

/* Adds one filter: field (flen bytes) and value, checked (schema_filter_check). */
static int add_filter(struct search_request *req, const char *field, size_t flen,
                      const char *value, struct search_error *err)
{
    char name[16];
    if (flen == 0 || flen >= sizeof name) {
        search_error_set(err, 400, "bad_filter",
                         "filter '%.64s' must be field:value, with a field of %s", field,
                         SCHEMA_FILTER_FIELDS);
        return -1;
    }
    memcpy(name, field, flen);
    name[flen] = '\0';
    if (!schema_is_filter_field(name)) {
        search_error_set(err, 400, "bad_filter", "filter field '%s' is unknown; filter fields are %s",
                         name, SCHEMA_FILTER_FIELDS);
        return -1;
    }
    size_t vlen = strlen(value);
    if (vlen > SEARCH_MAX_FILTER_BYTES) {
        search_error_set(err, 400, "bad_filter", "filter value for '%s' is %zu bytes; the most "
                         "allowed is %d", name, vlen, SEARCH_MAX_FILTER_BYTES);
        return -1;
    }
    if (!util_utf8_valid(value, vlen)) {
        search_error_set(err, 400, "bad_filter", "filter value for '%s' is not valid UTF-8 text",
                         name);
        return -1;
    }
    if (req->nfilters >= SEARCH_MAX_FILTERS) {
        search_error_set(err, 400, "bad_filter", "a request may hold at most %d filters",
                         SEARCH_MAX_FILTERS);
        return -1;
    }
    /* A value quoted as in a query ("BBC News") means the same unquoted. */
    if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
        value++;
        vlen -= 2;
    }
    char *v = strndup(value, vlen);
    if (!v) {
        search_out_of_memory(err);
        return -1;
    }
    char why[512];
    if (schema_filter_check(name, v, why, sizeof why) < 0) {
        free(v);
        search_error_set(err, 400, "bad_filter", "%s", why);
        return -1;
    }
    if (req->nfilters % 8 == 0) {
        struct search_filter *f = realloc(req->filters, (req->nfilters + 8) * sizeof *f);
        if (!f) {
            free(v);
            search_out_of_memory(err);
            return -1;
        }
        req->filters = f;
    }
    char *fd = strdup(name);
    if (!fd) {
        free(v);
        search_out_of_memory(err);
        return -1;
    }
    req->filters[req->nfilters].field = fd;
    req->filters[req->nfilters].value = v;
    req->nfilters++;
    return 0;
}

/* Parses a decimal unsigned integer in [0, max]. */
static int parse_uint(const char *key, const char *value, unsigned max, unsigned *out,
                      struct search_error *err)
{
    long v;
    int rc = value && value[0] != '-' ? num_parse_long(value, 0, max, &v) : NUM_SYNTAX;
    if (rc == NUM_OK) {
        *out = (unsigned)v;
        return 0;
    }
    if (rc == NUM_SYNTAX)
        search_error_set(err, 400, "bad_parameter",
                         "parameter '%s' must be a whole number from 0 to %u", key, max);
    else /* too large (a negative number was refused as not a whole number above) */
        search_error_set(err, 400, "bad_parameter",
                         "parameter '%s' is %.40s; the most allowed is %u", key, value, max);
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

/* Parses fields=title,date,...: the hit fields wanted besides id, rank and score. */
static int parse_fields(const char *value, unsigned *out, struct search_error *err)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"title", SEARCH_FIELD_TITLE},       {"date", SEARCH_FIELD_DATE},
                 {"source", SEARCH_FIELD_SOURCE},     {"url", SEARCH_FIELD_URL},
                 {"category", SEARCH_FIELD_CATEGORY}, {"snippet", SEARCH_FIELD_SNIPPET},
                 {"duplicates", SEARCH_FIELD_DUPLICATES},
                 {"title_marked", SEARCH_FIELD_TITLE_MARKED}};
    unsigned bits = 0;
    const char *p = value;
    while (*p) {
        size_t n = strcspn(p, ",");
        int known = n == 0;
        /* id, rank and score always come: naming them is allowed. */
        known |= (n == 2 && strncmp(p, "id", 2) == 0) || (n == 4 && strncmp(p, "rank", 4) == 0) ||
                 (n == 5 && strncmp(p, "score", 5) == 0);
        for (size_t i = 0; i < sizeof names / sizeof names[0] && !known; i++) {
            if (n == strlen(names[i].name) && strncmp(p, names[i].name, n) == 0) {
                bits |= names[i].bit;
                known = 1;
            }
        }
        if (!known) {
            search_error_set(err, 400, "bad_parameter",
                             "field '%.*s' is unknown; fields are title, date, source, url, "
                             "category, snippet, title_marked, duplicates (id, rank and score "
                             "always come)",
                             (int)(n < 64 ? n : 64), p);
            return -1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    *out = bits;
    return 0;
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
            search_out_of_memory(err);
            return -1;
        }
        free(req->q);
        req->q = q;
        return 0;
    }
    if (strcmp(key, "filter") == 0) {
        const char *colon = strchr(value, ':');
        if (!colon) {
            search_error_set(err, 400, "bad_filter",
                             "filter '%.64s' must be field:value, with a field of %s", value,
                             SCHEMA_FILTER_FIELDS);
            return -1;
        }
        return add_filter(req, value, (size_t)(colon - value), colon + 1, err);
    }
    if (strcmp(key, "limit") == 0)
        return parse_uint(key, value, SEARCH_MAX_LIMIT, &req->limit, err);
    if (strcmp(key, "offset") == 0)
        return parse_uint(key, value, SEARCH_MAX_OFFSET, &req->offset, err);
    if (strcmp(key, "snippet") == 0)
        return parse_bool(key, value, &req->snippet, err);
    if (strcmp(key, "snippet_bytes") == 0) {
        unsigned n;
        if (parse_uint(key, value, SNIPPET_MAX_BYTES, &n, err) < 0)
            return -1;
        if (n < SNIPPET_MIN_BYTES) {
            search_error_set(err, 400, "bad_parameter",
                             "parameter 'snippet_bytes' is %s; the least allowed is %d", value,
                             SNIPPET_MIN_BYTES);
            return -1;
        }
        req->snippet_bytes = n;
        return 0;
    }
    if (strcmp(key, "dedup") == 0)
        return parse_bool(key, value, &req->dedup, err);
    if (strcmp(key, "fuzzy") == 0)
        return parse_bool(key, value, &req->fuzzy, err);
    if (strcmp(key, "explain") == 0)
        return parse_bool(key, value, &req->explain, err);
    if (strcmp(key, "partial") == 0)
        return parse_bool(key, value, &req->partial, err);
    if (strcmp(key, "exact") == 0)
        return parse_bool(key, value, &req->exact, err);
    if (strcmp(key, "facet_limit") == 0) {
        unsigned n = 0;
        if (parse_uint(key, value, SEARCH_MAX_FACET_LIMIT, &n, err) < 0)
            return -1;
        if (n == 0) {
            search_error_set(err, 400, "bad_parameter",
                             "parameter 'facet_limit' must be from 1 to %d",
                             SEARCH_MAX_FACET_LIMIT);
            return -1;
        }
        req->facet_limit = n;
        return 0;
    }
    if (strcmp(key, "fields") == 0)
        return parse_fields(value, &req->fields, err);
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

/* The parameters /doc/{id}/similar takes. */
static const char *const similar_keys[] = {"limit", "offset", "snippet", "dedup", "fields"};

/* search_request_set for /doc/{id}/similar: other keys are refused. */
static int similar_set(struct search_request *req, const char *key, const char *value,
                       struct search_error *err)
{
    for (size_t i = 0; i < sizeof similar_keys / sizeof similar_keys[0]; i++) {
        if (strcmp(key, similar_keys[i]) == 0)
            return search_request_set(req, key, value, err);
    }
    search_error_set(err, 400, "unknown_parameter",
                     "parameter '%.64s' does not apply to similar articles; they take limit, "
                     "offset, snippet, dedup and fields",
                     key);
    return -1;
}

static int from_query(struct search_request *req, const char *qs,
                      int (*set)(struct search_request *, const char *, const char *,
                                 struct search_error *),
                      struct search_error *err);

int search_request_from_query(struct search_request *req, const char *qs,
                              struct search_error *err)
{
    return from_query(req, qs, search_request_set, err);
}

int search_request_from_similar_query(struct search_request *req, const char *qs,
                                      struct search_error *err)
{
    return from_query(req, qs, similar_set, err);
}

/* The parameters a query string may give more than once (each adds one more). */
static int repeatable(const char *key)
{
    return strcmp(key, "filter") == 0;
}

/* Decodes a query string parameter by parameter through set. A parameter given twice,
 * other than a repeatable one, is refused, as a JSON body's duplicate key is: which of the
 * two was meant cannot be told. */
static int from_query(struct search_request *req, const char *qs,
                      int (*set)(struct search_request *, const char *, const char *,
                                 struct search_error *),
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
        search_out_of_memory(err);
        return -1;
    }
    int rc = 0;
    /* Keys already set: set refuses unknown ones, so there are few. */
    char seen[32][32];
    size_t nseen = 0;
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
                size_t i = 0;
                while (i < nseen && strcmp(seen[i], key) != 0)
                    i++;
                if (i < nseen && !repeatable(key)) {
                    search_error_set(err, 400, "bad_parameter",
                                     "parameter '%s' is given twice; only filter may repeat",
                                     key);
                    rc = -1;
                } else {
                    rc = set(req, key, value, err);
                    if (rc == 0 && i == nseen && nseen < sizeof seen / sizeof seen[0] &&
                        strlen(key) < sizeof seen[0])
                        strcpy(seen[nseen++], key);
                }
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

/* One value of a JSON filter field: a string, or a whole number (year: 2004). */
static int json_filter_value(struct search_request *req, const char *field, json_t *v,
                             struct search_error *err)
{
    char num[32];
    const char *text;
    if (json_is_string(v)) {
        text = json_string_value(v);
        if (strlen(text) != json_string_length(v)) {
            search_error_set(err, 400, "bad_filter", "filter '%.64s' contains a NUL byte", field);
            return -1;
        }
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        text = num;
    } else {
        search_error_set(err, 400, "bad_filter",
                         "filter '%.64s' must be a string, a number or an array of them", field);
        return -1;
    }
    return add_filter(req, field, strlen(field), text, err);
}

/* "filter" in a JSON body (see search_request_from_json in request.h). */
static int json_filter(struct search_request *req, json_t *f, struct search_error *err)
{
    if (json_is_string(f))
        return search_request_set(req, "filter", json_string_value(f), err);
    if (json_is_array(f)) {
        size_t i;
        json_t *e;
        json_array_foreach (f, i, e) {
            if (!json_is_string(e)) {
                search_error_set(err, 400, "bad_filter",
                                 "a 'filter' array holds \"field:value\" strings");
                return -1;
            }
            if (search_request_set(req, "filter", json_string_value(e), err) < 0)
                return -1;
        }
        return 0;
    }
    if (!json_is_object(f)) {
        search_error_set(err, 400, "bad_filter",
                         "'filter' must be an object of fields ({\"category\": [\"sport\"]}), "
                         "a \"field:value\" string or an array of them");
        return -1;
    }
    const char *field;
    json_t *v;
    json_object_foreach (f, field, v) {
        if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach (v, i, e) {
                if (json_filter_value(req, field, e, err) < 0)
                    return -1;
            }
        } else if (json_is_object(v) &&
                   (strcmp(field, "source") == 0 || strcmp(field, "category") == 0)) {
            search_error_set(err, 400, "bad_filter",
                             "filter '%s' takes a value or an array of values, not a range",
                             field);
            return -1;
        } else if (json_is_object(v)) {
            /* A range: {"from": A, "to": B}, either left out. */
            json_t *from = json_object_get(v, "from"), *to = json_object_get(v, "to");
            if (json_object_size(v) != (size_t)(!!from + !!to) || (!from && !to) ||
                (from && !json_is_string(from) && !json_is_integer(from)) ||
                (to && !json_is_string(to) && !json_is_integer(to))) {
                search_error_set(err, 400, "bad_filter",
                                 "a range filter on '%.64s' is {\"from\": A, \"to\": B}, with "
                                 "either left out",
                                 field);
                return -1;
            }
            char a[64] = "", b[64] = "";
            if (from && json_is_string(from))
                snprintf(a, sizeof a, "%s", json_string_value(from));
            else if (from)
                snprintf(a, sizeof a, "%lld", (long long)json_integer_value(from));
            if (to && json_is_string(to))
                snprintf(b, sizeof b, "%s", json_string_value(to));
            else if (to)
                snprintf(b, sizeof b, "%lld", (long long)json_integer_value(to));
            char range[160];
            snprintf(range, sizeof range, "%s..%s", a, b);
            if (add_filter(req, field, strlen(field), range, err) < 0)
                return -1;
        } else if (json_filter_value(req, field, v, err) < 0) {
            return -1;
        }
    }
    return 0;
}

int search_request_from_json(struct search_request *req, const char *body, size_t len,
                             struct search_error *err)
{
    json_error_t jerr;
    int oom;
    /* jansson bounds nesting depth itself; REJECT_DUPLICATES keeps one meaning per key. */
    json_t *root = util_json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr, &oom);
    if (oom) {
        search_out_of_memory(err);
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
        if (strcmp(key, "filter") == 0) {
            if (json_filter(req, v, err) < 0) {
                rc = -1;
                break;
            }
            continue;
        }
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
    if (!req->q && req->nfilters == 0) {
        search_error_set(err, 400, "missing_parameter",
                         "parameter 'q' (the query) is required, or a 'filter'");
        return -1;
    }
    return 0;
}
