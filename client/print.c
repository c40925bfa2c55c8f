/*
 * print.c -- quire's output for people (see print.h).
 *
 * Human output is for people, so it is made safe for a terminal: indexed text is not
 * trusted, and control characters in titles, snippets or documents (an ESC could rewrite
 * the screen) are replaced before printing (cliout.c). Snippets come HTML-escaped with
 * <b>..</b> around matched terms; they become ANSI bold on a terminal and are dropped
 * otherwise. --json output does not come here: it is printed as received (cliout_json).
 */
#include "print.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliout.h"
#include "number.h"

#define BOLD "\033[1m"
#define RESET "\033[0m"

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
    size_t start = hex ? 3 : 2;
    size_t digits = strspn(s + start, hex ? "0123456789abcdefABCDEF" : "0123456789");
    long v;
    /* More than 7 digits is past U+10FFFF in any base: not an entity we print. */
    if (digits == 0 || digits > 7 || s[start + digits] != ';' ||
        num_parse_span(s + start, digits, hex ? 16 : 10, 0, LONG_MAX, &v) != NUM_OK)
        return 0;
    *cp = (uint32_t)v;
    return start + digits + 1;
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
    json_object_foreach(explain, term, w)
    {
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
        cliout_put_clean(stdout, rows[i].term,
                         strlen(rows[i].term) < 40 ? strlen(rows[i].term) : 40, 0);
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
size_t print_search(json_t *res, int bold)
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
        put_line_bold("", title ? title : "(untitled)", "\n", bold);

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
    json_object_foreach(facets, field, values)
    {
        cliout_puts_clean(stdout, field);
        fputs(":", stdout);
        size_t i;
        json_t *fv;
        json_array_foreach(values, i, fv)
        {
            fputs(i ? ", " : " ", stdout);
            put_scalar(stdout, json_object_get(fv, "value"));
            printf(" (%lld)", (long long)json_integer_value(json_object_get(fv, "count")));
        }
        putchar('\n');
    }

    json_t *total = json_object_get(res, "total");
    json_int_t est = json_integer_value(json_object_get(total, "estimated"));
    /* "about" unless every match was counted (exact=1, or facets that saw them all), or
     * the bounds agree. */
    json_t *lower = json_object_get(total, "lower"), *upper = json_object_get(total, "upper");
    int exact = json_is_true(json_object_get(total, "exact")) ||
                (json_is_integer(lower) && json_is_integer(upper) &&
                 json_integer_value(lower) == json_integer_value(upper));
    printf("%zu of %s%lld result%s (%.2f ms%s)\n", nhits, exact ? "" : "about ", (long long)est,
           est == 1 ? "" : "s",
           json_number_value(json_object_get(res, "took_ms")),
           json_is_true(json_object_get(res, "timed_out"))
               ? "; timed out: the search stopped early, there may be more and better hits"
               : "");
    return nhits;
}

/* Prints one article for people: the title, the fields that are present, then the text. */
void print_doc(json_t *doc, int bold)
{
    const char *title = get_str(doc, "title");
    put_line_bold("", title ? title : "(untitled)", "\n", bold);
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
void print_health(json_t *h)
{
    const char *status = get_str(h, "status");
    cliout_puts_clean(stdout, status ? status : "unknown");
    const char *key;
    json_t *v;
    int first = 1;
    json_object_foreach(h, key, v)
    {
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

/* Prints completions one a line, then the titles ("title  [id]"). Returns how many. */
size_t print_complete(json_t *j)
{
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(json_object_get(j, "completions"), i, v)
    {
        if (json_is_string(v)) {
            printf("%s\n", json_string_value(v));
            n++;
        }
    }
    json_array_foreach(json_object_get(j, "titles"), i, v)
    {
        const char *title = get_str(v, "title"), *id = get_str(v, "id");
        printf("title: %s  [%s]\n", title ? title : "", id ? id : "");
        n++;
    }
    return n;
}
