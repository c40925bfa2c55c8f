/*
 * test_tokenize.c -- the tokenizer against its oracle, Xapian's TermGenerator.
 *
 * Property: for every text, the terms lib/tokenize yields -- each with its position (CJK
 * bigrams without one) and, when stemmable, its "Z" stem -- are exactly the terms, wdfs and
 * positions TermGenerator (configured as the indexer configures it, via the binding)
 * indexes for the text after the schema's accent folding. Checked over every title and
 * body of bbc-news and reuters-21578 ($QUIRE_SHARED/corpora), and over seeded random
 * texts built from the characters the rules treat specially (seed printed; set
 * QUIRE_TEST_SEED to replay). Each byte range a token reports must also lie inside the text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "number.h"
#include "tokenize.h"
#include "util.h"
#include "xapian-c/xc.h"

struct entry {
    char *term;
    unsigned pos; /* 0: a wdf count without a position */
};

struct entries {
    struct entry *v;
    size_t n, cap;
};

static void entries_add(struct entries *e, const char *term, size_t len, unsigned pos)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 256;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        assert_non_null(e->v);
    }
    e->v[e->n].term = strndup(term, len);
    assert_non_null(e->v[e->n].term);
    e->v[e->n].pos = pos;
    e->n++;
}

static void entries_clear(struct entries *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].term);
    e->n = 0;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->term, y->term);
    if (c)
        return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void oracle_term(const char *term, size_t len, unsigned wdf, const unsigned *pos,
                        size_t npos, void *ctx)
{
    struct entries *e = ctx;
    for (size_t i = 0; i < npos; i++)
        entries_add(e, term, len, pos[i]);
    for (size_t i = npos; i < wdf; i++)
        entries_add(e, term, len, 0);
}

struct ours {
    struct entries *e;
    xc_stem *stem;
    unsigned pos;
    size_t textlen;
    int bad_range;
};

static int our_token(const struct tokenize_token *t, void *ctx)
{
    struct ours *o = ctx;
    if (t->start >= t->end || t->end > o->textlen)
        o->bad_range = 1;
    entries_add(o->e, t->term, t->len, t->positional ? ++o->pos : 0);
    if (t->stemmable) {
        char stem[256];
        stem[0] = 'Z';
        long n = xc_stem_word(o->stem, t->term, t->len, stem + 1, sizeof stem - 1);
        assert_true(n >= 0);
        if (n > 0)
            entries_add(o->e, stem, (size_t)n + 1, 0);
    }
    return 0;
}

struct oracle {
    xc_termgen *tg;
    xc_stem *stem;
    struct entries want, got;
    unsigned long texts, terms, mismatches;
    unsigned long scans, scan_terms, scan_mismatches;
    unsigned long finds, find_mismatches; /* the vector finder against the byte loop */
    uint64_t rng; /* the scans' first tables and limits (xorshift64, seeded) */
};

/* ---- tokenize_text_scan against tokenize_text ------------------------------------------ */

struct tok_rec {
    size_t start, end, len, resume;
    int positional, stemmable, cjk;
    char term[TOKENIZE_MAX_TERM + 1];
};

struct tok_list {
    struct tok_rec *v;
    size_t n, cap;
};

static int tok_collect(const struct tokenize_token *t, void *ctx)
{
    struct tok_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        assert_non_null(l->v);
    }
    struct tok_rec *r = &l->v[l->n++];
    r->start = t->start;
    r->end = t->end;
    r->len = t->len;
    r->resume = t->resume;
    r->positional = t->positional;
    r->stemmable = t->stemmable;
    r->cjk = t->cjk;
    memcpy(r->term, t->term, t->len + 1);
    return 0;
}

static int tok_same(const struct tok_rec *a, const struct tok_rec *b)
{
    return a->start == b->start && a->end == b->end && a->len == b->len &&
           a->resume == b->resume && a->positional == b->positional &&
           a->stemmable == b->stemmable && a->cjk == b->cjk &&
           memcmp(a->term, b->term, a->len) == 0;
}

