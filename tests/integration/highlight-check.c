/*
 * highlight-check.c -- the highlighting property, checked through the real search path.
 *
 *   highlight-check DB CORPUS.jsonl SEED N
 *
 * Draws N titles of CORPUS with a seeded RNG and makes a query of 1 to 3 of each title's
 * words (plain words, joined by spaces). Runs it through search_run() on the index at DB,
 * as quired and `quire --db` do, and checks every hit: in the snippet and in the marked
 * title, every word whose stem equals the stem of a query word is marked, and no other
 * word is; a hit without `title_marked` has no such word in its title.
 *
 * The oracle is not the code under test: words are what Xapian's TermGenerator indexes for
 * each marked and unmarked stretch of the text (after the schema's accent folding, which
 * is part of what the index holds), and stems are Xapian's English stemmer's. Prints the
 * counts it checked; exits 1 on the first few violations (described), 0 otherwise.
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

#define MAX_QWORDS 3

static uint64_t rng_state;
static uint64_t rng(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

struct terms {
    char *v[512];
    unsigned pos[512];
    size_t n;
};

static void collect(const char *term, size_t len, unsigned wdf, const unsigned *pos,
                    size_t npos, void *ctx)
{
    (void)wdf;
    struct terms *t = ctx;
    /* Positional terms are the words; "Z" terms (stems) carry no position. */
    for (size_t i = 0; i < npos && t->n < 512; i++) {
        t->v[t->n] = strndup(term, len);
        t->pos[t->n] = pos[i];
        t->n++;
    }
}

static void terms_free(struct terms *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    t->n = 0;
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
};

/* Checks one stretch of text: all its words match the query (marked) or none do. The words
 * of a stretch are read with the text that follows it (next, nlen bytes) as context, as
 * the indexer read them: "U.S." alone is the acronym "us", while in "U.S.dlrs" it is "u"
 * and "s". The stretch's words are those of the two together, less the next stretch's. */
static void check_stretch(const struct query *q, const char *s, size_t len, const char *next,
                          size_t nlen, int marked, const char *what, const char *whole,
                          struct counts *c)
{
    char *plain = malloc(len + nlen + 1), *tail = malloc(nlen + 1);
    size_t pl = unescape(s, len, plain);
    size_t tl = unescape(next, nlen, tail);
    memcpy(plain + pl, tail, tl + 1);
    struct terms w = {.n = 0}, t = {.n = 0};
    words_of(plain, pl + tl, &w);
    words_of(tail, tl, &t);
    /* Terms come back in term order: sort both by position to take the first ones. */
    for (size_t i = 1; i < w.n; i++) {
        for (size_t j = i; j > 0 && w.pos[j - 1] > w.pos[j]; j--) {
            char *tv = w.v[j];
            unsigned tp = w.pos[j];
            w.v[j] = w.v[j - 1];
            w.pos[j] = w.pos[j - 1];
            w.v[j - 1] = tv;
            w.pos[j - 1] = tp;
        }
    }
    size_t own = w.n > t.n ? w.n - t.n : 0;
    for (size_t i = 0; i < own; i++) {
        int match = is_query_stem(q, w.v[i]);
        c->words++;
        c->marked += marked;
        if (match != marked) {
            c->errors++;
            if (c->errors <= 10)
                printf("# VIOLATION: query \"%s\": word \"%s\" is %s in %s: %s\n", q->text,
                       w.v[i], marked ? "marked but does not match" : "not marked but matches",
                       what, whole);
        }
    }
    terms_free(&w);
    terms_free(&t);
    free(plain);
    free(tail);
}

