/*
 * search_error.h -- an error of the search path meant for a client (search_error.c):
 * an HTTP status, a stable code and a clear sentence. Part of the search API (search.h).
 */
#ifndef QUIRE_SEARCH_ERROR_H
#define QUIRE_SEARCH_ERROR_H

/* An error meant for a client: HTTP status, a stable code and a clear sentence. */
struct search_error {
    int status;          /* 400, 404, 503, 500 */
    const char *code;    /* "bad_parameter", "bad_query", "not_found", "unavailable", ... */
    char message[512];
};

/* Fills err; a printf-style message. */
void search_error_set(struct search_error *err, int status, const char *code, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

#endif
