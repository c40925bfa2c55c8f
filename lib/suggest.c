/*
 * suggest.c -- "did you mean": spelling suggestions for a query's words, from Xapian's
 * spelling table (the shard map's spelling database for a sharded index).
 *
 * The query's words are found by the one tokenizer (lib/tokenize), so a word is looked up
 * exactly as it was indexed: lower-cased in any script, accents folded. A word is checked
 * when the index lacks it or holds it in fewer than SUGGEST_MAX_FREQ articles. Xapian's
 * own suggestion is the closest spelling, not the most used one: on bbc-news "blare" is one
 * edit from "blame" and two from "blair", which is in twenty times as many articles. So the
 * candidates are Xapian's suggestion and every close spelling in the table that shares the
 * word's first two letters, and the one in the most articles wins -- when the word is
 * unknown, or the winner is in SUGGEST_RATIO times as many articles as the word. An
 * excluded word (-word) is left alone: suggesting what someone asked not to see helps no
 * one, and a correction would turn "without it" into "without it and its correction".
 *
 * A rare word that the index holds is checked only when the query's known words do not all
 * occur together in one article: a title typed as written, with its names and terms of
 * art, is taken as meant ("wheel" is not "when"), and costs one walk of the known words'
 * posting lists (no match) instead of a spelling look-up per rare word.
 *
 * The same suggestion drives typo tolerance (correct.c), which needs to know whether a
 * replaced word was in the index at all (*known).
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
/* Other query words a candidate is matched with to count its company, and how far the
 * count goes (a match per candidate, only for words being corrected). */
#define SUGGEST_CONTEXT_WORDS 8
#define SUGGEST_CONTEXT_CHECK 100
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
    unsigned tf;
    char term[TOKENIZE_MAX_TERM + 1];
};

struct words {
    struct word *v;
    size_t n, cap;
    const char *q;
    size_t qlen;
    int oom;
    int after_not; /* the token before was the operator NOT */
};

/* 1 when the byte at start is inside a quoted field value (category:"Oil and gas"): a
 * value names an exact term, and "correcting" it would widen a filter. */
static int in_field_value(const char *q, size_t start)
{
    size_t open = 0;
    int inside = 0;
    for (size_t i = 0; i < start; i++) {
        if (q[i] == '"') {
            inside = !inside;
            open = i;
        }
    }
    return inside && open > 0 && q[open - 1] == ':';
}

/* Keeps the query words worth checking: not CJK, not numbers, not a field name ("title:"),
 * a field's value (category:oil, source:"BBC News"), a wildcard ("petro*"), an operator or
 * an excluded word (-word, NOT word), 3 to 40 bytes. */
