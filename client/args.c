/*
 * args.c -- quire's command line: --help, every option checked and collected, the command
 * named and checked against the options given (see args.h).
 *
 * Options are collected into one ordered list of search parameters (q, limit, offset,
 * snippet, op, sort, ...): sent as the query string to the daemon, or fed one by one to
 * search_request_set() with --db (source.c). Validation of values and their ranges
 * therefore lives in one place, lib/request.c, and reads the same either way; here a
 * number flag is only checked to be a number (lib/number.h), so that junk never travels.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "args.h"

#include <assert.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "number.h"
#include "search.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* ---- usage ----------------------------------------------------------------------------- */

/* The full --help text, on stdout. */
static void usage(void)
{
    printf("Usage: quire [TARGET] [OPTIONS] COMMAND [ARGS...]\n"
           "\n"
           "Searches a Quire index, through the quired daemon or directly.\n"
           "\n"
           "Commands:\n"
           "  search QUERY...     rank articles matching QUERY (the words are joined by spaces)\n"
           "  doc ID              show one article: title, date, source, url, category, id, text\n"
           "  similar ID          articles like ID, never the article itself or a copy of\n"
           "                      its text (takes -n, --offset, --no-snippet, --dedup, --fields)\n"
           "  health              show the index's status (documents, revision, generation)\n"
           "  complete [-n N] TEXT...\n"
           "                      completions of TEXT's last word, most frequent first, and\n"
           "                      titles starting with TEXT (as the search page offers them)\n"
           "  stats [-n N] [--reset] [--admin-token-file FILE]\n"
           "                      what people searched for since quired started (or the last\n"
           "                      reset): the most frequent queries, and those that found\n"
           "                      nothing, N of each (default 100); --reset starts the counts\n"
           "                      again. Needs the daemon's admin token over TCP (read from\n"
           "                      FILE), or --socket as an allowed user\n"
           "\n"
           "Target (at most one; default: the daemon at %s:%u):\n"
           "  --connect HOST:PORT ask quired over TCP (also [IPV6]:PORT, http://HOST:PORT,\n"
           "                      unix:PATH)\n"
           "  --socket PATH       ask quired over its Unix socket\n"
           "  --db DIR            search the index in DIR directly, without a daemon\n"
           "  --timeout MS        give the daemon MS milliseconds per request (default %ld;\n"
           "                      0: no limit; at most 86400000, a day); with --db, the\n"
           "                      search's time budget (default %d): past it the hits found\n"
           "                      so far are shown, marked as timed out\n"
           "\n"
           "Output:\n"
           "  --json              print the JSON result as the daemon returns it\n"
           "  --color WHEN        bold titles and matched terms: auto (on a terminal, the\n"
           "                      default), always or never\n"
           "\n"
           "Search options:\n"
           "  -n, --limit N       show N hits (default %d, at most %d)\n"
           "  --offset K          skip the first K hits (paging; at most %d)\n"
           "  --no-snippet        no text excerpts (faster)\n"
           "  --snippet-bytes N   length of each excerpt, 50 to 1000 bytes (default 200)\n"
           "  --op and|or         combine plain words with AND, or with OR (the default:\n"
           "                      any word matches, articles with more of them rank first)\n"
           "  --sort relevance|date|date:asc\n"
           "                      order by relevance (default), newest first, or oldest first\n"
           "  --facets LIST       count hits per value of the comma-separated fields in LIST\n"
           "  --dedup 0|1         collapse articles with identical text (default 1)\n"
           "  --fuzzy 0|1         typo tolerance (default 1): a word the index lacks, or holds\n"
           "                      far more rarely than a close spelling, is searched as\n"
           "                      itself or its correction (\"Showing results for ...\")\n"
           "  --explain           show how the query was understood and, per hit, a table of\n"
           "                      what each query term added to its score\n"
           "  --exact             count every match (\"N results\" instead of \"about N\")\n"
           "  --fields LIST       show only these fields of each hit (comma-separated: title,\n"
           "                      date, source, url, category, snippet, title_marked,\n"
           "                      duplicates; id, rank and score always)\n"
           "  --filter FIELD:VALUE  only articles with this value (repeatable: ANDed across\n"
           "                      fields, ORed within one): source, category and year as a\n"
           "                      facet lists them (any case), month 2026-04, date 2004-03-05,\n"
           "                      2004-03, 2004 or a range A..B; no query words: newest first\n"
           "  --param KEY=VALUE   send any other search parameter as is\n"
           "\n"
           "Queries are at most %d bytes. Query syntax: words (stemmed), \"exact phrases\",\n"
           "AND, OR, NOT, -word, title:word, and the --filter fields as field:value\n"
           "(source:\"BBC News\", date:2004..2005). Put `--` before a query that starts with\n"
           "'-'.\n"
           "\n"
           "Other options:\n"
           "  -h, --help          show this help and exit\n"
           "  -V, --version       show the version and exit\n"
           "\n"
           "Options may appear anywhere on the line.\n"
           "\n"
           "Exit status: 0 when the search found hits or, with -n 0, matched anything (or\n"
           "doc/health worked), 1 when it found nothing, 2 on any error (usage, connection,\n"
           "an error from the server); errors are printed on stderr as \"quire: MESSAGE\".\n"
           "\n"
           "Examples:\n"
           "  quire search muse\n"
           "  quire --db /var/lib/quire search -n 5 --sort date 'title:election'\n"
           "  quire --socket /run/quire/quired.sock doc business/001\n"
           "  quire health --json\n",
           QC_DEFAULT_HOST, QC_DEFAULT_PORT, QC_DEFAULT_TIMEOUT_MS, SEARCH_DEFAULT_TIMEOUT_MS,
           SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT, SEARCH_MAX_OFFSET, SEARCH_MAX_QUERY_BYTES);
}

