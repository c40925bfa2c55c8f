/*
 * quire.c -- `quire`, the command-line client: search, show a document, check health.
 *
 * Two sources, one printer. By default quire asks the quired daemon (127.0.0.1:7070, or
 * --connect / --socket) through libquire-client; with --db DIR it opens the index itself
 * through lib/search.h, the very functions the daemon calls. Both give the same JSON
 * object, so everything after fetching (the human output, --json, the exit status) is
 * written once and cannot differ between the two.
 *
 * Options are collected into one ordered list of search parameters (q, limit, offset,
 * snippet, op, sort, ...): sent as the query string to the daemon, or fed one by one to
 * search_request_set() with --db. Validation of values and their ranges therefore lives in
 * one place, lib/request.c, and reads the same either way.
 *
 * Human output is for people, so it is made safe for a terminal: indexed text is not
 * trusted, and control characters in titles, snippets or documents (an ESC could rewrite
 * the screen) are replaced before printing. Snippets come HTML-escaped with <b>..</b>
 * around matched terms; they become ANSI bold on a terminal and are dropped otherwise.
 *
 * Exit status follows grep: 0 hits found (or the command worked), 1 no hits, 2 error.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <assert.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "quire/client.h"
#include "cliout.h"
#include "stats.h"
#include "complete.h"
#include "number.h"
#include "search.h"
#include "util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define EXIT_HITS 0
#define EXIT_NO_HITS 1
#define EXIT_ERROR 2

/* More than any real command line needs; keeps the parameter list a fixed array. */
#define MAX_PARAMS 32

#define BOLD "\033[1m"
#define RESET "\033[0m"

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
    const char *stats_only;      /* the first stats option given (--reset, ...) */
    int reset;                   /* stats --reset */
    const char *token_file;      /* --admin-token-file */
};

/* Where results come from: exactly one of these is set. */
struct source {
    qc_client *qc;
    struct search_index *ix;
};

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

/* A usage error: one line saying what was wrong, a pointer to --help, exit status 2. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("quire: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see quire --help)\n", stderr);
    return EXIT_ERROR;
}

/* ---- safe printing ----------------------------------------------------------------------- */

/* Writes code point cp as UTF-8, or a space when it is a control character or invalid. */
static void put_codepoint(FILE *f, uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xD800 && cp <= 0xDFFF) ||
        cp > 0x10FFFF) {
        putc(' ', f);
    } else if (cp < 0x80) {
        putc((int)cp, f);
    } else if (cp < 0x800) {
        putc((int)(0xC0 | (cp >> 6)), f);
        putc((int)(0x80 | (cp & 0x3F)), f);
    } else if (cp < 0x10000) {
        putc((int)(0xE0 | (cp >> 12)), f);
        putc((int)(0x80 | ((cp >> 6) & 0x3F)), f);
        putc((int)(0x80 | (cp & 0x3F)), f);
    } else {
        putc((int)(0xF0 | (cp >> 18)), f);
        putc((int)(0x80 | ((cp >> 12) & 0x3F)), f);
        putc((int)(0x80 | ((cp >> 6) & 0x3F)), f);
        putc((int)(0x80 | (cp & 0x3F)), f);
    }
}

/* Decodes the HTML entity at s ("&amp;", "&#39;", "&#x27;", ...). Returns the bytes it
 * spans with *cp set, or 0 when s does not start with an entity we know. */
