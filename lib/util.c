/*
 * util.c -- small helpers shared by the library and the programs (see util.h).
 */
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void sb_init(struct strbuf *sb)
{
    memset(sb, 0, sizeof *sb);
}

void sb_free(struct strbuf *sb)
{
    free(sb->buf);
    sb_init(sb);
}

/* Makes room for extra more bytes plus the terminating NUL. */
static int sb_grow(struct strbuf *sb, size_t extra)
{
    if (sb->failed)
        return -1;
    if (extra > SIZE_MAX - 1 - sb->len) {
        sb->failed = 1;
        return -1;
    }
    if (sb->len + extra + 1 <= sb->cap)
        return 0;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            sb->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(sb->buf, cap);
    if (!p) {
        sb->failed = 1;
        return -1;
    }
    sb->buf = p;
    sb->cap = cap;
    return 0;
}

int sb_reserve(struct strbuf *sb, size_t extra)
{
    return sb_grow(sb, extra);
}

void sb_append(struct strbuf *sb, const char *s, size_t len)
{
    if (sb_grow(sb, len) < 0)
        return;
    if (len > 0) /* s may be NULL when len is 0 */
        memcpy(sb->buf + sb->len, s, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s)
{
    sb_append(sb, s, strlen(s));
}

void sb_putc(struct strbuf *sb, char c)
{
    sb_append(sb, &c, 1);
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        /* Text missing from the middle of a buffer is as wrong as no buffer. */
        sb->failed = 1;
        return;
    }
    if (sb_grow(sb, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

const char *sb_cstr(struct strbuf *sb)
{
    return sb->buf && !sb->failed ? sb->buf : "";
}

char *sb_take(struct strbuf *sb, size_t *len)
{
    char *p;

    if (sb_grow(sb, 0) < 0) {
        sb_free(sb);
        return NULL;
    }
    p = sb->buf;
    p[sb->len] = '\0';
    if (len != NULL)
        *len = sb->len;
    sb_init(sb);
    return p;
}

/* ---- the hash table ------------------------------------------------------------------ */

/* Home slot of key in a table of cap slots: the key mixed (splitmix64's finaliser), so
 * aligned pointers and runs of consecutive numbers do not pile up in one cluster. */
static size_t hashmap_home(uint64_t key, size_t cap)
{
    key ^= key >> 30;
    key *= 0xBF58476D1CE4E5B9ULL;
    key ^= key >> 27;
    key *= 0x94D049BB133111EBULL;
    key ^= key >> 31;
    return (size_t)key & (cap - 1);
}

/* The slot holding key (non-zero), or the empty slot where it would go. */
static size_t hashmap_slot(const struct hashmap *m, uint64_t key)
{
    size_t i = hashmap_home(key, m->cap);
    while (m->keys[i] != 0 && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

/* Moves the entries into new arrays of cap slots. */
static int hashmap_resize(struct hashmap *m, size_t cap)
{
    assert(cap && (cap & (cap - 1)) == 0);
    uint64_t *keys = calloc(cap, sizeof *keys), *vals = NULL;
    if (!keys || (!m->keys_only && !(vals = calloc(cap, sizeof *vals)))) {
        free(keys);
        return -1;
    }
    struct hashmap old = *m;
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++) {
        if (old.keys[i] == 0)
            continue;
        size_t j = hashmap_slot(m, old.keys[i]);
        keys[j] = old.keys[i];
        if (vals && old.vals)
            vals[j] = old.vals[i];
    }
    free(old.keys);
    free(old.vals);
    return 0;
}

int hashmap_reserve(struct hashmap *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 16;
    while (cap / 2 < n) {
        if (cap > SIZE_MAX / 4)
            return -1;
        cap *= 2;
    }
    return cap == m->cap ? 0 : hashmap_resize(m, cap);
}

int hashmap_put(struct hashmap *m, uint64_t key, uint64_t val)
{
    if (key == 0) {
        m->n += !m->has_zero;
        m->has_zero = 1;
        m->zero_val = val;
        return 0;
    }
    assert(val == 0 || !m->keys_only);
    size_t i = m->cap ? hashmap_slot(m, key) : 0;
    int present = m->cap && m->keys[i] == key;
    if (!present && hashmap_reserve(m, m->n + 1) < 0)
        return -1;
    i = hashmap_slot(m, key); /* the arrays may have moved */
    if (!present) {
        m->keys[i] = key;
        m->n++;
    }
    if (m->vals)
        m->vals[i] = val;
    return 0;
}

int hashmap_get(const struct hashmap *m, uint64_t key, uint64_t *val)
{
    if (key == 0) {
        if (m->has_zero && val)
            *val = m->zero_val;
        return m->has_zero;
    }
    if (!m->cap)
        return 0;
    size_t i = hashmap_slot(m, key);
    if (m->keys[i] != key)
        return 0;
    if (val)
        *val = m->vals ? m->vals[i] : 0;
    return 1;
}

int hashmap_remove(struct hashmap *m, uint64_t key)
{
    if (key == 0) {
        int had = m->has_zero;
        m->n -= (size_t)had;
        m->has_zero = 0;
        return had;
    }
    if (!m->cap)
        return 0;
    size_t mask = m->cap - 1, i = hashmap_slot(m, key);
    if (m->keys[i] != key)
        return 0;
    m->keys[i] = 0;
    m->n--;
    /* Later entries of the cluster move back into the hole unless their home slot lies
     * cyclically in (i, j]: then a lookup from their home still reaches them. */
    for (size_t j = (i + 1) & mask; m->keys[j] != 0; j = (j + 1) & mask) {
        size_t home = hashmap_home(m->keys[j], m->cap);
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            m->keys[i] = m->keys[j];
            if (m->vals)
                m->vals[i] = m->vals[j];
            m->keys[j] = 0;
            i = j;
        }
    }
    return 1;
}

int hashmap_next(const struct hashmap *m, size_t *pos, uint64_t *key, uint64_t *val)
{
    /* Position 0 is key 0; position p > 0 is slot p - 1. */
    if (*pos == 0) {
        *pos = 1;
        if (m->has_zero) {
            if (key)
                *key = 0;
            if (val)
                *val = m->zero_val;
            return 1;
        }
    }
    for (size_t i = *pos - 1; i < m->cap; i++) {
        if (m->keys[i] != 0) {
            *pos = i + 2;
            if (key)
                *key = m->keys[i];
            if (val)
                *val = m->vals ? m->vals[i] : 0;
            return 1;
        }
    }
    *pos = m->cap + 1;
    return 0;
}

void hashmap_free(struct hashmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

int hashset_add(struct hashset *s, uint64_t h)
{
    s->map.keys_only = 1; /* a zero-initialised set is a table without values */
    return hashmap_put(&s->map, h, 0);
}

int hashset_has(const struct hashset *s, uint64_t h)
{
    return hashmap_get(&s->map, h, NULL);
}

void hashset_free(struct hashset *s)
{
    hashmap_free(&s->map);
}

uint64_t util_hash64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void util_hex64(uint64_t h, char out[17])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[h & 15];
        h >>= 4;
    }
    out[16] = '\0';
}

double util_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int strlist_add(struct strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

int docids_collect(unsigned docid, void *ctx)
{
    struct docids *d = ctx;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        unsigned *v = realloc(d->v, cap * sizeof *v);
        if (!v) {
            d->oom = 1;
            return 1;
        }
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n++] = docid;
    return 0;
}

void docids_free(struct docids *d)
{
    free(d->v);
    memset(d, 0, sizeof *d);
}

int util_cmp_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

int util_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int util_read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t got = read(fd, p, len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        len -= (size_t)got;
    }
    return 0;
}

/* ASCII for U+00C0..U+017F; "" keeps the character (the multiplication and division
 * signs). */
static const char *const latin_fold[192] = {
    "A", "A", "A", "A", "A", "A", "AE", "C",
    "E", "E", "E", "E", "I", "I", "I", "I",
    "D", "N", "O", "O", "O", "O", "O", "",
    "O", "U", "U", "U", "U", "Y", "TH", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c",
    "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",
    "o", "u", "u", "u", "u", "y", "th", "y",
    "A", "a", "A", "a", "A", "a", "C", "c",
    "C", "c", "C", "c", "C", "c", "D", "d",
    "D", "d", "E", "e", "E", "e", "E", "e",
    "E", "e", "E", "e", "G", "g", "G", "g",
    "G", "g", "G", "g", "H", "h", "H", "h",
    "I", "i", "I", "i", "I", "i", "I", "i",
    "I", "i", "IJ", "ij", "J", "j", "K", "k",
    "k", "L", "l", "L", "l", "L", "l", "L",
    "l", "L", "l", "N", "n", "N", "n", "N",
    "n", "n", "N", "n", "O", "o", "O", "o",
    "O", "o", "OE", "oe", "R", "r", "R", "r",
    "R", "r", "S", "s", "S", "s", "S", "s",
    "S", "s", "T", "t", "T", "t", "T", "t",
    "U", "u", "U", "u", "U", "u", "U", "u",
    "U", "u", "U", "u", "W", "w", "Y", "y",
    "Y", "Z", "z", "Z", "z", "Z", "z", "s",
};

/* True when byte pair (a, b) starts a character util_fold_latin changes. */
static int foldable(unsigned char a, unsigned char b)
{
    unsigned cp = ((unsigned)(a & 0x1F) << 6) | (b & 0x3F);
    if (cp >= 0xC0 && cp < 0x180)
        return latin_fold[cp - 0xC0][0] != '\0';
    return cp >= 0x300 && cp <= 0x36F;
}

const char *util_fold_char(unsigned cp)
{
    if (cp >= 0xC0 && cp < 0x180)
        return latin_fold[cp - 0xC0][0] != '\0' ? latin_fold[cp - 0xC0] : NULL;
    if (cp >= 0x300 && cp <= 0x36F)
        return "";
    return NULL;
}

int util_fold_latin(const char *s, size_t len, char **res, size_t *outlen)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    *res = NULL;
    /* Fast path: most text has nothing to fold. */
    for (; i + 1 < len; i++) {
        if (p[i] >= 0xC3 && p[i] <= 0xCD && (p[i + 1] & 0xC0) == 0x80 && foldable(p[i], p[i + 1]))
            break;
    }
    if (i + 1 >= len)
        return 0;
    /* Each folded character (2 bytes) becomes at most 2 bytes. */
    char *out = malloc(len + 1);
    if (!out)
        return -1;
    memcpy(out, s, i);
    size_t o = i;
    while (i < len) {
        if (i + 1 < len && p[i] >= 0xC3 && p[i] <= 0xCD && (p[i + 1] & 0xC0) == 0x80 &&
            foldable(p[i], p[i + 1])) {
            unsigned cp = ((unsigned)(p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F);
            if (cp < 0x180) {
                const char *r = latin_fold[cp - 0xC0];
                size_t rl = strlen(r);
                memcpy(out + o, r, rl);
                o += rl;
            }
            i += 2; /* combining marks are dropped */
            continue;
        }
        out[o++] = (char)p[i++];
    }
    out[o] = '\0';
    *outlen = o;
    *res = out;
    return 1;
}

size_t util_utf8_len(const unsigned char *s, size_t n)
{
    assert(n > 0);
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t k;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return k;
}

/* True when s (len bytes) is valid UTF-8 with no NUL. */
int util_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (*p == 0)
            return 0;
        size_t k = util_utf8_len(p, (size_t)(end - p));
        if (k == 0)
            return 0;
        p += k;
    }
    return 1;
}

