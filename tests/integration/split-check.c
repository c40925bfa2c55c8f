/*
 * split-check.c -- a split match answers what the whole match answers, checked through the
 * real search path.
 *
 *   split-check DB CORPUS.jsonl SEED N
 *
 * Opens the index at DB twice: once matching whole (search_options.split_postings 0), once
 * splitting every match that can split, whatever its size and the machine's load
 * (split_postings 1, split_busy). Draws N searches with a seeded RNG, each of 1 to 4 words
 * taken from a random place of a random article of CORPUS (titles and bodies, so common
 * words too), with a random operator, offset, limit, and now and then a phrase, an
 * excluded word, a wildcard, exact counting, facets or collapsing; runs each on both views
 * through search_run(), as quired and `quire --db` do, and checks:
 *
 *   - the hits are the same: ids, ranks, scores, titles, in the same order. Not their
 *     "duplicates": a collapsed hit's count is Xapian's lower bound (the copies it met on
 *     the way), which a split meets differently; it is checked to be at least 1 where
 *     present;
 *   - suggestion and corrected query are the same;
 *   - with exact counting, the totals are the same;
 *   - without, the split's totals hold the true count (that of an exact whole match):
 *     lower <= count <= upper, and lower <= estimated <= upper.
 *
 * Prints what it checked (and how many searches did split); exits 1 on a violation, or
 * when fewer than half the searches split (the check would not be checking the split).
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "index.h"
#include "number.h"
#include "search.h"

#include "corpus-texts.h"

#define MAX_WORDS 4

/* Up to n words of text from a random place: runs of letters and digits, lowered. */
static size_t pick_words(const char *text, char words[MAX_WORDS][64], size_t n)
{
    size_t len = strlen(text);
    if (len == 0)
        return 0;
    size_t at = (size_t)(rng() % len);
    while (at > 0 && isalnum((unsigned char)text[at - 1]))
        at--;
    size_t got = 0;
    while (got < n && text[at]) {
        while (text[at] && !isalnum((unsigned char)text[at]))
            at++;
        size_t w = 0;
        while (isalnum((unsigned char)text[at])) {
            if (w < 63)
                words[got][w++] = (char)tolower((unsigned char)text[at]);
            at++;
        }
        if (w > 0) {
            words[got][w] = '\0';
            got++;
        }
    }
    return got;
}

struct search {
    char q[512];
    char op[4];
    char offset[8], limit[8];
    int exact, facets, dedup;
};

static void draw(const char *text, struct search *s)
{
    char words[MAX_WORDS][64];
    size_t n = pick_words(text, words, 1 + (size_t)(rng() % MAX_WORDS));
    size_t len = 0;
    unsigned form = (unsigned)(rng() % 10);
    s->q[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *pre = "", *post = "";
        if (form == 0 && n > 1) { /* a phrase of them all */
            pre = i == 0 ? "\"" : "";
            post = i == n - 1 ? "\"" : "";
        } else if (form == 1 && i == n - 1 && n > 1) {
            pre = "-"; /* the last word excluded */
        } else if (form == 2 && i == 0 && strlen(words[i]) >= 3) {
            words[i][3] = '\0'; /* a wildcard of its first three letters */
            post = "*";
        }
        len += (size_t)snprintf(s->q + len, sizeof s->q - len, "%s%s%s%s", i ? " " : "", pre,
                                words[i], post);
    }
    static const char *const offsets[] = {"0", "0", "0", "3", "10", "37"};
    static const char *const limits[] = {"1", "10", "10", "10", "25", "50"};
    snprintf(s->op, sizeof s->op, "%s", rng() % 2 ? "and" : "or");
    snprintf(s->offset, sizeof s->offset, "%s", offsets[rng() % 6]);
    snprintf(s->limit, sizeof s->limit, "%s", limits[rng() % 6]);
    s->exact = rng() % 4 == 0;
    s->facets = rng() % 10 == 0;
    s->dedup = rng() % 10 != 0;
}

static json_t *run(struct search_index *ix, const struct search *s, int exact)
{
    struct search_request req;
    struct search_error err;
    search_request_init(&req);
    const char *kv[][2] = {{"q", s->q},
                           {"op", s->op},
                           {"offset", s->offset},
                           {"limit", s->limit},
                           {"snippet", "0"},
                           {"exact", exact ? "1" : "0"},
                           {"dedup", s->dedup ? "1" : "0"},
                           {"facets", s->facets ? "source,year" : NULL}};
    json_t *res = NULL;
    for (size_t k = 0; k < sizeof kv / sizeof kv[0]; k++) {
        if (kv[k][1] && search_request_set(&req, kv[k][0], kv[k][1], &err) < 0) {
            printf("# VIOLATION: %s=%s refused: %s\n", kv[k][0], kv[k][1], err.message);
            goto done;
        }
    }
    res = search_run(ix, &req, &err);
    if (!res)
        printf("# VIOLATION: \"%s\" failed: %s\n", s->q, err.message);
done:
    search_request_clear(&req);
    return res;
}

