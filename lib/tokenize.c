/*
 * tokenize.c -- TermGenerator's word rules with byte offsets (see tokenize.h).
 *
 * tokenize_text() is a line-by-line port of Xapian 1.4's parse_terms() (with FLAG_CJK_NGRAM,
 * as the indexer uses it), quirks included -- a term cut by CJK text resumes after it, an
 * acronym's check is skipped right after CJK text -- because the point of this module is to
 * yield exactly the indexed terms. It reads characters through a cursor that applies the
 * schema's accent folding, one source character at a time: "é" reads as "e", "ß" as "s"
 * then "s" (both with the bytes of "ß"), a combining accent not at all. That is what
 * TermGenerator sees after util_fold_latin() has rewritten the whole text.
 *
 * ASCII is classified by table; other code points by Xapian's Unicode tables through the
 * binding (xc_unicode_class), so the two can never disagree on a character.
 */
#include "tokenize.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xapian-c/xc.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define END_CH 0xFFFFFFFFu
#define IGNORE_CH 0xFFFFFFFEu

/* ASCII classes: 1 word character, 2 digit, 4 upper-case letter; and what
 * check_wordchar makes of each (0 for a non-word character). */
static unsigned char ascii_class[128];
static unsigned char ascii_word[128];
/* Every byte's part in a plain ASCII word (ascii_run): */
enum {
    BYTE_WORD = 1,      /* an ASCII word character */
    BYTE_NONASCII = 2,  /* a byte of a non-ASCII character: the general rules read it */
    BYTE_JOINS = 4,     /* may join a word to more: an infix ' or &, a suffix + or # */
    BYTE_DIGIT_JOIN = 8 /* joins digits: , . ; ("3.5", "1,000") */
};
static unsigned char byte_kind[256];
static int ascii_ready;

static void ascii_init(void)
{
    for (unsigned c = 0; c < 128; c++) {
        unsigned k = 0;
        if ((c >= 'a' && c <= 'z') || c == '_')
            k = 1;
        else if (c >= 'A' && c <= 'Z')
            k = 1 | 4;
        else if (c >= '0' && c <= '9')
            k = 1 | 2;
        ascii_class[c] = (unsigned char)k;
        ascii_word[c] = (unsigned char)((k & 1) ? ((k & 4) ? c + 32 : c) : 0);
        byte_kind[c] = (unsigned char)((k & 1)                                         ? BYTE_WORD
                                       : (c == '\'' || c == '&' || c == '+' || c == '#') ? BYTE_JOINS
                                       : (c == ',' || c == '.' || c == ';') ? BYTE_DIGIT_JOIN
                                                                           : 0);
    }
    for (unsigned c = 128; c < 256; c++)
        byte_kind[c] = BYTE_NONASCII;
    ascii_ready = 1;
}

