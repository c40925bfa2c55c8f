/*
 * article_html_guard.c -- what keeps gumbo, the HTML parser, bounded in time and memory
 * (see article_html_guard.h); article_html.c drives it.
 *
 * Gumbo 0.10.1 (Debian's version) has traps of its own:
 *  (1) it records every parse error with a copy of the open-element stack, so a deeply
 *      nested page costs memory quadratic in its depth: error recording is turned off
 *      (article_html.c);
 *  (2) its tree builder walks the whole stack of open elements for many tags, so time is
 *      quadratic in nesting depth (100,000 nested <div>s take 10 s; a million, hours).
 *      Newer gumbo releases cap the depth (max_tree_depth, default 400); ours cannot, so
 *      article_html_nesting_ok() estimates the depth with a linear pre-scan that mirrors
 *      the tree builder's closing rules and refuses what would pass that same 400. As a
 *      backstop for what the estimate misses, gumbo's allocator -- which gumbo calls for
 *      every tag -- checks gumbo's CPU time against a budget;
 *  (3) it never checks malloc: its allocator tracks its blocks, caps their total, and when
 *      malloc fails or a budget runs out it jumps back out of gumbo and frees everything;
 *  (4) it is built with assertions, and a few exotic tag sequences trip one and abort the
 *      process (e.g. "<table><math><select><mi><select></table>"). Nothing here can catch
 *      that; the cure is a newer gumbo, and meanwhile the indexer parses HTML in a child
 *      process (article_child.c).
 */
#include "article_html_guard.h"
#include "article_int.h"
#include "util.h"

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GUMBO_MEM_MAX ((size_t)1 << 30)  /* gumbo's own memory, whatever the input size */
#define GUMBO_MEM_PER_BYTE 48            /* typical pages need 6-12 bytes per input byte */
#define GUMBO_MEM_BASE ((size_t)16 << 20)
/* CPU time gumbo may spend: 1 s plus 1 us per input byte. Ordinary pages parse at about
 * 60 ns per byte, so only pathological markup (or a very slow machine) comes near it. */
#define GUMBO_CPU_BASE_NS 1000000000LL
#define GUMBO_CPU_NS_PER_BYTE 1000LL
#define GUMBO_CPU_CHECK_EVERY 64 /* allocations between clock reads (a system call) */

/* ---- the nesting pre-check ------------------------------------------------------------ */

/* A linear estimate of the depth gumbo's stack of open elements will reach, following the
 * tree-construction rules that matter for depth: void elements never stay open; <p>,
 * <li>, <dd>, <td>, <tr>, <option> close their predecessors; an end tag closes up to its
 * element unless a "special" element (or, for special end tags, a scope boundary) is in
 * the way, in which case gumbo ignores it; raw-text elements (<script>...) hold no tags;
 * inside <svg>/<math> "/>" closes. Formatting elements (<b>, <a>, <font>...) are also
 * counted a second time, as gumbo's list of active formatting elements: gumbo re-opens
 * those on the stack after a block closes them (so "<div><b id=1></div>x" repeated
 * nests ever deeper), keeping at most three identical ones ("Noah's ark").
 * The estimate errs high where it must guess, so hostile input cannot slip under it, yet
 * ordinary sloppy HTML (unclosed <p>, <li>, <td>) is not refused. Every step is O(1)
 * amortised: elements are found through per-tag chains, never by walking the stack. */

#define EST_BUCKETS 256 /* unknown tag names are keyed by a hash bucket */
#define EST_KEYS (GUMBO_TAG_LAST + EST_BUCKETS)
#define FMT_TAGS 14
#define FMT_RING 32
/* Live formatting keys number under HTML_MAX_DEPTH (each one counts in fmt_size); room for
 * twice as many keeps the table a quarter full, probing short, and no insertion allocates. */
#define FMT_RESERVE (2 * HTML_MAX_DEPTH)

struct est_entry {
    int key;           /* GumboTag, or GUMBO_TAG_LAST + bucket for unknown names */
    uint32_t hash;     /* name hash of an unknown tag, to tell bucket mates apart */
    int prev_same;     /* next entry down with the same key, or -1 */
    int special_top;   /* topmost "special" entry at or below this one, or -1 */
    int specialx_top;  /* the same, excluding <address>, <div>, <p> (the <li> rule) */
    int scope_top;     /* topmost scope boundary at or below this one, or -1 */
};

struct est {
    const unsigned char *tf; /* tagflags */
    struct est_entry st[HTML_MAX_DEPTH + 1];
    int depth;
    int key_top[EST_KEYS];
    /* Active formatting elements: live count per (tag, attributes) key... */
    struct hashmap fmt; /* (tag, attributes) key -> live count (util.h) */
    size_t fmt_size; /* sum over keys of min(count, 3) */
    /* ...and, per formatting tag, the keys of its latest open instances, so an end tag
     * can close the right one. Older ones fall off the ring and stay counted. */
    uint32_t ring[FMT_TAGS][FMT_RING];
    int ring_len[FMT_TAGS], ring_top[FMT_TAGS];
};

