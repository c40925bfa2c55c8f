/*
 * article.c -- parsing input files into `struct article` (see article.h).
 *
 * Every parser here reads untrusted bytes, so each one is written to the same rules:
 *
 *  - Input is bounded before any work is done (ARTICLE_MAX_FILE_BYTES for whole files,
 *    ARTICLE_MAX_LINE_BYTES for JSON lines) and every loop is linear in the input. Scans
 *    that look ahead (dates, Markdown links, the HTML nesting pre-check) either do a
 *    constant amount of work per position or never rescan bytes they have passed.
 *  - Text is made valid UTF-8 first (article_utf8_clean), so everything downstream --
 *    gumbo, jansson, Xapian, JSON output in the daemon -- only ever sees valid UTF-8.
 *  - Failures are values: -1 with a one-line reason, never an abort (but see gumbo's
 *    assertions below). Every allocation is checked; running out of memory is reported
 *    as "out of memory".
 *
 * Titles of plain-text files are the hard part: the corpus is scraped web pages, whose
 * first lines are often navigation ("Back to Live Signals", "Pull to refresh", "Logo"),
 * dates and all-caps labels. pick_title() passes over such lines and takes the first line
 * that reads like a headline; when the text opens straight into prose it falls back to
 * the first sentence (see title_fallback for why).
 *
 * HTML goes through gumbo 0.10.1 (Debian's version), which has traps of its own:
 *  (1) it records every parse error with a copy of the open-element stack, so a deeply
 *      nested page costs memory quadratic in its depth: error recording is turned off;
 *  (2) its tree builder walks the whole stack of open elements for many tags, so time is
 *      quadratic in nesting depth (100,000 nested <div>s take 10 s; a million, hours).
 *      Newer gumbo releases cap the depth (max_tree_depth, default 400); ours cannot, so
 *      html_nesting_ok() estimates the depth with a linear pre-scan that mirrors the tree
 *      builder's closing rules and refuses what would pass that same 400. As a backstop
 *      for what the estimate misses, gumbo's allocator -- which gumbo calls for every tag
 *      -- checks gumbo's CPU time against a budget;
 *  (3) it never checks malloc: its allocator tracks its blocks, caps their total, and when
 *      malloc fails or a budget runs out it jumps back out of gumbo and frees everything;
 *  (4) it is built with assertions, and a few exotic tag sequences trip one and abort the
 *      process (e.g. "<table><math><select><mi><select></table>"). Nothing here can catch
 *      that; the cure is a newer gumbo.
 *
 * Who owns what: a parser writes into `out` only when it succeeds, and then replaces --
 * freeing the old value -- exactly the fields it sets: title, body, body_len and date for
 * text and HTML (id, source, url and category stay the caller's), every field for JSON.
 * So `out` must start zeroed (`= {0}`) or hold an earlier result; article_clear frees it.
 */
#include "article.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gumbo.h>
#include <jansson.h>
#include <zlib.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

/* Binary sniffing looks at this many leading bytes; more than BINARY_PERCENT percent of
 * control bytes there (NUL included) means "not text". Text with the odd form feed or
 * escape sequence stays well under it; compressed or executable data is around 12%. */
#define BINARY_SNIFF_BYTES 8192
#define BINARY_PERCENT 5

/* Title heuristics for plain text: only the top of a file is considered. */
#define TITLE_WINDOW_LINES 40     /* non-empty lines searched for a title */
#define HEADLINE_MIN_WORDS 3      /* "Logo", "Meta", "Daily Brief" are too short */
#define HEADLINE_MAX_WORDS 25     /* longer lines are prose */
#define HEADLINE_MAX_BYTES 400    /* ...and so are longer lines, whatever their words */
#define TITLE_SOFT_BYTES 120      /* a prose fallback title is cut near this length */
#define TITLE_SENTENCE_MAX 200    /* ...or at the end of its first sentence, if before */

/* HTML limits: see the file comment. */
#define HTML_MAX_DEPTH 400
#define GUMBO_MEM_MAX ((size_t)1 << 30)  /* gumbo's own memory, whatever the input size */
#define GUMBO_MEM_PER_BYTE 48            /* typical pages need 6-12 bytes per input byte */
#define GUMBO_MEM_BASE ((size_t)16 << 20)
/* CPU time gumbo may spend: 1 s plus 1 us per input byte. Ordinary pages parse at about
 * 60 ns per byte, so only pathological markup (or a very slow machine) comes near it. */
#define GUMBO_CPU_BASE_NS 1000000000LL
#define GUMBO_CPU_NS_PER_BYTE 1000LL
#define GUMBO_CPU_CHECK_EVERY 64 /* allocations between clock reads (a system call) */

/* article_lines reads the file in blocks of this size. */
#define LINES_BLOCK 65536

static const char OOM[] = "out of memory";

/* ---- small helpers -------------------------------------------------------------------- */

/* Writes a formatted reason into why (when the caller gave room for one). */
static void set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || whylen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* ASCII-only classification: the <ctype.h> functions depend on the locale and are
 * undefined for negative char values. */
static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

static unsigned char to_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Case-insensitive (ASCII) comparison of n bytes of s with the lower-case word w. */
static int lower_eq(const char *s, const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (to_lower((unsigned char)s[i]) != (unsigned char)w[i])
            return 0;
    return 1;
}

/* True when [s, s+n) starts with the lower-case word w, case-insensitively. */
static int starts_with_ci(const char *s, size_t n, const char *w)
{
    size_t wl = strlen(w);
    return n >= wl && lower_eq(s, w, wl);
}

/* Strips ASCII whitespace, no-break spaces (U+00A0) and a byte order mark from both ends
 * of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
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
static int is_blank(const char *s, size_t n)
{
    trim(&s, &n);
    return n == 0;
}

/* The largest length <= max that does not cut a UTF-8 sequence of valid text s. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* A growable string. Appends after a failed allocation are no-ops; the failure is
 * reported once, by sbuf_finish, so callers need not check every append. */
struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
};

