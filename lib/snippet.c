/*
 * snippet.c -- best-passage choice and complete highlighting (see snippet.h).
 *
 * Words come from lib/tokenize, so a word here is a term exactly as the indexer made it
 * (lower-cased by Unicode's rules in any script, accents folded, "Meta's" one word, CJK text
 * as unigrams and bigrams). A word matches a query term when its stem is the term's stem
 * (for a "Z" term, the term itself): "Banks", "bank" and "banking" all match "bank".
 *
 * Two passes over the text share one matcher:
 *   1. the scan, from the start, collects matches until a window of `target` bytes holds
 *      every query term (no later window can then have more) or the lead's end is reached
 *      (SNIPPET_LEAD_BYTES); when the lead holds no match at all, it goes on to the scan
 *      bound (SNIPPET_SCAN_BYTES);
 *   2. the chosen window is then read to its end, so every occurrence in it is marked --
 *      not only those the scan happened to see before it stopped.
 * Phrases, ADJ/n and NEAR/n are one thing here, a positional group: words that match
 * where they stand within `window` positions of each other (last - first < window, as
 * Xapian counts), in order (phrase, ADJ) or in any order (NEAR); an exact phrase's window is
 * its number of words. Each group keeps the recent occurrences of its words (those that
 * could still share a window with a word to come). When a word completes a match -- it is
 * the latest word of some match -- every occurrence that takes part in a match ending at it
 * is marked, and no other: a lone word of the group elsewhere never is. A word that takes
 * part only in a match whose last word comes after the window is found by reading on past
 * the window's end by the group's window.
 */
#include "snippet.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize.h"
#include "util.h"

#define KEY_MAX (TOKENIZE_MAX_TERM + 8)
#define MAX_MATCHES 4096
#define LOCAL_MATCHES 128 /* matches held in the pass itself: most texts need no more */
/* Occurrences a positional group remembers: exact for windows up to this many positions
 * (one occurrence per position); beyond, the oldest are forgotten. */
#define GROUP_OCCURRENCES 64

enum { FIELD_ANY = 0, FIELD_TITLE = 1 };

struct key {
    char text[KEY_MAX]; /* a stem, or a wildcard's prefix */
    size_t len;
    int field;
    int wildcard;
    int excluded;
    int group;
};

/* A positional group: an exact phrase, a ADJ/n b or a NEAR/n b (of terms). */
struct phrase {
    char words[SNIPPET_MAX_PHRASE_WORDS][KEY_MAX];
    size_t lens[SNIPPET_MAX_PHRASE_WORDS];
    /* For NEAR, words equal to each other form a class: cls[k] is the first word equal to
     * word k, need[k] the number of words equal to it. */
    unsigned char cls[SNIPPET_MAX_PHRASE_WORDS], need[SNIPPET_MAX_PHRASE_WORDS];
    unsigned n;      /* words given so far */
    unsigned want;   /* words it has */
    unsigned window; /* positions its words fit in (last - first < window) */
    int near;        /* any order */
    int field;
    int mixed;       /* words of different fields: never matches in one text */
    int group;
};

/* What match_token said about words seen before: most words of a text repeat, and so do
 * the words of the ten articles of one page and their titles, and stemming is the costly
 * part of matching a word (some 2,600 instructions in Xapian's stemmer). Direct-mapped by
 * a hash of the word; an entry holds the word's group in body text and in a title (where
 * title-only terms match too), both from one stemming. */
#define CACHE_SLOTS 1024
#define CACHE_WORD 24
struct match_cache {
    unsigned char len[CACHE_SLOTS]; /* 0: empty */
    char word[CACHE_SLOTS][CACHE_WORD];
    int group[CACHE_SLOTS][2]; /* body, title */
};

struct snippet_terms {
    xc_stem *stem;
    /* A memo, not state: what a word matches never changes once the terms are set, so it
     * is written through the const pointers snippet_make is given (one search's terms,
     * used by one thread). Cleared whenever a term is added. */
    struct match_cache *cache;
    size_t nkeys;
    size_t nphrases;
    unsigned max_window; /* the widest positional group's window (0: none) */
    int ngroups;
    int walk_failed;
    /* First bytes a matching word can start with: every other word is skipped without
     * stemming it (most words of a long article). first[b] is 0, or 1 + the index in
     * second[] of the second bytes a matching word starting with b can have (its second
     * byte, 0 for a word of one byte): a key's own, and 'y' for an 'i' (the stemmer's
     * "dying" -> "die"), every byte for a key of one byte. Most words that share a first
     * byte with a key fail on the second, before any hashing or stemming. */
    unsigned char first[256];
    unsigned nseconds;
    uint64_t second[SNIPPET_MAX_TERMS][4];
    unsigned char phrase_first[256];
    /* Last, and not cleared when made (17 KB, for one query): an entry is written
     * whole when nkeys or nphrases grows over it. */
    struct key keys[SNIPPET_MAX_TERMS];
    struct phrase phrases[SNIPPET_MAX_PHRASES];
};

