/*
 * suggest.c -- "did you mean": spelling suggestions for a query's words, from Xapian's
 * spelling table (the shard map's spelling database for a sharded index).
 *
 * The query's words are found by the one tokenizer (lib/tokenize), so a word is looked up
 * exactly as it was indexed: lower-cased in any script, accents folded. A word is checked
 * when the index lacks it, or when the query found nothing and the index holds the word in
 * fewer than SUGGEST_MAX_FREQ articles. Xapian's
 * own suggestion is the closest spelling, not the most used one: on bbc-news "blare" is one
 * edit from "blame" and two from "blair", which is in twenty times as many articles. So the
 * candidates are Xapian's suggestion and every close spelling in the table that shares the
 * word's first two letters, and the one in the most articles wins -- when the word is
 * unknown, or the winner is in SUGGEST_RATIO times as many articles as the word.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search_int.h"
#include "tokenize.h"
#include "util.h"
#include "xapian-c/xc.h"

#define SUGGEST_MAX_FREQ 10
#define SUGGEST_RATIO 20
/* Candidates ranked per word (each costs a term-frequency lookup). */
#define SUGGEST_MAX_CANDIDATES 16

/* True for query words that are operators, not words to spell-check. */
static int is_operator(const char *w, size_t n)
{
    static const char *ops[] = {"AND", "OR", "NOT", "XOR", "NEAR", "ADJ"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strlen(ops[i]) == n && memcmp(ops[i], w, n) == 0)
            return 1;
    }
    return 0;
}

struct word {
    size_t start, end;
    char term[TOKENIZE_MAX_TERM + 1];
};

struct words {
    struct word *v;
    size_t n, cap;
    const char *q;
    size_t qlen;
    int oom;
};

/* Keeps the query words worth checking: not CJK, not numbers, not a field name ("title:"),
 * a wildcard ("petro*") or an operator, 3 to 40 bytes. */
static int collect_word(const struct tokenize_token *tok, void *ctx)
{
    struct words *w = ctx;
    if (tok->cjk || tok->len < 3 || tok->len > 40)
        return 0;
    for (size_t i = 0; i < tok->len; i++) {
        if (tok->term[i] >= '0' && tok->term[i] <= '9')
            return 0;
    }
    char after = tok->end < w->qlen ? w->q[tok->end] : '\0';
    if (after == ':' || after == '*' || is_operator(w->q + tok->start, tok->end - tok->start))
        return 0;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        struct word *v = realloc(w->v, cap * sizeof *v);
        if (!v) {
            w->oom = 1;
            return 1;
        }
        w->v = v;
        w->cap = cap;
    }
    struct word *x = &w->v[w->n++];
    x->start = tok->start;
    x->end = tok->end;
    memcpy(x->term, tok->term, tok->len + 1);
    return 0;
}

struct candidates {
    xc_db *db;
    char best[256];
    unsigned best_freq;
    xc_error *xe;
};

/* Ranks one candidate by the number of articles holding it. */
static void rank_candidate(const char *cand, size_t len, void *ctx)
{
    struct candidates *c = ctx;
    if (c->xe || len >= sizeof c->best)
        return;
    char term[256];
    memcpy(term, cand, len);
    term[len] = '\0';
    unsigned f = xc_db_termfreq(c->db, term, &c->xe);
    if (!c->xe && f > c->best_freq) {
        c->best_freq = f;
        memcpy(c->best, term, len + 1);
    }
}

int search_suggest(struct search_index *ix, const char *q, int no_hits, char **out_text,
                   double deadline, int *timed_out, struct search_error *err, int *modified)
{
    struct strbuf out;
    sb_init(&out);
    int changed = 0;
    xc_error *xe = NULL;
    *out_text = NULL;
    struct words w = {NULL, 0, 0, q, strlen(q), 0};
    tokenize_text(q, w.qlen, collect_word, &w);
    if (w.oom)
        goto nomem;
    size_t pos = 0;
    for (size_t i = 0; i < w.n; i++) {
        const struct word *word = &w.v[i];
        /* Spelling lookups cost as much as the search itself, so they are made for unknown
         * words, and for rare ones (in fewer than SUGGEST_MAX_FREQ articles) only when the
         * query found nothing; a word in more articles is taken as meant. */
        unsigned tf = xc_db_termfreq(ix->db, word->term, &xe);
        if (xe)
            goto fail;
        if (tf >= SUGGEST_MAX_FREQ || (tf > 0 && !no_hits))
            continue;
        if (search_past(deadline)) {
            *timed_out = 1;
            sb_free(&out);
            free(w.v);
            return 0;
        }
        /* One edit for short words (two make most of them into some other word). */
        size_t chars = 0;
        for (const char *p = word->term; *p; p++)
            chars += ((unsigned char)*p & 0xC0) != 0x80;
        struct candidates c = {ix->db, "", 0, NULL};
        if (xc_db_spelling_candidates(ix->spelling ? ix->spelling : ix->db, word->term,
                                      chars <= 4 ? 1 : 2, SUGGEST_MAX_CANDIDATES, rank_candidate,
                                      &c, &xe) < 0 ||
            c.xe) {
            if (!xe)
                xe = c.xe;
            else
                xc_error_free(c.xe);
            goto fail;
        }
        if (c.best_freq == 0 || (tf > 0 && c.best_freq < SUGGEST_RATIO * (unsigned long)tf))
            continue;
        sb_append(&out, q + pos, word->start - pos);
        /* Keep a capital the word was typed with. */
        char first = q[word->start];
        if (first >= 'A' && first <= 'Z' && c.best[0] >= 'a' && c.best[0] <= 'z')
            c.best[0] = (char)(c.best[0] - 32);
        sb_puts(&out, c.best);
        pos = word->end;
        changed = 1;
    }
    free(w.v);
    w.v = NULL;
    if (!changed) {
        sb_free(&out);
        return 0;
    }
    sb_puts(&out, q + pos);
    if (out.failed)
        goto nomem;
    *out_text = out.buf;
    return 0;
fail:
    *modified = search_binding_error(err, xe, "cannot look up spellings");
    xc_error_free(xe);
    sb_free(&out);
    free(w.v);
    return -1;
nomem:
    search_out_of_memory(err);
    sb_free(&out);
    free(w.v);
    return -1;
}