static uint64_t oracle_rand(struct oracle *o)
{
    o->rng ^= o->rng << 13;
    o->rng ^= o->rng >> 7;
    o->rng ^= o->rng << 17;
    return o->rng;
}

/* Whether a scan with these tables must report t. */
static int admitted(const struct tok_rec *t, const unsigned char *first,
                    const uint64_t (*second)[4])
{
    unsigned slot = first[(unsigned char)t->term[0]];
    if (!slot)
        return 0;
    unsigned char b1 = t->len > 1 ? (unsigned char)t->term[1] : 0;
    return !second || ((second[slot - 1][b1 >> 6] >> (b1 & 63)) & 1);
}

/* Property of tokenize_text_scan (what snippets read a text with): with a table of first
 * bytes and a limit, the terms it reports are terms tokenize_text reports, in order and
 * identical (offsets, resume points, flags), and every term tokenize_text reports that
 * starts before the limit and whose first byte the table admits (and second byte, when the
 * scan has a table of those) is among them (a term past the limit may be too: the rest of
 * a CJK run is). It returns 2 only when the text goes on past the limit. Tables are drawn
 * at random (one to four admitted first bytes, mostly those of the text's own terms, each
 * with all second bytes or one to three), limits too (none, or inside the text). */
static void check_scan(struct oracle *o, const char *text, size_t len)
{
    struct tok_list all = {0}, got = {0};
    tokenize_text(text, len, tok_collect, &all);
    for (int round = 0; round < 2; round++) {
        unsigned char first[256] = {0};
        uint64_t second[4][4];
        memset(second, 0, sizeof second);
        int use_second = (int)(oracle_rand(o) % 2), nslots = 0;
        int k = 1 + (int)(oracle_rand(o) % 4);
        for (int i = 0; i < k; i++) {
            uint64_t r = oracle_rand(o);
            /* Mostly the first bytes of terms this text has, else any byte; the second
             * bytes admitted: all, or one to three (mostly this text's). */
            const struct tok_rec *t = all.n > 0 && r % 4 != 0 ? &all.v[(r >> 8) % all.n] : NULL;
            unsigned char b0 = t ? (unsigned char)t->term[0] : (unsigned char)((r >> 8) % 256);
            if (!first[b0])
                first[b0] = (unsigned char)++nslots;
            uint64_t *sec = second[first[b0] - 1];
            if (oracle_rand(o) % 4 == 0) {
                memset(sec, 0xFF, 4 * sizeof *sec);
                continue;
            }
            int m = 1 + (int)(oracle_rand(o) % 3);
            for (int j = 0; j < m; j++) {
                uint64_t q = oracle_rand(o);
                unsigned char b1 = t && q % 3 != 0 ? (unsigned char)t->term[1] /* 0 if one byte */
                                                   : (unsigned char)((q >> 8) % 256);
                sec[b1 >> 6] |= 1ULL << (b1 & 63);
            }
        }
        size_t limit = oracle_rand(o) % 3 == 0 || len == 0 ? (size_t)-1
                                                          : (size_t)(oracle_rand(o) % (len + 1));
        struct tokenize_scan scan = {first, use_second ? (const uint64_t(*)[4])second : NULL,
                                     limit};
        got.n = 0;
        int rc = tokenize_text_scan(text, len, &scan, tok_collect, &got);
        int ok = rc == 0 || rc == 2;
        size_t a = 0;
        for (size_t g = 0; ok && g < got.n; g++) {
            while (a < all.n && !tok_same(&all.v[a], &got.v[g])) {
                /* A term skipped: it must be one the table does not admit. */
                if (all.v[a].start < limit && admitted(&all.v[a], first, scan.second))
                    ok = 0;
                a++;
            }
            if (a == all.n)
                ok = 0;
            a++;
        }
        for (; ok && a < all.n; a++) {
            if (all.v[a].start < limit && admitted(&all.v[a], first, scan.second))
                ok = 0;
        }
        if (rc == 2 && limit >= len)
            ok = 0;
        o->scans++;
        o->scan_terms += got.n;
        if (ok)
            continue;
        o->scan_mismatches++;
        if (o->scan_mismatches <= 5) {
            printf("# scan mismatch (returned %d, limit %zu, %zu terms of %zu) on text (%zu "
                   "bytes): %.*s\n# first bytes admitted:",
                   rc, limit, got.n, all.n, len, (int)(len < 300 ? len : 300), text);
            for (int b = 0; b < 256; b++)
                if (first[b])
                    printf(" %02x", b);
            printf("\n");
        }
    }
    free(all.v);
    free(got.v);
}