static void cache_clear(struct snippet_terms *t)
{
    memset(t->cache->len, 0, sizeof t->cache->len);
}

struct snippet_terms *snippet_terms_new(xc_stem *stem)
{
    struct snippet_terms *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0, offsetof(struct snippet_terms, keys));
    /* Not calloc: only the lengths need clearing (an empty slot's word is never read). */
    t->cache = malloc(sizeof *t->cache);
    if (!t->cache) {
        free(t);
        return NULL;
    }
    t->stem = stem;
    cache_clear(t);
    return t;
}

void snippet_terms_free(struct snippet_terms *t)
{
    if (!t)
        return;
    free(t->cache);
    free(t);
}


/* What a scan up to `scan` bytes reads, with the window after it and the tail. */
static size_t text_bytes(const struct snippet_terms *t, size_t target, size_t scan)
{
    if (target == 0)
        target = SNIPPET_DEFAULT_BYTES;
    if (target > SNIPPET_MAX_BYTES)
        target = SNIPPET_MAX_BYTES;
    size_t n = scan + target + 1024;
    if (t->max_window > 1)
        n += SNIPPET_TAIL_BYTES;
    return n < SNIPPET_TEXT_BYTES ? n : SNIPPET_TEXT_BYTES;
}

size_t snippet_text_bytes(const struct snippet_terms *t, size_t target)
{
    return text_bytes(t, target, SNIPPET_SCAN_BYTES);
}

size_t snippet_lead_bytes(const struct snippet_terms *t, size_t target)
{
    return text_bytes(t, target, SNIPPET_LEAD_BYTES);
}

size_t snippet_terms_count(const struct snippet_terms *t)
{
    size_t n = t->nphrases;
    for (size_t i = 0; i < t->nkeys; i++)
        n += !t->keys[i].excluded;
    return n;
}

/* Strips Xapian's prefixes: *stemmed for "Z", *field for "S". Returns 0 for a filter term
 * (another upper-case prefix) or an empty one, which highlighting ignores. */
static int strip_prefix(const char **term, size_t *len, int *stemmed, int *field)
{
    *stemmed = 0;
    *field = FIELD_ANY;
    if (*len > 0 && (*term)[0] == 'Z') {
        *stemmed = 1;
        (*term)++;
        (*len)--;
    }
    if (*len > 0 && (*term)[0] == 'S') {
        *field = FIELD_TITLE;
        (*term)++;
        (*len)--;
    }
    return *len > 0 && *len < KEY_MAX && !((*term)[0] >= 'A' && (*term)[0] <= 'Z');
}

/* Adds a key (deduplicated); a new stem gets a new group unless an earlier key has it. */
static int add_key(struct snippet_terms *t, const char *text, size_t len, int field,
                   int wildcard, int excluded)
{
    assert(len < KEY_MAX);
    int group = -1;
    for (size_t i = 0; i < t->nkeys; i++) {
        struct key *k = &t->keys[i];
        if (k->len != len || memcmp(k->text, text, len) != 0 || k->wildcard != wildcard)
            continue;
        if (k->field == field && k->excluded == excluded)
            return 0;
        if (!k->excluded && !excluded)
            group = k->group;
    }
    if (t->nkeys >= SNIPPET_MAX_TERMS)
        return 0;
    struct key *k = &t->keys[t->nkeys++];
    memcpy(k->text, text, len);
    k->text[len] = '\0';
    k->len = len;
    k->field = field;
    k->wildcard = wildcard;
    k->excluded = excluded;
    k->group = excluded ? -1 : group >= 0 ? group : t->ngroups++;
    unsigned char b0 = (unsigned char)text[0];
    if (!t->first[b0]) {
        assert(t->nseconds < SNIPPET_MAX_TERMS);
        t->first[b0] = (unsigned char)(++t->nseconds);
    }
    uint64_t *sec = t->second[t->first[b0] - 1];
    if (len == 1) {
        memset(sec, 0xFF, 4 * sizeof *sec);
    } else {
        unsigned char b1 = (unsigned char)text[1];
        sec[b1 >> 6] |= 1ULL << (b1 & 63);
        if (!wildcard && b1 == 'i')
            sec['y' >> 6] |= 1ULL << ('y' & 63);
    }
    cache_clear(t);
    return 0;
}

