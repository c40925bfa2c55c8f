/*
 * highlight-check.c -- the highlighting property, checked through the real search path.
 *
 *   highlight-check DB CORPUS.jsonl SEED N [NPROX]
 *
 * Draws N titles of CORPUS with a seeded RNG and makes a query of 1 to 3 of each title's
 * words (plain words, joined by spaces). Runs it through search_run() on the index at DB,
 * as quired and `quire --db` do, and checks every hit: in the snippet and in the marked
 * title, every word whose stem equals the stem of a query word is marked, and no other
 * word is; a hit without `title_marked` has no such word in its title.
 *
 * Then NPROX proximity queries (default 0): 2 or 3 words standing within a few words of
 * each other in a drawn title, joined by NEAR/n (in a random order) or ADJ/n (in the
 * title's order), n from 1 to 6. A word is then marked exactly where it takes part in a
 * match of the operator: its word and the others on distinct positions whose first and
 * last are less than Xapian's window apart (n + words - 1), in order for ADJ. Positions
 * are those of the whole article (from /doc), the snippet being placed in it by its
 * words; a match may reach outside the snippet. Each hit must also have a match somewhere
 * (title or text): the oracle's reading of the window agrees with Xapian's matcher.
 *
 * The oracle is not the code under test: words are what Xapian's TermGenerator indexes for
 * each marked and unmarked stretch of the text (after the schema's accent folding, which
 * is part of what the index holds), stems are Xapian's English stemmer's, and matches of
 * the operators are found by trying every window. Prints the counts it checked; exits 1
 * on the first few violations (described), 0 otherwise.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "number.h"
#include "schema.h"
#include "search.h"
#include "util.h"
#include "xapian-c/xc.h"

#include "corpus-texts.h"

#define MAX_QWORDS 3

/* Words with their positions (and, for a snippet's words, whether they are marked). */
struct terms {
    char **v;
    unsigned *pos;
    int *marked;
    size_t n, cap;
};

static void terms_push(struct terms *t, const char *w, size_t len, unsigned pos, int marked)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = realloc(t->v, t->cap * sizeof *t->v);
        t->pos = realloc(t->pos, t->cap * sizeof *t->pos);
        t->marked = realloc(t->marked, t->cap * sizeof *t->marked);
        if (!t->v || !t->pos || !t->marked)
            abort();
    }
    t->v[t->n] = strndup(w, len);
    t->pos[t->n] = pos;
    t->marked[t->n] = marked;
    t->n++;
}

static void collect(const char *term, size_t len, unsigned wdf, const unsigned *pos,
                    size_t npos, void *ctx)
{
    (void)wdf;
    /* Positional terms are the words; "Z" terms (stems) carry no position. */
    for (size_t i = 0; i < npos; i++)
        terms_push(ctx, term, len, pos[i], 0);
}

static void terms_free(struct terms *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    free(t->pos);
    free(t->marked);
    memset(t, 0, sizeof *t);
}

/* Sorts t by position (TermGenerator lists terms in term order). */
static void terms_by_position(struct terms *t)
{
    for (size_t i = 1; i < t->n; i++) {
        for (size_t j = i; j > 0 && t->pos[j - 1] > t->pos[j]; j--) {
            char *tv = t->v[j];
            unsigned tp = t->pos[j];
            t->v[j] = t->v[j - 1];
            t->pos[j] = t->pos[j - 1];
            t->v[j - 1] = tv;
            t->pos[j - 1] = tp;
        }
    }
}

static xc_termgen *tg;
static xc_stem *stemmer;

/* The words TermGenerator indexes for text (accents folded as the schema folds). */
static void words_of(const char *text, size_t len, struct terms *out)
{
    char *folded = NULL;
    size_t flen = 0;
    if (util_fold_latin(text, len, &folded, &flen) < 0)
        abort();
    xc_doc *doc = xc_doc_new(NULL);
    xc_termgen_set_document(tg, doc);
    if (xc_termgen_index_text(tg, folded ? folded : text, folded ? flen : len, 1, "", NULL) < 0 ||
        xc_doc_terms(doc, collect, out, NULL) < 0)
        abort();
    xc_doc_free(doc);
    free(folded);
}

static void stem_of(const char *w, char *out, size_t outlen)
{
    if (xc_stem_word(stemmer, w, strlen(w), out, outlen) < 0)
        abort();
}