/* Makes room for extra more bytes plus a terminating NUL. */
static int sbuf_reserve(struct sbuf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (b->oom)
        return -1;
    if (extra > SIZE_MAX - 1 - b->len) {
        b->oom = 1;
        return -1;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
    if (n == 0 || sbuf_reserve(b, n) < 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sbuf_putc(struct sbuf *b, char c)
{
    sbuf_put(b, &c, 1);
}

/* Hands over the NUL-terminated string (never NULL on success, "" when nothing was
 * appended) and its length; NULL when an allocation failed along the way. */
static char *sbuf_finish(struct sbuf *b, size_t *len)
{
    char *p;

    if (sbuf_reserve(b, 0) < 0) {
        free(b->p);
        b->p = NULL;
        return NULL;
    }
    p = b->p;
    p[b->len] = '\0';
    if (len != NULL)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* Copies a title: runs of whitespace become one space, the ends are trimmed, and the
 * result is cut to ARTICLE_MAX_TITLE_BYTES at a UTF-8 boundary. s must be valid UTF-8.
 * NULL only when out of memory. */
static char *title_dup(const char *s, size_t n)
{
    char *t;
    size_t o = 0;
    int space = 0;

    trim(&s, &n);
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

/* Replaces *field by value, freeing what was there. */
static void replace_field(char **field, char *value)
{
    free(*field);
    *field = value;
}

/* ---- UTF-8 ---------------------------------------------------------------------------- */

/* Length (1-4) of the valid UTF-8 sequence at s, or 0 when it is invalid; then *bad is the
 * length of its maximal invalid subpart, which is replaced by one U+FFFD (the practice the
 * Unicode standard recommends, and what browsers do). Table 3-7 of the standard: no
 * overlong forms, no surrogates (ED A0..BF), nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c == 0xE0) {
        need = 2, lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
        need = 2;
    } else if (c == 0xED) {
        need = 2, hi = 0x9F;
    } else if (c == 0xF0) {
        need = 3, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
        need = 3;
    } else if (c == 0xF4) {
        need = 3, hi = 0x8F;
    } else {
        *bad = 1;
        return 0;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *bad = i;
            return 0;
        }
        lo = 0x80, hi = 0xBF;
    }
    return need + 1;
}

/* One pass of the cleaner: writes into dst when it is not NULL; returns the output size. */
static size_t utf8_clean_pass(const unsigned char *s, size_t n, char *dst)
{
    size_t i = 0, o = 0;

    while (i < n) {
        size_t bad = 0, k = utf8_seq(s + i, n - i, &bad);
        if (k == 1) {
            if (dst != NULL)
                dst[o] = s[i] == '\0' ? ' ' : (char)s[i];
            o++;
            i++;
        } else if (k > 1) {
            if (dst != NULL)
                memcpy(dst + o, s + i, k);
            o += k;
            i += k;
        } else {
            if (dst != NULL)
                memcpy(dst + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += bad;
        }
    }
    return o;
}

char *article_utf8_clean(const char *buf, size_t len, size_t *outlen)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t n;
    char *out;

    if (buf == NULL)
        len = 0;
    /* Counting first keeps the copy exact: a worst-case 3x buffer for a 64 MB file would
     * be 192 MB for nothing. */
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    n = utf8_clean_pass(s, len, NULL);
    out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    utf8_clean_pass(s, len, out);
    out[n] = '\0';
    if (outlen != NULL)
        *outlen = n;
    return out;
}

/* ---- formats and the struct ----------------------------------------------------------- */

/* True when the file name ends in ext (case-insensitive) with something before it. */
static int has_ext(const char *name, size_t n, const char *ext)
{
    size_t el = strlen(ext);
    return n > el && lower_eq(name + n - el, ext, el);
}

article_format article_format_for_path(const char *path)
{
    const char *name, *slash;
    size_t n;

    if (path == NULL)
        return ARTICLE_UNKNOWN;
    slash = strrchr(path, '/');
    name = slash ? slash + 1 : path;
    n = strlen(name);
    if (has_ext(name, n, ".txt"))
        return ARTICLE_TEXT;
    if (has_ext(name, n, ".md") || has_ext(name, n, ".markdown"))
        return ARTICLE_MARKDOWN;
    if (has_ext(name, n, ".html") || has_ext(name, n, ".htm"))
        return ARTICLE_HTML;
    if (has_ext(name, n, ".jsonl") || has_ext(name, n, ".jsonl.gz") ||
        has_ext(name, n, ".ndjson") || has_ext(name, n, ".ndjson.gz"))
        return ARTICLE_JSONL;
    return ARTICLE_UNKNOWN;
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

/* ---- dates ---------------------------------------------------------------------------- */

/* Month names, longest spellings first so "September" is not read as "Sep" + "tember". */
static const struct {
    const char *name;
    unsigned char len, month;
} month_names[] = {
    {"september", 9, 9}, {"february", 8, 2}, {"november", 8, 11}, {"december", 8, 12},
    {"january", 7, 1},   {"october", 7, 10}, {"august", 6, 8},    {"march", 5, 3},
    {"april", 5, 4},     {"june", 4, 6},     {"july", 4, 7},      {"sept", 4, 9},
    {"jan", 3, 1},       {"feb", 3, 2},      {"mar", 3, 3},       {"apr", 3, 4},
    {"may", 3, 5},       {"jun", 3, 6},      {"jul", 3, 7},       {"aug", 3, 8},
    {"sep", 3, 9},       {"oct", 3, 10},     {"nov", 3, 11},      {"dec", 3, 12},
};

/* Reads a month name at p (a whole word, optionally followed by '.'); returns the bytes
 * consumed and the month in *month, or 0. */
static size_t read_month(const char *p, const char *end, int *month)
{
    size_t avail = (size_t)(end - p);

    for (size_t i = 0; i < sizeof month_names / sizeof month_names[0]; i++) {
        size_t l = month_names[i].len;
        if (avail < l || !lower_eq(p, month_names[i].name, l))
            continue;
        /* "Mayor", "Marching" and "Augusta" are not months; a non-ASCII character after
         * the name may be a letter too, unless it is a no-break space. */
        if (l < avail && (is_alpha((unsigned char)p[l]) ||
                          ((unsigned char)p[l] >= 0x80 &&
                           !(l + 1 < avail && (unsigned char)p[l] == 0xC2 &&
                             (unsigned char)p[l + 1] == 0xA0))))
            continue;
        *month = month_names[i].month;
        if (l < avail && p[l] == '.')
            l++;
        return l;
    }
    return 0;
}

/* Skips 1-3 horizontal spaces (ASCII space, tab, U+00A0); returns the bytes skipped, or 0
 * when there is none. Capping the count keeps each date attempt constant-time. */
static size_t skip_spaces(const char *p, const char *end)
{
    size_t k = 0;

    for (int units = 0; units < 3; units++) {
        if (p + k < end && (p[k] == ' ' || p[k] == '\t'))
            k++;
        else if (end - (p + k) >= 2 && (unsigned char)p[k] == 0xC2 &&
                 (unsigned char)p[k + 1] == 0xA0)
            k += 2;
        else
            break;
    }
    return k;
}

/* Reads a day of the month: 1-2 digits, optionally "st"/"nd"/"rd"/"th". */
static size_t read_day(const char *p, const char *end, int *day)
{
    size_t k = 0;
    int d = 0;

    while (k < 2 && p + k < end && is_digit((unsigned char)p[k]))
        d = d * 10 + (p[k++] - '0');
    if (k == 0 || (p + k < end && is_digit((unsigned char)p[k])))
        return 0;
    if (end - (p + k) >= 2 &&
        (lower_eq(p + k, "st", 2) || lower_eq(p + k, "nd", 2) || lower_eq(p + k, "rd", 2) ||
         lower_eq(p + k, "th", 2)) &&
        (p + k + 2 == end || !is_alnum((unsigned char)p[k + 2])))
        k += 2;
    *day = d;
    return k;
}

/* Reads exactly four digits not followed by another letter or digit. */
static size_t read_year(const char *p, const char *end, int *year)
{
    int y = 0;

    if (end - p < 4)
        return 0;
    for (int i = 0; i < 4; i++) {
        if (!is_digit((unsigned char)p[i]))
            return 0;
        y = y * 10 + (p[i] - '0');
    }
    if (p + 4 < end && is_alnum((unsigned char)p[4]))
        return 0;
    *year = y;
    return 4;
}

/* Between day/month and year: an optional comma, then spaces (which may be omitted only
 * after the comma: "Apr 10,2026"). */
static size_t skip_year_sep(const char *p, const char *end)
{
    size_t k = 0, sp;

    if (p < end && *p == ',')
        k = 1;
    sp = skip_spaces(p + k, end);
    if (k == 0 && sp == 0)
        return 0;
    return k + sp;
}

/* True when y-m-d is a real calendar date in 1900-2100. */
static int valid_date(int y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1)
        return 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* "Apr 10, 2026", "April 10 2026", "Apr. 10th, 2026" at p. */
static int date_month_first(const char *p, const char *end, int *y, int *m, int *d)
{
    size_t k = read_month(p, end, m), s;

    if (k == 0 || (s = skip_spaces(p + k, end)) == 0)
        return 0;
    p += k + s;
    if ((k = read_day(p, end, d)) == 0)
        return 0;
    p += k;
    if ((s = skip_year_sep(p, end)) == 0)
        return 0;
    return read_year(p + s, end, y) != 0;
}

/* "10 April 2026", "10 Apr. 2026", "10th April, 2026" at p. */
static int date_day_first(const char *p, const char *end, int *y, int *m, int *d)
{
    size_t k = read_day(p, end, d), s;

    if (k == 0 || (s = skip_spaces(p + k, end)) == 0)
        return 0;
    p += k + s;
    if ((k = read_month(p, end, m)) == 0)
        return 0;
    p += k;
    if ((s = skip_year_sep(p, end)) == 0)
        return 0;
    return read_year(p + s, end, y) != 0;
}

/* "2026-04-10" at p (also the date part of "2026-04-10T12:00:00Z"). */
static int date_iso(const char *p, const char *end, int *y, int *m, int *d)
{
    const unsigned char *u = (const unsigned char *)p;

    if (end - p < 10 || u[4] != '-' || u[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !is_digit(u[i]))
            return 0;
    if (end - p > 10 && is_digit(u[10]))
        return 0;
    *y = (u[0] - '0') * 1000 + (u[1] - '0') * 100 + (u[2] - '0') * 10 + (u[3] - '0');
    *m = (u[5] - '0') * 10 + (u[6] - '0');
    *d = (u[8] - '0') * 10 + (u[9] - '0');
    return 1;
}

int article_find_date(const char *text, size_t len, char out[11])
{
    const char *end;

    if (text == NULL || out == NULL)
        return 0;
    end = text + len;
    /* Each position costs a bounded number of byte comparisons (the longest attempt reads
     * under 40 bytes), so the whole scan is linear in len. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        unsigned char prev = i > 0 ? (unsigned char)text[i - 1] : ' ';
        int y = 0, m = 0, d = 0, found = 0;

        if (is_digit(c) && !is_digit(prev)) {
            found = date_iso(text + i, end, &y, &m, &d) && valid_date(y, m, d);
            if (!found && !is_alpha(prev))
                found = date_day_first(text + i, end, &y, &m, &d) && valid_date(y, m, d);
        } else if (is_alpha(c) && !is_alnum(prev)) {
            found = date_month_first(text + i, end, &y, &m, &d) && valid_date(y, m, d);
        }
        if (found) {
            snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
            return 1;
        }
    }
    return 0;
}

/* Normalises a date written in an attribute or a JSON field ("2026-04-10",
 * "2026-04-10T12:00:00Z", "April 10, 2026") to a malloc'd "YYYY-MM-DD". Returns 1 and
 * the date in *out, 0 (and NULL) when there is no date, -1 when out of memory. */
static int normalise_date(const char *s, size_t n, char **out)
{
    char d[11];

    *out = NULL;
    if (!article_find_date(s, n, d))
        return 0;
    *out = malloc(sizeof d);
    if (*out == NULL)
        return -1;
    memcpy(*out, d, sizeof d);
    return 1;
}

/* ---- plain text and Markdown ---------------------------------------------------------- */

/* A reason when buf does not look like text, or NULL. UTF-16 is named separately because
 * it is the usual "binary" text file and the fix (convert it) is obvious. */
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

/* Steps through the lines of [buf, buf+len): the next line (without '\n') in *s, *n.
 * Returns 0 at the end. */
static int next_line(const char *buf, size_t len, size_t *pos, const char **s, size_t *n)
{
    const char *nl;

    if (*pos >= len)
        return 0;
    *s = buf + *pos;
    nl = memchr(*s, '\n', len - *pos);
    *n = nl ? (size_t)(nl - *s) : len - *pos;
    *pos += *n + (nl != NULL);
    return 1;
}

/* Inline Markdown to text: emphasis markers, code ticks, "~~" and escapes go; links and
 * images keep their text. The link scan only ever moves forward (see the two caches), so
 * a line full of unmatched '[' or '](' stays linear. */
static void md_inline(const char *s, size_t n, struct sbuf *o)
{
    size_t skip_from = SIZE_MAX, skip_to = 0;
    size_t rp = 0, rp_from = 0; /* no ')' in [rp_from, rp); s[rp] is ')' or rp == n */
    size_t bang_at = SIZE_MAX;  /* output offset of a '!' written just before a '[' */

    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        unsigned char prev = i > 0 ? (unsigned char)s[i - 1] : ' ';
        unsigned char next = i + 1 < n ? (unsigned char)s[i + 1] : ' ';

        if (skip_from != SIZE_MAX && i >= skip_from) {
            /* the "](url)" of a link whose text we just wrote */
            if (i < skip_to)
                i = skip_to;
            skip_from = SIZE_MAX;
            continue;
        }
        if (c == '\\' && i + 1 < n && next < 0x80 && !is_alnum(next) && !is_space(next)) {
            sbuf_putc(o, (char)next);
            i += 2;
            continue;
        }
        if (c == '`' || (c == '~' && next == '~')) {
            i += c == '~' ? 2 : 1;
            continue;
        }
        if (c == '[' && skip_from == SIZE_MAX) {
            size_t j = i + 1;
            while (j < n && s[j] != '[' && s[j] != ']')
                j++;
            if (j + 1 < n && s[j] == ']' && s[j + 1] == '(') {
                size_t q = j + 2;
                if (!(rp_from <= q && q <= rp)) {
                    rp_from = q > rp ? q : rp;
                    rp = rp_from;
                    while (rp < n && s[rp] != ')')
                        rp++;
                    rp_from = q;
                }
                if (rp < n) {
                    if (bang_at != SIZE_MAX && bang_at + 1 == o->len && prev == '!')
                        o->len--; /* an image: keep its alt text only */
                    skip_from = j;
                    skip_to = rp + 1;
                    i++;
                    continue;
                }
            }
            sbuf_putc(o, '[');
            i++;
            continue;
        }
        if (c == '*' || c == '_') {
            /* Drop emphasis markers, keep a lone "*" between spaces ("2 * 3") and
             * intra-word ones ("snake_case", "5*3"). */
            int lone = is_space(prev) && is_space(next);
            int inword = (is_alnum(prev) || prev >= 0x80) && (is_alnum(next) || next >= 0x80);
            if (lone || inword)
                sbuf_putc(o, (char)c);
            i++;
            continue;
        }
        if (c == '!' && next == '[')
            bang_at = o->len;
        sbuf_putc(o, (char)c);
        i++;
    }
}

/* True for a thematic break or setext underline: three or more of one of "-*_=" and
 * nothing else but spaces. */
static int md_is_rule(const char *s, size_t n)
{
    size_t count = 0;
    char mark = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ' || s[i] == '\t')
            continue;
        if (mark == 0 && strchr("-*_=", s[i]) != NULL)
            mark = s[i];
        if (s[i] != mark)
            return 0;
        count++;
    }
    return count >= 3;
}

/* True for a code fence line ("```", "~~~"). */
static int md_is_fence(const char *s, size_t n)
{
    return n >= 3 && (memcmp(s, "```", 3) == 0 || memcmp(s, "~~~", 3) == 0);
}

/* For a "# heading" line (1-6 '#' then a space or nothing), the heading text without the
 * markers; NULL when the line is not a heading. level receives the number of '#'. */
static const char *md_heading(const char *s, size_t n, size_t *outn, int *level)
{
    size_t h = 0;

    while (h < n && h < 7 && s[h] == '#')
        h++;
    if (h == 0 || h > 6 || (h < n && s[h] != ' ' && s[h] != '\t'))
        return NULL;
    s += h, n -= h;
    trim(&s, &n);
    /* An optional closing sequence: "## Title ##". */
    {
        size_t e = n;
        while (e > 0 && s[e - 1] == '#')
            e--;
        if (e == 0 || s[e - 1] == ' ' || s[e - 1] == '\t')
            n = e;
    }
    trim(&s, &n);
    *outn = n;
    *level = (int)h;
    return s;
}

/* Markdown to plain text, line by line: block markers (headings, quotes, rules, fences)
 * are dropped, bullets become "- ", inline markup goes through md_inline. */
static void md_to_text(const char *buf, size_t len, struct sbuf *o)
{
    size_t pos = 0, n;
    const char *s;
    int in_fence = 0;

    while (next_line(buf, len, &pos, &s, &n)) {
        const char *t = s, *h;
        size_t tn = n, hn;
        int level;

        trim(&t, &tn);
        if (md_is_fence(t, tn)) {
            in_fence = !in_fence;
            continue;
        }
        if (in_fence) {
            if (n > 0 && s[n - 1] == '\r')
                n--;
            sbuf_put(o, s, n);
            sbuf_putc(o, '\n');
            continue;
        }
        if (md_is_rule(t, tn)) {
            sbuf_putc(o, '\n');
            continue;
        }
        while (tn > 0 && t[0] == '>') {
            t++, tn--;
            trim(&t, &tn);
        }
        if ((h = md_heading(t, tn, &hn, &level)) != NULL) {
            t = h, tn = hn;
        } else if (tn >= 2 && (t[0] == '*' || t[0] == '+' || t[0] == '-') && t[1] == ' ') {
            sbuf_put(o, "- ", 2);
            t += 2, tn -= 2;
        }
        md_inline(t, tn, o);
        sbuf_putc(o, '\n');
    }
}

/* Navigation and boilerplate lines of scraped pages, matched against a whole line... */
static const char *const ui_exact[] = {
    "menu", "share", "home", "search", "logo", "follow", "following", "subscribe", "login",
    "log in", "sign in", "sign up", "register", "advertisement", "close", "more",
    "related", "trending", "newsletter", "print", "comments", "share this article",
    "share this story", "skip to content", "skip to main content", "pull to refresh",
    "daily brief", "why sign up", "open menu", "main menu", "toggle navigation",
};

/* ...or against its first words. */
static const char *const ui_prefix[] = {
    "back to ", "skip to ", "pull to refresh", "sign in", "sign up", "log in", "subscribe",
    "share this", "share on ", "follow us", "read more", "read next", "continue reading",
    "listen to this", "accept all", "accept cookies", "we use cookies",
    "this website uses cookies", "advertisement", "why sign up", "daily brief",
    "click here", "download the app", "open in app", "jump to ", "go to ", "return to ",
    "you are here", "all rights reserved", "copyright ", "\xC2\xA9",
};

/* True when a (trimmed) line is a navigation or UI phrase. */
static int is_ui_phrase(const char *s, size_t n)
{
    /* Ignore trailing decoration: "Menu >", "Share:". */
    while (n > 0 && (unsigned char)s[n - 1] < 0x80 && !is_alnum((unsigned char)s[n - 1]))
        n--;
    for (size_t i = 0; i < sizeof ui_exact / sizeof ui_exact[0]; i++)
        if (strlen(ui_exact[i]) == n && lower_eq(s, ui_exact[i], n))
            return 1;
    for (size_t i = 0; i < sizeof ui_prefix / sizeof ui_prefix[0]; i++) {
        size_t pl = strlen(ui_prefix[i]);
        /* A whole-word prefix: "Subscribe now", not "Subscribers flee". */
        if (starts_with_ci(s, n, ui_prefix[i]) &&
            (pl == n || ui_prefix[i][pl - 1] == ' ' || !is_alpha((unsigned char)s[pl])))
            return 1;
    }
    return 0;
}

/* Word statistics of a line, for the headline test. */
struct line_stats {
    size_t tokens;       /* whitespace-separated tokens */
    size_t letter_words; /* tokens with a letter in them ("2026" and "|" are not words) */
    size_t cjk;          /* CJK/Hangul characters, which are not separated by spaces */
    int has_lower, has_upper, has_nonascii;
};

static void line_stats(const char *s, size_t n, struct line_stats *st)
{
    int in_tok = 0, tok_letter = 0;

    memset(st, 0, sizeof *st);
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : ' ';
        if (is_space(c)) {
            if (in_tok) {
                st->tokens++;
                st->letter_words += tok_letter;
            }
            in_tok = tok_letter = 0;
            continue;
        }
        in_tok = 1;
        if (is_alpha(c))
            tok_letter = 1;
        if (c >= 'a' && c <= 'z')
            st->has_lower = 1;
        if (c >= 'A' && c <= 'Z')
            st->has_upper = 1;
        if (c >= 0xC0) { /* a lead byte: one non-ASCII character */
            st->has_nonascii = 1;
            /* U+00C0..U+07FF are mostly letters (Latin, Greek, Cyrillic, Arabic...);
             * U+3000..U+DFFF is CJK, kana and Hangul. U+2000.. (dashes, bullets) and
             * emoji are not words. */
            if (c >= 0xC3 && c <= 0xDF)
                tok_letter = 1;
            if (c >= 0xE3 && c <= 0xED) {
                tok_letter = 1;
                st->cjk++;
            }
        }
    }
}

/* True for a list item: "- x", "* x", "+ x", "• x", "1. x", "2) x". */
static int is_list_item(const char *s, size_t n)
{
    size_t d = 0;

    if (n >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ')
        return 1;
    if (n >= 4 && memcmp(s, "\xE2\x80\xA2 ", 4) == 0)
        return 1;
    while (d < n && d < 3 && is_digit((unsigned char)s[d]))
        d++;
    return d > 0 && d + 1 < n && (s[d] == '.' || s[d] == ')') && s[d + 1] == ' ';
}

enum line_kind { LINE_SKIP, LINE_HEADLINE, LINE_PROSE };

/* Classifies a trimmed line near the top of a text: a headline, prose (the body has
 * started, so the title was not there), or something to pass over. */
static enum line_kind classify_line(const char *s, size_t n)
{
    struct line_stats st;
    size_t words;
    char d[11];
    unsigned char last;

    if (n == 0 || is_ui_phrase(s, n))
        return LINE_SKIP;
    if (n > HEADLINE_MAX_BYTES)
        return LINE_PROSE;
    line_stats(s, n, &st);
    if (st.tokens > HEADLINE_MAX_WORDS)
        return LINE_PROSE;
    words = st.letter_words + st.cjk / 2;
    if (words < HEADLINE_MIN_WORDS || is_list_item(s, n))
        return LINE_SKIP;
    /* Headlines start with a letter, a digit, a quote or a parenthesis; lines starting
     * with other ASCII punctuation are markup, code or decoration ("#tag", "{...}"). */
    if ((unsigned char)s[0] < 0x80 && !is_alnum((unsigned char)s[0]) && s[0] != '"' &&
        s[0] != '\'' && s[0] != '(')
        return LINE_SKIP;
    /* A final period, colon or comma makes a sentence or a lead-in, not a headline; "?"
     * and "!" are fine ("Meta Abandons the Open-Source Strategy?"). */
    last = (unsigned char)s[n - 1];
    if (last == '.' || last == ':' || last == ';' || last == ',')
        return LINE_SKIP;
    /* Short all-caps labels: "PLATFORM RELEASE", "TOP NEWS HEADLINES". */
    if (st.has_upper && !st.has_lower && !st.has_nonascii && st.letter_words <= 6)
        return LINE_SKIP;
    /* Date lines: "Apr 10, 2026", "Published April 10, 2026 at 9:00 AM". */
    if (st.tokens <= 8 && article_find_date(s, n, d))
        return LINE_SKIP;
    /* Bylines: "By Newzino Staff". */
    if (st.tokens <= 6 && starts_with_ci(s, n, "by "))
        return LINE_SKIP;
    return LINE_HEADLINE;
}

/* Looks for an explicit title: a "Title:" line or a "# " heading among the first
 * TITLE_WINDOW_LINES non-empty lines; in Markdown also a setext heading ("Title\n===")
 * there, and a "# " heading anywhere (outside code fences). */
static int explicit_title(const char *buf, size_t len, int md, const char **ts, size_t *tn)
{
    size_t pos = 0, n, nonempty = 0, prev_n = 0;
    const char *s, *prev = NULL;
    int in_fence = 0;

    while (next_line(buf, len, &pos, &s, &n)) {
        const char *h;
        size_t hn;
        int level, in_window;

        trim(&s, &n);
        if (n == 0) {
            prev = NULL;
            continue;
        }
        in_window = ++nonempty <= TITLE_WINDOW_LINES;
        if (!in_window && !md)
            break;
        if (md && md_is_fence(s, n)) {
            in_fence = !in_fence;
            prev = NULL;
            continue;
        }
        if (in_fence)
            continue;
        if ((h = md_heading(s, n, &hn, &level)) != NULL && level == 1 && hn > 0) {
            *ts = h, *tn = hn;
            return 1;
        }
        if (in_window && starts_with_ci(s, n, "title:")) {
            h = s + 6, hn = n - 6;
            trim(&h, &hn);
            if (hn > 0) {
                *ts = h, *tn = hn;
                return 1;
            }
        }
        if (md && in_window && prev != NULL && s[0] == '=' && md_is_rule(s, n)) {
            *ts = prev, *tn = prev_n;
            return 1;
        }
        prev = s, prev_n = n;
    }
    return 0;
}

/* A headline of one or two words ("Budget Cuts", "Oil Surge") is too short for the
 * headline test, which passes over "Logo" or "Meta" in navigation. It is taken when it
 * stands alone at the top: the file's first line, every word capitalised, not a
 * navigation phrase, no final punctuation, a blank line after it and no headline after
 * that (else it is a label over the real headline). */
static int short_headline(const char *buf, size_t len, const char **ts, size_t *tn)
{
    size_t pos = 0, n, n2, n3;
    const char *s, *s2, *s3;
    struct line_stats st;

    if (!next_line(buf, len, &pos, &s, &n))
        return 0;
    trim(&s, &n);
    if (n == 0 || n > 60 || is_ui_phrase(s, n))
        return 0;
    line_stats(s, n, &st);
    if (st.letter_words < 1 || st.letter_words >= HEADLINE_MIN_WORDS ||
        st.tokens != st.letter_words || !st.has_lower)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((i == 0 || s[i - 1] == ' ') && c < 0x80 && !(c >= 'A' && c <= 'Z'))
            return 0;
        if (c < 0x80 && !is_alnum(c) && c != ' ' && c != '-' && c != '\'')
            return 0;
    }
    if (!next_line(buf, len, &pos, &s2, &n2))
        return 0;
    trim(&s2, &n2);
    if (n2 != 0)
        return 0;
    while (next_line(buf, len, &pos, &s3, &n3)) {
        trim(&s3, &n3);
        if (n3 == 0)
            continue;
        if (classify_line(s3, n3) == LINE_HEADLINE)
            return 0; /* a label over the real headline */
        *ts = s, *tn = n;
        return 1;
    }
    return 0;
}

/* The first line among the top TITLE_WINDOW_LINES that reads like a headline, passing
 * over navigation, labels and dates, and giving up once prose starts. */
static int headline_title(const char *buf, size_t len, const char **ts, size_t *tn)
{
    size_t pos = 0, n, nonempty = 0;
    const char *s;

    if (short_headline(buf, len, ts, tn))
        return 1;

    while (next_line(buf, len, &pos, &s, &n)) {
        trim(&s, &n);
        if (n == 0)
            continue;
        if (++nonempty > TITLE_WINDOW_LINES)
            break;
        switch (classify_line(s, n)) {
        case LINE_HEADLINE:
            *ts = s, *tn = n;
            return 1;
        case LINE_PROSE:
            return 0;
        case LINE_SKIP:
            break;
        }
    }
    return 0;
}

/* When no line reads like a headline the text opens with prose (corpus file 002 starts
 * "The open-source artificial intelligence ecosystem has never been short of innovation.
 * Over the past few years, ..."). A section heading further down would misname the
 * article, so the title is the start of the first substantial line: its first sentence
 * when that ends within TITLE_SENTENCE_MAX bytes, else the line cut at a word boundary
 * near TITLE_SOFT_BYTES. Navigation and date lines are still passed over; if every line
 * is such, the first non-empty line is used as it is. */
static void title_fallback(const char *buf, size_t len, const char **ts, size_t *tn)
{
    size_t pos = 0, n, nonempty = 0, first_n = 0;
    const char *s, *first = NULL, *pick = NULL;
    struct line_stats st;
    char d[11];

    while (next_line(buf, len, &pos, &s, &n)) {
        trim(&s, &n);
        if (n == 0)
            continue;
        if (first == NULL)
            first = s, first_n = n;
        if (++nonempty > TITLE_WINDOW_LINES)
            break;
        if (is_ui_phrase(s, n))
            continue;
        line_stats(s, n < HEADLINE_MAX_BYTES ? n : HEADLINE_MAX_BYTES, &st);
        if (st.letter_words + st.cjk / 2 < HEADLINE_MIN_WORDS)
            continue;
        if (st.tokens <= 8 && article_find_date(s, n < 200 ? n : 200, d))
            continue;
        pick = s;
        break;
    }
    if (pick == NULL) {
        *ts = first, *tn = first != NULL ? first_n : 0;
        return;
    }
    s = pick;
    if (n > TITLE_SOFT_BYTES) {
        size_t lim = n - 1 < TITLE_SENTENCE_MAX ? n - 1 : TITLE_SENTENCE_MAX, cut;
        for (size_t i = 20; i < lim; i++) {
            if ((s[i] == '.' || s[i] == '?' || s[i] == '!') && is_space((unsigned char)s[i + 1])) {
                *ts = s, *tn = s[i] == '.' ? i : i + 1;
                return;
            }
        }
        cut = TITLE_SOFT_BYTES;
        while (cut > 0 && !is_space((unsigned char)s[cut]))
            cut--;
        n = cut > 0 ? cut : utf8_cut(s, n, TITLE_SOFT_BYTES);
        while (n > 0 && strchr(",;:-", s[n - 1]) != NULL)
            n--;
    } else if (n >= 2 && s[n - 1] == '.' && s[n - 2] != '.') {
        n--;
    }
    *ts = s, *tn = n;
}

/* The title of a text (see article_parse_text); NULL when out of memory. raw is the
 * cleaned file, plain the text the headline scan reads (the same for .txt; Markdown
 * converted to text for .md). */
static char *pick_title(const char *raw, size_t rawlen, const char *plain, size_t plainlen,
                        int md)
{
    const char *ts = NULL;
    size_t tn = 0;

    if (explicit_title(raw, rawlen, md, &ts, &tn)) {
        if (md) {
            struct sbuf b = {0};
            char *t, *out;
            size_t n;
            md_inline(ts, tn, &b);
            t = sbuf_finish(&b, &n);
            if (t == NULL)
                return NULL;
            out = title_dup(t, n);
            free(t);
            return out;
        }
        return title_dup(ts, tn);
    }
    if (!headline_title(plain, plainlen, &ts, &tn))
        title_fallback(plain, plainlen, &ts, &tn);
    return title_dup(ts != NULL ? ts : "", tn);
}

int article_parse_text(const char *buf, size_t len, int markdown, struct article *out,
                       char *why, size_t whylen)
{
    char tmp[128], dbuf[11];
    const char *reason, *text;
    char *clean = NULL, *body = NULL, *title = NULL, *date = NULL;
    size_t clen = 0, tlen, blen = 0;

    if (out == NULL || (buf == NULL && len > 0)) {
        set_why(why, whylen, "invalid arguments");
        return -1;
    }
    if (len > ARTICLE_MAX_FILE_BYTES) {
        set_why(why, whylen, "file too large (%zu bytes, limit %u)", len,
                ARTICLE_MAX_FILE_BYTES);
        return -1;
    }
    if ((reason = binary_reason(buf, len, tmp, sizeof tmp)) != NULL) {
        set_why(why, whylen, "%s", reason);
        return -1;
    }
    char *recoded = NULL;
    size_t rlen = 0;
    int rc = article_recode(buf, len, 0, &recoded, &rlen, NULL, 0);
    if (rc < 0)
        goto oom;
    /* Converted text is cleaned all the same (NULs). */
    clean = rc ? article_utf8_clean(recoded, rlen, &clen) : article_utf8_clean(buf, len, &clen);
    free(recoded);
    if (clean == NULL)
        goto oom;
    text = clean, tlen = clen;
    if (tlen >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3, tlen -= 3;
    if (is_blank(text, tlen)) {
        free(clean);
        set_why(why, whylen, "empty file");
        return -1;
    }
    if (markdown) {
        struct sbuf b = {0};
        md_to_text(text, tlen, &b);
        if ((body = sbuf_finish(&b, &blen)) == NULL)
            goto oom;
        if (is_blank(body, blen)) {
            free(clean);
            free(body);
            set_why(why, whylen, "no text (only Markdown markup)");
            return -1;
        }
    } else {
        if ((body = malloc(tlen + 1)) == NULL)
            goto oom;
        memcpy(body, text, tlen);
        body[tlen] = '\0';
        blen = tlen;
    }
    if ((title = pick_title(text, tlen, body, blen, markdown)) == NULL)
        goto oom;
    if (article_find_date(body, blen, dbuf) && (date = strdup(dbuf)) == NULL)
        goto oom;
    free(clean);
    replace_field(&out->title, title);
    replace_field(&out->body, body);
    out->body_len = blen;
    replace_field(&out->date, date);
    return 0;

oom:
    free(clean);
    free(body);
    free(title);
    free(date);
    set_why(why, whylen, "%s", OOM);
    return -1;
}

/* ---- HTML: the nesting pre-check ------------------------------------------------------ */

/* A linear estimate of the depth gumbo's stack of open elements will reach, following the
 * tree-construction rules that matter for depth: void elements never stay open; <p>,
 * <li>, <dd>, <td>, <tr>, <option> close their predecessors; an end tag closes up to its
 * element unless a "special" element (or, for special end tags, a scope boundary) is in
 * the way, in which case gumbo ignores it; raw-text elements (<script>...) hold no tags;
 * inside <svg>/<math> "/>" closes. Formatting elements (<b>, <a>, <font>...) are also
 * counted a second time, as gumbo's list of active formatting elements: gumbo re-opens
 * those on the stack after a block closes them (so "<div><b id=1></div>x" repeated
 * nests ever deeper), keeping at most three identical ones ("Noah's ark").
 * The estimate errs high where it must guess, so hostile input cannot slip under it, yet
 * ordinary sloppy HTML (unclosed <p>, <li>, <td>) is not refused. Every step is O(1)
 * amortised: elements are found through per-tag chains, never by walking the stack. */

#define EST_BUCKETS 256 /* unknown tag names are keyed by a hash bucket */
#define EST_KEYS (GUMBO_TAG_LAST + EST_BUCKETS)
#define FMT_TAGS 14
#define FMT_RING 32
#define FMT_TABLE 2048 /* > 4 * HTML_MAX_DEPTH live keys, so probing stays short */

struct est_entry {
    int key;           /* GumboTag, or GUMBO_TAG_LAST + bucket for unknown names */
    uint32_t hash;     /* name hash of an unknown tag, to tell bucket mates apart */
    int prev_same;     /* next entry down with the same key, or -1 */
    int special_top;   /* topmost "special" entry at or below this one, or -1 */
    int specialx_top;  /* the same, excluding <address>, <div>, <p> (the <li> rule) */
    int scope_top;     /* topmost scope boundary at or below this one, or -1 */
};

struct est {
    const unsigned char *tf; /* tagflags */
    struct est_entry st[HTML_MAX_DEPTH + 1];
    int depth;
    int key_top[EST_KEYS];
    /* Active formatting elements: live count per (tag, attributes) key... */
    uint32_t fmt_key[FMT_TABLE];
    uint32_t fmt_count[FMT_TABLE];
    size_t fmt_size; /* sum over keys of min(count, 3) */
    /* ...and, per formatting tag, the keys of its latest open instances, so an end tag
     * can close the right one. Older ones fall off the ring and stay counted. */
    uint32_t ring[FMT_TAGS][FMT_RING];
    int ring_len[FMT_TAGS], ring_top[FMT_TAGS];
};

static const GumboTag void_tags[] = {
    GUMBO_TAG_AREA,  GUMBO_TAG_BASE,   GUMBO_TAG_BR,     GUMBO_TAG_COL,     GUMBO_TAG_EMBED,
    GUMBO_TAG_HR,    GUMBO_TAG_IMG,    GUMBO_TAG_IMAGE,  GUMBO_TAG_INPUT,   GUMBO_TAG_KEYGEN,
    GUMBO_TAG_LINK,  GUMBO_TAG_META,   GUMBO_TAG_PARAM,  GUMBO_TAG_SOURCE,  GUMBO_TAG_TRACK,
    GUMBO_TAG_WBR,   GUMBO_TAG_BASEFONT, GUMBO_TAG_BGSOUND, GUMBO_TAG_FRAME, GUMBO_TAG_MENUITEM,
    GUMBO_TAG_ISINDEX,
};

static const GumboTag rawtext_tags[] = {
    GUMBO_TAG_SCRIPT, GUMBO_TAG_STYLE,    GUMBO_TAG_XMP,      GUMBO_TAG_IFRAME,
    GUMBO_TAG_NOEMBED, GUMBO_TAG_NOFRAMES, GUMBO_TAG_TEXTAREA, GUMBO_TAG_TITLE,
};

static const GumboTag special_tags[] = {
    GUMBO_TAG_ADDRESS, GUMBO_TAG_APPLET,   GUMBO_TAG_AREA,     GUMBO_TAG_ARTICLE,
    GUMBO_TAG_ASIDE,   GUMBO_TAG_BASE,     GUMBO_TAG_BASEFONT, GUMBO_TAG_BGSOUND,
    GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_BODY,  GUMBO_TAG_BR,       GUMBO_TAG_BUTTON,
    GUMBO_TAG_CAPTION, GUMBO_TAG_CENTER,   GUMBO_TAG_COL,      GUMBO_TAG_COLGROUP,
    GUMBO_TAG_DD,      GUMBO_TAG_DETAILS,  GUMBO_TAG_DIR,      GUMBO_TAG_DIV,
    GUMBO_TAG_DL,      GUMBO_TAG_DT,       GUMBO_TAG_EMBED,    GUMBO_TAG_FIELDSET,
    GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE, GUMBO_TAG_FOOTER,  GUMBO_TAG_FORM,
    GUMBO_TAG_FRAME,   GUMBO_TAG_FRAMESET, GUMBO_TAG_H1,       GUMBO_TAG_H2,
    GUMBO_TAG_H3,      GUMBO_TAG_H4,       GUMBO_TAG_H5,       GUMBO_TAG_H6,
    GUMBO_TAG_HEAD,    GUMBO_TAG_HEADER,   GUMBO_TAG_HGROUP,   GUMBO_TAG_HR,
    GUMBO_TAG_HTML,    GUMBO_TAG_IFRAME,   GUMBO_TAG_IMG,      GUMBO_TAG_INPUT,
    GUMBO_TAG_ISINDEX, GUMBO_TAG_LI,       GUMBO_TAG_LINK,     GUMBO_TAG_LISTING,
    GUMBO_TAG_MAIN,    GUMBO_TAG_MARQUEE,  GUMBO_TAG_MENU,     GUMBO_TAG_MENUITEM,
    GUMBO_TAG_META,    GUMBO_TAG_NAV,      GUMBO_TAG_NOEMBED,  GUMBO_TAG_NOFRAMES,
    GUMBO_TAG_NOSCRIPT, GUMBO_TAG_OBJECT,  GUMBO_TAG_OL,       GUMBO_TAG_P,
    GUMBO_TAG_PARAM,   GUMBO_TAG_PLAINTEXT, GUMBO_TAG_PRE,     GUMBO_TAG_SCRIPT,
    GUMBO_TAG_SECTION, GUMBO_TAG_SELECT,   GUMBO_TAG_SOURCE,   GUMBO_TAG_STYLE,
    GUMBO_TAG_SUMMARY, GUMBO_TAG_TABLE,    GUMBO_TAG_TBODY,    GUMBO_TAG_TD,
    GUMBO_TAG_TEMPLATE, GUMBO_TAG_TEXTAREA, GUMBO_TAG_TFOOT,   GUMBO_TAG_TH,
    GUMBO_TAG_THEAD,   GUMBO_TAG_TITLE,    GUMBO_TAG_TR,       GUMBO_TAG_TRACK,
    GUMBO_TAG_UL,      GUMBO_TAG_WBR,      GUMBO_TAG_XMP,      GUMBO_TAG_MI,
    GUMBO_TAG_MO,      GUMBO_TAG_MN,       GUMBO_TAG_MS,       GUMBO_TAG_MTEXT,
    GUMBO_TAG_ANNOTATION_XML, GUMBO_TAG_FOREIGNOBJECT, GUMBO_TAG_DESC,
};

static const GumboTag scope_tags[] = {
    GUMBO_TAG_APPLET, GUMBO_TAG_CAPTION, GUMBO_TAG_HTML, GUMBO_TAG_TABLE,
    GUMBO_TAG_TD,     GUMBO_TAG_TH,      GUMBO_TAG_MARQUEE, GUMBO_TAG_OBJECT,
    GUMBO_TAG_TEMPLATE, GUMBO_TAG_MI,    GUMBO_TAG_MO,   GUMBO_TAG_MN,
    GUMBO_TAG_MS,     GUMBO_TAG_MTEXT,   GUMBO_TAG_ANNOTATION_XML,
    GUMBO_TAG_FOREIGNOBJECT, GUMBO_TAG_DESC,
};

/* Start tags that close an open <p> ("close a p element" in the spec). */
static const GumboTag closes_p_tags[] = {
    GUMBO_TAG_ADDRESS, GUMBO_TAG_ARTICLE, GUMBO_TAG_ASIDE,   GUMBO_TAG_BLOCKQUOTE,
    GUMBO_TAG_CENTER,  GUMBO_TAG_DETAILS, GUMBO_TAG_DIR,     GUMBO_TAG_DIV,
    GUMBO_TAG_DL,      GUMBO_TAG_FIELDSET, GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE,
    GUMBO_TAG_FOOTER,  GUMBO_TAG_HEADER,  GUMBO_TAG_HGROUP,  GUMBO_TAG_MAIN,
    GUMBO_TAG_MENU,    GUMBO_TAG_NAV,     GUMBO_TAG_OL,      GUMBO_TAG_P,
    GUMBO_TAG_SECTION, GUMBO_TAG_SUMMARY, GUMBO_TAG_UL,      GUMBO_TAG_H1,
    GUMBO_TAG_H2,      GUMBO_TAG_H3,      GUMBO_TAG_H4,      GUMBO_TAG_H5,
    GUMBO_TAG_H6,      GUMBO_TAG_PRE,     GUMBO_TAG_LISTING, GUMBO_TAG_FORM,
    GUMBO_TAG_TABLE,   GUMBO_TAG_HR,      GUMBO_TAG_XMP,     GUMBO_TAG_PLAINTEXT,
    GUMBO_TAG_LI,      GUMBO_TAG_DD,      GUMBO_TAG_DT,
};

/* HTML start tags that end <svg>/<math> content (the spec's "breakout" list). */
static const GumboTag breakout_tags[] = {
    GUMBO_TAG_B,      GUMBO_TAG_BIG,   GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_BODY, GUMBO_TAG_BR,
    GUMBO_TAG_CENTER, GUMBO_TAG_CODE,  GUMBO_TAG_DD,   GUMBO_TAG_DIV,   GUMBO_TAG_DL,
    GUMBO_TAG_DT,     GUMBO_TAG_EM,    GUMBO_TAG_EMBED, GUMBO_TAG_H1,   GUMBO_TAG_H2,
    GUMBO_TAG_H3,     GUMBO_TAG_H4,    GUMBO_TAG_H5,   GUMBO_TAG_H6,    GUMBO_TAG_HEAD,
    GUMBO_TAG_HR,     GUMBO_TAG_I,     GUMBO_TAG_IMG,  GUMBO_TAG_LI,    GUMBO_TAG_LISTING,
    GUMBO_TAG_MENU,   GUMBO_TAG_META,  GUMBO_TAG_NOBR, GUMBO_TAG_OL,    GUMBO_TAG_P,
    GUMBO_TAG_PRE,    GUMBO_TAG_RUBY,  GUMBO_TAG_S,    GUMBO_TAG_SMALL, GUMBO_TAG_SPAN,
    GUMBO_TAG_STRONG, GUMBO_TAG_STRIKE, GUMBO_TAG_SUB, GUMBO_TAG_SUP,   GUMBO_TAG_TABLE,
    GUMBO_TAG_TT,     GUMBO_TAG_U,     GUMBO_TAG_UL,   GUMBO_TAG_VAR,   GUMBO_TAG_FONT,
};

static const GumboTag fmt_tags[FMT_TAGS] = {
    GUMBO_TAG_A,     GUMBO_TAG_B,      GUMBO_TAG_BIG,    GUMBO_TAG_CODE, GUMBO_TAG_EM,
    GUMBO_TAG_FONT,  GUMBO_TAG_I,      GUMBO_TAG_NOBR,   GUMBO_TAG_S,    GUMBO_TAG_SMALL,
    GUMBO_TAG_STRIKE, GUMBO_TAG_STRONG, GUMBO_TAG_TT,    GUMBO_TAG_U,
};

/* Elements whose text is not article text. */
static const GumboTag skipped_tags[] = {
    GUMBO_TAG_HEAD,   GUMBO_TAG_SCRIPT, GUMBO_TAG_STYLE,  GUMBO_TAG_NOSCRIPT, GUMBO_TAG_NAV,
    GUMBO_TAG_HEADER, GUMBO_TAG_FOOTER, GUMBO_TAG_ASIDE,    GUMBO_TAG_FORM,
    GUMBO_TAG_TEMPLATE, GUMBO_TAG_SVG,  GUMBO_TAG_MATH,     GUMBO_TAG_IFRAME,
    GUMBO_TAG_OBJECT, GUMBO_TAG_CANVAS, GUMBO_TAG_BUTTON,   GUMBO_TAG_SELECT,
    GUMBO_TAG_TEXTAREA, GUMBO_TAG_NOEMBED, GUMBO_TAG_NOFRAMES,
};

/* Elements that break the text into lines. */
static const GumboTag block_tags[] = {
    GUMBO_TAG_ADDRESS, GUMBO_TAG_ARTICLE, GUMBO_TAG_ASIDE,  GUMBO_TAG_BLOCKQUOTE,
    GUMBO_TAG_BR,      GUMBO_TAG_CAPTION, GUMBO_TAG_CENTER, GUMBO_TAG_DD,
    GUMBO_TAG_DETAILS, GUMBO_TAG_DIV,     GUMBO_TAG_DL,     GUMBO_TAG_DT,
    GUMBO_TAG_FIELDSET, GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE, GUMBO_TAG_FOOTER,
    GUMBO_TAG_FORM,    GUMBO_TAG_H1,      GUMBO_TAG_H2,     GUMBO_TAG_H3,
    GUMBO_TAG_H4,      GUMBO_TAG_H5,      GUMBO_TAG_H6,     GUMBO_TAG_HEADER,
    GUMBO_TAG_HGROUP,  GUMBO_TAG_HR,      GUMBO_TAG_LI,     GUMBO_TAG_MAIN,
    GUMBO_TAG_NAV,     GUMBO_TAG_OL,      GUMBO_TAG_P,      GUMBO_TAG_PRE,
    GUMBO_TAG_SECTION, GUMBO_TAG_SUMMARY, GUMBO_TAG_TABLE,  GUMBO_TAG_TBODY,
    GUMBO_TAG_THEAD,   GUMBO_TAG_TFOOT,   GUMBO_TAG_TR,     GUMBO_TAG_UL,
    GUMBO_TAG_LISTING, GUMBO_TAG_BODY,    GUMBO_TAG_DIR,    GUMBO_TAG_MENU,
    GUMBO_TAG_LEGEND,  GUMBO_TAG_OPTION,  GUMBO_TAG_TITLE,
};

/* The lists above as bit flags indexed by tag, so each lookup is O(1) whatever the
 * number of tags in a page. Built per parse: a few hundred stores. */
enum {
    TF_VOID = 1 << 0,
    TF_RAWTEXT = 1 << 1,
    TF_SPECIAL = 1 << 2,
    TF_SCOPE = 1 << 3,
    TF_CLOSES_P = 1 << 4,
    TF_BREAKOUT = 1 << 5,
    TF_SKIP = 1 << 6,
    TF_BLOCK = 1 << 7,
};

typedef unsigned char tagflags[GUMBO_TAG_LAST + 1];

static void tagflags_mark(tagflags f, const GumboTag *tags, size_t n, unsigned char flag)
{
    for (size_t i = 0; i < n; i++)
        f[tags[i]] |= flag;
}

#define MARK(f, list, flag) tagflags_mark((f), (list), sizeof(list) / sizeof(list)[0], (flag))

static void tagflags_build(tagflags f)
{
    memset(f, 0, sizeof(tagflags));
    MARK(f, void_tags, TF_VOID);
    MARK(f, rawtext_tags, TF_RAWTEXT);
    MARK(f, special_tags, TF_SPECIAL);
    MARK(f, scope_tags, TF_SCOPE);
    MARK(f, closes_p_tags, TF_CLOSES_P);
    MARK(f, breakout_tags, TF_BREAKOUT);
    MARK(f, skipped_tags, TF_SKIP);
    MARK(f, block_tags, TF_BLOCK);
}

/* Index of a formatting tag in fmt_tags, or -1. */
static int fmt_index(GumboTag t)
{
    for (int i = 0; i < FMT_TAGS; i++)
        if (fmt_tags[i] == t)
            return i;
    return -1;
}

/* FNV-1a over bytes, lower-cased; never 0 (0 marks an empty table slot). */
static uint32_t hash_ci(const char *s, size_t n, uint32_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= to_lower((unsigned char)s[i]);
        h *= 16777619u;
    }
    return h ? h : 1;
}

/* The topmost special element, special element of the <li> rule, and scope boundary
 * on the stack; -1 for none. */
static int est_special_top(const struct est *e)
{
    return e->depth > 0 ? e->st[e->depth - 1].special_top : -1;
}

static int est_specialx_top(const struct est *e)
{
    return e->depth > 0 ? e->st[e->depth - 1].specialx_top : -1;
}

static int est_scope_top(const struct est *e)
{
    return e->depth > 0 ? e->st[e->depth - 1].scope_top : -1;
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

/* Pushes an element; -1 when the estimate passes HTML_MAX_DEPTH. */
static int est_push(struct est *e, GumboTag tag, int key, uint32_t hash)
{
    struct est_entry *x;
    int i = e->depth;

    if ((size_t)e->depth + e->fmt_size >= HTML_MAX_DEPTH)
        return -1;
    x = &e->st[i];
    x->key = key;
    x->hash = hash;
    x->prev_same = e->key_top[key];
    e->key_top[key] = i;
    x->special_top = (e->tf[tag] & TF_SPECIAL) ? i : est_special_top(e);
    x->specialx_top = ((e->tf[tag] & TF_SPECIAL) && tag != GUMBO_TAG_ADDRESS &&
                       tag != GUMBO_TAG_DIV && tag != GUMBO_TAG_P)
                          ? i
                          : est_specialx_top(e);
    x->scope_top = (e->tf[tag] & TF_SCOPE) ? i : est_scope_top(e);
    e->depth++;
    return 0;
}

/* Pops entries until entry idx (inclusive) is gone. */
static void est_pop_to(struct est *e, int idx)
{
    if (idx < 0)
        return;
    while (e->depth > idx) {
        struct est_entry *x = &e->st[--e->depth];
        e->key_top[x->key] = x->prev_same;
    }
}

/* Slot of key in the formatting table (its own, or the empty one where it would go). */
static size_t fmt_slot(const struct est *e, uint32_t key)
{
    size_t i = key & (FMT_TABLE - 1);
    while (e->fmt_key[i] != 0 && e->fmt_key[i] != key)
        i = (i + 1) & (FMT_TABLE - 1);
    return i;
}

/* Removes slot i from the linear-probing table, moving later entries back so lookups
 * need no tombstones. */
static void fmt_delete(struct est *e, size_t i)
{
    size_t j = i;

    e->fmt_key[i] = 0;
    for (;;) {
        size_t home;
        j = (j + 1) & (FMT_TABLE - 1);
        if (e->fmt_key[j] == 0)
            return;
        home = e->fmt_key[j] & (FMT_TABLE - 1);
        /* Move j to i if its home is not cyclically in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            e->fmt_key[i] = e->fmt_key[j];
            e->fmt_count[i] = e->fmt_count[j];
            e->fmt_key[j] = 0;
            i = j;
        }
    }
}

/* A formatting element opens; -1 when the estimate passes HTML_MAX_DEPTH. */
static int fmt_open(struct est *e, int fi, uint32_t key)
{
    size_t i = fmt_slot(e, key);

    if (e->fmt_key[i] == 0) {
        e->fmt_key[i] = key;
        e->fmt_count[i] = 0;
    }
    if (e->fmt_count[i] < 3) {
        if ((size_t)e->depth + e->fmt_size >= HTML_MAX_DEPTH)
            return -1;
        e->fmt_size++;
    }
    if (e->fmt_count[i] < UINT32_MAX)
        e->fmt_count[i]++;
    e->ring_top[fi] = (e->ring_top[fi] + 1) % FMT_RING;
    e->ring[fi][e->ring_top[fi]] = key;
    if (e->ring_len[fi] < FMT_RING)
        e->ring_len[fi]++;
    return 0;
}

/* The latest open formatting element with tag fmt_tags[fi] closes. */
static void fmt_close(struct est *e, int fi)
{
    uint32_t key;
    size_t i;

    if (e->ring_len[fi] == 0)
        return;
    key = e->ring[fi][e->ring_top[fi]];
    e->ring_top[fi] = (e->ring_top[fi] + FMT_RING - 1) % FMT_RING;
    e->ring_len[fi]--;
    i = fmt_slot(e, key);
    if (e->fmt_key[i] == 0)
        return;
    if (e->fmt_count[i] <= 3)
        e->fmt_size--;
    if (--e->fmt_count[i] == 0)
        fmt_delete(e, i);
}

/* True while the current insertion point is inside <svg>/<math> content. */
static int est_in_foreign(const struct est *e)
{
    int f = max_int(e->key_top[GUMBO_TAG_SVG], e->key_top[GUMBO_TAG_MATH]), ip = -1;
    static const GumboTag points[] = {
        GUMBO_TAG_FOREIGNOBJECT, GUMBO_TAG_DESC, GUMBO_TAG_TITLE, GUMBO_TAG_MI, GUMBO_TAG_MO,
        GUMBO_TAG_MN, GUMBO_TAG_MS, GUMBO_TAG_MTEXT, GUMBO_TAG_ANNOTATION_XML,
    };

    if (f < 0)
        return 0;
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++)
        ip = max_int(ip, e->key_top[points[i]]);
    return f > ip;
}

/* A start tag. Returns -1 when too deep, 1 when it was handled as an HTML element (so
 * raw-text rules apply), 0 otherwise. */
static int est_start(struct est *e, GumboTag tag, int key, uint32_t hash, int selfclose,
                     uint32_t attrhash)
{
    int fi, p, x;

    if (est_in_foreign(e)) {
        if (!(e->tf[tag] & TF_BREAKOUT))
            return selfclose ? 0 : est_push(e, tag, key, hash);
        while (est_in_foreign(e))
            est_pop_to(e, max_int(e->key_top[GUMBO_TAG_SVG], e->key_top[GUMBO_TAG_MATH]));
    }
    if (tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_HEAD || tag == GUMBO_TAG_BODY)
        return 1;
    if (e->tf[tag] & TF_CLOSES_P) {
        p = e->key_top[GUMBO_TAG_P];
        if (p >= 0 && p > max_int(est_scope_top(e), e->key_top[GUMBO_TAG_BUTTON]))
            est_pop_to(e, p);
    }
    switch (tag) {
    case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3:
    case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6:
        if (e->depth > 0) {
            int k = e->st[e->depth - 1].key;
            if (k >= GUMBO_TAG_H1 && k <= GUMBO_TAG_H6)
                est_pop_to(e, e->depth - 1);
        }
        break;
    case GUMBO_TAG_LI:
        x = e->key_top[GUMBO_TAG_LI];
        if (x >= 0 && x >= est_specialx_top(e))
            est_pop_to(e, x);
        break;
    case GUMBO_TAG_DD: case GUMBO_TAG_DT:
        x = max_int(e->key_top[GUMBO_TAG_DD], e->key_top[GUMBO_TAG_DT]);
        if (x >= 0 && x >= est_specialx_top(e))
            est_pop_to(e, x);
        break;
    case GUMBO_TAG_TD: case GUMBO_TAG_TH: case GUMBO_TAG_TR: case GUMBO_TAG_TBODY:
    case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_COLGROUP:
        /* Table parts outside a table are ignored (unless a <template> may hold them). */
        if (e->key_top[GUMBO_TAG_TABLE] < 0) {
            if (e->key_top[GUMBO_TAG_TEMPLATE] < 0)
                return 1;
            break;
        }
        /* A new cell, row or section closes the open one of the innermost table. */
        if (tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH)
            x = max_int(e->key_top[GUMBO_TAG_TD], e->key_top[GUMBO_TAG_TH]);
        else if (tag == GUMBO_TAG_TR)
            x = e->key_top[GUMBO_TAG_TR];
        else if (tag == GUMBO_TAG_CAPTION || tag == GUMBO_TAG_COLGROUP)
            x = -1;
        else
            x = max_int(e->key_top[GUMBO_TAG_TBODY],
                        max_int(e->key_top[GUMBO_TAG_THEAD], e->key_top[GUMBO_TAG_TFOOT]));
        if (x > e->key_top[GUMBO_TAG_TABLE])
            est_pop_to(e, x);
        break;
    case GUMBO_TAG_TABLE: /* a table directly in a table closes the first one */
        x = e->key_top[GUMBO_TAG_TABLE];
        if (x >= 0 && x > max_int(max_int(e->key_top[GUMBO_TAG_TD], e->key_top[GUMBO_TAG_TH]),
                                  e->key_top[GUMBO_TAG_CAPTION]))
            est_pop_to(e, x);
        break;
    case GUMBO_TAG_SELECT: /* a select in a select closes it */
    case GUMBO_TAG_BUTTON: /* so does a button in a button */
        if (e->key_top[tag] >= 0) {
            est_pop_to(e, e->key_top[tag]);
            if (tag == GUMBO_TAG_SELECT)
                return 1;
        }
        break;
    case GUMBO_TAG_OPTION: case GUMBO_TAG_OPTGROUP:
        /* Only an <option> is closed by these outside <select>: <optgroup>s nest. */
        if (e->depth > 0 && e->st[e->depth - 1].key == GUMBO_TAG_OPTION)
            est_pop_to(e, e->depth - 1);
        if (tag == GUMBO_TAG_OPTGROUP && e->key_top[GUMBO_TAG_SELECT] >= 0 && e->depth > 0 &&
            e->st[e->depth - 1].key == GUMBO_TAG_OPTGROUP)
            est_pop_to(e, e->depth - 1);
        break;
    default:
        break;
    }
    if ((fi = fmt_index(tag)) >= 0) {
        uint32_t fkey = attrhash ^ ((uint32_t)tag * 2654435761u);
        if (tag == GUMBO_TAG_A || tag == GUMBO_TAG_NOBR) { /* a new <a> ends an open one */
            fmt_close(e, fi);
            x = e->key_top[tag];
            if (x >= 0 && est_special_top(e) <= x)
                est_pop_to(e, x);
        }
        /* A formatting element is both on the stack and in the list; counting it twice
         * errs high, which is the safe side. */
        if (fmt_open(e, fi, fkey ? fkey : 1) < 0)
            return -1;
    }
    if ((e->tf[tag] & (TF_VOID | TF_RAWTEXT)) || tag == GUMBO_TAG_PLAINTEXT)
        return 1;
    return est_push(e, tag, key, hash) < 0 ? -1 : 1;
}

/* An end tag. */
static void est_end(struct est *e, GumboTag tag, int key, uint32_t hash)
{
    int m, fi;

    if (est_in_foreign(e)) {
        m = e->key_top[key];
        if (m >= 0 && e->st[m].hash == hash)
            est_pop_to(e, m);
        return;
    }
    if (tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_HEAD || tag == GUMBO_TAG_BODY)
        return;
    if ((fi = fmt_index(tag)) >= 0)
        fmt_close(e, fi); /* and, below, off the stack like any other element */
    m = e->key_top[key];
    /* Only the topmost element of a hash bucket is checked: on a mismatch the end tag is
     * ignored, which can only overestimate. */
    if (m < 0 || e->st[m].hash != hash)
        return;
    if ((e->tf[tag] & TF_SPECIAL) ? est_scope_top(e) > m : est_special_top(e) > m)
        return; /* gumbo ignores it: not in scope, or a special element is in the way */
    est_pop_to(e, m);
}

/* Finds the end of a raw-text element's content: the next "</name" followed by a
 * delimiter. Returns the offset of its '<' (or n). */
static size_t skip_rawtext(const char *s, size_t n, size_t i, const char *name, size_t nl)
{
    while (i < n) {
        const char *lt = memchr(s + i, '<', n - i);
        size_t k;
        if (lt == NULL)
            return n;
        k = (size_t)(lt - s);
        if (k + 2 + nl <= n && s[k + 1] == '/' && lower_eq(s + k + 2, name, nl) &&
            (k + 2 + nl == n || is_space((unsigned char)s[k + 2 + nl]) ||
             s[k + 2 + nl] == '/' || s[k + 2 + nl] == '>'))
            return k;
        i = k + 1;
    }
    return n;
}

/* Finds the first occurrence of the 3-byte string "-->" at or after i, or n. */
static size_t find_comment_end(const char *s, size_t n, size_t i)
{
    while (i + 3 <= n) {
        const char *d = memchr(s + i, '-', n - i);
        size_t k;
        if (d == NULL)
            return n;
        k = (size_t)(d - s);
        if (k + 3 <= n && s[k + 1] == '-' && s[k + 2] == '>')
            return k;
        i = k + 1;
    }
    return n;
}

/* True when gumbo may parse the document in reasonable time (see the comment above
 * struct est_entry). A tokenizer just good enough to find tags, attributes and the
 * end of comments and raw text; every byte is looked at a bounded number of times. */
static int html_nesting_ok(const char *s, size_t n, const unsigned char *tf, struct est *e)
{
    size_t i = 0;

    memset(e, 0, sizeof *e);
    e->tf = tf;
    for (size_t k = 0; k < EST_KEYS; k++)
        e->key_top[k] = -1;
    while (i < n) {
        const char *lt = memchr(s + i, '<', n - i), *name;
        size_t nl, j, attr_start;
        int end_tag = 0, selfclose = 0, key, r;
        GumboTag tag;
        uint32_t hash = 0;

        if (lt == NULL)
            break;
        i = (size_t)(lt - s) + 1;
        if (i >= n)
            break;
        if (s[i] == '!' || s[i] == '?') {
            size_t k;
            if (s[i] == '!' && i + 2 < n && s[i + 1] == '-' && s[i + 2] == '-') {
                k = find_comment_end(s, n, i + 1); /* "<!-->" is a whole comment */
                i = k + 3;
            } else {
                const char *gt = memchr(s + i, '>', n - i);
                i = gt ? (size_t)(gt - s) + 1 : n;
            }
            continue;
        }
        if (s[i] == '/') {
            end_tag = 1;
            if (++i >= n)
                break;
            if (!is_alpha((unsigned char)s[i])) { /* "</>" or a bogus comment */
                const char *gt = memchr(s + i, '>', n - i);
                i = gt ? (size_t)(gt - s) + 1 : n;
                continue;
            }
        } else if (!is_alpha((unsigned char)s[i])) {
            continue; /* a '<' in text */
        }
        name = s + i;
        j = i;
        while (j < n && !is_space((unsigned char)s[j]) && s[j] != '/' && s[j] != '>')
            j++;
        nl = j - i;
        attr_start = j;
        while (j < n && s[j] != '>') {
            if (s[j] == '/') {
                selfclose = j + 1 < n && s[j + 1] == '>';
                j++;
            } else if (s[j] == '=') {
                j++;
                while (j < n && is_space((unsigned char)s[j]))
                    j++;
                if (j < n && (s[j] == '"' || s[j] == '\'')) {
                    const char *q = memchr(s + j + 1, s[j], n - j - 1);
                    j = q ? (size_t)(q - s) + 1 : n;
                } else {
                    while (j < n && !is_space((unsigned char)s[j]) && s[j] != '>')
                        j++;
                }
            } else {
                j++;
            }
        }
        if (j >= n)
            break; /* a tag cut off by the end of input is dropped by the tokenizer too */
        i = j + 1;
        tag = nl <= 32 ? gumbo_tagn_enum(name, (unsigned)nl) : GUMBO_TAG_UNKNOWN;
        if (tag == GUMBO_TAG_UNKNOWN) {
            hash = hash_ci(name, nl, 2166136261u);
            key = GUMBO_TAG_LAST + (int)(hash % EST_BUCKETS);
        } else {
            key = tag;
        }
        if (end_tag) {
            est_end(e, tag, key, hash);
            continue;
        }
        r = est_start(e, tag, key, hash, selfclose,
                      fmt_index(tag) >= 0 ? hash_ci(s + attr_start, j - attr_start, 2166136261u)
                                          : 0);
        if (r < 0)
            return 0;
        /* Inside <select> or <frameset> gumbo ignores these tags and keeps reading
         * markup; skipping their "content" there would hide tags from the estimate. */
        if (r != 1 || e->key_top[GUMBO_TAG_SELECT] >= 0 || e->key_top[GUMBO_TAG_FRAMESET] >= 0)
            continue;
        if (tag == GUMBO_TAG_PLAINTEXT)
            break; /* everything after it is text */
        if (tf[tag] & TF_RAWTEXT)
            i = skip_rawtext(s, n, i, gumbo_normalized_tagname(tag), nl);
    }
    return 1;
}

/* ---- HTML: gumbo's allocator ---------------------------------------------------------- */

/* Every block gumbo allocates carries this header, linking it into a list so that all of
 * them can be freed after gumbo has been abandoned mid-parse. */
struct gblock {
    struct gblock *prev, *next;
    size_t size;
};

union gheader {
    struct gblock b;
    max_align_t align;
};

struct garena {
    struct gblock head; /* circular list sentinel */
    size_t used, limit;
    long long budget_ns;   /* CPU time gumbo may use */
    long long deadline_ns; /* thread CPU time at which to give up; 0: no limit */
    unsigned calls;
    int failed; /* 1: malloc failed, 2: memory limit reached, 3: time limit reached */
    jmp_buf jb;
};

/* CPU time used by this thread, in nanoseconds (0 if the clock is unavailable). */
static long long thread_cpu_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Gumbo's allocator: gumbo does not check for NULL, so a failure leaves gumbo by
 * longjmp to gumbo_guarded_parse; gumbo holds nothing but memory, which the arena frees.
 * It is also where gumbo's CPU time is checked: gumbo allocates for every tag it reads,
 * so however its tree builder is driven into slow paths, it comes back here often. This
 * is the backstop behind html_nesting_ok, which only catches the usual deep nesting. */
static void *garena_alloc(void *ud, size_t size)
{
    struct garena *a = ud;
    union gheader *h;

    if (a->deadline_ns != 0 && ++a->calls % GUMBO_CPU_CHECK_EVERY == 0 &&
        thread_cpu_ns() > a->deadline_ns) {
        a->failed = 3;
        longjmp(a->jb, 1);
    }
    if (size > a->limit - a->used) {
        a->failed = 2;
        longjmp(a->jb, 1);
    }
    h = malloc(sizeof *h + size);
    if (h == NULL) {
        a->failed = 1;
        longjmp(a->jb, 1);
    }
    h->b.size = size;
    h->b.prev = &a->head;
    h->b.next = a->head.next;
    a->head.next->prev = &h->b;
    a->head.next = &h->b;
    a->used += size;
    return h + 1;
}

static void garena_free(void *ud, void *p)
{
    struct garena *a = ud;
    union gheader *h;

    if (p == NULL)
        return;
    h = (union gheader *)p - 1;
    h->b.prev->next = h->b.next;
    h->b.next->prev = h->b.prev;
    a->used -= h->b.size;
    free(h);
}

/* Frees whatever gumbo left behind. */
static void garena_free_all(struct garena *a)
{
    while (a->head.next != &a->head)
        garena_free(a, (union gheader *)a->head.next + 1);
}

/* Runs gumbo; NULL when it ran out of memory (a->failed says which way). setjmp lives in
 * this small function so that no local it would need after the jump is modified. */
static GumboOutput *gumbo_guarded_parse(struct garena *a, const GumboOptions *opts,
                                        const char *s, size_t n)
{
    if (setjmp(a->jb) != 0)
        return NULL;
    return gumbo_parse_with_options(opts, s, n);
}

/* ---- HTML: walking the tree ----------------------------------------------------------- */

enum walk_step { WALK_DESCEND, WALK_SKIP, WALK_STOP };

/* Called on entering a node (enter = 1) and, for nodes descended into, on leaving it. */
typedef enum walk_step (*walk_fn)(const GumboNode *node, int enter, void *ctx);

static const GumboVector *node_children(const GumboNode *n)
{
    if (n->type == GUMBO_NODE_DOCUMENT)
        return &n->v.document.children;
    if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE)
        return &n->v.element.children;
    return NULL;
}

/* Pre-order walk with an explicit stack (the tree may be a few hundred levels deep and
 * this runs on indexer threads). Returns -1 when out of memory. */
static int walk_tree(const GumboNode *root, walk_fn fn, void *ctx)
{
    struct frame {
        const GumboNode *node;
        unsigned int next;
    } *stack = NULL;
    size_t depth = 0, cap = 0;
    int rc = 0;

    if (root == NULL)
        return 0;
    switch (fn(root, 1, ctx)) {
    case WALK_STOP: case WALK_SKIP:
        return 0;
    case WALK_DESCEND:
        break;
    }
    cap = 64;
    if ((stack = malloc(cap * sizeof *stack)) == NULL)
        return -1;
    stack[depth].node = root;
    stack[depth++].next = 0;
    while (depth > 0) {
        struct frame *f = &stack[depth - 1];
        const GumboVector *kids = node_children(f->node);
        const GumboNode *child;

        if (kids == NULL || f->next >= kids->length) {
            fn(f->node, 0, ctx);
            depth--;
            continue;
        }
        child = kids->data[f->next++];
        switch (fn(child, 1, ctx)) {
        case WALK_STOP:
            goto done;
        case WALK_SKIP:
            continue;
        case WALK_DESCEND:
            break;
        }
        if (node_children(child) == NULL)
            continue;
        if (depth == cap) {
            struct frame *ns = realloc(stack, cap * 2 * sizeof *stack);
            if (ns == NULL) {
                rc = -1;
                goto done;
            }
            stack = ns;
            cap *= 2;
        }
        stack[depth].node = child;
        stack[depth++].next = 0;
    }
done:
    free(stack);
    return rc;
}

/* The value of attribute name on an element node, or NULL. */
static const char *node_attr(const GumboNode *n, const char *name)
{
    const GumboAttribute *at;

    if (n->type != GUMBO_NODE_ELEMENT)
        return NULL;
    at = gumbo_get_attribute(&n->v.element.attributes, name);
    return at ? at->value : NULL;
}

/* Collects text with whitespace collapsed: runs of spaces become one space, block
 * boundaries one newline, and nothing leads or trails. */
struct textctx {
    const unsigned char *tf; /* tagflags */
    struct sbuf out;
    int pending_space, pending_nl;
    int newlines; /* 0: block boundaries become spaces (for titles) */
};

/* Length of the whitespace at s: an ASCII space or U+00A0 (&nbsp;, which pages use for
 * layout), else 0. */
static size_t html_space(const char *s, size_t n)
{
    if (is_space((unsigned char)s[0]))
        return 1;
    if (n >= 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
        return 2;
    return 0;
}

static void text_append(struct textctx *t, const char *s, size_t n)
{
    size_t i = 0, sp;

    while (i < n) {
        size_t j = i;
        if ((sp = html_space(s + i, n - i)) > 0) {
            t->pending_space = 1;
            i += sp;
            continue;
        }
        while (j < n && html_space(s + j, n - j) == 0)
            j++;
        if (t->out.len > 0 && (t->pending_nl || t->pending_space))
            sbuf_putc(&t->out, t->pending_nl && t->newlines ? '\n' : ' ');
        t->pending_space = t->pending_nl = 0;
        sbuf_put(&t->out, s + i, j - i);
        i = j;
    }
}

/* Text of the nodes the body walk visits. */
static enum walk_step text_visit(const GumboNode *n, int enter, void *ctx)
{
    struct textctx *t = ctx;
    const char *hidden;
    GumboTag tag;

    switch (n->type) {
    case GUMBO_NODE_TEXT: case GUMBO_NODE_CDATA: case GUMBO_NODE_WHITESPACE:
        if (enter)
            text_append(t, n->v.text.text, strlen(n->v.text.text));
        return WALK_SKIP;
    case GUMBO_NODE_COMMENT: case GUMBO_NODE_TEMPLATE:
        return WALK_SKIP;
    case GUMBO_NODE_DOCUMENT:
        return WALK_DESCEND;
    case GUMBO_NODE_ELEMENT:
        break;
    }
    tag = n->v.element.tag;
    if (enter) {
        if ((t->tf[tag] & TF_SKIP) || node_attr(n, "hidden") != NULL)
            return WALK_SKIP;
        hidden = node_attr(n, "aria-hidden");
        if (hidden != NULL && strcmp(hidden, "true") == 0)
            return WALK_SKIP;
    }
    if (t->tf[tag] & TF_BLOCK)
        t->pending_nl = 1;
    else if (tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH || tag == GUMBO_TAG_IMG)
        t->pending_space = 1;
    return WALK_DESCEND;
}

/* Text of a subtree; NULL when out of memory. */
static char *node_text(const GumboNode *n, const unsigned char *tf, int newlines, size_t *len)
{
    struct textctx t = {tf, {0}, 0, 0, newlines};
    char *raw, *clean;
    size_t rawlen;

    if (walk_tree(n, text_visit, &t) < 0) {
        free(t.out.p);
        return NULL;
    }
    if ((raw = sbuf_finish(&t.out, &rawlen)) == NULL)
        return NULL;
    /* Gumbo's output is cleaned as well as its input: 0.10.1 decodes an out-of-range
     * character reference such as "&#xEEEEEEEE;" into a byte that is not UTF-8 (found by
     * tests/fuzz, regression input tests/fuzz/regress/article/html-charref-overflow). */
    clean = article_utf8_clean(raw, rawlen, len);
    free(raw);
    return clean;
}

/* What one pass over the document finds: the containers, the title, date hints. */
struct htmlscan {
    const GumboNode *article, *main, *body, *title, *h1;
    const char *meta_published; /* <meta property="article:published_time"> */
    const char *meta_date;      /* <meta name="date"> and its many spellings */
};

static const char *const meta_published_names[] = {
    "article:published_time", "article:published", "og:published_time", "datepublished",
};
static const char *const meta_date_names[] = {
    "date", "dc.date", "dc.date.issued", "dcterms.date", "dcterms.created", "pubdate",
    "publishdate", "publish-date", "publish_date", "sailthru.date", "parsely-pub-date",
};

/* True when s equals one of the names, ignoring case. */
static int name_in(const char *s, const char *const *names, size_t count)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < count; i++)
        if (strlen(names[i]) == n && lower_eq(s, names[i], n))
            return 1;
    return 0;
}

static enum walk_step scan_visit(const GumboNode *n, int enter, void *ctx)
{
    struct htmlscan *sc = ctx;
    const char *key[3], *content;

    if (!enter)
        return WALK_DESCEND;
    if (n->type == GUMBO_NODE_DOCUMENT)
        return WALK_DESCEND;
    if (n->type != GUMBO_NODE_ELEMENT)
        return WALK_SKIP;
    if (n->v.element.tag_namespace != GUMBO_NAMESPACE_HTML)
        return WALK_SKIP; /* <svg><title> is not the page title */
    switch (n->v.element.tag) {
    case GUMBO_TAG_ARTICLE:
        if (sc->article == NULL)
            sc->article = n;
        break;
    case GUMBO_TAG_MAIN:
        if (sc->main == NULL)
            sc->main = n;
        break;
    case GUMBO_TAG_BODY:
        if (sc->body == NULL)
            sc->body = n;
        break;
    case GUMBO_TAG_TITLE:
        if (sc->title == NULL)
            sc->title = n;
        return WALK_SKIP;
    case GUMBO_TAG_H1:
        if (sc->h1 == NULL)
            sc->h1 = n;
        break;
    case GUMBO_TAG_META:
        content = node_attr(n, "content");
        if (content == NULL)
            break;
        key[0] = node_attr(n, "property");
        key[1] = node_attr(n, "name");
        key[2] = node_attr(n, "itemprop");
        for (int i = 0; i < 3; i++) {
            if (key[i] == NULL)
                continue;
            if (sc->meta_published == NULL &&
                name_in(key[i], meta_published_names,
                        sizeof meta_published_names / sizeof meta_published_names[0]))
                sc->meta_published = content;
            if (sc->meta_date == NULL &&
                name_in(key[i], meta_date_names,
                        sizeof meta_date_names / sizeof meta_date_names[0]))
                sc->meta_date = content;
        }
        break;
    case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_TEMPLATE:
        return WALK_SKIP;
    default:
        break;
    }
    return WALK_DESCEND;
}

/* Finds the first <time datetime="..."> holding a date, outside navigation. */
struct timescan {
    char date[11];
    int found;
};

static enum walk_step time_visit(const GumboNode *n, int enter, void *ctx)
{
    struct timescan *ts = ctx;
    const char *dt;
    GumboTag tag;

    if (!enter || n->type == GUMBO_NODE_DOCUMENT)
        return WALK_DESCEND;
    if (n->type != GUMBO_NODE_ELEMENT)
        return WALK_SKIP;
    tag = n->v.element.tag;
    if (tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_TEMPLATE ||
        tag == GUMBO_TAG_NAV || tag == GUMBO_TAG_ASIDE || tag == GUMBO_TAG_FOOTER)
        return WALK_SKIP;
    if (n->v.element.tag == GUMBO_TAG_TIME && (dt = node_attr(n, "datetime")) != NULL &&
        article_find_date(dt, strlen(dt), ts->date)) {
        ts->found = 1;
        return WALK_STOP;
    }
    return WALK_DESCEND;
}

/* The date of a page: <meta> first, then <time datetime> (in the article container, then
 * anywhere), then the first date written in the text. 0, or -1 when out of memory. */
static int html_date(const struct htmlscan *sc, const GumboNode *container,
                     const GumboNode *root, const char *body, size_t blen, char **date)
{
    const char *metas[2] = {sc->meta_published, sc->meta_date};
    struct timescan ts = {{0}, 0};
    char d[11];

    *date = NULL;
    for (int i = 0; i < 2; i++)
        if (metas[i] != NULL && normalise_date(metas[i], strlen(metas[i]), date) != 0)
            return *date != NULL ? 0 : -1;
    if (walk_tree(container, time_visit, &ts) < 0)
        return -1;
    if (!ts.found && container != root && walk_tree(root, time_visit, &ts) < 0)
        return -1;
    if (ts.found)
        memcpy(d, ts.date, sizeof d);
    else if (!article_find_date(body, blen, d))
        return 0;
    if ((*date = strdup(d)) == NULL)
        return -1;
    return 0;
}

/* Pulls title, body and date out of a parsed page into a (a scratch struct). Returns 0,
 * -1 when out of memory, -2 when there is no text. */
static int html_extract(const GumboOutput *g, const unsigned char *tf, struct article *a)
{
    struct htmlscan sc;
    const GumboNode *candidates[3], *container = NULL;
    char *t;
    size_t n = 0;

    memset(&sc, 0, sizeof sc);
    if (walk_tree(g->document, scan_visit, &sc) < 0)
        return -1;
    candidates[0] = sc.article;
    candidates[1] = sc.main;
    candidates[2] = sc.body; /* gumbo always makes one */
    /* The first of article, main, body with any text: an <article> that holds only a
     * share bar must not leave the page empty. */
    for (int i = 0; i < 3; i++) {
        if (candidates[i] == NULL)
            continue;
        if ((t = node_text(candidates[i], tf, 1, &n)) == NULL)
            return -1;
        if (n > 0) {
            a->body = t;
            a->body_len = n;
            container = candidates[i];
            break;
        }
        free(t);
    }
    if (a->body == NULL)
        return -2;
    t = NULL;
    if (sc.title != NULL && (t = node_text(sc.title, tf, 0, &n)) == NULL)
        return -1;
    if ((t == NULL || n == 0) && sc.h1 != NULL) {
        free(t);
        if ((t = node_text(sc.h1, tf, 0, &n)) == NULL)
            return -1;
    }
    a->title = title_dup(t != NULL ? t : "", t != NULL ? n : 0);
    free(t);
    if (a->title == NULL)
        return -1;
    return html_date(&sc, container, g->document, a->body, a->body_len, &a->date);
}

int article_parse_html(const char *buf, size_t len, struct article *out, char *why,
                       size_t whylen)
{
    char tmp[128];
    const char *reason;
    char *clean;
    size_t clen;
    struct est *est;
    struct garena arena;
    GumboOptions opts = kGumboDefaultOptions;
    GumboOutput *g;
    struct article a;
    tagflags tf;
    int rc;

    if (out == NULL || (buf == NULL && len > 0)) {
        set_why(why, whylen, "invalid arguments");
        return -1;
    }
    if (len > ARTICLE_MAX_FILE_BYTES) {
        set_why(why, whylen, "file too large (%zu bytes, limit %u)", len,
                ARTICLE_MAX_FILE_BYTES);
        return -1;
    }
    if ((reason = binary_reason(buf, len, tmp, sizeof tmp)) != NULL) {
        set_why(why, whylen, "%s", reason);
        return -1;
    }
    tagflags_build(tf);
    char *recoded = NULL;
    size_t rlen = 0;
    int rc8 = article_recode(buf, len, 1, &recoded, &rlen, NULL, 0);
    clean = rc8 < 0 ? NULL : rc8 ? article_utf8_clean(recoded, rlen, &clen)
                                 : article_utf8_clean(buf, len, &clen);
    free(recoded);
    if (clean == NULL) {
        set_why(why, whylen, "%s", OOM);
        return -1;
    }
    if ((est = malloc(sizeof *est)) == NULL) {
        free(clean);
        set_why(why, whylen, "%s", OOM);
        return -1;
    }
    rc = html_nesting_ok(clean, clen, tf, est);
    free(est);
    if (!rc) {
        free(clean);
        set_why(why, whylen, "HTML nested too deeply (over %d levels)", HTML_MAX_DEPTH);
        return -1;
    }

    memset(&arena, 0, sizeof arena);
    arena.head.next = arena.head.prev = &arena.head;
    arena.limit = clen > (GUMBO_MEM_MAX - GUMBO_MEM_BASE) / GUMBO_MEM_PER_BYTE
                      ? GUMBO_MEM_MAX
                      : GUMBO_MEM_BASE + clen * GUMBO_MEM_PER_BYTE;
    /* clen <= 3 * ARTICLE_MAX_FILE_BYTES, so this cannot overflow. */
    arena.budget_ns = GUMBO_CPU_BASE_NS + (long long)clen * GUMBO_CPU_NS_PER_BYTE;
    arena.deadline_ns = thread_cpu_ns();
    if (arena.deadline_ns != 0)
        arena.deadline_ns += arena.budget_ns;
    opts.allocator = garena_alloc;
    opts.deallocator = garena_free;
    opts.userdata = &arena;
    /* Error records copy the open-element stack: quadratic memory on deep input, and we
     * have no use for them. */
    opts.max_errors = 0;
    g = gumbo_guarded_parse(&arena, &opts, clean, clen);
    if (g == NULL) {
        garena_free_all(&arena);
        free(clean);
        if (arena.failed == 2)
            set_why(why, whylen, "HTML too complex (parser memory over %zu MB)",
                    arena.limit >> 20);
        else if (arena.failed == 3)
            set_why(why, whylen, "HTML too complex (parsing took over %lld ms of CPU time)",
                    arena.budget_ns / 1000000);
        else
            set_why(why, whylen, "%s", OOM);
        return -1;
    }
    memset(&a, 0, sizeof a);
    rc = html_extract(g, tf, &a);
    gumbo_destroy_output(&opts, g);
    garena_free_all(&arena);
    free(clean);
    if (rc < 0) {
        article_clear(&a);
        set_why(why, whylen, "%s", rc == -2 ? "no text" : OOM);
        return -1;
    }
    replace_field(&out->title, a.title);
    replace_field(&out->body, a.body);
    out->body_len = a.body_len;
    replace_field(&out->date, a.date);
    return 0;
}

/* ---- JSON Lines ----------------------------------------------------------------------- */

/* A JSON "date": a string holding a date in any form the text reader knows ("2024-05-01",
 * "2024-05-01T10:00:00Z", "May 1, 2024"), a year alone ("2020", read as its January 1st),
 * YYYYMMDD (20240501), or Unix seconds (9 to 11 digits: a number, or a string of them). Returns 1 with the date in *out, 0
 * when there is none, -1 when out of memory. */
static int json_date(const json_t *date, char **out)
{
    long long secs = -1;
    *out = NULL;
    if (json_is_string(date)) {
        const char *s = json_string_value(date);
        size_t n = json_string_length(date);
        int rc = normalise_date(s, n, out);
        if (rc != 0)
            return rc;
        while (n > 0 && is_space((unsigned char)s[n - 1]))
            n--;
        while (n > 0 && is_space((unsigned char)*s))
            s++, n--;
        size_t digits = 0;
        while (digits < n && is_digit((unsigned char)s[digits]))
            digits++;
        if (digits != n || n == 0 || n > 12)
            return 0;
        if (n == 4) {
            int y = atoi(s);
            if (y < 1000 || y > 2999)
                return 0;
            if ((*out = malloc(11)) == NULL)
                return -1;
            snprintf(*out, 11, "%04d-01-01", y);
            return 1;
        }
        secs = atoll(s);
    } else if (json_is_integer(date)) {
        secs = (long long)json_integer_value(date);
    } else if (json_is_real(date)) {
        secs = (long long)json_real_value(date);
    }
    /* 8 digits: YYYYMMDD (20260410); 9 to 11: Unix seconds (from 1973 to 2999). */
    if (secs >= 10000000LL && secs <= 99999999LL) {
        int y = (int)(secs / 10000), m = (int)(secs / 100 % 100), d = (int)(secs % 100);
        if (!valid_date(y, m, d))
            return 0;
        if ((*out = malloc(16)) == NULL)
            return -1;
        snprintf(*out, 16, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
                 (unsigned)d % 100u);
        return 1;
    }
    if (secs < 100000000LL || secs > 32503680000LL)
        return 0;
    time_t t = (time_t)secs;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return 0;
    if (tm.tm_year + 1900 > 2999)
        return 0;
    if ((*out = malloc(16)) == NULL)
        return -1;
    snprintf(*out, 16, "%04u-%02u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
    return 1;
}

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
        set_why(why, whylen, "invalid arguments");
        return -1;
    }
    if (len > ARTICLE_MAX_LINE_BYTES) {
        set_why(why, whylen, "line too long (%zu bytes, limit %u)", len,
                ARTICLE_MAX_LINE_BYTES);
        return -1;
    }
    if (is_blank(line, len)) {
        set_why(why, whylen, "empty line");
        return -1;
    }
    /* JSON_ALLOW_NUL: a "\u0000" in a body is a reason to clean it, not to lose the
     * record. JSON_DECODE_ANY: so that "42" is "not a JSON object" rather than a syntax
     * error. Nesting depth is bounded by jansson itself (JSON_PARSER_MAX_DEPTH). */
    root = util_json_loadb(line, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &err, &oom);
    if (root == NULL) {
        /* jansson leaves the error empty when its first allocation fails. */
        if (oom || err.text[0] == '\0')
            set_why(why, whylen, "%s", OOM);
        else
            set_why(why, whylen, "invalid JSON: %s (line %d, column %d)", err.text, err.line,
                    err.column);
        return -1;
    }
    memset(&a, 0, sizeof a);
    if (!json_is_object(root)) {
        set_why(why, whylen, "not a JSON object");
        goto fail;
    }

    id = json_object_get(root, "id");
    if (id == NULL) {
        set_why(why, whylen, "missing \"id\"");
        goto fail;
    }
    if (json_is_integer(id)) {
        char num[32];
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        a.id = strdup(num);
    } else if (json_is_string(id)) {
        a.id = json_str_dup(id, &n);
        if (a.id != NULL && n == 0) {
            set_why(why, whylen, "\"id\" is empty");
            goto fail;
        }
        if (a.id != NULL && n > ARTICLE_MAX_ID_BYTES) {
            set_why(why, whylen, "\"id\" is too long (%zu bytes, limit %d)", n,
                    ARTICLE_MAX_ID_BYTES);
            goto fail;
        }
    } else {
        set_why(why, whylen, "\"id\" must be a string");
        goto fail;
    }
    if (a.id == NULL)
        goto oom;

    body = json_object_get(root, "body");
    if (body == NULL) {
        set_why(why, whylen, "missing \"body\"");
        goto fail;
    }
    if (!json_is_string(body)) {
        set_why(why, whylen, "\"body\" must be a string");
        goto fail;
    }
    if ((a.body = json_str_dup(body, &a.body_len)) == NULL)
        goto oom;

    title = json_object_get(root, "title");
    if (json_is_string(title)) {
        if ((t = json_str_dup(title, &n)) == NULL)
            goto oom;
        a.title = title_dup(t, n);
        free(t);
    } else {
        a.title = strdup("");
    }
    if (a.title == NULL)
        goto oom;
    if (is_blank(a.body, a.body_len) && a.title[0] == '\0') {
        set_why(why, whylen, "empty \"body\" and no \"title\"");
        goto fail;
    }

    if (a.title[0] == '\0' && !is_blank(a.body, a.body_len)) {
        /* Untitled: titled from its body as a text file is. */
        char *bt = pick_title(a.body, a.body_len, a.body, a.body_len, 0);
        if (bt == NULL)
            goto oom;
        replace_field(&a.title, bt);
    }
    date = json_object_get(root, "date");
    if (json_date(date, &a.date) < 0)
        goto oom;
    if (opt_string(root, "source", &a.source) < 0 || opt_string(root, "url", &a.url) < 0 ||
        opt_string(root, "category", &a.category) < 0)
        goto oom;

    json_decref(root);
    article_clear(out);
    *out = a;
    return 0;

oom:
    set_why(why, whylen, "%s", OOM);
fail:
    json_decref(root);
    article_clear(&a);
    return -1;
}

/* ---- reading JSON Lines files --------------------------------------------------------- */

struct article_lines {
    gzFile gz;
    char *block;       /* read buffer: [pos, len) not yet consumed */
    size_t pos, len;
    char *line;        /* the line being assembled, at most ARTICLE_MAX_LINE_BYTES + 1 */
    size_t line_len, line_cap;
    unsigned long lineno;
    int skipping;      /* the current line is too long: drop bytes until its newline */
    int eof;
    char error[256];   /* set once a read failed; every later call repeats it */
};

article_lines *article_lines_open(const char *path, char *why, size_t whylen)
{
    article_lines *r;
    struct stat st;
    int fd;

    if (path == NULL) {
        set_why(why, whylen, "invalid arguments");
        return NULL;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_why(why, whylen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        set_why(why, whylen, "cannot read %s: %s", path, strerror(EISDIR));
        return NULL;
    }
    r = calloc(1, sizeof *r);
    if (r == NULL || (r->block = malloc(LINES_BLOCK)) == NULL) {
        free(r);
        close(fd);
        set_why(why, whylen, "cannot read %s: %s", path, OOM);
        return NULL;
    }
    /* gzdopen reads plain files transparently, so one reader serves .jsonl and
     * .jsonl.gz; it takes over fd only when it succeeds. */
    r->gz = gzdopen(fd, "rb");
    if (r->gz == NULL) {
        close(fd);
        free(r->block);
        free(r);
        set_why(why, whylen, "cannot read %s: %s", path, OOM);
        return NULL;
    }
    gzbuffer(r->gz, 128 * 1024);
    return r;
}

/* Records a read error from zlib (or errno) as the reader's sticky reason. */
static void lines_fail(article_lines *r)
{
    int errnum = Z_OK;
    const char *msg = gzerror(r->gz, &errnum);

    if (errnum == Z_ERRNO)
        msg = strerror(errno);
    else if (errnum == Z_MEM_ERROR)
        msg = OOM;
    snprintf(r->error, sizeof r->error, "read error after line %lu: %s", r->lineno,
             msg != NULL && msg[0] != '\0' ? msg : "unknown error");
}

/* Appends [s, s+n) to the line being assembled, or starts skipping it when it grows
 * past the limit. The +1 leaves room for a "\r" before the newline. Returns -1 when out
 * of memory. */
static int lines_append(article_lines *r, const char *s, size_t n)
{
    size_t need, cap;
    char *p;

    if (r->skipping || n == 0)
        return 0;
    if (n > (size_t)ARTICLE_MAX_LINE_BYTES + 1 - r->line_len) {
        r->skipping = 1;
        r->line_len = 0;
        return 0;
    }
    need = r->line_len + n + 1;
    if (need > r->line_cap) {
        cap = r->line_cap ? r->line_cap : 4096;
        while (cap < need)
            cap *= 2;
        p = realloc(r->line, cap);
        if (p == NULL)
            return -1;
        r->line = p;
        r->line_cap = cap;
    }
    memcpy(r->line + r->line_len, s, n);
    r->line_len += n;
    return 0;
}

int article_lines_next(article_lines *r, const char **line, size_t *len, unsigned long *lineno,
                       char *why, size_t whylen)
{
    if (r == NULL || line == NULL || len == NULL) {
        set_why(why, whylen, "invalid arguments");
        return -1;
    }
    if (lineno != NULL)
        *lineno = r->lineno;
    if (r->error[0] != '\0') {
        set_why(why, whylen, "%s", r->error);
        return -1;
    }
    r->line_len = 0; /* the previous line was handed out; its buffer is reused */
    for (;;) {
        const char *start, *nl;
        size_t seg;
        int got;

        if (r->pos == r->len) {
            if (r->eof) {
                if (r->line_len == 0 && !r->skipping)
                    return 0;
                break; /* a last line without a newline */
            }
            got = gzread(r->gz, r->block, LINES_BLOCK);
            if (got < 0) {
                lines_fail(r);
                set_why(why, whylen, "%s", r->error);
                return -1;
            }
            if (got == 0) {
                /* A truncated gzip member shows up here as Z_BUF_ERROR, not as EOF. */
                int errnum = Z_OK;
                gzerror(r->gz, &errnum);
                if (errnum != Z_OK) {
                    lines_fail(r);
                    set_why(why, whylen, "%s", r->error);
                    return -1;
                }
                r->eof = 1;
            }
            r->pos = 0;
            r->len = (size_t)got;
            continue;
        }
        start = r->block + r->pos;
        nl = memchr(start, '\n', r->len - r->pos);
        seg = nl ? (size_t)(nl - start) : r->len - r->pos;
        if (lines_append(r, start, seg) < 0) {
            snprintf(r->error, sizeof r->error, "line %lu: %s", r->lineno + 1, OOM);
            set_why(why, whylen, "%s", r->error);
            return -1;
        }
        r->pos += seg + (nl != NULL);
        if (nl != NULL)
            break;
    }
    r->lineno++;
    if (lineno != NULL)
        *lineno = r->lineno;
    if (r->line_len > 0 && r->line[r->line_len - 1] == '\r')
        r->line_len--;
    if (r->skipping || r->line_len > ARTICLE_MAX_LINE_BYTES) {
        r->skipping = 0;
        r->line_len = 0;
        set_why(why, whylen, "line %lu is longer than %u bytes (skipped)", r->lineno,
                ARTICLE_MAX_LINE_BYTES);
        return -2;
    }
    if (r->line == NULL) { /* an empty first line: hand out "" all the same */
        if ((r->line = malloc(1)) == NULL) {
            snprintf(r->error, sizeof r->error, "line %lu: %s", r->lineno, OOM);
            set_why(why, whylen, "%s", r->error);
            return -1;
        }
        r->line_cap = 1;
    }
    r->line[r->line_len] = '\0';
    *line = r->line;
    *len = r->line_len;
    /* A UTF-8 byte order mark (editors on Windows write one) is not part of the first
     * record: left in, it makes the line invalid JSON. */
    if (r->lineno == 1 && *len >= 3 && memcmp(*line, "\xEF\xBB\xBF", 3) == 0) {
        *line += 3;
        *len -= 3;
    }
    return 1;
}

size_t article_lines_offset(const article_lines *r)
{
    if (r == NULL)
        return 0;
    z_off_t off = gzoffset(r->gz);
    return off > 0 ? (size_t)off : 0;
}

void article_lines_close(article_lines *r)
{
    if (r == NULL)
        return;
    gzclose(r->gz);
    free(r->block);
    free(r->line);
    free(r);
}

/* ---- HTML in a child process ----------------------------------------------------------- */

/* Writes all of buf to fd; returns 0 or -1. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes one length-prefixed field (a NULL string is length SIZE_MAX). */
static int write_field(int fd, const char *s, size_t len)
{
    size_t n = s ? len : SIZE_MAX;
    if (write_all(fd, &n, sizeof n) < 0)
        return -1;
    return s ? write_all(fd, s, len) : 0;
}

/* Reads one length-prefixed field from p (of end); NULL for an absent field. Advances *p;
 * sets *bad on a malformed message. Returns a new string or NULL. */
static char *read_field(const char **p, const char *end, size_t *len, int *bad)
{
    size_t n;
    if ((size_t)(end - *p) < sizeof n) {
        *bad = 1;
        return NULL;
    }
    memcpy(&n, *p, sizeof n);
    *p += sizeof n;
    if (n == SIZE_MAX)
        return NULL;
    if ((size_t)(end - *p) < n) {
        *bad = 1;
        return NULL;
    }
    char *s = malloc(n + 1);
    if (!s) {
        *bad = 1;
        return NULL;
    }
    memcpy(s, *p, n);
    s[n] = '\0';
    *p += n;
    if (len)
        *len = n;
    return s;
}

static int parse_html_child(const char *buf, size_t len, struct article *out, char *why,
                            size_t whylen, unsigned timeout_s);

int article_parse_html_isolated(const char *buf, size_t len, struct article *out, char *why,
                                size_t whylen, unsigned timeout_s)
{
    /* Converted here, so the child gets UTF-8 and says nothing about charsets. */
    char *utf8 = NULL;
    size_t ulen = 0;
    int recoded = len <= ARTICLE_MAX_FILE_BYTES ? article_recode(buf, len, 1, &utf8, &ulen, NULL, 0) : 0;
    if (recoded < 0) {
        set_why(why, whylen, "%s", OOM);
        return -2;
    }
    int rc = parse_html_child(recoded ? utf8 : buf, recoded ? ulen : len, out, why, whylen,
                              timeout_s);
    free(utf8);
    return rc;
}

static int parse_html_child(const char *buf, size_t len, struct article *out, char *why,
                            size_t whylen, unsigned timeout_s)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(why, whylen, "cannot make a pipe: %s", strerror(errno));
        return -2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "cannot fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -2;
    }
    if (pid == 0) {
        /* Child: parse, send the fields back, exit without running the parent's atexit
         * handlers or flushing its stdio buffers. */
        close(fds[0]);
        alarm(timeout_s ? timeout_s : 1);
        struct article a = {0};
        char w[512] = "";
        int rc = article_parse_html(buf, len, &a, w, sizeof w);
        int ok = write_all(fds[1], &rc, sizeof rc) == 0;
        if (rc == 0)
            ok = ok && write_field(fds[1], a.title, a.title ? strlen(a.title) : 0) == 0 &&
                 write_field(fds[1], a.body, a.body_len) == 0 &&
                 write_field(fds[1], a.date, a.date ? strlen(a.date) : 0) == 0;
        else
            ok = ok && write_field(fds[1], w, strlen(w)) == 0;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    /* Read everything the child sends (bounded: at most a few times the input). */
    size_t cap = 4096, n = 0, limit = len * 4 + (1u << 20);
    char *msg = malloc(cap);
    int overflow = 0;
    while (msg) {
        if (n == cap) {
            if (cap >= limit) {
                overflow = 1;
                break;
            }
            char *bigger = realloc(msg, cap * 2);
            if (!bigger)
                break;
            msg = bigger;
            cap *= 2;
        }
        ssize_t got = read(fds[0], msg + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fds[0]);
    int status = 0;
    if (overflow)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!msg) {
        snprintf(why, whylen, "out of memory");
        return -2;
    }
    if (WIFSIGNALED(status)) {
        free(msg);
        snprintf(why, whylen, WTERMSIG(status) == SIGALRM
                                  ? "HTML parser ran past its %u s limit"
                                  : "HTML parser crashed (signal %d)",
                 WTERMSIG(status) == SIGALRM ? (timeout_s ? timeout_s : 1)
                                             : (unsigned)WTERMSIG(status));
        return -2;
    }
    const char *p = msg, *end = msg + n;
    int rc, bad = overflow || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
                  n < sizeof rc;
    if (!bad) {
        memcpy(&rc, p, sizeof rc);
        p += sizeof rc;
    }
    if (!bad && rc != 0) {
        char *w = read_field(&p, end, NULL, &bad);
        snprintf(why, whylen, "%s", w && !bad ? w : "HTML parser failed");
        free(w);
        free(msg);
        return -1;
    }
    size_t blen = 0;
    char *title = bad ? NULL : read_field(&p, end, NULL, &bad);
    char *body = bad ? NULL : read_field(&p, end, &blen, &bad);
    char *date = bad ? NULL : read_field(&p, end, NULL, &bad);
    free(msg);
    if (bad || !title || !body) {
        free(title);
        free(body);
        free(date);
        snprintf(why, whylen, "HTML parser returned a malformed result");
        return -2;
    }
    /* As article_parse_html does: replace only the fields it sets. */
    free(out->title);
    free(out->body);
    free(out->date);
    out->title = title;
    out->body = body;
    out->body_len = blen;
    out->date = date;
    return 0;
}