/* Whether a word could match a key, by its first two bytes (see snippet_terms.first). */
static inline int could_match(const struct snippet_terms *t, const struct tokenize_token *tok)
{
    unsigned s = t->first[(unsigned char)tok->term[0]];
    if (!s)
        return 0;
    unsigned char b1 = tok->len > 1 ? (unsigned char)tok->term[1] : 0;
    return (t->second[s - 1][b1 >> 6] >> (b1 & 63)) & 1;
}

/* The key a term matches by: its stem (a "Z" term is one already). -1 when out of memory. */
static long term_key(const struct snippet_terms *t, const char *term, size_t len, int stemmed,
                     char out[KEY_MAX])
{
    if (stemmed) {
        memcpy(out, term, len);
        out[len] = '\0';
        return (long)len;
    }
    return xc_stem_word(t->stem, term, len, out, KEY_MAX);
}

static int add_term(struct snippet_terms *t, const char *term, size_t len, int wildcard,
                    int excluded)
{
    int stemmed, field;
    if (!strip_prefix(&term, &len, &stemmed, &field))
        return 0;
    if (wildcard)
        return add_key(t, term, len, field, 1, excluded);
    char key[KEY_MAX];
    long kl = term_key(t, term, len, stemmed, key);
    if (kl < 0)
        return -1;
    if (kl == 0)
        return 0;
    return add_key(t, key, (size_t)kl, field, 0, excluded);
}

int snippet_terms_add(struct snippet_terms *t, const char *term, size_t len)
{
    return add_term(t, term, len, 0, 0);
}

/* A word of a phrase, in order (xc_query_walk reports a phrase's words one after another). */
static void add_phrase_word(struct snippet_terms *t, const xc_qterm *q)
{
    const char *term = q->term;
    size_t len = q->len;
    int stemmed, field;
    if (!strip_prefix(&term, &len, &stemmed, &field))
        return;
    size_t idx = q->phrase - 1;
    if (idx >= SNIPPET_MAX_PHRASES || q->phrase_len > SNIPPET_MAX_PHRASE_WORDS)
        return;
    while (t->nphrases <= idx) {
        struct phrase *p = &t->phrases[t->nphrases++];
        memset(p, 0, sizeof *p);
        p->group = -1;
    }
    struct phrase *p = &t->phrases[idx];
    if (p->n != q->phrase_pos)
        return;
    memcpy(p->words[p->n], term, len);
    p->words[p->n][len] = '\0';
    p->lens[p->n] = len;
    if (p->n > 0 && p->field != field)
        p->mixed = 1;
    p->n++;
    p->want = q->phrase_len;
    p->window = q->phrase_window;
    p->near = q->phrase_near;
    p->field = field;
    t->phrase_first[(unsigned char)term[0]] = 1;
    cache_clear(t);
    if (p->n == p->want)
        p->group = t->ngroups++;
}

static void walk_term(const xc_qterm *q, void *ctx)
{
    struct snippet_terms *t = ctx;
    if (q->phrase && !q->excluded && !q->wildcard) {
        add_phrase_word(t, q);
        return;
    }
    if (add_term(t, q->term, q->len, q->wildcard, q->excluded) < 0)
        t->walk_failed = 1;
}

int snippet_terms_from_query(struct snippet_terms *t, const xc_query *q)
{
    if (xc_query_walk(q, walk_term, t) < 0 || t->walk_failed)
        return -1;
    /* A group that came incomplete (too long, or cut by the limits) marks nothing. */
    for (size_t i = 0; i < t->nphrases; i++) {
        struct phrase *p = &t->phrases[i];
        if (p->n != p->want || p->want == 0 || p->mixed || p->window < p->want)
            p->group = -1;
        for (unsigned k = 0; k < p->n; k++) {
            p->cls[k] = (unsigned char)k;
            p->need[k] = 0;
            for (unsigned j = p->n; j-- > 0;) {
                if (p->lens[j] == p->lens[k] && memcmp(p->words[j], p->words[k], p->lens[k]) == 0) {
                    p->cls[k] = (unsigned char)j;
                    p->need[k]++;
                }
            }
        }
        if (p->group >= 0 && p->window > t->max_window)
            t->max_window = p->window;
    }
    return 0;
}