/* ---- JSON parsing ------------------------------------------------------------------- */

/* jansson's allocator as it was before ours was put in front of it. */
static json_malloc_t json_next_malloc;
static json_free_t json_next_free;
static pthread_once_t json_hook_once = PTHREAD_ONCE_INIT;

/* The parse in progress on this thread: where to jump when an allocation fails, and the
 * blocks jansson allocated during it and still holds (a set of pointers), to be freed
 * after the jump. Thread-local rather than on the stack: it changes between setjmp and
 * longjmp. */
struct json_parse {
    jmp_buf out;
    struct hashmap held; /* (uintptr_t) block -> 0 */
};
static _Thread_local struct json_parse json_parse;
static _Thread_local int json_parsing;

/* Records p as held by the parse. Returns 0, or -1 when out of memory. */
static int json_note(struct json_parse *jp, void *p)
{
    return hashmap_put(&jp->held, (uint64_t)(uintptr_t)p, 0);
}

static void json_forget(struct json_parse *jp, const void *p)
{
    hashmap_remove(&jp->held, (uint64_t)(uintptr_t)p);
}

/* During a parse, a failed allocation ends it at once: jansson never runs on after one. */
static void *json_alloc(size_t n)
{
    void *p = json_next_malloc(n);
    if (json_parsing && (!p || json_note(&json_parse, p) < 0)) {
        json_next_free(p);
        longjmp(json_parse.out, 1);
    }
    return p;
}

