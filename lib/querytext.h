/*
 * querytext.h -- the query text as Xapian's parser should read it: words lower-cased
 * outside quotes (operators and filter values kept), and a query of excluded terms only
 * (`-blair -brown`) in the NOT form that means "every article without them". See
 * querytext.c for why.
 */
#ifndef QUIRE_QUERYTEXT_H
#define QUIRE_QUERYTEXT_H

/* Writes the rewritten form of q (UTF-8) to *out, a new string the caller frees.
 * Returns 0, or -1 (with *out NULL) when out of memory. */
int querytext_normalise(const char *q, char **out);

#endif
