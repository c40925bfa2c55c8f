/*
 * article_json.c -- JSON articles (see article.h): one record (article_parse_json), a
 * line of a JSON Lines file read by article_lines.c; and .json files (article_json_doc_*),
 * one object or an array of them, each element read exactly as a JSON Lines record is.
 *
 * A record is an object with a string "id" (or an integer, read as its decimal digits)
 * and a string "body"; "title", "date", "source", "url" and "category" are optional, and
 * an optional field of the wrong type is ignored rather than fatal. Strings are cleaned
 * like any text (a "\u0000" becomes a space). An untitled record is titled from its body
 * as a text file is (article_pick_title); dates are read by article_date_from_json.
 * A .json file holding a single object without an "id" is the one article of its file,
 * and takes the id a text file of that path would have.
 */
#include "article_int.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* A cleaned copy of a JSON string (which may hold "\u0000": NULs become spaces). */
static char *json_str_dup(const json_t *s, size_t *len)
{
    return article_utf8_clean(json_string_value(s), json_string_length(s), len);
}

/* An optional string field: a cleaned copy, or NULL when absent or not a string. Returns
 * -1 only when out of memory. */
static int opt_string(const json_t *obj, const char *name, char **out)
{
    const json_t *v = json_object_get(obj, name);

    *out = NULL;
    if (!json_is_string(v))
        return 0; /* wrong types of optional fields are ignored, not fatal */
    *out = json_str_dup(v, NULL);
    return *out == NULL ? -1 : 0;
}

/* One record, the JSON value v, into out (see article_parse_json); a record without "id"
 * takes file_id when it is not NULL. Returns 0, or -1 with a reason. */
static int json_record(const json_t *v, const char *file_id, struct article *out, char *why,
                       size_t whylen)
{
    const json_t *id, *body, *title, *date;
    struct article a;
    size_t n;
    char *t = NULL;

    memset(&a, 0, sizeof a);
    if (!json_is_object(v)) {
        article_why(why, whylen, "not a JSON object");
        goto fail;
    }

    id = json_object_get(v, "id");
    if (id == NULL && file_id == NULL) {
        article_why(why, whylen, "missing \"id\"");
        goto fail;
    }
    if (id == NULL) {
        a.id = strdup(file_id);
    } else if (json_is_integer(id)) {
        char num[32];
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        a.id = strdup(num);
    } else if (json_is_string(id)) {
        a.id = json_str_dup(id, &n);
        if (a.id != NULL && n == 0) {
            article_why(why, whylen, "\"id\" is empty");
            goto fail;
        }
        if (a.id != NULL && n > ARTICLE_MAX_ID_BYTES) {
            article_why(why, whylen, "\"id\" is too long (%zu bytes, limit %d)", n,
                        ARTICLE_MAX_ID_BYTES);
            goto fail;
        }
    } else {
        article_why(why, whylen, "\"id\" must be a string");
        goto fail;
    }
    if (a.id == NULL)
        goto oom;

    body = json_object_get(v, "body");
    if (body == NULL) {
        article_why(why, whylen, "missing \"body\"");
        goto fail;
    }
    if (!json_is_string(body)) {
        article_why(why, whylen, "\"body\" must be a string");
        goto fail;
    }
    if ((a.body = json_str_dup(body, &a.body_len)) == NULL)
        goto oom;

    title = json_object_get(v, "title");
    if (json_is_string(title)) {
        if ((t = json_str_dup(title, &n)) == NULL)
            goto oom;
        a.title = article_title_dup(t, n);
        free(t);
    } else {
        a.title = strdup("");
    }
    if (a.title == NULL)
        goto oom;
    if (article_is_blank(a.body, a.body_len) && a.title[0] == '\0') {
        article_why(why, whylen, "empty \"body\" and no \"title\"");
        goto fail;
    }

    if (a.title[0] == '\0' && !article_is_blank(a.body, a.body_len)) {
        /* Untitled: titled from its body as a text file is. */
        char *bt = article_pick_title(a.body, a.body_len, a.body, a.body_len, 0);
        if (bt == NULL)
            goto oom;
        replace_field(&a.title, bt);
    }
    date = json_object_get(v, "date");
    if (article_date_from_json(date, &a.date) < 0)
        goto oom;
    if (opt_string(v, "source", &a.source) < 0 || opt_string(v, "url", &a.url) < 0 ||
        opt_string(v, "category", &a.category) < 0)
        goto oom;

    article_clear(out);
    *out = a;
    return 0;

oom:
    article_why(why, whylen, "%s", ARTICLE_OOM);
fail:
    article_clear(&a);
    return -1;
}

/* Parses JSON text into *root. Returns 0, or -1 with a reason. */
static int json_load(const char *s, size_t len, json_t **root, char *why, size_t whylen)
{
    json_error_t err;
    int oom;

    /* JSON_ALLOW_NUL: a "\u0000" in a body is a reason to clean it, not to lose the
     * record. JSON_DECODE_ANY: so that "42" is "not a JSON object" rather than a syntax
     * error. Nesting depth is bounded by jansson itself (JSON_PARSER_MAX_DEPTH). */
    *root = util_json_loadb(s, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &err, &oom);
    if (*root != NULL)
        return 0;
    /* jansson leaves the error empty when its first allocation fails. */
    if (oom || err.text[0] == '\0')
        article_why(why, whylen, "%s", ARTICLE_OOM);
    else
        article_why(why, whylen, "invalid JSON: %s (line %d, column %d)", err.text, err.line,
                    err.column);
    return -1;
}

