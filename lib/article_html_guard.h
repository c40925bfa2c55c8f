/*
 * article_html_guard.h -- what keeps gumbo bounded, for article_html.c only: the tag
 * flags both share, the nesting pre-check, and gumbo's allocator (article_html_guard.c).
 */
#ifndef QUIRE_ARTICLE_HTML_GUARD_H
#define QUIRE_ARTICLE_HTML_GUARD_H

#include <setjmp.h>
#include <stddef.h>

#include <gumbo.h>

#define HTML_MAX_DEPTH 400 /* gumbo's stack of open elements: deeper pages are refused */

/* The tag lists of article_html_guard.c as bit flags indexed by tag, so each lookup is
 * O(1) whatever the number of tags in a page. Built per parse: a few hundred stores. */
enum {
    TF_VOID = 1 << 0,
    TF_RAWTEXT = 1 << 1,
    TF_SPECIAL = 1 << 2,
    TF_SCOPE = 1 << 3,
    TF_CLOSES_P = 1 << 4,
    TF_BREAKOUT = 1 << 5,
    TF_SKIP = 1 << 6,  /* elements whose text is not article text */
    TF_BLOCK = 1 << 7, /* elements that break the text into lines */
};

typedef unsigned char tagflags[GUMBO_TAG_LAST + 1];

void article_html_tagflags(tagflags f);

/* 1 when gumbo may parse the document s (valid UTF-8) in reasonable time: its estimated
 * nesting stays within HTML_MAX_DEPTH; 0 when it does not; -1 when out of memory. */
int article_html_nesting_ok(const char *s, size_t n, const unsigned char *tf);

/* Every block gumbo allocates carries this header, linking it into a list so that all of
 * them can be freed after gumbo has been abandoned mid-parse. */
struct gblock {
    struct gblock *prev, *next;
    size_t size;
};

struct garena {
    struct gblock head; /* circular list sentinel */
    size_t used, limit;
    long long budget_ns;   /* CPU time gumbo may use */
    long long deadline_ns; /* thread CPU time at which to give up; 0: no limit */
    unsigned calls;
    int failed; /* 1: malloc failed, 2: memory limit reached, 3: time limit reached */
    jmp_buf jb;
};

/* Sets a up for parsing len bytes (its memory and CPU budgets) and points opts at its
 * allocator. */
void article_gumbo_setup(struct garena *a, GumboOptions *opts, size_t len);
/* Runs gumbo; NULL when it ran out of memory or time (a->failed says which way). */
GumboOutput *article_gumbo_parse(struct garena *a, const GumboOptions *opts, const char *s,
                                 size_t n);
/* Frees whatever gumbo left behind. */
void article_gumbo_free_all(struct garena *a);

#endif