static void json_release(void *p)
{
    if (p && json_parsing)
        json_forget(&json_parse, p);
    json_next_free(p);
}

/* Blocks allocated before the hook went in (or on another thread while it did) are freed
 * by json_release with the allocator they came from. */
static void json_hook(void)
{
    json_get_alloc_funcs(&json_next_malloc, &json_next_free);
    json_set_alloc_funcs(json_alloc, json_release);
}

json_t *util_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *jerr, int *oom)
{
    pthread_once(&json_hook_once, json_hook);
    struct json_parse *jp = &json_parse;
    json_t *root = NULL;
    memset(&jp->held, 0, sizeof jp->held);
    jp->held.keys_only = 1;
    *oom = 0;
    if (setjmp(jp->out) == 0) {
        json_parsing = 1;
        root = json_loadb(buf, len, flags, jerr);
        json_parsing = 0;
    } else {
        /* Jumped out of jansson: what the parse held is ours to free. */
        json_parsing = 0;
        uint64_t block;
        for (size_t pos = 0; hashmap_next(&jp->held, &pos, &block, NULL);)
            json_next_free((void *)(uintptr_t)block);
        root = NULL;
        *oom = 1;
        if (jerr)
            snprintf(jerr->text, sizeof jerr->text, "out of memory");
    }
    hashmap_free(&jp->held);
    return root;
}
