/*
 * page.c -- the search page (see page.h).
 *
 * GET /?q=muse+spark&filter=category:tech&sort=date&page=2 runs the search in process,
 * through the same search_run() as GET /search, and renders its JSON answer as HTML: the
 * page works without JavaScript, and the URL is the whole state (bookmark it, share it).
 * The page reads only its own parameters (q, filter, sort, page, fuzzy) and ignores the
 * rest; in particular the API's mark_open/mark_close are never taken from the URL.
 *
 * Everything from an article or a request is data, never markup:
 *   - text is HTML-escaped (& < > " ') wherever it goes, attribute values always quoted;
 *   - marked text (snippets, and title_marked when the index gives it) arrives escaped
 *     with fixed markers; it is copied through put_marked, which turns exactly those
 *     markers into <mark> and escapes any other '<', '>' or quote, so even a marker-shaped
 *     string inside an article cannot become a tag;
 *   - an article's url becomes a link only when it is http: or https:;
 *   - links the page makes are built from percent-encoded parameters.
 * The page's own script and style come from /assets/ (compiled in, assets.h) under a
 * Content-Security-Policy (PAGE_CSP) that refuses anything inline or from elsewhere, so
 * even a mistake in the above would not run a script.
 *
 * The JavaScript (assets/page.js) only enhances: completions as you type (GET /complete),
 * keyboard navigation of the results.
 */
#include "page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>

#include "analytics.h"
#include "assets.h"
#include "number.h"
#include "routes.h"
#include "search.h"
#include "server.h"
#include "util.h"

/* The markers the page asks the search for: any others in its answer are escaped. */
#define MARK_OPEN "<b>"
#define MARK_CLOSE "</b>"

/* What the URL asks for. Strings are borrowed from the parsed query string. */
struct page_state {
    const char *q;
    const char *filters[PAGE_MAX_FILTERS];
    unsigned nfilters;
    const char *sort; /* NULL: relevance */
    unsigned page;    /* from 1 */
    int fuzzy_off;
};

/* ---- escaping ------------------------------------------------------------------------------ */

/* Appends s as HTML text or a quoted attribute value. */
static void put_text(struct strbuf *sb, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': sb_puts(sb, "&amp;"); break;
        case '<': sb_puts(sb, "&lt;"); break;
        case '>': sb_puts(sb, "&gt;"); break;
        case '"': sb_puts(sb, "&quot;"); break;
        case '\'': sb_puts(sb, "&#39;"); break;
        default: sb_putc(sb, *s);
        }
    }
}

/* Appends marked text from the search (already escaped, MARK_OPEN/MARK_CLOSE around matched
 * words): the markers become <mark> elements, balanced; anything else that could open a tag
 * or leave an attribute is escaped again. */
static void put_marked(struct strbuf *sb, const char *s)
{
    int open = 0;
    while (s && *s) {
        if (!open && strncmp(s, MARK_OPEN, strlen(MARK_OPEN)) == 0) {
            sb_puts(sb, "<mark>");
            open = 1;
            s += strlen(MARK_OPEN);
            continue;
        }
        if (open && strncmp(s, MARK_CLOSE, strlen(MARK_CLOSE)) == 0) {
            sb_puts(sb, "</mark>");
            open = 0;
            s += strlen(MARK_CLOSE);
            continue;
        }
        switch (*s) {
        case '<': sb_puts(sb, "&lt;"); break;
        case '>': sb_puts(sb, "&gt;"); break;
        case '"': sb_puts(sb, "&quot;"); break;
        case '\'': sb_puts(sb, "&#39;"); break;
        default: sb_putc(sb, *s);
        }
        s++;
    }
    if (open)
        sb_puts(sb, "</mark>");
}

/* Percent-encodes s for a query string (unreserved characters kept, space as '+'). */
static void put_encoded(struct strbuf *sb, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            sb_putc(sb, (char)c);
        else if (c == ' ')
            sb_putc(sb, '+');
        else {
            sb_putc(sb, '%');
            sb_putc(sb, hex[c >> 4]);
            sb_putc(sb, hex[c & 15]);
        }
    }
}

