/*
 * snippet.c -- best-passage extraction (see snippet.h for the approach and its bounds).
 *
 * Words are runs of ASCII letters/digits and non-ASCII bytes, except the general
 * punctuation block (U+2000..U+206F: curly quotes, dashes) and no-break space, so "Meta’s"
 * splits like "Meta's". Case folding is ASCII only, which is what the English stemmer
 * needs; other scripts compare byte for byte after Xapian's own lower-casing at index
 * time, which for caseless scripts (Devanagari, CJK) is the identity.
 */
#include "snippet.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define TERM_MAX 64
#define MAX_MATCHES 4096

struct snippet_term {
    char text[TERM_MAX];
    size_t len;
    int stemmed; /* match the word's stem rather than the word */
    int group;   /* terms for the same word ("muse" and "Zmuse") share a group */
};

struct snippet_terms {
    xc_stem *stem;
    struct snippet_term terms[SNIPPET_MAX_TERMS];
    size_t n;
    int ngroups;
    /* First bytes a matching word can start with: the scan skips every other word without
     * looking at it (most words of a long article). */
    unsigned char first[256];
};

/* ASCII letters and digits, by table: the scan asks this of every byte of the text. */
static const unsigned char alnum_table[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,
    ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1,
    ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1};
#define ascii_alnum(c) (alnum_table[(unsigned char)(c)])

struct snippet_terms *snippet_terms_new(xc_stem *stem)
{
    struct snippet_terms *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->stem = stem;
    /* Accented Latin letters fold to ASCII, so a word starting with one may match. */
    for (int b = 0xC3; b <= 0xC5; b++)
        t->first[b] = 1;
    return t;
}

void snippet_terms_free(struct snippet_terms *t)
{
    free(t);
}

size_t snippet_terms_count(const struct snippet_terms *t)
{
    return t->n;
}

int snippet_terms_add(struct snippet_terms *t, const char *term, size_t len)
{
    int stemmed = 0;
    if (len > 0 && term[0] == 'Z') {
        stemmed = 1;
        term++;
        len--;
    }
    /* Only free-text terms: unprefixed, or the title prefix "S". Other upper-case
     * prefixes are filters. */
    if (len > 0 && term[0] == 'S') {
        term++;
        len--;
    }
    if (len == 0 || len >= TERM_MAX || (term[0] >= 'A' && term[0] <= 'Z'))
        return 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->terms[i].len == len && t->terms[i].stemmed == stemmed &&
            memcmp(t->terms[i].text, term, len) == 0)
            return 0;
    }
    if (t->n >= SNIPPET_MAX_TERMS)
        return 0;
    struct snippet_term *st = &t->terms[t->n];
    memcpy(st->text, term, len);
    st->text[len] = '\0';
    st->len = len;
    st->stemmed = stemmed;
    /* Group with an earlier term for the same word: compare stems. */
    char mine[TERM_MAX], other[TERM_MAX];
    long ml = stemmed ? (long)len : xc_stem_word(t->stem, term, len, mine, sizeof mine);
    if (ml < 0)
        return -1;
    if (stemmed)
        memcpy(mine, term, len + 1);
    st->group = -1;
    for (size_t i = 0; i < t->n && st->group < 0; i++) {
        const struct snippet_term *o = &t->terms[i];
        long ol =
            o->stemmed ? (long)o->len : xc_stem_word(t->stem, o->text, o->len, other, sizeof other);
        if (ol < 0)
            return -1;
        if (o->stemmed)
            memcpy(other, o->text, o->len + 1);
        if (ol == ml && memcmp(other, mine, (size_t)ml) == 0)
            st->group = o->group;
    }
    if (st->group < 0)
        st->group = t->ngroups++;
    unsigned char c = (unsigned char)term[0];
    if (c < 0x80) {
        t->first[c] = 1;
        if (c >= 'a' && c <= 'z')
            t->first[c - 32] = 1;
    } else {
        /* Non-ASCII words (and accented ones, which fold to ASCII) are always looked at. */
        for (int b = 0xC0; b < 0x100; b++)
            t->first[b] = 1;
    }
    t->n++;
    return 0;
}