static size_t decode_entity(const char *s, uint32_t *cp)
{
    static const struct {
        const char *name;
        uint32_t cp;
    } named[] = {{"&amp;", '&'},  {"&lt;", '<'},    {"&gt;", '>'},
                 {"&quot;", '"'}, {"&apos;", '\''}, {"&nbsp;", 0xA0}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t n = strlen(named[i].name);
        if (strncmp(s, named[i].name, n) == 0) {
            *cp = named[i].cp;
            return n;
        }
    }
    if (s[1] != '#')
        return 0;
    int hex = s[2] == 'x' || s[2] == 'X';
    size_t i = hex ? 3 : 2;
    uint32_t v = 0;
    size_t digits = 0;
    for (;; i++, digits++) {
        char c = s[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (hex && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            break;
        if (digits >= 7) /* past U+10FFFF in any base: not an entity we print */
            return 0;
        v = v * (hex ? 16 : 10) + (uint32_t)d;
    }
    if (digits == 0 || s[i] != ';')
        return 0;
    *cp = v;
    return i + 1;
}

/* Prints a snippet: HTML-escaped text with <b>..</b> around matched terms. The tags become
 * bold on a terminal (bold) and vanish otherwise; entities are decoded. */
static void put_snippet(FILE *f, const char *s, int bold)
{
    int in_bold = 0;
    while (*s) {
        size_t run = strcspn(s, "<&");
        cliout_put_clean(f, s, run, 0);
        s += run;
        if (!*s)
            break;
        uint32_t cp;
        size_t n;
        if (strncmp(s, "<b>", 3) == 0) {
            if (bold && !in_bold)
                fputs(BOLD, f);
            in_bold = 1;
            s += 3;
        } else if (strncmp(s, "</b>", 4) == 0) {
            if (bold && in_bold)
                fputs(RESET, f);
            in_bold = 0;
            s += 4;
        } else if (*s == '&' && (n = decode_entity(s, &cp)) > 0) {
            put_codepoint(f, cp);
            s += n;
        } else {
            putc(*s, f);
            s++;
        }
    }
    if (bold && in_bold)
        fputs(RESET, f);
}

/* Prints a JSON scalar for people: strings without quotes, numbers and booleans as JSON,
 * anything else compact. */
static void put_scalar(FILE *f, json_t *v)
{
    if (json_is_string(v)) {
        cliout_put_clean(f, json_string_value(v), json_string_length(v), 0);
        return;
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    cliout_puts_clean(f, s ? s : "?");
    free(s);
}

/* A string member of obj, or NULL when absent, null or not a non-empty string. */
static const char *get_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

/* ---- human output ------------------------------------------------------------------------ */

struct term_weight {
    const char *term;
    double weight;
};

/* Heaviest first; equal weights by term, so the table is stable. */
static int by_weight(const void *a, const void *b)
{
    const struct term_weight *x = a, *y = b;
    if (x->weight != y->weight)
        return x->weight < y->weight ? 1 : -1;
    return strcmp(x->term, y->term);
}

/* Prints a hit's explanation ({"term": weight, ...}) as a table indented by indent: one
 * row per query term that contributed, heaviest first, then the hit's score. Terms are
 * shown as the index holds them: a leading Z marks a stem, S a title word. */
static void print_explain(json_t *explain, json_t *score, int indent)
{
    size_t n = json_object_size(explain), i = 0;
    struct term_weight *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        return;
    const char *term;
    json_t *w;
    int tw = 4; /* strlen("term") */
    json_object_foreach (explain, term, w) {
        rows[i].term = term;
        rows[i].weight = json_number_value(w);
        int len = (int)strlen(term);
        tw = len > tw ? (len < 40 ? len : 40) : tw;
        i++;
    }
    if (n > 1)
        qsort(rows, n, sizeof *rows, by_weight);
    printf("%*s%-*s  %9s\n", indent, "", tw, "term", "weight");
    for (i = 0; i < n; i++) {
        printf("%*s", indent, "");
        cliout_put_clean(stdout, rows[i].term, strlen(rows[i].term) < 40 ? strlen(rows[i].term) : 40, 0);
        int len = (int)strlen(rows[i].term);
        printf("%*s  %9.3f\n", tw - (len < 40 ? len : 40), "", rows[i].weight);
    }
    if (json_is_number(score))
        printf("%*s%-*s  %9.3f\n", indent, "", tw, "score", json_number_value(score));
    free(rows);
}

/* Prints before, text (untrusted: cleaned; bold on a terminal) and after. */
static void put_line_bold(const char *before, const char *text, const char *after, int bold)
{
    fputs(before, stdout);
    if (bold)
        fputs(BOLD, stdout);
    cliout_puts_clean(stdout, text);
    if (bold)
        fputs(RESET, stdout);
    fputs(after, stdout);
}

/* Prints a search result for people and returns the number of hits in it. */
static size_t print_search(json_t *res, int bold)
{
    json_t *hits = json_object_get(res, "hits");
    size_t nhits = json_array_size(hits);

    const char *parsed = get_str(res, "parsed_query");
    if (parsed) {
        fputs("Query: ", stdout);
        cliout_puts_clean(stdout, parsed);
        putchar('\n');
    }
    const char *suggestion = get_str(res, "suggestion");
    const char *corrected = get_str(res, "corrected_query");
    /* Typo tolerance searched the query as typed or as corrected: say which. */
    if (corrected)
        put_line_bold("Showing results for ", corrected,
                      " (--fuzzy 0 searches only the query as typed)\n", bold);
    else if (suggestion)
        put_line_bold("Did you mean: ", suggestion, "?\n", bold);
    if (parsed || suggestion || corrected)
        putchar('\n');

    /* Indent continuation lines under the title, past the widest "RANK. ". */
    json_int_t last_rank =
        json_integer_value(json_object_get(json_array_get(hits, nhits - 1), "rank"));
    int width =
        snprintf(NULL, 0, "%lld", (long long)(last_rank > 0 ? last_rank : (json_int_t)nhits));
    for (size_t i = 0; i < nhits; i++) {
        json_t *h = json_array_get(hits, i);
        json_int_t rank = json_integer_value(json_object_get(h, "rank"));
        printf("%*lld. ", width, (long long)(rank > 0 ? rank : (json_int_t)(i + 1)));
        const char *title = get_str(h, "title");
        if (bold)
            fputs(BOLD, stdout);
        cliout_puts_clean(stdout, title ? title : "(untitled)");
        if (bold)
            fputs(RESET, stdout);
        putchar('\n');

        /* Second line: when and where from, then the id (so that `quire doc ID` and
         * `quire similar ID` can follow any hit). */
        const char *parts[] = {get_str(h, "date"), get_str(h, "source"), get_str(h, "id")};
        printf("%*s", width + 2, "");
        int any = 0;
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
            if (!parts[k])
                continue;
            if (any)
                fputs(" - ", stdout);
            if (k == 2)
                fputs("id ", stdout);
            cliout_puts_clean(stdout, parts[k]);
            any = 1;
        }
        json_int_t dups = json_integer_value(json_object_get(h, "duplicates"));
        if (dups > 0)
            printf(" (+%lld identical)", (long long)dups);
        putchar('\n');

        const char *snippet = get_str(h, "snippet");
        if (snippet) {
            printf("%*s", width + 2, "");
            put_snippet(stdout, snippet, bold);
            putchar('\n');
        }
        json_t *explain = json_object_get(h, "explain");
        if (json_is_object(explain))
            print_explain(explain, json_object_get(h, "score"), width + 2);
        putchar('\n');
    }

    /* Facets, one line per field: "category: sport (511), business (300)". */
    json_t *facets = json_object_get(res, "facets");
    const char *field;
    json_t *values;
    json_object_foreach (facets, field, values) {
        cliout_puts_clean(stdout, field);
        fputs(":", stdout);
        size_t i;
        json_t *fv;
        json_array_foreach (values, i, fv) {
            fputs(i ? ", " : " ", stdout);
            put_scalar(stdout, json_object_get(fv, "value"));
            printf(" (%lld)", (long long)json_integer_value(json_object_get(fv, "count")));
        }
        putchar('\n');
    }

    json_t *total = json_object_get(res, "total");
    json_int_t est = json_integer_value(json_object_get(total, "estimated"));
    /* "about" unless every match was counted (exact=1, or facets that saw them all). */
    int exact = json_is_true(json_object_get(total, "exact"));
    printf("%zu of %s%lld results (%.2f ms%s)\n", nhits, exact ? "" : "about ", (long long)est,
           json_number_value(json_object_get(res, "took_ms")),
           json_is_true(json_object_get(res, "timed_out"))
               ? "; timed out: the search stopped early, there may be more and better hits"
               : "");
    return nhits;
}

/* Prints one article for people: the title, the fields that are present, then the text. */
static void print_doc(json_t *doc, int bold)
{
    const char *title = get_str(doc, "title");
    if (bold)
        fputs(BOLD, stdout);
    cliout_puts_clean(stdout, title ? title : "(untitled)");
    if (bold)
        fputs(RESET, stdout);
    putchar('\n');
    static const char *fields[] = {"date", "source", "url", "category", "id"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = get_str(doc, fields[i]);
        if (v) {
            printf("%-9s ", fields[i]);
            cliout_puts_clean(stdout, v);
            putchar('\n');
        }
    }
    json_t *text = json_object_get(doc, "text");
    size_t n = json_string_length(text);
    if (n > 0) {
        const char *s = json_string_value(text);
        putchar('\n');
        cliout_put_clean(stdout, s, n, 1);
        if (s[n - 1] != '\n')
            putchar('\n');
    }
}

/* Prints health on one line: "ok: 1234 docs, revision 5, generation gen-000042, ...". */
static void print_health(json_t *h)
{
    const char *status = get_str(h, "status");
    cliout_puts_clean(stdout, status ? status : "unknown");
    const char *key;
    json_t *v;
    int first = 1;
    json_object_foreach (h, key, v) {
        if (strcmp(key, "status") == 0 || json_is_null(v))
            continue;
        fputs(first ? ": " : ", ", stdout);
        first = 0;
        if (strcmp(key, "docs") == 0) {
            put_scalar(stdout, v);
            fputs(" docs", stdout);
        } else {
            cliout_puts_clean(stdout, key);
            putchar(' ');
            put_scalar(stdout, v);
        }
    }
    putchar('\n');
}

/* ---- fetching ------------------------------------------------------------------------------ */

/* Prints a search_error from lib/ and returns NULL, for --db. */
static json_t *local_error(const struct search_error *err)
{
    fputs("quire: ", stderr);
    cliout_puts_clean(stderr, err->message);
    putc('\n', stderr);
    return NULL;
}

/* Runs a search against either source. Returns the result (caller decrefs) or NULL after
 * printing the error. */
static json_t *fetch_search(struct source *src, const struct options *o, const char *query)
{
    if (src->qc) {
        qc_search_opts so;
        qc_search_opts_init(&so);
        so.query = query;
        so.params = o->params;
        so.nparams = o->nparams;
        qc_response *r = NULL;
        qc_code rc = qc_search(src->qc, &so, &r);
        json_t *j = cliout_answer(src->qc, rc, r);
        qc_response_free(r);
        return j;
    }
    struct search_request req;
    struct search_error err = {0};
    json_t *j = NULL;
    search_request_init(&req);
    int ok = search_request_set(&req, "q", query, &err) == 0;
    for (size_t i = 0; ok && i < o->nparams; i++)
        ok = search_request_set(&req, o->params[i].key, o->params[i].value, &err) == 0;
    if (ok && search_request_validate(&req, &err) == 0)
        j = search_run(src->ix, &req, &err);
    search_request_clear(&req);
    return j ? j : local_error(&err);
}

/* Fetches one document from either source. */
static json_t *fetch_doc(struct source *src, const char *id)
{
    if (src->qc) {
        qc_response *r = NULL;
        qc_code rc = qc_doc(src->qc, id, &r);
        json_t *j = cliout_answer(src->qc, rc, r);
        qc_response_free(r);
        return j;
    }
    struct search_error err = {0};
    json_t *j = search_doc(src->ix, id, &err);
    return j ? j : local_error(&err);
}

/* The -n value given (the "limit" parameter, the last one given), or -1 when none. */
static long param_limit(const struct options *o)
{
    long limit = -1;
    for (size_t i = 0; i < o->nparams; i++) {
        if (strcmp(o->params[i].key, "limit") == 0) {
            int rc = num_parse_long(o->params[i].value, 0, LONG_MAX, &limit);
            assert(rc == NUM_OK); /* checked by parse_options */
            (void)rc;
        }
    }
    return limit;
}

/* Fetches the articles like id from either source, with the search options similar takes
 * (checked in main). */
static json_t *fetch_similar(struct source *src, const struct options *o, const char *id)
{
    if (src->qc) {
        qc_response *r = NULL;
        qc_code rc = qc_similar_params(src->qc, id, o->params, o->nparams, &r);
        json_t *j = cliout_answer(src->qc, rc, r);
        qc_response_free(r);
        return j;
    }
    struct search_request req;
    struct search_error err = {0};
    json_t *j = NULL;
    search_request_init(&req);
    int ok = 1;
    for (size_t i = 0; ok && i < o->nparams; i++)
        ok = search_request_set(&req, o->params[i].key, o->params[i].value, &err) == 0;
    if (ok)
        j = search_similar(src->ix, id, &req, &err);
    search_request_clear(&req);
    return j ? j : local_error(&err);
}

/* Fetches the completions of text from either source (GET /complete, or lib/complete.c). */
static json_t *fetch_complete(struct source *src, const struct options *o, const char *text)
{
    long limit = param_limit(o);
    if (src->qc) {
        struct strbuf path;
        sb_init(&path);
        sb_puts(&path, "/complete?q=");
        for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                *c == '-' || *c == '_' || *c == '.' || *c == '~')
                sb_putc(&path, (char)*c);
            else
                sb_printf(&path, "%%%02X", *c);
        }
        if (limit >= 0)
            sb_printf(&path, "&limit=%ld", limit);
        if (path.failed) {
            sb_free(&path);
            fputs("quire: out of memory\n", stderr);
            return NULL;
        }
        qc_response *r = NULL;
        qc_code rc = qc_get(src->qc, sb_cstr(&path), &r);
        sb_free(&path);
        json_t *j = cliout_answer(src->qc, rc, r);
        qc_response_free(r);
        return j;
    }
    struct search_error err = {0};
    if (limit == 0 || limit > COMPLETE_MAX_LIMIT) {
        search_error_set(&err, 400, "bad_parameter",
                         "parameter 'limit' must be a whole number from 1 to %d",
                         COMPLETE_MAX_LIMIT);
        return local_error(&err);
    }
    if (strlen(text) > SEARCH_MAX_QUERY_BYTES || !util_utf8_valid(text, strlen(text))) {
        search_error_set(&err, 400, "bad_parameter",
                         "the text must be at most %d bytes of UTF-8", SEARCH_MAX_QUERY_BYTES);
        return local_error(&err);
    }
    json_t *j = search_complete(src->ix, text, limit < 0 ? COMPLETE_DEFAULT_LIMIT : (unsigned)limit,
                                &err);
    return j ? j : local_error(&err);
}

