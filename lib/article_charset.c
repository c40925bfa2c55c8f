/*
 * article_charset.c -- text that is not UTF-8, converted to UTF-8 before it is parsed.
 *
 * Text that is valid UTF-8 is never touched, whatever it declares (a page saying
 * iso-8859-1 that is valid UTF-8 is pure ASCII or mis-declared), so converting twice
 * cannot garble anything; nor is text that is mostly UTF-8 with a few bad bytes (those
 * become U+FFFD, article_utf8_clean). Otherwise the text is read in the charset an HTML page declares
 * (<meta charset="...">, <meta http-equiv="Content-Type" content="...; charset=...">, an
 * XML declaration's encoding="..."), else in Windows-1252: a superset of Latin-1's
 * printable characters and by far the most common non-UTF-8 text on disk. glibc's iconv
 * does the work; a byte it cannot convert becomes U+FFFD.
 */
#include "article.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DECL_WINDOW 2048 /* a declaration is looked for in the first bytes only */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Position of word (lower case) in s[0..n), case-insensitively, or NULL. */
static const char *find_ci(const char *s, size_t n, const char *word)
{
    size_t wl = strlen(word);
    for (size_t i = 0; i + wl <= n; i++) {
        size_t k = 0;
        while (k < wl && lower((unsigned char)s[i + k]) == word[k])
            k++;
        if (k == wl)
            return s + i;
    }
    return NULL;
}

/* The charset name after key ("charset", "encoding") at p: skips spaces, '=' and a quote,
 * then copies [A-Za-z0-9._:-]+ into out. Returns 1 when a name was found. */
static int name_after(const char *p, const char *end, size_t keylen, char *out, size_t outlen)
{
    p += keylen;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end || *p != '=')
        return 0;
    p++;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '"' || *p == '\''))
        p++;
    size_t n = 0;
    while (p + n < end && n + 1 < outlen &&
           ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
            (p[n] >= '0' && p[n] <= '9') || strchr("._:-", p[n]) != NULL)) {
        out[n] = p[n];
        n++;
    }
    out[n] = '\0';
    return n > 0;
}

/* The charset an HTML or XML document declares near its start, into out ("" when none). */
static void declared_charset(const char *buf, size_t len, char *out, size_t outlen)
{
    size_t n = len < DECL_WINDOW ? len : DECL_WINDOW;
    const char *end = buf + n, *p;
    out[0] = '\0';
    if ((p = find_ci(buf, n, "charset")) != NULL && name_after(p, end, 7, out, outlen))
        return;
    if ((p = find_ci(buf, n, "<?xml")) != NULL &&
        (p = find_ci(p, (size_t)(end - p), "encoding")) != NULL)
        name_after(p, end, 8, out, outlen);
}

/* Counts the valid multi-byte UTF-8 characters and the bytes that are not UTF-8. */
static void utf8_census(const unsigned char *s, size_t n, size_t *valid, size_t *invalid)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t need = c < 0x80 ? 0 : c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2
                                   : c >= 0xF0 && c <= 0xF4 ? 3 : 9;
        if (need == 0) {
            i++;
            continue;
        }
        size_t k = 1;
        while (need != 9 && k <= need && i + k < n && (s[i + k] & 0xC0) == 0x80)
            k++;
        if (need != 9 && k == need + 1) {
            (*valid)++;
            i += k;
        } else {
            (*invalid)++;
            i++;
        }
    }
}

/* Converts with cd; bytes it cannot convert become U+FFFD. Returns the new string or NULL. */
static char *convert(iconv_t cd, const char *buf, size_t len, size_t *outlen)
{
    /* At most 3 bytes of UTF-8 per input byte (U+FFFD included), plus the NUL. */
    size_t cap = len * 3 + 4;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    char *in = (char *)buf, *o = out;
    size_t inleft = len, oleft = cap - 1;
    while (inleft > 0) {
        if (iconv(cd, &in, &inleft, &o, &oleft) != (size_t)-1)
            break;
        if ((errno == EILSEQ || errno == EINVAL) && oleft >= 3) {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            oleft -= 3;
            in++;
            inleft--;
            iconv(cd, NULL, NULL, NULL, NULL);
            continue;
        }
        free(out);
        return NULL;
    }
    *o = '\0';
    *outlen = (size_t)(o - out);
    return out;
}

int article_recode(const char *buf, size_t len, int html, char **out, size_t *outlen,
                   char *from, size_t fromlen)
{
    *out = NULL;
    if (from && fromlen)
        from[0] = '\0';
    size_t valid = 0, invalid = 0;
    utf8_census((const unsigned char *)buf, len, &valid, &invalid);
    if (invalid == 0)
        return 0;
    char cs[64] = "";
    if (html)
        declared_charset(buf, len, cs, sizeof cs);
    int declared = cs[0] && strcasecmp(cs, "utf-8") != 0 && strcasecmp(cs, "utf8") != 0;
    /* Undeclared text that is mostly UTF-8 (as many valid multi-byte characters as bad
     * bytes) is damaged UTF-8, not Latin-1: the UTF-8 cleaner replaces the bad bytes. */
    if (!declared && valid >= invalid)
        return 0;
    iconv_t cd = (iconv_t)-1;
    if (declared)
        cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1) {
        snprintf(cs, sizeof cs, "windows-1252");
        cd = iconv_open("UTF-8", "WINDOWS-1252");
        if (cd == (iconv_t)-1)
            return 0; /* no converter: the UTF-8 cleaner replaces what is invalid */
    }
    *out = convert(cd, buf, len, outlen);
    iconv_close(cd);
    if (!*out)
        return -1;
    if (from && fromlen)
        snprintf(from, fromlen, "%s", cs);
    return 1;
}