/* 1 when url is an http: or https: address (the only ones made into links). */
static int safe_url(const char *url)
{
    return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}

/* ---- links ----------------------------------------------------------------------------------- */

/* Appends the page URL for st, HTML-escaped for an attribute. */
static void put_href(struct strbuf *sb, const struct page_state *st)
{
    sb_puts(sb, "/?q=");
    put_encoded(sb, st->q);
    for (unsigned i = 0; i < st->nfilters; i++) {
        sb_puts(sb, "&amp;filter=");
        put_encoded(sb, st->filters[i]);
    }
    if (st->sort) {
        sb_puts(sb, "&amp;sort=");
        put_encoded(sb, st->sort);
    }
    if (st->page > 1)
        sb_printf(sb, "&amp;page=%u", st->page);
    if (st->fuzzy_off)
        sb_puts(sb, "&amp;fuzzy=0");
}

/* Index of filter f in st, or -1. */
static int filter_index(const struct page_state *st, const char *f)
{
    for (unsigned i = 0; i < st->nfilters; i++) {
        if (strcmp(st->filters[i], f) == 0)
            return (int)i;
    }
    return -1;
}

/* ---- the request ---------------------------------------------------------------------------- */

/* Reads the page's parameters from the parsed query string. */
static void state_read(struct page_state *st, struct evkeyvalq *params)
{
    memset(st, 0, sizeof *st);
    st->q = "";
    st->page = 1;
    for (struct evkeyval *kv = params->tqh_first; kv; kv = kv->next.tqe_next) {
        if (strcmp(kv->key, "q") == 0)
            st->q = kv->value;
        else if (strcmp(kv->key, "filter") == 0 && kv->value[0] &&
                 st->nfilters < PAGE_MAX_FILTERS && filter_index(st, kv->value) < 0)
            st->filters[st->nfilters++] = kv->value;
        else if (strcmp(kv->key, "sort") == 0 &&
                 (strcmp(kv->value, "date") == 0 || strcmp(kv->value, "date:asc") == 0))
            st->sort = kv->value;
        else if (strcmp(kv->key, "page") == 0) {
            /* A page number out of range (a hand-edited link) shows the first page. */
            long n;
            if (num_parse_long(kv->value, 1, SEARCH_MAX_OFFSET / PAGE_HITS + 1, &n) == NUM_OK)
                st->page = (unsigned)n;
        } else if (strcmp(kv->key, "fuzzy") == 0 && strcmp(kv->value, "0") == 0)
            st->fuzzy_off = 1;
    }
}

/* Builds the search request for st. While the index's search has no `filter` parameter, a
 * filter FIELD:VALUE is added to the query as its boolean syntax instead. Returns 0, or -1
 * with err filled. */
static int state_request(const struct page_state *st, struct search_request *sr,
                         struct search_error *err)
{
    struct strbuf q;
    sb_init(&q);
    sb_puts(&q, st->q);
    int rc = -1;
    char offset[32];
    snprintf(offset, sizeof offset, "%u", (st->page - 1) * PAGE_HITS);
    char limit[16];
    snprintf(limit, sizeof limit, "%d", PAGE_HITS);
    if (search_request_set(sr, "limit", limit, err) < 0 ||
        search_request_set(sr, "offset", offset, err) < 0 ||
        search_request_set(sr, "facets", "source,category,year", err) < 0 ||
        search_request_set(sr, "mark_open", MARK_OPEN, err) < 0 ||
        search_request_set(sr, "mark_close", MARK_CLOSE, err) < 0 ||
        (st->sort && search_request_set(sr, "sort", st->sort, err) < 0))
        goto out;
    if (st->fuzzy_off && search_request_set(sr, "fuzzy", "0", err) < 0 &&
        strcmp(err->code, "unknown_parameter") != 0)
        goto out;
    for (unsigned i = 0; i < st->nfilters; i++) {
        if (search_request_set(sr, "filter", st->filters[i], err) == 0)
            continue;
        const char *colon = strchr(st->filters[i], ':');
        if (strcmp(err->code, "unknown_parameter") != 0 || !colon)
            goto out;
        /* A quoted boolean term; a quote inside is doubled (Xapian's QueryParser). */
        sb_printf(&q, " %.*s:\"", (int)(colon - st->filters[i]), st->filters[i]);
        for (const char *c = colon + 1; *c; c++)
            sb_puts(&q, *c == '"' ? "\"\"" : (char[2]){*c, '\0'});
        sb_putc(&q, '"');
    }
    if (q.failed) {
        search_error_set(err, 500, "internal", "out of memory");
        goto out;
    }
    rc = search_request_set(sr, "q", sb_cstr(&q), err);
out:
    sb_free(&q);
    return rc;
}