/* A usage error: one line saying what was wrong, a pointer to --help (see args.h). */
int args_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("quire: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see quire --help)\n", stderr);
    return EXIT_ERROR;
}

/* ---- command line ------------------------------------------------------------------------ */

/* Adds a search parameter (both strings borrowed from argv or static). */
static int add_param(struct options *o, const char *key, const char *value)
{
    /* A flag given again overrides (-n 3 -n 5 asks for 5): the daemon refuses a parameter
     * sent twice. Filters add up. */
    for (size_t i = 0; strcmp(key, "filter") != 0 && i < o->nparams; i++) {
        if (strcmp(o->params[i].key, key) == 0) {
            o->params[i].value = value;
            return 0;
        }
    }
    if (o->nparams == MAX_PARAMS)
        return args_usage_error("too many search options (the limit is %d)", MAX_PARAMS);
    o->params[o->nparams].key = key;
    o->params[o->nparams].value = value;
    o->nparams++;
    return 0;
}

/* The longest --timeout: a day. */
#define MAX_TIMEOUT_MS 86400000L

/* Reads a flag's value as a whole number (`what` says of what) from 0 to hi into *out
 * (when out is not NULL). Returns 0, or the exit status of a usage error naming the flag
 * and the value. The search parameters (-n, --offset, --snippet-bytes) are only checked to
 * be numbers here, with hi LONG_MAX: their ranges are the search module's, checked the same
 * way for the daemon and --db (and for each command: complete and stats take fewer). */
static int number_arg(const char *flag, const char *what, const char *arg, long hi, long *out)
{
    long v;
    int rc = num_parse_long(arg, 0, hi, &v);
    if (rc == NUM_OK) {
        if (out)
            *out = v;
        return 0;
    }
    if (rc == NUM_OVERFLOW || (rc == NUM_RANGE && arg[0] != '-' && hi == LONG_MAX))
        return args_usage_error("%s needs %s; '%s' is too large", flag, what, arg);
    if (rc == NUM_RANGE && hi != LONG_MAX)
        return args_usage_error("%s needs %s from 0 to %ld, not '%s'", flag, what, hi, arg);
    return args_usage_error("%s needs %s, not '%s'", flag, what, arg);
}

