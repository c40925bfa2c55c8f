/*
 * querytext.c -- what a user's query text means, made explicit before Xapian's parser
 * reads it (see querytext.h).
 *
 * Two things the parser does that people do not expect:
 *
 * Case. Under the STEM_SOME strategy the parser leaves a capitalised word unstemmed ("a
 * proper name"), so `Elections` matched only the exact word while `elections` matched
 * every form of it: some 50 articles against 200 on bbc-news. People type capitals, and
 * queries pasted from titles are capitalised. The index holds the stems of every word,
 * capitalised or not (the TermGenerator stems the lower-cased word), so lower-casing the
 * query's words makes both forms search the same terms. What is lower-cased: the words
 * outside double quotes (inside them a phrase searches exact words, which Xapian
 * lower-cases anyway), including title: searches; what is kept: the operators AND, OR,
 * NOT, XOR, NEAR, ADJ (the parser only knows them in capitals), and the value of every
 * other field (source:, category:, id:, ...): those are filters and ids, matched as their
 * own module says, and an id's case is part of it. Lower-casing uses Xapian's Unicode
 * tables, so it is the same for every script as at indexing.
 *
 * Pure negation. With FLAG_PURE_NOT the parser reads `NOT blair` as "every article
 * without blair", but `-blair` alone as `blair` (a hate term with nothing to subtract it
 * from). A query whose every item is excluded (`-blair`, `-blair -"gordon brown"`) is
 * therefore rewritten into the NOT form (`NOT blair NOT "gordon brown"`), which the
 * parser turns into <all articles> AND_NOT ....
 */
#include "querytext.h"

#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xapian-c/xc.h"

/* The parser's operators: kept in capitals. NEAR and ADJ may carry a window, NEAR/3. */
static int is_operator(const char *t, size_t n)
{
    static const char *const ops[] = {"AND", "OR", "NOT", "XOR"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (n == strlen(ops[i]) && memcmp(t, ops[i], n) == 0)
            return 1;
    }
    static const char *const windowed[] = {"NEAR", "ADJ"};
    for (size_t i = 0; i < sizeof windowed / sizeof windowed[0]; i++) {
        size_t k = strlen(windowed[i]);
        if (n < k || memcmp(t, windowed[i], k) != 0)
            continue;
        if (n == k)
            return 1;
        if (t[k] != '/' || n == k + 1)
            continue;
        size_t j = k + 1;
        while (j < n && t[j] >= '0' && t[j] <= '9')
            j++;
        if (j == n)
            return 1;
    }
    return 0;
}

/* Length of a field name ending in ':' at the start of t[0..n) (after an optional + or -
 * sign), or 0. Field names are ASCII letters. */