/* Length of the word character at p (0 when p does not start a word character). */
static size_t word_char(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = *p;
    if (c < 0x80) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            return 1;
        return 0;
    }
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if ((size_t)(end - p) < n)
        return 0;
    if (c == 0xE2 && p[1] >= 0x80 && p[1] <= 0x81) /* U+2000..U+207F punctuation */
        return 0;
    if (c == 0xC2 && (p[1] == 0xA0 || p[1] == 0xAB || p[1] == 0xBB)) /* nbsp, guillemets */
        return 0;
    if (c == 0xE3 && p[1] == 0x80 && p[2] <= 0x82) /* ideographic space, comma, stop */
        return 0;
    return n;
}

/* Which term (index) the word matches, -1 when none, or -2 when out of memory. */
static int match_word(const struct snippet_terms *t, const char *word, size_t len)
{
    char lower[TERM_MAX], stemmed[TERM_MAX];
    if (len >= TERM_MAX)
        return -1;
    /* Terms were indexed with accents folded: compare the folded word. */
    size_t flen;
    char *folded;
    int fr = util_fold_latin(word, len, &folded, &flen);
    if (fr < 0)
        return -2;
    if (fr > 0) {
        int r = flen < TERM_MAX ? match_word(t, folded, flen) : -1;
        free(folded);
        return r;
    }
    for (size_t i = 0; i < len; i++) {
        char c = word[i];
        lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    lower[len] = '\0';
    long slen = 0;
    int have_stem = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct snippet_term *st = &t->terms[i];
        if (!st->stemmed) {
            if (st->len == len && memcmp(st->text, lower, len) == 0)
                return (int)i;
            continue;
        }
        /* A stem shares its first bytes with the word in practice; only then pay for
         * stemming the word. */
        size_t k = st->len < 2 ? st->len : 2;
        if (len < k || memcmp(st->text, lower, k) != 0)
            continue;
        if (!have_stem) {
            slen = xc_stem_word(t->stem, lower, len, stemmed, sizeof stemmed);
            if (slen < 0)
                return -2;
            have_stem = 1;
        }
        if ((size_t)slen == st->len && memcmp(stemmed, st->text, st->len) == 0)
            return (int)i;
    }
    return -1;
}

struct match {
    size_t start, end; /* byte range of the word */
    int term;
};

/* Appends text HTML-escaped, folding whitespace runs to one space. */
static void put_escaped(struct strbuf *sb, const char *s, size_t len, int *last_space)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            if (!*last_space)
                sb_putc(sb, ' ');
            *last_space = 1;
            continue;
        }
        *last_space = 0;
        switch (c) {
        case '&': sb_puts(sb, "&amp;"); break;
        case '<': sb_puts(sb, "&lt;"); break;
        case '>': sb_puts(sb, "&gt;"); break;
        case '"': sb_puts(sb, "&quot;"); break;
        case '\'': sb_puts(sb, "&#39;"); break;
        default: sb_putc(sb, c);
        }
    }
}

/* Moves pos back to the start of the word it is in (or forward past a partial UTF-8). */
static size_t word_start(const char *text, size_t pos)
{
    while (pos > 0 && ((unsigned char)text[pos] & 0xC0) == 0x80)
        pos--;
    size_t p = pos;
    while (p > 0 && pos - p < 40) {
        unsigned char c = (unsigned char)text[p - 1];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
            return p;
        p--;
    }
    return p == 0 ? 0 : pos;
}

/* Moves pos forward to the end of the word it is in. */
static size_t word_end(const char *text, size_t len, size_t pos)
{
    size_t limit = pos + 40 < len ? pos + 40 : len;
    while (pos < limit) {
        unsigned char c = (unsigned char)text[pos];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
            return pos;
        pos++;
    }
    while (pos < len && ((unsigned char)text[pos] & 0xC0) == 0x80)
        pos++;
    return pos;
}

