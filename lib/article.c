/*
 * article.c -- parsing input files into `struct article` (see article.h): the struct,
 * which reader a file name calls for, and the small helpers every reader shares
 * (article_int.h). The readers themselves live one format to a file:
 *
 *   article_text.c        plain text and Markdown, and how a text's title is picked
 *   article_html.c        HTML, through gumbo; article_html_guard.c bounds gumbo's
 *                         time and memory (the nesting pre-check and its allocator)
 *   article_json.c        one JSON record; article_lines.c reads JSON Lines files
 *                         (plain or gzip) a line at a time
 *   article_date.c        dates written in text, attributes and JSON fields
 *   article_utf8.c        making any bytes valid UTF-8; article_charset.c converting
 *                         declared or guessed charsets
 *   article_child.c       the HTML parser in a child process, for risky input
 *
 * Every parser reads untrusted bytes, so each one is written to the same rules:
 *
 *  - Input is bounded before any work is done (ARTICLE_MAX_FILE_BYTES for whole files,
 *    ARTICLE_MAX_LINE_BYTES for JSON lines) and every loop is linear in the input. Scans
 *    that look ahead (dates, Markdown links, the HTML nesting pre-check) either do a
 *    constant amount of work per position or never rescan bytes they have passed.
 *  - Text is made valid UTF-8 first (article_utf8_clean), so everything downstream --
 *    gumbo, jansson, Xapian, JSON output in the daemon -- only ever sees valid UTF-8.
 *  - Failures are values: -1 with a one-line reason, never an abort (but see gumbo's
 *    assertions in article_html_guard.c). Every allocation is checked; running out of
 *    memory is reported as "out of memory".
 *
 * Who owns what: a parser writes into `out` only when it succeeds, and then replaces --
 * freeing the old value -- exactly the fields it sets: title, body, body_len and date for
 * text and HTML (id, source, url and category stay the caller's), every field for JSON.
 * So `out` must start zeroed (`= {0}`) or hold an earlier result; article_clear frees it.
 */
#include "article_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Binary sniffing looks at this many leading bytes; more than BINARY_PERCENT percent of
 * control bytes there (NUL included) means "not text". Text with the odd form feed or
 * escape sequence stays well under it; compressed or executable data is around 12%. */
#define BINARY_SNIFF_BYTES 8192
#define BINARY_PERCENT 5

/* ---- small helpers -------------------------------------------------------------------- */

void article_why(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || whylen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

void article_trim(const char **s, size_t *n)
{
    const unsigned char *p = (const unsigned char *)*s;
    size_t len = *n;

    for (;;) {
        if (len > 0 && is_space(p[0])) {
            p++, len--;
        } else if (len >= 2 && p[0] == 0xC2 && p[1] == 0xA0) {
            p += 2, len -= 2;
        } else if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
            p += 3, len -= 3;
        } else {
            break;
        }
    }
    for (;;) {
        if (len > 0 && is_space(p[len - 1]))
            len--;
        else if (len >= 2 && p[len - 2] == 0xC2 && p[len - 1] == 0xA0)
            len -= 2;
        else
            break;
    }
    *s = (const char *)p;
    *n = len;
}

/* True when the text holds nothing but whitespace. */
int article_is_blank(const char *s, size_t n)
{
    article_trim(&s, &n);
    return n == 0;
}

char *article_title_dup(const char *s, size_t n)
{
    char *t;
    size_t o = 0;
    int space = 0;

    article_trim(&s, &n);
    t = malloc(n + 1);
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_space(c)) {
            space = 1;
            continue;
        }
        if (space && o > 0)
            t[o++] = ' ';
        space = 0;
        t[o++] = (char)c;
    }
    o = utf8_cut(t, o, ARTICLE_MAX_TITLE_BYTES);
    while (o > 0 && t[o - 1] == ' ')
        o--;
    t[o] = '\0';
    return t;
}