static const GumboTag void_tags[] = {
    GUMBO_TAG_AREA,  GUMBO_TAG_BASE,   GUMBO_TAG_BR,     GUMBO_TAG_COL,     GUMBO_TAG_EMBED,
    GUMBO_TAG_HR,    GUMBO_TAG_IMG,    GUMBO_TAG_IMAGE,  GUMBO_TAG_INPUT,   GUMBO_TAG_KEYGEN,
    GUMBO_TAG_LINK,  GUMBO_TAG_META,   GUMBO_TAG_PARAM,  GUMBO_TAG_SOURCE,  GUMBO_TAG_TRACK,
    GUMBO_TAG_WBR,   GUMBO_TAG_BASEFONT, GUMBO_TAG_BGSOUND, GUMBO_TAG_FRAME, GUMBO_TAG_MENUITEM,
    GUMBO_TAG_ISINDEX,
};

static const GumboTag rawtext_tags[] = {
    GUMBO_TAG_SCRIPT, GUMBO_TAG_STYLE,    GUMBO_TAG_XMP,      GUMBO_TAG_IFRAME,
    GUMBO_TAG_NOEMBED, GUMBO_TAG_NOFRAMES, GUMBO_TAG_TEXTAREA, GUMBO_TAG_TITLE,
};

static const GumboTag special_tags[] = {
    GUMBO_TAG_ADDRESS, GUMBO_TAG_APPLET,   GUMBO_TAG_AREA,     GUMBO_TAG_ARTICLE,
    GUMBO_TAG_ASIDE,   GUMBO_TAG_BASE,     GUMBO_TAG_BASEFONT, GUMBO_TAG_BGSOUND,
    GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_BODY,  GUMBO_TAG_BR,       GUMBO_TAG_BUTTON,
    GUMBO_TAG_CAPTION, GUMBO_TAG_CENTER,   GUMBO_TAG_COL,      GUMBO_TAG_COLGROUP,
    GUMBO_TAG_DD,      GUMBO_TAG_DETAILS,  GUMBO_TAG_DIR,      GUMBO_TAG_DIV,
    GUMBO_TAG_DL,      GUMBO_TAG_DT,       GUMBO_TAG_EMBED,    GUMBO_TAG_FIELDSET,
    GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE, GUMBO_TAG_FOOTER,  GUMBO_TAG_FORM,
    GUMBO_TAG_FRAME,   GUMBO_TAG_FRAMESET, GUMBO_TAG_H1,       GUMBO_TAG_H2,
    GUMBO_TAG_H3,      GUMBO_TAG_H4,       GUMBO_TAG_H5,       GUMBO_TAG_H6,
    GUMBO_TAG_HEAD,    GUMBO_TAG_HEADER,   GUMBO_TAG_HGROUP,   GUMBO_TAG_HR,
    GUMBO_TAG_HTML,    GUMBO_TAG_IFRAME,   GUMBO_TAG_IMG,      GUMBO_TAG_INPUT,
    GUMBO_TAG_ISINDEX, GUMBO_TAG_LI,       GUMBO_TAG_LINK,     GUMBO_TAG_LISTING,
    GUMBO_TAG_MAIN,    GUMBO_TAG_MARQUEE,  GUMBO_TAG_MENU,     GUMBO_TAG_MENUITEM,
    GUMBO_TAG_META,    GUMBO_TAG_NAV,      GUMBO_TAG_NOEMBED,  GUMBO_TAG_NOFRAMES,
    GUMBO_TAG_NOSCRIPT, GUMBO_TAG_OBJECT,  GUMBO_TAG_OL,       GUMBO_TAG_P,
    GUMBO_TAG_PARAM,   GUMBO_TAG_PLAINTEXT, GUMBO_TAG_PRE,     GUMBO_TAG_SCRIPT,
    GUMBO_TAG_SECTION, GUMBO_TAG_SELECT,   GUMBO_TAG_SOURCE,   GUMBO_TAG_STYLE,
    GUMBO_TAG_SUMMARY, GUMBO_TAG_TABLE,    GUMBO_TAG_TBODY,    GUMBO_TAG_TD,
    GUMBO_TAG_TEMPLATE, GUMBO_TAG_TEXTAREA, GUMBO_TAG_TFOOT,   GUMBO_TAG_TH,
    GUMBO_TAG_THEAD,   GUMBO_TAG_TITLE,    GUMBO_TAG_TR,       GUMBO_TAG_TRACK,
    GUMBO_TAG_UL,      GUMBO_TAG_WBR,      GUMBO_TAG_XMP,      GUMBO_TAG_MI,
    GUMBO_TAG_MO,      GUMBO_TAG_MN,       GUMBO_TAG_MS,       GUMBO_TAG_MTEXT,
    GUMBO_TAG_ANNOTATION_XML, GUMBO_TAG_FOREIGNOBJECT, GUMBO_TAG_DESC,
};

