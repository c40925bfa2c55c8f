/*
 * args.h -- quire's command line (args.c): the options, the command, and the exit status
 * that a usage error gives.
 */
#ifndef QUIRE_CLIENT_ARGS_H
#define QUIRE_CLIENT_ARGS_H

#include <stddef.h>

#include "quire/client.h"
#include "util.h"

/* Exit status, as grep's: hits found (or the command worked), none, an error. */
#define EXIT_HITS 0
#define EXIT_NO_HITS 1
#define EXIT_ERROR 2

/* More than any real command line needs; keeps the parameter list a fixed array. */
#define MAX_PARAMS 32

enum command { CMD_SEARCH, CMD_DOC, CMD_SIMILAR, CMD_HEALTH, CMD_COMPLETE, CMD_STATS };

struct options {
    const char *connect; /* --connect HOST:PORT */
    const char *socket;  /* --socket PATH */
    const char *db;      /* --db DIR */
    long timeout_ms;
    int timeout_given; /* --timeout was on the command line */
    int json;
    int bold;                    /* resolved from --color and isatty(stdout) */
    const char *search_only;     /* the first search option given, to refuse it elsewhere */
    qc_param params[MAX_PARAMS]; /* search parameters other than q, in command-line order */
    size_t nparams;
    const char *stats_only; /* the first stats option given (--reset, ...) */
    int reset;              /* stats --reset */
    const char *token_file; /* --admin-token-file */
};

/* Parses every option wherever it appears (GNU getopt permutes them to the front);
 * operands stay in argv[optind..]. Returns -1 to go on, or an exit status (after --help,
 * --version or a usage error). */
int args_parse(int argc, char **argv, struct options *o);
/* Names the command in args[0] (nargs operands) into *cmd and checks that the options and
 * operands given fit it. Returns -1 to go on, or the exit status of a usage error. */
int args_command(const struct options *o, int nargs, char **args, enum command *cmd);
/* A usage error: one line on stderr saying what was wrong and pointing to --help.
 * Returns EXIT_ERROR. */
int args_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 1 when a search parameter key was given. */
int args_has_param(const struct options *o, const char *key);
/* The -n value given (the "limit" parameter, the last one given), or -1 when none. */
long args_param_limit(const struct options *o);
/* Joins the query words with spaces into sb, refusing more than SEARCH_MAX_QUERY_BYTES
 * before anything is sent, and an empty query unless filtered. Returns 0, or an exit
 * status after printing why. */
int args_join_query(int n, char **words, int filtered, struct strbuf *sb);

#endif
