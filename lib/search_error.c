/*
 * search_error.c -- errors of the search path meant for a client (struct search_error,
 * search.h): a status, a stable code and a clear sentence. Shared by request decoding,
 * the index and the search, so it depends on none of them.
 */
#include <stdarg.h>
#include <stdio.h>

#include "search_error.h"
#include "search_int.h"
#include "xapian-c/xc.h"

void search_error_set(struct search_error *err, int status, const char *code, const char *fmt,
                      ...)
{
    if (!err)
        return;
    err->status = status;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

void search_out_of_memory(struct search_error *err)
{
    search_error_set(err, 500, "internal", "out of memory");
}

void search_build_failed(struct search_error *err)
{
    search_error_set(err, 500, "internal",
                     "cannot build the result: out of memory, or text that is not UTF-8");
}

/* Fills err for a failed binding call: what was being done and Xapian's message. xe may be
 * NULL (the binding reports some failures by return value alone, and could not allocate an
 * error when memory ran out): that is out of memory. Returns 1 when the reader fell behind
 * a writer, so that the caller reopens and retries. */
int search_binding_error(struct search_error *err, const xc_error *xe, const char *what)
{
    xc_code code = xe ? xe->code : XC_ERR_NOMEM;
    const char *msg = xe && xe->message ? xe->message : "out of memory";
    if (code == XC_ERR_NOMEM || code == XC_ERR_INTERNAL || code == XC_ERR_INVALID)
        search_error_set(err, 500, "internal", "%s: %s", what, msg);
    else
        search_error_set(err, 503, "unavailable", "%s: %s", what, msg);
    return code == XC_ERR_MODIFIED;
}