/* ---- rendering ------------------------------------------------------------------------------ */

static void put_head(struct strbuf *sb, const struct page_state *st)
{
    sb_puts(sb, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<title>");
    if (st->q[0]) {
        put_text(sb, st->q);
        sb_puts(sb, " - ");
    }
    sb_puts(sb, "Quire</title>"
                "<link rel=\"stylesheet\" href=\"/assets/page.css\">"
                "<link rel=\"icon\" href=\"/assets/icon.svg\" type=\"image/svg+xml\">"
                "<script src=\"/assets/page.js\" defer></script></head>\n<body>");
}

static void put_form(struct strbuf *sb, const struct page_state *st)
{
    sb_puts(sb, "<header class=\"top\"><a class=\"brand\" href=\"/\">Quire</a>"
                "<form class=\"search\" id=\"search\" action=\"/\" method=\"get\" role=\"search\">"
                "<div class=\"box\"><input id=\"q\" name=\"q\" type=\"search\" value=\"");
    put_text(sb, st->q);
    sb_puts(sb, "\" placeholder=\"Search\" aria-label=\"Search\" autocomplete=\"off\" "
                "spellcheck=\"false\" aria-autocomplete=\"list\" aria-controls=\"complete\"");
    if (!st->q[0])
        sb_puts(sb, " autofocus");
    sb_puts(sb, "><ul id=\"complete\" class=\"complete\" role=\"listbox\" hidden></ul></div>");
    /* A new query keeps the filters and the order, and starts at page 1. */
    for (unsigned i = 0; i < st->nfilters; i++) {
        sb_puts(sb, "<input type=\"hidden\" name=\"filter\" value=\"");
        put_text(sb, st->filters[i]);
        sb_puts(sb, "\">");
    }
    if (st->sort) {
        sb_puts(sb, "<input type=\"hidden\" name=\"sort\" value=\"");
        put_text(sb, st->sort);
        sb_puts(sb, "\">");
    }
    sb_puts(sb, "<button type=\"submit\">Search</button></form></header>\n");
}

/* Facets: each value a link adding its filter (or, when on, removing it). */
static void put_facets(struct strbuf *sb, const struct page_state *st, json_t *facets)
{
    static const char *const fields[] = {"category", "source", "year"};
    static const char *const labels[] = {"Category", "Source", "Year"};
    int any = 0;
    for (int k = 0; k < 3; k++) {
        json_t *vals = json_object_get(facets, fields[k]);
        if (!json_is_array(vals) || json_array_size(vals) == 0)
            continue;
        if (!any)
            sb_puts(sb, "<aside class=\"facets\" aria-label=\"Filters\">");
        any = 1;
        sb_printf(sb, "<section class=\"facet\" data-field=\"%s\"><h2>%s</h2><ul>", fields[k],
                  labels[k]);
        size_t i;
        json_t *v;
        json_array_foreach(vals, i, v) {
            if (i >= PAGE_FACET_VALUES)
                break;
            const char *value = json_string_value(json_object_get(v, "value"));
            json_int_t count = json_integer_value(json_object_get(v, "count"));
            if (!value)
                continue;
            struct strbuf f;
            sb_init(&f);
            sb_printf(&f, "%s:%s", fields[k], value);
            if (f.failed) {
                sb_free(&f);
                continue;
            }
            struct page_state next = *st;
            next.page = 1;
            int on = filter_index(st, sb_cstr(&f));
            if (on >= 0) {
                memmove(&next.filters[on], &next.filters[on + 1],
                        (next.nfilters - (unsigned)on - 1) * sizeof next.filters[0]);
                next.nfilters--;
            } else if (next.nfilters < PAGE_MAX_FILTERS) {
                next.filters[next.nfilters++] = sb_cstr(&f);
            }
            sb_puts(sb, "<li><a class=\"facet-value");
            if (on >= 0)
                sb_puts(sb, " on\" aria-current=\"true");
            sb_puts(sb, "\" href=\"");
            put_href(sb, &next);
            sb_puts(sb, "\"><span class=\"value\">");
            put_text(sb, value);
            sb_printf(sb, "</span> <span class=\"count\">%lld</span></a></li>", (long long)count);
            sb_free(&f);
        }
        sb_puts(sb, "</ul></section>");
    }
    if (any)
        sb_puts(sb, "</aside>");
}

static void put_hit(struct strbuf *sb, json_t *hit)
{
    const char *title = json_string_value(json_object_get(hit, "title"));
    const char *marked = json_string_value(json_object_get(hit, "title_marked"));
    const char *id = json_string_value(json_object_get(hit, "id"));
    const char *url = json_string_value(json_object_get(hit, "url"));
    const char *date = json_string_value(json_object_get(hit, "date"));
    const char *source = json_string_value(json_object_get(hit, "source"));
    const char *category = json_string_value(json_object_get(hit, "category"));
    const char *snippet = json_string_value(json_object_get(hit, "snippet"));
    sb_puts(sb, "<li class=\"hit\" data-id=\"");
    put_text(sb, id);
    sb_puts(sb, "\"><h3 class=\"hit-title\">");
    if (safe_url(url)) {
        sb_puts(sb, "<a href=\"");
        put_text(sb, url);
        sb_puts(sb, "\" rel=\"noopener noreferrer\">");
    } else {
        sb_puts(sb, "<a>");
    }
    if (marked && marked[0])
        put_marked(sb, marked);
    else
        put_text(sb, title && title[0] ? title : id);
    sb_puts(sb, "</a></h3><p class=\"hit-meta\">");
    int sep = 0;
    if (date && date[0]) {
        sb_puts(sb, "<time datetime=\"");
        put_text(sb, date);
        sb_puts(sb, "\">");
        put_text(sb, date);
        sb_puts(sb, "</time>");
        sep = 1;
    }
    if (source && source[0]) {
        sb_puts(sb, sep ? " · " : "");
        sb_puts(sb, "<span class=\"hit-source\">");
        put_text(sb, source);
        sb_puts(sb, "</span>");
        sep = 1;
    }
    if (category && category[0]) {
        sb_puts(sb, sep ? " · " : "");
        sb_puts(sb, "<span class=\"hit-category\">");
        put_text(sb, category);
        sb_puts(sb, "</span>");
        sep = 1;
    }
    if (!sep) {
        sb_puts(sb, "<span class=\"hit-id\">");
        put_text(sb, id);
        sb_puts(sb, "</span>");
    }
    sb_puts(sb, "</p>");
    if (snippet && snippet[0]) {
        sb_puts(sb, "<p class=\"hit-snippet\">");
        put_marked(sb, snippet);
        sb_puts(sb, "</p>");
    }
    sb_puts(sb, "</li>");
}

/* The answer: summary line, corrections, facets, hits, pages. */
static void put_results(struct strbuf *sb, const struct page_state *st, json_t *res)
{
    json_t *total = json_object_get(res, "total");
    json_int_t est = json_integer_value(json_object_get(total, "estimated"));
    json_int_t lower = json_integer_value(json_object_get(total, "lower"));
    json_int_t upper = json_integer_value(json_object_get(total, "upper"));
    json_t *hits = json_object_get(res, "hits");
    size_t nhits = json_array_size(hits);
    unsigned first = (st->page - 1) * PAGE_HITS;

    sb_puts(sb, "<div class=\"summary\"><p class=\"count\" id=\"count\">");
    if (est == 0)
        sb_puts(sb, "No results");
    else
        sb_printf(sb, "%s%lld result%s", lower == upper ? "" : "About ", (long long)est,
                  est == 1 ? "" : "s");
    if (nhits > 0)
        sb_printf(sb, " · %u–%u", first + 1, first + (unsigned)nhits);
    if (json_is_true(json_object_get(res, "timed_out")))
        sb_puts(sb, " (search stopped at its time limit: results may be incomplete)");
    sb_puts(sb, "</p><nav class=\"sort\" aria-label=\"Order\">");
    static const char *const sorts[] = {NULL, "date", "date:asc"};
    static const char *const names[] = {"Relevance", "Newest", "Oldest"};
    for (int i = 0; i < 3; i++) {
        int cur = (sorts[i] == NULL) == (st->sort == NULL) &&
                  (!sorts[i] || strcmp(sorts[i], st->sort) == 0);
        if (cur) {
            sb_printf(sb, "<span class=\"on\" aria-current=\"true\">%s</span>", names[i]);
            continue;
        }
        struct page_state next = *st;
        next.sort = sorts[i];
        next.page = 1;
        sb_puts(sb, "<a href=\"");
        put_href(sb, &next);
        sb_printf(sb, "\">%s</a>", names[i]);
    }
    sb_puts(sb, "</nav></div>");

    const char *corrected = json_string_value(json_object_get(res, "corrected_query"));
    if (corrected && corrected[0] && strcmp(corrected, st->q) != 0) {
        struct page_state orig = *st;
        orig.fuzzy_off = 1;
        orig.page = 1;
        sb_puts(sb, "<p class=\"corrected\">Showing results for <b>");
        put_text(sb, corrected);
        sb_puts(sb, "</b>. Search instead for <a href=\"");
        put_href(sb, &orig);
        sb_puts(sb, "\">");
        put_text(sb, st->q);
        sb_puts(sb, "</a>.</p>");
    }
    const char *suggestion = json_string_value(json_object_get(res, "suggestion"));
    /* A correction already searched is not offered again as "did you mean". */
    if (suggestion && suggestion[0] && strcmp(suggestion, st->q) != 0 && !corrected) {
        struct page_state sug = *st;
        sug.q = suggestion;
        sug.page = 1;
        sb_puts(sb, "<p class=\"suggestion\">Did you mean <a href=\"");
        put_href(sb, &sug);
        sb_puts(sb, "\">");
        put_text(sb, suggestion);
        sb_puts(sb, "</a>?</p>");
    }

    sb_puts(sb, "<div class=\"layout\">");
    put_facets(sb, st, json_object_get(res, "facets"));
    sb_printf(sb, "<section class=\"results\" id=\"results\" aria-label=\"Results\">"
                  "<ol class=\"hits\" start=\"%u\">",
              first + 1);
    size_t i;
    json_t *hit;
    json_array_foreach(hits, i, hit) put_hit(sb, hit);
    sb_puts(sb, "</ol>");
    int more = (json_int_t)(first + nhits) < est && nhits == PAGE_HITS;
    if (st->page > 1 || more) {
        sb_puts(sb, "<nav class=\"pages\" aria-label=\"Pages\">");
        if (st->page > 1) {
            struct page_state prev = *st;
            prev.page--;
            sb_puts(sb, "<a rel=\"prev\" href=\"");
            put_href(sb, &prev);
            sb_puts(sb, "\">← Previous</a>");
        }
        sb_printf(sb, "<span class=\"pageno\">Page %u</span>", st->page);
        if (more) {
            struct page_state next = *st;
            next.page++;
            sb_puts(sb, "<a rel=\"next\" href=\"");
            put_href(sb, &next);
            sb_puts(sb, "\">Next →</a>");
        }
        sb_puts(sb, "</nav>");
    }
    sb_puts(sb, "</section></div>");
}

static void put_foot(struct strbuf *sb, struct worker *w)
{
    sb_printf(sb, "<footer><p>%u articles · keys: <kbd>/</kbd> search, <kbd>↓</kbd> "
                  "<kbd>↑</kbd> move, <kbd>Enter</kbd> open, <kbd>←</kbd> <kbd>→</kbd> "
                  "pages</p></footer>\n</body></html>\n",
              search_index_doccount(w->ix));
}

/* ---- handlers ------------------------------------------------------------------------------- */

static void set_page_headers(struct evhttp_request *req, const char *type, const char *cache)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", type);
    evhttp_add_header(h, "Content-Security-Policy", PAGE_CSP);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Referrer-Policy", "same-origin");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Cache-Control", cache);
}