struct query {
    char text[512];
    char stems[MAX_QWORDS][128];
    size_t n;
    /* A proximity query: its words (as indexed, not stemmed), window and order. */
    int prox;
    char words[MAX_QWORDS][128];
    unsigned window;
    int ordered;
};

static int is_query_stem(const struct query *q, const char *word)
{
    char s[128];
    stem_of(word, s, sizeof s);
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->stems[i], s) == 0)
            return 1;
    }
    return 0;
}

/* Undoes the snippet's HTML escaping. */
static size_t unescape(const char *s, size_t len, char *out)
{
    static const struct {
        const char *ent, *ch;
    } ents[] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}};
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t k;
        for (k = 0; k < sizeof ents / sizeof ents[0]; k++) {
            size_t el = strlen(ents[k].ent);
            if (i + el <= len && memcmp(s + i, ents[k].ent, el) == 0) {
                out[o++] = ents[k].ch[0];
                i += el;
                break;
            }
        }
        if (k == sizeof ents / sizeof ents[0])
            out[o++] = s[i++];
    }
    out[o] = '\0';
    return o;
}

struct counts {
    unsigned long queries, hits, snippets, titles_marked, titles_plain, words, marked, errors;
    unsigned long corrected, unplaced, matched_hits;
};

/* The words of one stretch of marked or unmarked text, appended to out with that flag. The
 * words of a stretch are read with the text that follows it (next, nlen bytes) as context,
 * as the indexer read them: "U.S." alone is the acronym "us", while in "U.S.dlrs" it is "u"
 * and "s". The stretch's words are those of the two together, less the next stretch's. */
static void stretch_words(const char *s, size_t len, const char *next, size_t nlen, int marked,
                          struct terms *out)
{
    char *plain = malloc(len + nlen + 1), *tail = malloc(nlen + 1);
    size_t pl = unescape(s, len, plain);
    size_t tl = unescape(next, nlen, tail);
    memcpy(plain + pl, tail, tl + 1);
    struct terms w = {0}, t = {0};
    words_of(plain, pl + tl, &w);
    words_of(tail, tl, &t);
    terms_by_position(&w);
    size_t own = w.n > t.n ? w.n - t.n : 0;
    for (size_t i = 0; i < own; i++)
        terms_push(out, w.v[i], strlen(w.v[i]), 0, marked);
    terms_free(&w);
    terms_free(&t);
    free(plain);
    free(tail);
}

static void violation(struct counts *c, const struct query *q, const char *word, int marked,
                      const char *what, const char *whole)
{
    c->errors++;
    if (c->errors <= 10)
        printf("# VIOLATION: query \"%s\": word \"%s\" is %s in %s: %s\n", q->text, word,
               marked ? "marked but does not match" : "not marked but matches", what, whole);
}

/* Checks plain-word marks: a word is marked exactly when its stem is a query word's. */
static void check_stems(const struct query *q, const struct terms *w, const char *what,
                        const char *whole, struct counts *c)
{
    for (size_t i = 0; i < w->n; i++) {
        int match = is_query_stem(q, w->v[i]);
        c->words++;
        c->marked += w->marked[i];
        if (match != w->marked[i])
            violation(c, q, w->v[i], w->marked[i], what, whole);
    }
}

/* Whether the word at position i of doc takes part in a match of q's operator: some window
 * of q->window positions holds i and the other words on distinct positions (in the
 * query's order for ADJ). Tries every window and, for ADJ, every place of i in the order. */
static int in_match(const struct query *q, const struct terms *doc, size_t i)
{
    size_t n = doc->n, w = q->window;
    for (size_t f = i + 1 > w ? i + 1 - w : 0; f <= i; f++) {
        size_t l = f + w < n ? f + w : n; /* the window is [f, l) */
        if (!q->ordered) {
            /* The words are distinct: each needs one occurrence in the window. */
            int here = 0, all = 1;
            for (size_t k = 0; k < q->n; k++) {
                int found = 0;
                for (size_t j = f; j < l && !found; j++)
                    found = strcmp(doc->v[j], q->words[k]) == 0;
                all &= found;
                here |= strcmp(doc->v[i], q->words[k]) == 0;
            }
            if (here && all)
                return 1;
            continue;
        }
        for (size_t k = 0; k < q->n; k++) {
            if (strcmp(doc->v[i], q->words[k]) != 0)
                continue;
            /* Words before k at decreasing positions from i, words after at increasing. */
            size_t at = i, ok = 1;
            for (size_t b = k; b-- > 0 && ok;) {
                ok = 0;
                while (at > f && !ok)
                    ok = strcmp(doc->v[--at], q->words[b]) == 0;
            }
            at = i;
            for (size_t a = k + 1; a < q->n && ok; a++) {
                ok = 0;
                while (at + 1 < l && !ok)
                    ok = strcmp(doc->v[++at], q->words[a]) == 0;
            }
            if (ok)
                return 1;
        }
    }
    return 0;
}