static int collect_word(const struct tokenize_token *tok, void *ctx)
{
    struct words *w = ctx;
    int negated = w->after_not;
    w->after_not = tok->end - tok->start == 3 && memcmp(w->q + tok->start, "NOT", 3) == 0;
    if (negated || tok->cjk || tok->len < 3 || tok->len > 40)
        return 0;
    for (size_t i = 0; i < tok->len; i++) {
        if (tok->term[i] >= '0' && tok->term[i] <= '9')
            return 0;
    }
    char after = tok->end < w->qlen ? w->q[tok->end] : '\0';
    char before = tok->start > 0 ? w->q[tok->start - 1] : '\0';
    if (after == ':' || after == '*' || before == '-' || before == ':' ||
        in_field_value(w->q, tok->start) ||
        is_operator(w->q + tok->start, tok->end - tok->start))
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

/* Room for every candidate xc_db_spelling_candidates reports: Xapian's and the table's. */
#define SUGGEST_MAX_SEEN (SUGGEST_MAX_CANDIDATES + 1)

struct candidate {
    char term[64];
    unsigned freq, dist;
    long ctx; /* articles holding it and the query's other known words (up to a bound) */
};

struct candidates {
    xc_db *db;
    struct candidate v[SUGGEST_MAX_SEEN];
    unsigned n;
    xc_error *xe;
};

/* Keeps one candidate with the number of articles holding it. */
static void add_candidate(const char *cand, size_t len, unsigned dist, void *ctx)
{
    struct candidates *c = ctx;
    if (c->xe || len >= sizeof c->v[0].term || c->n == SUGGEST_MAX_SEEN)
        return;
    struct candidate *x = &c->v[c->n];
    memcpy(x->term, cand, len);
    x->term[len] = '\0';
    x->freq = xc_db_termfreq(c->db, x->term, &c->xe);
    x->dist = dist;
    x->ctx = 0;
    if (!c->xe && x->freq > 0)
        c->n++;
}

/* The best candidate, or NULL: the most articles -- those that also hold the query's other
 * known words when any candidate has such company (the context: "abba queen neters music"
 * is "enters", not "never"), else all -- halved for each edit away from the word,
 * so that a farther spelling must be in more than twice as many articles per extra edit
 * to win ("truns" is "turns", not "true"; "blare" is still "blair", in 2.4 times the
 * articles of "blame" on bbc-news). Then, of the spellings with the winner's stem, the
 * closest: they find the same articles, and the one typed was most likely meant
 * ("mililons" is "millions", not "million"). */
static const struct candidate *best_candidate(const struct candidates *c, xc_stem *stem)
{
    const struct candidate *best = NULL;
    double best_score = 0;
    int context = 0;
    for (unsigned i = 0; i < c->n; i++)
        context |= c->v[i].ctx > 0;
    for (unsigned i = 0; i < c->n; i++) {
        double n = context ? (double)c->v[i].ctx : (double)c->v[i].freq;
        double score = n / (double)(1u << (c->v[i].dist < 8 ? c->v[i].dist : 8));
        if (score > best_score) {
            best = &c->v[i];
            best_score = score;
        }
    }
    char bstem[64], s[64];
    if (!best || !stem ||
        xc_stem_word(stem, best->term, strlen(best->term), bstem, sizeof bstem) < 0)
        return best;
    const struct candidate *pick = best;
    for (unsigned i = 0; i < c->n; i++) {
        const struct candidate *x = &c->v[i];
        if ((x->dist < pick->dist || (x->dist == pick->dist && x->freq > pick->freq)) &&
            xc_stem_word(stem, x->term, strlen(x->term), s, sizeof s) >= 0 &&
            strcmp(s, bstem) == 0)
            pick = x;
    }
    return pick;
}

/* Counts, for each candidate for word i of w, the articles holding it together with the
 * query's other known words (SUGGEST_CONTEXT_CHECK at most; 0 for each when there are no
 * other known words). Returns 0, or -1 with err filled. */
static int context_counts(struct search_index *ix, const struct words *w, size_t i,
                          struct candidates *c, double deadline, int *timed_out,
                          struct search_error *err, int *modified)
{
    xc_query *parts[SUGGEST_CONTEXT_WORDS + 1];
    size_t n = 1;
    xc_error *xe = NULL;
    int rc = -1;
    for (size_t j = 0; j < w->n && n <= SUGGEST_CONTEXT_WORDS; j++) {
        if (j == i || w->v[j].tf == 0)
            continue;
        parts[n] = xc_query_term(w->v[j].term, &xe);
        if (!parts[n])
            goto out;
        n++;
    }
    if (n == 1) {
        rc = 0;
        goto out;
    }
    for (unsigned k = 0; k < c->n; k++) {
        parts[0] = xc_query_term(c->v[k].term, &xe);
        xc_query *all =
            parts[0] ? xc_query_combine(XC_QOP_AND, (const xc_query *const *)parts, n, &xe) : NULL;
        xc_query_free(parts[0]);
        if (!all)
            goto out;
        c->v[k].ctx = search_match_count(ix, all, SUGGEST_CONTEXT_CHECK, deadline, timed_out, err,
                                         modified);
        xc_query_free(all);
        if (c->v[k].ctx < 0) {
            parts[0] = NULL;
            for (size_t j = 1; j < n; j++)
                xc_query_free(parts[j]);
            return -1;
        }
    }
    rc = 0;
out:
    for (size_t j = 1; j < n; j++)
        xc_query_free(parts[j]);
    if (rc < 0) {
        *modified = search_binding_error(err, xe, "cannot look up spellings");
        xc_error_free(xe);
    }
    return rc;
}

/* 1 when w has a rare word the index holds and its known words all occur together in some
 * article (a lone known word always does): then the rare ones are taken as meant (a name, a
 * term of art, the very spelling of the article looked for) and no spelling is looked up
 * for them. 0 otherwise, -1 with err filled. Far cheaper than the spelling look-up it
 * saves, which costs many times the search itself: the known words' posting lists are
 * walked together from the rarest (xc_db_cooccur), fewer than SUGGEST_MAX_FREQ steps, with
 * no match set up. A remote shard cannot walk them: there it is one match of at most one
 * article. */
static int rare_words_meant(struct search_index *ix, const struct words *w, double deadline,
                            int *timed_out, struct search_error *err, int *modified)
{
    size_t known = 0, rare = 0;
    for (size_t i = 0; i < w->n; i++) {
        known += w->v[i].tf > 0;
        rare += w->v[i].tf > 0 && w->v[i].tf < SUGGEST_MAX_FREQ;
    }
    if (rare == 0)
        return 0;
    if (!ix->has_remote) {
        const char **terms = malloc(known * sizeof *terms);
        if (!terms) {
            search_out_of_memory(err);
            return -1;
        }
        size_t n = 0, rarest = 0;
        for (size_t i = 0; i < w->n; i++) {
            if (w->v[i].tf == 0)
                continue;
            if (w->v[i].tf < w->v[rarest].tf || w->v[rarest].tf == 0)
                rarest = i;
            terms[n++] = w->v[i].term;
        }
        /* The rarest first: it bounds the walk. */
        for (size_t k = 0; k < n; k++) {
            if (terms[k] == w->v[rarest].term) {
                terms[k] = terms[0];
                terms[0] = w->v[rarest].term;
                break;
            }
        }
        xc_error *xe = NULL;
        int found = xc_db_cooccur(ix->db, terms, n, &xe);
        free(terms);
        if (found < 0) {
            *modified = search_binding_error(err, xe, "cannot look up spellings");
            xc_error_free(xe);
        }
        return found;
    }
    xc_query **parts = malloc(known * sizeof *parts);
    if (!parts) {
        search_out_of_memory(err);
        return -1;
    }
    size_t n = 0;
    xc_error *xe = NULL;
    xc_query *all = NULL;
    for (size_t i = 0; i < w->n; i++) {
        if (w->v[i].tf == 0)
            continue;
        parts[n] = xc_query_term(w->v[i].term, &xe);
        if (!parts[n])
            break;
        n++;
    }
    if (n == known)
        all = xc_query_combine(XC_QOP_AND, (const xc_query *const *)parts, n, &xe);
    for (size_t i = 0; i < n; i++)
        xc_query_free(parts[i]);
    free(parts);
    if (!all) {
        *modified = search_binding_error(err, xe, "cannot look up spellings");
        xc_error_free(xe);
        return -1;
    }
    long found = search_match_count(ix, all, 1, deadline, timed_out, err, modified);
    xc_query_free(all);
    return found < 0 ? -1 : found > 0;
}

int search_suggest(struct search_index *ix, const char *q, char **out_text, char **out_unknown,
                   int *known, double deadline, int *timed_out, struct search_error *err,
                   int *modified)
{
    *known = 0;
    /* out: every word replaced; unk: only the words the index lacks. */
    struct strbuf out, unk;
    sb_init(&out);
    sb_init(&unk);
    int changed = 0, unknown = 0;
    xc_error *xe = NULL;
    *out_text = NULL;
    *out_unknown = NULL;
    struct words w = {NULL, 0, 0, q, strlen(q), 0, 0};
    tokenize_text(q, w.qlen, collect_word, &w);
    if (w.oom)
        goto nomem;
    /* Xapian's spelling lookup costs many times the search itself (75% of the CPU when
     * asked for every word), so it is asked about unknown and rare words only; a word in
     * more articles is taken as meant. */
    for (size_t i = 0; i < w.n; i++) {
        w.v[i].tf = search_termfreq(ix, w.v[i].term, &xe);
        if (xe)
            goto fail;
    }
    int meant = rare_words_meant(ix, &w, deadline, timed_out, err, modified);
    if (meant < 0)
        goto failed;
    size_t pos = 0;
    for (size_t i = 0; i < w.n; i++) {
        const struct word *word = &w.v[i];
        unsigned tf = word->tf;
        if (tf >= SUGGEST_MAX_FREQ || (tf > 0 && meant))
            continue;
        if (search_past(deadline)) {
            *timed_out = 1;
            sb_free(&out);
            sb_free(&unk);
            free(w.v);
            return 0;
        }
        /* One edit for short words (two make most of them into some other word). */
        size_t chars = 0;
        for (const char *p = word->term; *p; p++)
            chars += ((unsigned char)*p & 0xC0) != 0x80;
        struct candidates c;
        c.db = ix->db;
        c.n = 0;
        c.xe = NULL;
        if (xc_db_spelling_candidates(ix->spelling ? ix->spelling : ix->db, word->term,
                                      chars <= 4 ? 1 : 2, SUGGEST_MAX_CANDIDATES, add_candidate,
                                      &c, &xe) < 0 ||
            c.xe) {
            if (!xe)
                xe = c.xe;
            else
                xc_error_free(c.xe);
            goto fail;
        }
        if (c.n > 1 && context_counts(ix, &w, i, &c, deadline, timed_out, err, modified) < 0)
            goto failed;
        const struct candidate *pick = best_candidate(&c, ix->stem);
        if (!pick || (tf > 0 && pick->freq < SUGGEST_RATIO * (unsigned long)tf))
            continue;
        char best[sizeof pick->term];
        memcpy(best, pick->term, sizeof best);
        /* Keep a capital the word was typed with. */
        char first = q[word->start];
        if (first >= 'A' && first <= 'Z' && best[0] >= 'a' && best[0] <= 'z')
            best[0] = (char)(best[0] - 32);
        sb_append(&out, q + pos, word->start - pos);
        sb_puts(&out, best);
        sb_append(&unk, q + pos, word->start - pos);
        sb_puts(&unk, tf > 0 ? "" : best);
        if (tf > 0)
            sb_append(&unk, q + word->start, word->end - word->start);
        pos = word->end;
        changed = 1;
        unknown |= tf == 0;
        *known |= tf > 0;
    }
    free(w.v);
    w.v = NULL;
    if (!changed) {
        sb_free(&out);
        sb_free(&unk);
        return 0;
    }
    sb_puts(&out, q + pos);
    sb_puts(&unk, q + pos);
    if (out.failed || unk.failed)
        goto nomem;
    *out_text = out.buf;
    if (unknown)
        *out_unknown = unk.buf;
    else
        sb_free(&unk);
    return 0;
fail:
    *modified = search_binding_error(err, xe, "cannot look up spellings");
    xc_error_free(xe);
failed:
    sb_free(&out);
    sb_free(&unk);
    free(w.v);
    return -1;
nomem:
    search_out_of_memory(err);
    sb_free(&out);
    sb_free(&unk);
    free(w.v);
    return -1;
}
