/*
 * article_html.c -- HTML files (.html, .htm): gumbo parses the page, and one walk over
 * its tree finds the article container, the title and the date hints
 * (article_parse_html, see article.h).
 *
 * The body is the text of <article>, else <main>, else <body> -- the first of them that
 * holds any text -- without scripts, navigation, headers, footers, asides and forms. The
 * title is <title>, else the first <h1>; the date a <meta> published date, else a
 * <time datetime>, else the first date written in the text. Gumbo is kept within time
 * and memory bounds by article_html_guard.c; the indexer runs this parser in a child
 * process (article_child.c).
 */
#include "article_html_guard.h"
#include "article_int.h"
#include "util.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <gumbo.h>

enum walk_step { WALK_DESCEND, WALK_SKIP, WALK_STOP };

/* Called on entering a node (enter = 1) and, for nodes descended into, on leaving it. */
typedef enum walk_step (*walk_fn)(const GumboNode *node, int enter, void *ctx);

static const GumboVector *node_children(const GumboNode *n)
{
    if (n->type == GUMBO_NODE_DOCUMENT)
        return &n->v.document.children;
    if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE)
        return &n->v.element.children;
    return NULL;
}

/* Pre-order walk with an explicit stack (the tree may be a few hundred levels deep and
 * this runs on indexer threads). Returns -1 when out of memory. */
static int walk_tree(const GumboNode *root, walk_fn fn, void *ctx)
{
    struct frame {
        const GumboNode *node;
        unsigned int next;
    } *stack = NULL;
    size_t depth = 0, cap = 0;
    int rc = 0;

    if (root == NULL)
        return 0;
    switch (fn(root, 1, ctx)) {
    case WALK_STOP: case WALK_SKIP:
        return 0;
    case WALK_DESCEND:
        break;
    }
    cap = 64;
    if ((stack = malloc(cap * sizeof *stack)) == NULL)
        return -1;
    stack[depth].node = root;
    stack[depth++].next = 0;
    while (depth > 0) {
        struct frame *f = &stack[depth - 1];
        const GumboVector *kids = node_children(f->node);
        const GumboNode *child;

        if (kids == NULL || f->next >= kids->length) {
            fn(f->node, 0, ctx);
            depth--;
            continue;
        }
        child = kids->data[f->next++];
        switch (fn(child, 1, ctx)) {
        case WALK_STOP:
            goto done;
        case WALK_SKIP:
            continue;
        case WALK_DESCEND:
            break;
        }
        if (node_children(child) == NULL)
            continue;
        if (depth == cap) {
            struct frame *ns = realloc(stack, cap * 2 * sizeof *stack);
            if (ns == NULL) {
                rc = -1;
                goto done;
            }
            stack = ns;
            cap *= 2;
        }
        stack[depth].node = child;
        stack[depth++].next = 0;
    }
done:
    free(stack);
    return rc;
}

/* The value of attribute name on an element node, or NULL. */
static const char *node_attr(const GumboNode *n, const char *name)
{
    const GumboAttribute *at;

    if (n->type != GUMBO_NODE_ELEMENT)
        return NULL;
    at = gumbo_get_attribute(&n->v.element.attributes, name);
    return at ? at->value : NULL;
}

/* Collects text with whitespace collapsed: runs of spaces become one space, block
 * boundaries one newline, and nothing leads or trails. */
struct textctx {
    const unsigned char *tf; /* tagflags */
    struct strbuf out;
    int pending_space, pending_nl;
    int newlines; /* 0: block boundaries become spaces (for titles) */
};

/* Length of the whitespace at s: an ASCII space or U+00A0 (&nbsp;, which pages use for
 * layout), else 0. */
