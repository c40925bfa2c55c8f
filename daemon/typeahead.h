/*
 * typeahead.h -- GET /complete?q=PREFIX&limit=N: search-as-you-type (lib/complete.h).
 * Answers {"query", "completions": [...], "titles": [{"id", "title"}]}.
 */
#ifndef QUIRE_TYPEAHEAD_H
#define QUIRE_TYPEAHEAD_H

struct evhttp_request;
struct worker;

/* Answers req. qs is the raw query string or NULL. */
void typeahead_handle(struct evhttp_request *req, struct worker *w, const char *qs);

#endif
