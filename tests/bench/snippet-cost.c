/*
 * snippet-cost -- runs a file of queries through the daemon's search path, in process, so
 * that the cost of snippets can be counted: `snippet-cost.sh` runs it under callgrind
 * twice (snippet=0, snippet=1) and divides the instruction counts.
 *
 *   snippet-cost DB QUERIES PARAMS
 *
 * Each non-empty line of QUERIES is asked with q=LINE and PARAMS (a URL query string such
 * as "op=and&limit=10&snippet=1"), decoded by search_request_from_query as quired decodes
 * a GET, and the result is written out as quired writes it (search_run_json). The work per
 * query is in bench_query(), which callgrind counts alone (--toggle-collect), so opening
 * the index and reading the file are left out of both counts.
 *
 * Instructions, not seconds: counts are the same on a loaded machine and from one run to
 * the next, so a ratio of two counts needs one run each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"

#define MAX_LINE 4096

/* One query as quired answers a GET; returns the bytes of the answer written, or -1. */
__attribute__((noinline)) static long bench_query(struct search_index *ix, const char *q,
                                                  const char *params)
{
    struct search_request req;
    struct search_error err = {0};
    long n = -1;
    search_request_init(&req);
    if (search_request_set(&req, "q", q, &err) == 0 &&
        search_request_from_query(&req, params, &err) == 0) {
        struct strbuf sb;
        struct search_summary sum;
        sb_init(&sb);
        sb_reserve(&sb, 16u << 10); /* as quired's first buffer (routes.c) */
        if (search_run_json(ix, &req, &sb, (size_t)-1, &sum, &err) == 0)
            n = (long)sb.len;
        sb_free(&sb);
    }
    if (n < 0)
        fprintf(stderr, "snippet-cost: query '%.200s' failed: %s\n", q,
                err.message[0] ? err.message : "out of memory");
    search_request_clear(&req);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: snippet-cost DB QUERIES PARAMS\n");
        return 2;
    }
    struct search_error err = {0};
    struct search_index *ix = search_index_open(argv[1], &err);
    if (!ix) {
        fprintf(stderr, "snippet-cost: cannot open %s: %s\n", argv[1], err.message);
        return 1;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        search_index_close(ix);
        return 1;
    }
    /* The daemon's default budget would cut a slow query differently from run to run. */
    search_index_set_timeout(ix, 0);
    char line[MAX_LINE];
    unsigned long queries = 0, failed = 0, bytes = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        long n = bench_query(ix, line, argv[3]);
        queries++;
        if (n < 0)
            failed++;
        else
            bytes += (unsigned long)n;
    }
    fclose(f);
    search_index_close(ix);
    printf("queries=%lu failed=%lu bytes=%lu\n", queries, failed, bytes);
    return failed ? 1 : 0;
}
