/*
 * json_write.c -- writes a jansson tree as compact JSON, byte for byte what
 * json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(p)) gives, at a fraction of its cost.
 *
 * Every answer quired sends is such a tree. jansson's encoder hands its output to a
 * callback a few bytes at a time (quired's callback appended each piece to an evbuffer),
 * checks every object against a table of the objects above it, and decodes every
 * character of every string. Here the output goes into one growable buffer, strings are
 * copied in runs between the bytes that need escaping, and numbers are formatted without
 * stdio where that is exact (integers). tests/unit/test_json_write holds jansson as the
 * oracle: over seeded random trees and real search answers, the bytes are the same.
 */
#include "json_write.h"

#include <assert.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Nesting deeper than this is refused (jansson refuses cycles; our trees are shallow). */
#define JW_MAX_DEPTH 2048

struct jw {
    struct strbuf *sb;
    size_t limit; /* the length sb may reach */
    int precision;
    int status;   /* JSON_WRITE_OK or the first failure */
};

/* Makes room for n more bytes; 0, or -1 with w->status set. */
static int room(struct jw *w, size_t n)
{
    struct strbuf *sb = w->sb;
    if (n > w->limit - sb->len) {
        w->status = JSON_WRITE_TOO_LARGE;
        return -1;
    }
    if (sb->len + n + 1 <= sb->cap)
        return 0;
    if (sb_reserve(sb, n) < 0) {
        w->status = JSON_WRITE_NO_MEMORY;
        return -1;
    }
    return 0;
}

static int put(struct jw *w, const char *s, size_t n)
{
    if (room(w, n) < 0)
        return -1;
    memcpy(w->sb->buf + w->sb->len, s, n);
    w->sb->len += n;
    return 0;
}

/* Bytes of a string that are written as they are: printable ASCII but '"' and '\\'.
 * Bytes from 0x80 up start a UTF-8 sequence, checked and copied as it is. */
static const unsigned char plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),                                       /* 0x00-0x1F: control */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,       /* 0x20-0x2F: '"' */
    R16(1), R16(1),                                       /* 0x30-0x4F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,       /* 0x50-0x5F: '\\' */
    R16(1), R16(1),                                       /* 0x60-0x7F */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
#undef R16
};

/* The length of the run of plain bytes that s starts with. */
static size_t plain_run(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len && plain[s[i]])
        i++;
    return i;
}

/* Writes what (n bytes), then str (len plain bytes) quoted, then after (m bytes), making
 * room once: the common case of a key or a value with nothing to escape. */
static int put_quoted_plain(struct jw *w, const char *what, size_t n, const char *str, size_t len,
                            const char *after, size_t m)
{
    if (room(w, n + len + 2 + m) < 0)
        return -1;
    char *p = w->sb->buf + w->sb->len;
    memcpy(p, what, n);
    p += n;
    *p++ = '"';
    memcpy(p, str, len);
    p += len;
    *p++ = '"';
    memcpy(p, after, m);
    w->sb->len += n + len + 2 + m;
    return 0;
}

static int put_string(struct jw *w, const char *str, size_t len)
{
    if (plain_run(str, len) == len)
        return put_quoted_plain(w, "", 0, str, len, "", 0);
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    if (put(w, "\"", 1) < 0)
        return -1;
    while (s < end) {
        const unsigned char *run = s;
        for (;;) {
            while (s < end && plain[*s])
                s++;
            if (s == end || *s < 0x80)
                break;
            size_t k = util_utf8_len(s, (size_t)(end - s));
            if (k == 0) {
                w->status = JSON_WRITE_INVALID;
                return -1;
            }
            s += k;
        }
        if (s > run && put(w, (const char *)run, (size_t)(s - run)) < 0)
            return -1;
        if (s == end)
            break;
        char esc[8];
        size_t n = 2;
        esc[0] = '\\';
        switch (*s) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            assert(*s < 0x20);
            memcpy(esc + 1, "u00", 3);
            esc[4] = "0123456789ABCDEF"[*s >> 4];
            esc[5] = "0123456789ABCDEF"[*s & 15];
            n = 6;
        }
        if (put(w, esc, n) < 0)
            return -1;
        s++;
    }
    return put(w, "\"", 1);
}

static int put_integer(struct jw *w, json_int_t v)
{
    char buf[24], *p = buf + sizeof buf;
    /* The magnitude as unsigned, so that the most negative value has one too. */
    unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (v < 0)
        *--p = '-';
    return put(w, p, (size_t)(buf + sizeof buf - p));
}

/* Writes v at 15 significant digits without stdio when it is a decimal of at most 15
 * digits in [1e-4, 1e15), as rounded scores and times are; 0 when it is not (the caller
 * formats it), 1 when written, -1 on failure. The shortcut is exact: a decimal D of at
 * most DBL_DIG (15) significant digits comes back from its nearest double at 15 digits,
 * so when m / 10^d rounds to v, "%.15g" prints D = m / 10^d, in plain notation in that
 * range, without trailing zeros; jansson adds ".0" to a whole number. */