/* ---- matching --------------------------------------------------------------------- */

struct match {
    size_t start, end; /* byte range of the word */
    int group;
};

/* A word of a positional group, seen at position pos. */
struct occurrence {
    unsigned long pos;
    size_t start, end;
    unsigned words; /* the group's words it is (a bit set) */
    unsigned cls;   /* the first of them */
    int marked;
};

/* The state of one pass: where matches go, and the positional groups' occurrences. */
struct pass {
    const struct snippet_terms *t;
    int in_title;
    size_t base; /* offset of the tokenized text within the whole text */
    struct match *m; /* local, or malloc'd once there are more */
    size_t nm, cap;
    int oom;
    unsigned long npos; /* positional words read */
    unsigned nocc[SNIPPET_MAX_PHRASES];
    /* scan control */
    size_t stop_before; /* stop at a word starting at or after this offset... */
    unsigned tail;      /* ...once this many more positional words have been read */
    size_t target;      /* window length, for the early stop (0: no early stop) */
    size_t resume;      /* where to go on reading after a stop ((size_t)-1: unknown) */
    size_t stopped_at;  /* the offset the stop happened at (the next word's start) */
    int stopped;
    struct match local[LOCAL_MATCHES]; /* pass_init clears what comes before it */
    struct occurrence occ[SNIPPET_MAX_PHRASES][GROUP_OCCURRENCES]; /* nocc[i] of each used */
};

/* Which group tok matches (-1 none) in body text, group[0], and in a title, group[1] (title
 * terms match there too), with one stemming for both. Returns 0, or -1 when out of memory.
 * An excluded term wins. */
static int match_token(const struct snippet_terms *t, const struct tokenize_token *tok,
                       int group[2])
{
    group[0] = group[1] = -1;
    if (!t->first[(unsigned char)tok->term[0]])
        return 0;
    char stem[KEY_MAX];
    long slen = -1;
    int excluded[2] = {0, 0};
    for (size_t i = 0; i < t->nkeys; i++) {
        const struct key *k = &t->keys[i];
        if (excluded[1] && (excluded[0] || k->field == FIELD_TITLE))
            continue;
        if (k->len > tok->len || k->text[0] != tok->term[0])
            continue;
        int hit;
        if (k->wildcard) {
            hit = memcmp(tok->term, k->text, k->len) == 0;
        } else {
            /* The English stemmer rewrites a word's ending only: a stem of n bytes keeps
             * the word's first n - 2 (a rewritten suffix such as "biliti" -> "ble" differs
             * from the word's in its last two at most; the whole-word exceptions, "dying"
             * -> "die", "skies" -> "sky", "ugly" -> "ugli", differ there too). And it keeps
             * the first two but for dying, lying and tying ('y' -> 'i'). Compare those before
             * paying for stemming: most words that share a first byte with a stem fail. */
            if (k->len > 1 && k->text[1] != tok->term[1] &&
                !(tok->term[1] == 'y' && k->text[1] == 'i'))
                continue;
            if (k->len > 4 && memcmp(k->text + 2, tok->term + 2, k->len - 4) != 0)
                continue;
            if (slen < 0) {
                slen = xc_stem_word(t->stem, tok->term, tok->len, stem, sizeof stem);
                if (slen < 0)
                    return -1;
            }
            hit = (size_t)slen == k->len && memcmp(stem, k->text, k->len) == 0;
        }
        if (!hit)
            continue;
        for (int f = k->field == FIELD_TITLE; f < 2; f++) {
            if (excluded[f])
                continue;
            if (k->excluded) {
                excluded[f] = 1;
                group[f] = -1;
            } else if (group[f] < 0) {
                group[f] = k->group;
            }
        }
    }
    return 0;
}

static void pass_init(struct pass *ps, const struct snippet_terms *t, int in_title)
{
    memset(ps, 0, offsetof(struct pass, local));
    ps->t = t;
    ps->in_title = in_title;
    ps->m = ps->local;
    ps->cap = LOCAL_MATCHES;
    ps->resume = (size_t)-1;
}

static void pass_free(struct pass *ps)
{
    if (ps->m != ps->local)
        free(ps->m);
}

