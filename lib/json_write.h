/*
 * json_write.h -- a jansson tree written as compact JSON: the bytes of
 * json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(precision)), made much faster.
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

#endif