/* A reason when buf does not look like text (tmp may hold it), or NULL. UTF-16 is named
 * separately because it is the usual "binary" text file and the fix (convert it) is obvious. */
static const char *binary_reason(const char *buf, size_t len, char *tmp, size_t tmplen)
{
    const unsigned char *u = (const unsigned char *)buf;
    size_t n = len < BINARY_SNIFF_BYTES ? len : BINARY_SNIFF_BYTES, ctl = 0;

    if (n >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        return "UTF-16 text is not supported (convert it to UTF-8)";
    for (size_t i = 0; i < n; i++)
        if ((u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' && u[i] != '\r' && u[i] != '\f' &&
             u[i] != '\v') ||
            u[i] == 0x7F)
            ctl++;
    if (n > 0 && ctl * 100 > n * BINARY_PERCENT) {
        snprintf(tmp, tmplen, "binary file (%zu of the first %zu bytes are control bytes)",
                 ctl, n);
        return tmp;
    }
    return NULL;
}

char *article_file_text(const char *buf, size_t len, int html, const struct article *out,
                        size_t *outlen, char *why, size_t whylen)
{
    char tmp[128], *recoded = NULL, *clean;
    const char *reason;
    size_t rlen = 0;
    int rc;

    if (out == NULL || (buf == NULL && len > 0)) {
        article_why(why, whylen, "invalid arguments");
        return NULL;
    }
    if (len > ARTICLE_MAX_FILE_BYTES) {
        article_why(why, whylen, "file too large (%zu bytes, limit %u)", len,
                    ARTICLE_MAX_FILE_BYTES);
        return NULL;
    }
    if ((reason = binary_reason(buf, len, tmp, sizeof tmp)) != NULL) {
        article_why(why, whylen, "%s", reason);
        return NULL;
    }
    rc = article_recode(buf, len, html, &recoded, &rlen, NULL, 0);
    /* Converted text is cleaned all the same (NULs). */
    clean = rc < 0 ? NULL : rc ? article_utf8_clean(recoded, rlen, outlen)
                               : article_utf8_clean(buf, len, outlen);
    free(recoded);
    if (clean == NULL)
        article_why(why, whylen, "%s", ARTICLE_OOM);
    return clean;
}

/* ---- formats and the struct ----------------------------------------------------------- */

/* True when the file name ends in ext (case-insensitive) with something before it. */
static int has_ext(const char *name, size_t n, const char *ext)
{
    size_t el = strlen(ext);
    return n > el && lower_eq(name + n - el, ext, el);
}

/* The file name of path, and its length without a ".gz" ending. */
static const char *base_name(const char *path, size_t *n, int *gz)
{
    const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;

    *n = strlen(name);
    *gz = has_ext(name, *n, ".gz");
    if (*gz)
        *n -= 3;
    return name;
}

article_format article_format_for_path(const char *path)
{
    const char *name;
    size_t n;
    int gz;

    if (path == NULL)
        return ARTICLE_UNKNOWN;
    name = base_name(path, &n, &gz);
    if (has_ext(name, n, ".txt"))
        return ARTICLE_TEXT;
    if (has_ext(name, n, ".md") || has_ext(name, n, ".markdown"))
        return ARTICLE_MARKDOWN;
    if (has_ext(name, n, ".html") || has_ext(name, n, ".htm"))
        return ARTICLE_HTML;
    if (has_ext(name, n, ".json"))
        return ARTICLE_JSON;
    if (has_ext(name, n, ".jsonl") || has_ext(name, n, ".ndjson"))
        return ARTICLE_JSONL;
    return ARTICLE_UNKNOWN;
}

int article_path_gz(const char *path)
{
    size_t n;
    int gz = 0;

    if (path != NULL)
        base_name(path, &n, &gz);
    return gz;
}

void article_clear(struct article *a)
{
    if (a == NULL)
        return;
    free(a->id);
    free(a->title);
    free(a->body);
    free(a->date);
    free(a->source);
    free(a->url);
    free(a->category);
    memset(a, 0, sizeof *a);
}