/* Prints completions one a line, then the titles ("title  [id]"). Returns how many. */
static size_t print_complete(json_t *j)
{
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(json_object_get(j, "completions"), i, v) {
        if (json_is_string(v)) {
            printf("%s\n", json_string_value(v));
            n++;
        }
    }
    json_array_foreach(json_object_get(j, "titles"), i, v) {
        const char *title = get_str(v, "title"), *id = get_str(v, "id");
        printf("title: %s  [%s]\n", title ? title : "", id ? id : "");
        n++;
    }
    return n;
}

/* Fetches the health object from either source. */
static json_t *fetch_health(struct source *src)
{
    if (src->qc) {
        qc_response *r = NULL;
        qc_code rc = qc_health(src->qc, &r);
        json_t *j = cliout_answer(src->qc, rc, r);
        qc_response_free(r);
        return j;
    }
    struct search_error err = {0};
    json_t *j = search_health(src->ix, &err);
    return j ? j : local_error(&err);
}

/* Opens the source the options name. Returns 0, or -1 after printing why. */
static int source_open(struct source *src, const struct options *o)
{
    if (o->db) {
        struct search_error err = {0};
        src->ix = search_index_open(o->db, &err);
        if (!src->ix) {
            local_error(&err);
            return -1;
        }
        /* The daemon's default budget unless --timeout names one. */
        long ms = o->timeout_given ? o->timeout_ms : SEARCH_DEFAULT_TIMEOUT_MS;
        search_index_set_timeout(src->ix, ms > (long)UINT_MAX ? UINT_MAX : (unsigned)ms);
        return 0;
    }
    char *msg = NULL;
    if (o->socket)
        src->qc = qc_client_new_unix(o->socket, &msg);
    else if (o->connect)
        src->qc = qc_client_new_target(o->connect, &msg);
    else
        src->qc = qc_client_new_tcp(QC_DEFAULT_HOST, QC_DEFAULT_PORT, &msg);
    if (!src->qc) {
        fprintf(stderr, "quire: %s\n", msg ? msg : "out of memory");
        free(msg);
        return -1;
    }
    qc_client_set_timeout_ms(src->qc, o->timeout_ms);
    return 0;
}

