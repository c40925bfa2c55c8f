/*
 * snippet.h -- best-passage extraction and highlighting.
 *
 * Xapian's MSet::snippet() scores every position of a whole document, which on long
 * articles costs many times the search itself. Instead we scan the text once, stem only
 * the words that could match a query stem (same first bytes), and choose the window of
 * about `target` bytes holding the most distinct query terms. The scan is bounded
 * (SNIPPET_SCAN_BYTES) so a huge document cannot make one hit expensive.
 */
#ifndef QUIRE_SNIPPET_H
#define QUIRE_SNIPPET_H

#include <stddef.h>

#include "xapian-c/xc.h"

/* Snippets come from the first 16 KB of an article (its lead; on wikipedia-en half the
 * articles are shorter than 9 KB). Measured there, a top-10 query with snippets costs
 * 2.4x the same query without when scanning up to 256 KB, 2.1x at 32 KB, 1.9x at 16 KB. */
#define SNIPPET_SCAN_BYTES (16u << 10)
#define SNIPPET_MAX_TERMS 64
#define SNIPPET_DEFAULT_BYTES 200

struct snippet_terms;

/* A term set for one query. The stemmer is borrowed for the set's lifetime. */
struct snippet_terms *snippet_terms_new(xc_stem *stem);
void snippet_terms_free(struct snippet_terms *t);
/* Adds a query term as Xapian produced it: "Zstem" (stemmed), "word" (exact), "S..."/"ZS..."
 * (title field); filter terms (other prefixes) are ignored. Returns 0, or -1 when out of
 * memory (the term is not added). */
int snippet_terms_add(struct snippet_terms *t, const char *term, size_t len);
size_t snippet_terms_count(const struct snippet_terms *t);

/* Makes a snippet of about target bytes of text, HTML-escaped, each matched word wrapped in
 * open/close. Returns a malloc'd string the caller frees, or NULL when out of memory
 * (a snippet that missed a word for want of memory is never returned). */
char *snippet_make(const struct snippet_terms *t, const char *text, size_t len, size_t target,
                   const char *open, const char *close);

#endif