static void add_match(struct pass *ps, size_t start, size_t end, int group)
{
    if (ps->nm >= MAX_MATCHES)
        return;
    if (ps->nm == ps->cap) {
        size_t cap = ps->cap * 2 < MAX_MATCHES ? ps->cap * 2 : MAX_MATCHES;
        struct match *m = malloc(cap * sizeof *m);
        if (!m) {
            ps->oom = 1;
            return;
        }
        memcpy(m, ps->m, ps->nm * sizeof *m);
        pass_free(ps);
        ps->m = m;
        ps->cap = cap;
    }
    ps->m[ps->nm].start = start;
    ps->m[ps->nm].end = end;
    ps->m[ps->nm].group = group;
    ps->nm++;
}

/* Marks the occurrences of an in-order group (phrase, ADJ) that take part in a match whose
 * last word is the newest occurrence, o[n-1]: a chain of occurrences, one per word in the
 * words' order, at increasing positions (all of o[] lie within the window of o[n-1]). */
static void match_in_order(struct pass *ps, const struct phrase *p, struct occurrence *o, size_t n)
{
    unsigned last = 1u << (p->want - 1);
    unsigned fwd[GROUP_OCCURRENCES], reach = 0;
    /* fwd[i]: the words o[i] can be with words 0.. before it in order. */
    for (size_t i = 0; i < n; i++) {
        fwd[i] = o[i].words & ((reach << 1) | 1u);
        reach |= fwd[i];
    }
    if (!(fwd[n - 1] & last))
        return;
    /* Backwards: the words o[i] can be with the words after it, up to o[n-1] as the last. */
    unsigned back = last;
    for (size_t i = n; i-- > 0;) {
        unsigned b = i == n - 1 ? last : o[i].words & (back >> 1);
        back |= b;
        if ((fwd[i] & b) && !o[i].marked) {
            o[i].marked = 1;
            add_match(ps, o[i].start, o[i].end, p->group);
        }
    }
}

/* Marks the occurrences of a NEAR group that take part in a match including the newest
 * occurrence, o[n-1]: every word on a distinct position within the window. Words equal to
 * each other form a class that needs as many occurrences as it has words. */
static void match_near(struct pass *ps, const struct phrase *p, struct occurrence *o, size_t n)
{
    unsigned have[SNIPPET_MAX_PHRASE_WORDS] = {0};
    for (size_t i = 0; i < n; i++)
        have[o[i].cls]++;
    for (unsigned k = 0; k < p->want; k++) {
        if (p->cls[k] == k && have[k] < p->need[k])
            return;
    }
    /* The newest occurrence must be in the match: another of its class takes part only if
     * the class has room for two. */
    unsigned newest = o[n - 1].cls;
    int room = p->need[newest] > 1;
    for (size_t i = 0; i < n; i++) {
        if (o[i].marked || (i < n - 1 && o[i].cls == newest && !room))
            continue;
        o[i].marked = 1;
        add_match(ps, o[i].start, o[i].end, p->group);
    }
}

/* Counts a positional word; for each group it is a word of, remembers the occurrence,
 * forgets those too far back to share a window with a later word, and marks the matches
 * it completes. */
static void track_phrases(struct pass *ps, const struct tokenize_token *tok, size_t start,
                          size_t end)
{
    const struct snippet_terms *t = ps->t;
    unsigned long pos = ps->npos++;
    if (!t->phrase_first[(unsigned char)tok->term[0]])
        return;
    for (size_t i = 0; i < t->nphrases; i++) {
        const struct phrase *p = &t->phrases[i];
        if (p->group < 0 || (p->field != FIELD_ANY && !ps->in_title))
            continue;
        unsigned words = 0, cls = 0;
        for (unsigned k = p->want; k-- > 0;) {
            if (p->lens[k] == tok->len && memcmp(p->words[k], tok->term, tok->len) == 0) {
                words |= 1u << k;
                cls = k;
            }
        }
        if (!words)
            continue;
        struct occurrence *o = ps->occ[i];
        size_t n = ps->nocc[i], drop = 0;
        while (drop < n && (o[drop].pos + p->window <= pos || n - drop >= GROUP_OCCURRENCES))
            drop++;
        if (drop > 0) {
            memmove(o, o + drop, (n - drop) * sizeof *o);
            n -= drop;
        }
        o[n] = (struct occurrence){pos, start, end, words, cls, 0};
        n++;
        ps->nocc[i] = (unsigned)n;
        if (p->near)
            match_near(ps, p, o, n);
        else
            match_in_order(ps, p, o, n);
    }
}

