/*
 * util.c -- small helpers shared by the library and the programs (see util.h).
 */
#include "util.h"

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

int hashset_add(struct hashset *s, uint64_t h)
{
    if (h == 0)
        h = 1; /* 0 marks an empty slot */
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint64_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < s->cap; i++) {
            uint64_t v = s->slots[i];
            if (!v)
                continue;
            size_t j = v & (cap - 1);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = v;
        }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t j = h & (s->cap - 1);
    while (s->slots[j]) {
        if (s->slots[j] == h)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slots[j] = h;
    s->n++;
    return 0;
}

int hashset_has(const struct hashset *s, uint64_t h)
{
    if (h == 0)
        h = 1;
    if (!s->cap)
        return 0;
    size_t j = h & (s->cap - 1);
    while (s->slots[j]) {
        if (s->slots[j] == h)
            return 1;
        j = (j + 1) & (s->cap - 1);
    }
    return 0;
}

void hashset_free(struct hashset *s)
{
    free(s->slots);
    memset(s, 0, sizeof *s);
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

/* True when s (len bytes) is valid UTF-8 with no NUL. */
int util_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - p) < n)
            return 0;
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        p += n;
    }
    return 1;
}

/* ---- JSON parsing ------------------------------------------------------------------- */

/* jansson's allocator as it was before ours was put in front of it. */
static json_malloc_t json_next_malloc;
static json_free_t json_next_free;
static pthread_once_t json_hook_once = PTHREAD_ONCE_INIT;

/* The parse in progress on this thread: where to jump when an allocation fails, and the
 * blocks jansson allocated during it and still holds (an open-addressing set), to be
 * freed after the jump. Thread-local rather than on the stack: it changes between setjmp
 * and longjmp. */
struct json_parse {
    jmp_buf out;
    void **slot; /* NULL: empty; JSON_GONE: a freed block's slot */
    size_t cap, used, live;
};
static _Thread_local struct json_parse json_parse;
static _Thread_local int json_parsing;
static char json_gone_mark;
#define JSON_GONE ((void *)&json_gone_mark)

static size_t json_slot_of(const void *p, size_t cap)
{
    return (size_t)(((uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
}

static void json_slot_put(void **slot, size_t cap, void *p)
{
    size_t i = json_slot_of(p, cap);
    while (slot[i] && slot[i] != JSON_GONE)
        i = (i + 1) & (cap - 1);
    slot[i] = p;
}

/* Records p as held by the parse. Returns 0, or -1 when out of memory. */
static int json_note(struct json_parse *jp, void *p)
{
    if ((jp->used + 1) * 4 > jp->cap * 3) {
        size_t cap = 64;
        while (cap < (jp->live + 1) * 4)
            cap *= 2;
        void **slot = calloc(cap, sizeof *slot);
        if (!slot)
            return -1;
        for (size_t i = 0; i < jp->cap; i++) {
            if (jp->slot[i] && jp->slot[i] != JSON_GONE)
                json_slot_put(slot, cap, jp->slot[i]);
        }
        free(jp->slot);
        jp->slot = slot;
        jp->cap = cap;
        jp->used = jp->live;
    }
    size_t i = json_slot_of(p, jp->cap);
    while (jp->slot[i] && jp->slot[i] != JSON_GONE)
        i = (i + 1) & (jp->cap - 1);
    if (!jp->slot[i])
        jp->used++;
    jp->slot[i] = p;
    jp->live++;
    return 0;
}

static void json_forget(struct json_parse *jp, const void *p)
{
    if (!jp->cap)
        return;
    for (size_t i = json_slot_of(p, jp->cap); jp->slot[i]; i = (i + 1) & (jp->cap - 1)) {
        if (jp->slot[i] == p) {
            jp->slot[i] = JSON_GONE;
            jp->live--;
            return;
        }
    }
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
    jp->slot = NULL;
    jp->cap = jp->used = jp->live = 0;
    *oom = 0;
    if (setjmp(jp->out) == 0) {
        json_parsing = 1;
        root = json_loadb(buf, len, flags, jerr);
        json_parsing = 0;
    } else {
        /* Jumped out of jansson: what the parse held is ours to free. */
        json_parsing = 0;
        for (size_t i = 0; i < jp->cap; i++) {
            if (jp->slot[i] && jp->slot[i] != JSON_GONE)
                json_next_free(jp->slot[i]);
        }
        root = NULL;
        *oom = 1;
        if (jerr)
            snprintf(jerr->text, sizeof jerr->text, "out of memory");
    }
    free(jp->slot);
    jp->slot = NULL;
    jp->cap = 0;
    return root;
}
