/*
 * stats.h -- `quire stats`: what people search for, from quired's query analytics
 * (GET /admin/queries, POST /admin/queries/reset). See stats.c.
 */
#ifndef QUIRE_STATS_H
#define QUIRE_STATS_H

#include "quire/client.h"

struct stats_options {
    long limit;             /* queries a list (-n); -1: the daemon's default */
    int reset;              /* --reset: the counts start again after this report */
    const char *token_file; /* --admin-token-file, or NULL */
    int json;               /* --json */
};

/* Runs `quire stats` against the daemon c. Returns the exit status: 0 when the report was
 * printed, 2 after printing why not. */
int stats_main(qc_client *c, const struct stats_options *o);

#endif
