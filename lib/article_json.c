/*
 * article_json.c -- one JSON article record (article_parse_json, see article.h): a line
 * of a JSON Lines file, read by article_lines.c.
 *
 * A record is an object with a string "id" (or an integer, read as its decimal digits)
 * and a string "body"; "title", "date", "source", "url" and "category" are optional, and
 * an optional field of the wrong type is ignored rather than fatal. Strings are cleaned
 * like any text (a "\u0000" becomes a space). An untitled record is titled from its body
 * as a text file is (article_pick_title); dates are read by article_date_from_json.
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

int article_parse_json(const char *line, size_t len, struct article *out, char *why,
                       size_t whylen)
{
    json_t *root;
    json_error_t err;
    const json_t *id, *body, *title, *date;
    struct article a;
    size_t n;
    char *t = NULL;
    int oom;

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
    /* JSON_ALLOW_NUL: a "\u0000" in a body is a reason to clean it, not to lose the
     * record. JSON_DECODE_ANY: so that "42" is "not a JSON object" rather than a syntax
     * error. Nesting depth is bounded by jansson itself (JSON_PARSER_MAX_DEPTH). */
    root = util_json_loadb(line, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &err, &oom);
    if (root == NULL) {
        /* jansson leaves the error empty when its first allocation fails. */
        if (oom || err.text[0] == '\0')
            article_why(why, whylen, "%s", ARTICLE_OOM);
        else
            article_why(why, whylen, "invalid JSON: %s (line %d, column %d)", err.text, err.line,
                        err.column);
        return -1;
    }
    memset(&a, 0, sizeof a);
    if (!json_is_object(root)) {
        article_why(why, whylen, "not a JSON object");
        goto fail;
    }

    id = json_object_get(root, "id");
    if (id == NULL) {
        article_why(why, whylen, "missing \"id\"");
        goto fail;
    }
    if (json_is_integer(id)) {
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

    body = json_object_get(root, "body");
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

    title = json_object_get(root, "title");
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
    date = json_object_get(root, "date");
    if (article_date_from_json(date, &a.date) < 0)
        goto oom;
    if (opt_string(root, "source", &a.source) < 0 || opt_string(root, "url", &a.url) < 0 ||
        opt_string(root, "category", &a.category) < 0)
        goto oom;

    json_decref(root);
    article_clear(out);
    *out = a;
    return 0;

oom:
    article_why(why, whylen, "%s", ARTICLE_OOM);
fail:
    json_decref(root);
    article_clear(&a);
    return -1;
}