static size_t html_space(const char *s, size_t n)
{
    if (is_space((unsigned char)s[0]))
        return 1;
    if (n >= 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
        return 2;
    return 0;
}

static void text_append(struct textctx *t, const char *s, size_t n)
{
    size_t i = 0, sp;

    while (i < n) {
        size_t j = i;
        if ((sp = html_space(s + i, n - i)) > 0) {
            t->pending_space = 1;
            i += sp;
            continue;
        }
        while (j < n && html_space(s + j, n - j) == 0)
            j++;
        if (t->out.len > 0 && (t->pending_nl || t->pending_space))
            sb_putc(&t->out, t->pending_nl && t->newlines ? '\n' : ' ');
        t->pending_space = t->pending_nl = 0;
        sb_append(&t->out, s + i, j - i);
        i = j;
    }
}

/* Text of the nodes the body walk visits. */
static enum walk_step text_visit(const GumboNode *n, int enter, void *ctx)
{
    struct textctx *t = ctx;
    const char *hidden;
    GumboTag tag;

    switch (n->type) {
    case GUMBO_NODE_TEXT: case GUMBO_NODE_CDATA: case GUMBO_NODE_WHITESPACE:
        if (enter)
            text_append(t, n->v.text.text, strlen(n->v.text.text));
        return WALK_SKIP;
    case GUMBO_NODE_COMMENT: case GUMBO_NODE_TEMPLATE:
        return WALK_SKIP;
    case GUMBO_NODE_DOCUMENT:
        return WALK_DESCEND;
    case GUMBO_NODE_ELEMENT:
        break;
    }
    tag = n->v.element.tag;
    if (enter) {
        if ((t->tf[tag] & TF_SKIP) || node_attr(n, "hidden") != NULL)
            return WALK_SKIP;
        hidden = node_attr(n, "aria-hidden");
        if (hidden != NULL && strcmp(hidden, "true") == 0)
            return WALK_SKIP;
    }
    if (t->tf[tag] & TF_BLOCK)
        t->pending_nl = 1;
    else if (tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH || tag == GUMBO_TAG_IMG)
        t->pending_space = 1;
    return WALK_DESCEND;
}

/* Text of a subtree; NULL when out of memory. */
static char *node_text(const GumboNode *n, const unsigned char *tf, int newlines, size_t *len)
{
    struct textctx t = {tf, {0}, 0, 0, newlines};
    char *raw, *clean;
    size_t rawlen;

    if (walk_tree(n, text_visit, &t) < 0) {
        sb_free(&t.out);
        return NULL;
    }
    if ((raw = sb_take(&t.out, &rawlen)) == NULL)
        return NULL;
    /* Gumbo's output is cleaned as well as its input: 0.10.1 decodes an out-of-range
     * character reference such as "&#xEEEEEEEE;" into a byte that is not UTF-8 (found by
     * tests/fuzz, regression input tests/fuzz/regress/article/html-charref-overflow). */
    clean = article_utf8_clean(raw, rawlen, len);
    free(raw);
    return clean;
}

/* What one pass over the document finds: the containers, the title, date hints. */
struct htmlscan {
    const GumboNode *article, *main, *body, *title, *h1;
    const char *meta_published; /* <meta property="article:published_time"> */
    const char *meta_date;      /* <meta name="date"> and its many spellings */
};

static const char *const meta_published_names[] = {
    "article:published_time", "article:published", "og:published_time", "datepublished",
};
static const char *const meta_date_names[] = {
    "date", "dc.date", "dc.date.issued", "dcterms.date", "dcterms.created", "pubdate",
    "publishdate", "publish-date", "publish_date", "sailthru.date", "parsely-pub-date",
};

/* True when s equals one of the names, ignoring case. */
static int name_in(const char *s, const char *const *names, size_t count)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < count; i++)
        if (strlen(names[i]) == n && lower_eq(s, names[i], n))
            return 1;
    return 0;
}

static enum walk_step scan_visit(const GumboNode *n, int enter, void *ctx)
{
    struct htmlscan *sc = ctx;
    const char *key[3], *content;

