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
 * error when memory ran out): that is out of memory. Returns 1 when the caller should
 * reopen and retry: the reader fell behind a writer, or a read failed (XC_ERR_IO). A
 * reader on an old revision may find a block of it already reused by the writer and read
 * nonsense ("EOF reading block 1741423872") rather than be told it fell behind; the
 * latest revision then reads fine. A read that fails again is answered 503 after the
 * retries (SEARCH_MODIFIED_RETRIES). */
int search_binding_error(struct search_error *err, const xc_error *xe, const char *what)
{
    xc_code code = xe ? xe->code : XC_ERR_NOMEM;
    const char *msg = xe && xe->message ? xe->message : "out of memory";
    if (code == XC_ERR_NOMEM || code == XC_ERR_INTERNAL || code == XC_ERR_INVALID)
        search_error_set(err, 500, "internal", "%s: %s", what, msg);
    else
        search_error_set(err, 503, "unavailable", "%s: %s", what, msg);
    return search_reopen_helps(xe);
}

int search_retry_again(int attempt, double started, double deadline)
{
    if (attempt < SEARCH_MODIFIED_RETRIES)
        return 1;
    return deadline > 0 && attempt < SEARCH_MODIFIED_MAX_RETRIES &&
           started < deadline + SEARCH_MODIFIED_LATE_MS;
}

int search_reopen_helps(const xc_error *xe)
{
    return xe && (xe->code == XC_ERR_MODIFIED || xe->code == XC_ERR_IO);
}
