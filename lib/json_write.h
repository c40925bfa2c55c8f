/*
 * json_write.h -- a jansson tree written as compact JSON: the bytes of
 * json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(precision)), made much faster; and the
 * same bytes written piece by piece (struct json_writer), without building a tree first.
 */
#ifndef QUIRE_JSON_WRITE_H
#define QUIRE_JSON_WRITE_H

#include <stddef.h>

#include <jansson.h>

#include "util.h"

enum {
    JSON_WRITE_OK = 0,
    JSON_WRITE_INVALID = -1,   /* a string that is not UTF-8, or v not an object or array */
    JSON_WRITE_TOO_LARGE = -2, /* the output would be over max bytes */
    JSON_WRITE_NO_MEMORY = -3,
};

/* Appends v (an object or array) to sb, at most max bytes of it, NUL-terminated; returns
 * JSON_WRITE_OK, or a failure with sb as it was before the call. precision is jansson's
 * JSON_REAL_PRECISION (0: 17 significant digits). */
int json_write(const json_t *v, struct strbuf *sb, size_t max, int precision);

/* A document written piece by piece into sb: what json_write would give for the tree of
 * the same keys and values, set in the same order. Commas and colons are the writer's;
 * the caller opens, fills and closes objects and arrays. After the first failure every
 * call is a no-op and json_writer_end reports it: callers need not check each piece. */
#define JSON_WRITER_MAX_DEPTH 16

struct json_writer {
    struct strbuf *sb;
    size_t start; /* sb->len when the writer began: a failure or a reset goes back to it */
    size_t limit; /* the length sb may reach */
    int precision;
    int status; /* JSON_WRITE_OK or the first failure */
    unsigned depth;
    unsigned char first[JSON_WRITER_MAX_DEPTH]; /* nothing written yet at that depth */
    unsigned char after_key; /* a key was just written: its value needs no comma */
};

/* Begins a writer appending to sb, at most max bytes (as json_write). */
void json_writer_init(struct json_writer *w, struct strbuf *sb, size_t max, int precision);
/* Drops what w wrote and starts again from where it began (its status cleared). */
void json_writer_reset(struct json_writer *w);
void json_writer_open(struct json_writer *w, char bracket); /* '{' or '[' */
void json_writer_close(struct json_writer *w, char bracket); /* '}' or ']' */
/* The key of the next value, in an object. */
void json_writer_key(struct json_writer *w, const char *key);
/* Values: a string must be UTF-8 (JSON_WRITE_INVALID otherwise, as json_string refuses
 * it); NULL is refused the same way. */
void json_writer_string(struct json_writer *w, const char *s, size_t len);
void json_writer_integer(struct json_writer *w, json_int_t v);
void json_writer_real(struct json_writer *w, double v);
void json_writer_bool(struct json_writer *w, int v);
/* A jansson value (an object or array, or a scalar) written in place; NULL fails the
 * writer (JSON_WRITE_NO_MEMORY: the caller could not build it). */
void json_writer_value(struct json_writer *w, const json_t *v);
/* Finishes: JSON_WRITE_OK with sb NUL-terminated, or the first failure with sb as it was
 * before json_writer_init. Every opened bracket must have been closed. */
int json_writer_end(struct json_writer *w);

#endif