static const GumboTag scope_tags[] = {
    GUMBO_TAG_APPLET, GUMBO_TAG_CAPTION, GUMBO_TAG_HTML, GUMBO_TAG_TABLE,
    GUMBO_TAG_TD,     GUMBO_TAG_TH,      GUMBO_TAG_MARQUEE, GUMBO_TAG_OBJECT,
    GUMBO_TAG_TEMPLATE, GUMBO_TAG_MI,    GUMBO_TAG_MO,   GUMBO_TAG_MN,
    GUMBO_TAG_MS,     GUMBO_TAG_MTEXT,   GUMBO_TAG_ANNOTATION_XML,
    GUMBO_TAG_FOREIGNOBJECT, GUMBO_TAG_DESC,
};

/* Start tags that close an open <p> ("close a p element" in the spec). */
static const GumboTag closes_p_tags[] = {
    GUMBO_TAG_ADDRESS, GUMBO_TAG_ARTICLE, GUMBO_TAG_ASIDE,   GUMBO_TAG_BLOCKQUOTE,
    GUMBO_TAG_CENTER,  GUMBO_TAG_DETAILS, GUMBO_TAG_DIR,     GUMBO_TAG_DIV,
    GUMBO_TAG_DL,      GUMBO_TAG_FIELDSET, GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE,
    GUMBO_TAG_FOOTER,  GUMBO_TAG_HEADER,  GUMBO_TAG_HGROUP,  GUMBO_TAG_MAIN,
    GUMBO_TAG_MENU,    GUMBO_TAG_NAV,     GUMBO_TAG_OL,      GUMBO_TAG_P,
    GUMBO_TAG_SECTION, GUMBO_TAG_SUMMARY, GUMBO_TAG_UL,      GUMBO_TAG_H1,
    GUMBO_TAG_H2,      GUMBO_TAG_H3,      GUMBO_TAG_H4,      GUMBO_TAG_H5,
    GUMBO_TAG_H6,      GUMBO_TAG_PRE,     GUMBO_TAG_LISTING, GUMBO_TAG_FORM,
    GUMBO_TAG_TABLE,   GUMBO_TAG_HR,      GUMBO_TAG_XMP,     GUMBO_TAG_PLAINTEXT,
    GUMBO_TAG_LI,      GUMBO_TAG_DD,      GUMBO_TAG_DT,
};

/* HTML start tags that end <svg>/<math> content (the spec's "breakout" list). */
static const GumboTag breakout_tags[] = {
    GUMBO_TAG_B,      GUMBO_TAG_BIG,   GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_BODY, GUMBO_TAG_BR,
    GUMBO_TAG_CENTER, GUMBO_TAG_CODE,  GUMBO_TAG_DD,   GUMBO_TAG_DIV,   GUMBO_TAG_DL,
    GUMBO_TAG_DT,     GUMBO_TAG_EM,    GUMBO_TAG_EMBED, GUMBO_TAG_H1,   GUMBO_TAG_H2,
    GUMBO_TAG_H3,     GUMBO_TAG_H4,    GUMBO_TAG_H5,   GUMBO_TAG_H6,    GUMBO_TAG_HEAD,
    GUMBO_TAG_HR,     GUMBO_TAG_I,     GUMBO_TAG_IMG,  GUMBO_TAG_LI,    GUMBO_TAG_LISTING,
    GUMBO_TAG_MENU,   GUMBO_TAG_META,  GUMBO_TAG_NOBR, GUMBO_TAG_OL,    GUMBO_TAG_P,
    GUMBO_TAG_PRE,    GUMBO_TAG_RUBY,  GUMBO_TAG_S,    GUMBO_TAG_SMALL, GUMBO_TAG_SPAN,
    GUMBO_TAG_STRONG, GUMBO_TAG_STRIKE, GUMBO_TAG_SUB, GUMBO_TAG_SUP,   GUMBO_TAG_TABLE,
    GUMBO_TAG_TT,     GUMBO_TAG_U,     GUMBO_TAG_UL,   GUMBO_TAG_VAR,   GUMBO_TAG_FONT,
};

static const GumboTag fmt_tags[FMT_TAGS] = {
    GUMBO_TAG_A,     GUMBO_TAG_B,      GUMBO_TAG_BIG,    GUMBO_TAG_CODE, GUMBO_TAG_EM,
    GUMBO_TAG_FONT,  GUMBO_TAG_I,      GUMBO_TAG_NOBR,   GUMBO_TAG_S,    GUMBO_TAG_SMALL,
    GUMBO_TAG_STRIKE, GUMBO_TAG_STRONG, GUMBO_TAG_TT,    GUMBO_TAG_U,
};

