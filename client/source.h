/*
 * source.h -- where quire's answers come from (source.c): the quired daemon, or the index
 * itself with --db.
 */
#ifndef QUIRE_CLIENT_SOURCE_H
#define QUIRE_CLIENT_SOURCE_H

#include <jansson.h>

#include "args.h"
#include "quire/client.h"
#include "search.h"

/* Exactly one of these is set by source_open. */
struct source {
    qc_client *qc;           /* the daemon (TCP or Unix socket) */
    struct search_index *ix; /* --db: the index, searched in this process */
};

/* Opens the source the options name (--db, --socket, --connect, or the default daemon).
 * Returns 0, or -1 after printing why. */
int source_open(struct source *src, const struct options *o);
/* Closes what source_open opened. */
void source_close(struct source *src);

/* Each returns the JSON object the daemon would answer (caller decrefs), or NULL after
 * printing the error on stderr. */
json_t *source_search(struct source *src, const struct options *o, const char *query);
json_t *source_doc(struct source *src, const char *id);
/* With the search options similar takes (checked by args_command). */
json_t *source_similar(struct source *src, const struct options *o, const char *id);
json_t *source_health(struct source *src);
/* The completions of text's last word and the titles starting with it. */
json_t *source_complete(struct source *src, const struct options *o, const char *text);

#endif
