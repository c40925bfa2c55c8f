/*
 * quire.c -- `quire`, the command-line client: search, show a document, similar articles,
 * health, completions and query statistics.
 *
 * Two sources, one printer. The command line is read and checked first (args.c); the
 * answer comes as the daemon's JSON object from quired or, with --db, from the index
 * itself (source.c); it is printed for people (print.c) or as JSON (cliout.c), and its
 * hits decide the exit status. `quire stats` talks to the daemon's admin endpoint
 * (stats.c).
 *
 * Exit status follows grep: 0 hits found (or the command worked), 1 no hits, 2 error.
 */
#include <assert.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "cliout.h"
#include "print.h"
#include "source.h"
#include "stats.h"
#include "util.h"

/* Prints answer j of command cmd (for people, or as JSON with --json) and returns the exit
 * status its content gives: hits or none, or an error for an unhealthy index. */
static int show(enum command cmd, const struct options *o, json_t *j)
{
    switch (cmd) {
    case CMD_SEARCH:
    case CMD_SIMILAR: {
        size_t hits =
            o->json ? json_array_size(json_object_get(j, "hits")) : print_search(j, o->bold);
        if (o->json)
            cliout_json(j);
        /* -n 0 shows no hits but still asks whether anything matched: the count says
         * (its lower bound: at least that many matches were seen). */
        json_int_t lower =
            json_integer_value(json_object_get(json_object_get(j, "total"), "lower"));
        return hits > 0 || (args_param_limit(o) == 0 && lower > 0) ? EXIT_HITS : EXIT_NO_HITS;
    }
    case CMD_COMPLETE: {
        size_t n = o->json ? json_array_size(json_object_get(j, "completions")) +
                                 json_array_size(json_object_get(j, "titles"))
                           : print_complete(j);
        if (o->json)
            cliout_json(j);
        return n > 0 ? EXIT_HITS : EXIT_NO_HITS;
    }
    case CMD_DOC:
        if (o->json)
            cliout_json(j);
        else
            print_doc(j, o->bold);
        return EXIT_HITS;
    case CMD_HEALTH: {
        const char *status = json_string_value(json_object_get(j, "status"));
        if (o->json)
            cliout_json(j);
        else
            print_health(j);
        return status && strcmp(status, "ok") == 0 ? EXIT_HITS : EXIT_ERROR;
    }
    case CMD_STATS: break; /* printed by stats_main */
    }
    assert(0);
    return EXIT_ERROR;
}

int main(int argc, char **argv)
{
    struct options o = {.timeout_ms = QC_DEFAULT_TIMEOUT_MS};
    int rc = args_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;

    char **args = argv + optind;
    int nargs = argc - optind;
    enum command cmd;
    if ((rc = args_command(&o, nargs, args, &cmd)) >= 0)
        return rc;

    struct strbuf query;
    sb_init(&query);
    if ((cmd == CMD_SEARCH || cmd == CMD_COMPLETE) &&
        (rc = args_join_query(nargs - 1, args + 1,
                              cmd == CMD_SEARCH && args_has_param(&o, "filter"), &query)) != 0) {
        sb_free(&query);
        return rc;
    }

    struct source src = {0};
    if (source_open(&src, &o) < 0) {
        sb_free(&query);
        return EXIT_ERROR;
    }
    json_t *j = NULL;
    switch (cmd) {
    case CMD_SEARCH: j = source_search(&src, &o, sb_cstr(&query)); break;
    case CMD_DOC: j = source_doc(&src, args[1]); break;
    case CMD_SIMILAR: j = source_similar(&src, &o, args[1]); break;
    case CMD_HEALTH: j = source_health(&src); break;
    case CMD_COMPLETE: j = source_complete(&src, &o, sb_cstr(&query)); break;
    case CMD_STATS: {
        struct stats_options so = {args_param_limit(&o), o.reset, o.token_file, o.json};
        rc = stats_main(src.qc, &so);
        source_close(&src);
        sb_free(&query);
        return rc;
    }
    }

    rc = j ? show(cmd, &o, j) : EXIT_ERROR;
    json_decref(j);
    source_close(&src);
    sb_free(&query);
    /* A full disk or a closed pipe is an error too, not a silent success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("quire: cannot write the output\n", stderr);
        return EXIT_ERROR;
    }
    return rc;
}
