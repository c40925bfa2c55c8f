/*
 * article_utf8.c -- making any bytes valid UTF-8 (article_utf8_clean, see article.h).
 *
 * Every reader cleans its input before parsing it, so gumbo, jansson, Xapian and the
 * daemon's JSON output only ever see valid UTF-8. Text in another charset is converted
 * first (article_charset.c); what is still invalid after that is replaced here.
 */
#include "article_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