enum {
    OPT_CONNECT = 256,
    OPT_SOCKET,
    OPT_DB,
    OPT_TIMEOUT,
    OPT_JSON,
    OPT_COLOR,
    OPT_OFFSET,
    OPT_NO_SNIPPET,
    OPT_SNIPPET_BYTES,
    OPT_OP,
    OPT_SORT,
    OPT_FACETS,
    OPT_DEDUP,
    OPT_FUZZY,
    OPT_EXPLAIN,
    OPT_EXACT,
    OPT_FIELDS,
    OPT_FILTER,
    OPT_PARAM,
    OPT_RESET,
    OPT_ADMIN_TOKEN_FILE
};

static const struct option long_options[] = {
    {"connect", required_argument, NULL, OPT_CONNECT},
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"db", required_argument, NULL, OPT_DB},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"json", no_argument, NULL, OPT_JSON},
    {"color", required_argument, NULL, OPT_COLOR},
    {"colour", required_argument, NULL, OPT_COLOR},
    {"limit", required_argument, NULL, 'n'},
    {"offset", required_argument, NULL, OPT_OFFSET},
    {"no-snippet", no_argument, NULL, OPT_NO_SNIPPET},
    {"snippet-bytes", required_argument, NULL, OPT_SNIPPET_BYTES},
    {"op", required_argument, NULL, OPT_OP},
    {"sort", required_argument, NULL, OPT_SORT},
    {"facets", required_argument, NULL, OPT_FACETS},
    {"dedup", required_argument, NULL, OPT_DEDUP},
    {"fuzzy", required_argument, NULL, OPT_FUZZY},
    {"explain", no_argument, NULL, OPT_EXPLAIN},
    {"exact", no_argument, NULL, OPT_EXACT},
    {"fields", required_argument, NULL, OPT_FIELDS},
    {"filter", required_argument, NULL, OPT_FILTER},
    {"param", required_argument, NULL, OPT_PARAM},
    {"reset", no_argument, NULL, OPT_RESET},
    {"admin-token-file", required_argument, NULL, OPT_ADMIN_TOKEN_FILE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Parses every option wherever it appears (GNU getopt permutes them to the front);
 * operands stay in argv[optind..]. Returns -1 to go on, or an exit status. */
int args_parse(int argc, char **argv, struct options *o)
{
    const char *color = "auto";
    int targets = 0;
    opterr = 0; /* our own messages */
    int ch;
    while ((ch = getopt_long(argc, argv, ":n:hV", long_options, NULL)) != -1) {
        int rc = 0;
        const char *name = NULL; /* a search option's name, for search_only */
        switch (ch) {
        case OPT_CONNECT:
            o->connect = optarg;
            targets++;
            break;
        case OPT_SOCKET:
            o->socket = optarg;
            targets++;
            break;
        case OPT_DB:
            o->db = optarg;
            targets++;
            break;
        case OPT_TIMEOUT:
            if ((rc = number_arg("--timeout", "a number of milliseconds", optarg, MAX_TIMEOUT_MS,
                                 &o->timeout_ms)))
                return rc;
            o->timeout_given = 1;
            break;
        case OPT_JSON: o->json = 1; break;
        case OPT_COLOR:
            if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never"))
                return args_usage_error("--color must be auto, always or never, not '%s'", optarg);
            color = optarg;
            break;
        case 'n':
            if ((rc = number_arg("-n", "a whole number of hits", optarg, LONG_MAX, NULL)))
                return rc;
            rc = add_param(o, "limit", optarg);
            name = "-n";
            break;
        case OPT_OFFSET:
            if ((rc = number_arg("--offset", "a whole number", optarg, LONG_MAX, NULL)))
                return rc;
            rc = add_param(o, "offset", optarg);
            name = "--offset";
            break;
        case OPT_NO_SNIPPET:
            rc = add_param(o, "snippet", "0");
            name = "--no-snippet";
            break;
        case OPT_SNIPPET_BYTES:
            if ((rc = number_arg("--snippet-bytes", "a number of bytes", optarg, LONG_MAX, NULL)))
                return rc;
            rc = add_param(o, "snippet_bytes", optarg);
            name = "--snippet-bytes";
            break;
        case OPT_OP:
            rc = add_param(o, "op", optarg);
            name = "--op";
            break;
        case OPT_SORT:
            rc = add_param(o, "sort", optarg);
            name = "--sort";
            break;
        case OPT_FACETS:
            rc = add_param(o, "facets", optarg);
            name = "--facets";
            break;
        case OPT_DEDUP:
            rc = add_param(o, "dedup", optarg);
            name = "--dedup";
            break;
        case OPT_FUZZY:
            rc = add_param(o, "fuzzy", optarg);
            name = "--fuzzy";
            break;
        case OPT_EXPLAIN:
            rc = add_param(o, "explain", "1");
            name = "--explain";
            break;
        case OPT_EXACT:
            rc = add_param(o, "exact", "1");
            name = "--exact";
            break;
        case OPT_FIELDS:
            rc = add_param(o, "fields", optarg);
            name = "--fields";
            break;
        case OPT_FILTER:
            rc = add_param(o, "filter", optarg);
            name = "--filter";
            break;
        case OPT_PARAM: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg)
                return args_usage_error("--param needs KEY=VALUE, not '%s'", optarg);
            *eq = '\0'; /* argv is ours to split */
            /* The limit is also read here (args_param_limit): it must be a number. */
            if (strcmp(optarg, "limit") == 0 &&
                (rc = number_arg("--param limit", "a whole number", eq + 1, LONG_MAX, NULL)))
                return rc;
            rc = add_param(o, optarg, eq + 1);
            name = "--param";
            break;
        }
        case OPT_RESET:
            o->reset = 1;
            if (!o->stats_only)
                o->stats_only = "--reset";
            break;
        case OPT_ADMIN_TOKEN_FILE:
            o->token_file = optarg;
            if (!o->stats_only)
                o->stats_only = "--admin-token-file";
            break;
        case 'h': usage(); return EXIT_HITS;
        case 'V':
            printf("quire %s (libquire-client %s, jansson %s)\n", PACKAGE_VERSION, qc_version(),
                   JANSSON_VERSION);
            return EXIT_HITS;
        case ':': return args_usage_error("option %s needs a value", argv[optind - 1]);
        default:
            if (optopt && optopt < 256)
                return args_usage_error("unknown option '-%c'", optopt);
            return args_usage_error("unknown option '%s'", argv[optind - 1]);
        }
        if (rc)
            return rc;
        if (name && !o->search_only)
            o->search_only = name;
    }
    if (targets > 1)
        return args_usage_error("give at most one of --connect, --socket and --db");
    o->bold = strcmp(color, "always") == 0 || (strcmp(color, "auto") == 0 && isatty(STDOUT_FILENO));
    return -1;
}