/* Distinct groups among the matches that end within target bytes of the last one's end. */
static int distinct_tail(const struct pass *ps, size_t target)
{
    unsigned long long seen = 0;
    int distinct = 0;
    size_t last_end = ps->m[ps->nm - 1].end;
    for (size_t j = ps->nm; j-- > 0;) {
        if (ps->m[j].start + target < last_end)
            break;
        unsigned long long bit = 1ULL << (ps->m[j].group & 63);
        if (!(seen & bit)) {
            seen |= bit;
            distinct++;
        }
    }
    return distinct;
}

static int on_token(const struct tokenize_token *tok, void *ctx)
{
    struct pass *ps = ctx;
    size_t start = ps->base + tok->start, end = ps->base + tok->end;
    if (start >= ps->stop_before) {
        /* Past the window: only positional groups, for matches that end here. */
        if (ps->tail == 0) {
            ps->stopped = 1;
            ps->stopped_at = start;
            return 1;
        }
        if (tok->positional) {
            ps->tail--;
            track_phrases(ps, tok, start, end);
        }
        return ps->oom || ps->nm >= MAX_MATCHES;
    }
    size_t before = ps->nm;
    int g;
    if (!could_match(ps->t, tok)) {
        g = -1;
    } else if (tok->len < CACHE_WORD) {
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < tok->len; i++)
            h = (h ^ (unsigned char)tok->term[i]) * 16777619u;
        struct match_cache *mc = ps->t->cache;
        size_t slot = h % CACHE_SLOTS;
        if (mc->len[slot] == tok->len && memcmp(mc->word[slot], tok->term, tok->len) == 0) {
            g = mc->group[slot][ps->in_title];
        } else if (match_token(ps->t, tok, mc->group[slot]) < 0) {
            mc->len[slot] = 0;
            g = -2;
        } else {
            mc->len[slot] = (unsigned char)tok->len;
            memcpy(mc->word[slot], tok->term, tok->len);
            g = mc->group[slot][ps->in_title];
        }
    } else {
        int both[2];
        g = match_token(ps->t, tok, both) < 0 ? -2 : both[ps->in_title];
    }
    if (g == -2) {
        ps->oom = 1;
        return 1;
    }
    if (g >= 0)
        add_match(ps, start, end, g);
    if (tok->positional && ps->t->nphrases > 0)
        track_phrases(ps, tok, start, end);
    if (tok->resume != (size_t)-1)
        ps->resume = ps->base + tok->resume;
    /* A window already holding every query term cannot be beaten: stop scanning. */
    if (ps->target && ps->nm > before && tok->resume != (size_t)-1 &&
        distinct_tail(ps, ps->target) >= ps->t->ngroups) {
        ps->stopped = 1;
        ps->stopped_at = ps->resume;
        return 1;
    }
    return ps->nm >= MAX_MATCHES;
}

/* Reads text[at, len) into ps (up to ps->stop_before). Words that cannot match are left
 * out by the tokenizer itself, unless phrases are tracked: those need every word's
 * position. */
static void pass_read(struct pass *ps, const char *text, size_t len, size_t at)
{
    struct tokenize_scan scan;
    scan.first = ps->t->nphrases > 0 ? NULL : ps->t->first;
    scan.second = (const uint64_t(*)[4])ps->t->second;
    size_t stop = ps->stop_before;
    if (ps->tail > 0 && stop != (size_t)-1)
        stop = stop < len ? stop + (SNIPPET_TAIL_BYTES < len - stop ? SNIPPET_TAIL_BYTES : len - stop)
                          : stop;
    scan.limit = stop == (size_t)-1 ? (size_t)-1 : stop > at ? stop - at : 0;
    ps->base = at;
    if (tokenize_text_scan(text + at, len - at, &scan, on_token, ps) == 2) {
        ps->stopped = 1;
        ps->stopped_at = at + scan.limit;
    }
}

