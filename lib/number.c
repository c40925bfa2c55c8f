/*
 * number.c -- the one number parser of the tree (see number.h for the syntax and why it
 * is strict).
 *
 * Whole numbers are accumulated by hand rather than with strtol(): strtol needs a NUL after
 * the digits (fields cut out of a longer text have none), reports overflow through errno,
 * and quietly skips blanks and a '+'. Fractions are checked by hand and then converted by
 * strtod(), which rounds correctly; no program calls setlocale(), so its decimal point is
 * always '.'.
 */
#include "number.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The value of digit c in base, or -1 when c is not one. */
static int digit_value(char c, int base)
{
    int v;
    if (c >= '0' && c <= '9')
        v = c - '0';
    else if (c >= 'a' && c <= 'f')
        v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        v = c - 'A' + 10;
    else
        return -1;
    return v < base ? v : -1;
}

int num_parse_span(const char *s, size_t len, int base, long min, long max, long *out)
{
    assert(base == 8 || base == 10 || base == 16);
    assert(min <= max);
    if (!s)
        return NUM_SYNTAX;
    size_t i = 0;
    int neg = 0;
    if (len > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == len)
        return NUM_SYNTAX;
    /* The magnitude, checked against the largest a long can hold with this sign; past it,
     * the remaining characters are still checked, so "99999999999999999999x" is a syntax
     * error rather than an overflow. */
    unsigned long limit = neg ? (unsigned long)LONG_MAX + 1ul : (unsigned long)LONG_MAX;
    unsigned long mag = 0;
    int overflow = 0;
    for (; i < len; i++) {
        int d = digit_value(s[i], base);
        if (d < 0)
            return NUM_SYNTAX;
        if (overflow)
            continue;
        if (mag > (limit - (unsigned long)d) / (unsigned long)base)
            overflow = 1;
        else
            mag = mag * (unsigned long)base + (unsigned long)d;
    }
    if (overflow)
        return NUM_OVERFLOW;
    long v;
    if (!neg)
        v = (long)mag;
    else if (mag == (unsigned long)LONG_MAX + 1ul)
        v = LONG_MIN;
    else
        v = -(long)mag;
    if (v < min || v > max)
        return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

int num_parse_long(const char *s, long min, long max, long *out)
{
    return s ? num_parse_span(s, strlen(s), 10, min, max, out) : NUM_SYNTAX;
}

/* Skips a run of decimal digits at s; returns how many. */
static size_t digit_run(const char *s)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    return n;
}

int num_parse_double(const char *s, double min, double max, double *out)
{
    assert(min <= max);
    if (!s)
        return NUM_SYNTAX;
    const char *p = s;
    if (*p == '-')
        p++;
    size_t whole = digit_run(p);
    p += whole;
    size_t frac = 0;
    if (*p == '.') {
        p++;
        frac = digit_run(p);
        p += frac;
    }
    if (whole + frac == 0)
        return NUM_SYNTAX;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        size_t exp = digit_run(p);
        if (exp == 0)
            return NUM_SYNTAX;
        p += exp;
    }
    if (*p)
        return NUM_SYNTAX;
    char *end;
    double v = strtod(s, &end);
    assert(end == p);
    if (isinf(v))
        return NUM_OVERFLOW;
    if (v < min || v > max)
        return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

const char *num_strerror(int status)
{
    switch (status) {
    case NUM_OK: return "is a number";
    case NUM_SYNTAX: return "is not a number";
    case NUM_OVERFLOW: return "is too large";
    case NUM_RANGE: return "is out of range";
    default: return "is not a valid number";
    }
}