/* The words of a whole text, by position. */
static void text_positions(const char *text, size_t len, struct terms *out)
{
    words_of(text, len, out);
    terms_by_position(out);
}

/* Where the words of w stand in doc: the first offset at which they all do (the last one
 * aside: read without what follows it, it may differ), or -1. */
static long place(const struct terms *w, const struct terms *doc)
{
    size_t m = w->n > 1 ? w->n - 1 : w->n;
    for (size_t off = 0; off + m <= doc->n; off++) {
        size_t j = 0;
        while (j < m && strcmp(w->v[j], doc->v[off + j]) == 0)
            j++;
        if (j == m)
            return (long)off;
    }
    return -1;
}

/* Checks proximity marks: a word is marked exactly when it takes part in a match, at its
 * place in the whole text doc. Returns whether any word of doc takes part in a match. */
static void check_prox(const struct query *q, const struct terms *w, const struct terms *doc,
                       const char *what, const char *whole, struct counts *c)
{
    if (w->n == 0)
        return;
    long off = place(w, doc);
    if (off < 0) {
        c->unplaced++;
        return;
    }
    for (size_t i = 0; i < w->n && (size_t)off + i < doc->n; i++) {
        int match = in_match(q, doc, (size_t)off + i);
        c->words++;
        c->marked += w->marked[i];
        if (match != w->marked[i])
            violation(c, q, w->v[i], w->marked[i], what, whole);
    }
}

static int any_match(const struct query *q, const struct terms *doc)
{
    for (size_t i = 0; i < doc->n; i++) {
        if (in_match(q, doc, i))
            return 1;
    }
    return 0;
}

/* Splits s at the markers and checks its words (each stretch read with the next one as
 * context); doc: the whole text s comes from, for a proximity query. */
static void check_marked(const struct query *q, const char *s, const struct terms *doc,
                         const char *what, struct counts *c)
{
    const char *start[256];
    size_t len[256];
    int mk[256];
    size_t n = 0;
    const char *p = s;
    while (n < 255) {
        const char *open = strstr(p, "<b>");
        if (!open) {
            start[n] = p;
            len[n] = strlen(p);
            mk[n++] = 0;
            break;
        }
        start[n] = p;
        len[n] = (size_t)(open - p);
        mk[n++] = 0;
        const char *close = strstr(open + 3, "</b>");
        if (!close) {
            c->errors++;
            printf("# VIOLATION: unclosed marker in %s: %s\n", what, s);
            return;
        }
        start[n] = open + 3;
        len[n] = (size_t)(close - open - 3);
        mk[n++] = 1;
        p = close + 4;
    }
    /* A snippet cut from a longer text starts and ends with an ellipsis. */
    if (n > 0 && strncmp(start[0], "… ", 4) == 0) {
        start[0] += 4;
        len[0] -= 4;
    }
    if (n > 0 && len[n - 1] >= 4 && strncmp(start[n - 1] + len[n - 1] - 4, " …", 4) == 0)
        len[n - 1] -= 4;
    struct terms w = {0};
    for (size_t i = 0; i < n; i++)
        stretch_words(start[i], len[i], i + 1 < n ? start[i + 1] : "", i + 1 < n ? len[i + 1] : 0,
                      mk[i], &w);
    if (q->prox)
        check_prox(q, &w, doc, what, s, c);
    else
        check_stems(q, &w, what, s, c);
    terms_free(&w);
}

/* A query of 1 to MAX_QWORDS words of title (not stop words: an OR query leaves those
 * out). Returns 0 when none could be drawn. */