    if (!enter)
        return WALK_DESCEND;
    if (n->type == GUMBO_NODE_DOCUMENT)
        return WALK_DESCEND;
    if (n->type != GUMBO_NODE_ELEMENT)
        return WALK_SKIP;
    if (n->v.element.tag_namespace != GUMBO_NAMESPACE_HTML)
        return WALK_SKIP; /* <svg><title> is not the page title */
    switch (n->v.element.tag) {
    case GUMBO_TAG_ARTICLE:
        if (sc->article == NULL)
            sc->article = n;
        break;
    case GUMBO_TAG_MAIN:
        if (sc->main == NULL)
            sc->main = n;
        break;
    case GUMBO_TAG_BODY:
        if (sc->body == NULL)
            sc->body = n;
        break;
    case GUMBO_TAG_TITLE:
        if (sc->title == NULL)
            sc->title = n;
        return WALK_SKIP;
    case GUMBO_TAG_H1:
        if (sc->h1 == NULL)
            sc->h1 = n;
        break;
    case GUMBO_TAG_META:
        content = node_attr(n, "content");
        if (content == NULL)
            break;
        key[0] = node_attr(n, "property");
        key[1] = node_attr(n, "name");
        key[2] = node_attr(n, "itemprop");
        for (int i = 0; i < 3; i++) {
            if (key[i] == NULL)
                continue;
            if (sc->meta_published == NULL &&
                name_in(key[i], meta_published_names,
                        sizeof meta_published_names / sizeof meta_published_names[0]))
                sc->meta_published = content;
            if (sc->meta_date == NULL &&
                name_in(key[i], meta_date_names,
                        sizeof meta_date_names / sizeof meta_date_names[0]))
                sc->meta_date = content;
        }
        break;
    case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_TEMPLATE:
        return WALK_SKIP;
    default:
        break;
    }
    return WALK_DESCEND;
}

/* Finds the first <time datetime="..."> holding a date, outside navigation. */
struct timescan {
    char date[11];
    int found;
};

static enum walk_step time_visit(const GumboNode *n, int enter, void *ctx)
{
    struct timescan *ts = ctx;
    const char *dt;
    GumboTag tag;

    if (!enter || n->type == GUMBO_NODE_DOCUMENT)
        return WALK_DESCEND;
    if (n->type != GUMBO_NODE_ELEMENT)
        return WALK_SKIP;
    tag = n->v.element.tag;
    if (tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_TEMPLATE ||
        tag == GUMBO_TAG_NAV || tag == GUMBO_TAG_ASIDE || tag == GUMBO_TAG_FOOTER)
        return WALK_SKIP;
    if (n->v.element.tag == GUMBO_TAG_TIME && (dt = node_attr(n, "datetime")) != NULL &&
        article_find_date(dt, strlen(dt), ts->date)) {
        ts->found = 1;
        return WALK_STOP;
    }
    return WALK_DESCEND;
}

/* The date of a page: <meta> first, then <time datetime> (in the article container, then
 * anywhere), then the first date written in the text. 0, or -1 when out of memory. */
static int html_date(const struct htmlscan *sc, const GumboNode *container,
                     const GumboNode *root, const char *body, size_t blen, char **date)
{
    const char *metas[2] = {sc->meta_published, sc->meta_date};
    struct timescan ts = {{0}, 0};
    char d[11];

    *date = NULL;
    for (int i = 0; i < 2; i++)
        if (metas[i] != NULL && article_date_normalise(metas[i], strlen(metas[i]), date) != 0)
            return *date != NULL ? 0 : -1;
    if (walk_tree(container, time_visit, &ts) < 0)
        return -1;
    if (!ts.found && container != root && walk_tree(root, time_visit, &ts) < 0)
        return -1;
    if (ts.found)
        memcpy(d, ts.date, sizeof d);
    else if (!article_find_date(body, blen, d))
        return 0;
    if ((*date = strdup(d)) == NULL)
        return -1;
    return 0;
}

