/*
 * suggest.c -- "did you mean": spelling suggestions for a query's words, from Xapian's
 * spelling table (the shard map's spelling database for a sharded index).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search_int.h"
#include "util.h"
#include "xapian-c/xc.h"

/* "Did you mean": unknown words are checked, and when a query finds nothing, words in
 * fewer articles than SUGGEST_MAX_FREQ too; a spelling wins when it is in SUGGEST_RATIO
 * times as many articles (or the word is in none). */
#define SUGGEST_MAX_FREQ 10
#define SUGGEST_RATIO 20

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

/* "Did you mean": each plain query word that is unknown, or (when the query found nothing)
 * far rarer than a close spelling that Xapian's spelling table knows, is replaced. *out
 * gets a new string when anything changed, else NULL. The query itself is never
 * rewritten. Returns 0, or -1 with err filled (and *modified set when the caller should
 * reopen and retry). Past the deadline no more spellings are looked up: no suggestion,
 * with *timed_out set. */
int search_suggest(struct search_index *ix, const char *q, int no_hits, char **out_text,
                   double deadline, int *timed_out, struct search_error *err, int *modified)
{
    struct strbuf out;
    sb_init(&out);
    int changed = 0;
    xc_error *xe = NULL;
    *out_text = NULL;
    const char *p = q;
    while (*p) {
        const char *w = p;
        while (*p && ((unsigned char)*p >= 0x80 || (*p >= 'a' && *p <= 'z') ||
                      (*p >= 'A' && *p <= 'Z')))
            p++;
        size_t n = (size_t)(p - w);
        if (n == 0) {
            sb_putc(&out, *p);
            p++;
            continue;
        }
        int field = *p == ':' || *p == '*';
        if (n < 3 || n > 40 || field || is_operator(w, n)) {
            sb_append(&out, w, n);
            continue;
        }
        char word[64];
        for (size_t i = 0; i < n; i++)
            word[i] = (w[i] >= 'A' && w[i] <= 'Z') ? (char)(w[i] + 32) : w[i];
        word[n] = '\0';
        /* Terms are indexed with accents folded: look the word up the same way. */
        size_t flen;
        char *folded;
        int fr = util_fold_latin(word, n, &folded, &flen);
        if (fr < 0)
            goto nomem;
        if (fr > 0) {
            snprintf(word, sizeof word, "%s", folded);
            free(folded);
        }
        /* Xapian's spelling lookup costs many times the search itself (75% of the CPU
         * when asked for every word), so it is asked about unknown words, and about rare
         * ones (in fewer than SUGGEST_MAX_FREQ articles) only when the query found
         * nothing; a word in more articles is taken as meant. */
        unsigned tf = xc_db_termfreq(ix->db, word, &xe);
        if (xe)
            goto fail;
        char *sug = NULL;
        int ask = tf == 0 || (no_hits && tf < SUGGEST_MAX_FREQ);
        if (ask && search_past(deadline)) {
            *timed_out = 1;
            sb_free(&out);
            return 0;
        }
        if (ask) {
            sug = xc_db_spelling(ix->spelling ? ix->spelling : ix->db, word, &xe);
            if (!sug)
                goto fail;
        }
        int use = 0;
        if (sug && *sug && strcmp(sug, word) != 0) {
            use = tf == 0;
            if (!use) {
                unsigned sf = xc_db_termfreq(ix->db, sug, &xe);
                if (xe) {
                    free(sug);
                    goto fail;
                }
                use = sf >= SUGGEST_RATIO * (unsigned long)tf;
            }
        }
        if (use) {
            sb_puts(&out, sug);
            changed = 1;
        } else {
            sb_append(&out, w, n);
        }
        free(sug);
    }
    if (out.failed)
        goto nomem;
    if (changed)
        *out_text = out.buf;
    else
        sb_free(&out);
    return 0;
fail:
    *modified = search_binding_error(err, xe, "cannot look up spellings");
    xc_error_free(xe);
    sb_free(&out);
    return -1;
nomem:
    search_out_of_memory(err);
    sb_free(&out);
    return -1;
}