/* ---- command line ------------------------------------------------------------------------ */

/* Adds a search parameter (both strings borrowed from argv or static). */
static int add_param(struct options *o, const char *key, const char *value)
{
    if (o->nparams == MAX_PARAMS)
        return usage_error("too many search options (the limit is %d)", MAX_PARAMS);
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
        return usage_error("%s needs %s; '%s' is too large", flag, what, arg);
    if (rc == NUM_RANGE && hi != LONG_MAX)
        return usage_error("%s needs %s from 0 to %ld, not '%s'", flag, what, hi, arg);
    return usage_error("%s needs %s, not '%s'", flag, what, arg);
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
static int parse_options(int argc, char **argv, struct options *o)
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
                return usage_error("--color must be auto, always or never, not '%s'", optarg);
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
                return usage_error("--param needs KEY=VALUE, not '%s'", optarg);
            *eq = '\0'; /* argv is ours to split */
            /* The limit is also read here (param_limit): it must be a number. */
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
        case ':': return usage_error("option %s needs a value", argv[optind - 1]);
        default:
            if (optopt && optopt < 256)
                return usage_error("unknown option '-%c'", optopt);
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
        if (rc)
            return rc;
        if (name && !o->search_only)
            o->search_only = name;
    }
    if (targets > 1)
        return usage_error("give at most one of --connect, --socket and --db");
    o->bold = strcmp(color, "always") == 0 || (strcmp(color, "auto") == 0 && isatty(STDOUT_FILENO));
    return -1;
}