static int plain_query(const char *title, struct query *q)
{
    struct terms tw = {0};
    words_of(title, strlen(title), &tw);
    size_t qlen = 0;
    unsigned nq = 1 + (unsigned)(rng() % MAX_QWORDS);
    for (unsigned i = 0; i < nq * 3 && q->n < nq && tw.n > 0; i++) {
        const char *w = tw.v[rng() % tw.n];
        if (schema_is_stopword(w, strlen(w)))
            continue;
        char s[128];
        stem_of(w, s, sizeof s);
        int dup = 0;
        for (size_t j = 0; j < q->n; j++)
            dup |= strcmp(q->stems[j], s) == 0;
        if (dup || qlen + strlen(w) + 2 >= sizeof q->text)
            continue;
        qlen += (size_t)snprintf(q->text + qlen, sizeof q->text - qlen, "%s%s", q->n ? " " : "", w);
        snprintf(q->stems[q->n++], sizeof q->stems[0], "%s", s);
    }
    terms_free(&tw);
    return q->n > 0;
}

/* A word the query parser reads as itself: lower-case ASCII letters, not a stop word. */
static int plain_word(const char *w)
{
    size_t n = strlen(w);
    if (n < 2 || n >= 64 || schema_is_stopword(w, n))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < 'a' || w[i] > 'z')
            return 0;
    }
    return 1;
}

/* A NEAR/n or ADJ/n query of 2 or 3 distinct words that stand within 4 positions of each
 * other in title. Returns 0 when the title has no such words. */
static int prox_query(const char *title, struct query *q)
{
    struct terms tw = {0};
    text_positions(title, strlen(title), &tw);
    unsigned nq = 2 + (unsigned)(rng() % 4 == 0);
    size_t first = tw.n ? (size_t)(rng() % tw.n) : 0;
    for (size_t i = first; i < tw.n && i < first + 5 && q->n < nq; i++) {
        int dup = 0;
        for (size_t j = 0; j < q->n; j++)
            dup |= strcmp(q->words[j], tw.v[i]) == 0;
        if (!dup && plain_word(tw.v[i]))
            snprintf(q->words[q->n++], sizeof q->words[0], "%s", tw.v[i]);
    }
    terms_free(&tw);
    if (q->n < 2)
        return 0;
    q->prox = 1;
    q->ordered = (int)(rng() % 2);
    unsigned n = 1 + (unsigned)(rng() % 6);
    /* Xapian's window: n more than the words less one ("a NEAR/3 b" is NEAR 4). */
    q->window = n + (unsigned)q->n - 1;
    if (!q->ordered) {
        for (size_t i = q->n; i-- > 1;) {
            size_t j = (size_t)(rng() % (i + 1));
            char tmp[128];
            memcpy(tmp, q->words[i], sizeof tmp);
            memcpy(q->words[i], q->words[j], sizeof tmp);
            memcpy(q->words[j], tmp, sizeof tmp);
        }
    }
    size_t len = (size_t)snprintf(q->text, sizeof q->text, "%s", q->words[0]);
    for (size_t i = 1; i < q->n; i++)
        len += (size_t)snprintf(q->text + len, sizeof q->text - len, " %s/%u %s",
                                q->ordered ? "ADJ" : "NEAR", n, q->words[i]);
    return 1;
}