/* Elements whose text is not article text (article_html.c). */
static const GumboTag skipped_tags[] = {
    GUMBO_TAG_HEAD,   GUMBO_TAG_SCRIPT, GUMBO_TAG_STYLE,  GUMBO_TAG_NOSCRIPT, GUMBO_TAG_NAV,
    GUMBO_TAG_HEADER, GUMBO_TAG_FOOTER, GUMBO_TAG_ASIDE,    GUMBO_TAG_FORM,
    GUMBO_TAG_TEMPLATE, GUMBO_TAG_SVG,  GUMBO_TAG_MATH,     GUMBO_TAG_IFRAME,
    GUMBO_TAG_OBJECT, GUMBO_TAG_CANVAS, GUMBO_TAG_BUTTON,   GUMBO_TAG_SELECT,
    GUMBO_TAG_TEXTAREA, GUMBO_TAG_NOEMBED, GUMBO_TAG_NOFRAMES,
};

/* Elements that break the text into lines (article_html.c). */
static const GumboTag block_tags[] = {
    GUMBO_TAG_ADDRESS, GUMBO_TAG_ARTICLE, GUMBO_TAG_ASIDE,  GUMBO_TAG_BLOCKQUOTE,
    GUMBO_TAG_BR,      GUMBO_TAG_CAPTION, GUMBO_TAG_CENTER, GUMBO_TAG_DD,
    GUMBO_TAG_DETAILS, GUMBO_TAG_DIV,     GUMBO_TAG_DL,     GUMBO_TAG_DT,
    GUMBO_TAG_FIELDSET, GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE, GUMBO_TAG_FOOTER,
    GUMBO_TAG_FORM,    GUMBO_TAG_H1,      GUMBO_TAG_H2,     GUMBO_TAG_H3,
    GUMBO_TAG_H4,      GUMBO_TAG_H5,      GUMBO_TAG_H6,     GUMBO_TAG_HEADER,
    GUMBO_TAG_HGROUP,  GUMBO_TAG_HR,      GUMBO_TAG_LI,     GUMBO_TAG_MAIN,
    GUMBO_TAG_NAV,     GUMBO_TAG_OL,      GUMBO_TAG_P,      GUMBO_TAG_PRE,
    GUMBO_TAG_SECTION, GUMBO_TAG_SUMMARY, GUMBO_TAG_TABLE,  GUMBO_TAG_TBODY,
    GUMBO_TAG_THEAD,   GUMBO_TAG_TFOOT,   GUMBO_TAG_TR,     GUMBO_TAG_UL,
    GUMBO_TAG_LISTING, GUMBO_TAG_BODY,    GUMBO_TAG_DIR,    GUMBO_TAG_MENU,
    GUMBO_TAG_LEGEND,  GUMBO_TAG_OPTION,  GUMBO_TAG_TITLE,
};

static void tagflags_mark(tagflags f, const GumboTag *tags, size_t n, unsigned char flag)
{
    for (size_t i = 0; i < n; i++)
        f[tags[i]] |= flag;
}

#define MARK(f, list, flag) tagflags_mark((f), (list), sizeof(list) / sizeof(list)[0], (flag))

void article_html_tagflags(tagflags f)
{
    memset(f, 0, sizeof(tagflags));
    MARK(f, void_tags, TF_VOID);
    MARK(f, rawtext_tags, TF_RAWTEXT);
    MARK(f, special_tags, TF_SPECIAL);
    MARK(f, scope_tags, TF_SCOPE);
    MARK(f, closes_p_tags, TF_CLOSES_P);
    MARK(f, breakout_tags, TF_BREAKOUT);
    MARK(f, skipped_tags, TF_SKIP);
    MARK(f, block_tags, TF_BLOCK);
}

/* Index of a formatting tag in fmt_tags, or -1. */
static int fmt_index(GumboTag t)
{
    for (int i = 0; i < FMT_TAGS; i++)
        if (fmt_tags[i] == t)
            return i;
    return -1;
}

/* FNV-1a over bytes, lower-cased; never 0 (0 marks an empty table slot). */
static uint32_t hash_ci(const char *s, size_t n, uint32_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= to_lower((unsigned char)s[i]);
        h *= 16777619u;
    }
    return h ? h : 1;
}

/* The topmost special element, special element of the <li> rule, and scope boundary
 * on the stack; -1 for none. */
static int est_special_top(const struct est *e)
{
    return e->depth > 0 ? e->st[e->depth - 1].special_top : -1;
}

static int est_specialx_top(const struct est *e)
{
    return e->depth > 0 ? e->st[e->depth - 1].specialx_top : -1;
}