/* Splits s at the markers and checks each stretch (with the next one as context). */
static void check_marked(const struct query *q, const char *s, const char *what,
                         struct counts *c)
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
    for (size_t i = 0; i < n; i++)
        check_stretch(q, start[i], len[i], i + 1 < n ? start[i + 1] : "", i + 1 < n ? len[i + 1] : 0,
                      mk[i], what, s, c);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: highlight-check DB CORPUS.jsonl SEED N\n");
        return 2;
    }
    long seed, count;
    if (num_parse_long(argv[3], 0, LONG_MAX, &seed) != NUM_OK ||
        num_parse_long(argv[4], 1, 1000000, &count) != NUM_OK) {
        fprintf(stderr, "highlight-check: SEED must be a whole number, N one from 1 to 1000000\n");
        return 2;
    }
    rng_state = (unsigned long long)seed * 0x9E3779B97F4A7C15ULL + 1;
    unsigned long want = (unsigned long)count;
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
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 2;
    }
    char **titles = NULL;
    size_t ntitles = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    while ((n = getline(&line, &lcap, f)) > 0) {
        json_t *doc = json_loadb(line, (size_t)n, 0, NULL);
        const char *t = doc ? json_string_value(json_object_get(doc, "title")) : NULL;
        if (t && *t) {
            if (ntitles == cap) {
                cap = cap ? cap * 2 : 1024;
                titles = realloc(titles, cap * sizeof *titles);
            }
            titles[ntitles++] = strdup(t);
        }
        json_decref(doc);
    }
    free(line);
    fclose(f);

    struct counts c = {0};
    for (unsigned long k = 0; k < want && ntitles > 0; k++) {
        const char *title = titles[rng() % ntitles];
        struct terms tw = {.n = 0};
        words_of(title, strlen(title), &tw);
        if (tw.n == 0)
            continue;
        struct query q = {.n = 0};
        size_t qlen = 0;
        unsigned nq = 1 + (unsigned)(rng() % MAX_QWORDS);
        for (unsigned i = 0; i < nq * 3 && q.n < nq; i++) {
            const char *w = tw.v[rng() % tw.n];
            /* A stop word is left out of an OR query (schema.c): not searched, not marked. */
            if (schema_is_stopword(w, strlen(w)))
                continue;
            char s[128];
            stem_of(w, s, sizeof s);
            int dup = 0;
            for (size_t j = 0; j < q.n; j++)
                dup |= strcmp(q.stems[j], s) == 0;
            if (dup || qlen + strlen(w) + 2 >= sizeof q.text)
                continue;
            qlen += (size_t)snprintf(q.text + qlen, sizeof q.text - qlen, "%s%s",
                                     q.n ? " " : "", w);
            snprintf(q.stems[q.n++], sizeof q.stems[0], "%s", s);
        }
        terms_free(&tw);

        struct search_request req;
        search_request_init(&req);
        if (search_request_set(&req, "q", q.text, &err) < 0) {
            search_request_clear(&req);
            continue;
        }
        json_t *res = search_run(ix, &req, &err);
        search_request_clear(&req);
        if (!res) {
            printf("# VIOLATION: query \"%s\" failed: %s\n", q.text, err.message);
            c.errors++;
            continue;
        }
        c.queries++;
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(res, "hits"), i, h) {
            c.hits++;
            const char *snip = json_string_value(json_object_get(h, "snippet"));
            if (snip) {
                c.snippets++;
                check_marked(&q, snip, "the snippet", &c);
            }
            const char *tm = json_string_value(json_object_get(h, "title_marked"));
            if (tm) {
                c.titles_marked++;
                check_marked(&q, tm, "title_marked", &c);
            } else {
                /* No marked title: no word of the title may match. */
                c.titles_plain++;
                const char *t = json_string_value(json_object_get(h, "title"));
                struct query qq = q;
                char esc[4096];
                /* The title as plain text is checked as one unmarked stretch. */
                snprintf(esc, sizeof esc, "%s", t ? t : "");
                check_stretch(&qq, esc, strlen(esc), "", 0, 0, "a title without title_marked",
                              esc, &c);
            }
        }
        json_decref(res);
    }
    printf("# %s: seed %s: %lu queries, %lu hits, %lu snippets, %lu marked titles, %lu "
           "titles without marks, %lu words checked (%lu marked), %lu violations\n",
           argv[2], argv[3], c.queries, c.hits, c.snippets, c.titles_marked, c.titles_plain,
           c.words, c.marked, c.errors);
    for (size_t i = 0; i < ntitles; i++)
        free(titles[i]);
    free(titles);
    search_index_close(ix);
    xc_termgen_free(tg);
    xc_stem_free(stemmer);
    return c.errors || c.queries == 0 || c.marked == 0 ? 1 : 0;
}