char *snippet_make(const struct snippet_terms *t, const char *text, size_t len, size_t target,
                   const char *open, const char *close)
{
    if (target == 0)
        target = SNIPPET_DEFAULT_BYTES;
    size_t scan = len < SNIPPET_SCAN_BYTES ? len : SNIPPET_SCAN_BYTES;
    struct match *m = malloc(MAX_MATCHES * sizeof *m);
    if (!m)
        return NULL;
    size_t nm = 0;
    const unsigned char *p = (const unsigned char *)text, *end = p + scan;
    while (p < end && nm < MAX_MATCHES && t->n > 0) {
        size_t n;
        if (ascii_alnum(*p)) {
            n = 1;
        } else if (*p < 0x80 || (n = word_char(p, end)) == 0) {
            p++;
            continue;
        }
        const unsigned char *w = p;
        p += n;
        while (p < end) {
            if (ascii_alnum(*p))
                p++;
            else if (*p >= 0x80 && (n = word_char(p, end)) > 0)
                p += n;
            else
                break;
        }
        if (!t->first[*w])
            continue;
        int term = match_word(t, (const char *)w, (size_t)(p - w));
        if (term == -2) {
            free(m);
            return NULL;
        }
        if (term < 0)
            continue;
        m[nm].start = (size_t)(w - (const unsigned char *)text);
        m[nm].end = (size_t)(p - (const unsigned char *)text);
        m[nm].term = t->terms[term].group;
        nm++;
        /* A window already holding every query word cannot be beaten: stop scanning. */
        unsigned long long seen = 0;
        int distinct = 0;
        for (size_t j = nm; j-- > 0 && m[nm - 1].end - m[j].start <= target;) {
            unsigned long long bit = 1ULL << (m[j].term & 63);
            if (!(seen & bit)) {
                seen |= bit;
                distinct++;
            }
        }
        if (distinct >= t->ngroups)
            break;
    }

    /* Best window: the most distinct terms, then the most matches, earliest first. */
    size_t best_i = 0, best_j = 0;
    int best_score = -1;
    for (size_t i = 0; i < nm; i++) {
        unsigned long long seen = 0;
        int distinct = 0, count = 0;
        size_t j = i;
        while (j < nm && m[j].end - m[i].start <= target) {
            unsigned long long bit = 1ULL << (m[j].term & 63);
            if (!(seen & bit)) {
                seen |= bit;
                distinct++;
            }
            count++;
            j++;
        }
        int score = distinct * 1000 + count;
        if (score > best_score) {
            best_score = score;
            best_i = i;
            best_j = j;
        }
    }

    size_t from, to;
    if (nm == 0) {
        from = 0;
        to = len < target ? len : word_end(text, len, target);
    } else {
        /* Centre the matched span in the window, with some context before it. */
        size_t span = m[best_j - 1].end - m[best_i].start;
        size_t before = span < target ? (target - span) / 3 : 0;
        from = m[best_i].start > before ? word_start(text, m[best_i].start - before) : 0;
        to = from + target < len ? word_end(text, len, from + target) : len;
        if (to < m[best_j - 1].end)
            to = m[best_j - 1].end;
    }

    struct strbuf sb;
    sb_init(&sb);
    int last_space = 1;
    if (from > 0)
        sb_puts(&sb, "… ");
    size_t pos = from;
    for (size_t k = 0; k < nm; k++) {
        if (m[k].start < from || m[k].end > to)
            continue;
        put_escaped(&sb, text + pos, m[k].start - pos, &last_space);
        sb_puts(&sb, open);
        put_escaped(&sb, text + m[k].start, m[k].end - m[k].start, &last_space);
        sb_puts(&sb, close);
        pos = m[k].end;
    }
    put_escaped(&sb, text + pos, to - pos, &last_space);
    if (to < len)
        sb_puts(&sb, " …");
    free(m);
    if (sb.failed) {
        sb_free(&sb);
        return NULL;
    }
    if (!sb.buf)
        sb_puts(&sb, "");
    /* Trim the trailing space that whitespace folding may leave. */
    while (sb.len > 0 && sb.buf[sb.len - 1] == ' ')
        sb.buf[--sb.len] = '\0';
    char *out = sb.buf;
    if (!out)
        out = calloc(1, 1);
    return out;
}