static int est_scope_top(const struct est *e)
{
    return e->depth > 0 ? e->st[e->depth - 1].scope_top : -1;
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

/* Pushes an element; -1 when the estimate passes HTML_MAX_DEPTH. */
static int est_push(struct est *e, GumboTag tag, int key, uint32_t hash)
{
    struct est_entry *x;
    int i = e->depth;

    if ((size_t)e->depth + e->fmt_size >= HTML_MAX_DEPTH)
        return -1;
    x = &e->st[i];
    x->key = key;
    x->hash = hash;
    x->prev_same = e->key_top[key];
    e->key_top[key] = i;
    x->special_top = (e->tf[tag] & TF_SPECIAL) ? i : est_special_top(e);
    x->specialx_top = ((e->tf[tag] & TF_SPECIAL) && tag != GUMBO_TAG_ADDRESS &&
                       tag != GUMBO_TAG_DIV && tag != GUMBO_TAG_P)
                          ? i
                          : est_specialx_top(e);
    x->scope_top = (e->tf[tag] & TF_SCOPE) ? i : est_scope_top(e);
    e->depth++;
    return 0;
}

/* Pops entries until entry idx (inclusive) is gone. */
static void est_pop_to(struct est *e, int idx)
{
    if (idx < 0)
        return;
    while (e->depth > idx) {
        struct est_entry *x = &e->st[--e->depth];
        e->key_top[x->key] = x->prev_same;
    }
}

/* A formatting element opens; -1 when the estimate passes HTML_MAX_DEPTH. */
static int fmt_open(struct est *e, int fi, uint32_t key)
{
    uint64_t count = 0;

    hashmap_get(&e->fmt, key, &count);
    if (count < 3) {
        if ((size_t)e->depth + e->fmt_size >= HTML_MAX_DEPTH)
            return -1;
        e->fmt_size++;
    }
    if (count < UINT32_MAX)
        count++;
    /* Cannot fail: fewer live keys than reserved (FMT_RESERVE). */
    if (hashmap_put(&e->fmt, key, count) < 0)
        return -1;
    e->ring_top[fi] = (e->ring_top[fi] + 1) % FMT_RING;
    e->ring[fi][e->ring_top[fi]] = key;
    if (e->ring_len[fi] < FMT_RING)
        e->ring_len[fi]++;
    return 0;
}

/* The latest open formatting element with tag fmt_tags[fi] closes. */
static void fmt_close(struct est *e, int fi)
{
    uint32_t key;
    uint64_t count;

    if (e->ring_len[fi] == 0)
        return;
    key = e->ring[fi][e->ring_top[fi]];
    e->ring_top[fi] = (e->ring_top[fi] + FMT_RING - 1) % FMT_RING;
    e->ring_len[fi]--;
    if (!hashmap_get(&e->fmt, key, &count))
        return;
    if (count <= 3)
        e->fmt_size--;
    if (--count == 0)
        hashmap_remove(&e->fmt, key);
    else
        hashmap_put(&e->fmt, key, count); /* an existing key: never allocates */
}

/* True while the current insertion point is inside <svg>/<math> content. */
static int est_in_foreign(const struct est *e)
{
    int f = max_int(e->key_top[GUMBO_TAG_SVG], e->key_top[GUMBO_TAG_MATH]), ip = -1;
    static const GumboTag points[] = {
        GUMBO_TAG_FOREIGNOBJECT, GUMBO_TAG_DESC, GUMBO_TAG_TITLE, GUMBO_TAG_MI, GUMBO_TAG_MO,
        GUMBO_TAG_MN, GUMBO_TAG_MS, GUMBO_TAG_MTEXT, GUMBO_TAG_ANNOTATION_XML,
    };

    if (f < 0)
        return 0;
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++)
        ip = max_int(ip, e->key_top[points[i]]);
    return f > ip;
}

/* A start tag. Returns -1 when too deep, 1 when it was handled as an HTML element (so
 * raw-text rules apply), 0 otherwise. */