static json_int_t total(json_t *res, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(res, "total"), key));
}

/* Takes "duplicates" out of every hit of res; 0, or -1 when one is not a count >= 1. */
static int strip_duplicates(json_t *res)
{
    size_t i;
    json_t *h;
    int rc = 0;
    json_array_foreach(json_object_get(res, "hits"), i, h) {
        json_t *d = json_object_get(h, "duplicates");
        if (d && !(json_is_integer(d) && json_integer_value(d) >= 1))
            rc = -1;
        json_object_del(h, "duplicates");
    }
    return rc;
}

static int same(json_t *a, json_t *b, const char *key)
{
    json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
    return (!x && !y) || (x && y && json_equal(x, y));
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: split-check DB CORPUS.jsonl SEED N\n");
        return 2;
    }
    long seed, count;
    if (num_parse_long(argv[3], 0, LONG_MAX, &seed) != NUM_OK ||
        num_parse_long(argv[4], 1, 1000000, &count) != NUM_OK) {
        fprintf(stderr, "split-check: SEED must be a whole number, N one from 1 to 1000000\n");
        return 2;
    }
    rng_seed(seed);
    struct search_options whole_opts, split_opts;
    search_options_init(&whole_opts);
    whole_opts.split_postings = 0;
    search_options_init(&split_opts);
    split_opts.split_postings = 1;
    split_opts.split_busy = 1;
    struct search_error err;
    struct search_index *whole = search_index_open_with(argv[1], &whole_opts, &err);
    struct search_index *split = search_index_open_with(argv[1], &split_opts, &err);
    if (!whole || !split) {
        fprintf(stderr, "split-check: cannot open %s\n", argv[1]);
        return 2;
    }
    search_index_set_timeout(whole, 0);
    search_index_set_timeout(split, 0);

    static const char *const fields[] = {"title", "body"};
    size_t ntexts = 0;
    char **texts = corpus_texts(argv[2], fields, 2, &ntexts);
    if (!texts)
        return 2;
    if (ntexts == 0) {
        fprintf(stderr, "split-check: no text in %s\n", argv[2]);
        return 2;
    }

    unsigned long searches = 0, hits = 0, exact = 0, bounded = 0, errors = 0;
    for (long k = 0; k < count && errors < 5; k++) {
        struct search s;
        draw(texts[rng() % ntexts], &s);
        if (!s.q[0])
            continue;
        json_t *a = run(whole, &s, s.exact), *b = run(split, &s, s.exact);
        json_t *truth = s.exact ? NULL : run(whole, &s, 1);
        if (!a || !b || (!s.exact && !truth)) {
            errors++;
        } else {
            searches++;
            hits += json_array_size(json_object_get(a, "hits"));
            int bad_counts = strip_duplicates(a) < 0 || strip_duplicates(b) < 0;
            const char *what = bad_counts                       ? "duplicates counts"
                               : !same(a, b, "hits")            ? "hits"
                               : !same(a, b, "suggestion")      ? "suggestion"
                               : !same(a, b, "corrected_query") ? "corrected query"
                               : !same(a, b, "facets")          ? "facets"
                                                                : NULL;
            if (!what && s.exact) {
                exact++;
                if (!same(a, b, "total"))
                    what = "exact totals";
            } else if (!what) {
                bounded++;
                json_int_t c = total(truth, "lower"), lo = total(b, "lower"),
                           est = total(b, "estimated"), hi = total(b, "upper");
                if (!(lo <= c && c <= hi && lo <= est && est <= hi))
                    what = "bounds of the totals";
            }
            if (what) {
                char *x = json_dumps(a, JSON_COMPACT), *y = json_dumps(b, JSON_COMPACT);
                printf("# VIOLATION: q=\"%s\" op=%s offset=%s limit=%s exact=%d: the %s "
                       "differ\n#   whole: %.600s\n#   split: %.600s\n",
                       s.q, s.op, s.offset, s.limit, s.exact, what, x, y);
                free(x);
                free(y);
                errors++;
            }
        }
        json_decref(a);
        json_decref(b);
        json_decref(truth);
    }
    unsigned long splits = search_index_splits(split), unsplit = search_index_splits(whole);
    printf("# %s: seed %s: %lu searches (%lu hits; %lu with exact totals, %lu with bounds "
           "checked), %lu matches split, %lu violations\n",
           argv[2], argv[3], searches, hits, exact, bounded, splits, errors);
    corpus_texts_free(texts, ntexts);
    search_index_close(whole);
    search_index_close(split);
    if (unsplit != 0) {
        printf("# VIOLATION: the view with split_postings 0 split %lu matches\n", unsplit);
        return 1;
    }
    return errors || searches == 0 || splits < searches / 2 ? 1 : 0;
}