static int put_real_short(struct jw *w, double v)
{
    static const double p10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
    double a = v < 0 ? -v : v;
    if (!(a >= 1e-4 && a < 1e15))
        return 0;
    for (int d = 0; d <= 18; d++) {
        double scaled = a * p10[d];
        if (scaled >= 1e15)
            return 0;
        double m = (double)(long long)(scaled + 0.5);
        if (m / p10[d] != a)
            continue;
        /* The digits of m, the point d places from the right. */
        unsigned long long u = (unsigned long long)m;
        char digits[24], buf[48];
        int nd = 0;
        do {
            digits[nd++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        size_t len = 0;
        if (v < 0)
            buf[len++] = '-';
        if (nd <= d) { /* 0.000ddd */
            buf[len++] = '0';
            buf[len++] = '.';
            for (int z = d - nd; z > 0; z--)
                buf[len++] = '0';
            for (int i = nd - 1; i >= 0; i--)
                buf[len++] = digits[i];
        } else {
            for (int i = nd - 1; i >= 0; i--) {
                buf[len++] = digits[i];
                if (i == d && d > 0)
                    buf[len++] = '.';
            }
            if (d == 0) {
                buf[len++] = '.';
                buf[len++] = '0';
            }
        }
        return put(w, buf, len) < 0 ? -1 : 1;
    }
    return 0;
}

/* As jansson writes a real: "%.*g", then ".0" when that reads as an integer, and the
 * exponent without a '+' or leading zeros. */
static int put_real(struct jw *w, double v)
{
    if (w->precision == 15) {
        int r = put_real_short(w, v);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.*g", w->precision ? w->precision : 17, v);
    if (n < 0 || (size_t)n + 3 > sizeof buf) {
        w->status = JSON_WRITE_INVALID;
        return -1;
    }
    size_t len = (size_t)n;
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        memcpy(buf + len, ".0", 3);
        len += 2;
    }
    char *e = strchr(buf, 'e');
    if (e) {
        char *start = e + 1, *digits = e + 2;
        if (*start == '-')
            start++;
        while (*digits == '0')
            digits++;
        if (digits != start) {
            memmove(start, digits, len + 1 - (size_t)(digits - buf));
            len -= (size_t)(digits - start);
        }
    }
    return put(w, buf, len);
}

static int put_value(struct jw *w, const json_t *v, int depth)
{
    if (depth > JW_MAX_DEPTH) {
        w->status = JSON_WRITE_INVALID;
        return -1;
    }
    switch (json_typeof(v)) {
    case JSON_NULL: return put(w, "null", 4);
    case JSON_TRUE: return put(w, "true", 4);
    case JSON_FALSE: return put(w, "false", 5);
    case JSON_INTEGER: return put_integer(w, json_integer_value(v));
    case JSON_REAL: return put_real(w, json_real_value(v));
    case JSON_STRING: return put_string(w, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (put(w, "[", 1) < 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            if ((i && put(w, ",", 1) < 0) || put_value(w, json_array_get(v, i), depth + 1) < 0)
                return -1;
        return put(w, "]", 1);
    }
    case JSON_OBJECT: {
        if (put(w, "{", 1) < 0)
            return -1;
        int first = 1;
        /* jansson keeps an object's keys in the order they were set, as json_dumps does. */
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            if ((!first && put(w, ",", 1) < 0) ||
                put_string(w, json_object_iter_key(it), json_object_iter_key_len(it)) < 0 ||
                put(w, ":", 1) < 0 || put_value(w, json_object_iter_value(it), depth + 1) < 0)
                return -1;
            first = 0;
        }
        return put(w, "}", 1);
    }
    }
    w->status = JSON_WRITE_INVALID;
    return -1;
}

/* ---- piece by piece ----------------------------------------------------------------- */

void json_writer_init(struct json_writer *wr, struct strbuf *sb, size_t max, int precision)
{
    assert(precision >= 0 && precision <= 31);
    memset(wr, 0, sizeof *wr);
    wr->sb = sb;
    wr->start = sb->len;
    wr->limit = max > SIZE_MAX - sb->len ? SIZE_MAX : sb->len + max;
    wr->precision = precision;
    wr->status = sb->failed ? JSON_WRITE_NO_MEMORY : JSON_WRITE_OK;
    wr->first[0] = 1;
}

void json_writer_reset(struct json_writer *wr)
{
    struct strbuf *sb = wr->sb;
    sb->len = wr->start;
    if (sb->buf)
        sb->buf[sb->len] = '\0';
    size_t max = wr->limit - wr->start;
    json_writer_init(wr, sb, max, wr->precision);
}

/* The writer's state as the encoder's; the encoder's failure back into the writer. */
static struct jw jw_of(struct json_writer *wr)
{
    struct jw w = {wr->sb, wr->limit, wr->precision, JSON_WRITE_OK};
    return w;
}

/* The comma before a value or key, when one is due. 0, or -1 when the writer has failed. */
static int before_value(struct json_writer *wr, struct jw *w)
{
    if (wr->status != JSON_WRITE_OK)
        return -1;
    if (wr->after_key) {
        wr->after_key = 0;
        return 0;
    }
    if (!wr->first[wr->depth] && put(w, ",", 1) < 0) {
        wr->status = w->status;
        return -1;
    }
    wr->first[wr->depth] = 0;
    return 0;
}

void json_writer_open(struct json_writer *wr, char bracket)
{
    assert(bracket == '{' || bracket == '[');
    struct jw w = jw_of(wr);
    if (before_value(wr, &w) < 0)
        return;
    if (wr->depth + 1 >= JSON_WRITER_MAX_DEPTH) {
        wr->status = JSON_WRITE_INVALID;
        return;
    }
    if (put(&w, &bracket, 1) < 0) {
        wr->status = w.status;
        return;
    }
    wr->first[++wr->depth] = 1;
}

void json_writer_close(struct json_writer *wr, char bracket)
{
    assert(bracket == '}' || bracket == ']');
    if (wr->status != JSON_WRITE_OK)
        return;
    assert(wr->depth > 0 && !wr->after_key);
    struct jw w = jw_of(wr);
    if (put(&w, &bracket, 1) < 0)
        wr->status = w.status;
    wr->depth--;
}

void json_writer_key(struct json_writer *wr, const char *key)
{
    struct jw w = jw_of(wr);
    size_t len = strlen(key);
    if (wr->status == JSON_WRITE_OK && !wr->after_key && plain_run(key, len) == len) {
        /* The comma, the key and the colon at once. */
        int comma = !wr->first[wr->depth];
        if (put_quoted_plain(&w, ",", (size_t)comma, key, len, ":", 1) < 0) {
            wr->status = w.status;
            return;
        }
        wr->first[wr->depth] = 0;
        wr->after_key = 1;
        return;
    }
    if (before_value(wr, &w) < 0)
        return;
    if (put_string(&w, key, strlen(key)) < 0 || put(&w, ":", 1) < 0) {
        wr->status = w.status;
        return;
    }
    wr->after_key = 1;
}

void json_writer_string(struct json_writer *wr, const char *s, size_t len)
{
    struct jw w = jw_of(wr);
    if (before_value(wr, &w) < 0)
        return;
    if (!s)
        wr->status = JSON_WRITE_INVALID;
    else if (put_string(&w, s, len) < 0)
        wr->status = w.status;
}

void json_writer_integer(struct json_writer *wr, json_int_t v)
{
    struct jw w = jw_of(wr);
    if (before_value(wr, &w) == 0 && put_integer(&w, v) < 0)
        wr->status = w.status;
}

void json_writer_real(struct json_writer *wr, double v)
{
    struct jw w = jw_of(wr);
    if (before_value(wr, &w) == 0 && put_real(&w, v) < 0)
        wr->status = w.status;
}

void json_writer_bool(struct json_writer *wr, int v)
{
    struct jw w = jw_of(wr);
    if (before_value(wr, &w) == 0 && put(&w, v ? "true" : "false", v ? 4 : 5) < 0)
        wr->status = w.status;
}

void json_writer_value(struct json_writer *wr, const json_t *v)
{
    struct jw w = jw_of(wr);
    if (before_value(wr, &w) < 0)
        return;
    if (!v)
        wr->status = JSON_WRITE_NO_MEMORY;
    else if (put_value(&w, v, (int)wr->depth) < 0)
        wr->status = w.status;
}

int json_writer_end(struct json_writer *wr)
{
    struct jw w = jw_of(wr);
    if (wr->status == JSON_WRITE_OK && room(&w, 0) < 0)
        wr->status = w.status;
    if (wr->status == JSON_WRITE_OK) {
        assert(wr->depth == 0);
        if (wr->sb->buf)
            wr->sb->buf[wr->sb->len] = '\0';
        return JSON_WRITE_OK;
    }
    wr->sb->len = wr->start;
    if (wr->sb->buf)
        wr->sb->buf[wr->start] = '\0';
    return wr->status;
}

/* ---- a whole tree ------------------------------------------------------------------- */

int json_write(const json_t *v, struct strbuf *sb, size_t max, int precision)
{
    assert(v && sb && precision >= 0 && precision <= 31);
    if (sb->failed)
        return JSON_WRITE_NO_MEMORY;
    size_t start = sb->len;
    struct jw w = {sb, max > SIZE_MAX - start ? SIZE_MAX : start + max, precision,
                   JSON_WRITE_OK};
    if (json_typeof(v) != JSON_OBJECT && json_typeof(v) != JSON_ARRAY) {
        w.status = JSON_WRITE_INVALID; /* as json_dumps without JSON_ENCODE_ANY */
    } else if (put_value(&w, v, 0) == 0 && room(&w, 0) == 0) {
        sb->buf[sb->len] = '\0';
        return JSON_WRITE_OK;
    }
    /* Nothing half-written stays behind. */
    sb->len = start;
    if (sb->buf)
        sb->buf[start] = '\0';
    return w.status;
}