static int match_cmp(const void *a, const void *b)
{
    const struct match *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Sorts the matches and drops exact repeats (a phrase word also matched on its own). */
static void matches_sort(struct pass *ps)
{
    if (ps->nm > 1)
        qsort(ps->m, ps->nm, sizeof *ps->m, match_cmp);
    size_t o = 0;
    for (size_t i = 0; i < ps->nm; i++) {
        if (o > 0 && ps->m[o - 1].start == ps->m[i].start && ps->m[o - 1].end == ps->m[i].end)
            continue;
        ps->m[o++] = ps->m[i];
    }
    ps->nm = o;
}

/* ---- output ------------------------------------------------------------------------ */

/* Appends text HTML-escaped, folding whitespace runs to one space. Bytes that need
 * neither are copied a run at a time. */
static void put_escaped(struct strbuf *sb, const char *s, size_t len, int *last_space)
{
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        const char *rep;
        switch (c) {
        case '\n':
        case '\r':
        case '\t':
        case ' ':
            if (!*last_space && c == ' ') {
                *last_space = 1;
                continue; /* one plain space: part of the run */
            }
            rep = *last_space ? "" : " ";
            *last_space = 1;
            break;
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: *last_space = 0; continue;
        }
        sb_append(sb, s + run, i - run);
        sb_puts(sb, rep);
        run = i + 1;
        if (rep[0] != ' ' && rep[0] != '\0')
            *last_space = 0;
    }
    sb_append(sb, s + run, len - run);
}

/* Appends text[from, to) with the matches inside it marked; overlapping matches (a CJK
 * bigram and its unigrams) make one marked span. Returns the number of spans marked. */
static size_t put_marked(struct strbuf *sb, const char *text, size_t from, size_t to,
                         const struct match *m, size_t nm, const char *open, const char *close,
                         int *last_space)
{
    size_t pos = from, spans = 0;
    for (size_t k = 0; k < nm; k++) {
        if (m[k].start < pos || m[k].end > to)
            continue;
        size_t start = m[k].start, end = m[k].end;
        while (k + 1 < nm && m[k + 1].start < end) {
            k++;
            if (m[k].end > end && m[k].end <= to)
                end = m[k].end;
        }
        put_escaped(sb, text + pos, start - pos, last_space);
        sb_puts(sb, open);
        put_escaped(sb, text + start, end - start, last_space);
        sb_puts(sb, close);
        pos = end;
        spans++;
    }
    put_escaped(sb, text + pos, to - pos, last_space);
    return spans;
}

/* Moves pos back to the start of the word it is in (or forward past a partial UTF-8). */
static size_t word_start(const char *text, size_t pos)
{
    while (pos > 0 && ((unsigned char)text[pos] & 0xC0) == 0x80)
        pos--;
    size_t p = pos;
    while (p > 0 && pos - p < 40) {
        unsigned char c = (unsigned char)text[p - 1];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
            return p;
        p--;
    }
    return p == 0 ? 0 : pos;
}

/* Moves pos forward to the end of the word it is in. */
static size_t word_end(const char *text, size_t len, size_t pos)
{
    size_t limit = pos + 40 < len ? pos + 40 : len;
    while (pos < limit) {
        unsigned char c = (unsigned char)text[pos];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
            return pos;
        pos++;
    }
    while (pos < len && ((unsigned char)text[pos] & 0xC0) == 0x80)
        pos++;
    return pos;
}

/* Trims the trailing space whitespace folding may leave; the result, or NULL on failure. */
static char *sb_finish(struct strbuf *sb)
{
    if (sb->failed) {
        sb_free(sb);
        return NULL;
    }
    if (!sb->buf)
        return calloc(1, 1);
    while (sb->len > 0 && sb->buf[sb->len - 1] == ' ')
        sb->buf[--sb->len] = '\0';
    return sb->buf;
}