static int est_start(struct est *e, GumboTag tag, int key, uint32_t hash, int selfclose,
                     uint32_t attrhash)
{
    int fi, p, x;

    if (est_in_foreign(e)) {
        if (!(e->tf[tag] & TF_BREAKOUT))
            return selfclose ? 0 : est_push(e, tag, key, hash);
        while (est_in_foreign(e))
            est_pop_to(e, max_int(e->key_top[GUMBO_TAG_SVG], e->key_top[GUMBO_TAG_MATH]));
    }
    if (tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_HEAD || tag == GUMBO_TAG_BODY)
        return 1;
    if (e->tf[tag] & TF_CLOSES_P) {
        p = e->key_top[GUMBO_TAG_P];
        if (p >= 0 && p > max_int(est_scope_top(e), e->key_top[GUMBO_TAG_BUTTON]))
            est_pop_to(e, p);
    }
    switch (tag) {
    case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3:
    case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6:
        if (e->depth > 0) {
            int k = e->st[e->depth - 1].key;
            if (k >= GUMBO_TAG_H1 && k <= GUMBO_TAG_H6)
                est_pop_to(e, e->depth - 1);
        }
        break;
    case GUMBO_TAG_LI:
        x = e->key_top[GUMBO_TAG_LI];
        if (x >= 0 && x >= est_specialx_top(e))
            est_pop_to(e, x);
        break;
    case GUMBO_TAG_DD: case GUMBO_TAG_DT:
        x = max_int(e->key_top[GUMBO_TAG_DD], e->key_top[GUMBO_TAG_DT]);
        if (x >= 0 && x >= est_specialx_top(e))
            est_pop_to(e, x);
        break;
    case GUMBO_TAG_TD: case GUMBO_TAG_TH: case GUMBO_TAG_TR: case GUMBO_TAG_TBODY:
    case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_COLGROUP:
        /* Table parts outside a table are ignored (unless a <template> may hold them). */
        if (e->key_top[GUMBO_TAG_TABLE] < 0) {
            if (e->key_top[GUMBO_TAG_TEMPLATE] < 0)
                return 1;
            break;
        }
        /* A new cell, row or section closes the open one of the innermost table. */
        if (tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH)
            x = max_int(e->key_top[GUMBO_TAG_TD], e->key_top[GUMBO_TAG_TH]);
        else if (tag == GUMBO_TAG_TR)
            x = e->key_top[GUMBO_TAG_TR];
        else if (tag == GUMBO_TAG_CAPTION || tag == GUMBO_TAG_COLGROUP)
            x = -1;
        else
            x = max_int(e->key_top[GUMBO_TAG_TBODY],
                        max_int(e->key_top[GUMBO_TAG_THEAD], e->key_top[GUMBO_TAG_TFOOT]));
        if (x > e->key_top[GUMBO_TAG_TABLE])
            est_pop_to(e, x);
        break;
    case GUMBO_TAG_TABLE: /* a table directly in a table closes the first one */
        x = e->key_top[GUMBO_TAG_TABLE];
        if (x >= 0 && x > max_int(max_int(e->key_top[GUMBO_TAG_TD], e->key_top[GUMBO_TAG_TH]),
                                  e->key_top[GUMBO_TAG_CAPTION]))
            est_pop_to(e, x);
        break;
    case GUMBO_TAG_SELECT: /* a select in a select closes it */
    case GUMBO_TAG_BUTTON: /* so does a button in a button */
        if (e->key_top[tag] >= 0) {
            est_pop_to(e, e->key_top[tag]);
            if (tag == GUMBO_TAG_SELECT)
                return 1;
        }
        break;
    case GUMBO_TAG_OPTION: case GUMBO_TAG_OPTGROUP:
        /* Only an <option> is closed by these outside <select>: <optgroup>s nest. */
        if (e->depth > 0 && e->st[e->depth - 1].key == GUMBO_TAG_OPTION)
            est_pop_to(e, e->depth - 1);
        if (tag == GUMBO_TAG_OPTGROUP && e->key_top[GUMBO_TAG_SELECT] >= 0 && e->depth > 0 &&
            e->st[e->depth - 1].key == GUMBO_TAG_OPTGROUP)
            est_pop_to(e, e->depth - 1);
        break;
    default:
        break;
    }
    if ((fi = fmt_index(tag)) >= 0) {
        uint32_t fkey = attrhash ^ ((uint32_t)tag * 2654435761u);
        if (tag == GUMBO_TAG_A || tag == GUMBO_TAG_NOBR) { /* a new <a> ends an open one */
            fmt_close(e, fi);
            x = e->key_top[tag];
            if (x >= 0 && est_special_top(e) <= x)
                est_pop_to(e, x);
        }
        /* A formatting element is both on the stack and in the list; counting it twice
         * errs high, which is the safe side. */
        if (fmt_open(e, fi, fkey ? fkey : 1) < 0)
            return -1;
    }
    if ((e->tf[tag] & (TF_VOID | TF_RAWTEXT)) || tag == GUMBO_TAG_PLAINTEXT)
        return 1;
    return est_push(e, tag, key, hash) < 0 ? -1 : 1;
}

/* An end tag. */
static void est_end(struct est *e, GumboTag tag, int key, uint32_t hash)
{
    int m, fi;

    if (est_in_foreign(e)) {
        m = e->key_top[key];
        if (m >= 0 && e->st[m].hash == hash)
            est_pop_to(e, m);
        return;
    }
    if (tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_HEAD || tag == GUMBO_TAG_BODY)
        return;
    if ((fi = fmt_index(tag)) >= 0)
        fmt_close(e, fi); /* and, below, off the stack like any other element */
    m = e->key_top[key];
    /* Only the topmost element of a hash bucket is checked: on a mismatch the end tag is
     * ignored, which can only overestimate. */
    if (m < 0 || e->st[m].hash != hash)
        return;
    if ((e->tf[tag] & TF_SPECIAL) ? est_scope_top(e) > m : est_special_top(e) > m)
        return; /* gumbo ignores it: not in scope, or a special element is in the way */
    est_pop_to(e, m);
}

