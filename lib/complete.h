/*
 * complete.h -- search-as-you-type: completions of the last word typed, from the index's
 * own terms (most frequent first), and titles that start with what was typed.
 *
 * A one-letter prefix can open hundreds of thousands of terms, too many to rank per
 * keystroke. So the indexer writes a table at the end of each run that changed the index
 * (complete_build_table): for every prefix of 1 to COMPLETE_TABLE_DEPTH characters that
 * opens at least COMPLETE_TABLE_MIN terms, its COMPLETE_TABLE_TERMS most frequent terms, in
 * the index's metadata ("quire:complete:" + prefix). A reader answers a short prefix with
 * one metadata read; a longer prefix, or one with few terms, by ranking the terms it opens
 * (at most COMPLETE_SCAN_MAX of them). An index without the table (written by an older
 * quire-index) is answered by ranking too, so it works, more slowly for short prefixes.
 *
 * Titles come from one boolean term per article, XT + the title lower-cased
 * (schema_title_key): the first terms at or after XT + the typed text, in byte order.
 */
#ifndef QUIRE_COMPLETE_H
#define QUIRE_COMPLETE_H

#include <jansson.h>

#include "xapian-c/xc.h"

struct search_error;

#define COMPLETE_DEFAULT_LIMIT 8
#define COMPLETE_MAX_LIMIT 20
/* Prefixes of 1..DEPTH characters get a table entry; its terms: the TERMS most frequent. */
#define COMPLETE_TABLE_DEPTH 3
#define COMPLETE_TABLE_TERMS COMPLETE_MAX_LIMIT
/* A prefix opening fewer terms than this has no entry: ranking them is as cheap as the
 * metadata read, and leaving them out keeps the table small. */
#define COMPLETE_TABLE_MIN 64
/* Terms one request may rank, whatever the prefix (a bound on a request's work). */
#define COMPLETE_SCAN_MAX 20000
/* Metadata keys: the table's header (its shape) and one entry per prefix. */
#define COMPLETE_META_HEADER "quire:complete"
#define COMPLETE_META_PREFIX "quire:complete:"

/* What complete_build_table did. */
struct complete_stats {
    unsigned long terms;    /* unprefixed terms walked */
    unsigned long prefixes; /* table entries written */
};

/* Rewrites the completion table in wdb's metadata from its terms (pending changes included);
 * the caller commits. Returns 0, or -1 with *err set by the binding (NULL when out of
 * memory). stats may be NULL. */
int complete_build_table(xc_wdb *wdb, struct complete_stats *stats, xc_error **err);
/* 1 when wdb holds a completion table of the current shape, 0 when not, -1 on error. */
int complete_table_present(xc_wdb *wdb, xc_error **err);

/* Answers one completion request over db: {"query": q, "completions": [q with its last word
 * completed, ...], "titles": [{"id", "title"}, ...]}, each list at most limit long
 * (1..COMPLETE_MAX_LIMIT). q is valid UTF-8 (checked by the caller). Returns a new object,
 * or NULL with err filled (503 when the index cannot be read, 500 when out of memory). A
 * reader behind a writer is reopened and the request retried. */
json_t *complete_run(xc_db *db, const char *q, unsigned limit, struct search_error *err);

#endif