/* 1 when a search parameter key was given. */
int args_has_param(const struct options *o, const char *key)
{
    for (size_t i = 0; i < o->nparams; i++) {
        if (strcmp(o->params[i].key, key) == 0)
            return 1;
    }
    return 0;
}

/* Joins the query words with spaces, refusing more than SEARCH_MAX_QUERY_BYTES before
 * anything is sent. Returns 0 with sb filled, or an exit status. */
int args_join_query(int n, char **words, int filtered, struct strbuf *sb)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += strlen(words[i]) + (i ? 1 : 0);
    if (total > SEARCH_MAX_QUERY_BYTES) {
        fprintf(stderr, "quire: the query is %zu bytes, longer than the limit of %d\n", total,
                SEARCH_MAX_QUERY_BYTES);
        return EXIT_ERROR;
    }
    for (int i = 0; i < n; i++) {
        if (i)
            sb_putc(sb, ' ');
        sb_puts(sb, words[i]);
    }
    if (sb->failed) {
        fputs("quire: out of memory\n", stderr);
        return EXIT_ERROR;
    }
    if (total == 0 && !filtered)
        return args_usage_error("search needs a query (or a --filter)");
    return 0;
}
/* The -n value given (the "limit" parameter, the last one given), or -1 when none. */
long args_param_limit(const struct options *o)
{
    long limit = -1;
    for (size_t i = 0; i < o->nparams; i++) {
        if (strcmp(o->params[i].key, "limit") == 0) {
            int rc = num_parse_long(o->params[i].value, 0, LONG_MAX, &limit);
            assert(rc == NUM_OK); /* checked by args_parse */
            (void)rc;
        }
    }
    return limit;
}