/* Finds the end of a raw-text element's content: the next "</name" followed by a
 * delimiter. Returns the offset of its '<' (or n). */
static size_t skip_rawtext(const char *s, size_t n, size_t i, const char *name, size_t nl)
{
    while (i < n) {
        const char *lt = memchr(s + i, '<', n - i);
        size_t k;
        if (lt == NULL)
            return n;
        k = (size_t)(lt - s);
        if (k + 2 + nl <= n && s[k + 1] == '/' && lower_eq(s + k + 2, name, nl) &&
            (k + 2 + nl == n || is_space((unsigned char)s[k + 2 + nl]) ||
             s[k + 2 + nl] == '/' || s[k + 2 + nl] == '>'))
            return k;
        i = k + 1;
    }
    return n;
}

/* Finds the first occurrence of the 3-byte string "-->" at or after i, or n. */
static size_t find_comment_end(const char *s, size_t n, size_t i)
{
    while (i + 3 <= n) {
        const char *d = memchr(s + i, '-', n - i);
        size_t k;
        if (d == NULL)
            return n;
        k = (size_t)(d - s);
        if (k + 3 <= n && s[k + 1] == '-' && s[k + 2] == '>')
            return k;
        i = k + 1;
    }
    return n;
}

/* True when gumbo may parse the document in reasonable time (see the comment above
 * struct est_entry). A tokenizer just good enough to find tags, attributes and the
 * end of comments and raw text; every byte is looked at a bounded number of times. e is
 * zeroed, its formatting table reserved (article_html_nesting_ok). */
static int nesting_ok(const char *s, size_t n, const unsigned char *tf, struct est *e)
{
    size_t i = 0;

    e->tf = tf;
    for (size_t k = 0; k < EST_KEYS; k++)
        e->key_top[k] = -1;
    while (i < n) {
        const char *lt = memchr(s + i, '<', n - i), *name;
        size_t nl, j, attr_start;
        int end_tag = 0, selfclose = 0, key, r;
        GumboTag tag;
        uint32_t hash = 0;

        if (lt == NULL)
            break;
        i = (size_t)(lt - s) + 1;
        if (i >= n)
            break;
        if (s[i] == '!' || s[i] == '?') {
            size_t k;
            if (s[i] == '!' && i + 2 < n && s[i + 1] == '-' && s[i + 2] == '-') {
                k = find_comment_end(s, n, i + 1); /* "<!-->" is a whole comment */
                i = k + 3;
            } else {
                const char *gt = memchr(s + i, '>', n - i);
                i = gt ? (size_t)(gt - s) + 1 : n;
            }
            continue;
        }
        if (s[i] == '/') {
            end_tag = 1;
            if (++i >= n)
                break;
            if (!is_alpha((unsigned char)s[i])) { /* "</>" or a bogus comment */
                const char *gt = memchr(s + i, '>', n - i);
                i = gt ? (size_t)(gt - s) + 1 : n;
                continue;
            }
        } else if (!is_alpha((unsigned char)s[i])) {
            continue; /* a '<' in text */
        }
        name = s + i;
        j = i;
        while (j < n && !is_space((unsigned char)s[j]) && s[j] != '/' && s[j] != '>')
            j++;
        nl = j - i;
        attr_start = j;
        while (j < n && s[j] != '>') {
            if (s[j] == '/') {
                selfclose = j + 1 < n && s[j + 1] == '>';
                j++;
            } else if (s[j] == '=') {
                j++;
                while (j < n && is_space((unsigned char)s[j]))
                    j++;
                if (j < n && (s[j] == '"' || s[j] == '\'')) {
                    const char *q = memchr(s + j + 1, s[j], n - j - 1);
                    j = q ? (size_t)(q - s) + 1 : n;
                } else {
                    while (j < n && !is_space((unsigned char)s[j]) && s[j] != '>')
                        j++;
                }
            } else {
                j++;
            }
        }
        if (j >= n)
            break; /* a tag cut off by the end of input is dropped by the tokenizer too */
        i = j + 1;
        tag = nl <= 32 ? gumbo_tagn_enum(name, (unsigned)nl) : GUMBO_TAG_UNKNOWN;
        if (tag == GUMBO_TAG_UNKNOWN) {
            hash = hash_ci(name, nl, 2166136261u);
            key = GUMBO_TAG_LAST + (int)(hash % EST_BUCKETS);
        } else {
            key = tag;
        }
        if (end_tag) {
            est_end(e, tag, key, hash);
            continue;
        }
        r = est_start(e, tag, key, hash, selfclose,
                      fmt_index(tag) >= 0 ? hash_ci(s + attr_start, j - attr_start, 2166136261u)
                                          : 0);
        if (r < 0)
            return 0;
        /* Inside <select> or <frameset> gumbo ignores these tags and keeps reading
         * markup; skipping their "content" there would hide tags from the estimate. */
        if (r != 1 || e->key_top[GUMBO_TAG_SELECT] >= 0 || e->key_top[GUMBO_TAG_FRAMESET] >= 0)
            continue;
        if (tag == GUMBO_TAG_PLAINTEXT)
            break; /* everything after it is text */
        if (tf[tag] & TF_RAWTEXT)
            i = skip_rawtext(s, n, i, gumbo_normalized_tagname(tag), nl);
    }
    return 1;
}