/* ---- the scan's vector finder against its byte loop --------------------------------- */

#define FINDER_SLOTS 12

/* Property of the finder tokenize_text_scan skips text with: from any offset, the vector
 * finder (SSE2) and the byte loop name the same next candidate. Checked along the chain of
 * candidates from the text's start (each search starting one byte past the last answer,
 * often inside a word) and from random offsets, with random bounds and tables: one to
 * twelve admitted first bytes (past eight the vector finder hands over to the byte loop),
 * mostly letters, digits and '_' and those of the text's own words, each with all second
 * bytes or one to three. */
static void check_finder(struct oracle *o, const char *text, size_t len)
{
    unsigned char first[256] = {0};
    uint64_t second[FINDER_SLOTS][4];
    memset(second, 0, sizeof second);
    static const char word_bytes[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    int nslots = 0, k = 1 + (int)(oracle_rand(o) % (oracle_rand(o) % 4 == 0 ? FINDER_SLOTS : 4));
    for (int i = 0; i < k; i++) {
        uint64_t r = oracle_rand(o);
        unsigned char b0;
        if (len > 0 && r % 2 == 0)
            b0 = (unsigned char)text[(r >> 8) % len];
        else if (r % 8 != 1)
            b0 = (unsigned char)word_bytes[(r >> 8) % (sizeof word_bytes - 1)];
        else
            b0 = (unsigned char)((r >> 8) % 256);
        if (b0 >= 'A' && b0 <= 'Z')
            b0 = (unsigned char)(b0 + 32); /* terms are lower case */
        if (!first[b0])
            first[b0] = (unsigned char)++nslots;
        uint64_t *sec = second[first[b0] - 1];
        if (oracle_rand(o) % 4 == 0) {
            memset(sec, 0xFF, 4 * sizeof *sec);
            continue;
        }
        int m = 1 + (int)(oracle_rand(o) % 3);
        for (int j = 0; j < m; j++) {
            uint64_t q = oracle_rand(o);
            unsigned char b1 = len > 0 && q % 2 == 0
                                   ? (unsigned char)text[(q >> 8) % len]
                                   : (unsigned char)word_bytes[(q >> 8) % (sizeof word_bytes - 1)];
            if (b1 >= 'A' && b1 <= 'Z')
                b1 = (unsigned char)(b1 + 32);
            sec[b1 >> 6] |= 1ULL << (b1 & 63);
        }
    }
    struct tokenize_scan scan = {
        first, oracle_rand(o) % 4 == 0 ? NULL : (const uint64_t(*)[4])second, (size_t)-1};
    size_t m = oracle_rand(o) % 3 == 0 ? len : (size_t)(oracle_rand(o) % (len + 1));
    for (int chain = 0; chain < 4; chain++) {
        size_t i = chain == 0 || len == 0 ? 0 : (size_t)(oracle_rand(o) % len);
        for (;;) {
            size_t vec = tokenize_scan_candidate(&scan, text, len, i, m, 0);
            size_t bytes = tokenize_scan_candidate(&scan, text, len, i, m, 1);
            o->finds++;
            if (vec != bytes) {
                o->find_mismatches++;
                if (o->find_mismatches <= 5)
                    printf("# finder mismatch from %zu (bound %zu): vector %zu, byte loop %zu, on "
                           "text (%zu bytes): %.*s\n",
                           i, m, vec, bytes, len, (int)(len < 300 ? len : 300), text);
                break;
            }
            if (bytes >= m || (chain > 0 && oracle_rand(o) % 8 == 0))
                break;
            i = bytes + 1;
        }
    }
}

/* Compares one text; on a mismatch prints the text and the first difference. */
static void check_text(struct oracle *o, const char *text, size_t len)
{
    check_scan(o, text, len);
    check_finder(o, text, len);
    char *folded = NULL;
    size_t flen = 0;
    int fr = util_fold_latin(text, len, &folded, &flen);
    assert_true(fr >= 0);
    xc_error *xe = NULL;
    xc_doc *doc = xc_doc_new(&xe);
    assert_non_null(doc);
    xc_termgen_set_document(o->tg, doc);
    assert_int_equal(xc_termgen_index_text(o->tg, folded ? folded : text, folded ? flen : len,
                                           1, "", &xe),
                     0);
    entries_clear(&o->want);
    entries_clear(&o->got);
    assert_int_equal(xc_doc_terms(doc, oracle_term, &o->want, &xe), 0);
    xc_doc_free(doc);
    free(folded);
    struct ours us = {&o->got, o->stem, 0, len, 0};
    tokenize_text(text, len, our_token, &us);
    qsort(o->want.v, o->want.n, sizeof *o->want.v, entry_cmp);
    qsort(o->got.v, o->got.n, sizeof *o->got.v, entry_cmp);
    o->texts++;
    o->terms += o->want.n;
    int same = o->want.n == o->got.n && !us.bad_range;
    size_t i = 0;
    for (; same && i < o->want.n; i++)
        same = entry_cmp(&o->want.v[i], &o->got.v[i]) == 0;
    if (same)
        return;
    o->mismatches++;
    if (o->mismatches > 5)
        return;
    printf("# mismatch on text (%zu bytes): %.*s\n", len, (int)(len < 300 ? len : 300), text);
    for (size_t k = 0; k < o->want.n || k < o->got.n; k++) {
        const struct entry *w = k < o->want.n ? &o->want.v[k] : NULL;
        const struct entry *g = k < o->got.n ? &o->got.v[k] : NULL;
        if (w && g && entry_cmp(w, g) == 0)
            continue;
        printf("#   first difference: TermGenerator %s@%u, tokenizer %s@%u\n",
               w ? w->term : "(none)", w ? w->pos : 0, g ? g->term : "(none)", g ? g->pos : 0);
        break;
    }
}

static int oracle_setup(void **state)
{
    struct oracle *o = calloc(1, sizeof *o);
    xc_error *xe = NULL;
    o->tg = xc_termgen_new("english", &xe);
    o->stem = xc_stem_new("english", &xe);
    if (!o->tg || !o->stem)
        return -1;
    *state = o;
    return 0;
}

static int oracle_teardown(void **state)
{
    struct oracle *o = *state;
    entries_clear(&o->want);
    entries_clear(&o->got);
    free(o->want.v);
    free(o->got.v);
    xc_termgen_free(o->tg);
    xc_stem_free(o->stem);
    free(o);
    return 0;
}

static void check_corpus(struct oracle *o, const char *name)
{
    const char *shared = getenv("QUIRE_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/corpora/%s/docs.jsonl", shared ? shared : "../shared",
             name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (set QUIRE_SHARED)", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long texts0 = o->texts, terms0 = o->terms, docs = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t je;
        json_t *doc = json_loadb(line, (size_t)n, 0, &je);
        assert_non_null(doc);
        const char *fields[] = {"title", "body"};
        for (size_t k = 0; k < 2; k++) {
            json_t *v = json_object_get(doc, fields[k]);
            if (json_is_string(v))
                check_text(o, json_string_value(v), json_string_length(v));
        }
        json_decref(doc);
        docs++;
    }
    free(line);
    fclose(f);
    printf("# %s: %lu documents, %lu texts, %lu terms compared, %lu mismatches so far; "
           "%lu scans (%lu terms) against tokenize_text, %lu mismatches so far; %lu finds "
           "(vector finder against byte loop), %lu mismatches so far\n",
           name, docs, o->texts - texts0, o->terms - terms0, o->mismatches, o->scans,
           o->scan_terms, o->scan_mismatches, o->finds, o->find_mismatches);
    assert_true(docs > 1000);
}

static void test_oracle_corpora(void **state)
{
    struct oracle *o = *state;
    o->rng = 88172645463325252ULL; /* fixed: the corpora's scans are the same every run */
    check_corpus(o, "bbc-news");
    check_corpus(o, "reuters-21578");
    assert_int_equal(o->mismatches, 0);
    assert_int_equal(o->scan_mismatches, 0);
    assert_int_equal(o->find_mismatches, 0);
}

/* Pieces random texts are made of: what each rule of TermGenerator looks at. */
static const char *const pieces[] = {
    "a", "Z", "q", "word", "Meta", "s", "U", "S", "A", "0", "7", "3", ".", ",", ";", "'",
    "\xe2\x80\x99", /* right single quote */
    "\xe2\x80\x9b", "&", "+", "#", "_", "-", " ", " ", " ", "\n", ":", "(", ")", "\"",
    "\xc3\xa9",       /* é */
    "\xc3\x89",       /* É */
    "\xc3\x9f",       /* ß */
    "\xc3\x86",       /* Æ */
    "\xc5\x93",       /* œ */
    "\xc3\x97",       /* × (not folded) */
    "\xcc\x81",       /* combining acute */
    "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb5", /* Москве */
    "\xce\xa3",       /* Σ */
    "\xe4\xb8\xad",   /* 中 */
    "\xe6\x96\x87",   /* 文 */
    "\xe3\x80\x81",   /* 、 */
    "\xea\xb0\x80",   /* 가 */
    "\xe3\x81\x82",   /* あ */
    "\xef\xbc\xa1",   /* fullwidth A */
    "\xe2\x80\x8b",   /* zero-width space */
    "\xc2\xb7",       /* middle dot */
    "\xd9\xa3",       /* Arabic-Indic three */
    "\xcd\xbe",       /* Greek question mark */
    "\xe2\x81\x84",   /* fraction slash */
    "\xc2\xa0",       /* no-break space */
    "\xe0\xa4\x95\xe0\xa4\xbf", /* Devanagari ki */
    "\xc7\x85",       /* Dž (title case) */
    "\xca\xb0",       /* modifier letter h */
    "\xe2\x85\xa0",   /* Roman numeral one (Nl) */
    "\xff", "\xc3",   /* invalid bytes */
};

static void test_oracle_random(void **state)
{
    struct oracle *o = *state;
    const char *env = getenv("QUIRE_TEST_SEED");
    long given;
    unsigned seed = env && num_parse_long(env, 0, UINT_MAX, &given) == NUM_OK
                        ? (unsigned)given
                        : (unsigned)time(NULL);
    printf("# random texts: seed %u (QUIRE_TEST_SEED=%u replays)\n", seed, seed);
    srand(seed);
    o->rng = 0x9E3779B97F4A7C15ULL ^ seed;
    unsigned long texts0 = o->texts, terms0 = o->terms, bad0 = o->mismatches;
    const size_t np = sizeof pieces / sizeof pieces[0];
    char buf[1024];
    for (int i = 0; i < 50000; i++) {
        size_t len = 0;
        int k = 1 + rand() % 30;
        for (int j = 0; j < k; j++) {
            const char *p = pieces[(size_t)rand() % np];
            size_t pl = strlen(p);
            if (len + pl >= sizeof buf)
                break;
            memcpy(buf + len, p, pl);
            len += pl;
        }
        check_text(o, buf, len);
    }
    printf("# random: %lu texts, %lu terms compared, %lu mismatches; %lu scans, %lu "
           "mismatches\n",
           o->texts - texts0, o->terms - terms0, o->mismatches - bad0, o->scans,
           o->scan_mismatches);
    assert_int_equal(o->mismatches, bad0);
    assert_int_equal(o->scan_mismatches, 0);
    assert_int_equal(o->find_mismatches, 0);
}

/* The finder on long random texts (the oracle's texts are mostly shorter than the 16 bytes
 * the vector finder reads at once): runs of letters of either case, digits and '_'
 * between separators, with now and then a non-ASCII byte, at every alignment. */
static void test_finder_random(void **state)
{
    struct oracle *o = *state;
    const char *env = getenv("QUIRE_TEST_SEED");
    long given;
    unsigned seed = env && num_parse_long(env, 0, UINT_MAX, &given) == NUM_OK
                        ? (unsigned)given
                        : (unsigned)time(NULL);
    printf("# finder texts: seed %u (QUIRE_TEST_SEED=%u replays)\n", seed, seed);
    o->rng = 0xD1B54A32D192ED03ULL ^ seed;
    static const char word[] = "etaoinshrdlucmfwypvbgkjqxzETAOINSHRDLUCMFWYPVBGKJQXZ0123456789_";
    static const char sep[] = "  \n.,;:'&+#-()\"/";
    char buf[2048];
    for (int i = 0; i < 20000; i++) {
        size_t want = 1 + (size_t)(oracle_rand(o) % (sizeof buf - 16)), len = 0;
        while (len < want) {
            uint64_t r = oracle_rand(o);
            size_t wl = 1 + (size_t)(r % 12);
            for (size_t k = 0; k < wl && len < want; k++) {
                r = oracle_rand(o);
                buf[len++] = r % 64 == 0 ? (char)(0x80 + (r >> 8) % 128)
                                         : word[(r >> 8) % (r % 3 == 0 ? sizeof word - 1 : 26)];
            }
            size_t sl = 1 + (size_t)(oracle_rand(o) % 2);
            for (size_t k = 0; k < sl && len < want; k++)
                buf[len++] = sep[oracle_rand(o) % (sizeof sep - 1)];
        }
        check_finder(o, buf, len);
    }
    printf("# finder texts: %lu finds, %lu mismatches\n", o->finds, o->find_mismatches);
    assert_int_equal(o->find_mismatches, 0);
}

/* Restarting at a token's resume offset gives the tokens that followed it. */
struct collect {
    char terms[4096];
    size_t len;
    size_t resume_at;
    int stop_after;
};

static int collect_token(const struct tokenize_token *t, void *ctx)
{
    struct collect *c = ctx;
    c->len += (size_t)snprintf(c->terms + c->len, sizeof c->terms - c->len, "%s|", t->term);
    if (c->stop_after > 0 && --c->stop_after == 0 && t->resume != (size_t)-1) {
        c->resume_at = t->resume;
        return 1;
    }
    return 0;
}

static void test_offsets_and_resume(void **state)
{
    (void)state;
    const char *text = "Meta\xe2\x80\x99s U.S. stake, 3.5%; C++ and AT&T in Stra\xc3\x9f" "e "
                       "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb5 fish+chips";
    struct collect all = {.len = 0};
    tokenize_text(text, strlen(text), collect_token, &all);
    assert_string_equal(all.terms, "meta's|us|stake|3.5|c++|and|at&t|in|strasse|"
                                   "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb5|fish|chips|");
    for (int k = 1; k < 12; k++) {
        struct collect head = {.len = 0, .stop_after = k};
        tokenize_text(text, strlen(text), collect_token, &head);
        struct collect tail = {.len = 0};
        tokenize_text(text + head.resume_at, strlen(text) - head.resume_at, collect_token, &tail);
        char joined[8192];
        snprintf(joined, sizeof joined, "%s%s", head.terms, tail.terms);
        assert_string_equal(joined, all.terms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets_and_resume),
        cmocka_unit_test_setup_teardown(test_oracle_random, oracle_setup, oracle_teardown),
        cmocka_unit_test_setup_teardown(test_finder_random, oracle_setup, oracle_teardown),
        cmocka_unit_test_setup_teardown(test_oracle_corpora, oracle_setup, oracle_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
