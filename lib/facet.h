/*
 * facet.h -- a facet's values as a search answer lists them: spellings of one value
 * (differing only in case, white space or accents: one filter key) counted as one.
 */
#ifndef QUIRE_FACET_H
#define QUIRE_FACET_H

#include <jansson.h>

#include "xapian-c/xc.h"

/* Facet k of ms (k-th of the match's facet_slots) as [{"value", "count"}, ...]: at most
 * limit values, most frequent first (ties by value). Spellings with one filter key
 * (schema_value_key) are one value, counted together, shown as the most frequent
 * spelling (ties: the byte-wise smallest). A new array (caller decrefs), or NULL when out
 * of memory or the facet cannot be read. */
json_t *facet_values(const xc_mset *ms, unsigned k, unsigned limit);

#endif