/* Pulls title, body and date out of a parsed page into a (a scratch struct). Returns 0,
 * -1 when out of memory, -2 when there is no text. */
static int html_extract(const GumboOutput *g, const unsigned char *tf, struct article *a)
{
    struct htmlscan sc;
    const GumboNode *candidates[3], *container = NULL;
    char *t;
    size_t n = 0;

    memset(&sc, 0, sizeof sc);
    if (walk_tree(g->document, scan_visit, &sc) < 0)
        return -1;
    candidates[0] = sc.article;
    candidates[1] = sc.main;
    candidates[2] = sc.body; /* gumbo always makes one */
    /* The first of article, main, body with any text: an <article> that holds only a
     * share bar must not leave the page empty. */
    for (int i = 0; i < 3; i++) {
        if (candidates[i] == NULL)
            continue;
        if ((t = node_text(candidates[i], tf, 1, &n)) == NULL)
            return -1;
        if (n > 0) {
            a->body = t;
            a->body_len = n;
            container = candidates[i];
            break;
        }
        free(t);
    }
    if (a->body == NULL)
        return -2;
    t = NULL;
    if (sc.title != NULL && (t = node_text(sc.title, tf, 0, &n)) == NULL)
        return -1;
    if ((t == NULL || n == 0) && sc.h1 != NULL) {
        free(t);
        if ((t = node_text(sc.h1, tf, 0, &n)) == NULL)
            return -1;
    }
    a->title = article_title_dup(t != NULL ? t : "", t != NULL ? n : 0);
    free(t);
    if (a->title == NULL)
        return -1;
    return html_date(&sc, container, g->document, a->body, a->body_len, &a->date);
}

int article_parse_html(const char *buf, size_t len, struct article *out, char *why,
                       size_t whylen)
{
    char *clean;
    size_t clen;
    struct garena arena;
    GumboOptions opts = kGumboDefaultOptions;
    GumboOutput *g;
    struct article a;
    tagflags tf;
    int rc;

    if ((clean = article_file_text(buf, len, 1, out, &clen, why, whylen)) == NULL)
        return -1;
    article_html_tagflags(tf);
    rc = article_html_nesting_ok(clean, clen, tf);
    if (rc < 0) {
        free(clean);
        article_why(why, whylen, "%s", ARTICLE_OOM);
        return -1;
    }
    if (rc == 0) {
        free(clean);
        article_why(why, whylen, "HTML nested too deeply (over %d levels)", HTML_MAX_DEPTH);
        return -1;
    }

    article_gumbo_setup(&arena, &opts, clen);
    /* Error records copy the open-element stack: quadratic memory on deep input, and we
     * have no use for them. */
    opts.max_errors = 0;
    g = article_gumbo_parse(&arena, &opts, clean, clen);
    if (g == NULL) {
        article_gumbo_free_all(&arena);
        free(clean);
        if (arena.failed == 2)
            article_why(why, whylen, "HTML too complex (parser memory over %zu MB)",
                        arena.limit >> 20);
        else if (arena.failed == 3)
            article_why(why, whylen, "HTML too complex (parsing took over %lld ms of CPU time)",
                        arena.budget_ns / 1000000);
        else
            article_why(why, whylen, "%s", ARTICLE_OOM);
        return -1;
    }
    memset(&a, 0, sizeof a);
    rc = html_extract(g, tf, &a);
    gumbo_destroy_output(&opts, g);
    article_gumbo_free_all(&arena);
    free(clean);
    if (rc < 0) {
        article_clear(&a);
        article_why(why, whylen, "%s", rc == -2 ? "no text" : ARTICLE_OOM);
        return -1;
    }
    replace_field(&out->title, a.title);
    replace_field(&out->body, a.body);
    out->body_len = a.body_len;
    replace_field(&out->date, a.date);
    return 0;
}
