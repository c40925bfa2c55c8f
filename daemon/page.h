/*
 * page.h -- the search page for people: GET / renders a search and its results as HTML on
 * the server (it works without JavaScript), GET /assets/NAME serves its CSS, JavaScript
 * and icon, compiled into quired (assets.h). See page.c for what it shows and how
 * everything taken from an article or a request is kept inert.
 */
#ifndef QUIRE_PAGE_H
#define QUIRE_PAGE_H

struct evhttp_request;
struct worker;

/* The Content-Security-Policy of the page and its assets: nothing inline, nothing from
 * elsewhere. */
#define PAGE_CSP                                                                           \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "           \
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
/* Hits per page. */
#define PAGE_HITS 10
/* Filters one page URL may carry (more are ignored). */
#define PAGE_MAX_FILTERS 16
/* Values shown per facet. */
#define PAGE_FACET_VALUES 12

/* GET / (path "/") and GET /assets/NAME: answers req. qs is the raw query string or NULL. */
void page_handle(struct evhttp_request *req, struct worker *w, const char *path,
                 const char *qs);

#endif
