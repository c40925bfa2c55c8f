/*
 * article_date.c -- dates written in text ("Apr 10, 2026", "10 April 2026",
 * "2026-04-10"), in HTML attributes and in JSON fields, read as "YYYY-MM-DD".
 *
 * The text scan looks at each position once and reads a bounded number of bytes there,
 * so a file full of near-dates stays linear. A JSON "date" also accepts forms that would
 * be too loose in running text: a year alone, YYYYMMDD and Unix seconds.
 */
#include "article_int.h"
#include "number.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* The value of the n (1 to 4) decimal digits at p, or -1 when they are not all digits (a
 * sign included): the fixed-width fields of a date, read by the tree's one number parser. */
static int fixed_digits(const char *p, size_t n)
{
    long v;
    assert(n >= 1 && n <= 4);
    if (p[0] == '-' || num_parse_span(p, n, 10, 0, 9999, &v) != NUM_OK)
        return -1;
    return (int)v;
}

/* Reads a day of the month: 1-2 digits, optionally "st"/"nd"/"rd"/"th". */
static size_t read_day(const char *p, const char *end, int *day)
{
    size_t k = 0;

    while (k < 2 && p + k < end && is_digit((unsigned char)p[k]))
        k++;
    if (k == 0 || (p + k < end && is_digit((unsigned char)p[k])))
        return 0;
    int d = fixed_digits(p, k);
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
    int y;

    if (end - p < 4 || (y = fixed_digits(p, 4)) < 0)
        return 0;
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
    if (end - p < 10 || p[4] != '-' || p[7] != '-')
        return 0;
    if (end - p > 10 && is_digit((unsigned char)p[10]))
        return 0;
    *y = fixed_digits(p, 4);
    *m = fixed_digits(p + 5, 2);
    *d = fixed_digits(p + 8, 2);
    return *y >= 0 && *m >= 0 && *d >= 0;
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
int article_date_normalise(const char *s, size_t n, char **out)
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

/* A JSON "date": a string holding a date in any form the text reader knows ("2024-05-01",
 * "2024-05-01T10:00:00Z", "May 1, 2024"), a year alone ("2020", read as its January 1st),
 * YYYYMMDD (20240501), or Unix seconds (9 to 11 digits: a number, or a string of them).
 * Returns 1 with the date in *out, 0 when there is none, -1 when out of memory. */
int article_date_from_json(const json_t *date, char **out)
{
    long long secs = -1;
    *out = NULL;
    if (json_is_string(date)) {
        const char *s = json_string_value(date);
        size_t n = json_string_length(date);
        int rc = article_date_normalise(s, n, out);
        if (rc != 0)
            return rc;
        while (n > 0 && is_space((unsigned char)s[n - 1]))
            n--;
        while (n > 0 && is_space((unsigned char)*s))
            s++, n--;
        long v;
        if (n > 12 || num_parse_span(s, n, 10, 0, LONG_MAX, &v) != NUM_OK)
            return 0;
        if (n == 4) {
            if (v < 1000 || v > 2999)
                return 0;
            if ((*out = malloc(11)) == NULL)
                return -1;
            snprintf(*out, 11, "%04ld-01-01", v);
            return 1;
        }
        secs = v;
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