static void handle_asset(struct evhttp_request *req, const char *path)
{
    for (const struct page_asset *a = page_assets; a->path; a++) {
        if (strcmp(a->path, path) == 0) {
            evbuffer_add(evhttp_request_get_output_buffer(req), a->data, a->len);
            /* Short: an upgraded quired must not keep serving an old script for long. */
            set_page_headers(req, a->type, "public, max-age=300");
            routes_send_body(req, 200);
            return;
        }
    }
    routes_send_error(req, 404, "not_found", "no such asset");
}

static void handle_index(struct evhttp_request *req, struct worker *w, const char *qs)
{
    struct evkeyvalq params;
    TAILQ_INIT(&params);
    struct page_state st;
    int status = 200;
    struct strbuf sb;
    sb_init(&sb);
    if (qs && evhttp_parse_query_str(qs, &params) < 0) {
        evhttp_clear_headers(&params);
        TAILQ_INIT(&params);
        state_read(&st, &params);
        put_head(&sb, &st);
        put_form(&sb, &st);
        sb_puts(&sb, "<main><p class=\"error\">The address holds a malformed query string."
                     "</p></main>");
        status = 400;
    } else {
        state_read(&st, &params);
        put_head(&sb, &st);
        put_form(&sb, &st);
        sb_puts(&sb, "<main id=\"main\">");
        if (st.q[0]) {
            struct search_request sr;
            struct search_error err;
            search_request_init(&sr);
            json_t *res = NULL;
            if (state_request(&st, &sr, &err) == 0) {
                search_index_set_timeout(w->ix, (unsigned)atomic_load_explicit(
                                                    &w->srv->live_search_timeout_ms,
                                                    memory_order_relaxed));
                res = search_run(w->ix, &sr, &err);
            }
            search_request_clear(&sr);
            /* Counted as typed, without the filters the request adds to it; a later page
             * is the same search (offset > 0 is not counted). */
            if (res && analytics_record_search(
                           w->srv->analytics, st.q, (st.page - 1) * PAGE_HITS,
                           (unsigned long)json_integer_value(json_object_get(
                               json_object_get(res, "total"), "estimated"))) < 0)
                server_log(w->srv, "analytics", "a search was not counted: out of memory");
            if (res) {
                put_results(&sb, &st, res);
                json_decref(res);
            } else {
                status = err.status;
                sb_puts(&sb, "<p class=\"error\" id=\"error\">");
                put_text(&sb, err.message);
                sb_puts(&sb, "</p>");
            }
        }
        sb_puts(&sb, "</main>");
    }
    put_foot(&sb, w);
    evhttp_clear_headers(&params);
    if (sb.failed) {
        sb_free(&sb);
        routes_send_error(req, 500, "internal", "out of memory");
        return;
    }
    evbuffer_add(evhttp_request_get_output_buffer(req), sb_cstr(&sb), sb.len);
    sb_free(&sb);
    set_page_headers(req, "text/html; charset=utf-8", "no-store");
    routes_send_body(req, status);
}

void page_handle(struct evhttp_request *req, struct worker *w, const char *path,
                 const char *qs)
{
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
        routes_send_error(req, 405, "method_not_allowed", "method not allowed here; use GET");
        return;
    }
    if (strcmp(path, "/") == 0)
        handle_index(req, w, qs);
    else
        handle_asset(req, path);
}