unsigned tokenize_decode(const unsigned char *p, size_t n, size_t *clen)
{
    /* Xapian's Utf8Iterator: invalid, overlong and truncated sequences read as one byte
     * each, as if the text were ISO-8859-1. */
    unsigned char ch = p[0];
    *clen = 1;
    if (ch < 0xC2)
        return ch;
#define BAD_CONT(b) ((signed char)(b) >= (signed char)0xC0)
    if (ch < 0xE0) {
        if (n < 2 || BAD_CONT(p[1]))
            return ch;
        *clen = 2;
        return ((unsigned)(ch & 0x1F) << 6) | (p[1] & 0x3F);
    }
    if (ch < 0xF0) {
        if (n < 3 || BAD_CONT(p[1]) || BAD_CONT(p[2]) || (ch == 0xE0 && p[1] < 0xA0))
            return ch;
        *clen = 3;
        return ((unsigned)(ch & 0x0F) << 12) | ((unsigned)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    }
    if (ch >= 0xF5 || n < 4 || BAD_CONT(p[1]) || BAD_CONT(p[2]) || BAD_CONT(p[3]) ||
        (ch == 0xF0 && p[1] < 0x90) || (ch == 0xF4 && p[1] >= 0x90))
        return ch;
#undef BAD_CONT
    *clen = 4;
    return ((unsigned)(ch & 0x07) << 18) | ((unsigned)(p[1] & 0x3F) << 12) |
           ((unsigned)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

/* XC_UC_* classes of cp (END_CH: none); *lower its lower-case form. */
static unsigned char_class(unsigned cp, unsigned *lower)
{
    if (cp < 128) {
        unsigned k = ascii_class[cp];
        *lower = (k & 4) ? cp + 32 : cp;
        return ((k & 1) ? XC_UC_WORD : 0) | ((k & 2) ? XC_UC_DIGIT : 0) |
               ((cp >= 'a' && cp <= 'z') ? XC_UC_STEM : 0);
    }
    if (cp == END_CH) {
        *lower = cp;
        return 0;
    }
    return xc_unicode_class(cp, lower);
}

int tokenize_is_wordchar(unsigned cp)
{
    unsigned lower;
    if (!ascii_ready)
        ascii_init();
    return (char_class(cp, &lower) & XC_UC_WORD) != 0;
}

/* TermGenerator's check_wordchar: the lower-cased character, or 0 for a non-word one. */
static inline unsigned wordchar(unsigned cp)
{
    if (cp < 128)
        return ascii_word[cp];
    unsigned lower;
    return (char_class(cp, &lower) & XC_UC_WORD) ? lower : 0;
}

static inline int is_digit(unsigned cp)
{
    if (cp < 128)
        return cp >= '0' && cp <= '9';
    unsigned lower;
    return (char_class(cp, &lower) & XC_UC_DIGIT) != 0;
}

static inline int is_cjk(unsigned p)
{
    /* CJK::codepoint_is_cjk */
    if (p < 0x2E80)
        return 0;
    return (p <= 0x2EFF) || (p >= 0x3000 && p <= 0x9FFF) || (p >= 0xA700 && p <= 0xA71F) ||
           (p >= 0xAC00 && p <= 0xD7AF) || (p >= 0xF900 && p <= 0xFAFF) ||
           (p >= 0xFE30 && p <= 0xFE4F) || (p >= 0xFF00 && p <= 0xFFEF) ||
           (p >= 0x20000 && p <= 0x2A6DF) || (p >= 0x2F800 && p <= 0x2FA1F);
}

static unsigned check_infix(unsigned ch)
{
    if (ch == '\'' || ch == '&' || ch == 0xB7 || ch == 0x5F4 || ch == 0x2027)
        return ch;
    if (ch == 0x2019 || ch == 0x201B)
        return '\'';
    if (ch >= 0x200B && (ch <= 0x200D || ch == 0x2060 || ch == 0xFEFF))
        return IGNORE_CH;
    return 0;
}

static unsigned check_infix_digit(unsigned ch)
{
    switch (ch) {
    case ',':
    case '.':
    case ';':
    case 0x037E:
    case 0x0589:
    case 0x060D:
    case 0x07F8:
    case 0x2044:
    case 0xFE10:
    case 0xFE13:
    case 0xFE14: return ch;
    }
    if (ch >= 0x200B && (ch <= 0x200D || ch == 0x2060 || ch == 0xFEFF))
        return IGNORE_CH;
    return 0;
}

static unsigned check_suffix(unsigned ch)
{
    return (ch == '+' || ch == '#') ? ch : 0;
}

/* A cursor over the text's characters as the folded text would have them. */
struct cursor {
    const unsigned char *s;
    size_t len;
    size_t pos;      /* the current source character's first byte */
    size_t clen;     /* and its length */
    const char *exp; /* its folded replacement, or NULL */
    unsigned sub;    /* the current character's index in exp */
    unsigned ch;     /* the current character, END_CH at the end */
};

/* Reads the source character at c->pos (skipping the ones folding drops). */
static void cursor_load(struct cursor *c)
{
    for (;;) {
        c->exp = NULL;
        c->sub = 0;
        if (c->pos >= c->len) {
            c->ch = END_CH;
            c->clen = 0;
            return;
        }
        const unsigned char *p = c->s + c->pos;
        if (*p < 0x80) {
            c->clen = 1;
            c->ch = *p;
            return;
        }
        unsigned cp = tokenize_decode(p, c->len - c->pos, &c->clen);
        /* util_fold_latin folds two-byte characters led by 0xC3..0xCD only. */
        if (c->clen == 2 && *p >= 0xC3 && *p <= 0xCD) {
            const char *r = util_fold_char(cp);
            if (r && !*r) {
                c->pos += c->clen;
                continue;
            }
            if (r) {
                c->exp = r;
                c->ch = (unsigned char)r[0];
                return;
            }
        }
        c->ch = cp;
        return;
    }
}

static inline void cursor_next(struct cursor *c)
{
    if (c->exp) {
        if (c->exp[c->sub + 1]) {
            c->sub++;
            c->ch = (unsigned char)c->exp[c->sub];
            return;
        }
    } else {
        /* ASCII, most of most texts: no decoding, no folding. */
        size_t next = c->pos + c->clen;
        if (next < c->len && c->s[next] < 0x80) {
            c->pos = next;
            c->clen = 1;
            c->ch = c->s[next];
            return;
        }
    }
    c->pos += c->clen;
    cursor_load(c);
}

/* The term being built: its bytes (at most TOKENIZE_MAX_TERM kept), its true length. */
struct termbuf {
    char b[TOKENIZE_MAX_TERM + 8];
    size_t len;
};

static inline void term_append(struct termbuf *t, unsigned ch)
{
    if (ch < 0x80 && t->len < sizeof t->b) {
        t->b[t->len++] = (char)ch;
        return;
    }
    char u[4];
    size_t n;
    if (ch < 0x80) {
        u[0] = (char)ch;
        n = 1;
    } else if (ch < 0x800) {
        u[0] = (char)(0xC0 | (ch >> 6));
        u[1] = (char)(0x80 | (ch & 0x3F));
        n = 2;
    } else if (ch < 0x10000) {
        u[0] = (char)(0xE0 | (ch >> 12));
        u[1] = (char)(0x80 | ((ch >> 6) & 0x3F));
        u[2] = (char)(0x80 | (ch & 0x3F));
        n = 3;
    } else if (ch < 0x200000) {
        u[0] = (char)(0xF0 | (ch >> 18));
        u[1] = (char)(0x80 | ((ch >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((ch >> 6) & 0x3F));
        u[3] = (char)(0x80 | (ch & 0x3F));
        n = 4;
    } else {
        return; /* Xapian's append_utf8 writes nothing past U+1FFFFF */
    }
    for (size_t i = 0; i < n; i++) {
        if (t->len < sizeof t->b)
            t->b[t->len] = u[i];
        t->len++;
    }
}

/* Hands a finished term to cb (unless it is too long to be indexed). */
static int emit(const struct termbuf *t, size_t start, size_t end, int positional, int cjk,
                size_t resume, int (*cb)(const struct tokenize_token *, void *), void *ctx)
{
    if (t->len == 0 || t->len > TOKENIZE_MAX_TERM)
        return 0;
    struct tokenize_token tok;
    memcpy(tok.term, t->b, t->len);
    tok.term[t->len] = '\0';
    tok.len = t->len;
    tok.start = start;
    tok.end = end;
    tok.positional = positional;
    tok.cjk = cjk;
    tok.resume = resume;
    unsigned char b0 = (unsigned char)tok.term[0];
    if (b0 < 0x80) {
        tok.stemmable = b0 >= 'a' && b0 <= 'z';
    } else {
        size_t clen;
        unsigned first = tokenize_decode((const unsigned char *)tok.term, tok.len, &clen), lower;
        tok.stemmable = (char_class(first, &lower) & XC_UC_STEM) != 0;
    }
    return cb(&tok, ctx);
}

/* The plain ASCII word text[start, end) (letters, digits, '_'), lower-cased, to cb; resume
 * is where it ends. A word too long to be indexed is not reported (as by emit). */
static int emit_ascii(const unsigned char *text, size_t start, size_t end,
                      int (*cb)(const struct tokenize_token *, void *), void *ctx)
{
    size_t n = end - start;
    if (n > TOKENIZE_MAX_TERM)
        return 0;
    struct tokenize_token tok;
    for (size_t i = 0; i < n; i++)
        tok.term[i] = (char)ascii_word[text[start + i]];
    tok.term[n] = '\0';
    tok.len = n;
    tok.start = start;
    tok.end = end;
    tok.positional = 1;
    tok.cjk = 0;
    tok.resume = end;
    tok.stemmable = tok.term[0] >= 'a' && tok.term[0] <= 'z';
    return cb(&tok, ctx);
}

/* The end of the plain ASCII word at c, when the general rules could not make more of
 * it; 0 when they might (then they are followed). A word of ASCII letters, digits and
 * '_' is one term, ending where it ends, unless what follows it can join it to more: a
 * non-ASCII character (a word character, an accent folding drops, a CJK character, an
 * apostrophe U+2019), an infix ("Meta's", "AT&T"; between digits also "3.5", "1,000",
 * "1;2"), a suffix ("C++", "C#"), or the '.' of initials after a capital ("U.S."). Most
 * words of most texts are such words; the check costs a few instructions a byte. */
static size_t ascii_word_end(const unsigned char *s, size_t n, size_t i)
{
    if ((ascii_class[s[i]] & 4) && i + 1 < n && s[i + 1] == '.')
        return 0;
    while (i < n && (byte_kind[s[i]] & BYTE_WORD))
        i++;
    if (i == n)
        return i;
    unsigned k = byte_kind[s[i]];
    if (k & (BYTE_NONASCII | BYTE_JOINS))
        return 0;
    if ((k & BYTE_DIGIT_JOIN) && (ascii_class[s[i - 1]] & 2))
        return 0;
    return i;
}

/* Bytes a reported term can start with or hold, for a scan with a `first` table: the ASCII
 * word characters whose lower-case form first admits, and every non-ASCII byte (a term
 * with one is always reported). Every other byte is passed over without a look at the
 * words around it. */
#define VECTOR_FIRST_MAX 8
struct candidates {
    unsigned char b[256];
    const unsigned char *first;
    const uint64_t (*second)[4];
    /* For the vector finder: the admitted ASCII first bytes, a letter as its lower case
     * (compared with the text's bytes OR 0x20, which folds A-Z onto a-z and maps no other
     * byte onto a letter), a digit or '_' as itself. When there are more than
     * VECTOR_FIRST_MAX (vector 0), the byte loop is used. */
    unsigned char vec[VECTOR_FIRST_MAX];
    unsigned nvec, nletters; /* vec[0, nletters) are letters */
    int vector;
#ifdef __SSE2__
    __m128i want[VECTOR_FIRST_MAX]; /* vec[k] in every byte */
#endif
};

static void candidates_init(struct candidates *cd, const unsigned char *first,
                            const uint64_t (*second)[4])
{
    /* Only ASCII word characters can be admitted: their lower-case forms are looked up
     * (an upper-case letter comes with its lower case), letters first, then digits and
     * '_' (the order the vector finder wants them in). */
    static const char word_bytes[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    memset(cd->b, 0, 128);
    memset(cd->b + 128, 1, 128);
    cd->first = first;
    cd->second = second;
    cd->nvec = cd->nletters = 0;
    cd->vector = 1;
    for (const char *p = word_bytes; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!first[c])
            continue;
        int letter = c >= 'a' && c <= 'z';
        cd->b[c] = 1;
        if (letter)
            cd->b[c - 32] = 1;
        if (cd->nvec == VECTOR_FIRST_MAX) {
            cd->vector = 0;
            continue;
        }
        cd->vec[cd->nvec++] = c;
        cd->nletters += (unsigned)letter;
    }
#ifdef __SSE2__
    for (unsigned k = 0; k < cd->nvec; k++)
        cd->want[k] = _mm_set1_epi8((char)cd->vec[k]);
#endif
}

/* Whether the term that would start at s[j] (an admitted ASCII word character) is one the
 * scan leaves out by its second byte: when s[j + 1] is an ASCII word character too, that
 * is the term's second byte (lower-cased), whatever follows. */
static inline int candidate_second_fails(const struct candidates *cd, const unsigned char *s,
                                         size_t n, size_t j)
{
    if (!cd->second || j + 1 >= n || !(byte_kind[s[j + 1]] & BYTE_WORD))
        return 0;
    unsigned slot = cd->first[ascii_word[s[j]]];
    unsigned char b1 = ascii_word[s[j + 1]];
    return !((cd->second[slot - 1][b1 >> 6] >> (b1 & 63)) & 1);
}

/* The byte loop: the first candidate at or after j (and before m), or m. A candidate is a
 * non-ASCII byte, or an admitted ASCII word character that starts a word (the byte before
 * it is no ASCII word character; at i, where reading starts, that is not asked) and whose
 * second byte the scan does not rule out. */
static size_t candidate_bytes(const struct candidates *cd, const unsigned char *s, size_t n,
                              size_t i, size_t j, size_t m)
{
    for (;;) {
        while (j < m && !cd->b[s[j]])
            j++;
        if (j >= m)
            return m;
        if (s[j] >= 0x80)
            return j;
        if (j != i && (byte_kind[s[j - 1]] & BYTE_WORD)) {
            j++; /* inside a word */
            continue;
        }
        if (!candidate_second_fails(cd, s, n, j))
            return j;
        j += 2; /* a word the scan leaves out (and s[j + 1] is inside it) */
    }
}

#ifdef __SSE2__
/* The byte loop's answer, 16 bytes at a time (SSE2, which every x86-64 has): most bytes
 * of a long text are no candidate, and the loop pays a table look-up and a branch for
 * each (some 5 instructions a byte; this, under 2). For each 16 bytes: a mask of the
 * ASCII word characters (letters, digits, '_'), of the admitted first bytes and of the
 * non-ASCII bytes; an admitted byte whose previous byte is no word character starts a
 * candidate word, whose second byte is then checked as the byte loop checks it. */
static size_t candidate_sse2(const struct candidates *cd, const unsigned char *s, size_t n,
                             size_t i, size_t m)
{
    if (i >= m)
        return m;
    if (cd->b[s[i]] && (s[i] >= 0x80 || !candidate_second_fails(cd, s, n, i)))
        return i;
    size_t j = i + 1;
    unsigned prev = byte_kind[s[i]] & BYTE_WORD; /* whether s[j - 1] is a word character */
    /* Range tests by signed comparison: x + (0x80 - lo) is below 0x80 - 128 + count, as a
     * signed byte, exactly when lo <= x < lo + count. */
    const __m128i bit5 = _mm_set1_epi8(0x20), us = _mm_set1_epi8('_');
    const __m128i to_a = _mm_set1_epi8((char)(0x80 - 'a')), below_z = _mm_set1_epi8(-128 + 26);
    const __m128i to_0 = _mm_set1_epi8((char)(0x80 - '0')), below_9 = _mm_set1_epi8(-128 + 10);
    const __m128i *want = cd->want;
    unsigned nletters = cd->nletters;
    while (j + 16 <= m) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + j));
        __m128i lower = _mm_or_si128(v, bit5);
        __m128i letter = _mm_cmplt_epi8(_mm_add_epi8(lower, to_a), below_z);
        __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(v, to_0), below_9);
        __m128i word = _mm_or_si128(_mm_or_si128(letter, digit), _mm_cmpeq_epi8(v, us));
        __m128i adm = _mm_setzero_si128();
        switch (nletters) {
        case 8: adm = _mm_or_si128(adm, _mm_cmpeq_epi8(lower, want[7])); /* fall through */
        case 7: adm = _mm_or_si128(adm, _mm_cmpeq_epi8(lower, want[6])); /* fall through */
        case 6: adm = _mm_or_si128(adm, _mm_cmpeq_epi8(lower, want[5])); /* fall through */
        case 5: adm = _mm_or_si128(adm, _mm_cmpeq_epi8(lower, want[4])); /* fall through */
        case 4: adm = _mm_or_si128(adm, _mm_cmpeq_epi8(lower, want[3])); /* fall through */
        case 3: adm = _mm_or_si128(adm, _mm_cmpeq_epi8(lower, want[2])); /* fall through */
        case 2: adm = _mm_or_si128(adm, _mm_cmpeq_epi8(lower, want[1])); /* fall through */
        case 1: adm = _mm_or_si128(adm, _mm_cmpeq_epi8(lower, want[0])); /* fall through */
        default: break;
        }
        for (unsigned k = nletters; k < cd->nvec; k++)
            adm = _mm_or_si128(adm, _mm_cmpeq_epi8(v, want[k]));
        unsigned w = (unsigned)_mm_movemask_epi8(word);
        unsigned hi = (unsigned)_mm_movemask_epi8(v);
        unsigned starts = (unsigned)_mm_movemask_epi8(adm) & ~((w << 1) | prev) & 0xFFFF;
        unsigned c = hi | starts;
        while (c) {
            unsigned b = (unsigned)__builtin_ctz(c);
            if (((hi >> b) & 1) || !candidate_second_fails(cd, s, n, j + b))
                return j + b;
            c &= c - 1;
        }
        prev = (w >> 15) & 1;
        j += 16;
    }
    return candidate_bytes(cd, s, n, i, j, m);
}
#endif

/* The first candidate at or after i and before m (m when none): the vector finder when
 * there is one and the admitted first bytes fit it, else (or when portable) the byte
 * loop. Both give the same answer (tests/unit/test_tokenize checks it). */
static size_t candidate_find(const struct candidates *cd, const unsigned char *s, size_t n,
                             size_t i, size_t m, int portable)
{
#ifdef __SSE2__
    if (cd->vector && !portable)
        return candidate_sse2(cd, s, n, i, m);
#endif
    (void)portable;
    return candidate_bytes(cd, s, n, i, i, m);
}

size_t tokenize_scan_candidate(const struct tokenize_scan *scan, const char *text, size_t len,
                               size_t i, size_t m, int portable)
{
    if (!ascii_ready)
        ascii_init();
    struct candidates cd;
    candidates_init(&cd, scan->first, scan->second);
    return candidate_find(&cd, (const unsigned char *)text, len, i, m < len ? m : len, portable);
}

static inline int is_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/* Where reading must start again to see the term at j, or the limit, as a whole: the
 * nearest point after ASCII white space at or before j, but not before safe. A term never
 * spans white space, and after it the word rules start afresh (no infix, suffix or
 * initials joins across it); only CJK text carries state past it, and a CJK character is
 * a candidate byte, so none lies between safe and j. */
static size_t restart_before(const unsigned char *s, size_t safe, size_t j)
{
    while (j > safe && !is_space(s[j - 1]))
        j--;
    return j;
}

/* Reads text from *at on while it holds only plain ASCII words and ASCII separators, with
 * no cursor: the loop most bytes of most texts go through. Returns 0 at the end of the
 * text, 1 when cb stopped, 2 at the limit, or 3 with *at at what the general rules must
 * read (a non-ASCII character, or a word that may join more). *at is a point where the
 * word rules start afresh.
 *
 * With candidates (a scan that reports only some words), the text is first searched for
 * the next byte a reported term could start with or hold; a letter right after an ASCII
 * word character is none (a term never starts inside a word), nor one whose next byte,
 * an ASCII word character, is a second byte the scan does not admit. Reading resumes at the
 * white space before it and follows the rules up to past it; the words skipped could
 * not be reported anyway. Most bytes then cost a table look-up. */
static int ascii_run(const unsigned char *s, size_t n, size_t *at, const unsigned char *first,
                     const struct candidates *cd, size_t limit,
                     int (*cb)(const struct tokenize_token *, void *), void *ctx)
{
    size_t i = *at;
    size_t upto = 0; /* with candidates: words are read one by one until past this */
    for (;;) {
        if (cd && i >= upto) {
            size_t j = candidate_find(cd, s, n, i, limit < n ? limit : n, 0);
            if (j == n)
                return 0;
            /* A candidate (or the limit): read from the restart point before it. */
            i = restart_before(s, i, j);
            upto = j + 1;
        }
        while (i < n && !(byte_kind[s[i]] & (BYTE_WORD | BYTE_NONASCII)))
            i++;
        if (i == n)
            return 0;
        if (byte_kind[s[i]] & BYTE_NONASCII)
            break;
        if (i >= limit)
            return 2;
        size_t e = ascii_word_end(s, n, i);
        if (!e)
            break;
        if ((!first || first[ascii_word[s[i]]]) && emit_ascii(s, i, e, cb, ctx))
            return 1;
        i = e;
    }
    *at = i;
    return 3;
}

/* Emits the unigrams and bigrams of the CJK run at c and moves c past it
 * (CJKTokenIterator: c1, c1c2, c2, c2c3, ..., cN). Returns non-zero when cb stopped. */
static int cjk_run(struct cursor *c, int (*cb)(const struct tokenize_token *, void *), void *ctx)
{
    struct termbuf t;
    size_t prev_start = 0, prev_end = 0;
    unsigned prev = 0;
    int have_prev = 0;
    while (c->ch != END_CH && is_cjk(c->ch) && tokenize_is_wordchar(c->ch)) {
        size_t start = c->pos, end = c->pos + c->clen;
        if (have_prev) {
            t.len = 0;
            term_append(&t, prev);
            term_append(&t, c->ch);
            if (emit(&t, prev_start, end, 0, 1, (size_t)-1, cb, ctx))
                return 1;
        }
        t.len = 0;
        term_append(&t, c->ch);
        if (emit(&t, start, end, 1, 1, (size_t)-1, cb, ctx))
            return 1;
        prev = c->ch;
        prev_start = start;
        prev_end = end;
        have_prev = 1;
        cursor_next(c);
    }
    (void)prev_end;
    return 0;
}

int tokenize_text(const char *text, size_t len,
                  int (*cb)(const struct tokenize_token *tok, void *ctx), void *ctx)
{
    return tokenize_text_scan(text, len, NULL, cb, ctx);
}

int tokenize_text_scan(const char *text, size_t len, const struct tokenize_scan *scan,
                       int (*cb)(const struct tokenize_token *tok, void *ctx), void *ctx)
{
    if (!ascii_ready)
        ascii_init();
    const unsigned char *first = scan ? scan->first : NULL;
    size_t limit = scan ? scan->limit : (size_t)-1;
    struct candidates cands;
    if (first)
        candidates_init(&cands, first, scan->second);
    struct cursor c = {(const unsigned char *)text, len, 0, 0, NULL, 0, 0};
    cursor_load(&c);
    struct termbuf term;
    for (;;) {
        unsigned ch;
        if (!c.exp && c.ch < 0x80) {
            size_t at = c.pos;
            int r = ascii_run(c.s, c.len, &at, first, first ? &cands : NULL, limit, cb, ctx);
            if (r != 3)
                return r;
            c.pos = at;
            cursor_load(&c);
        }
        /* Advance to the start of the next term. */
        for (;;) {
            if (c.ch == END_CH)
                return 0;
            ch = wordchar(c.ch);
            if (ch)
                break;
            cursor_next(&c);
        }
        if (c.pos >= limit)
            return 2;
        term.len = 0;
        size_t start = c.pos, end = c.pos;
        /* Initials separated by '.' (P.T.O., U.N.C.L.E). */
        if (c.ch < 128 && (ascii_class[c.ch] & 4)) {
            struct cursor p = c;
            size_t pend;
            do {
                unsigned lower;
                char_class(p.ch, &lower);
                term_append(&term, lower);
                pend = p.pos + p.clen;
                cursor_next(&p);
            } while (p.ch != END_CH && p.ch == '.' && (cursor_next(&p), p.ch != END_CH) &&
                     p.ch < 128 && (ascii_class[p.ch] & 4));
            if (term.len > 1 && (p.ch == END_CH || !tokenize_is_wordchar(p.ch))) {
                c = p;
                end = pend;
                goto endofterm;
            }
            term.len = 0;
        }
        for (;;) {
            if (is_cjk(c.ch) && tokenize_is_wordchar(c.ch)) {
                if (cjk_run(&c, cb, ctx))
                    return 1;
                for (;;) {
                    if (c.ch == END_CH)
                        return 0;
                    ch = wordchar(c.ch);
                    if (ch)
                        break;
                    cursor_next(&c);
                }
                if (term.len == 0)
                    start = c.pos;
                continue;
            }
            unsigned prevch;
            do {
                term_append(&term, ch);
                prevch = ch;
                end = c.pos + c.clen;
                cursor_next(&c);
                if (c.ch == END_CH || is_cjk(c.ch))
                    goto endofterm;
                ch = wordchar(c.ch);
            } while (ch);

            struct cursor next = c;
            cursor_next(&next);
            if (next.ch == END_CH)
                break;
            unsigned nextch = wordchar(next.ch);
            if (!nextch)
                break;
            unsigned infix = c.ch;
            if (is_digit(prevch) && is_digit(next.ch))
                infix = check_infix_digit(infix);
            else
                infix = check_infix(infix);
            if (!infix)
                break;
            if (infix != IGNORE_CH)
                term_append(&term, infix);
            ch = nextch;
            c = next;
        }
        {
            size_t keep = term.len, keep_end = end;
            unsigned count = 0;
            while ((ch = check_suffix(c.ch)) != 0) {
                if (++count > 3) {
                    term.len = keep;
                    end = keep_end;
                    break;
                }
                term_append(&term, ch);
                end = c.pos + c.clen;
                cursor_next(&c);
                if (c.ch == END_CH)
                    goto endofterm;
            }
            /* Don't index fish+chips as fish+ chips. */
            if (tokenize_is_wordchar(c.ch)) {
                term.len = keep;
                end = keep_end;
            }
        }
    endofterm:
        assert(term.len > 0);
        if (emit(&term, start, end, 1, 0, c.sub == 0 ? c.pos : (size_t)-1, cb, ctx))
            return 1;
    }
}

int tokenize_index(xc_termgen *tg, const char *text, size_t len, unsigned wdf_inc,
                   const char *prefix, xc_error **err)
{
    char *folded = NULL;
    size_t flen = 0;
    if (util_fold_latin(text, len, &folded, &flen) < 0) {
        if (err)
            *err = NULL;
        return -1;
    }
    int rc = xc_termgen_index_text(tg, folded ? folded : text, folded ? flen : len, wdf_inc,
                                   prefix, err);
    free(folded);
    return rc;
}
