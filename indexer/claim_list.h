/*
 * claim_list.h -- the claims of one document: which inputs hold its id, in rule order,
 * with their line numbers (claim_list.c; the rule is in claims.c).
 */
#ifndef QUIRE_INDEXER_CLAIM_LIST_H
#define QUIRE_INDEXER_CLAIM_LIST_H

#include <stddef.h>

#include "run.h"

struct claim {
    char *path;
    char *lines; /* "3,7", or "" for a text file */
};

struct claims {
    char *id; /* NULL: the document has no claims recorded (built before they existed) */
    struct claim *v;
    size_t n, cap;
};

void claims_free(struct claims *c);
/* Inserts or replaces the claim of path, in rule order. Returns 1 when the claims changed,
 * 0 when not, -1 when out of memory. */
int claims_set(struct claims *c, const char *path, const char *lines);
/* Index of path's claim, or -1. */
long claims_find(const struct claims *c, const char *path);
void claims_remove(struct claims *c, size_t i);
/* The claim whose record is indexed: the first by the rule that is not waiting (a claim
 * waits, its lines starting with '?', while its file cannot be read). */
size_t claims_owner(const struct claims *c);
/* Records holding the id: one per line number, one per text file. */
unsigned long claims_records(const struct claims *c);
/* Reads the claims of docid. Returns 0, or -1 (reported, r->io_error set). */
int claims_load(struct run *r, unsigned docid, struct claims *c);
/* Adds the claims' terms and slot to a document being built. */
int claims_to_doc(const struct claims *c, xc_doc *doc, xc_error **err);
/* Stores changed claims on a document in place: the slot, XK<path> added or removed, XDUP
 * as the records say. Returns 0, or -1 (reported). */
int claims_store(struct run *r, unsigned docid, const struct claims *c, const char *add_path,
                 const char *del_path);

#endif