int article_parse_json(const char *line, size_t len, struct article *out, char *why,
                       size_t whylen)
{
    json_t *root;
    int rc;

    if (out == NULL || (line == NULL && len > 0)) {
        article_why(why, whylen, "invalid arguments");
        return -1;
    }
    if (len > ARTICLE_MAX_LINE_BYTES) {
        article_why(why, whylen, "line too long (%zu bytes, limit %u)", len,
                    ARTICLE_MAX_LINE_BYTES);
        return -1;
    }
    if (article_is_blank(line, len)) {
        article_why(why, whylen, "empty line");
        return -1;
    }
    if (json_load(line, len, &root, why, whylen) < 0)
        return -1;
    rc = json_record(root, NULL, out, why, whylen);
    json_decref(root);
    return rc;
}


/* ---- the id at a glance ----------------------------------------------------------------- */

static const char *peek_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Past the string whose opening quote is at p, or NULL when it does not end. */
static const char *peek_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Past the value that starts at p (not checked, only skipped), or NULL when it does not
 * end. */
static const char *peek_value(const char *p, const char *end)
{
    if (p < end && *p == '"')
        return peek_string(p, end);
    if (p < end && (*p == '{' || *p == '[')) {
        size_t depth = 0;
        while (p < end) {
            if (*p == '"') {
                if (!(p = peek_string(p, end)))
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[') {
                depth++;
            } else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return NULL;
    }
    /* A number, true, false or null. */
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
           *p != '\n' && *p != '\r')
        p++;
    return p;
}

int article_json_peek_id(const char *line, size_t len, const char **id, size_t *idlen)
{
    const char *p = line, *end = line + len, *found = NULL;
    size_t found_len = 0;

    p = peek_space(p, end);
    if (p == end || *p != '{')
        return 0;
    p = peek_space(p + 1, end);
    while (p < end && *p != '}') {
        if (*p != '"')
            return 0;
        const char *key = p + 1, *key_end = peek_string(p, end);
        if (!key_end || memchr(key, '\\', (size_t)(key_end - 1 - key)))
            return 0; /* an escaped key may spell "id" */
        int is_id = key_end - 1 - key == 2 && key[0] == 'i' && key[1] == 'd';
        p = peek_space(key_end, end);
        if (p == end || *p != ':')
            return 0;
        p = peek_space(p + 1, end);
        if (is_id) {
            if (found || p == end || *p != '"')
                return 0; /* a second "id" (the last one counts), or not a string */
            const char *v = ++p;
            while (p < end && *p != '"') {
                unsigned char c = (unsigned char)*p;
                if (c < 0x20 || c > 0x7E || c == '\\')
                    return 0;
                p++;
            }
            if (p == end || p == v || (size_t)(p - v) > ARTICLE_MAX_ID_BYTES)
                return 0;
            found = v;
            found_len = (size_t)(p - v);
            p++;
        } else if (!(p = peek_value(p, end))) {
            return 0;
        }
        p = peek_space(p, end);
        if (p < end && *p == ',')
            p = peek_space(p + 1, end);
        else if (p == end || *p != '}')
            return 0;
    }
    if (p == end || peek_space(p + 1, end) != end || !found)
        return 0;
    *id = found;
    *idlen = found_len;
    return 1;
}


/* ---- .json files ---------------------------------------------------------------------- */

struct article_json_doc {
    json_t *root; /* an object or an array */
};

article_json_doc *article_json_doc_parse(const char *buf, size_t len, char *why, size_t whylen)
{
    article_json_doc *d;
    json_t *root;

    if (buf == NULL && len > 0) {
        article_why(why, whylen, "invalid arguments");
        return NULL;
    }
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        buf += 3, len -= 3;
    if (article_is_blank(buf, len)) {
        article_why(why, whylen, "empty file");
        return NULL;
    }
    if (json_load(buf, len, &root, why, whylen) < 0)
        return NULL;
    if (!json_is_object(root) && !json_is_array(root)) {
        json_decref(root);
        article_why(why, whylen, "neither a JSON object nor an array of them");
        return NULL;
    }
    if ((d = malloc(sizeof *d)) == NULL) {
        json_decref(root);
        article_why(why, whylen, "%s", ARTICLE_OOM);
        return NULL;
    }
    d->root = root;
    return d;
}

size_t article_json_doc_count(const article_json_doc *d)
{
    if (d == NULL)
        return 0;
    return json_is_array(d->root) ? json_array_size(d->root) : 1;
}

int article_json_doc_is_array(const article_json_doc *d)
{
    return d != NULL && json_is_array(d->root);
}

int article_json_doc_record(const article_json_doc *d, size_t i, const char *file_id,
                            struct article *out, char *why, size_t whylen)
{
    if (d == NULL || out == NULL || i >= article_json_doc_count(d)) {
        article_why(why, whylen, "invalid arguments");
        return -1;
    }
    /* An array's records need their own ids, as JSON Lines records do: one file id for
     * several records would make them all one document. */
    if (json_is_array(d->root))
        return json_record(json_array_get(d->root, i), NULL, out, why, whylen);
    return json_record(d->root, file_id, out, why, whylen);
}

void article_json_doc_free(article_json_doc *d)
{
    if (d == NULL)
        return;
    json_decref(d->root);
    free(d);
}
