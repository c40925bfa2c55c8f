/*
 * correct.c -- typo tolerance: a query word the index lacks, or holds far more rarely than
 * a close spelling, is searched as itself or its correction, and the answer says so
 * ("corrected_query"). fuzzy=0 turns it off (the suggestion is still given).
 *
 * Which words: those "did you mean" replaces (suggest.c): unknown words, and words in fewer
 * than SUGGEST_MAX_FREQ articles with a close spelling in SUGGEST_RATIO times as many. A
 * word the index lacks is always corrected. A rare word can be meant (a name, a term of
 * art), so it is corrected only when the query finds fewer than CORRECT_FEW articles as
 * typed and no article holds all its words together once the unknown words are corrected
 * (an AND match of that text finds nothing): a query that matches as typed is never
 * corrected, "your tlevision to wow" becomes "your television to wow", not "... to now",
 * and a long question with one rare term of art (SciFact's) keeps it.
 *
 * How: the correction is parsed like the query, and the search runs on (query OR
 * correction), the query as typed weighing CORRECT_TYPED_WEIGHT (nothing): articles
 * holding the words as typed still match, after every article the correction finds, which
 * rank exactly as they do for the correction alone ("Showing results for ..."). A rare
 * misspelling (one article with "goverment") never outranks them, as its rarity alone
 * would make it, nor does a word typed right add weight twice ("phone cabls" ranks as
 * "phone calls", not as "phone phone calls"). With op=and the corrected words are required together; phrases are
 * searched as typed or as corrected.
 *
 * Cost: a query whose words are all in SUGGEST_MAX_FREQ articles or more pays one
 * term-frequency look-up per word (the suggestion's own check, which every search made
 * before typo tolerance too) and nothing else: no spelling look-up, no second parse, no
 * extra match. The AND match above runs only when a known word would be replaced.
 */
#include <stdlib.h>
#include <string.h>

#include "search_int.h"

/* 1 when the rare words of req->q that the suggestion would replace are taken as meant:
 * the query as typed finds CORRECT_FEW articles or more, or the text unk (the query with
 * its unknown words corrected; NULL: none) matches as it stands, every word in one article.
 * 0 when they are corrected, -1 with err filled. */
static long rare_word_meant(struct search_index *ix, const struct search_request *req,
                            const char *unk, double deadline, int *timed_out,
                            struct search_error *err, int *modified)
{
    xc_query *typed = search_parse_text(ix, req, req->q, req->op_and, err, modified);
    long n =
        typed ? search_match_count(ix, typed, CORRECT_FEW, deadline, timed_out, err, modified) : -1;
    xc_query_free(typed);
    if (n < 0 || n >= CORRECT_FEW || *timed_out)
        return n < 0 ? -1 : 1;
    xc_query *all = search_parse_text(ix, req, unk ? unk : req->q, 1, err, modified);
    n = all ? search_match_count(ix, all, 1, deadline, timed_out, err, modified) : -1;
    xc_query_free(all);
    return n < 0 ? -1 : n > 0;
}

int search_correct(struct search_index *ix, const struct search_request *req, double deadline,
                   char **suggestion, char **correction, xc_query **corrected, int *timed_out,
                   struct search_error *err, int *modified)
{
    *suggestion = NULL;
    *correction = NULL;
    *corrected = NULL;
    if (!req->q || !req->q[0])
        return 0;
    char *sug = NULL, *unk = NULL;
    int known = 0;
    if (search_suggest(ix, req->q, &sug, &unk, &known, deadline, timed_out, err, modified) < 0)
        return -1;
    char *text = NULL; /* the correction searched: sug, unk or none */
    if (sug && req->fuzzy) {
        text = sug;
        if (known) {
            /* A rare word is kept when the query finds a page of results as typed, or
             * matches as it stands (AND) once its unknown words are corrected. */
            long n = rare_word_meant(ix, req, unk, deadline, timed_out, err, modified);
            if (n < 0) {
                free(sug);
                free(unk);
                return -1;
            }
            if (n > 0 || *timed_out)
                text = unk;
        }
    }
    if (text) {
        *corrected = search_parse_text(ix, req, text, req->op_and, err, modified);
        if (!*corrected) {
            free(sug);
            free(unk);
            return -1;
        }
    }
    *suggestion = sug;
    *correction = text == unk ? unk : text ? strdup(text) : NULL;
    if (text != unk)
        free(unk);
    if (text && !*correction) {
        xc_query_free(*corrected);
        *corrected = NULL;
        free(sug);
        *suggestion = NULL;
        search_out_of_memory(err);
        return -1;
    }
    return 0;
}