static size_t field_prefix(const char *t, size_t n, size_t *sign)
{
    *sign = n > 0 && (t[0] == '+' || t[0] == '-');
    size_t i = *sign;
    while (i < n && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z')))
        i++;
    return i > *sign && i < n && t[i] == ':' ? i + 1 - *sign : 0;
}

/* Appends token t[0..n) (no space, quote or parenthesis in it) as its case rules say. */
static int put_token(struct strbuf *sb, const char *t, size_t n)
{
    if (is_operator(t, n)) {
        sb_append(sb, t, n);
        return 0;
    }
    size_t sign, field = field_prefix(t, n, &sign);
    if (field > 0) {
        /* The field name lower-cased (Title: is title:); the value kept unless the field
         * is title (free text). */
        char name[64];
        size_t fl = field - 1 < sizeof name - 1 ? field - 1 : sizeof name - 1;
        for (size_t i = 0; i < fl; i++) {
            char c = t[sign + i];
            name[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        }
        name[fl] = '\0';
        if (strcmp(name, "title") != 0) {
            sb_append(sb, t, sign);
            sb_append(sb, name, fl);
            sb_append(sb, t + sign + field - 1, n - sign - field + 1);
            return 0;
        }
    }
    size_t len = 0;
    char *low = xc_utf8_lower(t, n, &len, NULL);
    if (!low)
        return -1;
    sb_append(sb, low, len);
    free(low);
    return 0;
}

/* Lower-cases q's words outside quotes as the file comment says. */
static int lower_words(const char *q, struct strbuf *sb)
{
    size_t i = 0, n = strlen(q);
    while (i < n) {
        char c = q[i];
        if (c == '"') {
            /* A phrase, copied to its closing quote (or the end: Xapian closes it). */
            const char *end = memchr(q + i + 1, '"', n - i - 1);
            size_t stop = end ? (size_t)(end - q) + 1 : n;
            sb_append(sb, q + i, stop - i);
            i = stop;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')') {
            sb_putc(sb, c);
            i++;
        } else {
            size_t j = i;
            while (j < n && !strchr(" \t\n\r()\"", q[j]))
                j++;
            if (put_token(sb, q + i, j - i) < 0)
                return -1;
            i = j;
        }
    }
    return sb->failed ? -1 : 0;
}

/* Splits q into its top-level items (separated by white space outside quotes and
 * parentheses) and calls cb for each; stops when cb returns non-zero, returning that. */
static int for_each_item(const char *q, int (*cb)(const char *item, size_t n, void *ctx),
                         void *ctx)
{
    size_t i = 0, n = strlen(q);
    while (i < n) {
        while (i < n && strchr(" \t\n\r", q[i]))
            i++;
        if (i == n)
            break;
        size_t j = i;
        int depth = 0, quoted = 0;
        while (j < n && (quoted || depth > 0 || !strchr(" \t\n\r", q[j]))) {
            if (q[j] == '"')
                quoted = !quoted;
            else if (!quoted && q[j] == '(')
                depth++;
            else if (!quoted && q[j] == ')' && depth > 0)
                depth--;
            j++;
        }
        int rc = cb(q + i, j - i, ctx);
        if (rc)
            return rc;
        i = j;
    }
    return 0;
}

/* Non-zero for an item that is not an exclusion ("-x" with something after the sign). */
static int not_excluded(const char *item, size_t n, void *ctx)
{
    (void)ctx;
    return !(n > 1 && item[0] == '-' && item[1] != '-' && item[1] != ' ');
}

/* Appends "NOT x" for the item "-x". */
static int as_not(const char *item, size_t n, void *ctx)
{
    struct strbuf *sb = ctx;
    assert(n > 1 && item[0] == '-');
    if (sb->len > 0)
        sb_putc(sb, ' ');
    sb_puts(sb, "NOT ");
    sb_append(sb, item + 1, n - 1);
    return 0;
}

struct content {
    int (*is_stop)(const char *, size_t);
    int after_not; /* the item before was the operator NOT */
};

/* Non-zero for an item that is a content word (querytext_has_content_word). */
static int content_item(const char *item, size_t n, void *ctx)
{
    struct content *c = ctx;
    int after_not = c->after_not;
    c->after_not = n == 3 && memcmp(item, "NOT", 3) == 0;
    if (after_not || is_operator(item, n) || (n > 1 && item[0] == '-' && item[1] != '-'))
        return 0;
    if (item[0] == '+') {
        item++;
        n--;
    }
    if (n > 0 && (item[0] == '"' || item[0] == '('))
        return 1; /* a phrase keeps its stop words; a group is taken as it comes */
    size_t sign, field = field_prefix(item, n, &sign);
    if (field > 0) {
        if (field - 1 != 5 || memcmp(item + sign, "title", 5) != 0)
            return 0; /* a filter, not a word */
        item += sign + field;
        n -= sign + field;
    }
    /* The word without the punctuation around it, as the parser reads it. */
    while (n > 0 && (unsigned char)item[0] < 0x80 && !isalnum((unsigned char)item[0])) {
        item++;
        n--;
    }
    while (n > 0 && (unsigned char)item[n - 1] < 0x80 && !isalnum((unsigned char)item[n - 1]))
        n--;
    return n > 0 && !c->is_stop(item, n);
}

int querytext_has_content_word(const char *q, int (*is_stop)(const char *word, size_t len))
{
    struct content c = {is_stop, 0};
    return for_each_item(q, content_item, &c) != 0;
}

int querytext_normalise(const char *q, char **out)
{
    *out = NULL;
    struct strbuf low;
    sb_init(&low);
    if (lower_words(q, &low) < 0) {
        sb_free(&low);
        return -1;
    }
    const char *lq = sb_cstr(&low);
    int any = 0;
    for (const char *p = lq; *p && !any; p++)
        any = !strchr(" \t\n\r", *p);
    if (any && for_each_item(lq, not_excluded, NULL) == 0) {
        struct strbuf neg;
        sb_init(&neg);
        for_each_item(lq, as_not, &neg);
        sb_free(&low);
        if (neg.failed) {
            sb_free(&neg);
            return -1;
        }
        low = neg;
        lq = sb_cstr(&low);
    }
    *out = strdup(lq);
    sb_free(&low);
    return *out ? 0 : -1;
}
