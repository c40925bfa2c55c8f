/*
 * tokenize.h -- THE word rules: the terms Xapian's TermGenerator indexes for a text, with
 * the bytes each came from.
 *
 * Xapian 1.4 splits text inside TermGenerator and does not say where a term was in the
 * text; snippets, highlighting and suggestions need exactly that. So this module follows
 * TermGenerator's own algorithm (queryparser/termgenerator_internal.cc, 1.4): Unicode word
 * characters and lower-casing from Xapian's tables (through the binding), infixes ("Meta's",
 * "AT&T", "3.5"), suffixes ("C++", "C#"), acronyms ("U.S.A."), CJK text as unigrams (with
 * positions) and bigrams (without), words longer than 64 bytes dropped. It also applies the
 * schema's accent folding (util_fold_latin) on the way, so the terms are those indexed for
 * the stored text, while the offsets point into the text as stored.
 *
 * tests/unit/test_tokenize checks it against TermGenerator itself over whole corpora.
 */
#ifndef QUIRE_TOKENIZE_H
#define QUIRE_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#include "xapian-c/xc.h"

/* TermGenerator's max_word_length: longer terms are not indexed (and not reported). */
#define TOKENIZE_MAX_TERM 64

struct tokenize_token {
    size_t start, end;                /* bytes [start, end) of the text it was made from */
    char term[TOKENIZE_MAX_TERM + 1]; /* the term as indexed: lower-cased, accents folded */
    size_t len;
    int positional; /* 0 for a CJK bigram, which is indexed without a position */
    int stemmable;  /* TermGenerator also indexes its stem ("Z" + stem) */
    int cjk;        /* a CJK unigram or bigram */
    /* Where tokenizing can start again and yield the tokens that follow this one, or
     * (size_t)-1 when it cannot (inside a CJK run). */
    size_t resume;
};

/* Calls cb for each term of text[0, len) in order; cb returns non-zero to stop. Returns 1
 * when cb stopped it, else 0. Offsets count from text. */
int tokenize_text(const char *text, size_t len,
                  int (*cb)(const struct tokenize_token *tok, void *ctx), void *ctx);

/* What a caller that looks at few words (snippets) may leave out. */
struct tokenize_scan {
    /* NULL: every term is reported. Else a term is reported when first[its first byte] is
     * non-zero (and second admits it), and may be left out otherwise. */
    const unsigned char *first;
    /* NULL, or for each first byte b that first admits, second[first[b] - 1] is the set (a
     * bit per byte value) of the second bytes a reported term starting with b may have; a
     * term of one byte has 0 as its second. */
    const uint64_t (*second)[4];
    /* No term that starts at or after this offset is read ((size_t)-1: no limit). */
    size_t limit;
};

/* tokenize_text with scan's omissions: the terms it reports are among those tokenize_text
 * reports, in the same order with the same offsets, and include every one scan admits that
 * starts before the limit.
 * Returns 1 when cb stopped it, 2 when it stopped at scan->limit, else 0. */
int tokenize_text_scan(const char *text, size_t len, const struct tokenize_scan *scan,
                       int (*cb)(const struct tokenize_token *tok, void *ctx), void *ctx);

/* Where a scan with scan's tables next looks at the words around a byte, by the vector
 * finder (SSE2, when built for x86-64) or, when portable or without one, the byte loop:
 * the first offset in [i, m) holding a non-ASCII byte or a word's first byte that the
 * tables admit (with its second byte); m (at most len) when none. For tests, which check
 * that the two agree. */
size_t tokenize_scan_candidate(const struct tokenize_scan *scan, const char *text, size_t len,
                               size_t i, size_t m, int portable);

/* Indexes text (len bytes) with tg as every indexed text is: accents folded, then
 * TermGenerator (xc_termgen_index_text, same wdf_inc and prefix). Returns 0, or -1 with
 * *err set by the binding, or with *err NULL when out of memory. */
int tokenize_index(xc_termgen *tg, const char *text, size_t len, unsigned wdf_inc,
                   const char *prefix, xc_error **err);

/* True when code point cp is a word character (for callers that look around a term). */
int tokenize_is_wordchar(unsigned cp);

/* The code point at s (n bytes available) decoded as Xapian does (invalid bytes read as
 * Latin-1, one byte each); *clen gets its length in bytes. */
unsigned tokenize_decode(const unsigned char *s, size_t n, size_t *clen);

#endif
