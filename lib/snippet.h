/*
 * snippet.h -- best-passage choice and complete highlighting.
 *
 * Xapian's MSet::snippet() scores every position of a whole document, which on long
 * articles costs many times the search itself. Instead the text is read once with the one
 * tokenizer (lib/tokenize: the indexer's own word rules), only words that could match a
 * query term are stemmed (same first bytes), and the window of about `target` bytes holding
 * the most distinct query terms wins. Then EVERY occurrence in that window of every term
 * the query searches for positively is marked: words with the stem of a query word, words a
 * wildcard expands to, CJK unigrams and bigrams, and the words of a phrase, ADJ/n or NEAR/n
 * where they form a match of it. Excluded terms (NOT, -word) are never marked. The scan for the
 * window is bounded (SNIPPET_SCAN_BYTES) so a huge document cannot make one hit expensive.
 */
#ifndef QUIRE_SNIPPET_H
#define QUIRE_SNIPPET_H

#include <stddef.h>

#include "xapian-c/xc.h"

/* Snippets come from the first 4 KB of an article, its lead (SNIPPET_LEAD_BYTES); only
 * when the lead holds no query word at all is the window sought further, up to 16 KB
 * (SNIPPET_SCAN_BYTES). A bound on the cost of one hit: on wikipedia-en op=and, whose hits
 * are long articles, a top-10 query with snippets cost 2.4x the same query without when
 * scanning up to 256 KB, 2.1x at 32 KB, 1.9x at 16 KB (before the scan skipped words); in
 * December 2026, 2.22x at 16 KB and 2.04x with an 8 KB lead (1.95x once long texts were
 * stored as a head and the rest, schema.h); once hits were written without a jansson tree
 * (a cheaper search without snippets), 2.08x with the 8 KB lead, 2.01x with 6 KB, 1.94x
 * with 4 KB. The 4 KB lead holds the best 16 KB window for 87% of those hits' snippets
 * (1,571 of 1,802; 4,314 of 4,418 with op=or), and no snippet lost its last mark. */
#define SNIPPET_LEAD_BYTES (4u << 10)
#define SNIPPET_SCAN_BYTES (16u << 10)
/* How far past the window's end a phrase, ADJ or NEAR is followed, for its matches that
 * start in the window and end after it (4 KB: a window of several hundred words). */
#define SNIPPET_TAIL_BYTES (4u << 10)
#define SNIPPET_MAX_TERMS 64
#define SNIPPET_MAX_PHRASES 8
#define SNIPPET_MAX_PHRASE_WORDS 16
#define SNIPPET_DEFAULT_BYTES 200
#define SNIPPET_MIN_BYTES 50
#define SNIPPET_MAX_BYTES 1000
/* The most of a text snippet_make reads: the scan, a window starting at its end (words cut
 * at most 40 bytes on), and the tail. A caller may pass only this much of a longer text. */
#define SNIPPET_TEXT_BYTES (SNIPPET_SCAN_BYTES + SNIPPET_MAX_BYTES + SNIPPET_TAIL_BYTES + 256)

struct snippet_terms;

/* The most of a text snippet_make reads for the terms t and a window of target bytes (0:
 * the default): the scan, the window after it with its words cut on (some slack for words
 * of many bytes), and the tail when t has positional groups. At most SNIPPET_TEXT_BYTES. */
size_t snippet_text_bytes(const struct snippet_terms *t, size_t target);
/* The same for a scan of the lead only: what snippet_make_lead needs. */
size_t snippet_lead_bytes(const struct snippet_terms *t, size_t target);

/* A term set for one query. The stemmer is borrowed for the set's lifetime. */
struct snippet_terms *snippet_terms_new(xc_stem *stem);
void snippet_terms_free(struct snippet_terms *t);
/* Adds a term the query searches for positively, as Xapian produced it: "Zstem" (stemmed),
 * "word" (exact), "S..."/"ZS..." (title field only); filter terms (other prefixes) are
 * ignored. A word matches when its stem is the term's stem. Returns 0, or -1 when out of
 * memory (the term is not added). */
int snippet_terms_add(struct snippet_terms *t, const char *term, size_t len);
/* Adds every term q searches for: positive terms, wildcards (a word starting with the
 * pattern matches), phrases, ADJ and NEAR (their words match where they form a match), and
 * the excluded terms (never marked). Returns 0, or -1 when out of memory. */
int snippet_terms_from_query(struct snippet_terms *t, const xc_query *q);
/* Number of distinct things the set matches (terms, wildcards, phrases). */
size_t snippet_terms_count(const struct snippet_terms *t);

/* Makes a snippet of about target bytes of text (SNIPPET_MIN_BYTES..SNIPPET_MAX_BYTES; 0:
 * the default), HTML-escaped, each matched word wrapped in open/close. Returns a malloc'd
 * string the caller frees, or NULL when out of memory (a snippet that missed a word for
 * want of memory is never returned). */
char *snippet_make(const struct snippet_terms *t, const char *text, size_t len, size_t target,
                   const char *open, const char *close);
/* snippet_make for a caller that reads first only the lead of a long text: text is its
 * first snippet_lead_bytes(t, target) bytes, or all of it when shorter; cut says whether
 * the text goes on. Returns snippet_make's snippet of the whole text; or, when the lead
 * holds no match and the text is cut, NULL with *more set and *from where the scan is to
 * go on: the caller then passes the first snippet_text_bytes(t, target) bytes and from to
 * snippet_make_from. NULL with *more 0: out of memory. */
char *snippet_make_lead(const struct snippet_terms *t, const char *text, size_t len, int cut,
                        size_t target, const char *open, const char *close, int *more,
                        size_t *from);
/* snippet_make, its scan starting at from (as snippet_make_lead said; 0: snippet_make). */
char *snippet_make_from(const struct snippet_terms *t, const char *text, size_t len,
                        size_t from, size_t target, const char *open, const char *close);

/* The title, HTML-escaped, with every word that matches marked as in a snippet (title
 * terms included). Returns 0 with *out a malloc'd string, or *out NULL when no word of the
 * title matches; -1 when out of memory. */
int snippet_mark_title(const struct snippet_terms *t, const char *title, size_t len,
                       const char *open, const char *close, char **out);

#endif