/* snippet_make, snippet_make_lead (more not NULL) and snippet_make_from (scan_from > 0). */
static char *make(const struct snippet_terms *t, const char *text, size_t len, int cut,
                  size_t scan_from, size_t target, const char *open, const char *close, int *more,
                  size_t *more_from)
{
    if (more)
        *more = 0;
    if (target == 0)
        target = SNIPPET_DEFAULT_BYTES;
    struct pass ps;
    pass_init(&ps, t, 0);
    ps.stop_before = scan_from > 0 ? SNIPPET_SCAN_BYTES : SNIPPET_LEAD_BYTES;
    ps.target = target;
    if (t->ngroups > 0)
        pass_read(&ps, text, len, scan_from);
    if (!ps.oom && ps.nm == 0 && ps.stopped && scan_from == 0) {
        /* The lead holds no match: seek the window further, up to the scan bound. */
        if (cut) {
            /* From past the last word the lead's scan reported (a word it left out cannot
             * match); from the start when phrases are tracked, whose occurrences in the
             * lead a later word may complete. */
            *more_from = t->nphrases == 0 && ps.resume != (size_t)-1 ? ps.resume : 0;
            pass_free(&ps);
            *more = 1;
            return NULL;
        }
        size_t at = ps.resume;
        if (at == (size_t)-1) {
            /* No point to go on from (no word reported, or inside CJK text): again from
             * the start, with the phrases' occurrences forgotten. */
            pass_free(&ps);
            pass_init(&ps, t, 0);
            ps.target = target;
            at = 0;
        }
        ps.stop_before = SNIPPET_SCAN_BYTES;
        ps.stopped = 0;
        pass_read(&ps, text, len, at);
    }
    if (ps.oom) {
        pass_free(&ps);
        return NULL;
    }
    matches_sort(&ps);
    const struct match *m = ps.m;
    size_t nm = ps.nm;

    /* Best window: the most distinct terms, then the most matches, earliest first. */
    size_t best_i = 0, best_j = 0;
    int best_score = -1;
    for (size_t i = 0; i < nm; i++) {
        unsigned long long seen = 0;
        int distinct = 0, count = 0;
        size_t j = i;
        while (j < nm && m[j].end - m[i].start <= target) {
            unsigned long long bit = 1ULL << (m[j].group & 63);
            if (!(seen & bit)) {
                seen |= bit;
                distinct++;
            }
            count++;
            j++;
        }
        int score = distinct * 1000 + count;
        if (score > best_score) {
            best_score = score;
            best_i = i;
            best_j = j;
        }
    }

    size_t from, to;
    if (nm == 0) {
        from = 0;
        to = len < target ? len : word_end(text, len, target);
    } else {
        /* Centre the matched span in the window, with some context before it. */
        size_t span = m[best_j - 1].end - m[best_i].start;
        size_t before = span < target ? (target - span) / 3 : 0;
        from = m[best_i].start > before ? word_start(text, m[best_i].start - before) : 0;
        to = from + target < len ? word_end(text, len, from + target) : len;
        if (to < m[best_j - 1].end)
            to = m[best_j - 1].end;
    }

    /* Read the rest of the window when the scan stopped inside it, so that every
     * occurrence in it is marked; with positional groups, read on past it by the widest
     * window, for the matches that start in the window and end after it. */
    unsigned tail = t->max_window > 1 ? t->max_window - 1 : 0;
    if (ps.stopped && t->ngroups > 0 && (ps.stopped_at < to || tail > 0)) {
        size_t at = ps.resume != (size_t)-1 ? ps.resume : ps.stopped_at;
        ps.stop_before = to;
        ps.tail = tail;
        ps.target = 0;
        ps.stopped = 0;
        pass_read(&ps, text, len, at);
        if (ps.oom) {
            pass_free(&ps);
            return NULL;
        }
        matches_sort(&ps);
        m = ps.m;
        nm = ps.nm;
    }

    struct strbuf sb;
    sb_init(&sb);
    int last_space = 1;
    if (from > 0)
        sb_puts(&sb, "… ");
    put_marked(&sb, text, from, to, m, nm, open, close, &last_space);
    if (to < len)
        sb_puts(&sb, " …");
    pass_free(&ps);
    return sb_finish(&sb);
}

char *snippet_make(const struct snippet_terms *t, const char *text, size_t len, size_t target,
                   const char *open, const char *close)
{
    return make(t, text, len, 0, 0, target, open, close, NULL, NULL);
}

char *snippet_make_lead(const struct snippet_terms *t, const char *text, size_t len, int cut,
                        size_t target, const char *open, const char *close, int *more,
                        size_t *from)
{
    return make(t, text, len, cut, 0, target, open, close, more, from);
}

char *snippet_make_from(const struct snippet_terms *t, const char *text, size_t len,
                        size_t from, size_t target, const char *open, const char *close)
{
    return make(t, text, len, 0, from < len ? from : len, target, open, close, NULL, NULL);
}

int snippet_mark_title(const struct snippet_terms *t, const char *title, size_t len,
                       const char *open, const char *close, char **out)
{
    *out = NULL;
    if (t->ngroups == 0 || len == 0)
        return 0;
    struct pass ps;
    pass_init(&ps, t, 1);
    ps.stop_before = (size_t)-1;
    pass_read(&ps, title, len, 0);
    if (ps.oom) {
        pass_free(&ps);
        return -1;
    }
    if (ps.nm == 0) {
        pass_free(&ps);
        return 0;
    }
    matches_sort(&ps);
    struct strbuf sb;
    sb_init(&sb);
    int last_space = 1;
    put_marked(&sb, title, 0, len, ps.m, ps.nm, open, close, &last_space);
    pass_free(&ps);
    *out = sb_finish(&sb);
    return *out ? 0 : -1;
}
