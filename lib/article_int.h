/*
 * article_int.h -- what the article readers (lib/article*.c) share, and nothing outside
 * them uses: ASCII classification, trimming, the one-line reason writer, titles, binary
 * sniffing, and the entry points one reader borrows from another (an untitled JSON record
 * is titled as a text file is; HTML and JSON dates are read by the date rules).
 */
#ifndef QUIRE_ARTICLE_INT_H
#define QUIRE_ARTICLE_INT_H

#include "article.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#define ARTICLE_OOM "out of memory"

/* ASCII-only classification: the <ctype.h> functions depend on the locale and are
 * undefined for negative char values. */
static inline int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

static inline unsigned char to_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Case-insensitive (ASCII) comparison of n bytes of s with the lower-case word w. */
static inline int lower_eq(const char *s, const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (to_lower((unsigned char)s[i]) != (unsigned char)w[i])
            return 0;
    return 1;
}

/* True when [s, s+n) starts with the lower-case word w, case-insensitively. */
static inline int starts_with_ci(const char *s, size_t n, const char *w)
{
    size_t wl = strlen(w);
    return n >= wl && lower_eq(s, w, wl);
}

/* Replaces *field by value, freeing what was there. */
static inline void replace_field(char **field, char *value)
{
    free(*field);
    *field = value;
}

/* The largest length <= max that does not cut a UTF-8 sequence of valid text s. */
static inline size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* ---- article.c ------------------------------------------------------------------------ */

/* Writes a formatted reason into why (when the caller gave room for one). */
void article_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Strips ASCII whitespace, no-break spaces (U+00A0) and a byte order mark from both ends
 * of [*s, *s + *n). */
void article_trim(const char **s, size_t *n);
/* True when the text holds nothing but whitespace. */
int article_is_blank(const char *s, size_t n);
/* Copies a title: runs of whitespace become one space, the ends are trimmed, and the
 * result is cut to ARTICLE_MAX_TITLE_BYTES at a UTF-8 boundary. s must be valid UTF-8.
 * NULL only when out of memory. */
char *article_title_dup(const char *s, size_t n);
/* The start every whole-file reader (text, Markdown, HTML) shares: checks the arguments,
 * the size limit (ARTICLE_MAX_FILE_BYTES) and that buf is text, then converts it to clean
 * UTF-8 (article_recode with html as given, article_utf8_clean). Returns the text, which
 * the caller frees, and its length in *outlen; NULL with a reason in why. */
char *article_file_text(const char *buf, size_t len, int html, const struct article *out,
                        size_t *outlen, char *why, size_t whylen);

/* ---- article_file.c ------------------------------------------------------------------- */

/* 0 when the file open on fd starts with gzip's magic bytes; -1 with a reason (a file
 * named .gz that is not gzip data, or one cut short before its header, is an error, not
 * text). */
int article_gz_check(int fd, char *why, size_t whylen);
/* Why reading gz stopped, in words (errno's message for a system error). Borrowed until
 * the next zlib call on gz. */
const char *article_gz_error(gzFile gz);

/* ---- article_text.c ------------------------------------------------------------------- */

/* The title of a text (see article_parse_text); NULL when out of memory. raw is the
 * cleaned file, plain the text the headline scan reads (the same for .txt; Markdown
 * converted to text for .md). */
char *article_pick_title(const char *raw, size_t rawlen, const char *plain, size_t plainlen,
                         int md);

/* ---- article_date.c ------------------------------------------------------------------- */

/* Normalises a date written in an attribute or a JSON field ("2026-04-10",
 * "2026-04-10T12:00:00Z", "April 10, 2026") to a malloc'd "YYYY-MM-DD". Returns 1 and
 * the date in *out, 0 (and NULL) when there is no date, -1 when out of memory. */
int article_date_normalise(const char *s, size_t n, char **out);
/* A JSON "date" value (a string in any form article_date_normalise reads, a year alone,
 * YYYYMMDD, or Unix seconds) as a malloc'd "YYYY-MM-DD". Returns 1 with the date in *out,
 * 0 when there is none, -1 when out of memory. */
int article_date_from_json(const json_t *date, char **out);

#endif