/* Runs q through the search path and checks every hit's snippet and title. */
static void run_query(struct search_index *ix, const struct query *q, struct counts *c)
{
    struct search_error err;
    struct search_request req;
    search_request_init(&req);
    if (search_request_set(&req, "q", q->text, &err) < 0) {
        search_request_clear(&req);
        return;
    }
    json_t *res = search_run(ix, &req, &err);
    search_request_clear(&req);
    if (!res) {
        printf("# VIOLATION: query \"%s\" failed: %s\n", q->text, err.message);
        c->errors++;
        return;
    }
    /* A corrected query searched other words than the oracle knows. */
    if (q->prox && json_object_get(res, "corrected_query")) {
        c->corrected++;
        json_decref(res);
        return;
    }
    c->queries++;
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(res, "hits"), i, h) {
        c->hits++;
        const char *title = json_string_value(json_object_get(h, "title"));
        if (!title)
            title = "";
        struct terms tdoc = {0}, bdoc = {0};
        if (q->prox) {
            /* The positions of the whole text and title, where matches are found. */
            json_t *d = search_doc(ix, json_string_value(json_object_get(h, "id")), &err);
            const char *body = d ? json_string_value(json_object_get(d, "text")) : NULL;
            if (!body) {
                printf("# VIOLATION: no text for a hit of \"%s\"\n", q->text);
                c->errors++;
                json_decref(d);
                continue;
            }
            text_positions(body, strlen(body), &bdoc);
            text_positions(title, strlen(title), &tdoc);
            json_decref(d);
            if (any_match(q, &bdoc) || any_match(q, &tdoc)) {
                c->matched_hits++;
            } else {
                printf("# VIOLATION: query \"%s\": the oracle finds no match in hit %s\n",
                       q->text, json_string_value(json_object_get(h, "id")));
                c->errors++;
            }
        }
        const char *snip = json_string_value(json_object_get(h, "snippet"));
        if (snip) {
            c->snippets++;
            check_marked(q, snip, &bdoc, "the snippet", c);
        }
        const char *tm = json_string_value(json_object_get(h, "title_marked"));
        if (tm) {
            c->titles_marked++;
            check_marked(q, tm, &tdoc, "title_marked", c);
        } else {
            /* No marked title: no word of the title may match (read as one unmarked
             * stretch). */
            c->titles_plain++;
            check_marked(q, title, &tdoc, "a title without title_marked", c);
        }
        terms_free(&tdoc);
        terms_free(&bdoc);
    }
    json_decref(res);
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: highlight-check DB CORPUS.jsonl SEED N [NPROX]\n");
        return 2;
    }
    long seed, count, nprox = 0;
    if (num_parse_long(argv[3], 0, LONG_MAX, &seed) != NUM_OK ||
        num_parse_long(argv[4], 1, 1000000, &count) != NUM_OK ||
        (argc == 6 && num_parse_long(argv[5], 0, 1000000, &nprox) != NUM_OK)) {
        fprintf(stderr, "highlight-check: SEED must be a whole number, N one from 1 to 1000000, "
                        "NPROX one from 0 to 1000000\n");
        return 2;
    }
    rng_seed(seed);
    unsigned long want = (unsigned long)count;
    unsigned long want_prox = (unsigned long)nprox;
    tg = xc_termgen_new(SCHEMA_LANG, NULL);
    stemmer = xc_stem_new(SCHEMA_LANG, NULL);
    struct search_error err;
    struct search_index *ix = search_index_open(argv[1], &err);
    if (!tg || !stemmer || !ix) {
        fprintf(stderr, "highlight-check: cannot open %s\n", argv[1]);
        return 2;
    }
    search_index_set_timeout(ix, 0);

    /* Every title of the corpus. */
    static const char *const title_field[] = {"title"};
    size_t ntitles;
    char **titles = corpus_texts(argv[2], title_field, 1, &ntitles);
    if (!titles)
        return 2;

    struct counts c = {0}, cp = {0};
    for (unsigned long k = 0; k < want && ntitles > 0; k++) {
        struct query q = {.n = 0};
        if (plain_query(titles[rng() % ntitles], &q))
            run_query(ix, &q, &c);
    }
    for (unsigned long k = 0; k < want_prox && ntitles > 0; k++) {
        struct query q = {.n = 0};
        if (prox_query(titles[rng() % ntitles], &q))
            run_query(ix, &q, &cp);
    }
    printf("# %s: seed %s: %lu queries, %lu hits, %lu snippets, %lu marked titles, %lu "
           "titles without marks, %lu words checked (%lu marked), %lu violations\n",
           argv[2], argv[3], c.queries, c.hits, c.snippets, c.titles_marked, c.titles_plain,
           c.words, c.marked, c.errors);
    int failed = c.errors || c.queries == 0 || c.marked == 0;
    if (want_prox > 0) {
        printf("# %s: seed %s: NEAR/ADJ: %lu queries (%lu left out: corrected), %lu hits (%lu "
               "with a match found), %lu snippets, %lu marked titles, %lu titles without "
               "marks, %lu words checked (%lu marked), %lu texts not placed, %lu violations\n",
               argv[2], argv[3], cp.queries, cp.corrected, cp.hits, cp.matched_hits, cp.snippets,
               cp.titles_marked, cp.titles_plain, cp.words, cp.marked, cp.unplaced, cp.errors);
        /* A text the oracle cannot place is not checked: a few are tolerated (a snippet
         * starting inside a very long word), not many. */
        failed |= cp.errors || cp.queries == 0 || cp.marked == 0 || cp.unplaced * 100 > cp.snippets;
    }
    corpus_texts_free(titles, ntitles);
    search_index_close(ix);
    xc_termgen_free(tg);
    xc_stem_free(stemmer);
    return failed;
}