/* 1 when a search parameter key was given. */
static int has_param(const struct options *o, const char *key)
{
    for (size_t i = 0; i < o->nparams; i++) {
        if (strcmp(o->params[i].key, key) == 0)
            return 1;
    }
    return 0;
}

/* Joins the query words with spaces, refusing more than SEARCH_MAX_QUERY_BYTES before
 * anything is sent. Returns 0 with sb filled, or an exit status. */
static int join_query(int n, char **words, int filtered, struct strbuf *sb)
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
        return usage_error("search needs a query (or a --filter)");
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {.timeout_ms = QC_DEFAULT_TIMEOUT_MS};
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;

    char **args = argv + optind;
    int nargs = argc - optind;
    if (nargs == 0)
        return usage_error("no command given: search, doc, similar, health, complete or stats");
    enum command cmd;
    if (strcmp(args[0], "search") == 0)
        cmd = CMD_SEARCH;
    else if (strcmp(args[0], "doc") == 0)
        cmd = CMD_DOC;
    else if (strcmp(args[0], "similar") == 0)
        cmd = CMD_SIMILAR;
    else if (strcmp(args[0], "health") == 0)
        cmd = CMD_HEALTH;
    else if (strcmp(args[0], "complete") == 0)
        cmd = CMD_COMPLETE;
    else if (strcmp(args[0], "stats") == 0)
        cmd = CMD_STATS;
    else
        return usage_error("unknown command '%s': expected search, doc, similar, health, "
                           "complete or stats",
                           args[0]);
    /* similar takes the paging and shaping options of search, and no others. */
    static const char *const similar_keys[] = {"limit", "offset", "snippet", "dedup", "fields"};
    const char *not_similar = NULL;
    for (size_t i = 0; i < o.nparams && !not_similar; i++) {
        int known = 0;
        for (size_t k = 0; k < sizeof similar_keys / sizeof similar_keys[0]; k++)
            known |= strcmp(o.params[i].key, similar_keys[k]) == 0;
        if (!known)
            not_similar = o.params[i].key;
    }
    if (cmd == CMD_SIMILAR && not_similar)
        return usage_error("similar takes -n, --offset, --no-snippet, --dedup and --fields, "
                           "not the search parameter '%s'", not_similar);
    /* complete takes -n and nothing else of search's options. */
    int only_limit = o.nparams > 0;
    for (size_t i = 0; i < o.nparams; i++)
        only_limit = only_limit && strcmp(o.params[i].key, "limit") == 0;
    if (cmd != CMD_SEARCH && cmd != CMD_SIMILAR && o.search_only &&
        !((cmd == CMD_COMPLETE || cmd == CMD_STATS) && only_limit))
        return usage_error("%s applies to search only", o.search_only);
    if (cmd != CMD_STATS && o.stats_only)
        return usage_error("%s applies to stats only", o.stats_only);
    if (cmd == CMD_STATS && nargs != 1)
        return usage_error("stats takes no arguments");
    if (cmd == CMD_STATS && o.db)
        return usage_error("stats needs quired (the counts are the daemon's), not --db");
    if ((cmd == CMD_DOC || cmd == CMD_SIMILAR) && nargs != 2)
        return usage_error("%s needs exactly one document id", args[0]);
    if (cmd == CMD_HEALTH && nargs != 1)
        return usage_error("health takes no arguments");
    if (cmd == CMD_COMPLETE && nargs < 2)
        return usage_error("complete needs the text typed so far");

    struct strbuf query;
    sb_init(&query);
    if ((cmd == CMD_SEARCH || cmd == CMD_COMPLETE) &&
        (rc = join_query(nargs - 1, args + 1, cmd == CMD_SEARCH && has_param(&o, "filter"),
                         &query)) != 0) {
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
    case CMD_SEARCH: j = fetch_search(&src, &o, sb_cstr(&query)); break;
    case CMD_DOC: j = fetch_doc(&src, args[1]); break;
    case CMD_SIMILAR: j = fetch_similar(&src, &o, args[1]); break;
    case CMD_HEALTH: j = fetch_health(&src); break;
    case CMD_COMPLETE: j = fetch_complete(&src, &o, sb_cstr(&query)); break;
    case CMD_STATS: {
        struct stats_options so = {param_limit(&o), o.reset, o.token_file, o.json};
        rc = stats_main(src.qc, &so);
        qc_client_free(src.qc);
        sb_free(&query);
        return rc;
    }
    }

    rc = EXIT_ERROR;
    if (j) {
        if (cmd == CMD_SEARCH || cmd == CMD_SIMILAR) {
            size_t hits =
                o.json ? json_array_size(json_object_get(j, "hits")) : print_search(j, o.bold);
            if (o.json)
                cliout_json(j);
            /* -n 0 shows no hits but still asks whether anything matched: the count says
             * (its lower bound: at least that many matches were seen). */
            json_int_t lower =
                json_integer_value(json_object_get(json_object_get(j, "total"), "lower"));
            rc = hits > 0 || (param_limit(&o) == 0 && lower > 0) ? EXIT_HITS : EXIT_NO_HITS;
        } else if (cmd == CMD_COMPLETE) {
            size_t n = o.json ? json_array_size(json_object_get(j, "completions")) +
                                    json_array_size(json_object_get(j, "titles"))
                              : print_complete(j);
            if (o.json)
                cliout_json(j);
            rc = n > 0 ? EXIT_HITS : EXIT_NO_HITS;
        } else if (cmd == CMD_DOC) {
            if (o.json)
                cliout_json(j);
            else
                print_doc(j, o.bold);
            rc = EXIT_HITS;
        } else {
            const char *status = get_str(j, "status");
            int ok = status && strcmp(status, "ok") == 0;
            if (o.json)
                cliout_json(j);
            else
                print_health(j);
            rc = ok ? EXIT_HITS : EXIT_ERROR;
        }
        json_decref(j);
    }
    qc_client_free(src.qc);
    search_index_close(src.ix);
    sb_free(&query);
    /* A full disk or a closed pipe is an error too, not a silent success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("quire: cannot write the output\n", stderr);
        return EXIT_ERROR;
    }
    return rc;
}
