/*
 * querytext.h -- the query text as Xapian's parser should read it: words lower-cased
 * outside quotes (operators and filter values kept), and a query of excluded terms only
 * (`-blair -brown`) in the NOT form that means "every article without them". See
 * querytext.c for why.
 */
#ifndef QUIRE_QUERYTEXT_H
#define QUIRE_QUERYTEXT_H

#include <stddef.h>

/* Writes the rewritten form of q (UTF-8) to *out, a new string the caller frees.
 * Returns 0, or -1 (with *out NULL) when out of memory. */
int querytext_normalise(const char *q, char **out);

/* 1 when the (normalised) query q searches for a word that is_stop does not call a stop
 * word: a word or phrase that is neither excluded (-x, NOT x) nor a filter field's value.
 * Stop words are left out of a query only when it has such a word: otherwise they are
 * all it asks for ("the -microsoft" is the articles without microsoft, not those with
 * it, as Xapian's parser makes it once "the" is gone). */
int querytext_has_content_word(const char *q, int (*is_stop)(const char *word, size_t len));

#endif