int article_html_nesting_ok(const char *s, size_t n, const unsigned char *tf)
{
    struct est *e = malloc(sizeof *e);
    int ok;

    if (e == NULL)
        return -1;
    memset(e, 0, sizeof *e);
    if (hashmap_reserve(&e->fmt, FMT_RESERVE) < 0) {
        free(e);
        return -1;
    }
    ok = nesting_ok(s, n, tf, e);
    hashmap_free(&e->fmt);
    free(e);
    return ok;
}

/* ---- gumbo's allocator --------------------------------------------------------------- */

union gheader {
    struct gblock b;
    max_align_t align;
};

/* CPU time used by this thread, in nanoseconds (0 if the clock is unavailable). */
static long long thread_cpu_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Gumbo's allocator: gumbo does not check for NULL, so a failure leaves gumbo by
 * longjmp to gumbo_guarded_parse; gumbo holds nothing but memory, which the arena frees.
 * It is also where gumbo's CPU time is checked: gumbo allocates for every tag it reads,
 * so however its tree builder is driven into slow paths, it comes back here often. This
 * is the backstop behind article_html_nesting_ok, which only catches the usual deep nesting. */
static void *garena_alloc(void *ud, size_t size)
{
    struct garena *a = ud;
    union gheader *h;

    if (a->deadline_ns != 0 && ++a->calls % GUMBO_CPU_CHECK_EVERY == 0 &&
        thread_cpu_ns() > a->deadline_ns) {
        a->failed = 3;
        longjmp(a->jb, 1);
    }
    if (size > a->limit - a->used) {
        a->failed = 2;
        longjmp(a->jb, 1);
    }
    h = malloc(sizeof *h + size);
    if (h == NULL) {
        a->failed = 1;
        longjmp(a->jb, 1);
    }
    h->b.size = size;
    h->b.prev = &a->head;
    h->b.next = a->head.next;
    a->head.next->prev = &h->b;
    a->head.next = &h->b;
    a->used += size;
    return h + 1;
}

static void garena_free(void *ud, void *p)
{
    struct garena *a = ud;
    union gheader *h;

    if (p == NULL)
        return;
    h = (union gheader *)p - 1;
    h->b.prev->next = h->b.next;
    h->b.next->prev = h->b.prev;
    a->used -= h->b.size;
    free(h);
}

void article_gumbo_free_all(struct garena *a)
{
    while (a->head.next != &a->head)
        garena_free(a, (union gheader *)a->head.next + 1);
}

/* Runs gumbo; NULL when it ran out of memory (a->failed says which way). setjmp lives in
 * this small function so that no local it would need after the jump is modified. */
GumboOutput *article_gumbo_parse(struct garena *a, const GumboOptions *opts, const char *s,
                                 size_t n)
{
    if (setjmp(a->jb) != 0)
        return NULL;
    return gumbo_parse_with_options(opts, s, n);
}

void article_gumbo_setup(struct garena *a, GumboOptions *opts, size_t len)
{
    memset(a, 0, sizeof *a);
    a->head.next = a->head.prev = &a->head;
    a->limit = len > (GUMBO_MEM_MAX - GUMBO_MEM_BASE) / GUMBO_MEM_PER_BYTE
                   ? GUMBO_MEM_MAX
                   : GUMBO_MEM_BASE + len * GUMBO_MEM_PER_BYTE;
    /* len <= 3 * ARTICLE_MAX_FILE_BYTES, so this cannot overflow. */
    a->budget_ns = GUMBO_CPU_BASE_NS + (long long)len * GUMBO_CPU_NS_PER_BYTE;
    a->deadline_ns = thread_cpu_ns();
    if (a->deadline_ns != 0)
        a->deadline_ns += a->budget_ns;
    opts->allocator = garena_alloc;
    opts->deallocator = garena_free;
    opts->userdata = a;
}