/* Names the command and checks the options and operands against it (see args.h). */
int args_command(const struct options *o, int nargs, char **args, enum command *cmd)
{
    if (nargs == 0)
        return args_usage_error(
            "no command given: search, doc, similar, health, complete or stats");
    static const char *const names[] = {
        [CMD_SEARCH] = "search", [CMD_DOC] = "doc",           [CMD_SIMILAR] = "similar",
        [CMD_HEALTH] = "health", [CMD_COMPLETE] = "complete", [CMD_STATS] = "stats"};
    size_t c = 0;
    while (c < sizeof names / sizeof names[0] && strcmp(args[0], names[c]) != 0)
        c++;
    if (c == sizeof names / sizeof names[0])
        return args_usage_error("unknown command '%s': expected search, doc, similar, health, "
                                "complete or stats",
                                args[0]);
    *cmd = (enum command)c;
    /* similar takes the paging and shaping options of search, and no others. */
    static const char *const similar_keys[] = {"limit", "offset", "snippet", "dedup", "fields"};
    const char *not_similar = NULL;
    for (size_t i = 0; i < o->nparams && !not_similar; i++) {
        int known = 0;
        for (size_t k = 0; k < sizeof similar_keys / sizeof similar_keys[0]; k++)
            known |= strcmp(o->params[i].key, similar_keys[k]) == 0;
        if (!known)
            not_similar = o->params[i].key;
    }
    if (*cmd == CMD_SIMILAR && not_similar)
        return args_usage_error("similar takes -n, --offset, --no-snippet, --dedup and --fields, "
                                "not the search parameter '%s'",
                                not_similar);
    /* complete takes -n and nothing else of search's options. */
    int only_limit = o->nparams > 0;
    for (size_t i = 0; i < o->nparams; i++)
        only_limit = only_limit && strcmp(o->params[i].key, "limit") == 0;
    if (*cmd != CMD_SEARCH && *cmd != CMD_SIMILAR && o->search_only &&
        !((*cmd == CMD_COMPLETE || *cmd == CMD_STATS) && only_limit))
        return args_usage_error("%s applies to search only", o->search_only);
    if (*cmd != CMD_STATS && o->stats_only)
        return args_usage_error("%s applies to stats only", o->stats_only);
    if (*cmd == CMD_STATS && nargs != 1)
        return args_usage_error("stats takes no arguments");
    if (*cmd == CMD_STATS && o->db)
        return args_usage_error("stats needs quired (the counts are the daemon's), not --db");
    if ((*cmd == CMD_DOC || *cmd == CMD_SIMILAR) && nargs != 2)
        return args_usage_error("%s needs exactly one document id", args[0]);
    if (*cmd == CMD_HEALTH && nargs != 1)
        return args_usage_error("health takes no arguments");
    if (*cmd == CMD_COMPLETE && nargs < 2)
        return args_usage_error("complete needs the text typed so far");

    return -1;
}
